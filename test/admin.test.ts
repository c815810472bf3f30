// Administration against the real local D1, KV and Durable Objects: who may use the
// admin routes, disabling (at once, for every credential), search and keyset pages,
// the self-protection rules, and the audit trail of every write.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type Admin, adminSession, makeAdmin, seedUsers } from "./helpers/admin";
import { TestClient } from "./helpers/client";
import { outbox } from "./helpers/mail";
import { ageSession, sessionIdOf } from "./helpers/sessions";
import { type TokenPair, login, registerUser, tokensFor } from "./helpers/users";

const MINUTE = 60_000;

/** Every admin route, with a body where it takes one (the target is a real user). */
function adminRoutes(targetId: string): Array<[string, string, unknown?]> {
  return [
    ["GET", "/api/v1/admin/users"],
    ["POST", "/api/v1/admin/users", { email: `made-${crypto.randomUUID()}@example.com` }],
    ["GET", `/api/v1/admin/users/${targetId}`],
    ["PATCH", `/api/v1/admin/users/${targetId}`, { name: "Changed" }],
    ["DELETE", `/api/v1/admin/users/${targetId}`],
    ["GET", `/api/v1/admin/users/${targetId}/sessions`],
    ["DELETE", `/api/v1/admin/users/${targetId}/sessions`],
    ["DELETE", `/api/v1/admin/users/${targetId}/sessions/${"a".repeat(48)}`],
    ["POST", `/api/v1/admin/users/${targetId}/password-reset`],
    ["DELETE", `/api/v1/admin/users/${targetId}/mfa`],
    ["POST", "/api/v1/admin/throttle/clear", { ip: "10.9.9.9" }],
    ["GET", "/api/v1/admin/events"],
    ["GET", `/api/v1/admin/users/${targetId}/api-keys`],
    ["GET", `/api/v1/admin/users/${targetId}/api-keys/abcdefgh/usage`],
    ["GET", "/api/v1/admin/stats/sign-ins"],
  ];
}

async function call(client: TestClient, method: string, path: string, json?: unknown, headers?: Record<string, string>) {
  return client.request(method, path, { ...(json === undefined ? {} : { json }), ...(headers === undefined ? {} : { headers }) });
}

async function adminKey(admin: Admin, permissions: Record<string, string[]>): Promise<string> {
  const response = await admin.client.post("/api/v1/api-keys", { json: { name: "automation", permissions } });
  expect(response.status).toBe(201);
  return ((await response.json()) as { api_key: string }).api_key;
}

