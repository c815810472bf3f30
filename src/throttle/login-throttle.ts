// One SQLite-backed Durable Object per throttle key (`ip:<address>` or
// `id:<normalized identifier>`). An attempt reserves a slot *before* the password is
// checked, so 30 racing guesses can never get more than maxAttempts checked: the
// object answers them one at a time.
import { DurableObject } from "cloudflare:workers";
import { type Reservation, type ThrottlePolicy, retryAfterSeconds, windowStart } from "./throttle-policy";

export class LoginThrottle extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.createTable();
  }

  /** Takes a slot for an attempt, or says how long until one frees up. */
  async reserve(policy: ThrottlePolicy): Promise<Reservation> {
    const now = Date.now();
    this.sql.exec("DELETE FROM attempts WHERE at <= ?", windowStart(policy, now));
    const counted = this.sql
      .exec<{ count: number; oldest: number | null }>("SELECT COUNT(*) AS count, MIN(at) AS oldest FROM attempts")
      .one();
    if (counted.count >= policy.maxAttempts) {
      return { allowed: false, retryAfterSeconds: retryAfterSeconds(policy, counted.oldest ?? now, now) };
    }
    const attemptId = this.sql.exec<{ id: number }>("INSERT INTO attempts (at) VALUES (?) RETURNING id", now).one().id;
    // Clean up this object's storage once the window has passed with no new attempt.
    await this.ctx.storage.setAlarm(now + policy.windowMs + 1000);
    return { allowed: true, attemptId };
  }

  /** Gives back a slot that did not become a failed attempt. */
  release(attemptId: number): void {
    this.sql.exec("DELETE FROM attempts WHERE id = ?", attemptId);
  }

  /** Forgets every attempt (a successful login clears its identifier's counter). */
  clear(): void {
    this.sql.exec("DELETE FROM attempts");
  }

  override async alarm(): Promise<void> {
    await this.ctx.storage.deleteAll();
    this.createTable();
  }

  private createTable(): void {
    this.sql.exec("CREATE TABLE IF NOT EXISTS attempts (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL)");
  }
}
