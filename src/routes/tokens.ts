// Token endpoints for mobile apps and API clients: sign-in for a token pair, refresh,
// RFC 7009 revocation, and the public keys that verify access tokens.
import { loginCaptcha } from "../auth/turnstile-guard";
import { Hono } from "hono";
import { providerKeys } from "../oauth-server/keys";
import { getCookie } from "hono/cookie";
import type { AppEnv } from "../auth/app-env";
import { passwordSignIn, recordLoginSuccess, signInRefused } from "../auth/login-outcome";
import { appCodeSignIn } from "../auth/app-code-sign-in";
import { mfaRequired } from "../auth/second-factor";
import { recordEventLater } from "../events/event-log";
import { parseBody } from "../http/body";
import { clientInfo } from "../http/client-info";
import { ApiError, accountDisabled, validationError } from "../http/errors";
import { takeDecided } from "../http/handover";
import { codeGrantBody } from "../oauth/schemas";
import { keySet } from "../tokens/keys";
import { grantTypeBody, passwordGrantBody, refreshBody, revokeBody } from "../tokens/schemas";
import { type IssuedTokens, issueTokens, refreshTokens, revokeToken } from "../tokens/token-service";

export const tokenRoutes = new Hono<AppEnv>();

/** The name of the cookie `POST /refresh` falls back to when the body has no token. */
const REFRESH_COOKIE = "refresh_token";

tokenRoutes.post("/token", async (c) => {
  const { grant_type: grantType } = parseBody(c, grantTypeBody);
  const services = c.get("services");
  let issued: IssuedTokens;
  if (grantType === "authorization_code") {
    // The mobile end of an OAuth login: the one-time code and the app's PKCE verifier.
    const input = parseBody(c, codeGrantBody);
    issued = await appCodeSignIn(services, clientInfo(c.req.raw), {
      code: input.code,
      codeVerifier: input.code_verifier,
      redirectUri: input.redirect_uri,
    });
  } else {
    const input = parseBody(c, passwordGrantBody);
    const identity = { identifier: input.email ?? input.username ?? "", password: input.password, captcha: loginCaptcha(c) };
    const { user, result } = await passwordSignIn(services, identity, (user, credentialEpoch, verdict) =>
      issueTokens(services, user, clientInfo(c.req.raw), {
        credentialEpoch,
        verdict,
        amr: ["pwd"],
        answer: { isNewUser: false, method: "password" },
        // Asked of the organization only once the sign-in stands (issueTokens): the answer never tells who belongs where to someone without the password.
        ...(input.org_id === undefined ? {} : { requestedOrg: input.org_id }),
      }),
    );
    if (result === null) throw signInRefused();
    if (result.status === "not_a_member") throw new ApiError("not_a_member", "You are not a member of this organization");
    if (result.status === "disabled") throw accountDisabled();
    if (result.status === "mfa_required") throw mfaRequired(result);
    recordLoginSuccess(services, user, { kind: "token", method: "password", newDevice: result.newDevice });
    issued = result;
  }
  c.header("Pragma", "no-cache");
  return c.json(issued.response);
});

tokenRoutes.post("/refresh", async (c) => {
  const body = parseBody(c, refreshBody);
  const token = body.refresh_token ?? getCookie(c, REFRESH_COOKIE);
  // Only a body without a token is malformed; any token sent is judged by refreshTokens (401).
  if (token === undefined) throw validationError([{ path: "refresh_token", message: "Send refresh_token (or the refresh_token cookie)" }]);
  // A rotation a direct answer already asked for (auth/direct-answers.ts) is not asked for twice.
  const handed = takeDecided(c.req.raw, "refresh");
  const result = handed !== undefined ? handed.value : await refreshTokens(c.get("services"), token);
  if (result.status === "reused") {
    recordEventLater(c.get("services"), result.userId, "refresh_token_reused", { family_revoked: true });
    throw new ApiError("token_reused", "Refresh token was already used; every token of this sign-in is revoked");
  }
  if (result.status === "invalid") throw new ApiError("invalid_token", "Invalid or expired refresh token");
  c.header("Pragma", "no-cache");
  return c.json(result.response);
});

/** RFC 7009: always 200, so the answer never tells whether a token was valid. */
tokenRoutes.post("/revoke", async (c) => {
  const { token } = parseBody(c, revokeBody);
  const userId = await revokeToken(c.get("services"), token);
  if (userId !== null) {
    recordEventLater(c.get("services"), userId, "session_revoked", { via: "revoke" });
  }
  return c.json({});
});

export const jwksRoutes = new Hono<AppEnv>();

jwksRoutes.get("/jwks.json", async (c) => {
  const config = c.get("config");
  const keys = await keySet(config);
  // The OAuth server's keys too, when it is on (OAUTH_SERVER_SIGNING_KEYS may be JWT_SIGNING_KEYS: listed once).
  const provider = config.oauthServer.enabled ? await providerKeys(config, c.get("services").d1) : null;
  const listed = new Set(keys.publicJwks.map((jwk) => jwk.kid));
  const extra = provider === null ? [] : provider.publicJwks.filter((jwk) => !listed.has(jwk.kid));
  // Public keys are meant to be cached by verifiers; rotation keeps old keys listed a while.
  c.header("Cache-Control", "public, max-age=300");
  return c.json({ keys: [...keys.publicJwks, ...extra] });
});
