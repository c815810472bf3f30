// /api/v1/orgs: organizations, their members, invitations and roles, for signed-in users
// (a cookie session or an access token). Each route asks the organization's authority,
// which checks the caller's standing and acts in one step (orgs/authority).
import { Hono } from "hono";
import { limitPerIp } from "../account/registration";
import type { AppEnv } from "../auth/app-env";
import { authenticate, userPrincipal } from "../auth/authenticate";
import { fresh } from "../auth/fresh";
import { parseBody, parseInput, parseQuery } from "../http/body";
import { ApiError } from "../http/errors";
import { sha256 } from "../lib/crypto";
import { deliver } from "../mail/mailer";
import { orgInvitationMessage } from "../mail/templates";
import { invitationOrg, isOrgId, newInvitationToken, newOrgId, slugFrom } from "../orgs/org-ids";
import { toldOrgStanding } from "../orgs/org-claims";
import { forgetUser } from "../sessions/isolate-memory";
import { authorityFor } from "../sessions/authority-client";
import { emailKey } from "../lib/email-address";
import { actorOf, authorityOf, listUserOrgs, orgJson, orgOf, profiles, refusalError, settled } from "../orgs/org-service";
import {
  acceptBody,
  activeOrgBody,
  createOrgBody,
  inviteBody,
  membersQuery,
  putRoleBody,
  roleBody,
  roleName,
  updateOrgBody,
} from "../orgs/schemas";

export const orgRoutes = new Hono<AppEnv>();

orgRoutes.post("/", authenticate(), async (c) => {
  const input = parseBody(c, createOrgBody);
  const services = c.get("services");
  const { userId } = userPrincipal(c);
  const id = newOrgId();
  const slug = input.slug ?? `${slugFrom(input.name)}-${id.slice(-6)}`;
  const created = settled(await services.orgs.getByName(id).create({ id, name: input.name, slug, ownerId: userId }, services.client));
  return c.json(orgJson(created.org), 201);
});

orgRoutes.get("/", authenticate(), async (c) => {
  return c.json({ items: await listUserOrgs(c.get("services"), userPrincipal(c).userId) });
});

orgRoutes.get("/:org", authenticate(), async (c) => {
  const services = c.get("services");
  const stub = await authorityOf(services, c.req.param("org"));
  return c.json(orgJson(settled(await stub.view(actorOf(services, userPrincipal(c).userId))).org));
});

orgRoutes.patch("/:org", authenticate(), async (c) => {
  const input = parseBody(c, updateOrgBody);
  const services = c.get("services");
  const stub = await authorityOf(services, c.req.param("org"));
  const changes = { ...(input.name !== undefined ? { name: input.name } : {}), ...(input.slug !== undefined ? { slug: input.slug } : {}) };
  return c.json(orgJson(settled(await stub.update(actorOf(services, userPrincipal(c).userId), changes)).org));
});

orgRoutes.delete("/:org", authenticate(), fresh(), async (c) => {
  const services = c.get("services");
  const stub = await authorityOf(services, c.req.param("org"));
  const { members } = settled(await stub.remove(actorOf(services, userPrincipal(c).userId)));
  // As after any change of a user's standing here: this isolate's reads see it at once (others within the read bound).
  for (const member of members) forgetUser(member);
  return c.body(null, 204);
});

orgRoutes.get("/:org/members", authenticate(), async (c) => {
  const query = parseQuery(c, membersQuery);
  const services = c.get("services");
  const stub = await authorityOf(services, c.req.param("org"));
  const page = settled(await stub.members(actorOf(services, userPrincipal(c).userId), query.limit, Number(query.cursor ?? "0")));
  const users = await profiles(
    services,
    page.items.map((item) => item.user_id),
  );
  const items = page.items.map((item) => ({
    user: users.get(item.user_id) ?? { id: item.user_id, email: null, name: null },
    role: item.role,
    joined_at: item.joined_at,
  }));
  return c.json({ items, next_cursor: page.next === null ? null : String(page.next) });
});

orgRoutes.patch("/:org/members/:user_id", authenticate(), async (c) => {
  const { role } = parseBody(c, roleBody);
  const services = c.get("services");
  const stub = await authorityOf(services, c.req.param("org"));
  const { member } = settled(await stub.setRole(actorOf(services, userPrincipal(c).userId), c.req.param("user_id"), role));
  forgetUser(member.user_id);
  const user = (await profiles(services, [member.user_id])).get(member.user_id) ?? { id: member.user_id, email: null, name: null };
  return c.json({ user, role: member.role, joined_at: member.joined_at });
});

orgRoutes.delete("/:org/members/:user_id", authenticate(), async (c) => {
  const services = c.get("services");
  const stub = await authorityOf(services, c.req.param("org"));
  settled(await stub.removeMember(actorOf(services, userPrincipal(c).userId), c.req.param("user_id")));
  forgetUser(c.req.param("user_id"));
  return c.body(null, 204);
});

