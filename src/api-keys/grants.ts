// Whether API key permissions grant (resource, action): an exact grant, then
// (*, action), then (resource, *), then (*, *). No imports: the edge-auth/hono
// middleware uses this in other Workers as well as this service does.

export type Permissions = Record<string, string[]>;

export function hasPermission(permissions: Permissions, resource: string, action: string): boolean {
  // Own properties only: "constructor" or "__proto__" must not find Object.prototype's members.
  const grants = (name: string): string[] => {
    const actions: unknown = Object.hasOwn(permissions, name) ? permissions[name] : undefined;
    return Array.isArray(actions) ? actions : [];
  };
  return grants(resource).includes(action) || grants("*").includes(action) || grants(resource).includes("*") || grants("*").includes("*");
}

/** What `GET /api/v1/users/me` asks of an API key (routes/users.ts, auth/direct-answers.ts). */
export const PROFILE_READ = Object.freeze({ resource: "user_profile", action: "read" });

/** The refusal of an API key for a requirement, as every route and the AuthService give it; null when the key meets it. */
export function keyRefusal(
  permissions: Permissions,
  requirements: { requireAal?: 1 | 2; permission?: { resource: string; action: string } },
): { code: "forbidden" | "insufficient_scope"; status: 403; detail: string } | null {
  // A key carries no sign-in, so it never reaches aal 2.
  if (requirements.requireAal === 2) return { code: "forbidden", status: 403, detail: "API keys cannot use this route" };
  const needed = requirements.permission;
  if (needed !== undefined && !hasPermission(permissions, needed.resource, needed.action)) {
    return { code: "insufficient_scope", status: 403, detail: `This API key lacks the ${needed.resource}:${needed.action} permission` };
  }
  return null;
}

/**
 * Whether an organization role holds `resource:action`, from the role and its permission
 * list as the API shows them: an admin's list is `*:*`, but deleting the organization is
 * an owner's alone, whatever the list says.
 */
export function orgRolePermits(role: string, permissions: readonly string[], resource: string, action: string): boolean {
  if (role === "admin" && (resource === "org" || resource === "*") && (action === "delete" || action === "*")) return false;
  return listPermits(permissions, resource, action);
}

/** The same check for a list of `resource:action` strings (an organization role's permissions). */
export function listPermits(permissions: readonly string[], resource: string, action: string): boolean {
  const grants: Permissions = {};
  for (const permission of permissions) {
    const colon = permission.indexOf(":");
    const name = permission.slice(0, colon);
    const actions = Object.hasOwn(grants, name) ? grants[name] : undefined;
    if (actions === undefined) grants[name] = [permission.slice(colon + 1)];
    else actions.push(permission.slice(colon + 1));
  }
  return hasPermission(grants, resource, action);
}

/**
 * An API key against a guard's requirements: its permission as always; an organization
 * requirement (`org`: any, or a permission in it) only for an organization's key, which
 * acts for that organization with its own permissions, and only there: a guard without
 * an organization requirement refuses it. A user's key has no organization.
 */
export function keyRequirementRefusal(
  permissions: Permissions,
  orgId: string | null | undefined,
  requirements: {
    requireAal?: 1 | 2;
    permission?: { resource: string; action: string };
    org?: true | { permission: { resource: string; action: string } };
  },
): ReturnType<typeof keyRefusal> {
  if (requirements.org === undefined) {
    // An organization's key acts for no user: a guard that would hand its handler a user refuses it (fail closed).
    if (orgId !== null && orgId !== undefined) {
      return {
        code: "forbidden",
        status: 403,
        detail: "An organization's API key is accepted only where an organization is asked for (requireOrg)",
      };
    }
    return keyRefusal(permissions, requirements);
  }
  if (orgId === null || orgId === undefined)
    return { code: "forbidden", status: 403, detail: "A user's API key has no active organization" };
  const permission = requirements.org === true ? requirements.permission : requirements.org.permission;
  return keyRefusal(
    permissions,
    permission === undefined ? { requireAal: requirements.requireAal } : { requireAal: requirements.requireAal, permission },
  );
}

/**
 * A session's or token's active organization (`org`: its role and permissions as the
 * organization has them, null for none) against an organization requirement; null when it
 * meets it. One check for the service's RPC and edge-auth/hono's guards.
 */
export function orgRequirementRefusal(
  org: { role: string; permissions: readonly string[] } | null,
  requirement: true | { permission: { resource: string; action: string } } | undefined,
): { code: "forbidden"; status: 403; detail: string } | null {
  if (requirement === undefined) return null;
  if (org === null)
    return { code: "forbidden", status: 403, detail: "This request needs an active organization (POST /api/v1/auth/active-org)" };
  if (requirement === true) return null;
  const { resource, action } = requirement.permission;
  if (orgRolePermits(org.role, org.permissions, resource, action)) return null;
  return { code: "forbidden", status: 403, detail: `Your role in this organization lacks the ${resource}:${action} permission` };
}
