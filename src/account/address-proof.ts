// Proving an address, as the Worker runs it: email verification (confirmed signed in or
// not), "this wasn't me", and the proof a password reset makes (account-service.ts).
// The user's authority decides what a proof ends (user-authority/address-proof.ts);
// D1 records the outcome afterwards, so a failure in between leaves the account
// unproven (fail closed), never proven with a pre-hijacker's credentials still working.
import { type ProofDeps, proveAddress } from "../auth/prove-address";
import { recordEventLater } from "../events/event-log";
import { ApiError } from "../http/errors";
import { authorityFor } from "../sessions/authority-client";
import { findUserById, publicUser } from "../users/user-store";
import { markEmailVerified } from "../users/user-credentials";
import type { UserRow } from "../db/schema";
import type { PublicUser } from "../users/user-view";
import { consumeMailToken, peekMailToken, retireVerificationLinks } from "./mail-tokens";

/** The live verification link's account, or null (unknown, used, expired, or the account's address changed). */
async function linkAccount(deps: ProofDeps, owner: { userId: string; email: string } | null): Promise<UserRow | null> {
  if (owner === null) return null;
  const row = await findUserById(deps.db, owner.userId);
  return row === null || row.emailNormalized !== owner.email ? null : row;
}

/** What the verification page shows before anyone confirms: which account the link verifies. */
export async function verificationDetails(
  deps: ProofDeps,
  token: string,
  signedInAs: string | null,
): Promise<{ email: string; username: string | null; name: string | null; created_at: string; signed_in: boolean } | null> {
  const row = await linkAccount(deps, await peekMailToken(deps.d1, token, "verify_email"));
  if (row === null) return null;
  return { email: row.email, username: row.username, name: row.name, created_at: row.createdAt, signed_in: signedInAs === row.id };
}

/**
 * Verifies the address. Confirmed with a session or token of the account itself
 * (`signedInAs`), the credential holder proved it: the authority records it, and an
 * ADMIN_EMAILS address becomes a superuser. Confirmed by anyone else, whoever clicked
 * holds the mailbox but may not be whoever made the account (a pre-hijacker holding the
 * password): the address is verified for mail, and nothing is promoted or bound, so a
 * later reset by the mailbox's holder still ends everything made before it.
 */
export async function confirmEmailVerification(deps: ProofDeps, token: string, signedInAs: string | null): Promise<PublicUser | null> {
  const row = await linkAccount(deps, await consumeMailToken(deps.d1, token, "verify_email"));
  if (row === null) return null;
  const byHolder = signedInAs === row.id;
  if (byHolder && (await proveAddress(deps, row, "signed_in")) === null) return null;
  await retireVerificationLinks(deps.d1, row.id);
  const updated = await markEmailVerified(deps.db, row.id, deps.config.admin.emails, { byHolder, emailNormalized: row.emailNormalized });
  if (updated === null) return null;
  const user = await publicUser(deps.db, updated);
  await authorityFor(deps.authority, user.id).updateUser(user);
  return user;
}

/**
 * "This wasn't me": the mailbox's holder says they did not make this account. The link
 * is used up, every credential made so far ends, and the account is locked (no sign-in)
 * until a password reset, which only the mailbox's holder can do.
 */
export async function disownAddress(deps: ProofDeps, token: string): Promise<void> {
  const row = await linkAccount(deps, await consumeMailToken(deps.d1, token, "verify_email"));
  const effect = row === null ? null : await proveAddress(deps, row, "disowned");
  // An account whose holder proved the address cannot be disowned with a link.
  if (row === null || effect === null || effect.refused === true) {
    throw new ApiError("invalid_token", "This link is invalid, expired or already used");
  }
  await retireVerificationLinks(deps.d1, row.id);
  recordEventLater(deps, row.id, "account_locked", { reason: "address_disowned" });
}