describe("who may use the admin routes", () => {
  it("refuses a normal user, an admin at aal 1, and keys without the admin permission, with 403 forbidden on every route", async () => {
    const admin = await makeAdmin();
    const target = await registerUser(new TestClient());
    const normal = new TestClient();
    await login(normal, await registerUser(normal));
    // A superuser signed in with a password only (no second factor): aal 1.
    const aal1 = new TestClient();
    const oneFactor = await registerUser(aal1);
    await env.DB.prepare("UPDATE users SET is_superuser = 1 WHERE id = ?").bind(oneFactor.id).run();
    await login(aal1, oneFactor);
    // The real admin, stale: its sign-in is older than REAUTH_MAX_AGE_MINUTES.
    const stale = await adminSession(admin);
    await ageSession(sessionIdOf(stale.sessionToken), 11 * MINUTE, ["created_at"]);
    const wildcard = await adminKey(admin, { "*": ["*"] });
    const readOnly = await adminKey(admin, { admin_users: ["read"] });

    for (const [method, path, json] of adminRoutes(target.id)) {
      for (const [who, client, headers] of [
        ["normal user", normal, undefined],
        ["anonymous", new TestClient(), undefined],
        ["admin at aal 1", aal1, undefined],
        ["wildcard key", new TestClient(), { "X-API-Key": wildcard }],
      ] as const) {
        const response = await call(client, method, path, json, headers);
        const expected = who === "anonymous" ? 401 : 403;
        expect(response.status, `${who} ${method} ${path}`).toBe(expected);
        if (expected === 403) expect(await response.json()).toMatchObject({ code: "forbidden" });
      }
      if (method !== "GET") {
        const refused = await call(stale, method, path, json);
        expect(refused.status, `stale admin ${method} ${path}`).toBe(403);
        expect(await refused.json()).toMatchObject({ code: "reauthentication_required" });
      }
      if (method !== "GET" || path.endsWith("/events") || path.endsWith("/sign-ins")) {
        const response = await call(new TestClient(), method, path, json, { "X-API-Key": readOnly });
        expect(response.status, `read-only key ${method} ${path}`).toBe(403);
      }
    }
    // The target is untouched.
    expect((await env.DB.prepare("SELECT name FROM users WHERE id = ?").bind(target.id).first<{ name: string | null }>())?.name).toBeNull();
  });

  it("promotes an address its holder proved before it was listed in ADMIN_EMAILS at its next password sign-in, never an unverified or click-verified one", async () => {
    const { linkToken } = await import("./helpers/mail");
    const client = new TestClient();
    const user = await registerUser(client);
    await login(client, user);
    await client.post("/api/v1/auth/verify-email/request");
    await client.post("/api/v1/auth/verify-email/confirm", { json: { token: await linkToken(user.email, "/verify-email") } });
    const unverified = await registerUser(new TestClient());
    // Verified by a click from a client not signed in: the mailbox, not the account's holder.
    const clicked = new TestClient();
    const clickedUser = await registerUser(clicked);
    await login(clicked, clickedUser);
    await clicked.post("/api/v1/auth/verify-email/request");
    await new TestClient().post("/api/v1/auth/verify-email/confirm", {
      json: { token: await linkToken(clickedUser.email, "/verify-email") },
    });
    const listed = { ADMIN_EMAILS: `${user.email},${unverified.email},${clickedUser.email}` };
    const signedIn = await new TestClient({ settings: listed }).post("/api/v1/auth/login", {
      json: { email: user.email, password: user.password },
    });
    expect(await signedIn.json()).toMatchObject({ user: { is_superuser: true } });
    const notYet = await new TestClient({ settings: listed }).post("/api/v1/auth/login", {
      json: { email: unverified.email, password: unverified.password },
    });
    expect(await notYet.json()).toMatchObject({ user: { is_superuser: false } });
    const byClick = await new TestClient({ settings: listed }).post("/api/v1/auth/login", {
      json: { email: clickedUser.email, password: clickedUser.password },
    });
    expect(await byClick.json()).toMatchObject({ user: { is_superuser: false, email_verified: true } });
  });

  it("refuses an admin signed in with one factor, unless ADMIN_REQUIRE_MFA=false", async () => {
    const client = new TestClient();
    const user = await registerUser(client);
    await env.DB.prepare("UPDATE users SET is_superuser = 1 WHERE id = ?").bind(user.id).run(); // as `wrangler d1 execute` would
    await login(client, user);
    const refused = await client.get("/api/v1/admin/users");
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: "forbidden" });
    const relaxed = new TestClient({ settings: { ADMIN_REQUIRE_MFA: "false" } });
    await login(relaxed, user);
    expect((await relaxed.get("/api/v1/admin/users?limit=1")).status).toBe(200);
  });

  it("needs a fresh session for writes, not for reads", async () => {
    const admin = await makeAdmin();
    const target = await registerUser(new TestClient());
    await ageSession(sessionIdOf(admin.client.sessionToken), 11 * MINUTE, ["created_at"]);
    expect((await admin.client.get(`/api/v1/admin/users/${target.id}`)).status).toBe(200);
    const stale = await admin.client.patch(`/api/v1/admin/users/${target.id}`, { json: { name: "x" } });
    expect(stale.status).toBe(403);
    expect(await stale.json()).toMatchObject({ code: "reauthentication_required" });
  });

  it("takes a superuser's key with the admin permission by name, and only a superuser may hold one", async () => {
    const admin = await makeAdmin();
    const target = await registerUser(new TestClient());
    const key = await adminKey(admin, { admin_users: ["read", "write"], admin_audit: ["read"] });
    const headers = { "X-API-Key": key };
    expect((await new TestClient().get(`/api/v1/admin/users/${target.id}`, { headers })).status).toBe(200);
    expect((await new TestClient().patch(`/api/v1/admin/users/${target.id}`, { headers, json: { name: "By key" } })).status).toBe(200);
    expect((await new TestClient().get("/api/v1/admin/events?limit=1", { headers })).status).toBe(200);

    const normal = new TestClient();
    await login(normal, await registerUser(normal));
    const refused = await normal.post("/api/v1/api-keys", { json: { name: "sneaky", permissions: { admin_users: ["read"] } } });
    expect(refused.status).toBe(403);
  });
});

