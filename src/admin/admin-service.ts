// Administration as the service does it, apart from HTTP: the admin user view, the
// search, creating, changing, disabling and deleting a user, their sessions and factors,
// login throttling, and the audit trail. Each write that concerns a user's sign-ins goes
// through that user's authority, in order with everything else the user does; D1 keeps
// the record. Every write is an admin_* event on the target, with the acting admin's id.
import { requestPasswordReset } from "../account/account-service";
import { deleteAccount } from "../account/deletion";
import { allKeyIds } from "../api-keys/key-store";
import type { UserRow } from "../db/schema";
import { recordEvent } from "../events/record-event";
import type { SecurityEventType } from "../events/record-event";
import { ApiError } from "../http/errors";
import { hashPassword } from "../passwords/hash";
import type { Services } from "../services/services";
import { authorityFor } from "../sessions/authority-client";
import type { SessionInfo } from "../sessions/session-policy";
import { isSessionId } from "../sessions/session-token";
import { clearLoginThrottle } from "../throttle/login-guard";
import { findUserById, findUserByIdentifier, insertUser, isListedAdmin, publicUser, publicUsers } from "../users/user-store";
import type { PublicUser } from "../users/user-view";
import { type AdminChanges, type Cursor, searchUsers, updateUserAsAdmin } from "./admin-store";

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

const notFound = (): ApiError => new ApiError("not_found", "User not found");

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

