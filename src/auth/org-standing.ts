// The organization a signed-in principal acts in, with the caller's role there, for every
// answer that describes a principal: check-auth, introspection, the RPC entrypoint (and
// with it edge-auth/hono's requireOrg / requireOrgPermission). A write asks the
// organization's authority, so a member removed or demoted is refused at once by every
// state-changing request; a read takes the standing its credential's memory carries (the
// cached session, the principal record: user-authority/org-standings.ts), which the
// organization rewrites before its change answers, so it asks no one and is as current
// as that memory (the read bound of docs/concepts/consistency.md).
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
  const { activeOrg, org } = principal.session;
  if (activeOrg === null) return null;
  if (org !== undefined) return org;
  return activeOrgOf(services, principal.userId, activeOrg);
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
