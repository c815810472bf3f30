// Who may do what in an organization: the built-in roles, custom roles, and the rule that a
// role never grants more than its granter holds. Pure functions: the organization's
// authority applies them in order, the tests call them directly.
import { listPermits } from "../../api-keys/grants";

export const BUILTIN_ROLES = ["owner", "admin", "member"] as const;
export type BuiltinRole = (typeof BUILTIN_ROLES)[number];

/** `member`: read the organization and its members. */
const MEMBER_PERMISSIONS = ["org:read", "members:read"];

/** A role's permissions as stored: `resource:action` strings, `*` standing for any. */
export type RolePermissions = readonly string[];

export function isBuiltinRole(role: string): role is BuiltinRole {
  return (BUILTIN_ROLES as readonly string[]).includes(role);
}

/** Whether a permission, wildcards read literally, reaches deleting the organization (owners only). */
function reachesOrgDelete(resource: string, action: string): boolean {
  return (resource === "org" || resource === "*") && (action === "delete" || action === "*");
}

function split(permission: string): [string, string] {
  const colon = permission.indexOf(":");
  return [permission.slice(0, colon), permission.slice(colon + 1)];
}

/**
 * Whether `role` (with `custom`, its permissions when it is a custom role) may do
 * `resource:action`. A wildcard in the question is literal: "may this role grant
 * members:*" is asked as `allows(role, "members", "*")`.
 */
export function allows(role: string, custom: RolePermissions | null, resource: string, action: string): boolean {
  if (role === "owner") return true;
  if (role === "admin") return !reachesOrgDelete(resource, action);
  return listPermits(role === "member" ? MEMBER_PERMISSIONS : (custom ?? []), resource, action);
}

/**
 * The permissions a role holds, as the API shows them (owner `*:*`; admin `*:*`, which
 * never reaches org:delete: checks go through orgRolePermits, which knows the role).
 */
export function permissionsOf(role: string, custom: RolePermissions | null): string[] {
  if (role === "owner" || role === "admin") return ["*:*"];
  return role === "member" ? [...MEMBER_PERMISSIONS] : [...(custom ?? [])];
}

/** Whether a granter holding `granter` may hand out every permission of `granted`. */
export function mayGrant(
  granter: { role: string; custom: RolePermissions | null },
  granted: { role: string; custom: RolePermissions | null },
): boolean {
  if (granted.role === "owner") return granter.role === "owner";
  if (granter.role === "owner") return true;
  if (granted.role === "admin") return granter.role === "admin";
  return permissionsOf(granted.role, granted.custom).every((permission) => {
    // Every member reads the organization and its members, whatever their role lists.
    if (MEMBER_PERMISSIONS.includes(permission)) return true;
    const [resource, action] = split(permission);
    return allows(granter.role, granter.custom, resource, action);
  });
}