describe("disabling a user", () => {
  it("ends the cookie session, the token family and the API key at once, and answers 403 only to the right password", async () => {
    const admin = await makeAdmin();
    const browser = new TestClient();
    const user = await registerUser(browser);
    await login(browser, user);
    const pair: TokenPair = await tokensFor(user);
    const created = await browser.post("/api/v1/api-keys", { json: { name: "k", permissions: { user_profile: ["read", "update"] } } });
    const { api_key: key } = (await created.json()) as { api_key: string };
    const keyHeaders = { "X-API-Key": key };
    expect((await new TestClient().get("/api/v1/users/me", { headers: keyHeaders })).status).toBe(200);

    const disabled = await admin.client.patch(`/api/v1/admin/users/${user.id}`, { json: { disabled: true } });
    expect(disabled.status).toBe(200);
    expect(await disabled.json()).toMatchObject({ disabled: true, session_count: 0 });

    expect((await browser.patch("/api/v1/users/me", { json: { name: "x" } })).status).toBe(401);
    const bearer = { Authorization: `Bearer ${pair.access_token}` };
    expect((await new TestClient().patch("/api/v1/users/me", { headers: bearer, json: { name: "x" } })).status).toBe(401);
    expect((await new TestClient().post("/api/v1/auth/refresh", { json: { refresh_token: pair.refresh_token } })).status).toBe(401);
    expect((await new TestClient().get("/api/v1/users/me", { headers: keyHeaders })).status).toBe(401);
    expect((await new TestClient().patch("/api/v1/users/me", { headers: keyHeaders, json: { name: "x" } })).status).toBe(401);

    const right = await new TestClient().post("/api/v1/auth/login", { json: { email: user.email, password: user.password } });
    expect(right.status).toBe(403);
    expect(await right.json()).toMatchObject({ code: "account_disabled" });
    const tokenGrant = await new TestClient().post("/api/v1/auth/token", { json: { email: user.email, password: user.password } });
    expect(tokenGrant.status).toBe(403);
    const wrong = await new TestClient().post("/api/v1/auth/login", { json: { email: user.email, password: "not the password" } });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ code: "invalid_credentials" });

    const enabled = await admin.client.patch(`/api/v1/admin/users/${user.id}`, { json: { disabled: false } });
    expect(await enabled.json()).toMatchObject({ disabled: false });
    expect((await browser.get("/api/v1/auth/check-auth")).status).toBe(200);
    expect(await (await browser.get("/api/v1/auth/check-auth")).json()).toEqual({ authenticated: false });
    await login(new TestClient(), user);
    expect((await new TestClient().get("/api/v1/users/me", { headers: keyHeaders })).status).toBe(200);
  });

  it("a disable racing logins leaves no session behind", async () => {
    const admin = await makeAdmin();
    const user = await registerUser(new TestClient());
    const logins = Array.from({ length: 4 }, () => new TestClient());
    const [disabled, ...answers] = await Promise.all([
      admin.client.patch(`/api/v1/admin/users/${user.id}`, { json: { disabled: true } }),
      ...logins.map((client) => client.post("/api/v1/auth/login", { json: { email: user.email, password: user.password } })),
    ]);
    expect(disabled.status).toBe(200);
    for (const answer of answers) expect([200, 403]).toContain(answer.status);
    for (const client of logins) expect(await (await client.get("/api/v1/auth/check-auth")).json()).toEqual({ authenticated: false });
  });
});

