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
    delta INTEGER NOT NULL
  )`,
];

export class ApiKeyAuthority extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** Flushes run one at a time, so no buffered row is sent twice. */
  private flushing: Promise<void> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    for (const statement of SCHEMA) this.sql.exec(statement);
  }

  /** Stores (or replaces) the key's auth record. */
  setRecord(record: KeyRecord): void {
    this.setMeta("record", JSON.stringify(record));
  }

  /** Revokes for good: no later setRecord can bring the key back. */
  revoke(): void {
    const record = this.record();
    if (record !== null) this.setMeta("record", JSON.stringify({ ...record, revoked: true }));
    this.setMeta("revoked", "1");
  }

  /** Revokes the key and drops everything it held (its owner's account is being deleted). */
  async erase(): Promise<void> {
    await this.ctx.storage.deleteAll();
    for (const statement of SCHEMA) this.sql.exec(statement);
    this.setMeta("revoked", "1");
  }

  /** Authenticates one use of the key and counts it against every rate-limit window. */
  async use(secretHash: string, request: UseRequest): Promise<UseResult> {
    const record = this.record();
    const now = Date.now();
    if (
      record === null ||
      record.revoked ||
      this.getMeta("revoked") === "1" ||
      !constantTimeEqual(record.secretHash, secretHash) ||
      (record.expiresAt !== null && now >= record.expiresAt)
    ) {
      return { status: "invalid" };
    }
    const key = { id: record.id, userId: record.userId, permissions: record.permissions };
    const active = windows(record.limits, request.defaultRequestsPerMinute, now);
    const counts = active.map((window) => this.count(windowKey(window)));
    const exceeded = active.filter((window, index) => (counts[index] ?? 0) >= window.limit);
    this.setMeta("last_used", JSON.stringify({ at: now, ip: request.ip }));

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

    this.sql.exec("DELETE FROM counters WHERE window NOT IN (" + active.map(() => "?").join(",") + ")", ...active.map(windowKey));
    const states = active.map((window, index) => {
      const used = (counts[index] ?? 0) + 1;
      this.sql.exec(
        "INSERT INTO counters (window, count) VALUES (?, 1) ON CONFLICT (window) DO UPDATE SET count = count + 1",
        windowKey(window),
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
    await this.flushUsage();
  }

  private async flush(): Promise<void> {
    const rows = this.sql
      .exec<{ id: number; at: number; endpoint: string; method: string; status: number; delta: number }>(
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
    const lastUsed = JSON.parse(this.getMeta("last_used") ?? "null") as { at: number; ip: string } | null;
    if (lastUsed !== null) {
      statements.push(
        this.env.DB.prepare("UPDATE api_keys SET last_used_at = ?, last_used_ip = ? WHERE id = ?").bind(
          new Date(lastUsed.at).toISOString(),
          lastUsed.ip,
          record.id,
        ),
      );
    }
    // One D1 batch is one transaction: either all of it lands or none, and then the rows stay buffered.
    await this.env.DB.batch(statements);
    this.sql.exec("DELETE FROM usage_buffer WHERE id <= ?", lastId);
  }

  private buffer(at: number, request: { endpoint: string; method: string }, status: number, delta: number): void {
    this.sql.exec(
      "INSERT INTO usage_buffer (at, endpoint, method, status, delta) VALUES (?, ?, ?, ?, ?)",
      at,
      request.endpoint,
      request.method,
      status,
      delta,
    );
  }

  private async scheduleFlush(now: number): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(now + FLUSH_DELAY_MS);
  }

  private count(window: string): number {
    return this.sql.exec<{ count: number }>("SELECT count FROM counters WHERE window = ?", window).toArray()[0]?.count ?? 0;
  }

  private record(): KeyRecord | null {
    const value = this.getMeta("record");
    return value === null ? null : (JSON.parse(value) as KeyRecord);
  }

  private getMeta(key: string): string | null {
    return this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value ?? null;
  }

  private setMeta(key: string, value: string): void {
    this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, value);
  }
}
