// The users table's credential columns: the password hash and its epoch, the verified
// and proven address, and the superuser flag an ADMIN_EMAILS address earns (user-store.ts
// keeps the rest of the row).
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { type UserRow, users } from "../db/schema";
import { normalizeEmail } from "./schemas";

/**
 * Replaces the password hash only if it is still `expectedHash` (the one just checked),
 * and advances the credential epoch in the same statement. Returns the new epoch, or
 * null when the hash changed meanwhile (a racing change or reset won).
 */
export async function replacePassword(db: Database, id: string, expectedHash: string, passwordHash: string): Promise<number | null> {
  const row = await db
    .update(users)
    .set({ passwordHash, credentialEpoch: sql`${users.credentialEpoch} + 1`, updatedAt: new Date().toISOString() })
    .where(and(eq(users.id, id), eq(users.passwordHash, expectedHash)))
    .returning({ epoch: users.credentialEpoch })
    .get();
  return row?.epoch ?? null;
}

/**
 * A password reset: sets the hash whatever it was, marks the address verified (the
 * mailed link proved it) and advances the credential epoch, in one statement, only
 * while the account still has the address the link was sent to. That the credential
 * holder proved the address is recorded after the user's authority has decided it
 * (recordAddressProven).
 */
export async function resetPassword(db: Database, id: string, emailNormalized: string, passwordHash: string): Promise<UserRow | null> {
  return (
    (await db
      .update(users)
      .set({
        passwordHash,
        emailVerified: true,
        credentialEpoch: sql`${users.credentialEpoch} + 1`,
        updatedAt: new Date().toISOString(),
      })
      .where(and(eq(users.id, id), eq(users.emailNormalized, emailNormalized)))
      .returning()
      .get()) ?? null
  );
}

/**
 * A stronger hash of the same password (after a login): written only over the exact
 * hash it upgrades, so it can never undo a password change that raced the login. The
 * epoch stays: the password is the same.
 */
export async function upgradePasswordHash(db: Database, id: string, oldHash: string, newHash: string): Promise<void> {
  await db
    .update(users)
    .set({ passwordHash: newHash })
    .where(and(eq(users.id, id), eq(users.passwordHash, oldHash)))
    .run();
}

/**
 * Marks the address verified. `byHolder`: the link was confirmed with a session or token
 * of this account, so the credential holder proved the address (recorded as for
 * recordAddressProven, in the same statement). A link confirmed by someone not signed in
 * proves the mailbox, not who made the account: it never promotes.
 */
export async function markEmailVerified(
  db: Database,
  id: string,
  adminEmails: readonly string[],
  options: { byHolder: boolean; emailNormalized: string },
): Promise<UserRow | null> {
  const values = options.byHolder ? provenValues(adminEmails) : { updatedAt: new Date().toISOString() };
  return (
    (await db
      .update(users)
      .set({ ...values, emailVerified: true })
      .where(and(eq(users.id, id), eq(users.emailNormalized, options.emailNormalized)))
      .returning()
      .get()) ?? null
  );
}

/**
 * Records that the account's credential holder proved the address (a reset, after the
 * user's authority ended what came before it); an ADMIN_EMAILS address becomes a
 * superuser in the same statement, so only a proven owner of the address ever is one.
 */
export async function recordAddressProven(
  db: Database,
  id: string,
  emailNormalized: string,
  adminEmails: readonly string[],
): Promise<UserRow | null> {
  // Only while the account still has the address that was proven (an admin may change it meanwhile).
  const proven = and(eq(users.id, id), eq(users.emailNormalized, emailNormalized));
  return (await db.update(users).set(provenValues(adminEmails)).where(proven).returning().get()) ?? null;
}

/**
 * A provider vouched for the address of an account whose holder never proved it: the
 * person signing in owns the address, and whoever set the password may not. The password
 * goes (its owner sets one by reset) and the credential epoch advances, before the
 * authority ends what else came before; the proof is recorded after it.
 */
export async function clearPasswordForClaim(db: Database, id: string): Promise<UserRow | null> {
  return (
    (await db
      .update(users)
      .set({ passwordHash: null, credentialEpoch: sql`${users.credentialEpoch} + 1`, updatedAt: new Date().toISOString() })
      .where(eq(users.id, id))
      .returning()
      .get()) ?? null
  );
}

function provenValues(adminEmails: readonly string[]) {
  return { addressProven: true, isSuperuser: promoteListed(adminEmails), updatedAt: new Date().toISOString() };
}

/** is_superuser after the address is verified: set for an ADMIN_EMAILS address, else unchanged. */
function promoteListed(adminEmails: readonly string[]) {
  if (adminEmails.length === 0) return sql`${users.isSuperuser}`;
  return sql`CASE WHEN ${inArray(users.emailNormalized, [...adminEmails])} THEN 1 ELSE ${users.isSuperuser} END`;
}

/**
 * An account whose address its credential holder proved before it was listed in
 * ADMIN_EMAILS becomes a superuser at its next password sign-in. Null when nothing changed.
 */
export async function promoteVerifiedListedAdmin(db: Database, row: UserRow, adminEmails: readonly string[]): Promise<UserRow | null> {
  if (row.isSuperuser || !row.addressProven || !adminEmails.includes(row.emailNormalized)) return null;
  return (
    (await db
      .update(users)
      .set({ isSuperuser: true, updatedAt: new Date().toISOString() })
      .where(and(eq(users.id, row.id), eq(users.addressProven, true), eq(users.emailNormalized, row.emailNormalized)))
      .returning()
      .get()) ?? null
  );
}

/** Whether a verified address makes its account a superuser (ADMIN_EMAILS). */
export function isListedAdmin(adminEmails: readonly string[], email: string): boolean {
  return adminEmails.includes(normalizeEmail(email));
}
