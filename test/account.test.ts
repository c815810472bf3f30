import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { deliver } from "../src/mail/mailer";
import { DAILY_CRON, runScheduled } from "../src/scheduled";
import { TestClient } from "./helpers/client";
import { expireMailTokens, linkToken, outbox } from "./helpers/mail";
import { type TestUser, login, registerUser, strongPassword, tokensFor as tokens, uniqueEmail } from "./helpers/users";

async function signedIn(): Promise<{ client: TestClient; user: TestUser }> {
  const client = new TestClient();
  const user = await registerUser(client);
  await login(client, user);
  return { client, user };
}

async function eventTypes(client: TestClient): Promise<string[]> {
  const response = await client.get("/api/v1/auth/events?limit=100");
  expect(response.status).toBe(200);
  return ((await response.json()) as { items: Array<{ type: string }> }).items.map((item) => item.type);
}

describe("email verification", () => {
  it("mails a single-use link that verifies the address", async () => {
    const { client, user } = await signedIn();
    const requested = await client.post("/api/v1/auth/verify-email/request");
    expect(requested.status).toBe(202);
    const token = await linkToken(user.email, "/verify-email");
    expect(token.length).toBeGreaterThanOrEqual(22);

    const confirmed = await new TestClient().post("/api/v1/auth/verify-email/confirm", { json: { token } });
    expect(confirmed.status).toBe(200);
    expect(await confirmed.json()).toMatchObject({ id: user.id, email_verified: true });
    expect(await (await client.get("/api/v1/users/me")).json()).toMatchObject({ email_verified: true });

    const again = await new TestClient().post("/api/v1/auth/verify-email/confirm", { json: { token } });
    expect(again.status).toBe(401);
    expect(await again.json()).toMatchObject({ code: "invalid_token" });
    expect(await eventTypes(client)).toContain("email_verified");
  });

  it("stores only a hash of the mailed token", async () => {
    const { client, user } = await signedIn();
    await client.post("/api/v1/auth/verify-email/request");
    const token = await linkToken(user.email, "/verify-email");
    const stored = await env.DB.prepare("SELECT token_hash FROM mail_tokens WHERE user_id = ?").bind(user.id).all<{ token_hash: string }>();
    expect(stored.results.length).toBe(1);
    expect(stored.results[0]?.token_hash).not.toBe(token);
  });

  it("refuses an expired link", async () => {
    const { client, user } = await signedIn();
    await client.post("/api/v1/auth/verify-email/request");
    const token = await linkToken(user.email, "/verify-email");
    await expireMailTokens(user.email);
    expect((await new TestClient().post("/api/v1/auth/verify-email/confirm", { json: { token } })).status).toBe(401);
  });

  it("limits requests per address: the fourth within an hour gets 429", async () => {
    const { client } = await signedIn();
    for (let i = 0; i < 3; i++) expect((await client.post("/api/v1/auth/verify-email/request")).status).toBe(202);
    const limited = await client.post("/api/v1/auth/verify-email/request");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("Retry-After")).not.toBeNull();
  });

  it("needs a signed-in user", async () => {
    expect((await new TestClient().post("/api/v1/auth/verify-email/request")).status).toBe(401);
  });
});

