// Passwordless sign-in by mail, decided by the user's authority: a magic link (single use,
// bound to the browser that asked for it unless told otherwise) and a 6-digit code (single
// use; CODE_ATTEMPTS wrong entries and it dies; a new code ends the old one). Issued and
// used here, in order with everything else about the user: racing uses sign in once,
// racing wrong codes kill the code exactly at its limit, and a link or code racing a
// password reset or change (a newer credential epoch), a deletion or a disable opens
// nothing afterwards.
//
// Using one proves the address (the sign-in's holder reads its mail): on an account whose
// credential holder had not proven it, everything made before ends as a reset would end
// it (address-proof.ts), and the password set before goes too: the credential epoch
// advances here, so it signs in no more, and the Worker clears it in D1.
import { constantTimeEqual } from "../lib/crypto";
import { type ProofEffect, proveAddress } from "./address-proof";
import type { AuthorityParts } from "./parts";
import type { SessionOps } from "./session-ops";
import type { NewSession, SessionCreation, SignInKind } from "./types";

const NOTHING_PROVEN: ProofEffect = { provenAt: null, ended: [], keyIds: [], factorsRemoved: 0 };

/** Wrong entries a code survives before it dies. */
export const CODE_ATTEMPTS = 5;
/** Live links kept per user (the oldest goes first). */
const MAX_LINKS = 5;

/** A mailed sign-in as the authority keeps it. */
export interface EmailSignInGrant {
  kind: "link" | "code";
  /** A link's id (the token's id part); a code's is always "code": one lives at a time. */
  id: string;
  secretHash: string;
  /** The address it is mailed to (normalized). */
  email: string;
  expiresAt: number;
  /** What it opens: a cookie session, or a token family (transport "token"). */
  transport: SignInKind;
  /** SHA-256 of the binding cookie of the browser that asked (MAGIC_LINK_SAME_BROWSER); null: any browser. */
  browserHash: string | null;
  redirectTo: string | null;
  /** Kept for a sign-up (PASSWORDLESS_SIGNUP): refused where an account already lives. */
  signUp?: boolean;
}

/** What the request to sign in presents. */
export type EmailProof = (
  { kind: "link"; id: string; secretHash: string; browserHash: string | null } | { kind: "code"; secretHash: string }
) & {
  /** The account's address now (normalized): a link or code mailed to another one opens nothing. */
  email: string;
};

export type EmailSignIn =
  /** bound: the address is its credential holder's now (proven by this use, or before): D1 may record it as proven. */
  | (SessionCreation & { proof: ProofEffect | null; redirectTo: string | null; bound: boolean })
  | { status: "invalid" }
  | { status: "disabled" }
  /** A bound link opened in another browser: nothing is used; the original browser can still use it. */
  | { status: "other_browser" };

type GrantRow = {
  id: string;
  kind: "link" | "code";
  secret_hash: string;
  browser_hash: string | null;
  transport: SignInKind;
  redirect_to: string | null;
  epoch: number;
  expires_at: number;
  attempts: number;
  email: string;
};

/**
 * Finds the link or code a proof presents and uses it up (inside a transaction): a wrong
 * code is counted (the CODE_ATTEMPTS-th kills it), a bound link opened in another browser
 * is left as it was, a link opens only what it was asked for.
 */
function useGrant(
  sql: SqlStorage,
  proof: EmailProof,
  kind: SignInKind,
  now: number,
): { status: "invalid" } | { status: "absent" } | { status: "other_browser" } | { status: "used"; row: GrantRow } {
  const row =
    proof.kind === "link"
      ? sql.exec<GrantRow>("SELECT * FROM email_sign_ins WHERE id = ? AND kind = 'link'", proof.id).toArray()[0]
      : sql.exec<GrantRow>("SELECT * FROM email_sign_ins WHERE kind = 'code'").toArray()[0];
  if (row === undefined) return { status: "absent" };
  if (row.expires_at <= now) return { status: "invalid" };
  if (!constantTimeEqual(row.secret_hash, proof.secretHash)) {
    if (row.kind === "code") {
      // Counted before anything else: the CODE_ATTEMPTS-th wrong entry is the last.
      if (row.attempts + 1 >= CODE_ATTEMPTS) sql.exec("DELETE FROM email_sign_ins WHERE id = ?", row.id);
      else sql.exec("UPDATE email_sign_ins SET attempts = attempts + 1 WHERE id = ?", row.id);
    }
    return { status: "invalid" };
  }
  if (proof.kind === "link" && row.browser_hash !== null && !constantTimeEqual(row.browser_hash, proof.browserHash ?? "")) {
    return { status: "other_browser" };
  }
  // A link opens what it was asked for; a code, what its use asks for.
  if (row.kind === "link" && row.transport !== kind) return { status: "invalid" };
  sql.exec("DELETE FROM email_sign_ins WHERE id = ?", row.id);
  return { status: "used", row };
}

/**
 * PASSWORDLESS_SIGNUP: uses a link or code kept by the authority of an account not made
 * yet (its id derived from the address: account/email-sign-in.ts). Once only, also under
 * concurrency; the Worker then makes the account with this id and opens its session.
 * `proof.email`: a code's address (a link's is the one it was mailed to).
 */
