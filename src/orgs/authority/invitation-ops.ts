// Invitations: sent to an address with a role, each holding a seat until it is accepted,
// withdrawn or expires; accepted once, only by the signed-in owner of the invited address.
import { constantTimeEqual } from "../../lib/crypto";
import { emailKey } from "../../lib/email-address";
import type { OrgCore } from "./core";
import { mayGrant } from "./roles";
import type { Actor, InvitationView, NewInvitation, OrgView, Outcome } from "./types";

export async function invite(
  core: OrgCore,
  actor: Actor,
  input: NewInvitation,
): Promise<Outcome<{ invitation: InvitationView; replaced: boolean; orgName: string }>> {
  return core.serial(async () => {
    const standing = core.standing(actor, "members:invite");
    if (standing.status !== "ok") return standing;
    if (!core.tables.roleExists(input.role)) return { status: "invalid", detail: `No role named ${input.role} in this organization` };
    if (!mayGrant(standing.membership, { role: input.role, custom: core.tables.customRole(input.role) })) {
      return { status: "forbidden", detail: "A role cannot grant more than its granter holds" };
    }
    if (input.existingUserId !== null && core.tables.membership(input.existingUserId) !== null) {
      return { status: "conflict", detail: "This address belongs to a member already" };
    }
    const now = Date.now();
    const pending = core.sql
      .exec<{ id: string; role: string }>(
        "SELECT id, role FROM invitations WHERE email_key = ? AND expires_at > ?",
        emailKey(input.email),
        now,
      )
      .toArray()[0];
    if (pending !== undefined && !mayGrant(standing.membership, { role: pending.role, custom: core.tables.customRole(pending.role) })) {
      return { status: "forbidden", detail: "A pending invitation to a role beyond yours can only be replaced by someone who holds it" };
    }
    // A new invitation to the same address replaces the pending one and takes no new seat.
    if (pending === undefined && input.maxMembers !== null && core.tables.seatsTaken(now) + 1 > input.maxMembers) {
      return { status: "seat_limit" };
    }
    await core.commit(() => {
      core.sql.exec("DELETE FROM invitations WHERE email_key = ?", emailKey(input.email));
      core.sql.exec(
        `INSERT INTO invitations (id, email, email_key, role, token_hash, invited_by, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        input.id,
        input.email,
        emailKey(input.email),
        input.role,
        input.tokenHash,
        actor.userId,
        now,
        input.expiresAt,
      );
      return [core.event(actor.userId, "org_invitation_sent", actor, { invitation_id: input.id, role: input.role })];
    });
    const invitation = { id: input.id, email: input.email, role: input.role, expires_at: new Date(input.expiresAt).toISOString() };
    return { status: "ok", invitation, replaced: pending !== undefined, orgName: standing.org.name };
  });
}

export function listInvitations(core: OrgCore, actor: Actor): Outcome<{ items: InvitationView[]; orgName: string }> {
  const standing = core.standing(actor, "members:invite");
  if (standing.status !== "ok") return standing;
  return { status: "ok", items: core.tables.invitations(Date.now()), orgName: standing.org.name };
}

export async function cancelInvitation(core: OrgCore, actor: Actor, id: string): Promise<Outcome<object>> {
  return core.serial(() => {
    const standing = core.standing(actor, "members:invite");
    if (standing.status !== "ok") return standing;
    const row = core.sql
      .exec<{ role: string }>("SELECT role FROM invitations WHERE id = ? AND expires_at > ?", id, Date.now())
      .toArray()[0];
    if (row === undefined) return { status: "no_member" };
    if (!mayGrant(standing.membership, { role: row.role, custom: core.tables.customRole(row.role) })) {
      return { status: "forbidden", detail: "An invitation to a role beyond yours can only be withdrawn by someone who holds it" };
    }
    core.sql.exec("DELETE FROM invitations WHERE id = ?", id);
    return { status: "ok" };
  });
}

/** Accepts an invitation for the signed-in user whose verified address is `email`. */
export async function acceptInvitation(
  core: OrgCore,
  tokenHash: string,
  user: { userId: string; email: string; client: Actor["client"] },
): Promise<Outcome<{ org: OrgView }>> {
  return core.serial(async () => {
    const org = core.schema.blank ? null : core.tables.org();
    const row =
      org === null
        ? undefined
        : core.sql
            .exec<{ id: string; email: string; role: string; token_hash: string; expires_at: number; invited_by: string }>(
              "SELECT id, email, role, token_hash, expires_at, invited_by FROM invitations WHERE token_hash = ?",
              tokenHash,
            )
            .toArray()[0];
    if (org === null || row === undefined || !constantTimeEqual(row.token_hash, tokenHash) || row.expires_at <= Date.now()) {
      return { status: "invitation_invalid" };
    }
    if (emailKey(row.email) !== emailKey(user.email)) return { status: "wrong_address" };
    // An invitation is worth what its sender may still grant: one sent by a member since
    // demoted or removed grants no more than they now could (nothing, once they are gone).
    const inviter = core.tables.membership(row.invited_by);
    if (inviter === null || !mayGrant(inviter, { role: row.role, custom: core.tables.customRole(row.role) })) {
      core.sql.exec("DELETE FROM invitations WHERE id = ?", row.id);
      return { status: "invitation_invalid" };
    }
    const actor = { userId: user.userId, client: user.client };
    const existing = core.tables.membership(user.userId);
    // A custom role deleted since the invitation was sent falls back to member.
    const role = existing?.role ?? (core.tables.roleExists(row.role) ? row.role : "member");
    const at = new Date().toISOString();
    await core.commit(() => {
      core.sql.exec("DELETE FROM invitations WHERE id = ?", row.id);
      if (existing !== null) return [];
      core.sql.exec("INSERT INTO members (user_id, role, joined_at) VALUES (?, ?, ?)", user.userId, role, Date.now());
      return [
        { kind: "member", orgId: org.id, userId: user.userId, role, joinedAt: at },
        core.event(user.userId, "org_invitation_accepted", actor, { invitation_id: row.id, role }),
        core.event(user.userId, "org_member_added", actor, { role }),
      ];
    });
    return { status: "ok", org: core.tables.view(org, { role, custom: core.tables.customRole(role) }) };
  });
}
