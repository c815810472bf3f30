// The user's standing in each of their organizations (its slug, their role, the role's
// permissions), as each organization's authority last told this object
// (orgs/authority/standing-push.ts), for reads: a cookie session's cached record carries
// its active organization's standing and the principal record carries every one, so
// `requireOrgPermission` on a read asks no one. The organization decides; this is its
// memory, kept in the order of the organization's standing sequence (a told standing
// older than the one held is ignored). Writes never use it: they ask the organization.
import type { AuthorityParts } from "./parts";

/** What an organization tells: the member's standing, or null (no longer a member, or the organization is gone). */
export interface MemberStanding {
  slug: string;
  role: string;
  permissions: string[];
}

/** A standing an organization answered, as of `seq` of its standing sequence. */
export interface ToldStanding {
  seq: number;
  standing: MemberStanding;
}

/** The standing a session or token acts with in its active organization. */
export interface OrgStanding extends MemberStanding {
  id: string;
}

export class OrgStandings {
  constructor(private readonly sql: SqlStorage) {}

  /**
   * The standing in `orgId` as last told: null for no organization or no longer a member;
   * undefined when this object was never told (the reader asks the organization).
   */
  of(orgId: string | null): OrgStanding | null | undefined {
    if (orgId === null) return null;
    const row = this.sql.exec<{ standing: string | null }>("SELECT standing FROM org_standings WHERE org_id = ?", orgId).toArray()[0];
    if (row === undefined) return undefined;
    return row.standing === null ? null : { ...(JSON.parse(row.standing) as MemberStanding), id: orgId };
  }

  /** Every organization told of, by id (null: no longer a member), for the principal record. */
  all(): Record<string, MemberStanding | null> {
    // Own properties from the organizations' own ids (fromEntries defines each as data; a
    // null-prototype object would not pass an RPC answer). Readers look up by own property.
    const rows = this.sql.exec<{ org_id: string; standing: string | null }>("SELECT org_id, standing FROM org_standings").toArray();
    return Object.fromEntries(rows.map((row) => [row.org_id, row.standing === null ? null : (JSON.parse(row.standing) as MemberStanding)]));
  }

  /** The cookie sessions acting in `orgId`: their cached records carry its standing. */
  acting(orgId: string): string[] {
    return this.sql
      .exec<{ id: string }>("SELECT id FROM sessions WHERE active_org = ? AND kind = 'cookie'", orgId)
      .toArray()
      .map((row) => row.id);
  }

  /**
   * Keeps a told standing if it is newer than the one held. True when it is the one held
   * now (kept, or told again: a tell retried after this object kept it but restarted
   * before rewriting the cached records, which are then rewritten again).
   */
  note(orgId: string, seq: number, standing: MemberStanding | null): boolean {
    const held = this.sql.exec<{ seq: number }>("SELECT seq FROM org_standings WHERE org_id = ?", orgId).toArray()[0];
    if (held !== undefined && held.seq > seq) return false;
    if (held !== undefined && held.seq === seq) return true;
    const value =
      standing === null ? null : JSON.stringify({ slug: standing.slug, role: standing.role, permissions: standing.permissions });
    this.sql.exec(
      "INSERT INTO org_standings (org_id, seq, standing) VALUES (?, ?, ?) ON CONFLICT (org_id) DO UPDATE SET seq = excluded.seq, standing = excluded.standing",
      orgId,
      seq,
      value,
    );
    return true;
  }
}

/**
 * An organization tells this user's authority their standing in it (as of `seq` of its
 * standing sequence): kept if newer, and the cached records that carry it are rewritten
 * (the sessions acting in it, and the principal record) before the organization answers.
 */
export async function orgStandingChanged(p: AuthorityParts, orgId: string, seq: number, standing: MemberStanding | null): Promise<void> {
  // An account never signed in to, or deleted: nothing reads it (and nothing is left behind).
  if (p.schema.blank || p.state.isDeleted()) return;
  const current = p.ctx.storage.transactionSync(() => p.orgStandings.note(orgId, seq, standing));
  if (!current) return;
  await p.cache.sync(p.orgStandings.acting(orgId));
}