export function takeSignUp(
  p: AuthorityParts,
  proof: EmailProof,
  kind: SignInKind,
): { status: "invalid" | "other_browser" | "absent" } | { status: "sign_up"; email: string; redirectTo: string | null } {
  // absent: nothing kept here (a code's caller tries the hour before; a wrong code is "invalid").
  if (p.schema.blank) return { status: "absent" };
  const { state } = p;
  return p.ctx.storage.transactionSync(() => {
    const used = useGrant(state.sql, proof, kind, Date.now());
    if (used.status !== "used") return used;
    // An account already lives here (made by an earlier use), or this one was deleted: not a sign-up.
    if (state.loadUser() !== null || state.isDeleted()) return { status: "invalid" } as const;
    if (proof.kind === "code" && used.row.email !== proof.email) return { status: "invalid" } as const;
    return { status: "sign_up", email: used.row.email, redirectTo: used.row.redirect_to } as const;
  });
}

/** Keeps a new link or code; false when the account is gone. */
export function issueEmailSignIn(p: AuthorityParts, grant: EmailSignInGrant): boolean {
  const { state } = p;
  if (state.isDeleted() || (grant.signUp === true && state.loadUser() !== null)) return false;
  const now = Date.now();
  p.ctx.storage.transactionSync(() => {
    state.sql.exec("DELETE FROM email_sign_ins WHERE expires_at <= ?", now);
    if (grant.kind === "code") state.sql.exec("DELETE FROM email_sign_ins WHERE kind = 'code'");
    else {
      state.sql.exec(
        "DELETE FROM email_sign_ins WHERE id IN (SELECT id FROM email_sign_ins WHERE kind = 'link' ORDER BY expires_at DESC LIMIT -1 OFFSET ?)",
        MAX_LINKS - 1,
      );
    }
    state.sql.exec(
      `INSERT INTO email_sign_ins (id, kind, secret_hash, browser_hash, transport, redirect_to, epoch, expires_at, attempts, email)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)`,
      grant.kind === "code" ? "code" : grant.id,
      grant.kind,
      grant.secretHash,
      grant.browserHash,
      grant.transport,
      grant.redirectTo,
      state.epoch(),
      grant.expiresAt,
      grant.email,
    );
  });
  return true;
}

/**
 * Uses a link or code and opens what it was asked for (`input`, one factor: the MFA gate
 * applies). `bound`: D1's record that the address was proven before; `knownKeyIds`: the
 * user's keys D1 knows (for the proof, as proveAddress takes them).
 */
export async function emailSignIn(
  p: AuthorityParts,
  sessions: SessionOps,
  input: NewSession,
  maxSessions: number,
  proof: EmailProof,
  record: { boundInRecord: boolean; knownKeyIds: string[] },
): Promise<EmailSignIn> {
  if (p.schema.blank) return { status: "invalid" };
  const { state, factors } = p;
  const now = Date.now();
  const decided = p.ctx.storage.transactionSync(() => {
    const sql = state.sql;
    const used = useGrant(sql, proof, input.kind, now);
    if (used.status === "absent") return { status: "invalid" } as const;
    if (used.status !== "used") return used;
    const row = used.row;
    // A reset or password change since it was sent (a newer epoch), the account gone, or
    // its address changed since (mailed to the old one): nothing opens.
    if (state.isDeleted() || row.epoch < state.epoch() || row.email !== proof.email) return { status: "invalid" } as const;
    if (state.isDisabled()) return { status: "disabled" } as const;
    // An unproven account with a second factor keeps it: the sign-in meets the MFA gate,
    // as a provider's claim does (a 6-digit code is never enough to remove a factor; the
    // address's owner ends a squatter's factor with a password reset).
    const keepsFactors = state.getMeta("address_owner") === null && !record.boundInRecord && factors.hasActive();
    const effect = keepsFactors ? NOTHING_PROVEN : proveAddress(state, factors, "email", { ...record, now });
    let epoch = state.epoch();
    if (effect.provenAt !== null) {
      // The password set before the proof signs in no more: a newer epoch here, and D1's
      // password cleared by the proof's cleanup (retried by the alarm until it lands).
      epoch += 1;
      state.setMeta("epoch", String(epoch));
      sql.exec("UPDATE proof_cleanup SET password_epoch = ? WHERE id = (SELECT MAX(id) FROM proof_cleanup)", epoch);
    }
    return { status: "used", effect, epoch, redirectTo: row.redirect_to } as const;
  });
  if (decided.status !== "used") return decided.status === "disabled" ? { status: "disabled" } : { status: decided.status };
  const { effect, epoch } = decided;
  const created = await sessions.createSession({ ...input, credentialEpoch: Math.max(input.credentialEpoch, epoch) }, maxSessions);
  if (effect.provenAt !== null) await p.afterProof(effect);
  const bound = state.getMeta("address_owner") !== null;
  return { ...created, proof: effect.provenAt === null ? null : effect, redirectTo: decided.redirectTo, bound };
}
