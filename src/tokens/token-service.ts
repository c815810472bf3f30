// Token families for mobile apps and API clients: issuing a pair at sign-in, rotating
// the refresh token, and revoking. A family is a session of kind "token" held by the
// user's UserAuthority, so it shares the session list, limits and revocation.
import type { Services } from "../services/services";
import type { Config } from "../config/config";
import type { ClientInfo } from "../http/client-info";
import { randomToken, sha256 } from "../lib/crypto";
import { createSessionToken, parseSessionToken, userIdOfSession } from "../sessions/session-token";
import { type AuthorityNamespace, authorityFor } from "../sessions/authority-client";
import type { TokenPair, TokenResponse } from "../sessions/authority/user-authority";
import type { PublicUser } from "../users/user-view";
import { signAccessToken, verifyAccessToken } from "./access-token";

export type TokenDeps = Pick<Services, "config" | "authority">;

export interface IssuedTokens {
  response: TokenResponse;
  newDevice: boolean;
}

/**
 * A new token family for a first factor checked under `credentialEpoch`; null when the
 * user's authority refuses it (account deleted, or password changed since the check).
 */
export async function issueTokens(
  deps: TokenDeps,
  user: PublicUser,
  client: ClientInfo,
  credentialEpoch: number,
): Promise<IssuedTokens | null> {
  const { tokens, sessions } = deps.config;
  const family = await createSessionToken(user.id);
  const created = await authorityFor(deps.authority, user.id).createSession(
    {
      id: family.id,
      kind: "token",
      secretHash: family.secretHash,
      csrfHash: null,
      // A refresh token has one absolute lifetime; idle time does not end it.
      idleMs: tokens.refreshTtlMs,
      absoluteMs: tokens.refreshTtlMs,
      client,
      user,
      credentialEpoch,
    },
    sessions.maxPerUser,
  );
  if (created.status === "refused") return null;
  const access = await signAccessToken(deps.config, { userId: user.id, familyId: family.id });
  return {
    response: {
      access_token: access.token,
      token_type: "bearer",
      expires_in: access.expiresIn,
      refresh_token: family.token,
      refresh_expires_in: Math.floor(tokens.refreshTtlMs / 1000),
    },
    newDevice: created.newDevice,
  };
}

export type RefreshResult =
  { status: "rotated"; response: TokenResponse; userId: string } | { status: "reused"; userId: string } | { status: "invalid" };

/**
 * Rotates a refresh token. The new pair is made before asking the authority, which
 * either takes it, returns the pair it already gave for this token (a race inside the
 * grace period), or reports reuse.
 */
export async function refreshTokens(deps: TokenDeps, refreshToken: string): Promise<RefreshResult> {
  const parsed = parseSessionToken(refreshToken);
  if (parsed === null) return { status: "invalid" };
  const userId = userIdOfSession(parsed.id);
  const nextSecret = randomToken(32);
  // Signing and both hashes run side by side, before the one call to the authority.
  const [access, presentedHash, nextHash] = await Promise.all([
    signAccessToken(deps.config, { userId, familyId: parsed.id }),
    sha256(parsed.secret),
    sha256(nextSecret),
  ]);
  const pair: TokenPair = {
    access_token: access.token,
    token_type: "bearer",
    expires_in: access.expiresIn,
    refresh_token: `${parsed.id}.${nextSecret}`,
  };
  const rotation = await authorityFor(deps.authority, userId).rotateRefreshToken(
    parsed.id,
    presentedHash,
    { secretHash: nextHash, pair },
    deps.config.tokens.reuseGraceMs,
  );
  if (rotation.status === "rotated") return { status: "rotated", response: rotation.response, userId };
  if (rotation.status === "reused") return { status: "reused", userId };
  return { status: "invalid" };
}

/**
 * RFC 7009: revokes the family of a refresh token or of an access token. Says which
 * user it touched (for the caller's cache), but the HTTP answer never tells.
 */
export async function revokeToken(deps: TokenDeps, token: string): Promise<string | null> {
  const refresh = parseSessionToken(token);
  if (refresh !== null) {
    const userId = userIdOfSession(refresh.id);
    const revoked = await authorityFor(deps.authority, userId).revokeRefreshToken(refresh.id, await sha256(refresh.secret));
    return revoked ? userId : null;
  }
  const claims = await verifyAccessToken(deps.config, token);
  if (claims === null) return null;
  const revoked = await authorityFor(deps.authority, claims.userId).revokeSession(claims.familyId);
  return revoked ? claims.userId : null;
}
