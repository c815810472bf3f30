// An admin's changes to a user: the profile and flags, disabling, deletion, sign-outs, a
// factor reset, a reset mail and login throttling. A change and its audit entry land
// together or not at all: in one D1 batch for what D1 decides (the profile), and in the
// user's authority's transaction for what the authority decides (disabling, sign-outs,
// factors, deletion), which then sends the entry to D1 (audit-outbox.ts). An admin
// cannot demote, disable or delete themselves.
import { requestPasswordReset } from "../account/account-service";
import { deleteAccount } from "../account/deletion";
import { allKeyIds } from "../api-keys/key-store";
import type { UserRow } from "../db/schema";
import { eventStatement, recordEvent } from "../events/record-event";
import { ApiError } from "../http/errors";
import { noticeFactorChange } from "../mfa/mfa-service";
import type { Services } from "../services/services";
import { authorityFor } from "../sessions/authority-client";
import type { AuditEntry } from "../user-authority/audit-outbox";
import { isSessionId } from "../sessions/session-token";
import { clearLoginThrottle } from "../throttle/login-guard";
import { normalizeEmail } from "../users/schemas";
import { findUserByIdentifier, publicUser } from "../users/user-store";
import { type Actor, type AdminUser, auditEntry, conflict, notFound, target, view } from "./admin-service";
import { type AdminChanges, updateUserAsAdmin } from "./admin-store";

type Detail = Record<string, string | number | boolean | null>;

/** The changes an admin's PATCH asks for, and the audit detail naming each field's old and new value. */
function changesOf(before: UserRow, input: AdminPatch): { changes: AdminChanges; detail: Detail } {
  const changes: AdminChanges = {};
  if (input.email !== undefined && normalizeEmail(input.email) !== before.emailNormalized) {
    changes.email = input.email;
    changes.emailVerified = input.email_verified ?? false;
  } else if (input.email_verified !== undefined) changes.emailVerified = input.email_verified;
  if (input.username !== undefined) changes.username = input.username;
  if (input.name !== undefined) changes.name = input.name;
  if (input.is_superuser !== undefined) changes.isSuperuser = input.is_superuser;
  const detail: Detail = {};
  const fields: string[] = [];
  for (const [field, column] of FIELDS) {
    const next = changes[field];
    if (next === undefined) continue;
    fields.push(column);
    detail[`${column}_from`] = before[field] ?? null;
    detail[`${column}_to`] = next ?? null;
  }
  detail.fields = fields.join(",");
  return { changes, detail };
}

const FIELDS: ReadonlyArray<[keyof AdminChanges & keyof UserRow, string]> = [
  ["email", "email"],
  ["emailVerified", "email_verified"],
  ["username", "username"],
  ["name", "name"],
  ["isSuperuser", "is_superuser"],
];

export interface AdminPatch {
  email?: string | undefined;
  username?: string | null | undefined;
  name?: string | null | undefined;
  email_verified?: boolean | undefined;
  is_superuser?: boolean | undefined;
  disabled?: boolean | undefined;
}

/**
 * Applies an admin's changes. A new email is unverified unless `email_verified` says
 * otherwise. The profile first, with its entry (a conflict, 409, then changes nothing);
 * then `disabled` at the user's authority, which ends every session, token family and
 * key use at once and queues its entry with the decision; then the D1 record of it.
 */
