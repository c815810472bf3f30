// Each member's standing here (the organization's slug, their role and its permissions),
// told to their own UserAuthority, which keeps it beside their sessions: the session's
// cached record and the principal record carry it, so a read that needs the active
// organization's role or a permission of it asks no one (user-authority/org-standings.ts).
// A decision that changes a member's standing marks them in its own transaction, under a
// new number of the organization's standing sequence; the marks are sent in the queue,
// before the decision answers, and a send that fails stays marked for the alarm. Each
// send carries the member's standing as it is when sent and the number of their latest
// mark, and the user's authority keeps only a newer number than it has, so sends that
// cross never leave an older standing in place. Writes never rely on it: they ask here.
import type { MemberStanding } from "../../user-authority/org-standings";
import { permissionsOf } from "./roles";
import type { OrgTables } from "./membership";

/** How many members are told at once (one round). */
export const SEND_WIDTH = 16;

/** The sequence's current number: a standing read now is as of it. */
export function standingSeq(sql: SqlStorage): number {
  return sql.exec<{ value: number }>("SELECT value FROM counters WHERE name = 'standing'").toArray()[0]?.value ?? 0;
}

/** Marks these members' standing as changed (inside the decision's transaction). */
export function markStanding(sql: SqlStorage, userIds: Iterable<string>): void {
  const ids = [...new Set(userIds)];
  if (ids.length === 0) return;
  const seq = sql
    .exec<{ value: number }>(
      "INSERT INTO counters (name, value) VALUES ('standing', 1) ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value",
    )
    .one().value;
  for (const id of ids) {
    sql.exec("INSERT INTO standing_marks (user_id, seq) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET seq = excluded.seq", id, seq);
  }
}

/** Every member, marked (the organization's slug changed, or it is being deleted). */
export function markEveryMember(sql: SqlStorage): void {
  markStanding(
    sql,
    sql
      .exec<{ user_id: string }>("SELECT user_id FROM members")
      .toArray()
      .map((row) => row.user_id),
  );
}

/** How many members are marked and not yet told. */
export function markedStanding(sql: SqlStorage): number {
  return sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM standing_marks").one().n;
}

/** A member's standing now (null: not a member, or the organization is gone). */
export function memberStanding(tables: OrgTables, userId: string): MemberStanding | null {
  const org = tables.org();
  const membership = org === null ? null : tables.membership(userId);
  if (org === null || membership === null) return null;
  return { slug: org.slug, role: membership.role, permissions: permissionsOf(membership.role, membership.custom) };
}

/** Tells each marked member's authority; throws the first failure once all were tried (a failed one stays marked). */
export async function sendStanding(sql: SqlStorage, tables: OrgTables, env: Env): Promise<void> {
  const orgId = sql.exec<{ id: string }>("SELECT id FROM org").toArray()[0]?.id;
  const marks = sql.exec<{ user_id: string; seq: number }>("SELECT user_id, seq FROM standing_marks").toArray();
  if (orgId === undefined) {
    sql.exec("DELETE FROM standing_marks");
    return;
  }
  let failure: { reason: unknown } | null = null;
  for (let start = 0; start < marks.length; start += SEND_WIDTH) {
    const results = await Promise.allSettled(
      marks.slice(start, start + SEND_WIDTH).map(async (mark) => {
        await env.USER_AUTHORITY.getByName(mark.user_id).orgStandingChanged(orgId, mark.seq, memberStanding(tables, mark.user_id));
        // Unless marked again meanwhile (a newer number is sent next time).
        sql.exec("DELETE FROM standing_marks WHERE user_id = ? AND seq = ?", mark.user_id, mark.seq);
      }),
    );
    failure ??= results.find((result) => result.status === "rejected") ?? null;
  }
  if (failure !== null) throw failure.reason;
}
