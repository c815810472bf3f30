// An admin's change and its audit entry land together, or neither does; the user's
// authority orders what it decides (a disable racing an enable reaches every API key in
// its order); and a user whose factors an admin removes is told.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { flushAudit, queueAudit } from "../src/user-authority/audit-outbox";
import { makeAdmin } from "./helpers/admin";
import { TestClient } from "./helpers/client";
import { Faults } from "./helpers/faults";
import { hold, namespaceHolding, withBindings } from "./helpers/holds";
import { outbox } from "./helpers/mail";
import { enrollTotp } from "./helpers/mfa";
import { sessionIdOf } from "./helpers/sessions";
import { login, registerUser } from "./helpers/users";

const AUDIT_INSERT = /INTO security_events/;

async function entries(userId: string, type: string): Promise<Array<{ detail: string | null; actor_id: string | null }>> {
  const rows = await env.DB.prepare("SELECT detail, actor_id FROM security_events WHERE user_id = ? AND type = ?")
    .bind(userId, type)
    .all<{ detail: string | null; actor_id: string | null }>();
  return rows.results;
}

async function keyFor(client: TestClient): Promise<string> {
  const created = await client.post("/api/v1/api-keys", { json: { name: "k", permissions: { user_profile: ["read"] } } });
  expect(created.status).toBe(201);
  return ((await created.json()) as { api_key: string }).api_key;
}

async function keyWorks(key: string): Promise<boolean> {
  return (await new TestClient().get("/api/v1/users/me", { headers: { "X-API-Key": key } })).status === 200;
}

describe("disabling and enabling, in the authority's order", () => {
  it("leaves a disabled user's API key refused when an enable's late key update arrives after a newer disable", async () => {
    const admin = await makeAdmin();
    const owner = new TestClient();
    const user = await registerUser(owner);
    await login(owner, user);
    const key = await keyFor(owner);
    expect((await admin.client.patch(`/api/v1/admin/users/${user.id}`, { json: { disabled: true } })).status).toBe(200);

    // The enable reaches the authority, then waits before telling the key's object...
    const gate = hold();
    const enabling = new TestClient({ settings: admin.client.settings });
    for (const [name, value] of admin.client.cookies) enabling.cookies.set(name, value);
    enabling.bindings = withBindings({ API_KEYS: namespaceHolding(env.API_KEYS, "setOwnerDisabled", gate) });
    const enabled = enabling.patch(`/api/v1/admin/users/${user.id}`, { json: { disabled: false } });
    await gate.reached(1);
    // ...while a disable is decided after it and reaches the key first.
    expect((await admin.client.patch(`/api/v1/admin/users/${user.id}`, { json: { disabled: true } })).status).toBe(200);
    gate.release();
    expect((await enabled).status).toBe(200);

    const view = (await (await admin.client.get(`/api/v1/admin/users/${user.id}`)).json()) as { disabled: boolean };
    expect(view.disabled).toBe(true);
    expect(await keyWorks(key)).toBe(false);
    // Enabled again for real, the key works again.
    expect((await admin.client.patch(`/api/v1/admin/users/${user.id}`, { json: { disabled: false } })).status).toBe(200);
    expect(await keyWorks(key)).toBe(true);
  });
});

