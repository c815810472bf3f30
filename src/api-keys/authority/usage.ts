// An API key's usage on its way to D1: every use (and every correction) is a row in the
// key object's usage_buffer, and a batch goes to D1's api_key_usage (and the key's
// last-used columns) a few seconds later, by alarm, in one D1 transaction.
// Exactly once: a batch is named by the id of its newest row, written to the object's
// meta before it is sent. D1 records the name of the last batch that landed
// (api_key_usage_flushes) in the same transaction, and skips a batch it already has. So
// a batch whose answer was lost (D1 failed after committing, or the object was reset
// before it removed the rows) is sent again, the same rows under the same name, and
// counted once; a batch that failed stays buffered and is sent by the next alarm.
import { asStatement, database } from "../../db/client";
import { apiKeys } from "../../db/schema";
import { and, eq, isNull, lte, or } from "drizzle-orm";
import { logError } from "../../lib/log";
import { windowKeyEnded } from "../rate-limit-policy";

/** How long usage waits in the buffer before a batch goes to D1. */
const FLUSH_DELAY_MS = 5_000;
/** How long a failed flush waits before the next try. */
const FLUSH_RETRY_MS = 30_000;
const HOUR_MS = 3_600_000;

export class UsageBuffer {
  /** Flushes run one at a time, so no buffered row is sent twice. */
  private flushing: Promise<void> = Promise.resolve();
  private scheduled = false;

  constructor(
    private readonly sql: SqlStorage,
    private readonly storage: DurableObjectStorage,
    private readonly d1: D1Database,
  ) {}

  /**
   * Records `delta` uses (a correction is -1) with `status`, and books a flush: one
   * statement, with nothing to wait for. `windows`: the rate-limit windows this use
   * counted in (comma-separated keys), or null for a use that counts in none (refused, or
   * a correction).
   */
  add(
    at: number,
    request: { endpoint: string; method: string; ip?: string },
    status: number,
    delta: number,
    windows: string | null = null,
  ): void {
    this.sql.exec(
      "INSERT INTO usage_buffer (at, endpoint, method, status, delta, ip, windows) VALUES (?, ?, ?, ?, ?, ?, ?)",
      at,
      request.endpoint,
      request.method,
      status,
      delta,
      request.ip ?? null,
      windows,
    );
    if (!this.scheduled) this.book();
  }

  /**
   * Books the alarm that flushes the buffer, once until the next flush. Issued before the
   * use answers, so the answer waits for it (the output gate): an answered use always has
   * its flush booked. Not awaited: the use decides nothing on it.
   */
  private book(): void {
    this.scheduled = true;
    this.storage.setAlarm(Date.now() + FLUSH_DELAY_MS).catch((error: unknown) => {
      this.scheduled = false;
      logError("usage_flush_booking_failed", error);
    });
  }

  /**
   * A flush that failed (D1 unreachable) is tried again later, its rows buffered
   * meanwhile; until then no use books an earlier one. (An object restarted meanwhile
   * books the next flush as usual, sooner than the retry.)
   */
  async retryLater(): Promise<void> {
    this.scheduled = true;
    try {
      await this.storage.setAlarm(Date.now() + FLUSH_RETRY_MS);
    } catch (error) {
      // Not booked: the next use books a flush.
      this.scheduled = false;
      throw error;
    }
  }

  /** Sends what is buffered to D1 now, for key `keyId` (the alarm, and the usage endpoint before it reads). */
  flush(keyId: string): Promise<void> {
    this.scheduled = false;
    const run = this.flushing.then(() => this.send(keyId));
    this.flushing = run.catch(() => undefined);
    return run;
  }

