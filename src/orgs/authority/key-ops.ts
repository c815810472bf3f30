// The organization's API keys as its authority sees them: who may make or manage them
// (api_keys:manage), what a new key may hold (never more than its maker's role), how many
// (MAX_ORG_KEYS), and which ids it holds, so that deleting the organization erases them
// all. The keys themselves live at their own objects (api-keys/authority/).
import type { KeyChanges, KeyRecord, KeyUpdate } from "../../api-keys/authority/api-key-authority";
import type { OrgCore } from "./core";
import { allows } from "./roles";
import type { Actor, Outcome } from "./types";

export const MAX_ORG_KEYS = 100;

type Grants = Record<string, string[]>;

/** Whether every permission of a key is one its maker's role holds (wildcards read literally). */
function within(core: OrgCore, actor: Actor, permissions: Grants): boolean {
  const membership = core.tables.membership(actor.userId);
  if (membership === null) return false;
  return Object.entries(permissions).every(([resource, actions]) =>
    actions.every((action) => allows(membership.role, membership.custom, resource, action)),
  );
}

/** The caller may manage the organization's keys; with `permissions`, also give a key those. */
export function keyAccess(core: OrgCore, actor: Actor, permissions?: Grants): Outcome<object> {
  const standing = core.standing(actor, "api_keys:manage");
  if (standing.status !== "ok") return standing;
  if (permissions !== undefined && !within(core, actor, permissions)) {
    return { status: "forbidden", detail: "An organization's key cannot hold more than your role in it" };
  }
  return { status: "ok" };
}

/** Reserves a new key's id for the organization, in the same step as the maker's standing is checked. */
export async function reserveKey(
  core: OrgCore,
  actor: Actor,
  keyId: string,
  permissions: Grants,
): Promise<Outcome<{ reservation: "reserved" | "too_many" }>> {
  return core.serial(() => {
    const access = keyAccess(core, actor, permissions);
    if (access.status !== "ok") return access;
    const held = core.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM api_keys").one().n;
    if (held >= MAX_ORG_KEYS) return { status: "ok", reservation: "too_many" };
    core.sql.exec("INSERT INTO api_keys (id, created_at, maker) VALUES (?, ?, ?)", keyId, Date.now(), actor.userId);
    return { status: "ok", reservation: "reserved" };
  });
}

export function releaseKey(core: OrgCore, keyId: string): void {
  if (!core.schema.blank) core.sql.exec("DELETE FROM api_keys WHERE id = ?", keyId);
}

/** Whether the organization (still) holds the key: false once it is deleted. */
export function holdsKey(core: OrgCore, keyId: string): boolean {
  if (core.schema.blank || core.tables.org() === null) return false;
  return core.sql.exec("SELECT 1 FROM api_keys WHERE id = ?", keyId).toArray().length > 0;
}

/** Erases every key of the organization at its own object (before the organization is marked gone), and frees its makers' counts. */
export async function eraseKeys(core: OrgCore): Promise<void> {
  const keys = core.sql.exec<{ id: string; maker: string | null }>("SELECT id, maker FROM api_keys").toArray();
  await Promise.all(keys.map((key) => core.env.API_KEYS.getByName(key.id).erase()));
  await Promise.all(
    keys.flatMap((key) => (key.maker === null ? [] : [core.env.USER_AUTHORITY.getByName(key.maker).releaseApiKey(key.id)])),
  );
}

/** A maker's account was deleted (its keys with it): the organization stops counting them. */
export function forgetMakersKeys(core: OrgCore, userId: string): void {
  core.sql.exec("DELETE FROM api_keys WHERE maker = ?", userId);
}

/**
 * Changes one of the organization's keys at its object, in the organization's queue: the
 * caller's right to manage keys (and to give new permissions) is checked in the same step,
 * so a manager demoted a moment earlier widens nothing.
 */
export async function changeKey(
  core: OrgCore,
  actor: Actor,
  keyId: string,
  changes: KeyChanges,
  legacy: KeyRecord,
): Promise<Outcome<{ update: KeyUpdate }>> {
  return core.serial(async () => {
    const access = keyAccess(core, actor, changes.permissions);
    if (access.status !== "ok") return access;
    if (!holdsKey(core, keyId)) return { status: "no_member" };
    return { status: "ok", update: await core.env.API_KEYS.getByName(keyId).update(changes, legacy) };
  });
}
