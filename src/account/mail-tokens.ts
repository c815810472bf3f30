// Single-use tokens sent by mail: 256 random bits, stored as SHA-256, short-lived, and
// rate-limited per address by the user's authority. Consuming one is a single
// conditional UPDATE, so two racing uses cannot both succeed.
import { randomToken, sha256 } from "../lib/crypto";
import type { AuthorityClient } from "../sessions/authority-client";

export type MailPurpose = "verify_email" | "password_reset";

export const TOKEN_LIFETIME_MS: Record<MailPurpose, number> = {
  verify_email: 24 * 60 * 60 * 1000,
  password_reset: 30 * 60 * 1000,
};

/** At most this many tokens per address and purpose per hour. */
export const MAX_TOKENS_PER_HOUR = 3;

export type IssueResult = { status: "issued"; token: string } | { status: "rate_limited"; retryAfterSeconds: number } | { status: "gone" };

/**
 * A new mailed token, counted first by the user's authority (the exact cap of
 * MAX_TOKENS_PER_HOUR per address and purpose, also under concurrent requests); D1
 * only keeps the token's hash for its single use.
 */
export async function issueMailToken(
  db: D1Database,
  authority: AuthorityClient,
  input: { userId: string; email: string; purpose: MailPurpose },
): Promise<IssueResult> {
  const slot = await authority.takeMailSlot(input.purpose, input.email, MAX_TOKENS_PER_HOUR);
  if (slot.status !== "allowed") return slot;
  const now = Date.now();
  const token = randomToken(32);
  await db
    .prepare("INSERT INTO mail_tokens (token_hash, user_id, purpose, email, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)")
    .bind(
      await sha256(token),
      input.userId,
      input.purpose,
      input.email,
      new Date(now).toISOString(),
      new Date(now + TOKEN_LIFETIME_MS[input.purpose]).toISOString(),
    )
    .run();
  return { status: "issued", token };
}

/** Marks the token used and returns its owner; null when unknown, expired or already used. */
export async function consumeMailToken(
  db: D1Database,
  token: string,
  purpose: MailPurpose,
): Promise<{ userId: string; email: string } | null> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
  const now = new Date().toISOString();
  const row = await db
    .prepare(
      `UPDATE mail_tokens SET used_at = ?
       WHERE token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?
       RETURNING user_id, email`,
    )
    .bind(now, await sha256(token), purpose, now)
    .first<{ user_id: string; email: string }>();
  return row === null ? null : { userId: row.user_id, email: row.email };
}

/** Whose a live token is, without using it (the verification page shows which account it verifies); null when not live. */
export async function peekMailToken(
  db: D1Database,
  token: string,
  purpose: MailPurpose,
): Promise<{ userId: string; email: string } | null> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
  const row = await db
    .prepare("SELECT user_id, email FROM mail_tokens WHERE token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?")
    .bind(await sha256(token), purpose, new Date().toISOString())
    .first<{ user_id: string; email: string }>();
  return row === null ? null : { userId: row.user_id, email: row.email };
}

/**
 * Uses up every live verification link of the user: once the address is verified,
 * disowned or reset, an older link must not be answered again (a "this wasn't me" on a
 * link the account's owner never used would lock them out).
 */
export async function retireVerificationLinks(db: D1Database, userId: string): Promise<void> {
  await db
    .prepare("UPDATE mail_tokens SET used_at = ? WHERE user_id = ? AND purpose = 'verify_email' AND used_at IS NULL")
    .bind(new Date().toISOString(), userId)
    .run();
}

/** The statement that deletes the user's mailed tokens (account deletion). */
export function mailTokenDeletion(d1: D1Database, userId: string): D1PreparedStatement {
  return d1.prepare("DELETE FROM mail_tokens WHERE user_id = ?").bind(userId);
}

/** Deletes tokens that expired over a day ago (the scheduled clean-up). */
export async function purgeExpiredMailTokens(d1: D1Database): Promise<number> {
  const dayAgo = new Date(Date.now() - 86_400_000).toISOString();
  const result = await d1.prepare("DELETE FROM mail_tokens WHERE expires_at < ?").bind(dayAgo).run();
  return result.meta.changes ?? 0;
}
