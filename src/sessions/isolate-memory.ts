// This isolate's short memory of what read-only requests check, kept per user:
// - the principal record (user object, not-before time, live token families) that
//   bearer tokens and API keys are checked against (KV `user:<id>`, else the authority);
// - the cached session records (KV `session:<id>`) that session cookies are checked against.
// An entry is trusted for at most MEMORY_MS from when it was read from KV or the
// authority (a touch does not extend it); an isolate that changes a user's sessions or
// profile forgets that user at once (forgetUser). Part of the documented read-path
// bound: a revocation made elsewhere reaches this isolate's reads within KV's bound
// plus MEMORY_MS. Writes never use it: they ask the authority.
import { logWarning } from "../lib/log";
import { retryOnce } from "../lib/platform-errors";
import type { Services } from "../services/services";
import type { UserAuthority } from "../user-authority/user-authority";
import { principalCacheKey, sessionCacheKey } from "../user-authority/kv-keys";
import type { PrincipalRecord } from "../user-authority/principal-record";
import type { CachedSession } from "../user-authority/session-policy";

export const MEMORY_MS = 5_000;
/**
 * An entry this old is read again in the background while it still answers, so under
 * steady traffic no request waits for the read when the entry lapses. It never answers
 * past MEMORY_MS: the bound is unchanged.
 */
const REFRESH_AHEAD_MS = 4_000;
/** How old an entry freshPrincipal gives out may be: within the bound, and needing no read yet. */
const FRESH_MS = Math.min(REFRESH_AHEAD_MS, MEMORY_MS);

/**
 * Set only by the benchmark's cache-miss build (`--define EDGE_AUTH_BENCH_NO_MEMORY:true`):
 * no memory and no shared reads, so every read pays its KV read, as in an isolate that
 * has never seen the user. Undefined (memory on) in every real build.
 */
declare const EDGE_AUTH_BENCH_NO_MEMORY: boolean | undefined;
const MEMORY_OFF = typeof EDGE_AUTH_BENCH_NO_MEMORY !== "undefined" && EDGE_AUTH_BENCH_NO_MEMORY;
/** At most this many users' entries; the least recently used go first (a hit moves a user to the back). */
export const MAX_USERS = 10_000;

interface UserMemory {
  principal?: { record: PrincipalRecord; readAt: number };
  sessions: Map<string, { session: CachedSession; readAt: number }>;
}

const memory = new Map<string, UserMemory>();

/** A hit: the user becomes the most recently used (a Map keeps insertion order). */
function used(userId: string, entry: UserMemory): void {
  memory.delete(userId);
  memory.set(userId, entry);
}

function userMemory(userId: string): UserMemory {
  let entry = memory.get(userId);
  if (entry === undefined) {
    if (memory.size >= MAX_USERS) memory.delete(memory.keys().next().value as string);
    entry = { sessions: new Map() };
    memory.set(userId, entry);
  }
  return entry;
}

export type PrincipalDeps = Pick<Services, "kv" | "authority" | "waitUntil">;

/**
 * Reads in flight: concurrent requests for the same user or session share one read (a
 * burst after the memory lapses costs one KV read, not fifty). Keyed by the user's
 * forget count too, so a request that comes after this isolate changed the user never
 * joins a read that started before the change.
 */
const inflight = new Map<string, { read: Promise<unknown>; startedAt: number }>();
/** How many times each user was forgotten: a read that started before a forget must not be remembered. */
const forgets = new Map<string, number>();

function forgetCount(userId: string): number {
  return forgets.get(userId) ?? 0;
}

function flightKey(userId: string, key: string): string {
  return `${forgetCount(userId)}|${key}`;
}

/**
 * Reads `key` once for every concurrent request of this isolate. `startedAt` is when the
 * shared read began (what an entry's age counts from); `current` is false when the user
 * was forgotten meanwhile, and then the answer must not be remembered.
 */
async function sharedRead<T>(
  userId: string,
  key: string,
  read: () => Promise<T>,
): Promise<{ value: T; startedAt: number; current: boolean }> {
  const generation = forgetCount(userId);
  if (MEMORY_OFF) return { value: await read(), startedAt: Date.now(), current: false };
  const id = flightKey(userId, key);
  let flight = inflight.get(id);
  if (flight === undefined) {
    flight = { read: read().finally(() => inflight.delete(id)), startedAt: Date.now() };
    inflight.set(id, flight);
  }
  const value = (await flight.read) as T;
  return { value, startedAt: flight.startedAt, current: forgetCount(userId) === generation };
}

export async function principalRecord(deps: PrincipalDeps, userId: string): Promise<PrincipalRecord | null> {
  const now = Date.now();
  const entry = MEMORY_OFF ? undefined : memory.get(userId);
  const hit = entry?.principal;
  if (entry !== undefined && hit !== undefined && now - hit.readAt < MEMORY_MS) {
    used(userId, entry);
    if (now - hit.readAt >= REFRESH_AHEAD_MS && !inflight.has(flightKey(userId, principalCacheKey(userId)))) {
      deps.waitUntil(readPrincipal(deps, userId).catch(() => undefined));
    }
    return hit.record;
  }
  return readPrincipal(deps, userId);
}

