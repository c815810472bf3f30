// The D1 side of administration: the user search (keyset pages, newest first), an
// admin's changes to a user row, and the audit log across users. Records only: every
// decision about a user's sign-ins is the user's authority's.
import { and, desc, eq, gte, lt, or, sql } from "drizzle-orm";
import { type Database, asStatement } from "../db/client";
import { type UserRow, securityEvents, users } from "../db/schema";
import { uniqueViolation } from "../db/unique-conflict";
import { type EventView, eventView } from "../events/event-log";
import { fromBase64Url, toBase64Url, utf8 } from "../lib/encoding";
import { canonicalEmail } from "../lib/email-address";
import { normalizeEmail, normalizeUsername } from "../users/schemas";
import { normalizeName } from "../users/user-store";

/** A position in a newest-first listing: the last row's time and id. */
export interface Cursor {
  at: string;
  id: string;
}

export function encodeCursor(cursor: Cursor): string {
  return toBase64Url(utf8(JSON.stringify([cursor.at, cursor.id])));
}

/** The cursor a client sent back, or null when it is not one of ours. */
export function decodeCursor(text: string): Cursor | null {
  const bytes = fromBase64Url(text);
  if (bytes === null || bytes.length > 512) return null;
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (!Array.isArray(value) || value.length !== 2 || typeof value[0] !== "string" || typeof value[1] !== "string") return null;
    return { at: value[0], id: value[1] };
  } catch {
    return null;
  }
}

/** One page of rows fetched with `limit + 1`: the page, and the cursor after it when there is more. */
function keysetPage<T>(rows: T[], limit: number, positionOf: (row: T) => Cursor): { shown: T[]; next: Cursor | null } {
  const shown = rows.slice(0, limit);
  const last = shown.at(-1);
  return { shown, next: rows.length > limit && last !== undefined ? positionOf(last) : null };
}

/** The first string after every string with this prefix (a prefix as an index range). */
function prefixEnd(prefix: string): string {
  return prefix + "\uffff";
}

/**
 * Users newest first, `limit` per page after `cursor`, optionally those whose email,
 * username or name starts with `query` (case-insensitive). Each prefix is a range on
 * its column's index (users_email_normalized_unique, users_username_normalized_unique,
 * users_name_normalized); the order and the cursor ride on users_newest.
 */
export async function searchUsers(
  db: Database,
  page: { query: string | undefined; limit: number; cursor: Cursor | null },
): Promise<{ rows: UserRow[]; next: Cursor | null }> {
  const conditions = [];
  if (page.query !== undefined && page.query !== "") {
    const email = normalizeEmail(page.query);
    const username = normalizeUsername(page.query);
    const name = normalizeName(page.query) ?? "";
    conditions.push(
      or(
        and(gte(users.emailNormalized, email), lt(users.emailNormalized, prefixEnd(email))),
        and(gte(users.usernameNormalized, username), lt(users.usernameNormalized, prefixEnd(username))),
        and(gte(users.nameNormalized, name), lt(users.nameNormalized, prefixEnd(name))),
      ),
    );
  }
  if (page.cursor !== null) {
    const { at, id } = page.cursor;
    conditions.push(sql`(${users.createdAt}, ${users.id}) < (${at}, ${id})`);
  }
  const rows = await db
    .select()
    .from(users)
    .where(conditions.length === 0 ? undefined : and(...conditions))
    .orderBy(desc(users.createdAt), desc(users.id))
    .limit(page.limit + 1)
    .all();
  const { shown, next } = keysetPage(rows, page.limit, (row) => ({ at: row.createdAt, id: row.id }));
  return { rows: shown, next };
}

export interface AdminChanges {
  email?: string;
  username?: string | null;
  name?: string | null;
  emailVerified?: boolean;
  isSuperuser?: boolean;
  disabled?: boolean;
}

/**
 * Applies an admin's changes to the user row, in one transaction with `alongside` (the
 * change's audit entry), and answers the row as it now is; a conflict names the taken
 * column, and then nothing was written.
 */
