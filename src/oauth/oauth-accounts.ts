// Provider identities linked to users, and the rule that decides which user an OAuth
// login signs in: the linked identity; else the signed-in user who asked to link; else
// an account with the same email, but only when the provider says the email is
// verified *and* the account's email is verified; else a new account.
import { and, eq, sql } from "drizzle-orm";
import { type Database, asStatement } from "../db/client";
import { type UserRow, oauthAccounts, users } from "../db/schema";
import { checkEmail } from "../lib/email-address";
import { normalizeEmail } from "../users/schemas";
import { findUserById, insertUser } from "../users/user-store";
import { isListedAdmin } from "../users/user-credentials";
import type { ProviderIdentity } from "./providers/provider";

export type Resolution =
  /** `linkedAt`: when the identity was linked (a sign-in through a link from before a proof of the address opens nothing). */
  | { status: "existing"; user: UserRow; linkedAt: number; providers: string[] }
  /**
   * The provider vouches for the address of an account whose credential holder never
   * proved it: the sign-in proves it (claimAccount), and only then is the identity linked.
   */
  | { status: "claim"; user: UserRow }
  | { status: "linked"; user: UserRow }
  | { status: "created"; user: UserRow }
  | { status: "account_exists" }
  | { status: "failed"; reason: string };

/** The account an identity is linked to (null: none; `user` null: the account is gone), with its providers, in one read. */
export interface LinkedAccount {
  userId: string;
  createdAt: string;
  user: UserRow | null;
  providers: string[];
}

export async function findLinkedAccount(db: Database, provider: string, providerUserId: string): Promise<LinkedAccount | null> {
  // The link and its account in one read, so the account's credential epoch is the one
  // that stood while the link did.
  const links = sql<string>`(SELECT json_group_array(json_array(a.provider, a.created_at)) FROM oauth_accounts a WHERE a.user_id = ${oauthAccounts.userId})`;
  const linked = await db
    .select({ userId: oauthAccounts.userId, createdAt: oauthAccounts.createdAt, user: users, links })
    .from(oauthAccounts)
    .leftJoin(users, eq(users.id, oauthAccounts.userId))
    .where(and(eq(oauthAccounts.provider, provider), eq(oauthAccounts.providerUserId, providerUserId)))
    .get();
  if (linked === undefined) return null;
  // Oldest link first, each provider once, as publicUser lists them.
  const sorted = (JSON.parse(linked.links) as [provider: string, createdAt: string][]).sort((a, b) => a[1].localeCompare(b[1]));
  return { userId: linked.userId, createdAt: linked.createdAt, user: linked.user, providers: [...new Set(sorted.map(([name]) => name))] };
}

/** Which user a login signs in. `linked`: findLinkedAccount's answer for this identity (read beside the state). */
export async function resolveOAuthUser(
  db: Database,
  provider: string,
  identity: ProviderIdentity,
  linkUserId: string | null,
  linked: LinkedAccount | null,
  adminEmails: readonly string[] = [],
): Promise<Resolution> {
  if (linked !== null) {
    if (linkUserId !== null && linked.userId !== linkUserId) return { status: "account_exists" };
    if (linked.user === null) return { status: "failed", reason: "account_missing" };
    return { status: "existing", user: linked.user, linkedAt: Date.parse(linked.createdAt), providers: linked.providers };
  }

  if (linkUserId !== null) {
    const user = await findUserById(db, linkUserId);
    if (user === null) return { status: "failed", reason: "account_missing" };
    await link(db, provider, identity, user.id);
    return { status: "linked", user };
  }

  if (identity.email === null) return { status: "failed", reason: "no_email" };
  // The same rules as an address typed at registration: no lookalike or invisible spelling.
  if (!checkEmail(identity.email).ok) return { status: "failed", reason: "invalid_email" };
  const byEmail = await db
    .select()
    .from(users)
    .where(eq(users.emailNormalized, normalizeEmail(identity.email)))
    .get();
  if (byEmail !== undefined) {
    // Never hand an account to someone who only claims its address.
    if (!identity.emailVerified || !byEmail.emailVerified) return { status: "account_exists" };
    // Verified by a click nobody can tie to whoever made the account (perhaps someone who
    // registered another person's address): the vouched sign-in claims it first.
    if (!byEmail.addressProven) return { status: "claim", user: byEmail };
    await link(db, provider, identity, byEmail.id);
    return { status: "linked", user: byEmail };
  }

  // An address the provider does not vouch for never makes an account: its holder would
  // keep a way into an account that the address's real owner later claims by reset.
  if (!identity.emailVerified) return { status: "failed", reason: "email_not_verified" };
  const created = await insertUser(db, {
    email: identity.email,
    username: null,
    name: identity.name?.slice(0, 100) ?? null,
    passwordHash: null,
    emailVerified: true,
    // The provider vouched for the address to whoever signs in with it: the credential
    // holder proved it, and an ADMIN_EMAILS address is an admin at once.
    addressProven: true,
    isSuperuser: isListedAdmin(adminEmails, identity.email),
  });
  if (created === "email_taken" || created === "username_taken") return { status: "account_exists" };
  await link(db, provider, identity, created.id);
  return { status: "created", user: created };
}

export async function link(db: Database, provider: string, identity: ProviderIdentity, userId: string): Promise<void> {
  await db
    .insert(oauthAccounts)
    .values({
      provider,
      providerUserId: identity.providerUserId,
      userId,
      email: identity.email,
      createdAt: new Date().toISOString(),
    })
    .onConflictDoNothing()
    .run();
}

/** Removes one identity's link (a link whose session ended while it was being made). */
export async function dropLink(db: Database, userId: string, provider: string, providerUserId: string): Promise<void> {
  await db
    .delete(oauthAccounts)
    .where(and(eq(oauthAccounts.userId, userId), eq(oauthAccounts.provider, provider), eq(oauthAccounts.providerUserId, providerUserId)))
    .run();
}

export type Unlink = "unlinked" | "not_linked" | "last_method";

/**
 * Removes the user's identities at `provider`, in one statement that also checks the
 * account keeps a way to sign in (a password or another provider), so two racing
 * unlinks can never leave an account nobody can enter.
 */
export async function unlinkProvider(db: Database, userId: string, provider: string): Promise<Unlink> {
  const removed = await db.run(sql`
    DELETE FROM oauth_accounts WHERE user_id = ${userId} AND provider = ${provider}
      AND (EXISTS (SELECT 1 FROM users WHERE id = ${userId} AND password_hash IS NOT NULL)
        OR EXISTS (SELECT 1 FROM oauth_accounts WHERE user_id = ${userId} AND provider <> ${provider}))`);
  if ((removed.meta.changes ?? 0) > 0) return "unlinked";
  const linked = await db
    .select({ userId: oauthAccounts.userId })
    .from(oauthAccounts)
    .where(and(eq(oauthAccounts.userId, userId), eq(oauthAccounts.provider, provider)))
    .get();
  return linked === undefined ? "not_linked" : "last_method";
}

/** The statement that deletes the user's provider identities (account deletion). */
export function identityDeletion(db: Database, d1: D1Database, userId: string): D1PreparedStatement {
  return asStatement(d1, db.delete(oauthAccounts).where(eq(oauthAccounts.userId, userId)));
}
