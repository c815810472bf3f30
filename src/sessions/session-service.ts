// Cookie sessions: starting one at login and resolving a presented token. Takes its
// dependencies explicitly (no Hono context), so it is usable from any entry point.
import type { Config } from "../config/config";
import type { ClientInfo } from "../http/client-info";
import { constantTimeEqual, randomToken, sha256 } from "../lib/crypto";
import type { PublicUser } from "../users/user-view";
import { type CachedSession, isExpired, needsTouch, sessionCacheKey } from "./session-policy";
import { forgetPrincipal, rememberSession, rememberedSession } from "../tokens/principal-cache";
import { createSessionToken, parseSessionToken, userIdOfSession } from "./session-token";
import type { UserAuthority } from "./user-authority";

export interface SessionDeps {
  config: Config;
  kv: KVNamespace;
  authority: DurableObjectNamespace<UserAuthority>;
  /** Runs work after the response (ExecutionContext.waitUntil). */
  waitUntil: (promise: Promise<unknown>) => void;
}

export interface StartedSession {
  token: string;
  csrfToken: string;
  maxAgeSeconds: number;
  newDevice: boolean;
}

const CSRF_TOKEN_BYTES = 32;

export function authorityFor(deps: Pick<SessionDeps, "authority">, userId: string): DurableObjectStub<UserAuthority> {
  return deps.authority.getByName(userId);
}

/** Always a brand-new session (no fixation), counted against MAX_SESSIONS_PER_USER. */
export async function startSession(
  deps: SessionDeps,
  user: PublicUser,
  client: ClientInfo,
  options: { rememberMe: boolean },
): Promise<StartedSession> {
  const { sessions } = deps.config;
  const lifetimeMs = options.rememberMe ? sessions.rememberMeLifetimeMs : sessions.absoluteLifetimeMs;
  // A remembered session is meant to outlive a browser restart and a weekend away,
  // so its idle limit is stretched to its whole lifetime.
  const idleMs = options.rememberMe ? lifetimeMs : sessions.idleTimeoutMs;
  const token = await createSessionToken(user.id);
  const csrfToken = randomToken(CSRF_TOKEN_BYTES);
  const created = await authorityFor(deps, user.id).createSession(
    {
      id: token.id,
      kind: "cookie",
      secretHash: token.secretHash,
      csrfHash: await sha256(csrfToken),
      idleMs,
      absoluteMs: lifetimeMs,
      client,
      user,
    },
    sessions.maxPerUser,
  );
  // The new session may have ended others (MAX_SESSIONS_PER_USER): forget this isolate's copies.
  forgetPrincipal(user.id);
  return { token: token.token, csrfToken, maxAgeSeconds: Math.floor(lifetimeMs / 1000), newDevice: created.newDevice };
}

export type SessionResolution =
  | { status: "valid"; session: CachedSession; csrfHash: string | null; secretHash: string }
  | { status: "expired" }
  | { status: "none" };

/**
 * Resolves a session token. `authoritative` asks the user's Durable Object (every
 * state-changing request does, so revocation takes effect at once); otherwise the KV
 * cache answers, falling back to the authority on a miss or an apparent expiry.
 */
export async function resolveSession(
  deps: SessionDeps,
  token: string,
  options: { authoritative: boolean },
): Promise<SessionResolution> {
  const parsed = parseSessionToken(token);
  if (parsed === null) return { status: "none" };
  const secretHash = await sha256(parsed.secret);

  if (!options.authoritative) {
    const userId = userIdOfSession(parsed.id);
    const remembered = rememberedSession(userId, parsed.id);
    const cached = remembered ?? (await deps.kv.get<CachedSession>(sessionCacheKey(parsed.id), "json"));
    if (cached !== null) {
      if (remembered === null) rememberSession(cached);
      if (!constantTimeEqual(cached.secretHash, secretHash)) return { status: "none" };
      const now = Date.now();
      if (!isExpired(cached, now)) {
        if (needsTouch(cached, now)) {
          deps.waitUntil(authorityFor(deps, cached.userId).authorize(parsed.id, secretHash));
          // One refresh is under way: later reads from this isolate need not ask again.
          rememberSession({ ...cached, lastActivity: now });
        }
        return { status: "valid", session: cached, csrfHash: null, secretHash };
      }
      // The cached activity may be up to a minute old: let the authority decide.
    }
  }

  const result = await authorityFor(deps, userIdOfSession(parsed.id)).authorize(parsed.id, secretHash);
  if (result.status === "valid") return { ...result, secretHash };
  return result.status === "expired" ? { status: "expired" } : { status: "none" };
}

/** A fresh CSRF token for the session; null when the session is no longer valid. */
export async function rotateCsrfToken(
  deps: Pick<SessionDeps, "authority">,
  session: { userId: string; sessionId: string; secretHash: string },
): Promise<string | null> {
  const csrfToken = randomToken(CSRF_TOKEN_BYTES);
  const rotated = await authorityFor(deps, session.userId).rotateCsrf(
    session.sessionId,
    session.secretHash,
    await sha256(csrfToken),
  );
  return rotated ? csrfToken : null;
}