describe("an admin write and its audit entry land together", () => {
  it("a profile change whose entry cannot be written changes nothing (503), and its retry writes both", async () => {
    const admin = await makeAdmin();
    const target = await registerUser(new TestClient());
    const faults = new Faults().fail("DB", { sql: AUDIT_INSERT, times: 1 });
    admin.client.bindings = faults.bindings();
    const failed = await admin.client.patch(`/api/v1/admin/users/${target.id}`, { json: { name: "Renamed" } });
    expect(failed.status).toBe(503);
    const row = await env.DB.prepare("SELECT name FROM users WHERE id = ?").bind(target.id).first<{ name: string | null }>();
    expect(row?.name).toBeNull();
    expect(await entries(target.id, "admin_user_updated")).toEqual([]);

    const retried = await admin.client.patch(`/api/v1/admin/users/${target.id}`, { json: { name: "Renamed" } });
    expect(retried.status).toBe(200);
    const [entry] = await entries(target.id, "admin_user_updated");
    expect(JSON.parse(entry?.detail ?? "{}")).toEqual({ fields: "name", name_from: null, name_to: "Renamed" });
    expect(entry?.actor_id).toBe(admin.user.id);
  });

  it("a disable, a sign-out and a deletion keep their entry even when the Worker's own D1 writes fail", async () => {
    const admin = await makeAdmin();
    const owner = new TestClient();
    const user = await registerUser(owner);
    await login(owner, user);
    const other = new TestClient();
    await login(other, user);
    // The Worker cannot write security events at all: the authority sends its own.
    admin.client.bindings = new Faults().fail("DB", { sql: AUDIT_INSERT }).bindings();

    const signedOut = await admin.client.delete(`/api/v1/admin/users/${user.id}/sessions/${sessionIdOf(other.sessionToken)}`);
    expect(signedOut.status).toBe(204);
    expect(await entries(user.id, "admin_session_revoked")).toHaveLength(1);
    expect((await admin.client.patch(`/api/v1/admin/users/${user.id}`, { json: { disabled: true } })).status).toBe(200);
    expect(await entries(user.id, "admin_user_disabled")).toHaveLength(1);
    // A retry of the same disable changes nothing and records nothing more.
    expect((await admin.client.patch(`/api/v1/admin/users/${user.id}`, { json: { disabled: true } })).status).toBe(200);
    expect(await entries(user.id, "admin_user_disabled")).toHaveLength(1);

    // A deletion whose D1 records fail to go: 503, but the account is a tombstone and the entry is there.
    admin.client.bindings = new Faults().fail("DB", { sql: /DELETE FROM "?users"?/i }).bindings();
    expect((await admin.client.delete(`/api/v1/admin/users/${user.id}`)).status).toBe(503);
    expect(await entries(user.id, "admin_user_deleted")).toHaveLength(1);
    admin.client.bindings = {};
    expect((await admin.client.delete(`/api/v1/admin/users/${user.id}`)).status).toBe(204);
    expect((await env.DB.prepare("SELECT COUNT(*) AS n FROM users WHERE id = ?").bind(user.id).first<{ n: number }>())?.n).toBe(0);
    expect((await entries(user.id, "admin_user_deleted")).length).toBeGreaterThanOrEqual(1);
  });

  it("an entry the authority could not send stays queued and lands by the alarm, once", async () => {
    const user = await registerUser(new TestClient());
    await login(new TestClient(), user);
    const stub = env.USER_AUTHORITY.getByName(user.id);
    const failing = new Faults().fail("DB", { sql: AUDIT_INSERT }).bindings().DB!;
    await runInDurableObject(stub, async (_instance, state) => {
      queueAudit(state.storage.sql, { userId: user.id, type: "admin_sessions_revoked", client: null, actorId: "admin-id" }, { revoked: 0 });
      await expect(flushAudit(state.storage.sql, failing)).rejects.toThrow();
      expect(state.storage.sql.exec("SELECT COUNT(*) AS n FROM audit_outbox").one().n).toBe(1);
      await state.storage.setAlarm(Date.now());
    });
    // The alarm runs (here, or already by itself: either way it is the alarm that sends).
    await runDurableObjectAlarm(stub);
    for (let waited = 0; (await entries(user.id, "admin_sessions_revoked")).length === 0 && waited < 5000; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await entries(user.id, "admin_sessions_revoked")).toHaveLength(1);
    await runInDurableObject(stub, async (_instance, state) => {
      expect(state.storage.sql.exec("SELECT COUNT(*) AS n FROM audit_outbox").one().n).toBe(0);
      // Sent twice (a retry after a lost answer), the entry is written once.
      queueAudit(state.storage.sql, { userId: user.id, type: "admin_mfa_reset", client: null, actorId: "admin-id" });
      const queued = state.storage.sql.exec<{ event: string }>("SELECT event FROM audit_outbox").one().event;
      await flushAudit(state.storage.sql, env.DB);
      state.storage.sql.exec("INSERT INTO audit_outbox (id, event) VALUES (?, ?)", "again", queued);
      await flushAudit(state.storage.sql, env.DB);
    });
    expect(await entries(user.id, "admin_mfa_reset")).toHaveLength(1);
  });
});

describe("an admin's removal of a user's factors", () => {
  it("tells the user: a security event and a mail", async () => {
    const admin = await makeAdmin();
    const owner = new TestClient();
    const user = await registerUser(owner);
    await login(owner, user);
    await enrollTotp(owner, user.id);
    const before = (await outbox(user.email)).length;
    expect((await admin.client.delete(`/api/v1/admin/users/${user.id}/mfa`)).status).toBe(204);
    const events = (await (await owner.get("/api/v1/auth/events")).json()) as { items: Array<{ type: string }> };
    expect(events.items.map((event) => event.type)).toEqual(expect.arrayContaining(["mfa_disabled", "admin_mfa_reset"]));
    const mails = await outbox(user.email);
    expect(mails.length).toBe(before + 1);
    expect(mails.some((message) => message.subject.includes("second factor was removed"))).toBe(true);
  });
});
