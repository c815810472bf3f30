// Provider identities linked to users, and the rule that decides which user an OAuth
// login signs in: the linked identity; else the signed-in user who asked to link; else
// an account with the same email, but only when the provider says the email is
// verified *and* the account's email is verified; else a new account.
import { and, eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { type UserRow, oauthAccounts, users } from "../db/schema";
import { normalizeEmail } from "../users/schemas";
import { findUserById, insertUser } from "../users/user-store";
import type { ProviderIdentity } from "./providers/provider";

export type Resolution =
  | { status: "existing"; user: UserRow }
  | { status: "linked"; user: UserRow }
  | { status: "created"; user: UserRow }
  | { status: "account_exists" }
  | { status: "failed"; reason: string };

export async function resolveOAuthUser(
  db: Database,
  provider: string,
  identity: ProviderIdentity,
  linkUserId: string | null,
): Promise<Resolution> {
  const linked = await db
    .select({ userId: oauthAccounts.userId })
    .from(oauthAccounts)
    .where(and(eq(oauthAccounts.provider, provider), eq(oauthAccounts.providerUserId, identity.providerUserId)))
    .get();
  if (linked !== undefined) {
    if (linkUserId !== null && linked.userId !== linkUserId) return { status: "account_exists" };
    const user = await findUserById(db, linked.userId);
    return user === null ? { status: "failed", reason: "account_missing" } : { status: "existing", user };
  }

  if (linkUserId !== null) {
    const user = await findUserById(db, linkUserId);
    if (user === null) return { status: "failed", reason: "account_missing" };
    await link(db, provider, identity, user.id);
    return { status: "linked", user };
  }

  if (identity.email === null) return { status: "failed", reason: "no_email" };
  const byEmail = await db.select().from(users).where(eq(users.emailNormalized, normalizeEmail(identity.email))).get();
  if (byEmail !== undefined) {
    // Never hand an account to someone who only claims its address.
    if (!identity.emailVerified || !byEmail.emailVerified) return { status: "account_exists" };
    await link(db, provider, identity, byEmail.id);
    return { status: "linked", user: byEmail };
  }

  const created = await insertUser(db, {
    email: identity.email,
    username: null,
    name: identity.name?.slice(0, 100) ?? null,
    passwordHash: null,
    emailVerified: identity.emailVerified,
  });
  if (created === "email_taken" || created === "username_taken") return { status: "account_exists" };
  await link(db, provider, identity, created.id);
  return { status: "created", user: created };
}


async function link(db: Database, provider: string, identity: ProviderIdentity, userId: string): Promise<void> {
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
