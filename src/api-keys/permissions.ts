// API key permissions: {"resource": ["action", ...]}, with "*" standing for any resource
// or any action. The check itself is in grants.ts (no dependencies: the edge-auth/hono
// middleware runs it in other Workers too).
import { z } from "zod";
import type { Permissions } from "./grants";

export { hasPermission, type Permissions } from "./grants";

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

/** Resources that grant administration. A wildcard resource never reaches them: they must be named. */
export const ADMIN_RESOURCES = ["admin_users", "admin_audit", "admin_oauth_clients"] as const;

export function isAdminResource(resource: string): boolean {
  return (ADMIN_RESOURCES as readonly string[]).includes(resource);
}

/** An admin permission: the resource named exactly, the action exact or "*". */
export function hasAdminPermission(permissions: Permissions, resource: string, action: string): boolean {
  const actions: unknown = Object.hasOwn(permissions, resource) ? permissions[resource] : undefined;
  return Array.isArray(actions) && (actions.includes(action) || actions.includes("*"));
}
