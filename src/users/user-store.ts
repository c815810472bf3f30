// Reads and writes of the users table. Callers get rows or null; uniqueness conflicts
// come back as values, not exceptions.
import { type SQL, and, eq, inArray, sql } from "drizzle-orm";
import { type Database, asStatement } from "../db/client";
import { type UserRow, oauthAccounts, users } from "../db/schema";
import { uniqueViolation } from "../db/unique-conflict";
import { canonicalEmail } from "../lib/email-address";
import { normalizeEmail, normalizeUsername } from "./schemas";
import { type PublicUser, toPublicUser } from "./user-view";

export interface NewUser {
  /** Its id when it must be this one (a passwordless sign-up's, derived from its address); else a random one. */
  id?: string;
  email: string;
  username: string | null;
  name: string | null;
  passwordHash: string | null;
  emailVerified: boolean;
  /** Only an admin creates superusers. */
  isSuperuser?: boolean;
  /** The address is proven by whoever holds the account (a vouching provider, an admin). */
  addressProven?: boolean;
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

/** publicUser for many rows, with one query for all their providers (the admin list). */
export async function publicUsers(db: Database, rows: UserRow[]): Promise<PublicUser[]> {
  if (rows.length === 0) return [];
  const links = await db
    .select({ userId: oauthAccounts.userId, provider: oauthAccounts.provider })
    .from(oauthAccounts)
    .where(
      inArray(
        oauthAccounts.userId,
        rows.map((row) => row.id),
      ),
    )
    .orderBy(oauthAccounts.createdAt)
    .all();
  const byUser = new Map<string, Set<string>>();
  for (const link of links) {
    const providers = byUser.get(link.userId) ?? new Set<string>();
    providers.add(link.provider);
    byUser.set(link.userId, providers);
  }
  return rows.map((row) => toPublicUser(row, [...(byUser.get(row.id) ?? [])]));
}

export async function findUserById(db: Database, id: string): Promise<UserRow | null> {
  return (await db.select().from(users).where(eq(users.id, id)).get()) ?? null;
}

/** Login identifiers: anything with an "@" is an email, the rest a username. */
export async function findUserByIdentifier(db: Database, identifier: string): Promise<UserRow | null> {
  return (await db.select().from(users).where(identifierCondition(identifier)).get()) ?? null;
}

function identifierCondition(identifier: string) {
  return identifier.includes("@")
    ? eq(users.emailNormalized, normalizeEmail(identifier))
    : eq(users.usernameNormalized, normalizeUsername(identifier));
}

/** findUserByIdentifier with the row's linked providers, in one query (the login's one read). */
export function findSignInUser(db: Database, identifier: string): Promise<{ row: UserRow; providers: string[] } | null> {
  return signInUserWhere(db, identifierCondition(identifier));
}

/** The same by id (a magic link names its account). */
export function findSignInUserById(db: Database, id: string): Promise<{ row: UserRow; providers: string[] } | null> {
  return signInUserWhere(db, eq(users.id, id));
}

async function signInUserWhere(db: Database, condition: SQL | undefined): Promise<{ row: UserRow; providers: string[] } | null> {
  const links = sql<string>`(SELECT json_group_array(json_array(${oauthAccounts.provider}, ${oauthAccounts.createdAt})) FROM ${oauthAccounts} WHERE ${oauthAccounts.userId} = ${users.id})`;
  const found = await db.select({ row: users, links }).from(users).where(condition).get();
  if (found === undefined) return null;
  // Oldest link first, each provider once, as publicUser lists them.
  const linked = (JSON.parse(found.links) as [provider: string, createdAt: string][]).sort((a, b) => a[1].localeCompare(b[1]));
  return { row: found.row, providers: [...new Set(linked.map(([provider]) => provider))] };
}

/**
 * Adds a user. `alongside`: statements that must land in the same transaction (an
 * admin's audit entry), made from the new row.
 */
export async function insertUser(
  db: Database,
  input: NewUser,
  alongside?: { d1: D1Database; statements: (row: UserRow) => D1PreparedStatement[] },
): Promise<UserRow | Conflict> {
  const now = new Date().toISOString();
  const row: UserRow = {
    id: input.id ?? crypto.randomUUID(),
    email: canonicalEmail(input.email), // what is shown and mailed, whoever passed it
    emailNormalized: normalizeEmail(input.email),
    username: input.username,
    usernameNormalized: input.username === null ? null : normalizeUsername(input.username),
    name: input.name,
    passwordHash: input.passwordHash,
    emailVerified: input.emailVerified,
    isSuperuser: input.isSuperuser ?? false,
    createdAt: now,
    updatedAt: now,
    credentialEpoch: 0,
    disabled: false,
    nameNormalized: normalizeName(input.name),
    lastLoginAt: null,
    addressProven: input.addressProven ?? false,
  };
  try {
    if (alongside === undefined) await db.insert(users).values(row).run();
    else await alongside.d1.batch([asStatement(alongside.d1, db.insert(users).values(row)), ...alongside.statements(row)]);
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

export async function updateUserProfile(db: Database, id: string, changes: ProfileChanges): Promise<UserRow | Conflict | null> {
  const values: Partial<UserRow> = { updatedAt: new Date().toISOString() };
  if (changes.name !== undefined) {
    values.name = changes.name;
    values.nameNormalized = normalizeName(changes.name);
  }
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

/** The statement that deletes the user's row (account deletion batches it last). */
export function userRowDeletion(db: Database, d1: D1Database, userId: string): D1PreparedStatement {
  return asStatement(d1, db.delete(users).where(eq(users.id, userId)));
}

/** The statement recording a sign-in's time, batched with its security event. */
export function lastLoginStatement(db: Database, d1: D1Database, id: string): D1PreparedStatement {
  return asStatement(d1, db.update(users).set({ lastLoginAt: new Date().toISOString() }).where(eq(users.id, id)));
}

/** The admin search matches names by lower-cased prefix. */
export function normalizeName(name: string | null): string | null {
  return name === null ? null : name.toLowerCase();
}

/** Which of the users table's unique columns a failed insert or update hit. */
function uniqueConflict(error: unknown): Conflict | null {
  // Match the column named by the constraint, not the query text drizzle also quotes.
  const column = uniqueViolation(error);
  if (column === "users.email_normalized") return "email_taken";
  if (column === "users.username_normalized") return "username_taken";
  return null;
}
