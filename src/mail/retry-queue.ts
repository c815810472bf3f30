// Mail that failed to send, retried across invocations: a D1 table (mail_retry) the cron
// drains. Chosen over Cloudflare Queues: it needs no resource beyond the database the
// service already has, works the same in `wrangler dev` and the tests, and a mailed link
// must not outlive its token anyway (an hour), so a day of retries is all it needs.
// Each message is sealed (lib/secret-box.ts): a reset link in it is a credential.
// Every message goes to an account's address: a row carries that account's id, so deleting
// the account drops its pending mail (mailRetryDeletion, in the deletion batch), and a
// message for an address that is no account's (any more) is not kept at all.
// At least once, but never again after a send that succeeded: a row is leased before it
// is sent, deleted after; if that delete fails, the row is marked sent instead. Only a
// drain that stops between the send and both writes leaves a lease that runs out and a
// second send (a reset link twice is better than never).
import { type BoxKey, open, seal } from "../lib/secret-box";
import { utf8 } from "../lib/encoding";
import { logError } from "../lib/log";
import { normalizeEmail } from "../users/schemas";
import type { MailMessage } from "./mailer";

const CONTEXT = "mail-retry";
/** Tries after the first failure: 5, 10, 20 ... minutes apart, 8 in all (about 21 hours). */
export const MAX_ATTEMPTS = 8;
const FIRST_DELAY_MS = 5 * 60_000;
/** A drain holds the rows it took for this long: another drain does not send them meanwhile. */
const LEASE_MS = 10 * 60_000;
const BATCH = 25;
const DEAD_KEPT_MS = 7 * 86_400_000;

/**
 * Keeps a message for the cron, under the account its address belongs to; false when the
 * address is no account's (deleted meanwhile): that mail is not kept. One statement, so
 * an account deletion either sees the row (and drops it) or leaves nothing to keep it for.
 */
export async function keepForRetry(d1: D1Database, keys: readonly BoxKey[], message: MailMessage): Promise<boolean> {
  const box = await seal(keys, utf8(JSON.stringify(message)), CONTEXT);
  const now = Date.now();
  const result = await d1
    .prepare(
      `INSERT INTO mail_retry (id, box, attempts, next_at, created_at, user_id)
       SELECT ?, ?, 0, ?, ?, id FROM users WHERE email_normalized = ?`,
    )
    .bind(crypto.randomUUID(), box, now + FIRST_DELAY_MS, now, normalizeEmail(message.to))
    .run();
  return (result.meta.changes ?? 0) > 0;
}

/** The statement that drops an account's pending mail (account deletion). */
export function mailRetryDeletion(d1: D1Database, userId: string): D1PreparedStatement {
  return d1.prepare("DELETE FROM mail_retry WHERE user_id = ?").bind(userId);
}

export interface DrainResult {
  sent: number;
  retried: number;
  dead: number;
}

/**
 * Sends what is due (at most BATCH), taking each row under a lease first so two drains
 * never send one twice. A failed send is tried again later; a sent one never is.
 */
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
    } catch {
      const attempts = row.attempts + 1;
      const dead = attempts >= MAX_ATTEMPTS || message === null;
      const nextAt = dead ? null : now + FIRST_DELAY_MS * 2 ** attempts;
      await d1.prepare("UPDATE mail_retry SET attempts = ?, next_at = ? WHERE id = ?").bind(attempts, nextAt, row.id).run();
      if (dead) result.dead += 1;
      else result.retried += 1;
      continue;
    }
    result.sent += 1;
    await settle(d1, row.id, now);
  }
  return result;
}

/**
 * A sent row leaves the queue. When its delete fails, it is marked sent (no next try, the
 * sealed message dropped) so the next drain does not send it again; the daily clean-up
 * deletes it. Only when both fail does its lease run out and the mail go out twice.
 */
async function settle(d1: D1Database, id: string, now: number): Promise<void> {
  try {
    await d1.prepare("DELETE FROM mail_retry WHERE id = ?").bind(id).run();
    return;
  } catch (error) {
    logError("mail_retry_settle_failed", error, { step: "delete" });
  }
  try {
    await d1.prepare("UPDATE mail_retry SET next_at = NULL, sent_at = ?, box = '' WHERE id = ?").bind(now, id).run();
  } catch (error) {
    logError("mail_retry_settle_failed", error, { step: "mark_sent" });
  }
}

/** Dead messages older than a week go, and sent ones whose delete had failed (the daily clean-up). */
export async function purgeDeadMail(d1: D1Database, now: number = Date.now()): Promise<number> {
  const result = await d1
    .prepare("DELETE FROM mail_retry WHERE next_at IS NULL AND (sent_at IS NOT NULL OR created_at < ?)")
    .bind(now - DEAD_KEPT_MS)
    .run();
  return result.meta.changes ?? 0;
}
