// Custom roles: `resource:action` permissions (the API-key grammar), defined by a holder of
// roles:manage, never beyond what the definer holds. Built-in roles are fixed.
import type { OrgCore } from "./core";
import { BUILTIN_ROLES, isBuiltinRole, mayGrant, permissionsOf } from "./roles";
import { markStanding } from "./standing-push";
import type { Actor, Outcome, RoleView } from "./types";

export const MAX_CUSTOM_ROLES = 50;

export function listRoles(core: OrgCore, actor: Actor): Outcome<{ items: RoleView[] }> {
  const standing = core.standing(actor, "roles:manage");
  if (standing.status !== "ok") return standing;
  const custom = core.sql
    .exec<{ name: string; permissions: string }>("SELECT name, permissions FROM roles ORDER BY name")
    .toArray()
    .map((row) => ({ name: row.name, permissions: JSON.parse(row.permissions) as string[], builtin: false }));
  const builtin = BUILTIN_ROLES.map((name) => ({ name, permissions: permissionsOf(name, null), builtin: true }));
  return { status: "ok", items: [...builtin, ...custom] };
}

export async function putRole(
  core: OrgCore,
  actor: Actor,
  name: string,
  permissions: string[],
): Promise<Outcome<{ role: RoleView; created: boolean }>> {
  return core.serial(async () => {
    const standing = core.standing(actor, "roles:manage");
    if (standing.status !== "ok") return standing;
    if (isBuiltinRole(name)) return { status: "invalid", detail: "Built-in roles cannot be redefined" };
    const before = core.tables.customRole(name);
    // A role is redefined only by someone who could grant it as it was and as it will be.
    if (
      !mayGrant(standing.membership, { role: name, custom: permissions }) ||
      (before !== null && !mayGrant(standing.membership, { role: name, custom: before }))
    ) {
      return { status: "forbidden", detail: "A role cannot grant more than its granter holds" };
    }
    const created = before === null;
    const count = core.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM roles").one().n;
    if (created && count >= MAX_CUSTOM_ROLES) return { status: "invalid", detail: `At most ${MAX_CUSTOM_ROLES} custom roles` };
    await core.commit(() => {
      core.sql.exec("INSERT OR REPLACE INTO roles (name, permissions) VALUES (?, ?)", name, JSON.stringify(permissions));
      // Its holders' permissions are part of their standing.
      const holders = core.sql.exec<{ user_id: string }>("SELECT user_id FROM members WHERE role = ?", name).toArray();
      markStanding(
        core.sql,
        holders.map((row) => row.user_id),
      );
      return [];
    });
    return { status: "ok", role: { name, permissions, builtin: false }, created };
  });
}

export async function deleteRole(core: OrgCore, actor: Actor, name: string): Promise<Outcome<object>> {
  return core.serial(() => {
    const standing = core.standing(actor, "roles:manage");
    if (standing.status !== "ok") return standing;
    if (isBuiltinRole(name)) return { status: "invalid", detail: "Built-in roles cannot be deleted" };
    const held = core.tables.customRole(name);
    if (held === null) return { status: "no_member" };
    if (!mayGrant(standing.membership, { role: name, custom: held })) {
      return { status: "forbidden", detail: "A role cannot be deleted by someone who could not grant it" };
    }
    if (core.sql.exec("SELECT 1 FROM members WHERE role = ? LIMIT 1", name).toArray().length > 0) {
      return { status: "conflict", detail: "A member still holds this role" };
    }
    core.sql.exec("DELETE FROM roles WHERE name = ?", name);
    return { status: "ok" };
  });
}
