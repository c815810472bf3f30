// API key permissions: {"resource": ["action", ...]}, with "*" standing for any resource
// or any action. A request for (resource, action) is allowed by an exact grant, then
// (*, action), then (resource, *), then (*, *).
import { z } from "zod";

export type Permissions = Record<string, string[]>;

const NAME = /^(\*|[a-z0-9][a-z0-9_.:-]{0,63})$/;

export const permissionsField = z
  .record(
    z.string().regex(NAME, "Resource names are lower-case letters, digits, '_', '.', ':', '-' or '*'"),
    z
      .array(z.string().regex(NAME, "Action names are lower-case letters, digits, '_', '.', ':', '-' or '*'"))
      .max(50)
      .transform((actions) => [...new Set(actions)]),
  )
  .refine((permissions) => Object.keys(permissions).length <= 50, { message: "At most 50 resources" });

export function hasPermission(permissions: Permissions, resource: string, action: string): boolean {
  // Own properties only: "constructor" or "__proto__" must not find Object.prototype's members.
  const grants = (name: string): string[] => {
    const actions: unknown = Object.hasOwn(permissions, name) ? permissions[name] : undefined;
    return Array.isArray(actions) ? actions : [];
  };
  return grants(resource).includes(action) || grants("*").includes(action) || grants(resource).includes("*") || grants("*").includes("*");
}

/** Resources that grant administration. A wildcard resource never reaches them: they must be named. */
export const ADMIN_RESOURCES = ["admin_users", "admin_audit"] as const;

export function isAdminResource(resource: string): boolean {
  return (ADMIN_RESOURCES as readonly string[]).includes(resource);
}

/** An admin permission: the resource named exactly, the action exact or "*". */
export function hasAdminPermission(permissions: Permissions, resource: string, action: string): boolean {
  const actions: unknown = Object.hasOwn(permissions, resource) ? permissions[resource] : undefined;
  return Array.isArray(actions) && (actions.includes(action) || actions.includes("*"));
}
