// Verifying this service's access tokens in another service, with the public keys it
// publishes (ALGORITHM = "ES256" or "EdDSA"): no secret, no call per request beyond a
// cached JWKS fetch. A signature check alone does not see a revocation before the token
// expires; for that, ask the service (introspection, or AuthService over RPC).
import { createRemoteJWKSet, jwtVerify } from "jose";

export function accessTokenVerifier(jwksUrl: string) {
  const jwks = createRemoteJWKSet(new URL(jwksUrl));
  return async function verify(token: string) {
    const { payload } = await jwtVerify(token, jwks, {
      algorithms: ["ES256"], // exactly the service's ALGORITHM
      issuer: "edge-auth", // JWT_ISSUER
      audience: "edge-auth", // JWT_AUDIENCE
      typ: "at+jwt",
    });
    if (payload.token_type !== "access") throw new Error("not an access token");
    return payload; // payload.sub is the user id, payload.sid the token family
  };
}
