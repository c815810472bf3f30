// One SQLite-backed Durable Object per throttle key (`ip:<address>`,
// `account:<user id>`, `id:<normalized identifier>` for names of no account, or
// `hourly:<address>` for the per-IP registration and mail limit). An IP's attempts take
// a slot *before* the password is checked, and the object answers one call at a time, so
// 30 racing guesses can never get more than maxAttempts passwords checked. An account's
// own counter lives in its UserAuthority (user-authority/password-ops.ts); `account:`
// objects are only those of earlier versions, still cleared by an admin.
import { DurableObject } from "cloudflare:workers";
import { LazySchema } from "../../lib/sqlite-schema";
import {
  MAX_WAIT_MS,
  PENDING_TIMEOUT_MS,
  type Reservation,
  type SlotCounts,
  type ThrottlePolicy,
  decide,
  retryAfterSeconds,
  windowStart,
} from "./throttle-policy";

const THROTTLE_SCHEMA = [
  "CREATE TABLE IF NOT EXISTS attempts (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, failed INTEGER NOT NULL)",
];

export class LoginThrottle extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** Reservations waiting for a pending slot to resolve. */
  private waiters: Array<() => void> = [];

  /**
   * The table is made on first use and the whole storage deleted by the alarm once the
   * window has passed: an IP or a name that stops trying leaves nothing behind.
   */
  private readonly schema: LazySchema;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.schema = new LazySchema(ctx.storage.sql, THROTTLE_SCHEMA);
    this.sql = this.schema.sql;
  }

  /** Takes a pending slot for an attempt, or says how long until one frees up. */
  async reserve(policy: ThrottlePolicy): Promise<Reservation> {
    const deadline = Date.now() + MAX_WAIT_MS;
    for (;;) {
      const now = Date.now();
      const counts = this.counts(policy, now);
      const decision = decide(policy, counts, now);
      if (decision.kind === "deny") return this.refuse(policy, decision.retryAfterSeconds, now);
      if (decision.kind === "allow") {
        const attemptId = this.sql.exec<{ id: number }>("INSERT INTO attempts (at, failed) VALUES (?, 0) RETURNING id", now).one().id;
        // Clean up this object's storage once the window has passed with no new attempt.
        await this.ctx.storage.setAlarm(now + policy.windowMs + PENDING_TIMEOUT_MS);
        return { allowed: true, attemptId, failures: counts.failed };
      }
      if (now >= deadline) return { allowed: false, retryAfterSeconds: 1, firstRefusal: false };
      await this.nextChange(deadline - now);
    }
  }

  /**
   * An identifier that names no account, after its (dummy) password check: refused while
   * its window is full, else one counted failure, in one call (password-login.ts).
   */
  async failUnlessLocked(policy: ThrottlePolicy): Promise<Reservation> {
    const now = Date.now();
    const counts = this.counts(policy, now);
    const decision = decide(policy, counts, now);
    if (decision.kind === "deny") return this.refuse(policy, decision.retryAfterSeconds, now);
    const attemptId = this.sql.exec<{ id: number }>("INSERT INTO attempts (at, failed) VALUES (?, 1) RETURNING id", now).one().id;
    await this.ctx.storage.setAlarm(now + policy.windowMs + PENDING_TIMEOUT_MS);
    return { allowed: true, attemptId, failures: counts.failed };
  }

  /** The password was wrong: the slot becomes a counted failure. */
  fail(attemptId: number): void {
    this.sql.exec("UPDATE attempts SET failed = 1, at = ? WHERE id = ?", Date.now(), attemptId);
    this.wakeWaiters();
  }

  /** Gives back a slot that did not become a failed attempt. */
  release(attemptId: number): void {
    this.sql.exec("DELETE FROM attempts WHERE id = ?", attemptId);
    this.wakeWaiters();
  }

  /**
   * Counts one request against a sliding window (the hourly registration and mail
   * limit): refused once `policy.maxAttempts` were counted in the last `windowMs`.
   */
  async hit(policy: ThrottlePolicy): Promise<{ allowed: true } | { allowed: false; retryAfterSeconds: number }> {
    const now = Date.now();
    this.sql.exec("DELETE FROM attempts WHERE at <= ?", windowStart(policy, now));
    const row = this.sql.exec<{ n: number; oldest: number | null }>("SELECT COUNT(*) AS n, MIN(at) AS oldest FROM attempts").one();
    if (row.n >= policy.maxAttempts) {
      return { allowed: false, retryAfterSeconds: retryAfterSeconds(policy, row.oldest ?? now, now) };
    }
    this.sql.exec("INSERT INTO attempts (at, failed) VALUES (?, 1)", now);
    await this.ctx.storage.setAlarm(now + policy.windowMs);
    return { allowed: true };
  }

  /** Forgets every attempt (a successful login clears its account's counter). */
  clear(): void {
    // Nothing stored: nothing to clear (and clearing must not create storage).
    if (this.schema.blank) return;
    this.sql.exec("DELETE FROM attempts");
    this.wakeWaiters();
  }

  override async alarm(): Promise<void> {
    await this.ctx.storage.deleteAll();
    this.schema.emptied();
  }

  /** One notice per lockout: the refusal is "first" if none came since the lockout began. */
  private refuse(policy: ThrottlePolicy, retryAfterSeconds: number, now: number): Reservation {
    const lastRefusal = Number(this.ctx.storage.kv.get<string>("last_refusal") ?? "0");
    const firstRefusal = now - lastRefusal > policy.windowMs;
    this.ctx.storage.kv.put("last_refusal", String(now));
    return { allowed: false, retryAfterSeconds, firstRefusal };
  }

  private counts(policy: ThrottlePolicy, now: number): SlotCounts {
    // Pending slots abandoned by a dead request turn into failures.
    this.sql.exec("UPDATE attempts SET failed = 1 WHERE failed = 0 AND at <= ?", now - PENDING_TIMEOUT_MS);
    this.sql.exec("DELETE FROM attempts WHERE failed = 1 AND at <= ?", windowStart(policy, now));
    const row = this.sql
      .exec<{ failed: number; pending: number; oldest: number | null }>(
        `SELECT COALESCE(SUM(failed), 0) AS failed, COALESCE(SUM(1 - failed), 0) AS pending,
                MIN(CASE WHEN failed = 1 THEN at END) AS oldest
         FROM attempts`,
      )
      .one();
    return { failed: row.failed, pending: row.pending, oldestFailedAt: row.oldest };
  }

  private nextChange(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private wakeWaiters(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
