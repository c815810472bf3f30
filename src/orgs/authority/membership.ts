// The organization's tables read and changed synchronously, inside the authority's
// transactions: who is a member with which role, what a custom role holds, the seat count.
import { type RolePermissions, allows, isBuiltinRole, permissionsOf } from "./roles";
import type { InvitationView, MemberRow, OrgView } from "./types";

export type OrgRow = {
  id: string;
  name: string;
  slug: string;
  created_at: number;
  deleted_at: number | null;
};

export interface Membership {
  role: string;
  custom: RolePermissions | null;
}

export class OrgTables {
  constructor(private readonly sql: SqlStorage) {}

  /** The organization, unless it never existed here or is being deleted. */
  org(): OrgRow | null {
    const row = this.sql.exec<OrgRow>("SELECT * FROM org").toArray()[0];
    return row === undefined || row.deleted_at !== null ? null : row;
  }

  membership(userId: string): Membership | null {
    const row = this.sql.exec<{ role: string }>("SELECT role FROM members WHERE user_id = ?", userId).toArray()[0];
    return row === undefined ? null : { role: row.role, custom: this.customRole(row.role) };
  }

  customRole(role: string): RolePermissions | null {
    if (isBuiltinRole(role)) return null;
    const row = this.sql.exec<{ permissions: string }>("SELECT permissions FROM roles WHERE name = ?", role).toArray()[0];
    return row === undefined ? null : (JSON.parse(row.permissions) as string[]);
  }

  /** Whether `role` names a role of this organization (built in, or defined here). */
  roleExists(role: string): boolean {
    return isBuiltinRole(role) || this.customRole(role) !== null;
  }

  may(membership: Membership, permission: string): boolean {
    const colon = permission.indexOf(":");
    return allows(membership.role, membership.custom, permission.slice(0, colon), permission.slice(colon + 1));
  }

  view(org: OrgRow, membership: Membership): OrgView {
    return {
      id: org.id,
      name: org.name,
      slug: org.slug,
      created_at: new Date(org.created_at).toISOString(),
      role: membership.role,
      permissions: permissionsOf(membership.role, membership.custom),
    };
  }

  owners(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM members WHERE role = 'owner'").one().n;
  }

  /** Members plus pending (unexpired) invitations: what ORG_MAX_MEMBERS limits. */
  seatsTaken(now: number): number {
    return this.sql
      .exec<{ n: number }>("SELECT (SELECT COUNT(*) FROM members) + (SELECT COUNT(*) FROM invitations WHERE expires_at > ?) AS n", now)
      .one().n;
  }

  member(userId: string): MemberRow | null {
    const row = this.sql
      .exec<{ user_id: string; role: string; joined_at: number }>("SELECT user_id, role, joined_at FROM members WHERE user_id = ?", userId)
      .toArray()[0];
    return row === undefined ? null : { user_id: row.user_id, role: row.role, joined_at: new Date(row.joined_at).toISOString() };
  }

  memberPage(limit: number, after: number): { items: MemberRow[]; next: number | null } {
    const rows = this.sql
      .exec<{ seq: number; user_id: string; role: string; joined_at: number }>(
        "SELECT seq, user_id, role, joined_at FROM members WHERE seq > ? ORDER BY seq LIMIT ?",
        after,
        limit + 1,
      )
      .toArray();
    const page = rows.slice(0, limit);
    return {
      items: page.map((row) => ({ user_id: row.user_id, role: row.role, joined_at: new Date(row.joined_at).toISOString() })),
      next: rows.length > limit ? (page.at(-1)?.seq ?? null) : null,
    };
  }

  invitations(now: number): InvitationView[] {
    return this.sql
      .exec<{ id: string; email: string; role: string; expires_at: number }>(
        "SELECT id, email, role, expires_at FROM invitations WHERE expires_at > ? ORDER BY created_at",
        now,
      )
      .toArray()
      .map((row) => ({ id: row.id, email: row.email, role: row.role, expires_at: new Date(row.expires_at).toISOString() }));
  }

  /** The member who would inherit the organization: its oldest admin, else its oldest member. */
  heir(leaving: string): string | null {
    const row = this.sql
      .exec<{ user_id: string }>(
        "SELECT user_id FROM members WHERE user_id <> ? ORDER BY CASE role WHEN 'admin' THEN 0 ELSE 1 END, seq LIMIT 1",
        leaving,
      )
      .toArray()[0];
    return row?.user_id ?? null;
  }
}
