// The organization a signed-in principal acts in, as the organization's authority has the
// caller's role now, for every answer that describes a principal: introspection, the RPC
// entrypoint (and with it edge-auth/hono), and requireOrg / requireOrgPermission. Asked of
// the authority each time, so a member removed or demoted is refused at once everywhere.
import { orgRequirementRefusal } from "../api-keys/grants";
import { ApiError } from "../http/errors";
import { type ActiveOrg, activeOrgOf } from "../orgs/org-claims";
import type { Services } from "../services/services";
import type { Principal } from "./principal";

/** The org claims of a description (the access token's names). */
export interface OrgDescription {
  org_id?: string;
  org_role?: string;
  org_permissions?: string[];
}

export async function activeOrgOfPrincipal(services: Pick<Services, "orgs">, principal: Principal): Promise<ActiveOrg | null> {
  if (principal.kind === "api_key") return null;
  return activeOrgOf(services, principal.userId, principal.session.activeOrg);
}

export function orgDescription(org: ActiveOrg | null): OrgDescription {
  return org === null ? {} : { org_id: org.id, org_role: org.role, org_permissions: org.permissions };
}

/** What a route or guard asks of the active organization: any (requireOrg), or one permission in it. */
export type OrgRequirement = true | { permission: { resource: string; action: string } };

/** The refusal of an active organization for a requirement; null when it meets it. */
export function orgRefusal(org: ActiveOrg | null, requirement: OrgRequirement | undefined): ApiError | null {
  const refused = orgRequirementRefusal(org, requirement);
  return refused === null ? null : new ApiError(refused.code, refused.detail);
}
