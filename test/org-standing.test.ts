// A member's standing in an organization travels with their credentials' memory: the
// organization tells the member's own authority (in the order of its standing sequence),
// which rewrites the cached session and the principal record before the change answers.
// A read acting in an organization then asks no one; a write still asks the organization.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { forgetUser } from "../src/sessions/isolate-memory";
import type { PrincipalRecord } from "../src/user-authority/principal-record";
import type { OrgAuthority } from "../src/orgs/authority/org-authority";
import { TestClient } from "./helpers/client";
import { hold, namespaceHolding, withBindings } from "./helpers/holds";
import { type OrgJson, type Person, addMember, createOrg, verifiedPerson } from "./helpers/orgs";
import { cachedSession, sessionIdOf } from "./helpers/sessions";
import { login, tokensFor } from "./helpers/users";

type CheckAuth = { session: { org: Record<string, unknown> | null } };

/** The active organization check-auth shows; refused if it waits 5 s (on a held organization). */
async function orgOfCheck(client: TestClient, headers: Record<string, string> = {}): Promise<unknown> {
  const waited = new Promise<never>((_, reject) => setTimeout(() => reject(new Error("check-auth waited for the organization")), 5000));
  const response = await Promise.race([client.get("/api/v1/auth/check-auth", { headers }), waited]);
  expect(response.status).toBe(200);
  return ((await response.json()) as CheckAuth).session.org;
}

async function principal(userId: string): Promise<PrincipalRecord | null> {
  return env.SESSIONS.get<PrincipalRecord>(`user:${userId}`, "json");
}

async function actingMember(role = "member"): Promise<{ owner: Person; member: Person; org: OrgJson }> {
  const owner = await verifiedPerson();
  const member = await verifiedPerson();
  const org = await createOrg(owner);
  await addMember(owner, org, member, role);
  expect((await member.client.post("/api/v1/auth/active-org", { json: { org_id: org.id } })).status).toBe(200);
  return { owner, member, org };
}

/** Every call to the organizations' authorities' `view` from `client` waits at the gate (and is counted in `asked`). */
function viewsHeld(client: TestClient) {
  const gate = hold();
  const counted = { ...gate, asked: 0 };
  counted.arrive = () => {
    counted.asked += 1;
    gate.arrive();
  };
  client.bindings = withBindings({ ORG_AUTHORITY: namespaceHolding(env.ORG_AUTHORITY, "view", counted) });
  return counted;
}

