// The per-user session authority: one SQLite-backed Durable Object per user, named by
// the user id. It holds the user's sessions (cookie sessions and token families),
// enforces MAX_SESSIONS_PER_USER, rotates refresh tokens, decides revocation, and keeps
// the KV caches read by read-only requests in step.
//
// Every method does its SQLite work synchronously, so concurrent calls (20 racing
// logins, two racing refreshes) see each other's writes in order.
import { DurableObject } from "cloudflare:workers";
import type { ClientInfo } from "../http/client-info";
import { constantTimeEqual } from "../lib/crypto";
import type { PublicUser } from "../users/user-view";
import { type PrincipalRecord, REVOKED_FAMILY_MEMORY_MS, isTokenRevoked, principalCacheKey } from "./principal-record";
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

/** The token response of the contract, minus refresh_expires_in, which the authority knows. */
export interface TokenPair {
  access_token: string;
  token_type: "bearer";
  expires_in: number;
  refresh_token: string;
}

export interface TokenResponse extends TokenPair {
  refresh_expires_in: number;
}

export type Rotation =
  | { status: "rotated"; response: TokenResponse }
  | { status: "reused" }
  | { status: "invalid" };

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
  // Hashes of refresh tokens already rotated out of a family, for reuse detection.
  `CREATE TABLE IF NOT EXISTS refresh_history (
    secret_hash TEXT PRIMARY KEY,
    family_id TEXT NOT NULL,
    rotated_at INTEGER NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
  // Devices (browser, OS, type) the user has signed in from, for new-device notices.
  `CREATE TABLE IF NOT EXISTS devices (device_key TEXT PRIMARY KEY, first_seen INTEGER NOT NULL)`,
];

interface RotationMemo {
  presentedHash: string;
  response: TokenResponse;
  until: number;
}

export class UserAuthority extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** KV writes run one after another, each from the state current when it runs. */
  private cacheQueue: Promise<void> = Promise.resolve();
  /**
   * The last rotation of each family, so a second refresh with the same token inside
   * the grace period gets the same pair. Memory only: no token is stored at rest.
   */
  private readonly rotations = new Map<string, RotationMemo>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    for (const statement of SCHEMA) this.sql.exec(statement);
  }

  /**
   * Adds a session, then ends the least recently active ones beyond `maxSessions`.
   * `newDevice`: the user has signed in before, but never from this kind of device.
   */
  async createSession(input: NewSession, maxSessions: number): Promise<{ evicted: string[]; newDevice: boolean }> {
    const now = Date.now();
    this.saveUser(input.user);
    const newDevice = this.rememberDevice(input.client, now);
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
    this.endSessions(evicted, now);
    await this.syncCaches([input.id, ...evicted]);
    return { evicted, newDevice };
  }

  /**
   * The authoritative check of a cookie session, used by every state-changing request:
   * the session exists, the secret matches and it has not expired. Records the activity.
   */
  async authorize(id: string, secretHash: string): Promise<Authorization> {
    const row = this.row(id);
    const user = this.loadUser();
    // A token family's refresh token has the same shape as a session token: never a cookie session.
    if (row === null || user === null || row.kind !== "cookie" || !constantTimeEqual(row.secret_hash, secretHash)) {
      return { status: "unknown" };
    }
    const now = Date.now();
    if (isExpired(times(row), now)) {
      this.endSessions([id], now);
      await this.syncCaches([id]);
      return { status: "expired" };
    }
    this.sql.exec("UPDATE sessions SET last_activity = ? WHERE id = ?", now, id);
    if (now - row.cached_activity >= CACHE_TOUCH_INTERVAL_MS) await this.syncCaches([id]);
    return { status: "valid", session: toCached({ ...row, last_activity: now }, user), csrfHash: row.csrf_hash };
  }

  /** The authoritative check of an access token's family for a state-changing request. */
  authorizeFamily(familyId: string, issuedAtSeconds: number): { status: "valid"; user: PublicUser } | { status: "unknown" } {
    const row = this.row(familyId);
    const user = this.loadUser();
    const now = Date.now();
    if (row === null || user === null || row.kind !== "token" || isExpired(times(row), now)) return { status: "unknown" };
    if (isTokenRevoked(this.principalRecord(user), familyId, issuedAtSeconds)) return { status: "unknown" };
    return { status: "valid", user };
  }

  /** Replaces the session's CSRF token; false when the session is not valid. */
  async rotateCsrf(id: string, secretHash: string, csrfHash: string): Promise<boolean> {
    const result = await this.authorize(id, secretHash);
    if (result.status !== "valid") return false;
    this.sql.exec("UPDATE sessions SET csrf_hash = ? WHERE id = ?", csrfHash, id);
    return true;
  }

  /**
   * Rotates a family's refresh token to `candidate`. A token already rotated out is
   * reuse: inside the grace period the same pair as the first time is returned (two
   * tabs, an app retry); after it, the whole family is revoked.
   */
  async rotateRefreshToken(
    familyId: string,
    presentedHash: string,
    candidate: { secretHash: string; pair: TokenPair },
    graceMs: number,
  ): Promise<Rotation> {
    const now = Date.now();
    const row = this.row(familyId);
    if (row === null || row.kind !== "token") return { status: "invalid" };
    if (isExpired(times(row), now)) {
      this.endSessions([familyId], now);
      await this.syncCaches([familyId]);
      return { status: "invalid" };
    }

    if (constantTimeEqual(row.secret_hash, presentedHash)) {
      this.sql.exec("INSERT INTO refresh_history (secret_hash, family_id, rotated_at) VALUES (?, ?, ?)", presentedHash, familyId, now);
      this.sql.exec("UPDATE sessions SET secret_hash = ?, last_activity = ? WHERE id = ?", candidate.secretHash, now, familyId);
      const response: TokenResponse = {
        ...candidate.pair,
        refresh_expires_in: Math.max(0, Math.floor((row.absolute_expires_at - now) / 1000)),
      };
      this.rotations.set(familyId, { presentedHash, response, until: now + graceMs });
      return { status: "rotated", response };
    }

    const rotatedOut = this.sql
      .exec<{ rotated_at: number }>(
        "SELECT rotated_at FROM refresh_history WHERE secret_hash = ? AND family_id = ?",
        presentedHash,
        familyId,
      )
      .toArray()[0];
    if (rotatedOut === undefined) return { status: "invalid" };

    const memo = this.rotations.get(familyId);
    if (memo !== undefined && now < memo.until && constantTimeEqual(memo.presentedHash, presentedHash)) {
      return { status: "rotated", response: memo.response };
    }
    if (now - rotatedOut.rotated_at <= graceMs) {
      // Inside the grace period but the pair is gone (the object restarted): refuse
      // this call without punishing the family; the first response holds a valid pair.
      return { status: "invalid" };
    }
    this.endSessions([familyId], now);
    await this.syncCaches([familyId]);
    return { status: "reused" };
  }

  /** Revokes the family a refresh token (current or rotated out) belongs to (RFC 7009). */
  async revokeRefreshToken(familyId: string, presentedHash: string): Promise<boolean> {
    const row = this.row(familyId);
    if (row === null || row.kind !== "token") return false;
    const known =
      constantTimeEqual(row.secret_hash, presentedHash) ||
      this.sql
        .exec("SELECT 1 FROM refresh_history WHERE secret_hash = ? AND family_id = ?", presentedHash, familyId)
        .toArray().length > 0;
    if (!known) return false;
    return this.revokeSession(familyId);
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
    if (this.row(id) === null) return false;
    this.endSessions([id], Date.now());
    await this.syncCaches([id]);
    return true;
  }

  /**
   * Ends every session but `exceptId` (null: all of them, and access tokens issued
   * until now are refused from now on). Returns how many ended.
   */
  async revokeAll(exceptId: string | null): Promise<number> {
    const now = Date.now();
    const ids = this.sql
      .exec<{ id: string }>("SELECT id FROM sessions WHERE id IS NOT ?", exceptId)
      .toArray()
      .map((row) => row.id);
    this.endSessions(ids, now);
    // Whole seconds, like a token's iat: a token issued later in this second still passes.
    if (exceptId === null) this.setMeta("not_before", String(Math.floor(now / 1000) * 1000));
    await this.syncCaches(ids);
    return ids.length;
  }

  /** Refreshes the user object that caches carry (after a profile change). */
  async updateUser(user: PublicUser): Promise<void> {
    this.saveUser(user);
    const ids = this.sql.exec<{ id: string }>("SELECT id FROM sessions").toArray().map((row) => row.id);
    await this.syncCaches(ids);
  }

  /**
   * Ends every session and token family, removes their cache entries and the principal
   * record, and wipes this object's storage: the user is gone.
   */
  async deleteAccount(): Promise<void> {
    const ids = this.sql.exec<{ id: string }>("SELECT id FROM sessions").toArray().map((row) => row.id);
    const user = this.loadUser();
    this.endSessions(ids, Date.now());
    this.sql.exec("DELETE FROM meta WHERE key = 'user'");
    await this.syncCaches(ids);
    if (user !== null) await retryOnce(() => this.env.SESSIONS.delete(principalCacheKey(user.id)));
    this.rotations.clear();
    await this.ctx.storage.deleteAll();
    for (const statement of SCHEMA) this.sql.exec(statement);
  }

  /** The record read-only bearer requests check (and rewrites it to KV). */
  async readPrincipal(): Promise<PrincipalRecord | null> {
    const user = this.loadUser();
    if (user === null) return null;
    await this.syncCaches([]);
    return this.principalRecord(user);
  }

  private rememberDevice(client: ClientInfo, now: number): boolean {
    const key = `${client.device.browser}|${client.device.os}|${client.device.type}`;
    const known = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM devices").one().n;
    const seen = this.sql.exec("SELECT 1 FROM devices WHERE device_key = ?", key).toArray().length > 0;
    if (!seen) this.sql.exec("INSERT INTO devices (device_key, first_seen) VALUES (?, ?)", key, now);
    return known > 0 && !seen;
  }

  private row(id: string): SessionRow | null {
    return this.sql.exec<SessionRow>("SELECT * FROM sessions WHERE id = ?", id).toArray()[0] ?? null;
  }

  /** Deletes sessions; token families also go on the revoked list their access tokens are checked against. */
  private endSessions(ids: string[], now: number): void {
    if (ids.length === 0) return;
    const revoked = this.revokedFamilies(now);
    for (const id of ids) {
      const row = this.row(id);
      if (row === null) continue;
      if (row.kind === "token") revoked[id] = now;
      this.sql.exec("DELETE FROM sessions WHERE id = ?", id);
      this.sql.exec("DELETE FROM refresh_history WHERE family_id = ?", id);
      this.rotations.delete(id);
    }
    this.setMeta("revoked_families", JSON.stringify(revoked));
  }

  private purgeExpired(now: number): void {
    const expired = this.sql
      .exec<{ id: string }>("SELECT id FROM sessions WHERE MIN(last_activity + idle_ms, absolute_expires_at) <= ?", now)
      .toArray();
    for (const { id } of expired) {
      this.sql.exec("DELETE FROM sessions WHERE id = ?", id);
      this.sql.exec("DELETE FROM refresh_history WHERE family_id = ?", id);
    }
  }

  private revokedFamilies(now: number): Record<string, number> {
    const stored = JSON.parse(this.getMeta("revoked_families") ?? "{}") as Record<string, number>;
    return Object.fromEntries(Object.entries(stored).filter(([, at]) => now - at < REVOKED_FAMILY_MEMORY_MS));
  }

  private principalRecord(user: PublicUser): PrincipalRecord {
    return {
      user,
      notBefore: Number(this.getMeta("not_before") ?? "0"),
      revokedFamilies: this.revokedFamilies(Date.now()),
    };
  }

  private saveUser(user: PublicUser): void {
    this.setMeta("user", JSON.stringify(user));
  }

  private loadUser(): PublicUser | null {
    const value = this.getMeta("user");
    return value === null ? null : (JSON.parse(value) as PublicUser);
  }

  private getMeta(key: string): string | null {
    return this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value ?? null;
  }

  private setMeta(key: string, value: string): void {
    this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, value);
  }

  private syncCaches(sessionIds: string[]): Promise<void> {
    const run = this.cacheQueue.then(() => this.writeCaches(sessionIds));
    this.cacheQueue = run.catch(() => undefined);
    return run;
  }

  /**
   * Puts each live cookie session into KV and deletes the rest, then the principal
   * record if it changed. Reading state at write time (not when the write was queued)
   * means a late write can never bring a revoked session back.
   */
  private async writeCaches(sessionIds: string[]): Promise<void> {
    const now = Date.now();
    const user = this.loadUser();
    const writes = sessionIds.map(async (id) => {
      const key = sessionCacheKey(id);
      const row = this.row(id);
      if (row === null || user === null || row.kind !== "cookie" || isExpired(times(row), now)) {
        await retryOnce(() => this.env.SESSIONS.delete(key));
        return;
      }
      this.sql.exec("UPDATE sessions SET cached_activity = ? WHERE id = ?", row.last_activity, id);
      const value = JSON.stringify(toCached(row, user));
      await retryOnce(() => this.env.SESSIONS.put(key, value, { expirationTtl: cacheTtlSeconds(times(row), now) }));
    });
    if (user !== null) {
      // Written only when it changes: KV takes one write per second per key.
      const record = JSON.stringify(this.principalRecord(user));
      if (record !== this.getMeta("principal_cached")) {
        this.setMeta("principal_cached", record);
        writes.push(retryOnce(() => this.env.SESSIONS.put(principalCacheKey(user.id), record)));
      }
    }
    const results = await Promise.allSettled(writes);
    for (const result of results) {
      if (result.status === "rejected") {
        console.error(JSON.stringify({ level: "error", event: "cache_write_failed", error: String(result.reason) }));
      }
    }
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
