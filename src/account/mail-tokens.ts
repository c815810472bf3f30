// Single-use tokens sent by mail: 256 random bits, stored as SHA-256, short-lived, and
// rate-limited per address. Consuming one is a single conditional UPDATE, so two
// racing uses cannot both succeed.
import { randomToken, sha256 } from "../lib/crypto";

export type MailPurpose = "verify_email" | "password_reset";

export const TOKEN_LIFETIME_MS: Record<MailPurpose, number> = {
  verify_email: 24 * 60 * 60 * 1000,
  password_reset: 30 * 60 * 1000,
};

/** At most this many tokens per address and purpose per hour. */
export const MAX_TOKENS_PER_HOUR = 3;

export type IssueResult = { status: "issued"; token: string } | { status: "rate_limited"; retryAfterSeconds: number };

export async function issueMailToken(
  db: D1Database,
  input: { userId: string; email: string; purpose: MailPurpose },
): Promise<IssueResult> {
  const now = Date.now();
  const hourAgo = new Date(now - 3_600_000).toISOString();
  const recent = await db
    .prepare(
      "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM mail_tokens WHERE email = ? AND purpose = ? AND created_at > ?",
    )
    .bind(input.email, input.purpose, hourAgo)
    .first<{ n: number; oldest: string | null }>();
  if ((recent?.n ?? 0) >= MAX_TOKENS_PER_HOUR) {
    const oldest = Date.parse(recent?.oldest ?? new Date(now).toISOString());
    return { status: "rate_limited", retryAfterSeconds: Math.max(1, Math.ceil((oldest + 3_600_000 - now) / 1000)) };
  }
  const token = randomToken(32);
  await db
    .prepare(
      "INSERT INTO mail_tokens (token_hash, user_id, purpose, email, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
    )
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
