// One SQLite-backed Durable Object per API key, named by the key id. It holds the copy
// of the key that authenticates requests (hash, owner, permissions, limits, expiry,
// revocation), counts every use against the key's rate limits exactly (one call at a
// time), and buffers usage, flushing it to D1 in batches by alarm.
import { DurableObject } from "cloudflare:workers";
import { constantTimeEqual } from "../lib/crypto";
import type { Permissions } from "./permissions";
import {
  type KeyLimits,
  type RateLimitState,
  reportedState,
  secondsUntilReset,
  windowKey,
  windows,
} from "./rate-limit-policy";

export interface KeyRecord {
  id: string;
  userId: string;
  name: string;
  /** Grows with every change; D1 takes a record only over an older version. */
  version: number;
  secretHash: string;
  permissions: Permissions;
  limits: KeyLimits;
  /** ms since the epoch, or null for a key that does not expire. */
  expiresAt: number | null;
  revoked: boolean;
}

export interface UseRequest {
  endpoint: string;
  method: string;
  ip: string;
  defaultRequestsPerMinute: number;
}

/** Identifies a recorded use for amendUse. */
export interface UsedAt {
  at: number;
  endpoint: string;
  method: string;
}

export type UseResult =
  | { status: "invalid" }
  | {
      status: "allowed";
      key: { id: string; userId: string; permissions: Permissions };
      rateLimit: RateLimitState;
      /** Recorded as a 200; amend it when the response ends otherwise. */
      use: UsedAt;
    }
  | {
      status: "limited";
      key: { id: string; userId: string; permissions: Permissions };
      rateLimit: RateLimitState;
      retryAfterSeconds: number;
    };

export interface KeyChanges {
  name?: string;
  permissions?: Permissions;
  requestsPerMinute?: number | null;
  requestsPerDay?: number | null;
  /** ms since the epoch, or null for never; may only move earlier. */
  expiresAt?: number | null;
}

export type KeyUpdate =
  | { status: "updated"; record: KeyRecord }
  | { status: "not_found" }
  | { status: "revoked" }
  | { status: "expiry_later" };

/** An expiry may only move earlier: null (never) is the latest of all. */
function isNotLater(next: number | null, current: number | null): boolean {
  if (current === null) return true;
  if (next === null) return false;
  return next <= current;
}

/** How long usage waits in the buffer before a batch goes to D1. */
const FLUSH_DELAY_MS = 5_000;

const SCHEMA = [
  "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
  "CREATE TABLE IF NOT EXISTS counters (window TEXT PRIMARY KEY, count INTEGER NOT NULL)",
  // Usage waiting for D1. A row is a signed count, so a correction is just another row.
  `CREATE TABLE IF NOT EXISTS usage_buffer (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    endpoint TEXT NOT NULL,
    method TEXT NOT NULL,
    status INTEGER NOT NULL,
    delta INTEGER NOT NULL,
    ip TEXT
  )`,
];

