// Audit entries, and the D1 records a change must leave (the OAuth server's record of
// who authorized which client), that land with the change they record. An admin write that the user's
// authority decides (disable, sign-outs, a factor reset, a deletion) queues its entry
// in the same transaction as the change, then sends it to D1; a send that fails stays
// queued for the alarm, so the change never stands without its entry. Each entry keeps
// its id and time, and the insert ignores an id already there: a second send of the
// same entry writes nothing.
import { type SecurityEvent, eventStatement } from "../events/record-event";

/** An entry as the caller describes it; the authority adds what only it knows (`detail`). */
export type AuditEntry = Omit<SecurityEvent, "id" | "at">;

export function queueAudit(sql: SqlStorage, entry: AuditEntry, detail: SecurityEvent["detail"] = {}): void {
  const event: SecurityEvent = { ...entry, detail: { ...entry.detail, ...detail }, id: crypto.randomUUID(), at: new Date().toISOString() };
  sql.exec("INSERT INTO audit_outbox (id, event) VALUES (?, ?)", event.id, JSON.stringify(event));
}

/** A record for D1 that is not an event: a user authorized a client (oauth_server_authorizations). */
export interface AuthorizationRecord {
  kind: "authorization";
  userId: string;
  clientId: string;
  at: string;
}

export function queueRecord(sql: SqlStorage, record: AuthorizationRecord): void {
  sql.exec("INSERT INTO audit_outbox (id, event) VALUES (?, ?)", crypto.randomUUID(), JSON.stringify({ record }));
}

function recordStatement(db: D1Database, record: AuthorizationRecord): D1PreparedStatement {
  // Only while the user exists: a deletion that raced it leaves nothing behind.
  return db
    .prepare(
      `INSERT INTO oauth_server_authorizations (client_id, user_id, first_at, last_at)
       SELECT ?1, ?2, ?3, ?3 WHERE EXISTS (SELECT 1 FROM users WHERE id = ?2)
       ON CONFLICT (client_id, user_id) DO UPDATE SET last_at = excluded.last_at`,
    )
    .bind(record.clientId, record.userId, record.at);
}

/** Sends every queued entry to D1 in one batch, then forgets them. Throws when D1 fails (they stay queued). */
export async function flushAudit(sql: SqlStorage, db: D1Database): Promise<void> {
  const rows = sql.exec<{ id: string; event: string }>("SELECT id, event FROM audit_outbox").toArray();
  if (rows.length === 0) return;
  await db.batch(
    rows.map((row) => {
      const queued = JSON.parse(row.event) as SecurityEvent | { record: AuthorizationRecord };
      return "record" in queued ? recordStatement(db, queued.record) : eventStatement(db, queued);
    }),
  );
  for (const row of rows) sql.exec("DELETE FROM audit_outbox WHERE id = ?", row.id);
}

export function hasQueuedAudit(sql: SqlStorage): boolean {
  return sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM audit_outbox").one().n > 0;
}
