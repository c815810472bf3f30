// Token endpoints for mobile apps and API clients: sign-in for a token pair, refresh,
// RFC 7009 revocation, and the public keys that verify access tokens.
import { type Context, Hono } from "hono";
import { getCookie } from "hono/cookie";
import { database } from "../db/client";
import type { AppEnv } from "../env";
import { passwordSignIn, recordLoginSuccess, signInRefused } from "../auth/login-outcome";
import { recordEventLater } from "../events/event-log";
import { parseBody } from "../http/body";
import { clientInfo } from "../http/client-info";
import { ApiError } from "../http/errors";
import { redeemAppCode } from "../oauth/app-codes";
import { codeGrantBody } from "../oauth/schemas";
import { findUserById, publicUser } from "../users/user-store";
import { keySet } from "./keys";
import { grantTypeBody, passwordGrantBody, refreshBody, revokeBody } from "./schemas";
import { type TokenDeps, issueTokens, refreshTokens, revokeToken } from "./token-service";

export const tokenRoutes = new Hono<AppEnv>();

/** The name of the cookie `POST /refresh` falls back to when the body has no token. */
const REFRESH_COOKIE = "refresh_token";

function tokenDeps(c: Context<AppEnv>): TokenDeps {
  return { config: c.get("config"), authority: c.env.USER_AUTHORITY };
}

tokenRoutes.post("/token", async (c) => {
  const { grant_type: grantType } = parseBody(c, grantTypeBody);
  if (grantType === "authorization_code") return codeGrant(c);
  const input = parseBody(c, passwordGrantBody);
  const client = clientInfo(c.req.raw);
  const { user, credentialEpoch } = await passwordSignIn(
    c,
    { identifier: input.email ?? input.username ?? "", password: input.password },
    client,
  );
  const issued = await issueTokens(tokenDeps(c), user, client, credentialEpoch);
  if (issued === null) throw signInRefused();
  recordLoginSuccess(c, user, { kind: "token", method: "password", newDevice: issued.newDevice });
  c.header("Pragma", "no-cache");
  return c.json(issued.response);
});

/** The mobile end of an OAuth login: the one-time code and the app's PKCE verifier. */
async function codeGrant(c: Context<AppEnv>): Promise<Response> {
  const input = parseBody(c, codeGrantBody);
  const userId = await redeemAppCode(c.env.DB, {
    code: input.code,
    codeVerifier: input.code_verifier,
    redirectUri: input.redirect_uri,
  });
  const row = userId === null ? null : await findUserById(database(c.env.DB), userId);
  if (row === null) throw new ApiError("invalid_grant", "The code is invalid, expired or already used");
  const user = await publicUser(database(c.env.DB), row);
  const issued = await issueTokens(tokenDeps(c), user, clientInfo(c.req.raw), row.credentialEpoch);
  if (issued === null) throw new ApiError("invalid_grant", "The code is invalid, expired or already used");
  recordLoginSuccess(c, user, { kind: "token", method: "oauth_code", newDevice: issued.newDevice });
  c.header("Pragma", "no-cache");
  return c.json(issued.response);
}

tokenRoutes.post("/refresh", async (c) => {
  const body = parseBody(c, refreshBody);
  const token = body.refresh_token ?? getCookie(c, REFRESH_COOKIE);
  if (token === undefined) throw new ApiError("invalid_token", "Send refresh_token");
  const result = await refreshTokens(tokenDeps(c), token);
  if (result.status === "reused") {
    recordEventLater(c, result.userId, "refresh_token_reused", { family_revoked: true });
    throw new ApiError("token_reused", "Refresh token was already used; every token of this sign-in is revoked");
  }
  if (result.status === "invalid") throw new ApiError("invalid_token", "Invalid or expired refresh token");
  c.header("Pragma", "no-cache");
  return c.json(result.response);
});

/** RFC 7009: always 200, so the answer never tells whether a token was valid. */
tokenRoutes.post("/revoke", async (c) => {
  const { token } = parseBody(c, revokeBody);
  const userId = await revokeToken(tokenDeps(c), token);
  if (userId !== null) {
    recordEventLater(c, userId, "session_revoked", { via: "revoke" });
  }
  return c.json({});
});

export const jwksRoutes = new Hono<AppEnv>();

jwksRoutes.get("/jwks.json", async (c) => {
  const keys = await keySet(c.get("config"));
  // Public keys are meant to be cached by verifiers; rotation keeps old keys listed a while.
  c.header("Cache-Control", "public, max-age=300");
  return c.json({ keys: keys.publicJwks });
});
