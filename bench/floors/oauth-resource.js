// Floor of a resource server's token check over a service binding (the RPC
// AuthService.verifyOAuthToken that edge-auth/hono's requireOAuth calls): the least the
// contract asks when the token was checked before in this isolate (as the service
// remembers a token's signature check and the user's principal per isolate): find both,
// check the issuer, expiry, audience (this resource, RFC 8707) and the grant's standing
// (the user's not-before time and live grants, as revocation, logout-all and a password
// change require), then the scopes the route needs; answer with what the scopes release
// of the user. No framework, no signature check, no revocation read.
import { WorkerEntrypoint } from "cloudflare:workers";

const ISSUER = "https://app.bench.invalid";
const remembered = new Map();

function firstSight(required) {
  const now = Math.floor(Date.now() / 1000);
  const grantId = crypto.randomUUID();
  return {
    claims: {
      iss: ISSUER,
      sub: crypto.randomUUID(),
      aud: [required.resource],
      client_id: "floor-app",
      scopes: ["email"],
      iat: now,
      exp: now + 3600,
      sid: grantId,
      aal: 1,
    },
    revocations: { notBefore: (now - 60) * 1000, grants: [crypto.randomUUID(), grantId] },
    user: { email: "floor@bench.test", email_verified: false },
  };
}

export class ResourceFloor extends WorkerEntrypoint {
  verifyOAuthToken(token, required) {
    let known = remembered.get(token);
    if (known === undefined) {
      known = firstSight(required);
      remembered.set(token, known);
    }
    const { claims, revocations, user } = known;
    const invalid = { active: false, status: 401, error: "invalid_token" };
    if (claims.iss !== ISSUER || Date.now() / 1000 >= claims.exp || !claims.aud.includes(required.resource)) return invalid;
    if (claims.iat * 1000 < revocations.notBefore || !revocations.grants.includes(claims.sid)) return invalid;
    const scopes = required.scopes ?? [];
    if (scopes.some((scope) => !claims.scopes.includes(scope))) {
      return { active: false, status: 403, error: "insufficient_scope", scope: scopes.join(" ") };
    }
    const released = claims.scopes.includes("email") ? { email: user.email, email_verified: user.email_verified } : {};
    return {
      active: true,
      sub: claims.sub,
      client_id: claims.client_id,
      scopes: claims.scopes,
      user: { id: claims.sub, ...released },
      grant_id: claims.sid,
      exp: claims.exp,
      aal: claims.aal,
    };
  }
}

export default {
  fetch() {
    return new Response(null, { status: 404 });
  },
};
