// Members: listed, given a role, removed (or leaving), and taken out when their account is
// deleted. The organization keeps at least one owner through all of them.
import type { OrgCore } from "./core";
import { forgetMakersKeys } from "./key-ops";
import { endOrg } from "./org-ops";
import type { OrgRecord } from "./records";
import { mayGrant } from "./roles";
import type { Actor, MemberRow, Outcome } from "./types";

const OWNERS_ONLY = { status: "forbidden", detail: "Only an owner can change or remove an owner, or make one" } as const;

export function listMembers(
  core: OrgCore,
  actor: Actor,
  limit: number,
  after: number,
): Outcome<{ items: MemberRow[]; next: number | null }> {
  // Any member may list the members (contract: "member").
  const standing = core.standing(actor);
  if (standing.status !== "ok") return standing;
  return { status: "ok", ...core.tables.memberPage(limit, after) };
}

export async function setRole(core: OrgCore, actor: Actor, userId: string, role: string): Promise<Outcome<{ member: MemberRow }>> {
  return core.serial(async () => {
    const standing = core.standing(actor, "members:update");
    if (standing.status !== "ok") return standing;
    const target = core.tables.membership(userId);
    if (target === null) return { status: "no_member" };
    if (!core.tables.roleExists(role)) return { status: "invalid", detail: `No role named ${role} in this organization` };
    const granter = standing.membership;
    if ((target.role === "owner" || role === "owner") && granter.role !== "owner") return OWNERS_ONLY;
    // Neither the role given nor the role taken away may reach beyond the granter's own.
    if (!mayGrant(granter, { role, custom: core.tables.customRole(role) }) || !mayGrant(granter, target)) {
      return { status: "forbidden", detail: "A role cannot grant more than its granter holds" };
    }
    if (target.role === "owner" && role !== "owner" && core.tables.owners() === 1) return { status: "last_owner" };
    const orgId = standing.org.id;
    await core.commit(() => {
      core.sql.exec("UPDATE members SET role = ? WHERE user_id = ?", role, userId);
      const joinedAt = core.tables.member(userId)?.joined_at ?? new Date().toISOString();
      return [
        { kind: "member", orgId, userId, role, joinedAt },
        core.event(userId, "org_role_changed", actor, { role, previous_role: target.role }),
      ];
    });
    return { status: "ok", member: core.tables.member(userId) as MemberRow };
  });
}

/** Removes a member: with members:delete, or the member themself (leaving). */
export async function removeMember(core: OrgCore, actor: Actor, userId: string): Promise<Outcome<object>> {
  return core.serial(async () => {
    const self = actor.userId === userId;
    const standing = core.standing(actor, self ? undefined : "members:delete");
    if (standing.status !== "ok") return standing;
    const target = core.tables.membership(userId);
    if (target === null) return { status: "no_member" };
    if (!self && target.role === "owner" && standing.membership.role !== "owner") return OWNERS_ONLY;
    if (!self && !mayGrant(standing.membership, target)) {
      return { status: "forbidden", detail: "A member whose role reaches beyond yours can only be removed by someone who holds it" };
    }
    if (target.role === "owner" && core.tables.owners() === 1) return { status: "last_owner" };
    const orgId = standing.org.id;
    await core.commit(() => {
      core.sql.exec("DELETE FROM members WHERE user_id = ?", userId);
      return [{ kind: "member_gone", orgId, userId }, core.event(userId, "org_member_removed", actor, { role: target.role })];
    });
    return { status: "ok" };
  });
}

/**
 * The user's account was deleted: their membership ends. An organization left without an
 * owner goes to its oldest admin, else its oldest member; with no one left it is deleted.
 */
export async function userDeleted(core: OrgCore, userId: string): Promise<void> {
  await core.serial(async () => {
    const org = core.schema.blank ? null : core.tables.org();
    const target = org === null ? null : core.tables.membership(userId);
    if (org === null || target === null) return;
    const lastOwner = target.role === "owner" && core.tables.owners() === 1;
    const heir = lastOwner ? core.tables.heir(userId) : null;
    if (lastOwner && heir === null) {
      await endOrg(core, null);
      return;
    }
    await core.commit(() => {
      core.sql.exec("DELETE FROM members WHERE user_id = ?", userId);
      // The deletion erased the keys they made: no longer counted here.
      forgetMakersKeys(core, userId);
      if (heir !== null) core.sql.exec("UPDATE members SET role = 'owner' WHERE user_id = ?", heir);
      const joinedAt = heir === null ? "" : (core.tables.member(heir)?.joined_at ?? "");
      const inherited: OrgRecord[] =
        heir === null
          ? []
          : [
              { kind: "member", orgId: org.id, userId: heir, role: "owner", joinedAt },
              core.event(heir, "org_role_changed", null, { role: "owner", reason: "owner_deleted" }),
            ];
      return [{ kind: "member_gone", orgId: org.id, userId }, ...inherited];
    });
  });
}
