// Security events: written by the code paths that cause them, read by the user.
import { type Database, asStatement } from "../db/client";
import { securityEvents } from "../db/schema";
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
  | "admin_throttle_cleared";

export interface SecurityEvent {
  userId: string;
  type: SecurityEventType;
  client: ClientInfo | null;
  detail?: Record<string, string | number | boolean | null>;
  /** The admin who caused it (admin_* events). */
  actorId?: string;
}

export async function recordEvent(db: Database, event: SecurityEvent): Promise<void> {
  await eventInsert(db, event).run();
}

/** The event's row as a statement, for a `d1.batch` that writes it with others in one round trip. */
export function eventStatement(db: Database, d1: D1Database, event: SecurityEvent): D1PreparedStatement {
  return asStatement(d1, eventInsert(db, event));
}

function eventInsert(db: Database, event: SecurityEvent) {
  return db.insert(securityEvents).values({
    id: crypto.randomUUID(),
    userId: event.userId,
    type: event.type,
    at: new Date().toISOString(),
    ip: event.client?.ip ?? null,
    userAgent: event.client?.userAgent ?? null,
    device: event.client === null ? null : JSON.stringify(event.client.device),
    location: event.client === null ? null : JSON.stringify(event.client.location),
    detail: event.detail === undefined ? null : JSON.stringify(event.detail),
    actorId: event.actorId ?? null,
  });
}
