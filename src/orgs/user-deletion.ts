// A deleted account's memberships: each organization's authority takes the member out
// (handing the organization on when they were its last owner), then D1's records go.
import type { Services } from "../services/services";

export async function leaveEveryOrg(deps: Pick<Services, "d1" | "orgs">, userId: string): Promise<void> {
  const { results } = await deps.d1.prepare("SELECT org_id FROM org_members WHERE user_id = ?").bind(userId).all<{ org_id: string }>();
  await Promise.all(results.map((row) => deps.orgs.getByName(row.org_id).userDeleted(userId)));
}

export function membershipDeletion(d1: D1Database, userId: string): D1PreparedStatement {
  return d1.prepare("DELETE FROM org_members WHERE user_id = ?").bind(userId);
}
