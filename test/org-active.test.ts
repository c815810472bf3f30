// The active organization of a session or token family: set by its holder, shown by
// check-auth and the session list, carried by access tokens, and always the
// organization's current word on the role (a removed member acts as a personal session).
import { describe, expect, it } from "vitest";
import { TestClient } from "./helpers/client";
import { decodeJwt } from "jose";
import { addMember, createOrg, verifiedPerson } from "./helpers/orgs";
import { codeAt, enrollTotp, forgetUsedSteps, stableStep } from "./helpers/mfa";
import { tokensFor } from "./helpers/users";
import { forgetUser } from "../src/sessions/isolate-memory";

async function checkAuth(client: TestClient): Promise<{ session: { id: string; org: Record<string, unknown> | null } }> {
  return (await (await client.get("/api/v1/auth/check-auth")).json()) as { session: { id: string; org: Record<string, unknown> | null } };
}

describe("the active organization", () => {
  it("of a cookie session shows in check-auth and the session list, with the role the organization gives now", async () => {
    const owner = await verifiedPerson();
    const member = await verifiedPerson();
    const org = await createOrg(owner);
    await addMember(owner, org, member);
    expect((await checkAuth(member.client)).session.org).toBeNull();

    const set = await member.client.post("/api/v1/auth/active-org", { json: { org_id: org.id } });
    expect(set.status).toBe(200);
    const expected = { id: org.id, slug: org.slug, role: "member", permissions: ["org:read", "members:read"] };
    expect(await set.json()).toEqual({ org: expected });
    expect((await checkAuth(member.client)).session.org).toEqual(expected);
    const { sessions } = (await (await member.client.get("/api/v1/auth/sessions")).json()) as {
      sessions: Array<{ current: boolean; org: unknown }>;
    };
    expect(sessions.find((item) => item.current)?.org).toEqual({ id: org.id });

    // Promoted, then removed: the organization rewrote the cached session before answering,
    // so a check from an isolate whose memory of the user lapsed says so (the read bound).
    expect((await owner.client.patch(`/api/v1/orgs/${org.id}/members/${member.user.id}`, { json: { role: "admin" } })).status).toBe(200);
    forgetUser(member.user.id);
    expect((await checkAuth(member.client)).session.org).toMatchObject({ role: "admin", permissions: ["*:*"] });
    expect((await owner.client.delete(`/api/v1/orgs/${org.id}/members/${member.user.id}`)).status).toBe(204);
    forgetUser(member.user.id);
    const after = await member.client.get("/api/v1/auth/check-auth");
    expect(after.status).toBe(200);
    expect(((await after.json()) as { session: { org: unknown } }).session.org).toBeNull();
    const listed = (await (await member.client.get("/api/v1/auth/sessions")).json()) as {
      sessions: Array<{ current: boolean; org: unknown }>;
    };
    expect(listed.sessions.find((item) => item.current)?.org).toBeNull();

    // Cleared with null.
    expect(await (await owner.client.post("/api/v1/auth/active-org", { json: { org_id: org.id } })).json()).toMatchObject({
      org: { role: "owner" },
    });
    expect(await (await owner.client.post("/api/v1/auth/active-org", { json: { org_id: null } })).json()).toEqual({ org: null });
    expect((await checkAuth(owner.client)).session.org).toBeNull();
  });

  it("is refused for an organization the caller is not a member of, existing or not (403 not_a_member)", async () => {
    const owner = await verifiedPerson();
    const stranger = await verifiedPerson();
    const org = await createOrg(owner);
    for (const orgId of [org.id, "org_000000000000000000000000", "not-an-id"]) {
      const refused = await stranger.client.post("/api/v1/auth/active-org", { json: { org_id: orgId } });
      expect(refused.status).toBe(403);
      expect(await refused.json()).toMatchObject({ code: "not_a_member" });
    }
    expect((await stranger.client.post("/api/v1/auth/active-org", { json: {} })).status).toBe(422);
    expect((await new TestClient().post("/api/v1/auth/active-org", { json: { org_id: null } })).status).toBe(401);
  });

  it("of a token family is carried by its next access tokens as org claims, and dropped once the member is removed", async () => {
    const owner = await verifiedPerson();
    const member = await verifiedPerson();
    const org = await createOrg(owner);
    await addMember(owner, org, member);
    const pair = await tokensFor(member.user);
    const bearer = new TestClient();
    const set = await bearer.post("/api/v1/auth/active-org", {
      json: { org_id: org.id },
      headers: { Authorization: `Bearer ${pair.access_token}` },
    });
    expect(set.status).toBe(200);
    const refreshed = (await (await bearer.post("/api/v1/auth/refresh", { json: { refresh_token: pair.refresh_token } })).json()) as {
      access_token: string;
      refresh_token: string;
    };
    expect(decodeJwt(refreshed.access_token)).toMatchObject({
      org_id: org.id,
      org_role: "member",
      org_permissions: ["org:read", "members:read"],
    });
    const check = (await (
      await bearer.get("/api/v1/auth/check-auth", { headers: { Authorization: `Bearer ${refreshed.access_token}` } })
    ).json()) as {
      session: { org: unknown };
    };
    expect(check.session.org).toMatchObject({ id: org.id, role: "member" });
    expect((await owner.client.delete(`/api/v1/orgs/${org.id}/members/${member.user.id}`)).status).toBe(204);
    const again = (await (await bearer.post("/api/v1/auth/refresh", { json: { refresh_token: refreshed.refresh_token } })).json()) as {
      access_token: string;
    };
    expect(decodeJwt(again.access_token).org_id).toBeUndefined();
  });

  it("is chosen at a token sign-in with org_id, after the password and through the second factor", async () => {
    const owner = await verifiedPerson();
    const member = await verifiedPerson();
    const org = await createOrg(owner);
    await addMember(owner, org, member, "admin");
    const signIn = (body: Record<string, unknown>) => new TestClient().post("/api/v1/auth/token", { json: body });
    const direct = await signIn({ email: member.user.email, password: member.user.password, org_id: org.id });
    expect(direct.status).toBe(200);
    const { access_token: access } = (await direct.json()) as { access_token: string };
    expect(decodeJwt(access)).toMatchObject({ org_id: org.id, org_role: "admin" });
    // The family acts in it: check-auth with the token says so.
    const check = (await (
      await new TestClient().get("/api/v1/auth/check-auth", { headers: { Authorization: `Bearer ${access}` } })
    ).json()) as {
      session: { org: Record<string, unknown> };
    };
    expect(check.session.org).toMatchObject({ id: org.id, role: "admin" });
    // Not a member: refused after a right password only; a wrong one is refused as always.
    const stranger = await verifiedPerson();
    const refused = await signIn({ email: stranger.user.email, password: stranger.user.password, org_id: org.id });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: "not_a_member" });
    const wrong = await signIn({ email: stranger.user.email, password: "not the password", org_id: org.id });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ code: "invalid_credentials" });
    // Once the account is locked by wrong guesses, the right password with an org_id is refused as without one: no oracle.
    const locked = await verifiedPerson();
    for (let i = 0; i < 5; i++) await signIn({ email: locked.user.email, password: `wrong-${i}`, org_id: org.id });
    const right = await signIn({ email: locked.user.email, password: locked.user.password, org_id: org.id });
    const plain = await signIn({ email: locked.user.email, password: locked.user.password });
    expect(right.status).toBe(plain.status);
    expect(right.status).toBe(429);

    // With a second factor: the organization is kept until the sign-in completes.
    const { secret } = await enrollTotp(member.client, member.user.id);
    const stopped = await signIn({ email: member.user.email, password: member.user.password, org_id: org.id });
    expect(stopped.status).toBe(401);
    const { mfa_token: mfaToken } = (await stopped.json()) as { mfa_token: string };
    await forgetUsedSteps(member.user.id);
    await stableStep();
    const verified = await new TestClient().post("/api/v1/auth/mfa/verify", {
      json: { mfa_token: mfaToken, method: "totp", code: await codeAt(secret) },
    });
    expect(verified.status).toBe(200);
    expect(decodeJwt(((await verified.json()) as { access_token: string }).access_token)).toMatchObject({
      org_id: org.id,
      org_role: "admin",
    });
  });
});