describe("password reset", () => {
  it("looks identical for an unknown email and a known one", async () => {
    const user = await registerUser(new TestClient());
    const known = await new TestClient().post("/api/v1/auth/password-reset/request", { json: { email: user.email } });
    const unknownEmail = uniqueEmail();
    const unknown = await new TestClient().post("/api/v1/auth/password-reset/request", { json: { email: unknownEmail } });
    expect(known.status).toBe(202);
    expect(unknown.status).toBe(202);
    expect(await known.json()).toEqual(await unknown.json());
    const headerNames = (response: Response): string[] => [...response.headers.keys()].filter((name) => name !== "x-request-id").sort();
    expect(headerNames(known)).toEqual(headerNames(unknown));
    expect(await outbox(user.email)).toHaveLength(1);
    expect(await outbox(unknownEmail)).toHaveLength(0);
  });

  it("sets the new password, ends every session and refresh token, and works once", async () => {
    const { client, user } = await signedIn();
    const pair = await tokens(user);
    await new TestClient().post("/api/v1/auth/password-reset/request", { json: { email: user.email } });
    const token = await linkToken(user.email, "/reset-password");
    const newPassword = strongPassword();

    const confirmed = await new TestClient().post("/api/v1/auth/password-reset/confirm", {
      json: { token, new_password: newPassword },
    });
    expect(confirmed.status).toBe(200);
    expect((await client.patch("/api/v1/users/me", { json: { name: "x" } })).status).toBe(401);
    expect((await client.get("/api/v1/users/me")).status).toBe(401);
    expect((await new TestClient().post("/api/v1/auth/refresh", { json: { refresh_token: pair.refresh_token } })).status).toBe(401);
    expect((await new TestClient().get("/api/v1/users/me", { headers: { Authorization: `Bearer ${pair.access_token}` } })).status).toBe(
      401,
    );

    const oldLogin = await new TestClient().post("/api/v1/auth/login", { json: { email: user.email, password: user.password } });
    expect(oldLogin.status).toBe(401);
    const fresh = new TestClient();
    await login(fresh, { ...user, password: newPassword });
    expect(await (await fresh.get("/api/v1/users/me")).json()).toMatchObject({ email_verified: true });

    const reused = await new TestClient().post("/api/v1/auth/password-reset/confirm", {
      json: { token, new_password: strongPassword() },
    });
    expect(reused.status).toBe(401);
    const notices = await outbox(user.email);
    expect(notices.some((message) => message.subject === "Your password was changed")).toBe(true);
    expect(await eventTypes(fresh)).toContain("password_reset");
  });

  it("refuses an expired link and a new password that breaks the policy", async () => {
    const user = await registerUser(new TestClient());
    await new TestClient().post("/api/v1/auth/password-reset/request", { json: { email: user.email } });
    const token = await linkToken(user.email, "/reset-password");
    const weak = await new TestClient().post("/api/v1/auth/password-reset/confirm", { json: { token, new_password: "password1" } });
    expect(weak.status).toBe(422);
    await expireMailTokens(user.email);
    const expired = await new TestClient().post("/api/v1/auth/password-reset/confirm", {
      json: { token, new_password: strongPassword() },
    });
    expect(expired.status).toBe(401);
  });

  it("mails at most three links per address an hour, still answering 202", async () => {
    const user = await registerUser(new TestClient());
    for (let i = 0; i < 5; i++) {
      const response = await new TestClient().post("/api/v1/auth/password-reset/request", { json: { email: user.email } });
      expect(response.status).toBe(202);
    }
    expect(await outbox(user.email)).toHaveLength(3);
  });
});

describe("POST /api/v1/users/me/password", () => {
  it("changes the password and ends every other session and refresh token, keeping this one", async () => {
    const { client, user } = await signedIn();
    const other = new TestClient();
    await login(other, user);
    const pair = await tokens(user);
    const newPassword = strongPassword();
    const response = await client.post("/api/v1/users/me/password", {
      json: { current_password: user.password, new_password: newPassword },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ revoked: 2 });
    expect((await client.patch("/api/v1/users/me", { json: { name: "still here" } })).status).toBe(200);
    expect((await other.patch("/api/v1/users/me", { json: { name: "x" } })).status).toBe(401);
    expect((await new TestClient().post("/api/v1/auth/refresh", { json: { refresh_token: pair.refresh_token } })).status).toBe(401);
    expect((await new TestClient().post("/api/v1/auth/login", { json: { email: user.email, password: user.password } })).status).toBe(401);
    await login(new TestClient(), { ...user, password: newPassword });
    expect((await outbox(user.email)).some((message) => message.subject === "Your password was changed")).toBe(true);
    expect(await eventTypes(client)).toContain("password_changed");
  });

  it("keeps the current token family when changed with a bearer token", async () => {
    const user = await registerUser(new TestClient());
    const pair = await tokens(user);
    const auth = { Authorization: `Bearer ${pair.access_token}` };
    const response = await new TestClient().post("/api/v1/users/me/password", {
      json: { current_password: user.password, new_password: strongPassword() },
      headers: auth,
    });
    expect(response.status).toBe(200);
    expect((await new TestClient().post("/api/v1/auth/refresh", { json: { refresh_token: pair.refresh_token } })).status).toBe(200);
  });

  it("refuses a wrong current password with 401 and throttles guessing", async () => {
    const { client, user } = await signedIn();
    for (let i = 0; i < 5; i++) {
      const wrong = await client.post("/api/v1/users/me/password", {
        json: { current_password: `wrong-${i}-password`, new_password: strongPassword() },
      });
      expect(wrong.status).toBe(401);
      expect(await wrong.json()).toMatchObject({ code: "invalid_credentials" });
    }
    const blocked = await client.post("/api/v1/users/me/password", {
      json: { current_password: user.password, new_password: strongPassword() },
    });
    expect(blocked.status).toBe(429);
  });

  it("refuses a new password equal to the current one or a common one with 422", async () => {
    const { client, user } = await signedIn();
    for (const newPassword of [user.password, "iloveyou1"]) {
      const response = await client.post("/api/v1/users/me/password", {
        json: { current_password: user.password, new_password: newPassword },
      });
      expect(response.status).toBe(422);
    }
  });
});

