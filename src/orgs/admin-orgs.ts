// The admin's view of organizations: a search over D1's records, and one organization
// with its members (the records its authority keeps in D1).
import type { Services } from "../services/services";
import { orgIdOf } from "./org-service";

type Deps = Pick<Services, "d1" | "orgs">;

export interface AdminOrg {
  id: string;
  name: string;
  slug: string;
  created_at: string;
  member_count: number;
}

const SELECT = `SELECT o.id, o.name, o.slug, o.created_at, (SELECT COUNT(*) FROM org_members m WHERE m.org_id = o.id) AS member_count
  FROM organizations o`;

/** Organizations whose name or slug contains `query` (case-insensitive), by id, after `cursor`. */
export async function searchOrgs(
  deps: Deps,
  query: string | undefined,
  limit: number,
  cursor: string | undefined,
): Promise<{ items: AdminOrg[]; next: string | null }> {
  const pattern = query === undefined ? null : `%${query.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const { results } = await deps.d1
    .prepare(
      `${SELECT} WHERE (?1 IS NULL OR lower(o.name) LIKE ?1 ESCAPE '\\' OR o.slug LIKE ?1 ESCAPE '\\') AND (?2 IS NULL OR o.id > ?2)
       ORDER BY o.id LIMIT ?3`,
    )
    .bind(pattern, cursor ?? null, limit + 1)
    .all<AdminOrg>();
  const items = results.slice(0, limit);
  return { items, next: results.length > limit ? (items.at(-1)?.id ?? null) : null };
}

/** One organization with its members; null when there is none. */
export async function adminOrg(
  deps: Deps,
  ref: string,
): Promise<
  (AdminOrg & { members: Array<{ user: { id: string; email: string; name: string | null }; role: string; joined_at: string }> }) | null
> {
  const id = await orgIdOf(deps, ref);
  if (id === null) return null;
  const [org, members] = await deps.d1.batch([
    deps.d1.prepare(`${SELECT} WHERE o.id = ?`).bind(id),
    deps.d1
      .prepare(
        `SELECT m.user_id, u.email, u.name, m.role, m.joined_at FROM org_members m JOIN users u ON u.id = m.user_id
         WHERE m.org_id = ? ORDER BY m.joined_at, m.user_id LIMIT 1000`,
      )
      .bind(id),
  ]);
  const row = org?.results[0] as AdminOrg | undefined;
  if (row === undefined) return null;
  const list = (members?.results ?? []) as Array<{ user_id: string; email: string; name: string | null; role: string; joined_at: string }>;
  return {
    ...row,
    members: list.map((m) => ({ user: { id: m.user_id, email: m.email, name: m.name }, role: m.role, joined_at: m.joined_at })),
  };
}