  /**
   * The exact count of each window: what earlier flushes moved to `counters`, plus the
   * uses still in the buffer (a restarted object picks up where it stopped).
   */
  counts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const row of this.sql.exec<{ window: string; count: number }>("SELECT window, count FROM counters")) {
      counts.set(row.window, row.count);
    }
    for (const row of this.sql.exec<{ windows: string; uses: number }>(
      "SELECT windows, COUNT(*) AS uses FROM usage_buffer WHERE windows IS NOT NULL GROUP BY windows",
    )) {
      countWindows(counts, row.windows, row.uses);
    }
    return counts;
  }

  /** The key was erased: nothing is booked any more. */
  reset(): void {
    this.scheduled = false;
  }

  /** The batch under way: the one a lost answer left (its rows unchanged), else every buffered row. */
  private takeBatch(): number | null {
    const pending = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'flush_pending'").toArray()[0];
    if (pending !== undefined) return Number(pending.value);
    const newest = this.sql.exec<{ id: number | null }>("SELECT MAX(id) AS id FROM usage_buffer").one().id;
    if (newest === null) return null;
    this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('flush_pending', ?)", String(newest));
    return newest;
  }

  private async send(keyId: string): Promise<void> {
    const lastId = this.takeBatch();
    if (lastId === null) return;
    // The batch is summed by SQLite, not row by row here: a busy key buffers thousands of
    // uses between flushes.
    const totals = this.sql
      .exec<{ hour: number; endpoint: string; method: string; status: number; count: number }>(
        `SELECT at / ${HOUR_MS} AS hour, endpoint, method, status, SUM(delta) AS count FROM usage_buffer WHERE id <= ?
         GROUP BY hour, endpoint, method, status HAVING SUM(delta) != 0`,
        lastId,
      )
      .toArray();
    const moved = new Map<string, number>();
    for (const row of this.sql.exec<{ windows: string; uses: number }>(
      "SELECT windows, COUNT(*) AS uses FROM usage_buffer WHERE id <= ? AND windows IS NOT NULL GROUP BY windows",
      lastId,
    )) {
      countWindows(moved, row.windows, row.uses);
    }
    // api_key_usage is raw SQL throughout (see key-store.ts usageReport); api_keys is drizzle's.
    const statements = totals.map((entry) =>
      this.d1
        .prepare(
          `INSERT INTO api_key_usage (key_id, hour, endpoint, method, status, count) SELECT ?, ?, ?, ?, ?, ?
             WHERE NOT EXISTS (SELECT 1 FROM api_key_usage_flushes WHERE key_id = ? AND through_id >= ?)
             ON CONFLICT (key_id, hour, endpoint, method, status) DO UPDATE SET count = count + excluded.count`,
        )
        .bind(keyId, hourOf(entry.hour), entry.endpoint, entry.method, entry.status, entry.count, keyId, lastId),
    );
    // The newest use in this batch is the key's last use.
    const lastUsed = this.sql
      .exec<{ at: number; ip: string }>(
        "SELECT at, ip FROM usage_buffer WHERE id <= ? AND delta > 0 AND ip IS NOT NULL ORDER BY id DESC LIMIT 1",
        lastId,
      )
      .toArray()[0];
    if (lastUsed !== undefined) {
      const at = new Date(lastUsed.at).toISOString();
      const update = database(this.d1)
        .update(apiKeys)
        .set({ lastUsedAt: at, lastUsedIp: lastUsed.ip })
        .where(and(eq(apiKeys.id, keyId), or(isNull(apiKeys.lastUsedAt), lte(apiKeys.lastUsedAt, at))));
      statements.push(asStatement(this.d1, update));
    }
    statements.push(
      this.d1
        .prepare(
          `INSERT INTO api_key_usage_flushes (key_id, through_id) VALUES (?, ?)
           ON CONFLICT (key_id) DO UPDATE SET through_id = MAX(through_id, excluded.through_id)`,
        )
        .bind(keyId, lastId),
    );
    // One D1 batch is one transaction: either all of it lands or none, and then the rows stay buffered.
    await this.d1.batch(statements);
    // The sent rows leave the buffer, and what they counted moves to `counters`, together.
    this.storage.transactionSync(() => {
      for (const [key, count] of moved) {
        this.sql.exec(
          "INSERT INTO counters (window, count) VALUES (?, ?) ON CONFLICT (window) DO UPDATE SET count = count + excluded.count",
          key,
          count,
        );
      }
      const now = Date.now();
      for (const row of this.sql.exec<{ window: string }>("SELECT window FROM counters").toArray()) {
        if (windowKeyEnded(row.window, now)) this.sql.exec("DELETE FROM counters WHERE window = ?", row.window);
      }
      this.sql.exec("DELETE FROM usage_buffer WHERE id <= ?", lastId);
      this.sql.exec("DELETE FROM meta WHERE key = 'flush_pending'");
    });
  }
}

/** Adds `uses` to each window usage rows counted in (their comma-separated keys). */
function countWindows(counts: Map<string, number>, windows: string, uses: number): void {
  for (const key of windows.split(",")) counts.set(key, (counts.get(key) ?? 0) + uses);
}

/** The hour's number since the epoch as api_key_usage writes it: `2026-12-07T11`. */
function hourOf(hour: number): string {
  return new Date(hour * HOUR_MS).toISOString().slice(0, 13);
}