describe("the user list", () => {
  it("finds users by a case-insensitive prefix of email, username or name, newest first", async () => {
    const admin = await makeAdmin();
    const marker = `find${crypto.randomUUID().slice(0, 8)}`;
    const byEmail = await registerUser(new TestClient(), { email: `${marker}-mail@example.com` });
    const byUsername = await registerUser(new TestClient(), { username: `${marker}_user` });
    const named = new TestClient();
    const byName = await registerUser(named);
    await login(named, byName);
    await named.patch("/api/v1/users/me", { json: { name: `${marker.toUpperCase()} Lovelace` } });
    const page = await admin.client.get(`/api/v1/admin/users?query=${marker.toUpperCase()}`);
    expect(page.status).toBe(200);
    const body = (await page.json()) as {
      items: Array<{ id: string; mfa_enabled: boolean; session_count: number }>;
      next_cursor: string | null;
    };
    expect(body.items.map((item) => item.id)).toEqual([byName.id, byUsername.id, byEmail.id]);
    expect(body.next_cursor).toBeNull();
    expect(body.items[0]).toMatchObject({ mfa_enabled: false, session_count: 1 });
  });

  it("pages through a few thousand users with no duplicate and no gap while users are added between pages", async () => {
    const admin = await makeAdmin();
    const prefix = `page${crypto.randomUUID().slice(0, 8)}`;
    const seeded = await seedUsers(prefix, 2500);
    const seen: string[] = [];
    let cursor: string | null = null;
    let round = 0;
    do {
      const path: string = `/api/v1/admin/users?query=${prefix}&limit=100${cursor === null ? "" : `&cursor=${cursor}`}`;
      const response = await admin.client.get(path);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { items: Array<{ id: string }>; next_cursor: string | null };
      seen.push(...body.items.map((item) => item.id));
      cursor = body.next_cursor;
      // Newer users arrive while the admin pages: they are ahead of the cursor, so never shown twice.
      if (round++ % 5 === 0) await seedUsers(`${prefix}-late${round}`, 3);
    } while (cursor !== null);
    expect(new Set(seen).size).toBe(seen.length);
    const original = new Set(seeded);
    expect(seen.filter((id) => original.has(id)).length).toBe(seeded.length);
  });

  it("refuses a cursor it did not give", async () => {
    const admin = await makeAdmin();
    const response = await admin.client.get("/api/v1/admin/users?cursor=not-a-cursor");
    expect(response.status).toBe(422);
  });

  it("uses the indexes: the newest-first walk and each prefix range", async () => {
    const plan = async (sql: string, ...binds: string[]) =>
      JSON.stringify(
        (
          await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
            .bind(...binds)
            .all()
        ).results,
      );
    const walk = await plan("SELECT id FROM users ORDER BY created_at DESC, id DESC LIMIT 21");
    expect(walk).toContain("users_newest");
    const search = await plan(
      `SELECT id FROM users WHERE (email_normalized >= ?1 AND email_normalized < ?2) OR (username_normalized >= ?1 AND username_normalized < ?2)
         OR (name_normalized >= ?1 AND name_normalized < ?2) ORDER BY created_at DESC, id DESC LIMIT 21`,
      "ada",
      "ada\uffff",
    );
    expect(search).toContain("users_email_normalized_unique");
    expect(search).toContain("users_username_normalized_unique");
    expect(search).toContain("users_name_normalized");
  });
});