describe("DELETE /api/v1/users/me", () => {
  it("needs the password: 422 without, 401 when wrong", async () => {
    const { client } = await signedIn();
    expect((await client.delete("/api/v1/users/me", { json: {} })).status).toBe(422);
    expect((await client.delete("/api/v1/users/me", { json: { password: "not my password" } })).status).toBe(401);
    expect((await client.get("/api/v1/users/me")).status).toBe(200);
  });

  it("deletes for good: no way to sign in, every credential dead, no personal data left in D1", async () => {
    const { client, user } = await signedIn();
    const pair = await tokens(user);
    const key = (await (
      await client.post("/api/v1/api-keys", { json: { name: "k", permissions: { user_profile: ["read"] } } })
    ).json()) as { id: string; api_key: string };
    await client.post("/api/v1/auth/verify-email/request");
    expect((await new TestClient().get("/api/v1/users/me", { headers: { "X-API-Key": key.api_key } })).status).toBe(200);

    const response = await client.delete("/api/v1/users/me", { json: { password: user.password } });
    expect(response.status).toBe(204);
    expect(client.sessionToken).toBeUndefined();

    expect((await new TestClient().post("/api/v1/auth/login", { json: { email: user.email, password: user.password } })).status).toBe(401);
    expect((await new TestClient().get("/api/v1/users/me", { headers: { "X-API-Key": key.api_key } })).status).toBe(401);
    expect((await new TestClient().post("/api/v1/auth/refresh", { json: { refresh_token: pair.refresh_token } })).status).toBe(401);
    expect((await new TestClient().get("/api/v1/users/me", { headers: { Authorization: `Bearer ${pair.access_token}` } })).status).toBe(
      401,
    );

    for (const [table, column] of [
      ["users", "id"],
      ["security_events", "user_id"],
      ["api_keys", "user_id"],
      ["mail_tokens", "user_id"],
    ] as const) {
      const row = await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE ${column} = ?`).bind(user.id).first<{ n: number }>();
      expect(row?.n, table).toBe(0);
    }
    const byEmail = await env.DB.prepare("SELECT COUNT(*) AS n FROM users WHERE email_normalized = ?")
      .bind(user.email.toLowerCase())
      .first<{ n: number }>();
    expect(byEmail?.n).toBe(0);
    const usage = await env.DB.prepare("SELECT COUNT(*) AS n FROM api_key_usage WHERE key_id = ?").bind(key.id).first<{ n: number }>();
    expect(usage?.n).toBe(0);
    expect(await env.SESSIONS.get(`user:${user.id}`)).toBeNull();

    // The address is free again: a new account can take it.
    expect((await new TestClient().post("/api/v1/users", { json: { email: user.email, password: strongPassword() } })).status).toBe(201);
  });
});

describe("security events", () => {
  it("records each event type from its real cause, newest first, for the user only", async () => {
    const user = await registerUser(new TestClient());
    const client = new TestClient();
    await login(client, user);
    await new TestClient().post("/api/v1/auth/login", { json: { email: user.email, password: "wrong password" } });
    const firefox = new TestClient();
    firefox.userAgent = "Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0";
    await login(firefox, user);
    const other = new TestClient();
    await login(other, user);
    await client.delete(`/api/v1/auth/sessions/${other.sessionToken?.split(".")[0]}`);
    const key = (await (await client.post("/api/v1/api-keys", { json: { name: "k", permissions: {} } })).json()) as { id: string };
    await client.delete(`/api/v1/api-keys/${key.id}`);
    const pair = await tokens(user);
    const settings = { REFRESH_REUSE_GRACE_SECONDS: "0" };
    await new TestClient({ settings }).post("/api/v1/auth/refresh", { json: { refresh_token: pair.refresh_token } });
    await new TestClient({ settings }).post("/api/v1/auth/refresh", { json: { refresh_token: pair.refresh_token } });
    await client.post("/api/v1/auth/logout-all?keep_current=true");
    for (let i = 0; i < 6; i++) {
      await new TestClient().post("/api/v1/auth/login", { json: { email: user.email, password: "guessing" } });
    }

    const response = await client.get("/api/v1/auth/events?limit=100");
    const { items } = (await response.json()) as {
      items: Array<{ type: string; at: string; ip: string; device: { browser: string }; location: unknown; detail: unknown }>;
    };
    const types = items.map((item) => item.type);
    for (const type of [
      "login_succeeded",
      "login_failed",
      "login_throttled",
      "new_device",
      "session_revoked",
      "logout_all",
      "refresh_token_reused",
      "api_key_created",
      "api_key_revoked",
    ]) {
      expect(types, type).toContain(type);
    }
    expect(types.filter((type) => type === "login_throttled")).toHaveLength(1);
    const newDevice = items.find((item) => item.type === "new_device");
    expect(newDevice?.device.browser).toBe("Firefox");
    expect(newDevice?.ip).toBe(firefox.ip);
    const times = items.map((item) => item.at);
    expect([...times].sort().reverse()).toEqual(times);
    expect((await outbox(user.email)).some((message) => message.subject === "New sign-in to your account")).toBe(true);

    const stranger = new TestClient();
    await login(stranger, await registerUser(stranger));
    expect(await eventTypes(stranger)).toEqual(["login_succeeded"]);
  });

  it("pages with limit and before", async () => {
    const { client, user } = await signedIn();
    for (let i = 0; i < 3; i++) await login(new TestClient(), user);
    const first = (await (await client.get("/api/v1/auth/events?limit=2")).json()) as { items: Array<{ at: string }> };
    expect(first.items).toHaveLength(2);
    const before = first.items[1]!.at;
    const next = (await (await client.get(`/api/v1/auth/events?limit=10&before=${encodeURIComponent(before)}`)).json()) as {
      items: Array<{ at: string }>;
    };
    expect(next.items.every((item) => item.at < before)).toBe(true);
    expect((await client.get("/api/v1/auth/events?limit=0")).status).toBe(422);
    expect((await client.get("/api/v1/auth/events?before=yesterday")).status).toBe(422);
  });

  it("deletes events past EVENTS_RETENTION_DAYS in the daily clean-up", async () => {
    const { client, user } = await signedIn();
    const old = new Date(Date.now() - 91 * 86_400_000).toISOString();
    await env.DB.prepare("INSERT INTO security_events (id, user_id, type, at) VALUES (?, ?, 'login_succeeded', ?)")
      .bind(crypto.randomUUID(), user.id, old)
      .run();
    expect(await eventTypes(client)).toHaveLength(2);
    const removed = await runScheduled(env, DAILY_CRON);
    expect(removed.events).toBeGreaterThanOrEqual(1);
    expect(await eventTypes(client)).toEqual(["login_succeeded"]);
  });
});

describe("mail delivery", () => {
  it("retries a failing provider and never throws into the request", async () => {
    let calls = 0;
    const flaky = {
      async send(): Promise<void> {
        calls += 1;
        if (calls < 3) throw new Error("provider down");
      },
    };
    await deliver(flaky, { to: "a@example.com", subject: "s", text: "t" });
    expect(calls).toBe(3);
    const dead = { send: async (): Promise<void> => Promise.reject(new Error("down")) };
    await expect(deliver(dead, { to: "a@example.com", subject: "s", text: "t" })).resolves.toBeUndefined();
  }, 20_000);
});