describe("a member's standing, carried by their credentials' memory", () => {
  it("is written into the cached session and the principal record before a change answers", async () => {
    const { owner, member, org } = await actingMember();
    const sessionId = sessionIdOf(member.client.sessionToken);
    const standing = { id: org.id, slug: org.slug, role: "member", permissions: ["org:read", "members:read"] };
    expect((await cachedSession(sessionId))?.org).toEqual(standing);
    expect((await principal(member.user.id))?.orgs?.[org.id]).toEqual({
      slug: org.slug,
      role: "member",
      permissions: standing.permissions,
    });

    expect((await owner.client.patch(`/api/v1/orgs/${org.id}/members/${member.user.id}`, { json: { role: "admin" } })).status).toBe(200);
    expect((await cachedSession(sessionId))?.org).toMatchObject({ role: "admin", permissions: ["*:*"] });
    expect((await principal(member.user.id))?.orgs?.[org.id]).toMatchObject({ role: "admin" });

    // A custom role redefined: its holders' permissions; the slug changed: every member's.
    await owner.client.put(`/api/v1/orgs/${org.id}/roles/billing`, { json: { permissions: ["org:read"] } });
    expect((await owner.client.patch(`/api/v1/orgs/${org.id}/members/${member.user.id}`, { json: { role: "billing" } })).status).toBe(200);
    await owner.client.put(`/api/v1/orgs/${org.id}/roles/billing`, { json: { permissions: ["org:read", "billing:read"] } });
    expect((await cachedSession(sessionId))?.org).toMatchObject({ role: "billing", permissions: ["org:read", "billing:read"] });
    const slug = `renamed-${crypto.randomUUID().slice(0, 8)}`;
    expect((await owner.client.patch(`/api/v1/orgs/${org.id}`, { json: { slug } })).status).toBe(200);
    expect((await cachedSession(sessionId))?.org).toMatchObject({ slug, role: "billing" });

    // Removed, or the organization deleted: no standing (the session reads as a personal one).
    expect((await owner.client.delete(`/api/v1/orgs/${org.id}/members/${member.user.id}`)).status).toBe(204);
    expect((await cachedSession(sessionId))?.org).toBeNull();
    expect((await principal(member.user.id))?.orgs?.[org.id]).toBeNull();
    const ownerSession = sessionIdOf(owner.client.sessionToken);
    expect((await owner.client.post("/api/v1/auth/active-org", { json: { org_id: org.id } })).status).toBe(200);
    expect((await cachedSession(ownerSession))?.org).toMatchObject({ role: "owner" });
    expect((await owner.client.delete(`/api/v1/orgs/${org.id}`)).status).toBe(204);
    expect((await cachedSession(ownerSession))?.org).toBeNull();
  });

  it("answers a read acting in an organization without asking it (session and bearer), and a write by asking it", async () => {
    const { owner, member, org } = await actingMember();
    const pair = await tokensFor(member.user);
    const bearer = { Authorization: `Bearer ${pair.access_token}` };
    expect((await new TestClient().post("/api/v1/auth/active-org", { json: { org_id: org.id }, headers: bearer })).status).toBe(200);
    const refreshed = (await (
      await new TestClient().post("/api/v1/auth/refresh", { json: { refresh_token: pair.refresh_token } })
    ).json()) as {
      access_token: string;
    };
    const orgBearer = { Authorization: `Bearer ${refreshed.access_token}` };

    const gate = viewsHeld(member.client);
    const expected = { id: org.id, slug: org.slug, role: "member", permissions: ["org:read", "members:read"] };
    expect(await orgOfCheck(member.client)).toEqual(expected);
    const reader = new TestClient();
    reader.bindings = member.client.bindings;
    expect(await orgOfCheck(reader, orgBearer)).toEqual(expected);
    // Demoted to a custom role: the reads follow once memory lapses, still without asking.
    await owner.client.put(`/api/v1/orgs/${org.id}/roles/viewer`, { json: { permissions: ["org:read"] } });
    expect((await owner.client.patch(`/api/v1/orgs/${org.id}/members/${member.user.id}`, { json: { role: "viewer" } })).status).toBe(200);
    forgetUser(member.user.id);
    const viewer = { ...expected, role: "viewer", permissions: ["org:read"] };
    expect(await orgOfCheck(member.client)).toEqual(viewer);
    expect(await orgOfCheck(reader, orgBearer)).toEqual(viewer);
    expect(gate.asked).toBe(0);

    // A write asks the organization: it waits at the gate until released.
    let settled = false;
    const write = member.client.post("/api/v1/auth/active-org", { json: { org_id: org.id } }).finally(() => (settled = true));
    await gate.reached(1);
    expect(settled).toBe(false);
    gate.release();
    expect(await (await write).json()).toEqual({ org: viewer });
  });

  it("is never set back by an older answer: an activation that read the role before a demotion keeps the demotion", async () => {
    const { owner, member, org } = await actingMember("admin");
    // The member activates the organization from a second session; the organization's
    // answer (admin) is held until a demotion has been told to the member's authority.
    const second = new TestClient();
    await login(second, member.user);
    const gate = hold();
    second.bindings = withBindings({ ORG_AUTHORITY: namespaceHolding(env.ORG_AUTHORITY, "view", gate, "after") });
    const activation = second.post("/api/v1/auth/active-org", { json: { org_id: org.id } });
    await gate.reached(1);
    expect((await owner.client.patch(`/api/v1/orgs/${org.id}/members/${member.user.id}`, { json: { role: "member" } })).status).toBe(200);
    gate.release();
    const answered = (await (await activation).json()) as { org: { role: string } };
    expect(answered.org.role).toBe("admin");
    // Both sessions' records, and the principal record, carry the newer standing.
    forgetUser(member.user.id);
    expect(await orgOfCheck(second)).toMatchObject({ role: "member" });
    expect(await orgOfCheck(member.client)).toMatchObject({ role: "member" });
    expect((await principal(member.user.id))?.orgs?.[org.id]).toMatchObject({ role: "member" });
  });

  it("keeps only a newer standing than it holds, and a member not yet told is told by the organization's alarm", async () => {
    const { member, org } = await actingMember();
    const authority = env.USER_AUTHORITY.getByName(member.user.id);
    const sessionId = sessionIdOf(member.client.sessionToken);
    const held = (await cachedSession(sessionId))?.org;
    await authority.orgStandingChanged(org.id, 0, { slug: "stale", role: "owner", permissions: ["*:*"] });
    expect((await cachedSession(sessionId))?.org).toEqual(held);
    // Told again with the number it holds (a retried tell): the cached records are written again.
    const seq = await runInDurableObject(env.ORG_AUTHORITY.getByName(org.id), (_instance: OrgAuthority, state) =>
      state.storage.sql.exec<{ value: number }>("SELECT value FROM counters WHERE name = 'standing'").one(),
    );
    await env.SESSIONS.put(`session:${sessionId}`, JSON.stringify({ ...(await cachedSession(sessionId)), org: null }));
    await authority.orgStandingChanged(org.id, seq.value, { slug: org.slug, role: "member", permissions: ["org:read", "members:read"] });
    expect((await cachedSession(sessionId))?.org).toEqual(held);

    // A mark the organization could not send (its member's authority failed) stays for the alarm.
    const stub = env.ORG_AUTHORITY.getByName(org.id);
    await runInDurableObject(stub, (_instance: OrgAuthority, state) => {
      state.storage.sql.exec("UPDATE members SET role = 'admin' WHERE user_id = ?", member.user.id);
      state.storage.sql.exec("UPDATE counters SET value = value + 1 WHERE name = 'standing'");
      state.storage.sql.exec(
        "INSERT INTO standing_marks (user_id, seq) SELECT ?, value FROM counters WHERE name = 'standing'",
        member.user.id,
      );
    });
    await runInDurableObject(stub, (instance: OrgAuthority) => instance.alarm());
    expect((await cachedSession(sessionId))?.org).toMatchObject({ role: "admin", permissions: ["*:*"] });
    const marks = await runInDurableObject(stub, (_instance: OrgAuthority, state) =>
      state.storage.sql.exec("SELECT COUNT(*) AS n FROM standing_marks").one(),
    );
    expect(marks.n).toBe(0);
  });

  it("tells a change to more members than one round from the alarm", async () => {
    const { owner, member, org } = await actingMember();
    const stub = env.ORG_AUTHORITY.getByName(org.id);
    // 20 more members (accounts never signed in: their authorities keep nothing, and say so).
    await runInDurableObject(stub, (_instance: OrgAuthority, state) => {
      for (let i = 0; i < 20; i += 1) {
        state.storage.sql.exec("INSERT INTO members (user_id, role, joined_at) VALUES (?, 'member', ?)", crypto.randomUUID(), Date.now());
      }
    });
    const slug = `wide-${crypto.randomUUID().slice(0, 8)}`;
    expect((await owner.client.patch(`/api/v1/orgs/${org.id}`, { json: { slug } })).status).toBe(200);
    // The alarm (armed at once) tells all 22 members; the member's session follows.
    const marked = async (): Promise<number> =>
      runInDurableObject(
        stub,
        (_instance: OrgAuthority, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM standing_marks").one().n,
      );
    for (let waited = 0; (await marked()) > 0 && waited < 5000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await marked()).toBe(0);
    expect((await cachedSession(sessionIdOf(member.client.sessionToken)))?.org).toMatchObject({ slug, role: "member" });
    expect((await principal(owner.user.id))?.orgs?.[org.id]).toMatchObject({ slug, role: "owner" });
  });
});
