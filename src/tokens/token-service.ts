// Token families for mobile apps and API clients: issuing a pair at sign-in, rotating
// the refresh token, and revoking. A family is a session of kind "token" held by the
// user's UserAuthority, so it shares the session list, limits and revocation.
import type { Services } from "../services/services";
import { activeOrgOf } from "../orgs/org-claims";
import { isOrgId } from "../orgs/org-names";
import type { Config } from "../config/config";
import type { ClientInfo } from "../http/client-info";
import { randomToken, sha256 } from "../lib/crypto";
import { createSessionToken, newMfaTicket, parseSessionToken, userIdOfSession } from "../sessions/session-token";
import type { Assurance, AuthMethod } from "../user-authority/session-policy";
import type { AttemptRefusal, PasswordVerdict, SecondFactorMethod, SignInAnswer } from "../user-authority/types";
import { type AuthorityNamespace, authorityFor } from "../sessions/authority-client";
import type { NewSession, TokenResponse } from "../user-authority/user-authority";
import type { PublicUser } from "../users/user-view";
import { type OrgClaims, signAccessToken, verifyAccessToken } from "./access-token";

export type TokenDeps = Pick<Services, "config" | "authority" | "orgs">;

export interface IssuedTokens {
  status: "issued";
  response: TokenResponse;
  newDevice: boolean;
}

/** A token family's lifetimes: a refresh token has one absolute lifetime; idle time does not end it. */
export function familyLifetime(config: Config): Pick<NewSession, "idleMs" | "absoluteMs"> {
  return { idleMs: config.tokens.refreshTtlMs, absoluteMs: config.tokens.refreshTtlMs };
}

/**
 * The token answer: a new access token for the family and its refresh token. At sign-in
 * (or after the second factor) the family is new; a rotation passes the claims and the
 * remaining lifetime its authority gave.
 */
export async function tokenAnswer(
  config: Config,
  family: {
    userId: string;
    familyId: string;
    token: string;
    assurance: Pick<Assurance, "aal" | "amr" | "authTime">;
    issuedAt?: number;
    jti?: string;
    refreshExpiresIn?: number;
    /** The organization the family acts in, with the role it holds there now. */
    org?: OrgClaims | null;
  },
): Promise<TokenResponse> {
  const access = await signAccessToken(config, family);
  return {
    access_token: access.token,
    token_type: "bearer",
    expires_in: access.expiresIn,
    refresh_token: family.token,
    refresh_expires_in: family.refreshExpiresIn ?? Math.floor(config.tokens.refreshTtlMs / 1000),
  };
}

export type TokenIssue =
  | IssuedTokens
  | { status: "mfa_required"; mfaToken: string; methods: SecondFactorMethod[] }
  | { status: "disabled" }
  | { status: "not_a_member" };

/**
 * The organization a just-opened family was asked to start in (`requested`), with the
 * caller's role there now; null when none was asked. A non-member's family is ended at
 * once ("not_a_member"), so it never stands.
 */
export async function startingOrg(
  deps: Pick<Services, "orgs">,
  authority: { revokeSession(id: string): Promise<boolean> },
  userId: string,
  familyId: string,
  requested: string | null | undefined,
): Promise<OrgClaims | null | "not_a_member"> {
  if (requested === undefined || requested === null) return null;
  const org = await activeOrgOf(deps, userId, isOrgId(requested) ? requested : null);
  if (org !== null) return { id: org.id, role: org.role, permissions: org.permissions };
  await authority.revokeSession(familyId);
  return "not_a_member";
}

/**
 * A new token family for a first factor checked under `credentialEpoch`; null when the
 * user's authority refuses it (account deleted, or password changed since the check).
 * A user with a second factor gets an mfa_token instead (the authority's MFA gate).
 */
interface FirstFactor {
  credentialEpoch: number;
  amr: AuthMethod[];
  answer: Omit<SignInAnswer, "kind" | "rememberMe">;
  madeAt?: number | undefined;
  /**
   * POST /auth/token's org_id: the organization the family starts in. Asked of the
   * organization only once the user's authority opened the family (the password judged,
   * the account neither locked nor disabled); a non-member's family is ended at once.
   */
  requestedOrg?: string;
}

export async function issueTokens(
  deps: TokenDeps,
  user: PublicUser,
  client: ClientInfo,
  first: FirstFactor & { verdict: PasswordVerdict },
): Promise<TokenIssue | null | AttemptRefusal>;
export async function issueTokens(deps: TokenDeps, user: PublicUser, client: ClientInfo, first: FirstFactor): Promise<TokenIssue | null>;
/** With a password's `verdict`, the account's throttle judges it in the same call (PasswordOps). */
export async function issueTokens(
  deps: TokenDeps,
  user: PublicUser,
  client: ClientInfo,
  first: FirstFactor & { verdict?: PasswordVerdict },
): Promise<TokenIssue | null | AttemptRefusal> {
  const family = await createSessionToken(user.id);
  const mfa = await newMfaTicket(user.id, { ...first.answer, kind: "token", rememberMe: false, orgId: first.requestedOrg ?? null });
  const authority = authorityFor(deps.authority, user.id);
  const input: NewSession = {
    id: family.id,
    kind: "token",
    secretHash: family.secretHash,
    csrfHash: null,
    ...familyLifetime(deps.config),
    client,
    user,
    credentialEpoch: first.credentialEpoch,
    assurance: { aal: 1, amr: first.amr },
    mfa: mfa.ticket,
    ...(first.madeAt === undefined ? {} : { madeAt: first.madeAt }),
    activeOrg: first.requestedOrg ?? null,
  };
  const max = deps.config.sessions.maxPerUser;
  const created = await authority.openSession(input, max, first.verdict);
  if (created.status === "throttled" || created.status === "invalid") return created;
  if (created.status === "refused") return null;
  if (created.status === "disabled") return { status: "disabled" };
  if (created.status === "mfa_required") return { status: "mfa_required", mfaToken: mfa.token, methods: created.methods };
  const org = await startingOrg(deps, authority, user.id, family.id, first.requestedOrg);
  if (org === "not_a_member") return { status: "not_a_member" };
  const response = await tokenAnswer(deps.config, {
    userId: user.id,
    familyId: family.id,
    token: family.token,
    assurance: created.assurance,
    org,
  });
  return { status: "issued", response, newDevice: created.newDevice };
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
  // Both hashes run side by side, before the one call to the authority. The access
  // token is signed after it: its claims (the family's assurance, and the rotation's
  // iat and jti, so that a replay gets the same token) are the authority's to give.
  const [presentedHash, nextHash] = await Promise.all([sha256(parsed.secret), sha256(nextSecret)]);
  const rotation = await authorityFor(deps.authority, userId).rotateRefreshToken(
    parsed.id,
    presentedHash,
    { secretHash: nextHash, refreshToken: `${parsed.id}.${nextSecret}` },
    deps.config.tokens.reuseGraceMs,
  );
  if (rotation.status === "rotated") {
    const { family } = rotation;
    // A family acting in an organization gets its claims as the organization's authority has them now.
    const org = await activeOrgOf(deps, userId, family.activeOrg);
    const response = await tokenAnswer(deps.config, {
      org: org === null ? null : { id: org.id, role: org.role, permissions: org.permissions },
      userId,
      familyId: parsed.id,
      token: family.refreshToken,
      assurance: family.assurance,
      issuedAt: family.issuedAt,
      jti: family.jti,
      refreshExpiresIn: family.refreshExpiresIn,
    });
    return { status: "rotated", response, userId };
  }
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