export class ApiKeyAuthority extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** Flushes run one at a time, so no buffered row is sent twice. */
  private flushing: Promise<void> = Promise.resolve();
  /**
   * Memory copies of what SQLite holds, so a use reads nothing from storage: every
   * change is written through to SQLite in the same synchronous step.
   */
  private cachedRecord: KeyRecord | null | undefined;
  private readonly counts = new Map<string, number>();
  private flushScheduled = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    for (const statement of SCHEMA) this.sql.exec(statement);
    // Objects created before the ip column existed (local development state).
    const columns = this.sql.exec<{ name: string }>("PRAGMA table_info(usage_buffer)").toArray();
    if (!columns.some((column) => column.name === "ip")) this.sql.exec("ALTER TABLE usage_buffer ADD COLUMN ip TEXT");
    for (const row of this.sql.exec<{ window: string; count: number }>("SELECT window, count FROM counters")) {
      this.counts.set(row.window, row.count);
    }
  }

  /** Stores the new key's auth record (version 1). A revoked or erased key stays revoked. */
  setRecord(record: KeyRecord): void {
    this.setMeta("record", JSON.stringify(record));
    this.cachedRecord = undefined;
  }

  /**
   * Applies a change to the key, in the order changes arrive: this object is the one
   * ordered source of what the key may do, and D1 is written from what this returns.
   * `legacy`: the D1 row's record, for keys stored before records carried a version.
   */
  update(changes: KeyChanges, legacy: KeyRecord): KeyUpdate {
    const stored = this.record();
    if (stored === null) return { status: "not_found" };
    if (stored.revoked) return { status: "revoked" };
    const base: KeyRecord = typeof stored.version === "number" ? stored : { ...stored, name: legacy.name, version: legacy.version };
    if (changes.expiresAt !== undefined && !isNotLater(changes.expiresAt, base.expiresAt)) return { status: "expiry_later" };
    const next: KeyRecord = {
      ...base,
      name: changes.name ?? base.name,
      permissions: changes.permissions ?? base.permissions,
      limits: {
        requestsPerMinute: changes.requestsPerMinute !== undefined ? changes.requestsPerMinute : base.limits.requestsPerMinute,
        requestsPerDay: changes.requestsPerDay !== undefined ? changes.requestsPerDay : base.limits.requestsPerDay,
      },
      expiresAt: changes.expiresAt !== undefined ? changes.expiresAt : base.expiresAt,
      version: base.version + 1,
    };
    this.setMeta("record", JSON.stringify(next));
    this.cachedRecord = undefined;
    return { status: "updated", record: next };
  }

  /** Revokes for good: no later setRecord can bring the key back. */
  revoke(): void {
    const record = this.record();
    if (record !== null) this.setMeta("record", JSON.stringify({ ...record, revoked: true }));
    this.setMeta("revoked", "1");
    this.cachedRecord = undefined;
  }

  /** Revokes the key and drops everything it held (its owner's account is being deleted). */
  async erase(): Promise<void> {
    await this.ctx.storage.deleteAll();
    for (const statement of SCHEMA) this.sql.exec(statement);
    this.setMeta("revoked", "1");
    this.cachedRecord = undefined;
    this.counts.clear();
    this.flushScheduled = false;
  }

  /** Authenticates one use of the key and counts it against every rate-limit window. */
  async use(secretHash: string, request: UseRequest): Promise<UseResult> {
    const record = this.record();
    const now = Date.now();
    if (
      record === null ||
      record.revoked ||
      !constantTimeEqual(record.secretHash, secretHash) ||
      (record.expiresAt !== null && now >= record.expiresAt)
    ) {
      return { status: "invalid" };
    }
    const key = { id: record.id, userId: record.userId, permissions: record.permissions };
    const active = windows(record.limits, request.defaultRequestsPerMinute, now);
    const keys = active.map(windowKey);
    const counts = keys.map((key) => this.counts.get(key) ?? 0);
    const exceeded = active.filter((window, index) => (counts[index] ?? 0) >= window.limit);

    if (exceeded.length > 0) {
      const retryAfterSeconds = Math.max(...exceeded.map((window) => secondsUntilReset(window, now)));
      this.buffer(now, request, 429, 1);
      await this.scheduleFlush(now);
      const worst = exceeded.find((window) => secondsUntilReset(window, now) === retryAfterSeconds) ?? exceeded[0]!;
      return {
        status: "limited",
        key,
        rateLimit: { limit: worst.limit, remaining: 0, reset: retryAfterSeconds },
        retryAfterSeconds,
      };
    }

    // A new minute or day: forget the windows that ended.
    if ([...this.counts.keys()].some((key) => !keys.includes(key))) {
      for (const key of [...this.counts.keys()]) if (!keys.includes(key)) this.counts.delete(key);
      this.sql.exec(`DELETE FROM counters WHERE window NOT IN (${keys.map(() => "?").join(",")})`, ...keys);
    }
    const states = active.map((window, index) => {
      const used = (counts[index] ?? 0) + 1;
      this.counts.set(keys[index] ?? "", used);
      this.sql.exec(
        "INSERT INTO counters (window, count) VALUES (?, ?) ON CONFLICT (window) DO UPDATE SET count = excluded.count",
        keys[index],
        used,
      );
      return { limit: window.limit, remaining: window.limit - used, reset: secondsUntilReset(window, now) };
    });
    this.buffer(now, request, 200, 1);
    await this.scheduleFlush(now);
    return {
      status: "allowed",
      key,
      rateLimit: reportedState(states),
      use: { at: now, endpoint: request.endpoint, method: request.method },
    };
  }

  /**
   * The response to a use ended with another status than the 200 recorded. Written as a
   * correction (-1 for 200, +1 for the real status), so it is right even if the first
   * row has already gone to D1.
   */
  async amendUse(use: UsedAt, status: number): Promise<void> {
    this.buffer(use.at, use, 200, -1);
    this.buffer(use.at, use, status, 1);
    await this.scheduleFlush(Date.now());
  }

  /** Sends buffered usage to D1 now (the usage endpoint calls this before reading). */
  flushUsage(): Promise<void> {
    const run = this.flushing.then(() => this.flush());
    this.flushing = run.catch(() => undefined);
    return run;
  }

  override async alarm(): Promise<void> {
    this.flushScheduled = false;
    await this.flushUsage();
  }

  private async flush(): Promise<void> {
    const rows = this.sql
      .exec<{ id: number; at: number; endpoint: string; method: string; status: number; delta: number; ip: string | null }>(
        "SELECT * FROM usage_buffer ORDER BY id",
      )
      .toArray();
    const record = this.record();
    if (rows.length === 0 || record === null) return;
    const lastId = rows[rows.length - 1]!.id;
    const totals = new Map<string, { hour: string; endpoint: string; method: string; status: number; count: number }>();
    for (const row of rows) {
      const hour = new Date(row.at).toISOString().slice(0, 13);
      const key = `${hour}|${row.endpoint}|${row.method}|${row.status}`;
      const entry = totals.get(key) ?? { hour, endpoint: row.endpoint, method: row.method, status: row.status, count: 0 };
      entry.count += row.delta;
      totals.set(key, entry);
    }
    const statements = [...totals.values()]
      .filter((entry) => entry.count !== 0)
      .map((entry) =>
        this.env.DB.prepare(
          `INSERT INTO api_key_usage (key_id, hour, endpoint, method, status, count) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (key_id, hour, endpoint, method, status) DO UPDATE SET count = count + excluded.count`,
        ).bind(record.id, entry.hour, entry.endpoint, entry.method, entry.status, entry.count),
      );
    // The newest use in this batch is the key's last use.
    const lastUsed = [...rows].reverse().find((row) => row.delta > 0 && row.ip !== null);
    if (lastUsed !== undefined) {
      statements.push(
        this.env.DB.prepare(
          "UPDATE api_keys SET last_used_at = ?, last_used_ip = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)",
        ).bind(new Date(lastUsed.at).toISOString(), lastUsed.ip, record.id, new Date(lastUsed.at).toISOString()),
      );
    }
    // One D1 batch is one transaction: either all of it lands or none, and then the rows stay buffered.
    await this.env.DB.batch(statements);
    this.sql.exec("DELETE FROM usage_buffer WHERE id <= ?", lastId);
  }

  private buffer(at: number, request: { endpoint: string; method: string; ip?: string }, status: number, delta: number): void {
    this.sql.exec(
      "INSERT INTO usage_buffer (at, endpoint, method, status, delta, ip) VALUES (?, ?, ?, ?, ?, ?)",
      at,
      request.endpoint,
      request.method,
      status,
      delta,
      request.ip ?? null,
    );
  }

  private async scheduleFlush(now: number): Promise<void> {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(now + FLUSH_DELAY_MS);
  }

  private record(): KeyRecord | null {
    if (this.cachedRecord === undefined) {
      const value = this.getMeta("record");
      const record = value === null ? null : (JSON.parse(value) as KeyRecord);
      this.cachedRecord = record !== null && this.getMeta("revoked") === "1" ? { ...record, revoked: true } : record;
    }
    return this.cachedRecord;
  }

  private getMeta(key: string): string | null {
    return this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value ?? null;
  }

  private setMeta(key: string, value: string): void {
    this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, value);
  }
}
