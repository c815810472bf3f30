// The answers of the organization routes (contract v1.2, "Organizations").
import { z } from "zod";

const timestamp = z.string().describe("ISO 8601 UTC timestamp");

export const orgResponse = z.object({
  id: z.string().describe("org_ and 24 hex digits"),
  name: z.string(),
  slug: z.string(),
  created_at: timestamp,
  role: z.string().describe("The caller's role: owner, admin, member or a custom role"),
});

export const orgListResponse = z.object({ items: z.array(orgResponse) });

const memberUser = z.object({ id: z.string(), email: z.string().nullable(), name: z.string().nullable() });

export const memberResponse = z.object({ user: memberUser, role: z.string(), joined_at: timestamp });

export const memberListResponse = z.object({ items: z.array(memberResponse), next_cursor: z.string().nullable() });

export const invitationResponse = z.object({ id: z.string(), email: z.string(), role: z.string(), expires_at: timestamp });

export const invitationListResponse = z.object({ items: z.array(invitationResponse) });

export const roleResponse = z.object({
  name: z.string(),
  permissions: z.array(z.string()).describe("resource:action, '*' for any"),
  builtin: z.boolean(),
});

export const roleListResponse = z.object({ items: z.array(roleResponse) });

/** The organization a session acts in, as check-auth and POST /auth/active-org show it. */
export const activeOrg = z.object({ id: z.string(), slug: z.string(), role: z.string(), permissions: z.array(z.string()) });

export const activeOrgResponse = z.object({ org: activeOrg.nullable() });

const adminOrg = z.object({ id: z.string(), name: z.string(), slug: z.string(), created_at: timestamp, member_count: z.number().int() });

export const adminOrgListResponse = z.object({ items: z.array(adminOrg), next_cursor: z.string().nullable() });

export const adminOrgResponse = adminOrg.extend({ members: z.array(memberResponse) });
