// Sign-ins waiting at the MFA gate, in the user's authority: the session the first factor
// asked for (without its secrets: new ones are made when the second factor arrives), what
// to answer, 5 minutes to finish, and at most 5 wrong second factors per mfa_token.
import { constantTimeEqual } from "../lib/crypto";
import type { AuthorityState } from "./state";
import type { NewSession, SignInAnswer } from "./types";

export const MFA_TOKEN_TTL_MS = 5 * 60_000;
export const MFA_TOKEN_MAX_ATTEMPTS = 5;

/** What the first factor asked for, kept while the second is awaited. */
export type PendingSession = Omit<NewSession, "id" | "secretHash" | "csrfHash" | "mfa">;

export interface Pending {
  session: PendingSession;
  answer: SignInAnswer;
  attempts: number;
}

type PendingRow = { token_hash: string; session: string; answer: string; expires_at: number; attempts: number };

export function savePending(state: AuthorityState, input: NewSession, now: number): void {
  const { id: _id, secretHash: _secret, csrfHash: _csrf, mfa, ...session } = input;
  state.saveUser(input.user);
  state.sql.exec("DELETE FROM mfa_pending WHERE expires_at <= ?", now);
  state.sql.exec(
    "INSERT INTO mfa_pending (id, token_hash, session, answer, expires_at) VALUES (?, ?, ?, ?, ?)",
    mfa.id,
    mfa.tokenHash,
    JSON.stringify(session),
    JSON.stringify(mfa.answer),
    now + MFA_TOKEN_TTL_MS,
  );
}

/**
 * The pending sign-in an mfa_token names, if it is live and the token's secret matches.
 * `counted`: this request's attempt is already counted (it may be the last one allowed).
 */
export function loadPending(sql: SqlStorage, id: string, tokenHash: string, now: number, counted = false): Pending | null {
  const row = sql.exec<PendingRow>("SELECT * FROM mfa_pending WHERE id = ?", id).toArray()[0];
  if (row === undefined || !constantTimeEqual(row.token_hash, tokenHash)) return null;
  if (row.expires_at <= now) {
    sql.exec("DELETE FROM mfa_pending WHERE id = ?", id);
    return null;
  }
  // Spent, but kept until it expires: attempts already counted (in flight) must still find it.
  if (!counted && row.attempts >= MFA_TOKEN_MAX_ATTEMPTS) return null;
  return { session: JSON.parse(row.session) as PendingSession, answer: JSON.parse(row.answer) as SignInAnswer, attempts: row.attempts };
}

/** Counts one attempt against the token before its proof is checked. */
export function countAttempt(sql: SqlStorage, id: string): void {
  sql.exec("UPDATE mfa_pending SET attempts = attempts + 1 WHERE id = ?", id);
}

export function dropPending(sql: SqlStorage, id: string): void {
  sql.exec("DELETE FROM mfa_pending WHERE id = ?", id);
}