export async function updateUserAsAdmin(
  db: Database,
  id: string,
  changes: AdminChanges,
  alongside?: { d1: D1Database; statements: D1PreparedStatement[] },
): Promise<UserRow | "email_taken" | "username_taken" | null> {
  const values: Partial<UserRow> = { updatedAt: new Date().toISOString() };
  if (changes.email !== undefined) {
    values.email = canonicalEmail(changes.email);
    values.emailNormalized = normalizeEmail(changes.email);
  }
  if (changes.username !== undefined) {
    values.username = changes.username;
    values.usernameNormalized = changes.username === null ? null : normalizeUsername(changes.username);
  }
  if (changes.name !== undefined) {
    values.name = changes.name;
    values.nameNormalized = normalizeName(changes.name);
  }
  if (changes.emailVerified !== undefined) values.emailVerified = changes.emailVerified;
  // An admin who marks the address verified vouches for it (migrations/0013); a new
  // address nobody vouched for is proven by nobody yet.
  if (changes.emailVerified === true) values.addressProven = true;
  else if (changes.email !== undefined) values.addressProven = false;
  if (changes.isSuperuser !== undefined) values.isSuperuser = changes.isSuperuser;
  if (changes.disabled !== undefined) values.disabled = changes.disabled;
  try {
    const update = db.update(users).set(values).where(eq(users.id, id));
    if (alongside === undefined) return (await update.returning().get()) ?? null;
    const { d1, statements } = alongside;
    await d1.batch([asStatement(d1, update), ...statements]);
    return (await db.select().from(users).where(eq(users.id, id)).get()) ?? null;
  } catch (error) {
    const column = uniqueViolation(error);
    if (column === "users.email_normalized") return "email_taken";
    if (column === "users.username_normalized") return "username_taken";
    throw error;
  }
}

export interface AuditEvent extends EventView {
  user_id: string;
  actor_id: string | null;
}

/** Security events across users, newest first, filtered by user and type, keyset pages. */
export async function listAuditEvents(
  db: Database,
  page: { userId: string | undefined; type: string | undefined; limit: number; cursor: Cursor | null },
): Promise<{ items: AuditEvent[]; next: Cursor | null }> {
  const conditions = [];
  if (page.userId !== undefined) conditions.push(eq(securityEvents.userId, page.userId));
  if (page.type !== undefined) conditions.push(eq(securityEvents.type, page.type));
  if (page.cursor !== null) conditions.push(sql`(${securityEvents.at}, ${securityEvents.id}) < (${page.cursor.at}, ${page.cursor.id})`);
  const rows = await db
    .select()
    .from(securityEvents)
    .where(conditions.length === 0 ? undefined : and(...conditions))
    .orderBy(desc(securityEvents.at), desc(securityEvents.id))
    .limit(page.limit + 1)
    .all();
  const { shown, next } = keysetPage(rows, page.limit, (row) => ({ at: row.at, id: row.id }));
  return { items: shown.map((row) => ({ user_id: row.userId, actor_id: row.actorId, ...eventView(row) })), next };
}

export interface SignInDay {
  date: string;
  succeeded: number;
  failed: number;
  throttled: number;
}

const SIGN_IN_SERIES = new Map<string, "succeeded" | "failed" | "throttled">([
  ["login_succeeded", "succeeded"],
  ["login_failed", "failed"],
  ["login_throttled", "throttled"],
]);

/** Sign-ins per UTC day over the last `days` days, every day present (oldest first). */
export async function signInsPerDay(d1: D1Database, days: number, now: number = Date.now()): Promise<SignInDay[]> {
  const dates = Array.from({ length: days }, (_, back) => new Date(now - (days - 1 - back) * 86_400_000).toISOString().slice(0, 10));
  const types = [...SIGN_IN_SERIES.keys()];
  // (type, at) index: one range scan per type.
  const { results } = await d1
    .prepare(
      `SELECT substr(at, 1, 10) AS date, type, COUNT(*) AS count FROM security_events
       WHERE type IN (?, ?, ?) AND at >= ? GROUP BY date, type`,
    )
    .bind(...types, dates[0])
    .all<{ date: string; type: string; count: number }>();
  const byDate = new Map(dates.map((date) => [date, { date, succeeded: 0, failed: 0, throttled: 0 }]));
  for (const row of results) {
    const day = byDate.get(row.date);
    const series = SIGN_IN_SERIES.get(row.type);
    if (day !== undefined && series !== undefined) day[series] = row.count;
  }
  return [...byDate.values()];
}
