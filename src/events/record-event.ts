// Security events: written by the code paths that cause them, read by the user.
import type { ClientInfo } from "../http/client-info";

export type SecurityEventType =
  | "login_succeeded"
  | "login_failed"
  | "login_throttled"
  | "new_device"
  | "session_revoked"
  | "logout_all"
  | "refresh_token_reused"
  | "password_changed"
  | "password_reset"
  | "email_verified"
  | "address_proven"
  | "account_locked"
  | "oauth_linked"
  | "oauth_unlinked"
  | "api_key_created"
  | "api_key_revoked"
  | "mfa_enabled"
  | "mfa_disabled"
  | "recovery_codes_regenerated"
  | "recovery_code_used"
  | "admin_user_created"
  | "admin_user_updated"
  | "admin_user_disabled"
  | "admin_user_enabled"
  | "admin_user_deleted"
  | "admin_sessions_revoked"
  | "admin_session_revoked"
  | "admin_password_reset_sent"
  | "admin_mfa_reset"
  | "admin_throttle_cleared"
  | "oauth_grant_created"
  | "oauth_grant_revoked"
  | "oauth_client_registered"
  | "org_created"
  | "org_deleted"
  | "org_member_added"
  | "org_member_removed"
  | "org_role_changed"
  | "org_invitation_sent"
  | "org_invitation_accepted";

export interface SecurityEvent {
  userId: string;
  type: SecurityEventType;
  client: ClientInfo | null;
  detail?: Record<string, string | number | boolean | null>;
  /** The admin who caused it (admin_* events). */
  actorId?: string;
  /** Set when the event is written later than it happened (an outbox): the same id and time on every try. */
  id?: string;
  at?: string;
}

/**
 * One event's row. An event the user caused (no `actorId`) is written only while the
 * user's row exists: an account deletion removes the row and every event in one batch,
 * so a login or revocation that raced it and records afterwards leaves nothing behind.
 * An admin's audit entry (with `actorId`) is kept even for a deleted account. OR IGNORE:
 * an outbox that sends the same event (same id) again writes it once.
 */
const INSERT_EVENT = `INSERT OR IGNORE INTO security_events (id, user_id, type, at, ip, user_agent, device, location, detail, actor_id)
  SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10 WHERE ?10 IS NOT NULL OR EXISTS (SELECT 1 FROM users WHERE id = ?2)`;

export async function recordEvent(d1: D1Database, event: SecurityEvent): Promise<void> {
  await eventStatement(d1, event).run();
}

/** The event's row as a statement, for a `d1.batch` that writes it with others in one round trip. */
export function eventStatement(d1: D1Database, event: SecurityEvent): D1PreparedStatement {
  const { client } = event;
  return d1
    .prepare(INSERT_EVENT)
    .bind(
      event.id ?? crypto.randomUUID(),
      event.userId,
      event.type,
      event.at ?? new Date().toISOString(),
      client?.ip ?? null,
      client?.userAgent ?? null,
      client === null ? null : JSON.stringify(client.device),
      client === null ? null : JSON.stringify(client.location),
      event.detail === undefined ? null : JSON.stringify(event.detail),
      event.actorId ?? null,
    );
}
