// Audit entries that land with the change they record. An admin write that the user's
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

/** Sends every queued entry to D1 in one batch, then forgets them. Throws when D1 fails (they stay queued). */
export async function flushAudit(sql: SqlStorage, db: D1Database): Promise<void> {
  const rows = sql.exec<{ id: string; event: string }>("SELECT id, event FROM audit_outbox").toArray();
  if (rows.length === 0) return;
  await db.batch(rows.map((row) => eventStatement(db, JSON.parse(row.event) as SecurityEvent)));
  for (const row of rows) sql.exec("DELETE FROM audit_outbox WHERE id = ?", row.id);
}

export function hasQueuedAudit(sql: SqlStorage): boolean {
  return sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM audit_outbox").one().n > 0;
}
