// Organizations attacked from inside: a member trying to reach beyond their role, an
// invitation outliving its sender's rights, a membership outliving its account.
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { BASE_URL } from "./helpers/client";
import { addMember, createOrg, invitationToken, verifiedPerson } from "./helpers/orgs";
import { uniqueEmail } from "./helpers/users";
import { sha256 } from "../src/lib/crypto";

const consumer = (env as unknown as { CONSUMER: Fetcher }).CONSUMER;

describe("organization attacks", () => {
  it("an owner's invitation of themselves to owner, accepted after their demotion, grants nothing", async () => {
    const first = await verifiedPerson();
    const second = await verifiedPerson();
    const spare = await verifiedPerson();
    const org = await createOrg(first);
    await addMember(first, org, second, "owner");
    // The first owner keeps a way back in: an owner invitation to an address they hold.
    expect(
      (await first.client.post(`/api/v1/orgs/${org.id}/invitations`, { json: { email: spare.user.email, role: "owner" } })).status,
    ).toBe(201);
    const token = await invitationToken(spare.user.email);
    expect((await second.client.patch(`/api/v1/orgs/${org.id}/members/${first.user.id}`, { json: { role: "member" } })).status).toBe(200);
    const accepted = await spare.client.post("/api/v1/invitations/accept", { json: { token } });
    expect(accepted.status).toBe(400);
    expect(await accepted.json()).toMatchObject({ code: "invitation_invalid" });
    expect((await spare.client.get(`/api/v1/orgs/${org.id}`)).status).toBe(404);
  });

  it("a custom role cannot act on members whose role reaches beyond it, nor redefine a role it could not grant", async () => {
    const owner = await verifiedPerson();
    const admin = await verifiedPerson();
    const manager = await verifiedPerson();
    const deployer = await verifiedPerson();
    const org = await createOrg(owner);
    await owner.client.put(`/api/v1/orgs/${org.id}/roles/manager`, {
      json: { permissions: ["org:read", "members:read", "members:update", "members:delete", "roles:manage"] },
    });
    await owner.client.put(`/api/v1/orgs/${org.id}/roles/deployer`, { json: { permissions: ["org:read", "deploy:*"] } });
    await addMember(owner, org, admin, "admin");
    await addMember(owner, org, manager, "manager");
    await addMember(owner, org, deployer, "deployer");
    expect((await manager.client.patch(`/api/v1/orgs/${org.id}/members/${admin.user.id}`, { json: { role: "member" } })).status).toBe(403);
    expect((await manager.client.delete(`/api/v1/orgs/${org.id}/members/${admin.user.id}`)).status).toBe(403);
    expect((await manager.client.patch(`/api/v1/orgs/${org.id}/members/${deployer.user.id}`, { json: { role: "member" } })).status).toBe(
      403,
    );
    expect((await manager.client.put(`/api/v1/orgs/${org.id}/roles/deployer`, { json: { permissions: ["org:read"] } })).status).toBe(403);
    // Within its reach it acts: a plain member can be managed.
    const plain = await verifiedPerson();
    await addMember(owner, org, plain);
    expect((await manager.client.delete(`/api/v1/orgs/${org.id}/members/${plain.user.id}`)).status).toBe(204);
  });

  it("only an owner deletes the organization, whatever a custom role holds; an admin never holds org:delete", async () => {
    const owner = await verifiedPerson();
    const admin = await verifiedPerson();
    const everything = await verifiedPerson();
    const org = await createOrg(owner);
    await owner.client.put(`/api/v1/orgs/${org.id}/roles/everything`, { json: { permissions: ["*:*"] } });
    await addMember(owner, org, admin, "admin");
    await addMember(owner, org, everything, "everything");
    expect((await everything.client.delete(`/api/v1/orgs/${org.id}`)).status).toBe(403);
    expect((await admin.client.delete(`/api/v1/orgs/${org.id}`)).status).toBe(403);
    // The admin's claims list *:*, but no guard lets it delete the organization.
    expect((await admin.client.post("/api/v1/auth/active-org", { json: { org_id: org.id } })).status).toBe(200);
    const asked = await consumer.fetch("http://consumer/", {
      method: "POST",
      body: JSON.stringify({
        op: "authenticate",
        args: [
          "GET",
          `${BASE_URL}/api/v1/users/me`,
          { Cookie: `session_id=${admin.client.sessionToken}` },
          { org: { permission: { resource: "org", action: "delete" } } },
        ],
      }),
    });
    expect(await asked.json()).toMatchObject({ authenticated: false, status: 403, code: "forbidden" });
    expect((await owner.client.delete(`/api/v1/orgs/${org.id}`)).status).toBe(204);
  });

  it("a membership D1 refuses (its account is gone) is taken out of the organization by its alarm", async () => {
    const owner = await verifiedPerson();
    const org = await createOrg(owner);
    const email = uniqueEmail();
    expect((await owner.client.post(`/api/v1/orgs/${org.id}/invitations`, { json: { email, role: "member" } })).status).toBe(201);
    const token = await invitationToken(email);
    const stub = env.ORG_AUTHORITY.getByName(org.id);
    // An acceptance that raced its account's deletion: the authority admits a user D1 no longer has.
    const ghost = crypto.randomUUID();
    expect(await stub.accept(await sha256(token), { userId: ghost, email, client: null })).toMatchObject({ status: "ok" });
    // The alarm is set to run at once; run it here in case it has not run yet.
    await runDurableObjectAlarm(stub);
    await vi.waitFor(
      async () => {
        const members = (await (await owner.client.get(`/api/v1/orgs/${org.id}/members`)).json()) as {
          items: Array<{ user: { id: string } }>;
        };
        expect(members.items.map((item) => item.user.id)).toEqual([owner.user.id]);
      },
      { timeout: 5_000, interval: 100 },
    );
  });
});