describe("admin writes", () => {
  it("creates users (without a password they set one by reset), changes them, and keeps uniqueness", async () => {
    const admin = await makeAdmin();
    const email = `made-${crypto.randomUUID()}@example.com`;
    const created = await admin.client.post("/api/v1/admin/users", { json: { email, name: "Made", email_verified: true } });
    expect(created.status).toBe(201);
    const user = (await created.json()) as { id: string; email_verified: boolean; disabled: boolean };
    expect(user).toMatchObject({ email_verified: true, disabled: false, is_superuser: false });
    expect((await new TestClient().post("/api/v1/auth/login", { json: { email, password: "anything-at-all" } })).status).toBe(401);
    expect((await admin.client.post(`/api/v1/admin/users/${user.id}/password-reset`)).status).toBe(202);
    expect((await outbox(email)).some((message) => message.body.includes("/reset-password?token="))).toBe(true);

    const other = await registerUser(new TestClient());
    expect((await admin.client.patch(`/api/v1/admin/users/${user.id}`, { json: { email: other.email } })).status).toBe(409);
    const moved = await admin.client.patch(`/api/v1/admin/users/${user.id}`, { json: { email: `moved-${email}` } });
    expect(await moved.json()).toMatchObject({ email: `moved-${email}`, email_verified: false });
    const duplicate = await admin.client.post("/api/v1/admin/users", { json: { email: other.email } });
    expect(duplicate.status).toBe(409);

    await admin.client.patch(`/api/v1/admin/users/${user.id}`, { json: { disabled: true } });
    await admin.client.patch(`/api/v1/admin/users/${user.id}`, { json: { disabled: false } });
    const audit = (await (await admin.client.get(`/api/v1/admin/events?user_id=${user.id}`)).json()) as {
      items: Array<{ type: string; actor_id: string | null }>;
    };
    const types = audit.items.map((item) => item.type);
    for (const type of [
      "admin_user_created",
      "admin_password_reset_sent",
      "admin_user_updated",
      "admin_user_disabled",
      "admin_user_enabled",
    ]) {
      expect(types, type).toContain(type);
    }
    for (const item of audit.items) expect(item.actor_id).toBe(item.type.startsWith("admin_") ? admin.user.id : null);
    // Paged: one at a time, newest first, the cursor walks the same list.
    const first = (await (await admin.client.get(`/api/v1/admin/events?user_id=${user.id}&limit=1`)).json()) as {
      items: Array<{ type: string }>;
      next_cursor: string;
    };
    expect(first.items.map((item) => item.type)).toEqual([types[0]]);
    const second = (await (
      await admin.client.get(`/api/v1/admin/events?user_id=${user.id}&limit=1&before=${first.next_cursor}`)
    ).json()) as {
      items: Array<{ type: string }>;
    };
    expect(second.items.map((item) => item.type)).toEqual([types[1]]);
  });

  it("a refused change (409) changes nothing: the user is not disabled either", async () => {
    const admin = await makeAdmin();
    const user = await registerUser(new TestClient());
    const other = await registerUser(new TestClient());
    const refused = await admin.client.patch(`/api/v1/admin/users/${user.id}`, { json: { email: other.email, disabled: true } });
    expect(refused.status).toBe(409);
    await login(new TestClient(), user);
    expect(await (await admin.client.get(`/api/v1/admin/users/${user.id}`)).json()).toMatchObject({ disabled: false, email: user.email });
  });

  it("will not let an admin demote, disable or delete themselves", async () => {
    const admin = await makeAdmin();
    const me = `/api/v1/admin/users/${admin.user.id}`;
    expect((await admin.client.patch(me, { json: { is_superuser: false } })).status).toBe(422);
    expect((await admin.client.patch(me, { json: { disabled: true } })).status).toBe(422);
    expect((await admin.client.delete(me)).status).toBe(422);
    expect(await (await admin.client.get(me)).json()).toMatchObject({ is_superuser: true, disabled: false });
  });

  it("lists and ends a user's sessions, removes their factors, clears throttling, deletes them, and audits each write with its actor", async () => {
    const admin = await makeAdmin();
    const phone = new TestClient();
    const user = await registerUser(phone);
    await login(phone, user);
    const laptop = new TestClient();
    await login(laptop, user);
    const listed = (await (await admin.client.get(`/api/v1/admin/users/${user.id}/sessions`)).json()) as {
      sessions: Array<{ id: string }>;
    };
    expect(listed.sessions).toHaveLength(2);
    expect((await admin.client.delete(`/api/v1/admin/users/${user.id}/sessions/${sessionIdOf(phone.sessionToken)}`)).status).toBe(204);
    expect((await phone.patch("/api/v1/users/me", { json: { name: "x" } })).status).toBe(401);
    expect(await (await admin.client.delete(`/api/v1/admin/users/${user.id}/sessions`)).json()).toEqual({ revoked: 1 });
    expect((await laptop.patch("/api/v1/users/me", { json: { name: "x" } })).status).toBe(401);

    const { enrollTotp } = await import("./helpers/mfa");
    const again = new TestClient();
    await login(again, user);
    await enrollTotp(again, user.id);
    expect((await new TestClient().post("/api/v1/auth/login", { json: { email: user.email, password: user.password } })).status).toBe(401);
    expect((await admin.client.delete(`/api/v1/admin/users/${user.id}/mfa`)).status).toBe(204);
    await login(new TestClient(), user); // no factor, no gate

    const ip = "10.77.77.77";
    for (let i = 0; i < 5; i++)
      await new TestClient({ ip }).post("/api/v1/auth/login", { json: { email: user.email, password: "wrong password" } });
    expect((await new TestClient({ ip }).post("/api/v1/auth/login", { json: { email: user.email, password: user.password } })).status).toBe(
      429,
    );
    expect((await admin.client.post("/api/v1/admin/throttle/clear", { json: { identifier: user.email, ip } })).status).toBe(200);
    expect((await new TestClient({ ip }).post("/api/v1/auth/login", { json: { email: user.email, password: user.password } })).status).toBe(
      200,
    );

    const fresh = await adminSession(admin);
    expect((await fresh.delete(`/api/v1/admin/users/${user.id}`)).status).toBe(204);
    expect((await fresh.get(`/api/v1/admin/users/${user.id}`)).status).toBe(404);

    const audit = (await (await fresh.get(`/api/v1/admin/events?user_id=${user.id}&limit=50`)).json()) as {
      items: Array<{ type: string; actor_id: string | null; user_id: string }>;
    };
    const types = audit.items.filter((item) => item.type.startsWith("admin_")).map((item) => item.type);
    for (const type of [
      "admin_session_revoked",
      "admin_sessions_revoked",
      "admin_mfa_reset",
      "admin_throttle_cleared",
      "admin_user_deleted",
    ]) {
      expect(types, type).toContain(type);
    }
    for (const item of audit.items.filter((entry) => entry.type.startsWith("admin_"))) expect(item.actor_id).toBe(admin.user.id);
    const deletions = (await (await fresh.get("/api/v1/admin/events?type=admin_user_deleted&limit=100")).json()) as {
      items: Array<{ user_id: string }>;
    };
    expect(deletions.items.map((item) => item.user_id)).toContain(user.id);
  });

  it("shows admin writes on the target's own security events", async () => {
    const admin = await makeAdmin();
    const client = new TestClient();
    const user = await registerUser(client);
    await login(client, user);
    await admin.client.patch(`/api/v1/admin/users/${user.id}`, { json: { name: "Renamed by admin" } });
    const events = (await (await client.get("/api/v1/auth/events")).json()) as { items: Array<{ type: string }> };
    expect(events.items.map((event) => event.type)).toContain("admin_user_updated");
    // The user's own view carries the name the admin set.
    expect(await (await client.get("/api/v1/users/me")).json()).toMatchObject({ name: "Renamed by admin" });
  });
});
