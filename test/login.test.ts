import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { hashPassword } from "../src/passwords/hash";
import { TestClient, cookieAttributes } from "./helpers/client";
import { login, registerUser, strongPassword, uniqueEmail } from "./helpers/users";

describe("POST /api/v1/auth/login", () => {
  it("returns the user and a CSRF token and sets both cookies with safe attributes", async () => {
    const client = new TestClient();
    const user = await registerUser(client);
    const response = await client.post("/api/v1/auth/login", { json: { email: user.email, password: user.password } });
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const body = (await response.json()) as { user: { id: string }; csrf_token: string };
    expect(body.user.id).toBe(user.id);
    expect(body.csrf_token.length).toBeGreaterThanOrEqual(22);

    const session = cookieAttributes(client.lastSetCookies, "session_id");
    expect(session?.has("httponly")).toBe(true);
    expect(session?.get("samesite")).toBe("Lax");
    expect(session?.get("path")).toBe("/");
    expect(session?.get("max-age")).toBe("86400");
    expect(session?.has("domain")).toBe(false);
    const csrf = cookieAttributes(client.lastSetCookies, "csrf_token");
    expect(csrf?.has("httponly")).toBe(false);
    expect(client.csrfToken).toBe(body.csrf_token);
  });

  it("answers with the providers linked to the account, in the order they were linked, and records the sign-in", async () => {
    const client = new TestClient();
    const user = await registerUser(client);
    const link = env.DB.prepare(
      "INSERT INTO oauth_accounts (provider, provider_user_id, user_id, email, created_at) VALUES (?, ?, ?, NULL, ?)",
    );
    await env.DB.batch([
      link.bind("testidp", `t-${user.id}`, user.id, "2026-01-02T00:00:00.000Z"),
      link.bind("google", `g-${user.id}`, user.id, "2026-01-01T00:00:00.000Z"),
      // A second identity at a provider already linked: the provider is listed once.
      link.bind("testidp", `t2-${user.id}`, user.id, "2026-01-03T00:00:00.000Z"),
    ]);
    const other = await registerUser(new TestClient());
    await env.DB.prepare(
      "INSERT INTO oauth_accounts (provider, provider_user_id, user_id, email, created_at) VALUES ('github', ?, ?, NULL, ?)",
    )
      .bind(`h-${other.id}`, other.id, "2026-01-01T00:00:00.000Z")
      .run();

    const body = (await (await login(client, user)).json()) as { user: { oauth_providers: string[] } };
    expect(body.user.oauth_providers).toEqual(["google", "testidp"]);
    const me = (await (await client.get("/api/v1/users/me")).json()) as { oauth_providers: string[] };
    expect(me.oauth_providers).toEqual(["google", "testidp"]);
    const recorded = await env.DB.prepare(
      "SELECT last_login_at AS at, (SELECT COUNT(*) FROM security_events WHERE user_id = users.id AND type = 'login_succeeded') AS events FROM users WHERE id = ?",
    )
      .bind(user.id)
      .first<{ at: string | null; events: number }>();
    expect(recorded?.at).not.toBeNull();
    expect(recorded?.events).toBe(1);
  });

  it("issues a session token of the form <id>.<secret> with at least 128 bits of secret", async () => {
    const client = new TestClient();
    await login(client, await registerUser(client));
    const [id, secret] = (client.sessionToken ?? "").split(".");
    expect(id).toMatch(/^[0-9a-f]{48}$/);
    expect(secret?.length).toBeGreaterThanOrEqual(22);
  });

  it("logs in by username in any letter case, and by email in the username field", async () => {
    const client = new TestClient();
    const user = await registerUser(client);
    const byUsername = await client.post("/api/v1/auth/login", {
      json: { username: user.username.toUpperCase(), password: user.password },
    });
    expect(byUsername.status).toBe(200);
    const byEmailInUsername = await client.post("/api/v1/auth/login", {
      json: { username: user.email.toUpperCase(), password: user.password },
    });
    expect(byEmailInUsername.status).toBe(200);
  });

  it("accepts an OAuth2 password form (application/x-www-form-urlencoded)", async () => {
    const client = new TestClient();
    const user = await registerUser(client);
    const response = await client.post("/api/v1/auth/login", {
      form: { username: user.email, password: user.password, remember_me: "true" },
    });
    expect(response.status).toBe(200);
    expect(cookieAttributes(client.lastSetCookies, "session_id")?.get("max-age")).toBe(String(30 * 86400));
  });

  it("gives the same status and body for an unknown user and a wrong password", async () => {
    const user = await registerUser(new TestClient());
    const wrong = await new TestClient().post("/api/v1/auth/login", {
      json: { email: user.email, password: "not the password" },
    });
    const unknown = await new TestClient().post("/api/v1/auth/login", {
      json: { email: uniqueEmail(), password: "not the password" },
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const wrongBody = await wrong.json();
    expect(wrongBody).toEqual(await unknown.json());
    expect(wrongBody).toEqual({ detail: "Incorrect username or password", code: "invalid_credentials" });
    expect(wrong.headers.getSetCookie()).toEqual([]);
  });

  it("always issues a new session, even when the request already has one (no fixation)", async () => {
    const client = new TestClient();
    const user = await registerUser(client);
    await login(client, user);
    const first = client.sessionToken;
    await login(client, user);
    expect(client.sessionToken).not.toBe(first);
  });

  it("requires a password and an identifier: 422", async () => {
    const response = await new TestClient().post("/api/v1/auth/login", { json: { password: "x" } });
    expect(response.status).toBe(422);
    const noPassword = await new TestClient().post("/api/v1/auth/login", { json: { email: "a@example.com" } });
    expect(noPassword.status).toBe(422);
  });

  it("upgrades a hash made with older parameters at the next successful login", async () => {
    const email = uniqueEmail();
    const password = strongPassword();
    const weak = await hashPassword(password, { params: { rounds: 1, iterations: 1000 } });
    const now = new Date().toISOString();
    const id = crypto.randomUUID();
    await env.DB.prepare("INSERT INTO users (id, email, email_normalized, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)")
      .bind(id, email, email, weak, now, now)
      .run();
    const client = new TestClient();
    expect((await client.post("/api/v1/auth/login", { json: { email, password } })).status).toBe(200);
    const row = await env.DB.prepare("SELECT password_hash FROM users WHERE id = ?").bind(id).first<{ password_hash: string }>();
    expect(row?.password_hash).toMatch(/^\$pbkdf2-sha256\$r=6,i=100000,p=0\$/);
    expect((await new TestClient().post("/api/v1/auth/login", { json: { email, password } })).status).toBe(200);
  });
});

describe("login throttling", () => {
  const settings = { LOGIN_MAX_ATTEMPTS: "5", LOGIN_WINDOW_MINUTES: "15" };

  it("refuses the attempt after LOGIN_MAX_ATTEMPTS failures with 429 and Retry-After, even with the right password", async () => {
    const client = new TestClient({ settings });
    const user = await registerUser(client);
    for (let i = 0; i < 5; i++) {
      const response = await client.post("/api/v1/auth/login", { json: { email: user.email, password: "wrong guess" } });
      expect(response.status).toBe(401);
    }
    const blocked = await client.post("/api/v1/auth/login", { json: { email: user.email, password: user.password } });
    expect(blocked.status).toBe(429);
    expect(await blocked.json()).toMatchObject({ code: "too_many_attempts" });
    const retryAfter = Number(blocked.headers.get("Retry-After"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
  });

  it("throttles per identifier across different IPs", async () => {
    const user = await registerUser(new TestClient());
    for (let i = 0; i < 5; i++) {
      await new TestClient({ settings }).post("/api/v1/auth/login", { json: { email: user.email, password: "wrong" } });
    }
    const fromNewIp = await new TestClient({ settings }).post("/api/v1/auth/login", {
      json: { email: user.email.toUpperCase(), password: user.password },
    });
    expect(fromNewIp.status).toBe(429);
  });

  it("throttles per client IP across different identifiers", async () => {
    const client = new TestClient({ settings });
    for (let i = 0; i < 5; i++) {
      await client.post("/api/v1/auth/login", { json: { email: uniqueEmail(), password: "wrong" } });
    }
    const user = await registerUser(new TestClient());
    const response = await client.post("/api/v1/auth/login", { json: { email: user.email, password: user.password } });
    expect(response.status).toBe(429);
  });

  it("clears the identifier's counter on a successful login", async () => {
    const client = new TestClient({ settings });
    const user = await registerUser(client);
    for (let i = 0; i < 4; i++) {
      await new TestClient({ settings }).post("/api/v1/auth/login", { json: { email: user.email, password: "wrong" } });
    }
    await login(client, user);
    for (let i = 0; i < 4; i++) {
      const response = await new TestClient({ settings }).post("/api/v1/auth/login", {
        json: { email: user.email, password: "wrong" },
      });
      expect(response.status).toBe(401);
    }
  });

  it("lets at most 5 of 30 racing wrong passwords be checked", async () => {
    const user = await registerUser(new TestClient());
    const responses = await Promise.all(
      Array.from({ length: 30 }, () =>
        new TestClient({ settings }).post("/api/v1/auth/login", { json: { email: user.email, password: "racing guess" } }),
      ),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 401)).toHaveLength(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(25);
    for (const response of responses.filter((r) => r.status === 429)) {
      expect(Number(response.headers.get("Retry-After"))).toBeGreaterThan(0);
    }
  });

  it("lets at most 5 of 30 racing wrong passwords from one IP be checked", async () => {
    const client = new TestClient({ settings });
    const responses = await Promise.all(
      Array.from({ length: 30 }, () => client.post("/api/v1/auth/login", { json: { email: uniqueEmail(), password: "racing guess" } })),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 401)).toHaveLength(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(25);
  });

  it("throttles an IPv6 client by its /64, not by single address", async () => {
    for (let i = 1; i <= 5; i++) {
      await new TestClient({ settings, ip: `2001:db8:abcd:12::${i}` }).post("/api/v1/auth/login", {
        json: { email: uniqueEmail(), password: "wrong" },
      });
    }
    const sameNetwork = await new TestClient({ settings, ip: "2001:db8:abcd:12:ffff::9" }).post("/api/v1/auth/login", {
      json: { email: uniqueEmail(), password: "wrong" },
    });
    expect(sameNetwork.status).toBe(429);
  });
});

describe("login throttling counts failures only", () => {
  it("lets more than LOGIN_MAX_ATTEMPTS successful logins through from one IP", async () => {
    const client = new TestClient({ settings: { LOGIN_MAX_ATTEMPTS: "3", MAX_SESSIONS_PER_USER: "10" } });
    const user = await registerUser(client);
    for (let i = 0; i < 6; i++) await login(client, user);
  });
});
