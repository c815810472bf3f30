// Organizations (contract v1.2, "Organizations"): the routes, who may do what, and the
// invisibility of an organization to non-members.
import { describe, expect, it } from "vitest";
import { makeAdmin } from "./helpers/admin";
import { TestClient } from "./helpers/client";
import { type Person, addMember, createOrg, invitationToken, verifiedPerson } from "./helpers/orgs";
import { login, registerUser } from "./helpers/users";

async function json<T = Record<string, unknown>>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

describe("an organization", () => {
  it("is created with its creator as owner, listed for them, and read by id or slug", async () => {
    const owner = await verifiedPerson();
    const org = await createOrg(owner, { name: "Acme Rockets", slug: `acme-${crypto.randomUUID().slice(0, 8)}` });
    expect(org).toMatchObject({ name: "Acme Rockets", role: "owner" });
    expect(org.id).toMatch(/^org_[0-9a-f]{24}$/);
    expect(Date.parse(org.created_at)).toBeGreaterThan(0);
    const listed = await json<{ items: Array<{ id: string; role: string }> }>(await owner.client.get("/api/v1/orgs"));
    expect(listed.items).toEqual([expect.objectContaining({ id: org.id, role: "owner" })]);
    expect(await json(await owner.client.get(`/api/v1/orgs/${org.slug}`))).toMatchObject({ id: org.id, role: "owner" });
    expect(await json(await owner.client.get(`/api/v1/orgs/${org.id}`))).toMatchObject({ slug: org.slug });
  });

  it("gets a slug from its name when none is given, and refuses a taken or malformed slug", async () => {
    const owner = await verifiedPerson();
    const org = await createOrg(owner, { name: "Über Team!" });
    expect(org.slug).toMatch(/^uber-team-[0-9a-f]{6}$/);
    const taken = await owner.client.post("/api/v1/orgs", { json: { name: "Other", slug: org.slug } });
    expect(taken.status).toBe(409);
    expect(await json(taken)).toMatchObject({ code: "invalid_request" });
    const bad = await owner.client.post("/api/v1/orgs", { json: { name: "Other", slug: "Not A Slug" } });
    expect(bad.status).toBe(422);
    expect(await json(bad)).toMatchObject({ code: "invalid_request", errors: [expect.objectContaining({ path: "slug" })] });
    expect((await owner.client.post("/api/v1/orgs", { json: { slug: "x" } })).status).toBe(422);
    expect((await new TestClient().post("/api/v1/orgs", { json: { name: "x" } })).status).toBe(401);
  });

  it("is invisible to a non-member (404 org_not_found, as for no organization at all)", async () => {
    const owner = await verifiedPerson();
    const stranger = await verifiedPerson();
    const org = await createOrg(owner);
    for (const path of [
      `/api/v1/orgs/${org.id}`,
      `/api/v1/orgs/${org.slug}`,
      `/api/v1/orgs/${org.id}/members`,
      "/api/v1/orgs/org_000000000000000000000000",
      "/api/v1/orgs/no-such-org",
    ]) {
      const response = await stranger.client.get(path);
      expect(response.status, path).toBe(404);
      expect(await json(response)).toMatchObject({ code: "org_not_found" });
    }
    expect((await stranger.client.patch(`/api/v1/orgs/${org.id}`, { json: { name: "Mine" } })).status).toBe(404);
    expect((await stranger.client.delete(`/api/v1/orgs/${org.id}/members/${owner.user.id}`)).status).toBe(404);
  });

  it("lets a member read it and its members but not change them (403 forbidden)", async () => {
    const owner = await verifiedPerson();
    const member = await verifiedPerson();
    const org = await createOrg(owner);
    await addMember(owner, org, member);
    expect(await json(await member.client.get(`/api/v1/orgs/${org.id}`))).toMatchObject({ id: org.id, role: "member" });
    const members = await json<{
      items: Array<{ user: { id: string; email: string }; role: string; joined_at: string }>;
      next_cursor: null;
    }>(await member.client.get(`/api/v1/orgs/${org.id}/members`));
    expect(members.items.map((item) => [item.user.id, item.user.email, item.role])).toEqual([
      [owner.user.id, owner.user.email, "owner"],
      [member.user.id, member.user.email, "member"],
    ]);
    expect(members.next_cursor).toBeNull();
    const rename = await member.client.patch(`/api/v1/orgs/${org.id}`, { json: { name: "Mine" } });
    expect(rename.status).toBe(403);
    expect(await json(rename)).toMatchObject({ code: "forbidden" });
    expect(
      (await member.client.post(`/api/v1/orgs/${org.id}/invitations`, { json: { email: "x@example.com", role: "member" } })).status,
    ).toBe(403);
    expect((await member.client.patch(`/api/v1/orgs/${org.id}/members/${owner.user.id}`, { json: { role: "member" } })).status).toBe(403);
    expect((await member.client.get(`/api/v1/orgs/${org.id}/roles`)).status).toBe(403);
  });

  it("pages its members with a cursor", async () => {
    const owner = await verifiedPerson();
    const org = await createOrg(owner);
    const people = await Promise.all([verifiedPerson(), verifiedPerson()]);
    for (const person of people) await addMember(owner, org, person);
    const first = await json<{ items: Array<{ user: { id: string } }>; next_cursor: string }>(
      await owner.client.get(`/api/v1/orgs/${org.id}/members?limit=2`),
    );
    expect(first.items).toHaveLength(2);
    const second = await json<{ items: Array<{ user: { id: string } }>; next_cursor: string | null }>(
      await owner.client.get(`/api/v1/orgs/${org.id}/members?limit=2&cursor=${first.next_cursor}`),
    );
    expect(second.items).toHaveLength(1);
    expect(second.next_cursor).toBeNull();
    // Sent empty, as the contract writes them: read as not sent.
    const all = await json<{ items: unknown[]; next_cursor: string | null }>(
      await owner.client.get(`/api/v1/orgs/${org.id}/members?limit=&cursor=`),
    );
    expect(all.items).toHaveLength(3);
    const bad = await owner.client.get(`/api/v1/orgs/${org.id}/members?cursor=abc`);
    expect(bad.status).toBe(422);
    expect(await json(bad)).toMatchObject({ errors: [expect.objectContaining({ path: "query.cursor" })] });
  });
});

