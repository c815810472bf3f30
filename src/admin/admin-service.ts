// Administration as the service does it, apart from HTTP: the admin user view, the
// search, reading a user and creating one; admin-writes.ts changes them. Every write is
// an admin_* event on the target, with the acting admin's id, landing with the change.
import { refuseBreached } from "../passwords/pwned";
import { pwnedDeps } from "../account/account-service";
import type { UserRow } from "../db/schema";
import { type SecurityEventType, eventStatement } from "../events/record-event";
import { ApiError } from "../http/errors";
import { hashPassword } from "../passwords/hash";
import type { Services } from "../services/services";
import { authorityFor } from "../sessions/authority-client";
import type { AuditEntry } from "../user-authority/audit-outbox";
import type { SessionInfo } from "../user-authority/session-policy";
import { findUserById, insertUser, publicUser, publicUsers } from "../users/user-store";
import { isListedAdmin } from "../users/user-credentials";
import type { PublicUser } from "../users/user-view";
import { type Cursor, searchUsers } from "./admin-store";

export interface AdminUser extends PublicUser {
  disabled: boolean;
  mfa_enabled: boolean;
  last_login_at: string | null;
  session_count: number;
}

/** The acting admin. */
export interface Actor {
  id: string;
}

export const notFound = (): ApiError => new ApiError("not_found", "User not found");

/** A user who never signed in has no session and no factor (enrolling one needs a session). */
const NEVER_SIGNED_IN = { mfaEnabled: false, sessionCount: 0, lastLoginAt: null };

/**
 * The user object plus what the user's authority knows: disabled, MFA, last sign-in,
 * live sessions. Only users who ever signed in are asked (one call each, in parallel).
 */
export async function adminUserView(services: Services, row: UserRow): Promise<AdminUser> {
  const [user, known] = await Promise.all([publicUser(services.db, row), summaryOf(services, row)]);
  return view(user, known);
}

function summaryOf(services: Services, row: UserRow) {
  if (row.lastLoginAt === null) return Promise.resolve({ ...NEVER_SIGNED_IN, disabled: row.disabled });
  return authorityFor(services.authority, row.id).summary();
}

export function view(
  user: PublicUser,
  summary: { disabled: boolean; mfaEnabled: boolean; sessionCount: number; lastLoginAt: number | null },
): AdminUser {
  return {
    ...user,
    disabled: summary.disabled,
    mfa_enabled: summary.mfaEnabled,
    last_login_at: summary.lastLoginAt === null ? null : new Date(summary.lastLoginAt).toISOString(),
    session_count: summary.sessionCount,
  };
}

export async function listUsers(services: Services, page: { query: string | undefined; limit: number; cursor: Cursor | null }) {
  const { rows, next } = await searchUsers(services.db, page);
  const [users, summaries] = await Promise.all([publicUsers(services.db, rows), Promise.all(rows.map((row) => summaryOf(services, row)))]);
  return { items: users.map((user, index) => view(user, summaries[index]!)), next };
}

export async function target(services: Services, id: string): Promise<UserRow> {
  const row = await findUserById(services.db, id);
  if (row === null) throw notFound();
  return row;
}

/** One user: always as their authority knows them (also for sign-ins from before last_login_at was recorded). */
export async function getUser(services: Services, id: string): Promise<AdminUser> {
  const row = await target(services, id);
  const [user, summary] = await Promise.all([publicUser(services.db, row), authorityFor(services.authority, id).summary()]);
  return view(user, summary);
}

/** An admin write's audit entry on the target's events, with the acting admin. */
export function auditEntry(
  services: Pick<Services, "client">,
  actor: Actor,
  userId: string,
  type: SecurityEventType,
  detail: Record<string, string | number | boolean | null> = {},
): AuditEntry {
  return { userId, type, client: services.client, detail, actorId: actor.id };
}

export function conflict(result: "email_taken" | "username_taken"): ApiError {
  return result === "email_taken"
    ? new ApiError("email_taken", "An account with this email already exists")
    : new ApiError("username_taken", "This username is taken");
}

export async function createUser(
  services: Services,
  actor: Actor,
  input: {
    email: string;
    password?: string | undefined;
    username?: string | null | undefined;
    name?: string | null | undefined;
    email_verified: boolean;
    is_superuser: boolean;
  },
): Promise<AdminUser> {
  if (input.password !== undefined) await refuseBreached(pwnedDeps(services), input.password);
  const passwordHash = input.password === undefined ? null : await hashPassword(input.password, { pepper: services.config.passwordPepper });
  // The row and its audit entry in one transaction.
  const created = (row: UserRow) => [
    eventStatement(
      services.d1,
      auditEntry(services, actor, row.id, "admin_user_created", { with_password: passwordHash !== null, is_superuser: row.isSuperuser }),
    ),
  ];
  const result = await insertUser(
    services.db,
    {
      email: input.email,
      username: input.username ?? null,
      name: input.name ?? null,
      passwordHash,
      emailVerified: input.email_verified,
      // An admin who marks the address verified vouches for it.
      addressProven: input.email_verified,
      isSuperuser: input.is_superuser || (input.email_verified && isListedAdmin(services.config.admin.emails, input.email)),
    },
    { d1: services.d1, statements: created },
  );
  if (typeof result === "string") throw conflict(result);
  return adminUserView(services, result);
}

export async function userSessions(services: Services, id: string): Promise<SessionInfo[]> {
  await target(services, id);
  return authorityFor(services.authority, id).listSessions();
}
