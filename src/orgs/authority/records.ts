// What an organization's decisions leave in D1: its record, its memberships (for a user's
// list of organizations and the admin's search) and the events. Queued in the same
// transaction as the decision, sent after it; a send that fails stays queued for the alarm,
// so a change never stands without its record and event. Every statement is idempotent: a
// second send of the same item writes nothing new.
import { type SecurityEvent, eventStatement } from "../../events/record-event";

export type OrgRecord =
  | { kind: "member"; orgId: string; userId: string; role: string; joinedAt: string }
  | { kind: "member_gone"; orgId: string; userId: string }
  | { kind: "org_gone"; orgId: string }
  | { kind: "org_renamed"; orgId: string; name: string }
  | { kind: "event"; event: SecurityEvent };

export function queueRecords(sql: SqlStorage, records: OrgRecord[]): void {
  for (const record of records) {
    const item =
      record.kind === "event" ? { ...record, event: { ...record.event, id: crypto.randomUUID(), at: new Date().toISOString() } } : record;
    sql.exec("INSERT INTO outbox (id, item) VALUES (?, ?)", crypto.randomUUID(), JSON.stringify(item));
  }
}

function statement(db: D1Database, record: OrgRecord): D1PreparedStatement {
  switch (record.kind) {
    case "member":
      // Only while the user exists: a deletion that raced the decision leaves no membership behind.
      return db
        .prepare(
          `INSERT INTO org_members (org_id, user_id, role, joined_at) SELECT ?1, ?2, ?3, ?4
           WHERE EXISTS (SELECT 1 FROM users WHERE id = ?2)
           ON CONFLICT (org_id, user_id) DO UPDATE SET role = excluded.role`,
        )
        .bind(record.orgId, record.userId, record.role, record.joinedAt);
    case "member_gone":
      return db.prepare("DELETE FROM org_members WHERE org_id = ? AND user_id = ?").bind(record.orgId, record.userId);
    case "org_gone":
      return db.prepare("DELETE FROM organizations WHERE id = ?").bind(record.orgId);
    case "org_renamed":
      return db.prepare("UPDATE organizations SET name = ? WHERE id = ?").bind(record.name, record.orgId);
    case "event":
      return eventStatement(db, record.event);
  }
}

/**
 * Sends every queued item in one batch, in order, then forgets them. Throws when D1 fails
 * (they stay queued). A membership D1 would not record (its user's account is gone: a
 * deletion raced the joining) is queued in `leavers`, for the alarm to take out.
 */
export async function flushRecords(sql: SqlStorage, db: D1Database): Promise<boolean> {
  const rows = sql.exec<{ id: string; item: string }>("SELECT id, item FROM outbox").toArray();
  if (rows.length === 0) return false;
  const records = rows.map((row) => JSON.parse(row.item) as OrgRecord);
  // An organization's deletion takes every membership with it, whatever was queued before.
  const statements = records.map((record) => statement(db, record));
  for (const record of records) {
    if (record.kind !== "org_gone") continue;
    statements.push(db.prepare("DELETE FROM org_members WHERE org_id = ?").bind(record.orgId));
    // Its API keys (erased at their objects before) and their usage.
    for (const table of ["api_key_usage", "api_key_usage_flushes"]) {
      statements.push(db.prepare(`DELETE FROM ${table} WHERE key_id IN (SELECT id FROM api_keys WHERE org_id = ?)`).bind(record.orgId));
    }
    statements.push(db.prepare("DELETE FROM api_keys WHERE org_id = ?").bind(record.orgId));
  }
  const results = await db.batch(statements);
  let leavers = false;
  records.forEach((record, index) => {
    if (record.kind === "member" && results[index]?.meta.changes === 0) {
      sql.exec("INSERT OR IGNORE INTO leavers (user_id) VALUES (?)", record.userId);
      leavers = true;
    }
  });
  for (const row of rows) sql.exec("DELETE FROM outbox WHERE id = ?", row.id);
  return leavers;
}

export function hasQueuedRecords(sql: SqlStorage): boolean {
  return sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox").one().n > 0;
}
