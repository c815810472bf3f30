// Organization-owned API keys: made and managed by api_keys:manage holders, never beyond
// the maker's role, acting for the organization (never for a user on this service's
// routes), and gone with the organization, also when the deletion races their use.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BASE_URL, TestClient } from "./helpers/client";
import { addMember, createOrg, verifiedPerson } from "./helpers/orgs";

const consumer = (env as unknown as { CONSUMER: Fetcher }).CONSUMER;
const example = (env as unknown as { EXAMPLE_CONSUMER: Fetcher }).EXAMPLE_CONSUMER;

async function verify(key: string, resource?: string, action?: string): Promise<Record<string, unknown>> {
  const body = resource === undefined ? { api_key: key } : { api_key: key, resource, action };
  return (await (await new TestClient().post("/api/v1/api-keys/verify", { json: body })).json()) as Record<string, unknown>;
}

describe("an organization's API keys", () => {
  it("are made within the maker's role, act for the organization, and are managed by api_keys:manage holders", async () => {
    const owner = await verifiedPerson();
    const admin = await verifiedPerson();
    const billing = await verifiedPerson();
    const org = await createOrg(owner);
    await owner.client.put(`/api/v1/orgs/${org.id}/roles/billing`, { json: { permissions: ["org:read", "billing:*", "api_keys:manage"] } });
    await addMember(owner, org, admin, "admin");
    await addMember(owner, org, billing, "billing");

    const made = await billing.client.post(`/api/v1/orgs/${org.id}/api-keys`, {
      json: { name: "Invoices", permissions: { billing: ["write"] } },
    });
    expect(made.status).toBe(201);
    const created = (await made.json()) as { id: string; api_key: string };
    const beyond = await billing.client.post(`/api/v1/orgs/${org.id}/api-keys`, {
      json: { name: "Too much", permissions: { members: ["delete"] } },
    });
    expect(beyond.status).toBe(403);
    // A member without api_keys:manage sees nothing of them; a non-member not even the organization.
    const member = await verifiedPerson();
    await addMember(owner, org, member);
    expect((await member.client.get(`/api/v1/orgs/${org.id}/api-keys`)).status).toBe(403);
    expect((await (await verifiedPerson()).client.get(`/api/v1/orgs/${org.id}/api-keys`)).status).toBe(404);

    // It acts for the organization: verify and RPC name it, and it passes requireOrgPermission with its own permissions.
    expect(await verify(created.api_key, "billing", "write")).toMatchObject({
      valid: true,
      org_id: org.id,
      user_id: billing.user.id,
      allowed: true,
    });
    const headers = { "X-API-Key": created.api_key };
    expect((await example.fetch("http://example/workspace/invoices", { method: "POST", headers })).status).toBe(201);
    const rpc = await consumer.fetch("http://consumer/", {
      method: "POST",
      body: JSON.stringify({ op: "authenticate", args: ["GET", `${BASE_URL}/api/v1/users/me`, headers, { org: true }] }),
    });
    expect(await rpc.json()).toMatchObject({ authenticated: true, principal: "api_key", org_id: org.id });
    // Never for a user: a guard that hands its handler a user refuses it, here and in other Workers.
    expect((await example.fetch("http://example/me", { headers })).status).toBe(403);
    const plain = await consumer.fetch("http://consumer/", {
      method: "POST",
      body: JSON.stringify({ op: "authenticate", args: ["GET", `${BASE_URL}/api/v1/users/me`, headers] }),
    });
    expect(await plain.json()).toMatchObject({ authenticated: false, status: 403, code: "forbidden" });
    // Not even its maker's profile here.
    const me = await new TestClient().get("/api/v1/users/me", { headers });
    expect(me.status).toBe(403);
    // Not among its maker's own keys.
    expect(((await (await billing.client.get("/api/v1/api-keys")).json()) as { items: unknown[] }).items).toEqual([]);

    // Listed and revoked by another holder of api_keys:manage.
    const listed = (await (await admin.client.get(`/api/v1/orgs/${org.id}/api-keys`)).json()) as {
      items: Array<{ id: string }>;
      total: number;
    };
    expect(listed.items.map((item) => item.id)).toEqual([created.id]);
    expect(listed.items[0]).toMatchObject({ created_by: billing.user.id });
    // Changed by a manager, never beyond the changer's role.
    const renamed = await billing.client.patch(`/api/v1/orgs/${org.id}/api-keys/${created.id}`, { json: { name: "Invoices v2" } });
    expect(renamed.status).toBe(200);
    expect(await renamed.json()).toMatchObject({ name: "Invoices v2", permissions: { billing: ["write"] } });
    const widened = await billing.client.patch(`/api/v1/orgs/${org.id}/api-keys/${created.id}`, {
      json: { permissions: { members: ["delete"] } },
    });
    expect(widened.status).toBe(403);
    expect((await member.client.patch(`/api/v1/orgs/${org.id}/api-keys/${created.id}`, { json: { name: "Mine" } })).status).toBe(403);
    expect(await verify(created.api_key, "members", "delete")).toMatchObject({ valid: true, allowed: false });
    expect((await admin.client.delete(`/api/v1/orgs/${org.id}/api-keys/${created.id}`)).status).toBe(204);
    expect(await verify(created.api_key)).toMatchObject({ valid: false });
    expect((await admin.client.get(`/api/v1/orgs/${org.id}/api-keys/${created.id}`)).status).toBe(200);
  });

  it("end with the organization, also when its deletion races their use", async () => {
    for (let round = 0; round < 3; round++) {
      const owner = await verifiedPerson();
      const org = await createOrg(owner);
      const made = await owner.client.post(`/api/v1/orgs/${org.id}/api-keys`, {
        json: { name: "Sync", permissions: { reports: ["read"] } },
      });
      expect(made.status).toBe(201);
      const { api_key: key } = (await made.json()) as { api_key: string };
      const [deleted] = await Promise.all([owner.client.delete(`/api/v1/orgs/${org.id}`), verify(key), verify(key), verify(key)]);
      expect(deleted.status).toBe(204);
      expect(await verify(key)).toMatchObject({ valid: false });
      const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM api_keys WHERE org_id = ?").bind(org.id).first<{ n: number }>();
      expect(rows?.n).toBe(0);
    }
  });

  it("a key made while its organization is being deleted is not left behind", async () => {
    for (let round = 0; round < 3; round++) {
      const owner = await verifiedPerson();
      const org = await createOrg(owner);
      const [made, deleted] = await Promise.all([
        owner.client.post(`/api/v1/orgs/${org.id}/api-keys`, { json: { name: "Racing", permissions: { reports: ["read"] } } }),
        owner.client.delete(`/api/v1/orgs/${org.id}`),
      ]);
      expect(deleted.status).toBe(204);
      if (made.status === 201) expect(await verify(((await made.json()) as { api_key: string }).api_key)).toMatchObject({ valid: false });
      else expect(made.status).toBe(404);
      const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM api_keys WHERE org_id = ?").bind(org.id).first<{ n: number }>();
      expect(rows?.n).toBe(0);
    }
  });
});
