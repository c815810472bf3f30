// One SQLite-backed Durable Object per organization, named by its id: the one place that
// decides, in order, who is a member with which role, which invitations are pending, what
// custom roles hold and how many seats are taken. Every change is one call here that checks
// the caller's standing and acts in the same step, so a member demoted or removed a moment
// earlier can no longer act, and a count (owners, seats) is exact under any concurrency.
// The operations live beside it (org-ops, member-ops, invitation-ops, role-ops); D1 keeps
// the records they leave (records.ts).
import { DurableObject } from "cloudflare:workers";
import { OrgCore } from "./core";
import type { KeyChanges, KeyRecord, KeyUpdate } from "../../api-keys/authority/api-key-authority";
import { changeKey, holdsKey, keyAccess, releaseKey, reserveKey } from "./key-ops";
import { acceptInvitation, cancelInvitation, invite, listInvitations } from "./invitation-ops";
import { listMembers, removeMember, setRole, userDeleted } from "./member-ops";
import { createOrg, removeOrg, updateOrg } from "./org-ops";
import { deleteRole, listRoles, putRole } from "./role-ops";
import { standingSeq } from "./standing-push";
import type { Actor, InvitationView, MemberRow, NewInvitation, NewOrg, OrgView, Outcome, RoleView } from "./types";

export type * from "./types";

export class OrgAuthority extends DurableObject<Env> {
  private readonly core: OrgCore;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.core = new OrgCore(ctx, env);
  }

  create(input: NewOrg, client: Actor["client"]): Promise<Outcome<{ org: OrgView }>> {
    return createOrg(this.core, input, client);
  }

  /** The organization as `actor` sees it, as of `seq` of its standing sequence (standing-push.ts); not_found for a non-member. */
  view(actor: Actor): Outcome<{ org: OrgView; seq: number }> {
    const standing = this.core.standing(actor);
    if (standing.status !== "ok") return standing;
    return { status: "ok", org: this.core.tables.view(standing.org, standing.membership), seq: standingSeq(this.core.sql) };
  }

  update(actor: Actor, changes: { name?: string; slug?: string }): Promise<Outcome<{ org: OrgView }>> {
    return updateOrg(this.core, actor, changes);
  }

  remove(actor: Actor): Promise<Outcome<{ members: string[] }>> {
    return removeOrg(this.core, actor);
  }

  members(actor: Actor, limit: number, after: number): Outcome<{ items: MemberRow[]; next: number | null }> {
    return listMembers(this.core, actor, limit, after);
  }

  setRole(actor: Actor, userId: string, role: string): Promise<Outcome<{ member: MemberRow }>> {
    return setRole(this.core, actor, userId, role);
  }

  removeMember(actor: Actor, userId: string): Promise<Outcome<object>> {
    return removeMember(this.core, actor, userId);
  }

  userDeleted(userId: string): Promise<void> {
    return userDeleted(this.core, userId);
  }

  invite(actor: Actor, input: NewInvitation): Promise<Outcome<{ invitation: InvitationView; replaced: boolean; orgName: string }>> {
    return invite(this.core, actor, input);
  }

  invitations(actor: Actor): Outcome<{ items: InvitationView[]; orgName: string }> {
    return listInvitations(this.core, actor);
  }

  cancelInvitation(actor: Actor, id: string): Promise<Outcome<object>> {
    return cancelInvitation(this.core, actor, id);
  }

  accept(tokenHash: string, user: { userId: string; email: string; client: Actor["client"] }): Promise<Outcome<{ org: OrgView }>> {
    return acceptInvitation(this.core, tokenHash, user);
  }

  keyAccess(actor: Actor, permissions?: Record<string, string[]>): Outcome<object> {
    return keyAccess(this.core, actor, permissions);
  }

  reserveKey(
    actor: Actor,
    keyId: string,
    permissions: Record<string, string[]>,
  ): Promise<Outcome<{ reservation: "reserved" | "too_many" }>> {
    return reserveKey(this.core, actor, keyId, permissions);
  }

  changeKey(actor: Actor, keyId: string, changes: KeyChanges, legacy: KeyRecord): Promise<Outcome<{ update: KeyUpdate }>> {
    return changeKey(this.core, actor, keyId, changes, legacy);
  }

  releaseKey(keyId: string): void {
    releaseKey(this.core, keyId);
  }

  holdsKey(keyId: string): boolean {
    return holdsKey(this.core, keyId);
  }

  roles(actor: Actor): Outcome<{ items: RoleView[] }> {
    return listRoles(this.core, actor);
  }

  putRole(actor: Actor, name: string, permissions: string[]): Promise<Outcome<{ role: RoleView; created: boolean }>> {
    return putRole(this.core, actor, name, permissions);
  }

  deleteRole(actor: Actor, name: string): Promise<Outcome<object>> {
    return deleteRole(this.core, actor, name);
  }

  /** Sends what a decision left queued or marked (core.retry), then takes out members whose account is gone. */
  override async alarm(): Promise<void> {
    const { core } = this;
    await core.retry();
    while (!core.schema.blank) {
      const leaver = core.sql.exec<{ user_id: string }>("SELECT user_id FROM leavers LIMIT 1").toArray()[0];
      if (leaver === undefined) break;
      await userDeleted(core, leaver.user_id);
      if (!core.schema.blank) core.sql.exec("DELETE FROM leavers WHERE user_id = ?", leaver.user_id);
    }
  }
}
