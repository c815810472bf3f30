// The organization routes (contract v1.2, "Organizations"). See route-spec.ts.
import { z } from "zod";
import { acceptBody, activeOrgBody, createOrgBody, inviteBody, membersQuery, putRoleBody, roleBody, updateOrgBody } from "../orgs/schemas";
import * as out from "./org-schemas";
import * as keys from "./response-schemas";
import { createKeyBody, listQuery, updateKeyBody, usageQuery } from "../api-keys/schemas";
import type { RouteSpec } from "./route-spec";

const USER = ["session", "bearer"] as const;
const ADMIN = ["session", "bearer", "api_key"] as const;
const ORG = ["org_not_found", "forbidden"] as const;

const adminOrgQuery = z.object({
  query: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(100).optional(),
  cursor: z.string().optional(),
});

// One row per route reads as a table; the formatter would spread each over a dozen lines.
// prettier-ignore
export const ORG_ROUTES = [
  { method: "post", path: "/api/v1/orgs", summary: "Create an organization (the caller is its owner)", tag: "orgs", auth: USER, body: createOrgBody, ok: { status: 201, description: "The organization", schema: out.orgResponse }, errors: ["conflict"], example: { name: "Acme", slug: "acme" } },
  { method: "get", path: "/api/v1/orgs", summary: "The caller's organizations, with the caller's role", tag: "orgs", auth: USER, ok: { status: 200, description: "Organizations", schema: out.orgListResponse } },
  { method: "get", path: "/api/v1/orgs/:org", summary: "One organization (by id or slug; members only)", tag: "orgs", auth: USER, ok: { status: 200, description: "The organization", schema: out.orgResponse }, errors: ["org_not_found"] },
  { method: "patch", path: "/api/v1/orgs/:org", summary: "Rename an organization or change its slug (org:update)", tag: "orgs", auth: USER, body: updateOrgBody, ok: { status: 200, description: "The organization", schema: out.orgResponse }, errors: [...ORG, "conflict"] },
  { method: "delete", path: "/api/v1/orgs/:org", summary: "Delete an organization (owners; fresh): every membership and invitation ends", tag: "orgs", auth: USER, ok: { status: 204, description: "Deleted" }, errors: [...ORG, "reauthentication_required"] },
  { method: "get", path: "/api/v1/orgs/:org/members", summary: "An organization's members (members only)", tag: "orgs", auth: USER, query: membersQuery, ok: { status: 200, description: "A page of members", schema: out.memberListResponse }, errors: ORG },
  { method: "patch", path: "/api/v1/orgs/:org/members/:user_id", summary: "Change a member's role (members:update; owners only for owners)", tag: "orgs", auth: USER, body: roleBody, ok: { status: 200, description: "The member", schema: out.memberResponse }, errors: [...ORG, "not_found", "last_owner", "invalid_input"] },
  { method: "delete", path: "/api/v1/orgs/:org/members/:user_id", summary: "Remove a member (members:delete), or leave", tag: "orgs", auth: USER, ok: { status: 204, description: "Removed" }, errors: [...ORG, "not_found", "last_owner"] },
  { method: "post", path: "/api/v1/orgs/:org/invitations", summary: "Invite an address with a role (members:invite); mails a single-use link", tag: "orgs", auth: USER, body: inviteBody, ok: { status: 201, description: "The pending invitation", schema: out.invitationResponse }, errors: [...ORG, "conflict", "seat_limit_reached", "invalid_input", "too_many_attempts"], example: { email: "grace@example.com", role: "member" } },
  { method: "get", path: "/api/v1/orgs/:org/invitations", summary: "Pending invitations (members:invite)", tag: "orgs", auth: USER, ok: { status: 200, description: "Invitations", schema: out.invitationListResponse }, errors: ORG },
  { method: "delete", path: "/api/v1/orgs/:org/invitations/:id", summary: "Withdraw an invitation (members:invite)", tag: "orgs", auth: USER, ok: { status: 204, description: "Withdrawn" }, errors: [...ORG, "not_found"] },
  { method: "get", path: "/api/v1/orgs/:org/roles", summary: "Built-in and custom roles (roles:manage)", tag: "orgs", auth: USER, ok: { status: 200, description: "Roles", schema: out.roleListResponse }, errors: ORG },
  { method: "put", path: "/api/v1/orgs/:org/roles/:role", summary: "Define a custom role (roles:manage; never beyond the definer's permissions)", tag: "orgs", auth: USER, body: putRoleBody, ok: { status: 200, description: "The role (201 when new)", schema: out.roleResponse }, alternatives: [{ status: 201, description: "Created", schema: out.roleResponse }], errors: [...ORG, "invalid_input"], example: { permissions: ["org:read", "members:read", "billing:*"] } },
  { method: "delete", path: "/api/v1/orgs/:org/roles/:role", summary: "Delete a custom role no member holds (roles:manage)", tag: "orgs", auth: USER, ok: { status: 204, description: "Deleted" }, errors: [...ORG, "not_found", "conflict", "invalid_input"] },
  { method: "post", path: "/api/v1/orgs/:org/api-keys", summary: "Create an organization's API key (api_keys:manage; fresh; within your role)", tag: "orgs", auth: USER, body: createKeyBody, ok: { status: 201, description: "The key, shown once", schema: keys.createdApiKeyResponse }, errors: [...ORG, "reauthentication_required", "invalid_input"], example: { name: "Billing sync", permissions: { billing: ["read"] } } },
  { method: "get", path: "/api/v1/orgs/:org/api-keys", summary: "An organization's API keys (api_keys:manage)", tag: "orgs", auth: USER, query: listQuery, ok: { status: 200, description: "Keys", schema: keys.apiKeyListResponse }, errors: ORG },
  { method: "get", path: "/api/v1/orgs/:org/api-keys/:id", summary: "One of an organization's API keys (api_keys:manage)", tag: "orgs", auth: USER, ok: { status: 200, description: "The key", schema: keys.apiKeyResponse }, errors: [...ORG, "not_found"] },
  { method: "patch", path: "/api/v1/orgs/:org/api-keys/:id", summary: "Change an organization's API key (api_keys:manage; new permissions: fresh, within your role)", tag: "orgs", auth: USER, body: updateKeyBody, ok: { status: 200, description: "The key", schema: keys.apiKeyResponse }, errors: [...ORG, "not_found", "reauthentication_required", "invalid_input"] },
  { method: "delete", path: "/api/v1/orgs/:org/api-keys/:id", summary: "Revoke an organization's API key (api_keys:manage)", tag: "orgs", auth: USER, ok: { status: 204, description: "Revoked" }, errors: [...ORG, "not_found"] },
  { method: "get", path: "/api/v1/orgs/:org/api-keys/:id/usage", summary: "An organization's API key's usage (api_keys:manage)", tag: "orgs", auth: USER, query: usageQuery, ok: { status: 200, description: "Usage", schema: keys.usageResponse }, errors: [...ORG, "not_found"] },
  { method: "post", path: "/api/v1/invitations/accept", summary: "Accept an invitation (the signed-in user's verified address must be the invited one)", tag: "orgs", auth: USER, body: acceptBody, ok: { status: 200, description: "The organization, with the new role", schema: out.orgResponse }, errors: ["invitation_invalid", "forbidden"] },
  { method: "post", path: "/api/v1/auth/active-org", summary: "Set the organization the current session or token family acts in (null: none)", tag: "orgs", auth: USER, body: activeOrgBody, ok: { status: 200, description: "The active organization", schema: out.activeOrgResponse }, errors: ["not_a_member"] },
  { method: "get", path: "/api/v1/admin/orgs", summary: "Search organizations by name or slug", tag: "admin", auth: ADMIN, apiKeyPermission: "admin_users:read", query: adminOrgQuery, ok: { status: 200, description: "A page of organizations", schema: out.adminOrgListResponse }, errors: ["forbidden"] },
  { method: "get", path: "/api/v1/admin/orgs/:org", summary: "One organization with its members", tag: "admin", auth: ADMIN, apiKeyPermission: "admin_users:read", ok: { status: 200, description: "The organization", schema: out.adminOrgResponse }, errors: ["forbidden", "org_not_found"] },
] as const satisfies readonly RouteSpec[];
