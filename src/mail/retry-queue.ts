// Mail that failed to send, retried across invocations: a D1 table (mail_retry) the cron
// drains. Chosen over Cloudflare Queues: it needs no resource beyond the database the
// service already has, works the same in `wrangler dev` and the tests, and a mailed link
// must not outlive its token anyway (an hour), so a day of retries is all it needs.
// Each message is sealed (lib/secret-box.ts): a reset link in it is a credential.
import { type BoxKey, open, seal } from "../lib/secret-box";
import { utf8 } from "../lib/encoding";
import type { MailMessage } from "./mailer";

const CONTEXT = "mail-retry";
/** Tries after the first failure: 5, 10, 20 ... minutes apart, 8 in all (about 21 hours). */
export const MAX_ATTEMPTS = 8;
const FIRST_DELAY_MS = 5 * 60_000;
/** A drain holds the rows it took for this long: another drain does not send them meanwhile. */
const LEASE_MS = 10 * 60_000;
const BATCH = 25;
const DEAD_KEPT_MS = 7 * 86_400_000;

export async function keepForRetry(d1: D1Database, keys: readonly BoxKey[], message: MailMessage): Promise<void> {
  const box = await seal(keys, utf8(JSON.stringify(message)), CONTEXT);
  const now = Date.now();
  await d1
    .prepare("INSERT INTO mail_retry (id, box, attempts, next_at, created_at) VALUES (?, ?, 0, ?, ?)")
    .bind(crypto.randomUUID(), box, now + FIRST_DELAY_MS, now)
    .run();
}

export interface DrainResult {
  sent: number;
  retried: number;
  dead: number;
}

/** Sends what is due (at most BATCH), taking each row under a lease first so two drains never send one twice. */
export async function drainRetries(
  d1: D1Database,
  keys: readonly BoxKey[],
  send: (message: MailMessage) => Promise<void>,
  now: number = Date.now(),
): Promise<DrainResult> {
  const { results } = await d1
    .prepare(
      `UPDATE mail_retry SET next_at = ? WHERE id IN (SELECT id FROM mail_retry WHERE next_at IS NOT NULL AND next_at <= ? ORDER BY next_at LIMIT ?)
       RETURNING id, box, attempts`,
    )
    .bind(now + LEASE_MS, now, BATCH)
    .all<{ id: string; box: string; attempts: number }>();
  const result: DrainResult = { sent: 0, retried: 0, dead: 0 };
  for (const row of results) {
    const plain = await open(keys, row.box, CONTEXT);
    const message = plain === null ? null : (JSON.parse(new TextDecoder().decode(plain)) as MailMessage);
    try {
      if (message === null) throw new Error("unreadable mail box");
      await send(message);
      await d1.prepare("DELETE FROM mail_retry WHERE id = ?").bind(row.id).run();
      result.sent += 1;
    } catch {
      const attempts = row.attempts + 1;
      const dead = attempts >= MAX_ATTEMPTS || message === null;
      const nextAt = dead ? null : now + FIRST_DELAY_MS * 2 ** attempts;
      await d1.prepare("UPDATE mail_retry SET attempts = ?, next_at = ? WHERE id = ?").bind(attempts, nextAt, row.id).run();
      if (dead) result.dead += 1;
      else result.retried += 1;
    }
  }
  return result;
}

/** Dead messages older than a week go (the daily clean-up). */
export async function purgeDeadMail(d1: D1Database, now: number = Date.now()): Promise<number> {
  const result = await d1
    .prepare("DELETE FROM mail_retry WHERE next_at IS NULL AND created_at < ?")
    .bind(now - DEAD_KEPT_MS)
    .run();
  return result.meta.changes ?? 0;
}
