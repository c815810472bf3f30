// The authorization code flow with a real client implementation (oauth4webapi):
// discovery, dynamic registration, consent, the code exchange with PKCE and ID token
// validation, refresh, UserInfo, revocation.
import * as oauth from "oauth4webapi";
import { type JSONWebKeySet, createLocalJWKSet, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { BASE_URL, callWorker } from "../helpers/client";
import {
  ISSUER,
  OAUTH_SETTINGS,
  authorizeInBrowser,
  clientOptions,
  discover,
  exchangeCode,
  registerDcrClient,
} from "../helpers/oauth-server";

async function publishedKeys(): Promise<ReturnType<typeof createLocalJWKSet>> {
  const response = await callWorker(new Request(`${ISSUER}/.well-known/jwks.json`), OAUTH_SETTINGS);
  return createLocalJWKSet((await response.json()) as JSONWebKeySet);
}

describe("OAuth 2.1 authorization code flow", () => {
  it("publishes RFC 8414 and OpenID discovery with S256 only and the iss parameter", async () => {
    const as = await discover();
    expect(as.issuer).toBe(ISSUER);
    expect(as.code_challenge_methods_supported).toEqual(["S256"]);
    expect(as.authorization_response_iss_parameter_supported).toBe(true);
    expect(as.registration_endpoint).toBe(`${ISSUER}/oauth2/register`);
    const oidc = await callWorker(new Request(`${BASE_URL}/.well-known/openid-configuration`), OAUTH_SETTINGS);
    expect(((await oidc.json()) as { id_token_signing_alg_values_supported: string[] }).id_token_signing_alg_values_supported).toContain(
      "RS256",
    );
  });

  it("is not there at all while OAUTH_SERVER_ENABLED is off", async () => {
    const off = { OAUTH_SERVER_ENABLED: "false" };
    const response = await callWorker(new Request(`${BASE_URL}/.well-known/oauth-authorization-server`), off);
    expect(response.status).toBe(404);
    const token = await callWorker(
      new Request(`${BASE_URL}/oauth2/token`, {
        method: "POST",
        body: "grant_type=x",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
      }),
      off,
    );
    expect(token.status).toBe(404);
    expect(await token.json()).toMatchObject({ error: "not_found" });
  });

  it("runs registration, consent, code + PKCE, ID token, refresh, UserInfo and revocation end to end", async () => {
    const as = await discover();
    const registered = await registerDcrClient(as);
    const authorized = await authorizeInBrowser(registered);
    expect(authorized.callback.searchParams.get("iss")).toBe(ISSUER);
    const tokens = await exchangeCode(as, registered, authorized);
    expect(tokens.token_type).toBe("bearer");
    expect(tokens.refresh_token).toBeTypeOf("string");
    const idClaims = oauth.getValidatedIdTokenClaims(tokens);
    expect(idClaims?.sub).toBe(authorized.user.id);
    expect(idClaims?.email).toBe(authorized.user.email);
    // The ID token's signature, with the published JWKS: RS256 by default (OpenID Discovery).
    const verified = await jwtVerify(tokens.id_token as string, await publishedKeys(), {
      issuer: ISSUER,
      audience: registered.client.client_id,
    });
    expect(verified.protectedHeader.alg).toBe("RS256");
    expect(verified.payload.nonce).toBe(authorized.nonce);

    const info = await oauth.userInfoRequest(as, registered.client, tokens.access_token, clientOptions());
    const claims = await oauth.processUserInfoResponse(as, registered.client, authorized.user.id, info);
    expect(claims.email).toBe(authorized.user.email);

    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      registered.client,
      await oauth.refreshTokenGrantRequest(as, registered.client, registered.auth, tokens.refresh_token as string, clientOptions()),
    );
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);

    const revoked = await oauth.revocationRequest(
      as,
      registered.client,
      registered.auth,
      refreshed.refresh_token as string,
      clientOptions(),
    );
    await oauth.processRevocationResponse(revoked);
    // The grant ended: its access tokens are refused by UserInfo at once.
    const after = await oauth.userInfoRequest(as, registered.client, refreshed.access_token, clientOptions());
    expect(after.status).toBe(401);
  });

  it("verifies the access token as an RFC 9068 JWT for the requested resource", async () => {
    const as = await discover();
    const registered = await registerDcrClient(as);
    const authorized = await authorizeInBrowser(registered, { scope: "openid", resources: [ISSUER] });
    const tokens = await exchangeCode(as, registered, authorized);
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, await publishedKeys(), {
      issuer: ISSUER,
      audience: `${ISSUER}/`,
      typ: "at+jwt",
    });
    expect(protectedHeader.alg).toBe("ES256");
    expect(payload).toMatchObject({ sub: authorized.user.id, client_id: registered.client.client_id, scope: "openid", acr: "aal1" });
  });
});
