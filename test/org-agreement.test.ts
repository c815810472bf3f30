// The active organization, the same everywhere the service describes a principal: check-auth
// over HTTP, POST /auth/introspect, the AuthService RPC entrypoint, and edge-auth/hono's
// requireOrg / requireOrgPermission in another Worker (examples/consumer-worker), each
// with the role the organization's authority gives now: at once for a state-changing
// request, and for a read once the reading isolate's memory of the user lapses (the read
// bound: the organization rewrote the cached records before its change answered).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BASE_URL, TestClient } from "./helpers/client";
import { addMember, createOrg, verifiedPerson } from "./helpers/orgs";
import { forgetUser } from "../src/sessions/isolate-memory";

const consumer = (env as unknown as { CONSUMER: Fetcher }).CONSUMER;
const example = (env as unknown as { EXAMPLE_CONSUMER: Fetcher }).EXAMPLE_CONSUMER;

async function rpc(headers: Record<string, string>, options?: unknown): Promise<Record<string, unknown>> {
  const response = await consumer.fetch("http://consumer/", {
    method: "POST",
    body: JSON.stringify({ op: "authenticate", args: ["GET", `${BASE_URL}/api/v1/users/me`, headers, options] }),
  });
  return (await response.json()) as Record<string, unknown>;
}

async function introspected(headers: Record<string, string>): Promise<Record<string, unknown>> {
  return (await (await new TestClient().post("/api/v1/auth/introspect", { headers, json: {}, csrf: false })).json()) as Record<
    string,
    unknown
  >;
}

describe("the active organization agrees over HTTP, introspection, RPC and edge-auth/hono", () => {
  it("gives the same org, role and permissions, and follows a role change and a removal (writes at once, reads within the bound)", async () => {
    const owner = await verifiedPerson();
    const member = await verifiedPerson();
    const org = await createOrg(owner);
    await addMember(owner, org, member);
    await owner.client.put(`/api/v1/orgs/${org.id}/roles/billing`, { json: { permissions: ["org:read", "billing:*"] } });
    const headers = { Cookie: `session_id=${member.client.sessionToken}` };
    // No active organization: none of them names one, and the org guards refuse.
    expect(await introspected(headers)).not.toHaveProperty("org_id");
    expect(await rpc(headers)).not.toHaveProperty("org_id");
    expect((await example.fetch("http://example/workspace", { headers })).status).toBe(403);

    expect((await member.client.post("/api/v1/auth/active-org", { json: { org_id: org.id } })).status).toBe(200);
    const claims = { org_id: org.id, org_role: "member", org_permissions: ["org:read", "members:read"] };
    const check = (await (await member.client.get("/api/v1/auth/check-auth")).json()) as { session: { org: Record<string, unknown> } };
    expect(check.session.org).toEqual({ id: claims.org_id, slug: org.slug, role: claims.org_role, permissions: claims.org_permissions });
    expect(await introspected(headers)).toMatchObject({ active: true, ...claims });
    expect(await rpc(headers)).toMatchObject({ authenticated: true, ...claims });
    const workspace = await example.fetch("http://example/workspace", { headers });
    expect(workspace.status).toBe(200);
    expect(await workspace.json()).toEqual({ org_id: org.id, role: "member", permissions: claims.org_permissions });
    const writeHeaders = { ...headers, "X-CSRF-Token": member.client.csrfToken ?? "" };
    const refused = await example.fetch("http://example/workspace/invoices", { method: "POST", headers: writeHeaders });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: "forbidden" });
    expect(await rpc(headers, { org: { permission: { resource: "billing", action: "write" } } })).toMatchObject({
      authenticated: false,
      status: 403,
    });

    // Given the billing role: every write says so on the next request, every read once memory lapses.
    expect((await owner.client.patch(`/api/v1/orgs/${org.id}/members/${member.user.id}`, { json: { role: "billing" } })).status).toBe(200);
    const billing = { org_id: org.id, org_role: "billing", org_permissions: ["org:read", "billing:*"] };
    expect(await introspected(headers)).toMatchObject(billing);
    expect((await example.fetch("http://example/workspace/invoices", { method: "POST", headers: writeHeaders })).status).toBe(201);
    forgetUser(member.user.id);
    expect(await rpc(headers)).toMatchObject(billing);

    // Removed: the session is a personal one again, everywhere.
    expect((await owner.client.delete(`/api/v1/orgs/${org.id}/members/${member.user.id}`)).status).toBe(204);
    expect((await example.fetch("http://example/workspace/invoices", { method: "POST", headers: writeHeaders })).status).toBe(403);
    expect(await introspected(headers)).not.toHaveProperty("org_id");
    forgetUser(member.user.id);
    expect(await rpc(headers)).toMatchObject({ authenticated: true });
    expect(await rpc(headers)).not.toHaveProperty("org_id");
    expect((await example.fetch("http://example/workspace/invoices", { method: "POST", headers: writeHeaders })).status).toBe(403);
    expect((await example.fetch("http://example/workspace", { headers })).status).toBe(403);
  });

  it("refuses API keys for organization guards (they have no active organization)", async () => {
    const owner = await verifiedPerson();
    const created = await owner.client.post("/api/v1/api-keys", { json: { name: "k", permissions: { "*": ["*"] } } });
    const { api_key: key } = (await created.json()) as { api_key: string };
    const answer = await example.fetch("http://example/workspace", { headers: { "X-API-Key": key } });
    expect(answer.status).toBe(403);
    expect(await rpc({ "X-API-Key": key }, { org: true })).toMatchObject({ authenticated: false, code: "forbidden" });
  });
});