describe("invitations", () => {
  it("mail a single-use link that only the invited, verified address can accept", async () => {
    const owner = await verifiedPerson();
    const invited = await verifiedPerson();
    const other = await verifiedPerson();
    const org = await createOrg(owner);
    const sent = await owner.client.post(`/api/v1/orgs/${org.id}/invitations`, { json: { email: invited.user.email, role: "admin" } });
    expect(sent.status).toBe(201);
    const invitation = await json<{ id: string; email: string; role: string; expires_at: string }>(sent);
    expect(invitation).toMatchObject({ email: invited.user.email, role: "admin" });
    expect(Date.parse(invitation.expires_at) - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    const listed = await json<{ items: Array<{ id: string }> }>(await owner.client.get(`/api/v1/orgs/${org.id}/invitations`));
    expect(listed.items.map((item) => item.id)).toEqual([invitation.id]);
    const token = await invitationToken(invited.user.email);

    const wrong = await other.client.post("/api/v1/invitations/accept", { json: { token } });
    expect(wrong.status).toBe(403);
    const accepted = await invited.client.post("/api/v1/invitations/accept", { json: { token } });
    expect(accepted.status).toBe(200);
    expect(await json(accepted)).toMatchObject({ id: org.id, role: "admin" });
    const again = await invited.client.post("/api/v1/invitations/accept", { json: { token } });
    expect(again.status).toBe(400);
    expect(await json(again)).toMatchObject({ code: "invitation_invalid" });
    expect((await json<{ items: unknown[] }>(await owner.client.get(`/api/v1/orgs/${org.id}/invitations`))).items).toEqual([]);
    for (const token of ["", "nonsense", `${org.id}.${"A".repeat(43)}`]) {
      const refused = await invited.client.post("/api/v1/invitations/accept", { json: { token } });
      expect(refused.status).toBe(400);
      expect(await json(refused)).toMatchObject({ code: "invitation_invalid" });
    }
  });

  it("are refused to an unverified address (which may still make an organization), and to an existing member (409)", async () => {
    const owner = await verifiedPerson();
    const org = await createOrg(owner);
    const client = new TestClient();
    const unverified = await registerUser(client);
    await login(client, unverified);
    expect(
      (await owner.client.post(`/api/v1/orgs/${org.id}/invitations`, { json: { email: unverified.email, role: "member" } })).status,
    ).toBe(201);
    const refused = await client.post("/api/v1/invitations/accept", { json: { token: await invitationToken(unverified.email) } });
    expect(refused.status).toBe(403);
    // An unverified account may make an organization (the contract asks a verified address only of an acceptance).
    const made = await client.post("/api/v1/orgs", { json: { name: "Before the proof" } });
    expect(made.status).toBe(201);
    const tooLong = await client.post("/api/v1/invitations/accept", { json: { token: "x".repeat(600) } });
    expect(tooLong.status).toBe(400);
    expect(await tooLong.json()).toMatchObject({ code: "invitation_invalid" });
    const existing = await owner.client.post(`/api/v1/orgs/${org.id}/invitations`, { json: { email: owner.user.email, role: "member" } });
    expect(existing.status).toBe(409);
    expect(await json(existing)).toMatchObject({ code: "invalid_request" });
  });

  it("replace a pending one to the same address, and can be withdrawn", async () => {
    const owner = await verifiedPerson();
    const invited = await verifiedPerson();
    const org = await createOrg(owner);
    await owner.client.post(`/api/v1/orgs/${org.id}/invitations`, { json: { email: invited.user.email, role: "member" } });
    const firstToken = await invitationToken(invited.user.email);
    const second = await json<{ id: string }>(
      await owner.client.post(`/api/v1/orgs/${org.id}/invitations`, { json: { email: invited.user.email.toUpperCase(), role: "admin" } }),
    );
    const listed = await json<{ items: Array<{ id: string; role: string }> }>(await owner.client.get(`/api/v1/orgs/${org.id}/invitations`));
    expect(listed.items).toEqual([expect.objectContaining({ id: second.id, role: "admin" })]);
    expect((await invited.client.post("/api/v1/invitations/accept", { json: { token: firstToken } })).status).toBe(400);
    expect((await owner.client.delete(`/api/v1/orgs/${org.id}/invitations/${second.id}`)).status).toBe(204);
    expect((await owner.client.delete(`/api/v1/orgs/${org.id}/invitations/${second.id}`)).status).toBe(404);
    expect(
      (await invited.client.post("/api/v1/invitations/accept", { json: { token: await invitationToken(invited.user.email) } })).status,
    ).toBe(400);
  });
});

describe("roles", () => {
  it("keep the built-in ones fixed, define custom ones within the definer's permissions, and refuse deleting one still held", async () => {
    const owner = await verifiedPerson();
    const admin = await verifiedPerson();
    const auditor = await verifiedPerson();
    const org = await createOrg(owner);
    await addMember(owner, org, admin, "admin");
    const builtin = await owner.client.put(`/api/v1/orgs/${org.id}/roles/admin`, { json: { permissions: ["org:read"] } });
    expect(builtin.status).toBe(422);
    expect((await owner.client.delete(`/api/v1/orgs/${org.id}/roles/member`)).status).toBe(422);
    const beyond = await admin.client.put(`/api/v1/orgs/${org.id}/roles/deleter`, { json: { permissions: ["org:delete"] } });
    expect(beyond.status).toBe(403);
    const created = await admin.client.put(`/api/v1/orgs/${org.id}/roles/auditor`, {
      json: { permissions: ["org:read", "members:read", "billing:read"] },
    });
    expect(created.status).toBe(201);
    expect(
      (await admin.client.put(`/api/v1/orgs/${org.id}/roles/auditor`, { json: { permissions: ["org:read", "members:read"] } })).status,
    ).toBe(200);
    expect((await owner.client.put(`/api/v1/orgs/${org.id}/roles/auditor`, { json: { permissions: ["not a permission"] } })).status).toBe(
      422,
    );
    const roles = await json<{ items: Array<{ name: string; builtin: boolean }> }>(await owner.client.get(`/api/v1/orgs/${org.id}/roles`));
    expect(roles.items.map((role) => role.name)).toEqual(["owner", "admin", "member", "auditor"]);
    await addMember(owner, org, auditor, "auditor");
    const held = await owner.client.delete(`/api/v1/orgs/${org.id}/roles/auditor`);
    expect(held.status).toBe(409);
    expect((await owner.client.patch(`/api/v1/orgs/${org.id}/members/${auditor.user.id}`, { json: { role: "member" } })).status).toBe(200);
    expect((await owner.client.delete(`/api/v1/orgs/${org.id}/roles/auditor`)).status).toBe(204);
    expect((await owner.client.patch(`/api/v1/orgs/${org.id}/members/${auditor.user.id}`, { json: { role: "auditor" } })).status).toBe(422);

    // A custom role that may only invite still hands out `member`: every member reads the organization and its members.
    expect((await owner.client.put(`/api/v1/orgs/${org.id}/roles/inviter`, { json: { permissions: ["members:invite"] } })).status).toBe(
      201,
    );
    expect((await owner.client.patch(`/api/v1/orgs/${org.id}/members/${auditor.user.id}`, { json: { role: "inviter" } })).status).toBe(200);
    const invitee = await verifiedPerson();
    const sent = await auditor.client.post(`/api/v1/orgs/${org.id}/invitations`, { json: { email: invitee.user.email, role: "member" } });
    expect(sent.status).toBe(201);
    const beyondInviter = await auditor.client.post(`/api/v1/orgs/${org.id}/invitations`, {
      json: { email: invitee.user.email, role: "admin" },
    });
    expect(beyondInviter.status).toBe(403);
  });

  it("let an admin manage members but not owners, and keep at least one owner", async () => {
    const owner = await verifiedPerson();
    const admin = await verifiedPerson();
    const member = await verifiedPerson();
    const org = await createOrg(owner);
    await addMember(owner, org, admin, "admin");
    await addMember(owner, org, member);
    expect((await admin.client.patch(`/api/v1/orgs/${org.id}/members/${member.user.id}`, { json: { role: "admin" } })).status).toBe(200);
    expect((await admin.client.patch(`/api/v1/orgs/${org.id}/members/${member.user.id}`, { json: { role: "owner" } })).status).toBe(403);
    expect((await admin.client.patch(`/api/v1/orgs/${org.id}/members/${owner.user.id}`, { json: { role: "member" } })).status).toBe(403);
    expect((await admin.client.delete(`/api/v1/orgs/${org.id}/members/${owner.user.id}`)).status).toBe(403);
    expect((await admin.client.delete(`/api/v1/orgs/${org.id}`)).status).toBe(403);
    const demoteSelf = await owner.client.patch(`/api/v1/orgs/${org.id}/members/${owner.user.id}`, { json: { role: "admin" } });
    expect(demoteSelf.status).toBe(422);
    expect(await json(demoteSelf)).toMatchObject({ code: "last_owner" });
    const leave = await owner.client.delete(`/api/v1/orgs/${org.id}/members/${owner.user.id}`);
    expect(leave.status).toBe(422);
    // A member may leave on their own.
    expect((await member.client.delete(`/api/v1/orgs/${org.id}/members/${member.user.id}`)).status).toBe(204);
    expect((await member.client.get(`/api/v1/orgs/${org.id}`)).status).toBe(404);
    expect((await json<{ items: unknown[] }>(await member.client.get("/api/v1/orgs"))).items).toEqual([]);
  });
});

describe("deleting", () => {
  it("an organization (owner) ends every membership and invitation", async () => {
    const owner = await verifiedPerson();
    const member = await verifiedPerson();
    const invited = await verifiedPerson();
    const org = await createOrg(owner);
    await addMember(owner, org, member);
    await owner.client.post(`/api/v1/orgs/${org.id}/invitations`, { json: { email: invited.user.email, role: "member" } });
    expect((await owner.client.delete(`/api/v1/orgs/${org.id}`)).status).toBe(204);
    for (const person of [owner, member]) {
      expect((await person.client.get(`/api/v1/orgs/${org.id}`)).status).toBe(404);
      expect((await json<{ items: unknown[] }>(await person.client.get("/api/v1/orgs"))).items).toEqual([]);
    }
    expect(
      (await invited.client.post("/api/v1/invitations/accept", { json: { token: await invitationToken(invited.user.email) } })).status,
    ).toBe(400);
    // The slug is free again.
    const again = await owner.client.post("/api/v1/orgs", { json: { name: "Again", slug: org.slug } });
    expect(again.status).toBe(201);
  });

  it("a user hands an organization they alone owned to its oldest admin, and deletes one they were alone in", async () => {
    const owner = await verifiedPerson();
    const member = await verifiedPerson();
    const admin = await verifiedPerson();
    const shared = await createOrg(owner);
    const alone = await createOrg(owner);
    await addMember(owner, shared, member);
    await addMember(owner, shared, admin, "admin");
    expect((await owner.client.delete("/api/v1/users/me", { json: { password: owner.user.password } })).status).toBe(204);
    expect(await json(await admin.client.get(`/api/v1/orgs/${shared.id}`))).toMatchObject({ role: "owner" });
    const members = await json<{ items: Array<{ user: { id: string } }> }>(await member.client.get(`/api/v1/orgs/${shared.id}/members`));
    expect(members.items.map((item) => item.user.id)).toEqual([member.user.id, admin.user.id]);
    const { results } = await (
      await import("cloudflare:workers")
    ).env.DB.prepare("SELECT org_id FROM org_members WHERE org_id = ? OR user_id = ?")
      .bind(alone.id, owner.user.id)
      .all();
    expect(results).toEqual([]);
  });
});

describe("the admin's view", () => {
  it("searches organizations by name or slug and shows one with its members (admins only)", async () => {
    const admin = await makeAdmin();
    const owner = await verifiedPerson();
    const member = await verifiedPerson();
    const tag = crypto.randomUUID().slice(0, 8);
    const org = await createOrg(owner, { name: `Searchable ${tag}` });
    await addMember(owner, org, member, "admin");
    const found = await json<{ items: Array<{ id: string; member_count: number }>; next_cursor: string | null }>(
      await admin.client.get(`/api/v1/admin/orgs?query=${tag.toUpperCase()}`),
    );
    expect(found.items).toEqual([expect.objectContaining({ id: org.id, member_count: 2 })]);
    expect((await json<{ items: unknown[] }>(await admin.client.get("/api/v1/admin/orgs?query=%25"))).items.length).toBe(0);
    // `?query=` sent empty lists them all, as no query does.
    expect((await json<{ items: unknown[] }>(await admin.client.get("/api/v1/admin/orgs?query="))).items.length).toBeGreaterThan(0);
    const one = await json<{ slug: string; members: Array<{ user: { id: string }; role: string }> }>(
      await admin.client.get(`/api/v1/admin/orgs/${org.slug}`),
    );
    expect(one.slug).toBe(org.slug);
    expect(one.members.map((item) => [item.user.id, item.role])).toEqual([
      [owner.user.id, "owner"],
      [member.user.id, "admin"],
    ]);
    expect((await admin.client.get("/api/v1/admin/orgs/org_000000000000000000000000")).status).toBe(404);
    expect((await admin.client.get("/api/v1/admin/orgs?cursor=nope")).status).toBe(422);
    expect((await owner.client.get("/api/v1/admin/orgs")).status).toBe(403);
  });
});

export type { Person };