function view(
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

async function target(services: Services, id: string): Promise<UserRow> {
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

/**
 * Records an admin write on the target's events, with the acting admin. Awaited, not
 * left to waitUntil: the answer to an admin write means its audit entry exists.
 */
async function audit(
  services: Services,
  actor: Actor,
  userId: string,
  type: SecurityEventType,
  detail: Record<string, string | number | boolean | null> = {},
): Promise<void> {
  await recordEvent(services.d1, { userId, type, client: services.client, detail, actorId: actor.id });
}

function conflict(result: "email_taken" | "username_taken"): ApiError {
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
  const passwordHash = input.password === undefined ? null : await hashPassword(input.password, { pepper: services.config.passwordPepper });
  const result = await insertUser(services.db, {
    email: input.email,
    username: input.username ?? null,
    name: input.name ?? null,
    passwordHash,
    emailVerified: input.email_verified,
    isSuperuser: input.is_superuser || (input.email_verified && isListedAdmin(services.config.admin.emails, input.email)),
  });
  if (typeof result === "string") throw conflict(result);
  await audit(services, actor, result.id, "admin_user_created", { with_password: passwordHash !== null, is_superuser: result.isSuperuser });
  return adminUserView(services, result);
}

/**
 * Applies an admin's changes. A new email is unverified unless `email_verified` says
 * otherwise. `disabled` goes to the user's authority first (it ends every session,
 * token family and key use at once), then to the record. An admin cannot demote,
 * disable (or delete) themselves.
 */
export async function updateUser(
  services: Services,
  actor: Actor,
  id: string,
  input: {
    email?: string | undefined;
    username?: string | null | undefined;
    name?: string | null | undefined;
    email_verified?: boolean | undefined;
    is_superuser?: boolean | undefined;
    disabled?: boolean | undefined;
  },
): Promise<AdminUser> {
  const before = await target(services, id);
  if (id === actor.id && (input.is_superuser === false || input.disabled === true)) {
    throw new ApiError("invalid_input", "You cannot remove your own admin rights or disable yourself");
  }
  const changes: AdminChanges = {};
  if (input.email !== undefined && input.email.trim().toLowerCase() !== before.emailNormalized) {
    changes.email = input.email;
    changes.emailVerified = input.email_verified ?? false;
  } else if (input.email_verified !== undefined) changes.emailVerified = input.email_verified;
  if (input.username !== undefined) changes.username = input.username;
  if (input.name !== undefined) changes.name = input.name;
  if (input.is_superuser !== undefined) changes.isSuperuser = input.is_superuser;
  // The profile first: a conflict (409) then changes nothing at all.
  const fields = Object.keys(changes);
  let row = fields.length === 0 ? before : await updateUserAsAdmin(services.db, id, changes);
  if (row === null) throw notFound();
  if (typeof row === "string") throw conflict(row);
  if (input.disabled !== undefined) {
    // The authority decides, every time it is asked (the D1 record may lag it), before the
    // record: fail closed, a disable that answered 2xx is in force.
    await setDisabled(services, id, input.disabled);
    if (input.disabled !== row.disabled) {
      row = (await updateUserAsAdmin(services.db, id, { disabled: input.disabled })) ?? row;
      if (typeof row === "string") throw conflict(row);
      await audit(services, actor, id, input.disabled ? "admin_user_disabled" : "admin_user_enabled");
    }
  }
  const authority = authorityFor(services.authority, id);
  const user = await publicUser(services.db, row);
  await authority.updateUser(user);
  const named = fields.map((field) => (field === "emailVerified" ? "email_verified" : field === "isSuperuser" ? "is_superuser" : field));
  if (fields.length > 0) await audit(services, actor, id, "admin_user_updated", { fields: named.join(",") });
  return view(user, await authority.summary());
}

/** The authority decides; then every key of the user is stopped (or started) at its own object. */
async function setDisabled(services: Services, userId: string, disabled: boolean): Promise<void> {
  const { keyIds } = await authorityFor(services.authority, userId).setDisabled(disabled);
  const ids = new Set([...keyIds, ...(await allKeyIds(services.db, userId))]);
  await Promise.all([...ids].map((keyId) => services.keys.getByName(keyId).setOwnerDisabled(disabled)));
}

export async function deleteUser(services: Services, actor: Actor, id: string): Promise<void> {
  if (id === actor.id) throw new ApiError("invalid_input", "You cannot delete your own account here");
  await target(services, id);
  await deleteAccount(services, id);
  // After the deletion (which removes the user's own events): the audit entry stays.
  await audit(services, actor, id, "admin_user_deleted");
}

export async function userSessions(services: Services, id: string): Promise<SessionInfo[]> {
  await target(services, id);
  return authorityFor(services.authority, id).listSessions();
}

export async function revokeUserSessions(services: Services, actor: Actor, id: string): Promise<number> {
  await target(services, id);
  const revoked = await authorityFor(services.authority, id).revokeAll(null);
  await audit(services, actor, id, "admin_sessions_revoked", { revoked });
  return revoked;
}

export async function revokeUserSession(services: Services, actor: Actor, id: string, sessionId: string): Promise<void> {
  await target(services, id);
  const revoked = isSessionId(sessionId) && (await authorityFor(services.authority, id).revokeSession(sessionId));
  if (!revoked) throw new ApiError("not_found", "Session not found");
  await audit(services, actor, id, "admin_session_revoked", { session_id: sessionId });
}

export async function sendPasswordReset(services: Services, actor: Actor, id: string): Promise<void> {
  const row = await target(services, id);
  requestPasswordReset(services, row.email);
  await audit(services, actor, id, "admin_password_reset_sent");
}

export async function resetFactors(services: Services, actor: Actor, id: string): Promise<void> {
  await target(services, id);
  const removed = await authorityFor(services.authority, id).removeAllFactors();
  await audit(services, actor, id, "admin_mfa_reset", { factors_removed: removed });
}

export async function clearThrottle(
  services: Services,
  actor: Actor,
  input: { identifier?: string | undefined; ip?: string | undefined },
): Promise<void> {
  const row = input.identifier === undefined ? null : await findUserByIdentifier(services.db, input.identifier);
  await clearLoginThrottle(services.throttle, { identifier: input.identifier, userId: row?.id ?? null, ip: input.ip });
  // On the account the identifier names, else on the acting admin's own events.
  await audit(services, actor, row?.id ?? actor.id, "admin_throttle_cleared", {
    identifier: row === null ? (input.identifier ?? null) : null,
    ip: input.ip ?? null,
  });
}