orgRoutes.post("/:org/invitations", authenticate(), async (c) => {
  const input = parseBody(c, inviteBody);
  const services = c.get("services");
  const org = await orgOf(services, c.req.param("org"));
  // Every invitation is a mail: within the client IP's hourly budget of mail, as a reset request is.
  await limitPerIp(services);
  const token = newInvitationToken(org.id);
  const existing = await services.d1
    .prepare("SELECT id FROM users WHERE email_normalized = ?")
    .bind(emailKey(input.email))
    .first<{ id: string }>();
  const sent = settled(
    await org.stub.invite(actorOf(services, userPrincipal(c).userId), {
      id: crypto.randomUUID(),
      email: input.email,
      role: input.role,
      tokenHash: await sha256(token),
      expiresAt: Date.now() + services.config.orgs.invitationTtlMs,
      existingUserId: existing?.id ?? null,
      maxMembers: services.config.orgs.maxMembers,
    }),
  );
  const link = `${services.appBase}/accept-invitation?token=${token}`;
  services.waitUntil(deliver(services.mailer, orgInvitationMessage(input.email, sent.orgName, link, services.config.orgs.invitationTtlMs)));
  return c.json(sent.invitation, 201);
});

orgRoutes.get("/:org/invitations", authenticate(), async (c) => {
  const services = c.get("services");
  const stub = await authorityOf(services, c.req.param("org"));
  return c.json({ items: settled(await stub.invitations(actorOf(services, userPrincipal(c).userId))).items });
});

orgRoutes.delete("/:org/invitations/:id", authenticate(), async (c) => {
  const services = c.get("services");
  const stub = await authorityOf(services, c.req.param("org"));
  settled(await stub.cancelInvitation(actorOf(services, userPrincipal(c).userId), c.req.param("id")));
  return c.body(null, 204);
});

orgRoutes.get("/:org/roles", authenticate(), async (c) => {
  const services = c.get("services");
  const stub = await authorityOf(services, c.req.param("org"));
  return c.json({ items: settled(await stub.roles(actorOf(services, userPrincipal(c).userId))).items });
});

orgRoutes.put("/:org/roles/:role", authenticate(), async (c) => {
  const name = parseInput(roleName, c.req.param("role"));
  const { permissions } = parseBody(c, putRoleBody);
  const services = c.get("services");
  const stub = await authorityOf(services, c.req.param("org"));
  const put = settled(await stub.putRole(actorOf(services, userPrincipal(c).userId), name, permissions));
  return c.json(put.role, put.created ? 201 : 200);
});

orgRoutes.delete("/:org/roles/:role", authenticate(), async (c) => {
  const services = c.get("services");
  const stub = await authorityOf(services, c.req.param("org"));
  settled(await stub.deleteRole(actorOf(services, userPrincipal(c).userId), c.req.param("role")));
  return c.body(null, 204);
});

/** POST /api/v1/invitations/accept: the signed-in user joins with a mailed invitation (its address must be theirs, verified). */
export const invitationRoutes = new Hono<AppEnv>();

invitationRoutes.post("/accept", authenticate(), async (c) => {
  const { token } = parseBody(c, acceptBody);
  const services = c.get("services");
  const orgId = invitationOrg(token);
  if (orgId === null) throw refusalError({ status: "invitation_invalid" });
  const { userId } = userPrincipal(c);
  // The address as it is now (not as a cached record has it): it must be the invited one, and proven.
  const user = await services.d1
    .prepare("SELECT email, email_verified FROM users WHERE id = ?")
    .bind(userId)
    .first<{ email: string; email_verified: number }>();
  if (user === null) throw new ApiError("not_authenticated", "Not authenticated");
  if (user.email_verified !== 1) throw new ApiError("forbidden", "Verify your email address before accepting an invitation");
  const accepted = settled(
    await services.orgs.getByName(orgId).accept(await sha256(token), { userId, email: user.email, client: services.client }),
  );
  return c.json(orgJson(accepted.org));
});

/** POST /api/v1/auth/active-org: the organization the current session (or token family) acts in; null: none. */
export const activeOrgRoutes = new Hono<AppEnv>();

activeOrgRoutes.post("/active-org", authenticate(), async (c) => {
  const { org_id: orgId } = parseBody(c, activeOrgBody);
  const services = c.get("services");
  const { userId, session } = userPrincipal(c);
  // Any id the caller is not a member of (whether or not it exists) is the same refusal.
  const told = orgId === null || !isOrgId(orgId) ? null : await toldOrgStanding(services, userId, orgId);
  if (orgId !== null && told === null) throw new ApiError("not_a_member", "You are not a member of this organization");
  if (!(await authorityFor(services.authority, userId).setActiveOrg(session.id, told?.org.id ?? null, told?.told))) {
    throw new ApiError("not_authenticated", "Not authenticated");
  }
  return c.json({ org: told?.org ?? null });
});