/**
 * The user's principal record when this isolate holds it and needs no read for it yet
 * (younger than REFRESH_AHEAD_MS); null otherwise, and then `principalRecord` decides.
 * For answers made without waiting on anything (auth/memory-answer.ts).
 */
export function freshPrincipal(userId: string): PrincipalRecord | null {
  const entry = MEMORY_OFF ? undefined : memory.get(userId);
  const hit = entry?.principal;
  if (entry === undefined || hit === undefined || Date.now() - hit.readAt >= FRESH_MS) return null;
  used(userId, entry);
  return hit.record;
}

/** Reads the principal record (KV, else the authority) and remembers it, unless the user was forgotten meanwhile. */
async function readPrincipal(deps: PrincipalDeps, userId: string): Promise<PrincipalRecord | null> {
  const {
    value: record,
    startedAt,
    current,
  } = await sharedRead(userId, principalCacheKey(userId), async () => {
    const cached = asPrincipalRecord(await cacheRead(deps.kv, principalCacheKey(userId)));
    return cached ?? (await retryOnce(() => deps.authority.getByName(userId).readPrincipal()));
  });
  if (record !== null && current) userMemory(userId).principal = { record, readAt: startedAt };
  return record;
}

/** Whether a remembered session is due for a background read (see REFRESH_AHEAD_MS). */
export function sessionDueForRefresh(userId: string, sessionId: string): boolean {
  const hit = memory.get(userId)?.sessions.get(sessionId);
  return hit !== undefined && Date.now() - hit.readAt >= REFRESH_AHEAD_MS && !inflight.has(flightKey(userId, sessionCacheKey(sessionId)));
}

/** A session's KV record, read once for all concurrent requests of this isolate. */
export async function readCachedSession(kv: KVNamespace, userId: string, sessionId: string): Promise<CachedSession | null> {
  const key = sessionCacheKey(sessionId);
  const { value: session, startedAt, current } = await sharedRead(userId, key, () => cacheRead<CachedSession>(kv, key));
  if (session !== null && current) rememberSession(session, startedAt);
  return session;
}

/** The authority's answer about a token family replaces what this isolate remembered. */
export function rememberPrincipal(userId: string, record: PrincipalRecord): void {
  userMemory(userId).principal = { record, readAt: Date.now() };
}

/** A cached session record this isolate read less than MEMORY_MS ago, if any. */
export function rememberedSession(userId: string, sessionId: string): CachedSession | null {
  const entry = MEMORY_OFF ? undefined : memory.get(userId);
  const hit = entry?.sessions.get(sessionId);
  if (entry === undefined || hit === undefined || Date.now() - hit.readAt >= MEMORY_MS) return null;
  used(userId, entry);
  return hit.session;
}

/** Remembers a session record just read from KV. */
export function rememberSession(session: CachedSession, readAt: number = Date.now()): void {
  userMemory(session.userId).sessions.set(session.id, { session, readAt });
}

/** Updates a remembered session's activity without making the copy look fresher than it is. */
export function noteSessionActivity(session: CachedSession, lastActivity: number): void {
  const hit = memory.get(session.userId)?.sessions.get(session.id);
  if (hit !== undefined) hit.session = { ...hit.session, lastActivity };
}

export function forgetSession(userId: string, sessionId: string): void {
  memory.get(userId)?.sessions.delete(sessionId);
}

/** Drops this isolate's copies for a user after it changed them, so its own reads see the change. */
/** How many users this isolate remembers (for the bounds test). */
export function rememberedUsers(): number {
  return memory.size;
}

export function forgetUser(userId: string): void {
  memory.delete(userId);
  if (!forgets.has(userId) && forgets.size >= MAX_USERS) forgets.delete(forgets.keys().next().value as string);
  forgets.set(userId, forgetCount(userId) + 1);
}

/**
 * A cache read. KV failing reads as a miss: the caller then asks the authority, which
 * decides (and answers 503 if it cannot); a cache error never lets a request through.
 */
async function cacheRead<T>(kv: KVNamespace, key: string): Promise<T | null> {
  try {
    return await kv.get<T>(key, "json");
  } catch (error) {
    logWarning("cache_read_failed", error);
    return null;
  }
}

/** A KV value is trusted only in the current shape; anything else (an older format) is a miss. */
function asPrincipalRecord(value: unknown): PrincipalRecord | null {
  if (typeof value !== "object" || value === null) return null;
  const record = value as Partial<PrincipalRecord>;
  if (!Array.isArray(record.families) || typeof record.notBefore !== "number" || typeof record.writtenAt !== "number") return null;
  if (typeof record.user !== "object" || record.user === null) return null;
  return record as PrincipalRecord;
}