export async function updateUser(services: Services, actor: Actor, id: string, input: AdminPatch): Promise<AdminUser> {
  const before = await target(services, id);
  if (id === actor.id && (input.is_superuser === false || input.disabled === true)) {
    throw new ApiError("invalid_input", "You cannot remove your own admin rights or disable yourself");
  }
  const { changes, detail } = changesOf(before, input);
  let row: UserRow | "email_taken" | "username_taken" | null = before;
  // A new address is proven by nobody yet: the authority forgets the old proof first, so
  // a failure before the record changes leaves it as it was (see admin-store.ts).
  if (changes.email !== undefined) await authorityFor(services.authority, id).forgetAddressProof();
  if (Object.keys(changes).length > 0) {
    const entry = eventStatement(services.d1, auditEntry(services, actor, id, "admin_user_updated", detail));
    row = await updateUserAsAdmin(services.db, id, changes, { d1: services.d1, statements: [entry] });
  }
  if (row === null) throw notFound();
  if (typeof row === "string") throw conflict(row);
  if (input.disabled !== undefined) {
    // The authority decides, every time it is asked (the D1 record may lag it), before the
    // record: fail closed, a disable that answered 2xx is in force.
    const type = input.disabled ? "admin_user_disabled" : "admin_user_enabled";
    await setDisabled(services, id, input.disabled, auditEntry(services, actor, id, type));
    if (input.disabled !== row.disabled) {
      const recorded = await updateUserAsAdmin(services.db, id, { disabled: input.disabled });
      if (recorded !== null && typeof recorded !== "string") row = recorded;
    }
  }
  const authority = authorityFor(services.authority, id);
  const user = await publicUser(services.db, row);
  await authority.updateUser(user);
  return view(user, await authority.summary());
}

/**
 * The authority decides (and numbers the decision); then every key of the user is
 * stopped (or started) at its own object, which applies a decision only over an older one.
 */
async function setDisabled(services: Services, userId: string, disabled: boolean, audit: AuditEntry): Promise<void> {
  const { keyIds, generation } = await authorityFor(services.authority, userId).setDisabled(disabled, audit);
  const ids = new Set([...keyIds, ...(await allKeyIds(services.db, userId))]);
  await Promise.all([...ids].map((keyId) => services.keys.getByName(keyId).setOwnerDisabled(disabled, generation)));
}

export async function deleteUser(services: Services, actor: Actor, id: string): Promise<void> {
  if (id === actor.id) throw new ApiError("invalid_input", "You cannot delete your own account here");
  await target(services, id);
  // The entry is queued with the tombstone; D1 keeps entries with an actor after the account.
  await deleteAccount(services, id, auditEntry(services, actor, id, "admin_user_deleted"));
}

export async function revokeUserSessions(services: Services, actor: Actor, id: string): Promise<number> {
  await target(services, id);
  return authorityFor(services.authority, id).revokeAll(null, auditEntry(services, actor, id, "admin_sessions_revoked"));
}

export async function revokeUserSession(services: Services, actor: Actor, id: string, sessionId: string): Promise<void> {
  await target(services, id);
  const entry = auditEntry(services, actor, id, "admin_session_revoked", { session_id: sessionId });
  const revoked = isSessionId(sessionId) && (await authorityFor(services.authority, id).revokeSession(sessionId, entry));
  if (!revoked) throw new ApiError("not_found", "Session not found");
}

export async function sendPasswordReset(services: Services, actor: Actor, id: string): Promise<void> {
  const row = await target(services, id);
  await recordEvent(services.d1, auditEntry(services, actor, id, "admin_password_reset_sent"));
  requestPasswordReset(services, row.email);
}

/** Removes every factor and recovery code; the user is told (event and mail), as for their own removal. */
export async function resetFactors(services: Services, actor: Actor, id: string): Promise<void> {
  const row = await target(services, id);
  const removed = await authorityFor(services.authority, id).removeAllFactors(auditEntry(services, actor, id, "admin_mfa_reset"));
  if (removed > 0) noticeFactorChange(services, await publicUser(services.db, row), "mfa_disabled");
}

export async function clearThrottle(
  services: Services,
  actor: Actor,
  input: { identifier?: string | undefined; ip?: string | undefined },
): Promise<void> {
  const row = input.identifier === undefined ? null : await findUserByIdentifier(services.db, input.identifier);
  await Promise.all([
    clearLoginThrottle(services.throttle, { identifier: input.identifier, userId: row?.id ?? null, ip: input.ip }),
    row === null ? undefined : authorityFor(services.authority, row.id).clearLoginFailures(),
  ]);
  // On the account the identifier names, else on the acting admin's own events.
  const entry = auditEntry(services, actor, row?.id ?? actor.id, "admin_throttle_cleared", {
    identifier: row === null ? (input.identifier ?? null) : null,
    ip: input.ip ?? null,
  });
  await recordEvent(services.d1, entry);
}
