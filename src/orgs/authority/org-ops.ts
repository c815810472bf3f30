// The organization itself: created with its owner, renamed, deleted.
import { uniqueViolation } from "../../db/unique-conflict";
import type { OrgCore } from "./core";
import { eraseKeys } from "./key-ops";
import { markEveryMember } from "./standing-push";
import type { Actor, NewOrg, OrgView, Outcome } from "./types";

const SLUG_TAKEN = { status: "conflict", detail: "This slug is taken" } as const;

export async function createOrg(core: OrgCore, input: NewOrg, client: Actor["client"]): Promise<Outcome<{ org: OrgView }>> {
  return core.serial(async () => {
    if (!core.schema.blank) return { status: "conflict", detail: "This organization exists" };
    const now = Date.now();
    const at = new Date(now).toISOString();
    try {
      // The slug is decided by D1's unique index (as an email address is), before anything is kept here.
      await core.env.DB.prepare("INSERT INTO organizations (id, name, slug, created_at) VALUES (?, ?, ?, ?)")
        .bind(input.id, input.name, input.slug, at)
        .run();
    } catch (error) {
      if (uniqueViolation(error) === "organizations.slug") return SLUG_TAKEN;
      throw error;
    }
    await core.commit(() => {
      core.sql.exec("INSERT INTO org (id, name, slug, created_at) VALUES (?, ?, ?, ?)", input.id, input.name, input.slug, now);
      core.sql.exec("INSERT INTO members (user_id, role, joined_at) VALUES (?, 'owner', ?)", input.ownerId, now);
      return [
        { kind: "member", orgId: input.id, userId: input.ownerId, role: "owner", joinedAt: at },
        core.event(input.ownerId, "org_created", { userId: input.ownerId, client }, { name: input.name, slug: input.slug }),
      ];
    });
    const org = { id: input.id, name: input.name, slug: input.slug, created_at: now, deleted_at: null };
    return { status: "ok", org: core.tables.view(org, { role: "owner", custom: null }) };
  });
}

export async function updateOrg(
  core: OrgCore,
  actor: Actor,
  changes: { name?: string; slug?: string },
): Promise<Outcome<{ org: OrgView }>> {
  return core.serial(async () => {
    const standing = core.standing(actor, "org:update");
    if (standing.status !== "ok") return standing;
    const { org } = standing;
    const name = changes.name ?? org.name;
    const slug = changes.slug ?? org.slug;
    if (slug !== org.slug) {
      try {
        await core.env.DB.prepare("UPDATE organizations SET slug = ?, name = ? WHERE id = ?").bind(slug, name, org.id).run();
      } catch (error) {
        if (uniqueViolation(error) === "organizations.slug") return SLUG_TAKEN;
        throw error;
      }
    }
    await core.commit(() => {
      core.sql.exec("UPDATE org SET name = ?, slug = ?", name, slug);
      // The slug is part of every member's standing.
      if (slug !== org.slug) markEveryMember(core.sql);
      return name === org.name ? [] : [{ kind: "org_renamed", orgId: org.id, name }];
    });
    return { status: "ok", org: core.tables.view({ ...org, name, slug }, standing.membership) };
  });
}

/** Deletes the organization (owners only): every membership and invitation ends with it. */
export async function removeOrg(core: OrgCore, actor: Actor): Promise<Outcome<{ members: string[] }>> {
  return core.serial(async () => {
    const standing = core.standing(actor);
    if (standing.status !== "ok") return standing;
    // Owners alone, whatever a custom role says (a role holding org:delete included).
    if (standing.membership.role !== "owner") return { status: "forbidden", detail: "Only an owner can delete the organization" };
    return { status: "ok", members: await endOrg(core, actor) };
  });
}

/** Marks the organization gone and queues its records' removal; its storage goes once D1 has them. Inside `serial`. */
export async function endOrg(core: OrgCore, actor: Actor | null): Promise<string[]> {
  const org = core.tables.org();
  if (org === null) return [];
  const members = core.sql
    .exec<{ user_id: string }>("SELECT user_id FROM members")
    .toArray()
    .map((row) => row.user_id);
  // Its keys stop first: once the deletion answers, no key of it works anywhere.
  await eraseKeys(core);
  await core.commit(() => {
    core.sql.exec("UPDATE org SET deleted_at = ?", Date.now());
    core.sql.exec("DELETE FROM invitations");
    markEveryMember(core.sql);
    const by = actor === null ? [] : [core.event(actor.userId, "org_deleted", actor, { name: org.name })];
    return [{ kind: "org_gone", orgId: org.id }, ...by];
  });
  return members;
}
