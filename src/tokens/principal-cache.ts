// This isolate's short memory of what read-only requests check, kept per user:
// - the principal record (user object, not-before time, revoked families) that bearer
//   tokens and API keys are checked against (KV `user:<id>`, else the user's authority);
// - the cached session records (KV `session:<id>`) that session cookies are checked against.
// An entry is trusted for at most MEMORY_MS; an isolate that changes a user's sessions
// or profile forgets that user at once (forgetPrincipal). Part of the documented
// read-path bound: a revocation made elsewhere reaches this isolate's reads within
// KV's bound plus MEMORY_MS. Writes never use it: they ask the authority.
import { type PrincipalRecord, principalCacheKey } from "../sessions/principal-record";
import type { CachedSession } from "../sessions/session-policy";
import type { UserAuthority } from "../sessions/user-authority";

export const MEMORY_MS = 5_000;
const MAX_USERS = 10_000;

interface UserMemory {
  principal?: { record: PrincipalRecord; readAt: number };
  sessions: Map<string, { session: CachedSession; readAt: number }>;
}

const memory = new Map<string, UserMemory>();

function userMemory(userId: string): UserMemory {
  let entry = memory.get(userId);
  if (entry === undefined) {
    if (memory.size >= MAX_USERS) memory.delete(memory.keys().next().value as string);
    entry = { sessions: new Map() };
    memory.set(userId, entry);
  }
  return entry;
}

export interface PrincipalDeps {
  kv: KVNamespace;
  authority: DurableObjectNamespace<UserAuthority>;
}

export async function principalRecord(deps: PrincipalDeps, userId: string): Promise<PrincipalRecord | null> {
  const now = Date.now();
  const hit = memory.get(userId)?.principal;
  if (hit !== undefined && now - hit.readAt < MEMORY_MS) return hit.record;

  const record =
    (await deps.kv.get<PrincipalRecord>(principalCacheKey(userId), "json")) ??
    (await deps.authority.getByName(userId).readPrincipal());
  if (record === null) return null;
  userMemory(userId).principal = { record, readAt: now };
  return record;
}

/** A cached session record this isolate read less than MEMORY_MS ago, if any. */
export function rememberedSession(userId: string, sessionId: string): CachedSession | null {
  const hit = memory.get(userId)?.sessions.get(sessionId);
  if (hit === undefined || Date.now() - hit.readAt >= MEMORY_MS) return null;
  return hit.session;
}

export function rememberSession(session: CachedSession): void {
  userMemory(session.userId).sessions.set(session.id, { session, readAt: Date.now() });
}

/** Drops this isolate's copies for a user after it changed them, so its own reads see the change. */
export function forgetPrincipal(userId: string): void {
  memory.delete(userId);
}
