// Cookie sessions: starting one at login and resolving a presented token. Takes its
// dependencies explicitly (no Hono context), so it is usable from any entry point.
import type { Services } from "../services/services";
import type { Config } from "../config/config";
import type { ClientInfo } from "../http/client-info";
import { constantTimeEqual, randomToken, sha256 } from "../lib/crypto";
import type { PublicUser } from "../users/user-view";
import { type AuthorityClient, authorityFor } from "./authority-client";
import { forgetSession, noteSessionActivity, readCachedSession, rememberedSession, sessionDueForRefresh } from "./isolate-memory";
import type { AttemptRefusal, NewSession, PasswordVerdict, SecondFactorMethod, SignInAnswer } from "../user-authority/types";
import { type Assurance, type CachedSession, isExpired, needsTouch } from "../user-authority/session-policy";
import { createSessionToken, newMfaTicket, parseSessionToken, userIdOfSession } from "./session-token";

export type SessionDeps = Pick<Services, "config" | "kv" | "authority" | "waitUntil">;

export interface StartedSession {
  status: "started";
  token: string;
  csrfToken: string;
  maxAgeSeconds: number;
  newDevice: boolean;
  assurance: Assurance;
}

/** An admin disabled the account (said only after a correct first factor). */
export interface Disabled {
  status: "disabled";
}

/** The user has a second factor: no session yet, an mfa_token instead. */
export interface MfaRequired {
  status: "mfa_required";
  mfaToken: string;
  methods: SecondFactorMethod[];
}

/** A cookie session's lifetimes: remember_me lengthens the lifetime; the idle limit stays unless REMEMBER_ME_IDLE_MINUTES says otherwise. */
export function cookieLifetime(config: Config, rememberMe: boolean): { idleMs: number; absoluteMs: number } {
  const { sessions } = config;
  return {
    idleMs: rememberMe ? (sessions.rememberMeIdleMs ?? sessions.idleTimeoutMs) : sessions.idleTimeoutMs,
    absoluteMs: rememberMe ? sessions.rememberMeLifetimeMs : sessions.absoluteLifetimeMs,
  };
}

/** A new session's token and CSRF token with their hashes (nothing stored yet). */
export async function newSessionSecrets(
  userId: string,
): Promise<{ token: string; id: string; secretHash: string; csrfToken: string; csrfHash: string }> {
  const token = await createSessionToken(userId);
  const csrfToken = randomToken(CSRF_TOKEN_BYTES);
  return { token: token.token, id: token.id, secretHash: token.secretHash, csrfToken, csrfHash: await sha256(csrfToken) };
}

const CSRF_TOKEN_BYTES = 32;

/**
 * Always a brand-new session (no fixation), counted against MAX_SESSIONS_PER_USER.
 * Null when the authority refuses it: the account was deleted, or its password changed
 * after `credentialEpoch` (the epoch the first factor was checked against) was read.
 * A one-factor sign-in of a user with a second factor ends at the authority's MFA gate.
 * A disabled account answers `disabled` (the first factor was right: the caller says so).
 */
export interface StartOptions {
  rememberMe: boolean;
  credentialEpoch: number;
  assurance: NewSession["assurance"];
  answer: Omit<SignInAnswer, "rememberMe">;
  /** See NewSession.madeAt. */
  madeAt?: number | undefined;
}

export type SessionStart = StartedSession | MfaRequired | Disabled | null;

