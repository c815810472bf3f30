// Reads and writes of the users table. Callers get rows or null; uniqueness conflicts
// come back as values, not exceptions.
import { eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { type UserRow, oauthAccounts, users } from "../db/schema";
import { normalizeEmail, normalizeUsername } from "./schemas";
import { type PublicUser, toPublicUser } from "./user-view";

export interface NewUser {
  email: string;
  username: string | null;
  name: string | null;
  passwordHash: string | null;
  emailVerified: boolean;
}

export type Conflict = "email_taken" | "username_taken";

/**
 * The contract's user object for a row. The one place that builds it from storage, so
 * every answer carries the same fields (linked OAuth providers included).
 */
export async function publicUser(db: Database, row: UserRow): Promise<PublicUser> {
  const rows = await db
    .select({ provider: oauthAccounts.provider })
    .from(oauthAccounts)
    .where(eq(oauthAccounts.userId, row.id))
    .orderBy(oauthAccounts.createdAt)
    .all();
  return toPublicUser(row, [...new Set(rows.map((entry) => entry.provider))]);
}

export async function findUserById(db: Database, id: string): Promise<UserRow | null> {
  return (await db.select().from(users).where(eq(users.id, id)).get()) ?? null;
}

/** Login identifiers: anything with an "@" is an email, the rest a username. */
export async function findUserByIdentifier(db: Database, identifier: string): Promise<UserRow | null> {
  const condition = identifier.includes("@")
    ? eq(users.emailNormalized, normalizeEmail(identifier))
    : eq(users.usernameNormalized, normalizeUsername(identifier));
  return (await db.select().from(users).where(condition).get()) ?? null;
}

export async function insertUser(db: Database, input: NewUser): Promise<UserRow | Conflict> {
  const now = new Date().toISOString();
  const row: UserRow = {
    id: crypto.randomUUID(),
    email: input.email.trim(),
    emailNormalized: normalizeEmail(input.email),
    username: input.username,
    usernameNormalized: input.username === null ? null : normalizeUsername(input.username),
    name: input.name,
    passwordHash: input.passwordHash,
    emailVerified: input.emailVerified,
    isSuperuser: false,
    createdAt: now,
    updatedAt: now,
  };
  try {
    await db.insert(users).values(row).run();
    return row;
  } catch (error) {
    const conflict = uniqueConflict(error);
    if (conflict === null) throw error;
    return conflict;
  }
}

export interface ProfileChanges {
  name?: string | null;
  username?: string;
}

export async function updateUserProfile(
  db: Database,
  id: string,
  changes: ProfileChanges,
): Promise<UserRow | Conflict | null> {
  const values: Partial<UserRow> = { updatedAt: new Date().toISOString() };
  if (changes.name !== undefined) values.name = changes.name;
  if (changes.username !== undefined) {
    values.username = changes.username;
    values.usernameNormalized = normalizeUsername(changes.username);
  }
  try {
    return (await db.update(users).set(values).where(eq(users.id, id)).returning().get()) ?? null;
  } catch (error) {
    const conflict = uniqueConflict(error);
    if (conflict === null) throw error;
    return conflict;
  }
}

export async function updatePasswordHash(db: Database, id: string, passwordHash: string): Promise<void> {
  await db.update(users).set({ passwordHash, updatedAt: new Date().toISOString() }).where(eq(users.id, id)).run();
}

export async function markEmailVerified(db: Database, id: string): Promise<UserRow | null> {
  return (
    (await db
      .update(users)
      .set({ emailVerified: true, updatedAt: new Date().toISOString() })
      .where(eq(users.id, id))
      .returning()
      .get()) ?? null
  );
}

/**
 * Removes every row of personal data a user has in D1, in one transaction. API keys
 * and their usage go too: they identify the person and cannot outlive the account.
 */
export async function deleteUserData(d1: D1Database, userId: string): Promise<void> {
  await d1.batch([
    d1.prepare("DELETE FROM api_key_usage WHERE key_id IN (SELECT id FROM api_keys WHERE user_id = ?)").bind(userId),
    d1.prepare("DELETE FROM api_keys WHERE user_id = ?").bind(userId),
    d1.prepare("DELETE FROM mail_tokens WHERE user_id = ?").bind(userId),
    d1.prepare("DELETE FROM security_events WHERE user_id = ?").bind(userId),
    d1.prepare("DELETE FROM oauth_accounts WHERE user_id = ?").bind(userId),
    d1.prepare("DELETE FROM oauth_codes WHERE user_id = ?").bind(userId),
    d1.prepare("DELETE FROM users WHERE id = ?").bind(userId),
  ]);
}

/** D1 reports unique violations only in the message text (drizzle wraps it in `cause`). */
function uniqueConflict(error: unknown): Conflict | null {
  // Match the column named by the constraint, not the query text drizzle also quotes.
  const column = /UNIQUE constraint failed: users\.(\w+)/.exec(errorText(error))?.[1];
  if (column === "email_normalized") return "email_taken";
  if (column === "username_normalized") return "username_taken";
  return null;
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return `${error.message} ${error.cause === undefined ? "" : errorText(error.cause)}`;
}
