// The development outbox (MAIL_PROVIDER=dev): the D1 table mail_outbox, written by the
// dev mailer, read by GET /api/v1/dev/outbox, and trimmed by the scheduled clean-up.
import type { MailMessage } from "./mailer";

export interface OutboxItem {
  to: string;
  subject: string;
  body: string;
  created_at: string;
}

export async function writeOutbox(d1: D1Database, message: MailMessage): Promise<void> {
  await d1
    .prepare("INSERT INTO mail_outbox (id, to_address, subject, body, created_at) VALUES (?, ?, ?, ?, ?)")
    .bind(crypto.randomUUID(), message.to.toLowerCase(), message.subject, message.text, new Date().toISOString())
    .run();
}

/** The newest 50 messages, for one address or all. */
export async function readOutbox(d1: D1Database, to: string | undefined): Promise<OutboxItem[]> {
  const columns = "SELECT to_address, subject, body, created_at FROM mail_outbox";
  const statement =
    to === undefined
      ? d1.prepare(`${columns} ORDER BY created_at DESC LIMIT 50`)
      : d1.prepare(`${columns} WHERE to_address = ? ORDER BY created_at DESC LIMIT 50`).bind(to.toLowerCase());
  const { results } = await statement.all<{ to_address: string; subject: string; body: string; created_at: string }>();
  return results.map((row) => ({ to: row.to_address, subject: row.subject, body: row.body, created_at: row.created_at }));
}

/** Deletes messages older than a week. */
export async function purgeOutbox(d1: D1Database): Promise<number> {
  const weekAgo = new Date(Date.now() - 7 * 86_400_000).toISOString();
  const result = await d1.prepare("DELETE FROM mail_outbox WHERE created_at < ?").bind(weekAgo).run();
  return result.meta.changes ?? 0;
}