export async function startSession(
  deps: Pick<SessionDeps, "config" | "authority">,
  user: PublicUser,
  client: ClientInfo,
  options: StartOptions & { verdict: PasswordVerdict },
): Promise<SessionStart | AttemptRefusal>;
export async function startSession(
  deps: Pick<SessionDeps, "config" | "authority">,
  user: PublicUser,
  client: ClientInfo,
  options: StartOptions,
): Promise<SessionStart>;
/** With a password's `verdict`, the account's throttle judges it in the same call (PasswordOps). */
export async function startSession(
  deps: Pick<SessionDeps, "config" | "authority">,
  user: PublicUser,
  client: ClientInfo,
  options: StartOptions & { verdict?: PasswordVerdict },
): Promise<SessionStart | AttemptRefusal> {
  const lifetime = cookieLifetime(deps.config, options.rememberMe);
  const [secrets, mfa] = await Promise.all([
    newSessionSecrets(user.id),
    newMfaTicket(user.id, { ...options.answer, rememberMe: options.rememberMe }),
  ]);
  const authority = authorityFor(deps.authority, user.id);
  const input: NewSession = {
    id: secrets.id,
    kind: "cookie",
    secretHash: secrets.secretHash,
    csrfHash: secrets.csrfHash,
    ...lifetime,
    client,
    user,
    credentialEpoch: options.credentialEpoch,
    assurance: options.assurance,
    mfa: mfa.ticket,
    ...(options.madeAt === undefined ? {} : { madeAt: options.madeAt }),
  };
  const max = deps.config.sessions.maxPerUser;
  const created = await authority.openSession(input, max, options.verdict);
  if (created.status === "throttled" || created.status === "invalid") return created;
  if (created.status === "refused") return null;
  if (created.status === "disabled") return { status: "disabled" };
  if (created.status === "mfa_required") return { status: "mfa_required", mfaToken: mfa.token, methods: created.methods };
  return {
    status: "started",
    token: secrets.token,
    csrfToken: secrets.csrfToken,
    maxAgeSeconds: Math.floor(lifetime.absoluteMs / 1000),
    newDevice: created.newDevice,
    assurance: created.assurance,
  };
}

export type SessionResolution =
  { status: "valid"; session: CachedSession; csrfHash: string | null; secretHash: string } | { status: "expired" } | { status: "none" };

/**
 * Resolves a session token. `authoritative` asks the user's Durable Object (every
 * state-changing request does, so revocation takes effect at once); otherwise the KV
 * cache answers, falling back to the authority on a miss or an apparent expiry.
 */
export async function resolveSession(deps: SessionDeps, token: string, options: { authoritative: boolean }): Promise<SessionResolution> {
  const parsed = parseSessionToken(token);
  if (parsed === null) return { status: "none" };
  const userId = userIdOfSession(parsed.id);
  const authority = authorityFor(deps.authority, userId);

  if (!options.authoritative) {
    const remembered = rememberedSession(userId, parsed.id);
    if (remembered !== null && sessionDueForRefresh(userId, parsed.id)) {
      deps.waitUntil(readCachedSession(deps.kv, userId, parsed.id).catch(() => undefined));
    }
    // The hash and the KV read run side by side: a miss costs one KV read, not a read after a hash.
    const [secretHash, cached] = await Promise.all([sha256(parsed.secret), remembered ?? readCachedSession(deps.kv, userId, parsed.id)]);
    if (cached !== null) {
      if (!constantTimeEqual(cached.secretHash, secretHash)) return { status: "none" };
      const now = Date.now();
      if (!isExpired(cached, now)) {
        if (needsTouch(cached, now)) {
          // One refresh is under way: later reads from this isolate need not ask again.
          noteSessionActivity(cached, now);
          deps.waitUntil(
            authority.touch(parsed.id, secretHash).then((result) => {
              if (result.status !== "valid") forgetSession(userId, parsed.id);
            }),
          );
        }
        return { status: "valid", session: cached, csrfHash: null, secretHash };
      }
      // The cached activity may be up to a minute old: let the authority decide.
    }
    return authoritative(authority, userId, parsed.id, secretHash);
  }
  return authoritative(authority, userId, parsed.id, await sha256(parsed.secret));
}

async function authoritative(
  authority: AuthorityClient,
  userId: string,
  sessionId: string,
  secretHash: string,
): Promise<SessionResolution> {
  const result = await authority.authorize(sessionId, secretHash);
  if (result.status === "valid") return { ...result, secretHash };
  forgetSession(userId, sessionId);
  return result.status === "expired" ? { status: "expired" } : { status: "none" };
}

/** A fresh CSRF token and its hash (the session's authority keeps the hash). */
export async function newCsrfToken(): Promise<{ token: string; hash: string }> {
  const token = randomToken(CSRF_TOKEN_BYTES);
  return { token, hash: await sha256(token) };
}
