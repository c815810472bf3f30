// One-time codes for mobile apps: after an OAuth login the app gets a code (never a
// token) in its redirect URI, and exchanges it at POST /auth/token with the PKCE
// verifier it made at the start. Codes live 2 minutes and work once.
import { constantTimeEqual, randomToken, sha256 } from "../lib/crypto";
import { toBase64Url, utf8 } from "../lib/encoding";

const CODE_LIFETIME_MS = 2 * 60 * 1000;

/**
 * A new code. `madeAt`: when the credential the callback rested on was made (the
 * provider link), so that a code can never outlive a proof of the address that came
 * after that link.
 */
export async function issueAppCode(
  d1: D1Database,
  input: { userId: string; redirectUri: string; codeChallenge: string; madeAt: number },
): Promise<string> {
  const code = randomToken(32);
  const now = Date.now();
  await d1
    .prepare(
      "INSERT INTO oauth_codes (code_hash, user_id, redirect_uri, code_challenge, created_at, expires_at, made_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(
      await sha256(code),
      input.userId,
      input.redirectUri,
      input.codeChallenge,
      new Date(now).toISOString(),
      new Date(now + CODE_LIFETIME_MS).toISOString(),
      new Date(Math.min(now, input.madeAt)).toISOString(),
    )
    .run();
  return code;
}

/** The user the code was issued for and when its credential was made, or null (unknown, used, expired, wrong redirect URI or verifier). */
export async function redeemAppCode(
  d1: D1Database,
  input: { code: string; codeVerifier: string; redirectUri: string },
): Promise<{ userId: string; madeAt: number } | null> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(input.code)) return null;
  const row = await d1
    .prepare("DELETE FROM oauth_codes WHERE code_hash = ? RETURNING user_id, redirect_uri, code_challenge, created_at, expires_at, made_at")
    .bind(await sha256(input.code))
    .first<{
      user_id: string;
      redirect_uri: string;
      code_challenge: string;
      created_at: string;
      expires_at: string;
      made_at: string | null;
    }>();
  if (row === null || Date.parse(row.expires_at) <= Date.now() || row.redirect_uri !== input.redirectUri) return null;
  if (!constantTimeEqual(await s256(input.codeVerifier), row.code_challenge)) return null;
  return { userId: row.user_id, madeAt: Date.parse(row.made_at ?? row.created_at) };
}

export async function s256(verifier: string): Promise<string> {
  return toBase64Url(new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(verifier))));
}

/** The statement that deletes the user's unredeemed app codes (account deletion). */
export function appCodeDeletion(d1: D1Database, userId: string): D1PreparedStatement {
  return d1.prepare("DELETE FROM oauth_codes WHERE user_id = ?").bind(userId);
}

/** Deletes app codes never redeemed, once expired (the scheduled clean-up). */
export async function purgeExpiredAppCodes(d1: D1Database, now: number = Date.now()): Promise<number> {
  const result = await d1.prepare("DELETE FROM oauth_codes WHERE expires_at < ?").bind(new Date(now).toISOString()).run();
  return result.meta.changes ?? 0;
}
