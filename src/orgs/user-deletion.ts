// A deleted account's memberships: each organization's authority takes the member out
// (handing the organization on when they were its last owner) and removes D1's record.
import type { Services } from "../services/services";

export async function leaveEveryOrg(deps: Pick<Services, "d1" | "orgs">, userId: string): Promise<void> {
  const { results } = await deps.d1.prepare("SELECT org_id FROM org_members WHERE user_id = ?").bind(userId).all<{ org_id: string }>();
  await Promise.all(results.map((row) => deps.orgs.getByName(row.org_id).userDeleted(userId)));
}
