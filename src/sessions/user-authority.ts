// The per-user session authority: one SQLite-backed Durable Object per user, named by
// the user id. It holds the user's session index, enforces MAX_SESSIONS_PER_USER,
// decides revocation, and keeps the KV cache (read by read-only requests) in step.
//
// Every method runs its SQLite work synchronously, so concurrent calls (20 racing
// logins) see each other's writes in order: the session limit holds exactly.
import { DurableObject } from "cloudflare:workers";
import type { ClientInfo } from "../http/client-info";
import { constantTimeEqual } from "../lib/crypto";
import type { PublicUser } from "../users/user-view";
import {
  CACHE_TOUCH_INTERVAL_MS,
  type CachedSession,
  type SessionInfo,
  type SessionKind,
  type SessionTimes,
  cacheTtlSeconds,
  isExpired,
  sessionCacheKey,
} from "./session-policy";

export interface NewSession {
  id: string;
  kind: SessionKind;
  secretHash: string;
  csrfHash: string | null;
  idleMs: number;
  absoluteMs: number;
  client: ClientInfo;
  user: PublicUser;
}

export type Authorization =
  | { status: "valid"; session: CachedSession; csrfHash: string | null }
  | { status: "expired" }
  | { status: "unknown" };

type SessionRow = {
  id: string;
  kind: SessionKind;
  secret_hash: string;
  csrf_hash: string | null;
  created_at: number;
  last_activity: number;
  cached_activity: number;
  idle_ms: number;
  absolute_expires_at: number;
  ip: string;
  user_agent: string;
  browser: string;
  os: string;
  device_type: string;
  country: string | null;
  city: string | null;
};

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    csrf_hash TEXT,
    created_at INTEGER NOT NULL,
    last_activity INTEGER NOT NULL,
    cached_activity INTEGER NOT NULL,
    idle_ms INTEGER NOT NULL,
    absolute_expires_at INTEGER NOT NULL,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    browser TEXT NOT NULL,
    os TEXT NOT NULL,
    device_type TEXT NOT NULL,
    country TEXT,
    city TEXT
  )`,
  `CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
];

