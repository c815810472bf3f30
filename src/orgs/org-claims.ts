// The organization a session or token family acts in, as its authority sees it now: the
// claims an access token carries (org_id, org_role, org_permissions) and check-auth's
// `session.org`. A user who is no longer a member gets none (null): a removed member's
// session keeps working as a personal one.
import type { Services } from "../services/services";
import type { OrgStanding, ToldStanding } from "../user-authority/org-standings";

export type ActiveOrg = OrgStanding;

export async function activeOrgOf(deps: Pick<Services, "orgs">, userId: string, orgId: string | null): Promise<ActiveOrg | null> {
  return (await toldOrgStanding(deps, userId, orgId))?.org ?? null;
}

/** The same, with the number of the organization's standing sequence it is as of (for the user's authority). */
export async function toldOrgStanding(
  deps: Pick<Services, "orgs">,
  userId: string,
  orgId: string | null,
): Promise<{ org: ActiveOrg; told: ToldStanding } | null> {
  if (orgId === null) return null;
  const view = await deps.orgs.getByName(orgId).view({ userId, client: null });
  if (view.status !== "ok") return null;
  const { id, slug, role, permissions } = view.org;
  return { org: { id, slug, role, permissions }, told: { seq: view.seq, standing: { slug, role, permissions } } };
}
