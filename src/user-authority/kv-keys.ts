// Every key of the SESSIONS KV namespace, built and read back here only. The writer of
// all of them is the user's authority (authority/cache-writer.ts); readers are the
// session check (session-service.ts) and the principal lookup (isolate-memory.ts).
//   session:<session id>   a cookie session's cached record (CachedSession)
//   user:<user id>         the principal record: user, not-before, live token families

const SESSION_PREFIX = "session:";
const PRINCIPAL_PREFIX = "user:";

export function sessionCacheKey(sessionId: string): string {
  return `${SESSION_PREFIX}${sessionId}`;
}

export function principalCacheKey(userId: string): string {
  return `${PRINCIPAL_PREFIX}${userId}`;
}

/** The session id of a `session:` key; null for any other key. */
export function sessionIdOfKey(key: string): string | null {
  return key.startsWith(SESSION_PREFIX) ? key.slice(SESSION_PREFIX.length) : null;
}

export function isPrincipalKey(key: string): boolean {
  return key.startsWith(PRINCIPAL_PREFIX);
}
