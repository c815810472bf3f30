// Writing and reading security events. Events are written after the response
// (waitUntil): the decision an event describes (a revocation, a new password) is already
// durable where it was made, and the sign-in path does not wait on the D1 primary.
import { and, desc, eq, isNull, lt } from "drizzle-orm";
import { type Database, asStatement } from "../db/client";
import { securityEvents } from "../db/schema";
import { logError } from "../lib/log";
import type { Services } from "../services/services";
import { type SecurityEvent, type SecurityEventType, recordEvent } from "./record-event";

/** Records an event caused by this request, with the request's client details. */
export function recordEventLater(
  services: Pick<Services, "d1" | "waitUntil" | "client">,
  userId: string,
  type: SecurityEventType,
  detail?: SecurityEvent["detail"],
  actorId?: string,
): void {
  const event: SecurityEvent = { userId, type, client: services.client, detail, actorId };
  services.waitUntil(
    recordEvent(services.d1, event).catch((error: unknown) => {
      logError("security_event_failed", error, { type });
    }),
  );
}

export interface EventView {
  type: string;
  at: string;
  ip: string | null;
  device: unknown;
  location: unknown;
  detail: unknown;
}

export async function listEvents(db: Database, userId: string, page: { limit: number; before?: string | undefined }): Promise<EventView[]> {
  const condition =
    page.before === undefined
      ? eq(securityEvents.userId, userId)
      : and(eq(securityEvents.userId, userId), lt(securityEvents.at, page.before));
  const rows = await db
    .select()
    .from(securityEvents)
    .where(condition)
    .orderBy(desc(securityEvents.at), desc(securityEvents.id))
    .limit(page.limit)
    .all();
  return rows.map(eventView);
}

/** An event row as the API shows it (its JSON columns parsed). */
export function eventView(row: typeof securityEvents.$inferSelect): EventView {
  return {
    type: row.type,
    at: row.at,
    ip: row.ip,
    device: row.device === null ? null : JSON.parse(row.device),
    location: row.location === null ? null : JSON.parse(row.location),
    detail: row.detail === null ? null : JSON.parse(row.detail),
  };
}

/** Deletes events older than the retention period (the scheduled handler calls this). */
export async function purgeOldEvents(db: Database, retentionDays: number): Promise<number> {
  const cutoff = new Date(Date.now() - retentionDays * 86_400_000).toISOString();
  const result = await db.delete(securityEvents).where(lt(securityEvents.at, cutoff)).run();
  return result.meta.changes ?? 0;
}

/**
 * The statement that deletes the user's events (account deletion). The audit trail of
 * what admins did to the account stays (those rows describe the admin's request, not the
 * user's), until the retention period ends it like every event.
 */
export function eventDeletion(db: Database, d1: D1Database, userId: string): D1PreparedStatement {
  return asStatement(d1, db.delete(securityEvents).where(and(eq(securityEvents.userId, userId), isNull(securityEvents.actorId))));
}