export class UserAuthority extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** KV writes run one after another, each from the state current when it runs. */
  private cacheQueue: Promise<void> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    for (const statement of SCHEMA) this.sql.exec(statement);
  }

  /** Adds a session, then ends the least recently active ones beyond `maxSessions`. */
  async createSession(input: NewSession, maxSessions: number): Promise<{ evicted: string[] }> {
    const now = Date.now();
    this.saveUser(input.user);
    this.purgeExpired(now);
    this.sql.exec(
      `INSERT INTO sessions (id, kind, secret_hash, csrf_hash, created_at, last_activity, cached_activity,
         idle_ms, absolute_expires_at, ip, user_agent, browser, os, device_type, country, city)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      input.id,
      input.kind,
      input.secretHash,
      input.csrfHash,
      now,
      now,
      now,
      input.idleMs,
      now + input.absoluteMs,
      input.client.ip,
      input.client.userAgent,
      input.client.device.browser,
      input.client.device.os,
      input.client.device.type,
      input.client.location.country,
      input.client.location.city,
    );
    const evicted = this.sql
      .exec<{ id: string }>(
        "SELECT id FROM sessions ORDER BY last_activity DESC, created_at DESC LIMIT -1 OFFSET ?",
        maxSessions,
      )
      .toArray()
      .map((row) => row.id);
    for (const id of evicted) this.sql.exec("DELETE FROM sessions WHERE id = ?", id);
    await this.syncCache([input.id, ...evicted]);
    return { evicted };
  }

  /**
   * The authoritative check used by every state-changing request: the session exists,
   * the secret matches and it has not expired. Records the activity (sliding expiry).
   */
  async authorize(id: string, secretHash: string): Promise<Authorization> {
    const row = this.row(id);
    const user = this.loadUser();
    if (row === null || user === null || !constantTimeEqual(row.secret_hash, secretHash)) {
      return { status: "unknown" };
    }
    const now = Date.now();
    if (isExpired(times(row), now)) {
      this.sql.exec("DELETE FROM sessions WHERE id = ?", id);
      await this.syncCache([id]);
      return { status: "expired" };
    }
    this.sql.exec("UPDATE sessions SET last_activity = ? WHERE id = ?", now, id);
    if (now - row.cached_activity >= CACHE_TOUCH_INTERVAL_MS) await this.syncCache([id]);
    return { status: "valid", session: toCached({ ...row, last_activity: now }, user), csrfHash: row.csrf_hash };
  }

  /** Replaces the session's CSRF token; false when the session is not valid. */
  async rotateCsrf(id: string, secretHash: string, csrfHash: string): Promise<boolean> {
    const result = await this.authorize(id, secretHash);
    if (result.status !== "valid") return false;
    this.sql.exec("UPDATE sessions SET csrf_hash = ? WHERE id = ?", csrfHash, id);
    return true;
  }

  listSessions(): SessionInfo[] {
    this.purgeExpired(Date.now());
    return this.sql
      .exec<SessionRow>("SELECT * FROM sessions ORDER BY last_activity DESC")
      .toArray()
      .map(toInfo);
  }

  /** Ends one session; false when the user has no such session. */
  async revokeSession(id: string): Promise<boolean> {
    const found = this.sql.exec("DELETE FROM sessions WHERE id = ?", id).rowsWritten > 0;
    if (found) await this.syncCache([id]);
    return found;
  }

  /** Ends every session but `exceptId` (null: all of them); returns how many ended. */
  async revokeAll(exceptId: string | null): Promise<number> {
    const ids = this.sql
      .exec<{ id: string }>("SELECT id FROM sessions WHERE id IS NOT ?", exceptId)
      .toArray()
      .map((row) => row.id);
    for (const id of ids) this.sql.exec("DELETE FROM sessions WHERE id = ?", id);
    await this.syncCache(ids);
    return ids.length;
  }

  /** Refreshes the user snapshot that cached sessions carry (after a profile change). */
  async updateUser(user: PublicUser): Promise<void> {
    this.saveUser(user);
    const ids = this.sql.exec<{ id: string }>("SELECT id FROM sessions").toArray().map((row) => row.id);
    await this.syncCache(ids);
  }

  private row(id: string): SessionRow | null {
    return this.sql.exec<SessionRow>("SELECT * FROM sessions WHERE id = ?", id).toArray()[0] ?? null;
  }

  private purgeExpired(now: number): void {
    this.sql.exec("DELETE FROM sessions WHERE MIN(last_activity + idle_ms, absolute_expires_at) <= ?", now);
  }

  private saveUser(user: PublicUser): void {
    this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('user', ?)", JSON.stringify(user));
  }

  private loadUser(): PublicUser | null {
    const row = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'user'").toArray()[0];
    return row === undefined ? null : (JSON.parse(row.value) as PublicUser);
  }

  private syncCache(ids: string[]): Promise<void> {
    const run = this.cacheQueue.then(() => this.writeCache(ids));
    this.cacheQueue = run.catch(() => undefined);
    return run;
  }

  /**
   * Puts each live cookie session into KV and deletes the rest. Reading the row at
   * write time (not when the write was queued) means a late write can never bring a
   * revoked session back.
   */
  private async writeCache(ids: string[]): Promise<void> {
    const now = Date.now();
    const user = this.loadUser();
    await Promise.all(
      ids.map(async (id) => {
        const key = sessionCacheKey(id);
        const row = this.row(id);
        try {
          if (row === null || user === null || row.kind !== "cookie" || isExpired(times(row), now)) {
            await retryOnce(() => this.env.SESSIONS.delete(key));
            return;
          }
          this.sql.exec("UPDATE sessions SET cached_activity = ? WHERE id = ?", row.last_activity, id);
          const value = JSON.stringify(toCached(row, user));
          await retryOnce(() => this.env.SESSIONS.put(key, value, { expirationTtl: cacheTtlSeconds(times(row), now) }));
        } catch (error) {
          console.error(JSON.stringify({ level: "error", event: "session_cache_write_failed", error: String(error) }));
        }
      }),
    );
  }
}

/** KV allows one write per second per key; one retry after that second covers a burst. */
async function retryOnce(operation: () => Promise<void>): Promise<void> {
  try {
    await operation();
  } catch {
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await operation();
  }
}

function times(row: SessionRow): SessionTimes {
  return {
    createdAt: row.created_at,
    lastActivity: row.last_activity,
    idleMs: row.idle_ms,
    absoluteExpiresAt: row.absolute_expires_at,
  };
}

function toCached(row: SessionRow, user: PublicUser): CachedSession {
  return { id: row.id, userId: user.id, kind: row.kind, secretHash: row.secret_hash, user, ...times(row) };
}

function toInfo(row: SessionRow): SessionInfo {
  return {
    id: row.id,
    kind: row.kind,
    ip: row.ip,
    userAgent: row.user_agent,
    device: { browser: row.browser, os: row.os, type: row.device_type as SessionInfo["device"]["type"] },
    location: { country: row.country, city: row.city },
    ...times(row),
  };
}
