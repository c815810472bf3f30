// Attacks that cross flows (a login racing a deletion or a reset, caps under
// concurrency, a link decided from a cache, a fallback to a published key), one block
// each. The races run real concurrent requests against the real bindings and repeat
// enough rounds to hit the window they exploit.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parseConfig } from "../src/config/config";
import { SettingError } from "../src/config/parse";
import { CacheWriter } from "../src/user-authority/cache-writer";
import { forgetUser } from "../src/sessions/isolate-memory";
import type { UserAuthority } from "../src/user-authority/user-authority";
import { BASE_URL, TestClient, callWorker } from "./helpers/client";
import { d1Holding, hold, namespaceHolding, withBindings } from "./helpers/holds";
import { forgeHs256 } from "./helpers/jwt";
import { linkToken, outbox } from "./helpers/mail";
import { OAuthBrowser } from "./helpers/oauth-browser";
import { ageSession, sessionIdOf } from "./helpers/sessions";
import { type TestUser, login, registerUser, strongPassword, tokensFor, uniqueEmail } from "./helpers/users";

const MINUTE = 60_000;
const consumer = (env as unknown as { CONSUMER: Fetcher }).CONSUMER;

async function rpcAuthenticate(method: string, headers: Record<string, string>): Promise<Record<string, unknown>> {
  const response = await consumer.fetch("http://consumer/", {
    method: "POST",
    body: JSON.stringify({ op: "authenticate", args: [method, `${BASE_URL}/api/v1/users/me`, headers] }),
  });
  return (await response.json()) as Record<string, unknown>;
}

async function signedIn(user: TestUser): Promise<TestClient> {
  const client = new TestClient();
  await login(client, user);
  return client;
}

async function worksForWrites(client: TestClient): Promise<boolean> {
  return (await client.patch("/api/v1/users/me", { json: { name: "still here" } })).status === 200;
}

function authorityOf(userId: string): DurableObjectStub<UserAuthority> {
  return env.USER_AUTHORITY.getByName(userId);
}

function uniqueAddress(): string {
  return `oidc-${crypto.randomUUID()}@example.com`;
}

describe("1. OAuth with an unverified email never creates an account", () => {
  it("refuses the login (email_not_verified) and leaves the address free for its owner", async () => {
    const address = uniqueAddress();
    const browser = new OAuthBrowser();
    const response = await browser.loginWith("/api/v1/auth/oauth/testidp?mode=json", `unverified:${address}`);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "oauth_failed", reason: "email_not_verified" });
    expect(browser.sessionToken).toBeUndefined();
    // The real owner registers the address; a later unverified provider login cannot reach it.
    const owner = await registerUser(new TestClient(), { email: address });
    const again = await new OAuthBrowser().loginWith("/api/v1/auth/oauth/testidp?mode=json", `unverified:${address}`);
    expect(again.status).toBe(409);
    const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM oauth_accounts WHERE user_id = ?").bind(owner.id).first<{ n: number }>();
    expect(row?.n).toBe(0);
  });
});

describe("2. Linking a provider is a POST, checked with the user's authority at the callback", () => {
  async function startLink(browser: OAuthBrowser): Promise<string> {
    const started = await browser.post("/api/v1/auth/oauth/testidp/link?mode=json");
    expect(started.status).toBe(200);
    return ((await started.json()) as { url: string }).url;
  }

  it("refuses the GET ?link=true of contract v1.0 and a link POST without the CSRF header", async () => {
    const user = await registerUser(new TestClient());
    const browser = new OAuthBrowser();
    await login(browser, user);
    expect((await browser.get("/api/v1/auth/oauth/testidp?link=true")).status).toBe(400);
    const noCsrf = await browser.post("/api/v1/auth/oauth/testidp/link", { csrf: false });
    expect(noCsrf.status).toBe(403);
  });

  for (const ending of ["logout-all", "password reset"] as const) {
    it(`links nothing when the session that asked was ended by ${ending} before the callback`, async () => {
      const user = await registerUser(new TestClient());
      const browser = new OAuthBrowser();
      await login(browser, user);
      const url = await startLink(browser);
      if (ending === "logout-all") {
        expect((await (await signedIn(user)).post("/api/v1/auth/logout-all")).status).toBe(200);
      } else {
        await new TestClient().post("/api/v1/auth/password-reset/request", { json: { email: user.email } });
        const token = await linkToken(user.email, "/reset-password");
        const reset = await new TestClient().post("/api/v1/auth/password-reset/confirm", {
          json: { token, new_password: strongPassword() },
        });
        expect(reset.status).toBe(200);
      }
      const callback = await browser.signInAtProvider(url, uniqueAddress());
      const response = await browser.get(callback.replace(BASE_URL, ""));
      expect(await response.json()).toMatchObject({ code: "oauth_failed", reason: "session_ended" });
      const links = await env.DB.prepare("SELECT COUNT(*) AS n FROM oauth_accounts WHERE user_id = ?").bind(user.id).first<{ n: number }>();
      expect(links?.n).toBe(0);
    });
  }

  it("unlinks a provider, but never the only way into an account, even when two unlinks race", async () => {
    // An OAuth-only account with two providers: testidp (created it) and google (linked).
    const browser = new OAuthBrowser();
    const address = uniqueAddress();
    expect((await browser.loginWith("/api/v1/auth/oauth/testidp?mode=json", address)).status).toBe(200);
    const started = await browser.post("/api/v1/auth/oauth/google/link?mode=json");
    const { url } = (await started.json()) as { url: string };
    const linked = await browser.get((await browser.signInAtProvider(url, address)).replace(BASE_URL, ""));
    expect(linked.status).toBe(200);
    expect(((await (await browser.get("/api/v1/users/me")).json()) as { oauth_providers: string[] }).oauth_providers.sort()).toEqual([
      "google",
      "testidp",
    ]);

    const answers = await Promise.all([browser.delete("/api/v1/auth/oauth/testidp"), browser.delete("/api/v1/auth/oauth/google")]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([204, 422]);
    const me = (await (await browser.get("/api/v1/users/me")).json()) as { oauth_providers: string[] };
    expect(me.oauth_providers).toHaveLength(1);
    expect((await browser.delete(`/api/v1/auth/oauth/${me.oauth_providers[0]}`)).status).toBe(422);
  });
});

/** A client whose requests use `bindings` in place of the real ones, signed in as `from` is. */
function clientWith(bindings: Record<string, unknown>, from?: TestClient): TestClient {
  const client = new TestClient({ settings: withBindings(bindings) });
  for (const [name, value] of from?.cookies ?? []) client.cookies.set(name, value);
  return client;
}

describe("3. A deletion racing logins and key creation leaves nothing working", () => {
  it("refuses the session of a login whose password check passed just before the deletion (3 rounds of 4 logins)", async () => {
    for (let round = 0; round < 3; round++) {
      const user = await registerUser(new TestClient());
      const owner = await signedIn(user);
      // Each racing login stops right after its password check passed, until the deletion is done.
      const checked = hold();
      const racers = Array.from({ length: 4 }, () =>
        clientWith({ USER_AUTHORITY: namespaceHolding(env.USER_AUTHORITY, "passwordSignIn", checked) }),
      );
      const logins = racers.map((racer) => racer.post("/api/v1/auth/login", { json: { email: user.email, password: user.password } }));
      await checked.reached(4);
      expect((await owner.delete("/api/v1/users/me", { json: { password: user.password } })).status).toBe(204);
      checked.release();
      const answers = await Promise.all(logins);
      for (const [index, racer] of racers.entries()) {
        expect(answers[index]?.status).toBe(401);
        expect(racer.sessionToken).toBeUndefined();
      }
      expect((await new TestClient().post("/api/v1/auth/login", { json: { email: user.email, password: user.password } })).status).toBe(
        401,
      );
    }
  });

  it("keeps no security event of a login whose records are written after the deletion", async () => {
    const user = await registerUser(new TestClient());
    const owner = await signedIn(user);
    // The login answers, then its records (events, last_login_at) wait until the account is gone.
    const recording = hold();
    const racer = clientWith({ DB: d1Holding(/insert (or ignore )?into security_events/i, recording) });
    const login = racer.post("/api/v1/auth/login", { json: { email: user.email, password: user.password } });
    await recording.reached(1);
    expect((await owner.delete("/api/v1/users/me", { json: { password: user.password } })).status).toBe(204);
    recording.release();
    expect((await login).status).toBe(200);
    const rows = await env.DB.prepare(
      "SELECT (SELECT COUNT(*) FROM security_events WHERE user_id = ?1) AS events, (SELECT COUNT(*) FROM users WHERE id = ?1) AS users",
    )
      .bind(user.id)
      .first<{ events: number; users: number }>();
    expect(rows).toEqual({ events: 0, users: 0 });
    // The session that login got before the deletion does not work either.
    expect((await racer.get("/api/v1/users/me")).status).toBe(401);
  });

  it("creates no key for a request authenticated just before the deletion", async () => {
    const user = await registerUser(new TestClient());
    const owner = await signedIn(user);
    const authorized = hold();
    const keyMaker = clientWith(
      { USER_AUTHORITY: namespaceHolding(env.USER_AUTHORITY, "authorize", authorized, "after") },
      await signedIn(user),
    );
    const creating = keyMaker.post("/api/v1/api-keys", { json: { name: "late", permissions: { user_profile: ["read"] } } });
    await authorized.reached(1);
    expect((await owner.delete("/api/v1/users/me", { json: { password: user.password } })).status).toBe(204);
    authorized.release();
    const created = await creating;
    expect(created.status).toBe(401);
    const keys = await env.DB.prepare("SELECT COUNT(*) AS n FROM api_keys WHERE user_id = ?").bind(user.id).first<{ n: number }>();
    expect(keys?.n).toBe(0);
  });

  it("leaves no working session when logins race a deletion freely (5 rounds of 6)", async () => {
    for (let round = 0; round < 5; round++) {
      const user = await registerUser(new TestClient());
      const owner = await signedIn(user);
      const racers = Array.from({ length: 6 }, () => new TestClient());
      const [deleted, ...logins] = await Promise.all([
        owner.delete("/api/v1/users/me", { json: { password: user.password } }),
        ...racers.map((racer) => racer.post("/api/v1/auth/login", { json: { email: user.email, password: user.password } })),
      ]);
      expect(deleted.status).toBe(204);
      for (const [index, racer] of racers.entries()) {
        if (logins[index]?.status === 200) expect(await worksForWrites(racer)).toBe(false);
      }
    }
  });
});

describe("4. A password reset racing logins with the old password", () => {
  it("refuses the session of an old-password login whose check passed just before the reset (3 rounds of 4)", async () => {
    for (let round = 0; round < 3; round++) {
      const user = await registerUser(new TestClient());
      await new TestClient().post("/api/v1/auth/password-reset/request", { json: { email: user.email } });
      const token = await linkToken(user.email, "/reset-password");
      const checked = hold();
      const racers = Array.from({ length: 4 }, () =>
        clientWith({ USER_AUTHORITY: namespaceHolding(env.USER_AUTHORITY, "passwordSignIn", checked) }),
      );
      const logins = racers.map((racer) => racer.post("/api/v1/auth/login", { json: { email: user.email, password: user.password } }));
      await checked.reached(4);
      const reset = await new TestClient().post("/api/v1/auth/password-reset/confirm", { json: { token, new_password: strongPassword() } });
      expect(reset.status).toBe(200);
      checked.release();
      const answers = await Promise.all(logins);
      for (const [index, racer] of racers.entries()) {
        expect(answers[index]?.status).toBe(401);
        expect(racer.sessionToken).toBeUndefined();
      }
    }
  });

  it("never lets an after-login rehash write the old password back over a change", async () => {
    const { upgradePasswordHash } = await import("../src/users/user-credentials");
    const { database } = await import("../src/db/client");
    const user = await registerUser(new TestClient());
    const before = await env.DB.prepare("SELECT password_hash FROM users WHERE id = ?").bind(user.id).first<{ password_hash: string }>();
    const session = await signedIn(user);
    const newPassword = strongPassword();
    const changed = await session.post("/api/v1/users/me/password", {
      json: { current_password: user.password, new_password: newPassword },
    });
    expect(changed.status).toBe(200);
    // A rehash computed from the old password lands late: it must not apply.
    await upgradePasswordHash(database(env.DB), user.id, before?.password_hash ?? "", "pbkdf2-stale-hash-of-the-old-password");
    const after = await env.DB.prepare("SELECT password_hash FROM users WHERE id = ?").bind(user.id).first<{ password_hash: string }>();
    expect(after?.password_hash).not.toBe("pbkdf2-stale-hash-of-the-old-password");
    expect((await new TestClient().post("/api/v1/auth/login", { json: { email: user.email, password: newPassword } })).status).toBe(200);
  });

  it("lets only one of two racing password changes win", async () => {
    const user = await registerUser(new TestClient());
    const [first, second] = [await signedIn(user), await signedIn(user)];
    const answers = await Promise.all(
      [first, second].map((client) =>
        client.post("/api/v1/users/me/password", { json: { current_password: user.password, new_password: strongPassword() } }),
      ),
    );
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 401]);
  });
});

describe("5. The mailed-token cap is exact under concurrency", () => {
  it("sends exactly 3 reset mails for 20 concurrent requests for one address", async () => {
    const user = await registerUser(new TestClient());
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => new TestClient().post("/api/v1/auth/password-reset/request", { json: { email: user.email } })),
    );
    expect(answers.every((answer) => answer.status === 202)).toBe(true);
    const mails = (await outbox(user.email)).filter((message) => message.body.includes("/reset-password?token="));
    expect(mails).toHaveLength(3);
  });
});

describe("6. The API-key cap and key updates are decided by one owner", () => {
  it("keeps at most 100 active keys when 30 creations race at 95", async () => {
    const user = await registerUser(new TestClient());
    const client = await signedIn(user);
    const body = { json: { name: "k", permissions: { user_profile: ["read"] } } };
    for (let batch = 0; batch < 95; batch += 19) {
      const made = await Promise.all(Array.from({ length: 19 }, () => client.post("/api/v1/api-keys", body)));
      expect(made.every((answer) => answer.status === 201)).toBe(true);
    }
    // Every creation that gets as far as writing its D1 row waits there until all 30 could have.
    const writing = hold();
    const racer = clientWith({ DB: d1Holding(/insert into "api_keys"/i, writing) }, client);
    const pending = Array.from({ length: 30 }, () => racer.post("/api/v1/api-keys", body));
    await writing.reached(30, 1500);
    writing.release();
    const racing = await Promise.all(pending);
    expect(racing.filter((answer) => answer.status === 201)).toHaveLength(5);
    expect(racing.filter((answer) => answer.status === 422)).toHaveLength(25);
    const active = await env.DB.prepare("SELECT COUNT(*) AS n FROM api_keys WHERE user_id = ? AND revoked_at IS NULL")
      .bind(user.id)
      .first<{ n: number }>();
    expect(active?.n).toBe(100);
  });

  it("shows what the key can do when a rename that read the key first lands after a narrowing (10 rounds)", async () => {
    const user = await registerUser(new TestClient());
    const client = await signedIn(user);
    for (let round = 0; round < 10; round++) {
      const created = await client.post("/api/v1/api-keys", {
        json: { name: "wide", permissions: { reports: ["read"], billing: ["read"] } },
      });
      const key = (await created.json()) as { id: string; api_key: string };
      // The rename reads the key, then waits while the narrowing runs from start to end.
      const read = hold();
      const renamer = clientWith({ DB: d1Holding(/^select .* from "api_keys" where/i, read, "after") }, client);
      const rename = renamer.patch(`/api/v1/api-keys/${key.id}`, { json: { name: `renamed-${round}` } });
      await read.reached(1);
      expect((await client.patch(`/api/v1/api-keys/${key.id}`, { json: { permissions: { reports: ["read"] } } })).status).toBe(200);
      read.release();
      expect((await rename).status).toBe(200);
      const record = (await (await client.get(`/api/v1/api-keys/${key.id}`)).json()) as {
        name: string;
        permissions: Record<string, string[]>;
      };
      const verdict = await new TestClient().post("/api/v1/api-keys/verify", {
        json: { api_key: key.api_key, resource: "billing", action: "read" },
      });
      const { allowed } = (await verdict.json()) as { allowed: boolean };
      expect(record.name).toBe(`renamed-${round}`);
      expect(record.permissions).toEqual({ reports: ["read"] });
      expect(allowed).toBe(false);
      expect(await client.delete(`/api/v1/api-keys/${key.id}`)).toHaveProperty("status", 204);
    }
  });
});

describe("7. Deleting a passwordless account needs a recent sign-in, not a recent refresh", () => {
  it("refuses a deletion by a token family signed in over 10 minutes ago, however fresh its access token", async () => {
    const { s256 } = await import("../src/oauth/app-codes");
    const verifier = `verifier-${crypto.randomUUID()}-${crypto.randomUUID()}`;
    const browser = new OAuthBrowser();
    const start = `/api/v1/auth/oauth/testidp?client=mobile&redirect_uri=${encodeURIComponent("edgeauth://oauth/callback")}&code_challenge=${await s256(verifier)}`;
    const callback = await browser.signInAtProvider(await browser.start(start), uniqueAddress());
    const code = new URL((await browser.get(callback.replace(BASE_URL, ""))).headers.get("Location") ?? "").searchParams.get("code");
    const exchanged = await new TestClient().post("/api/v1/auth/token", {
      json: { grant_type: "authorization_code", code, code_verifier: verifier, redirect_uri: "edgeauth://oauth/callback" },
    });
    const pair = (await exchanged.json()) as { refresh_token: string };
    await ageSession(sessionIdOf(pair.refresh_token), 11 * MINUTE, ["created_at"]);
    const refreshed = await new TestClient().post("/api/v1/auth/refresh", { json: { refresh_token: pair.refresh_token } });
    const { access_token: accessToken } = (await refreshed.json()) as { access_token: string };
    const deletion = await new TestClient().delete("/api/v1/users/me", { json: {}, headers: { Authorization: `Bearer ${accessToken}` } });
    expect(deletion.status).toBe(403);
    expect((await new TestClient().get("/api/v1/users/me", { headers: { Authorization: `Bearer ${accessToken}` } })).status).toBe(200);
  });
});

describe("8. Staging fails closed", () => {
  it("refuses a missing or published SECRET_KEY outside development and test", () => {
    for (const environment of ["staging", "production"]) {
      expect(() => parseConfig({ ENVIRONMENT: environment })).toThrow(SettingError);
      expect(() => parseConfig({ ENVIRONMENT: environment, SECRET_KEY: "insecure-development-secret-key-do-not-use" })).toThrow(
        SettingError,
      );
    }
    expect(() =>
      parseConfig({ ENVIRONMENT: "staging", SECRET_KEY: "x".repeat(40), APP_BASE_URL: "https://app.example.test", MAIL_PROVIDER: "dev" }),
    ).toThrow(/MAIL_PROVIDER/);
  });

  it("serves no outbox in staging and takes no token signed with the published key", async () => {
    const settings = { ENVIRONMENT: "staging", SECRET_KEY: "", MAIL_PROVIDER: "" };
    const user = await registerUser(new TestClient());
    const forged = await forgeHs256(user.id, crypto.randomUUID(), { secret: "insecure-development-secret-key-do-not-use" });
    const me = await new TestClient({ settings }).get("/api/v1/users/me", { headers: { Authorization: `Bearer ${forged}` } });
    expect(me.status).not.toBe(200);
    const staging = {
      ENVIRONMENT: "staging",
      SECRET_KEY: "a-real-staging-secret-of-at-least-32-chars",
      APP_BASE_URL: "https://app.example.test",
      MAIL_PROVIDER: "",
    };
    expect((await new TestClient({ settings: staging }).get("/api/v1/dev/outbox")).status).toBe(404);
  });
});

describe("9. Client-chosen names never reach prototype members", () => {
  it("answers verify for resource constructor, __proto__ and toString without a 500", async () => {
    const user = await registerUser(new TestClient());
    const client = await signedIn(user);
    const created = await client.post("/api/v1/api-keys", { json: { name: "proto", permissions: { reports: ["read"] } } });
    const { api_key: apiKey } = (await created.json()) as { api_key: string };
    for (const resource of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
      const response = await new TestClient().post("/api/v1/api-keys/verify", { json: { api_key: apiKey, resource, action: "read" } });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ valid: true, allowed: false });
    }
  });

  it("answers 404 provider_not_configured for /oauth/constructor, __proto__ and toString", async () => {
    for (const name of ["constructor", "__proto__", "toString", "valueOf"]) {
      for (const path of [`/api/v1/auth/oauth/${name}`, `/api/v1/auth/oauth/callback/${name}?state=x&code=y`]) {
        const response = await new TestClient().get(path);
        expect(response.status).toBe(404);
        expect(await response.json()).toMatchObject({ code: "provider_not_configured" });
      }
    }
  });

  it("treats a malformed percent-encoded session cookie as no session, over HTTP, introspection and RPC", async () => {
    const cookie = "session_id=%E0%A4%A";
    expect(await (await new TestClient().get("/api/v1/auth/check-auth", { headers: { Cookie: cookie } })).json()).toEqual({
      authenticated: false,
    });
    const introspection = await new TestClient().post("/api/v1/auth/introspect", { json: {}, headers: { Cookie: cookie } });
    expect(introspection.status).toBe(200);
    expect(await introspection.json()).toEqual({ active: false });
    expect(await rpcAuthenticate("GET", { Cookie: cookie })).toMatchObject({ authenticated: false, code: "not_authenticated" });
  });
});

describe("10. No log line holds a credential, a hash or an email", () => {
  afterEach(() => vi.restoreAllMocks());

  it("answers 503 and logs only the error's class when D1 fails with the bound parameters in its message", async () => {
    const lines: string[] = [];
    for (const level of ["log", "info", "warn", "error"] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
    }
    // The real D1, with the users table renamed in every statement: drizzle's error then
    // quotes the INSERT with its parameters (the email and the password hash).
    const failing = new Proxy(env.DB, {
      get(target, property) {
        if (property === "prepare") return (query: string) => target.prepare(query.replaceAll('"users"', '"users_gone"'));
        const value = Reflect.get(target, property);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const email = uniqueEmail();
    const password = strongPassword();
    const request = new Request(`${BASE_URL}/api/v1/users`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": "10.250.0.1" },
      body: JSON.stringify({ email, password }),
    });
    const response = await callWorker(request, { DB: failing } as unknown as Record<string, string>);
    expect(response.status).toBe(503);
    expect(response.headers.get("Retry-After")).not.toBeNull();
    expect(await response.json()).toMatchObject({ code: "service_unavailable" });
    expect(lines.some((line) => line.includes("unhandled_error"))).toBe(true);
    for (const line of lines) {
      expect(line).not.toContain(email);
      expect(line).not.toContain(password);
      expect(line).not.toMatch(/pbkdf2|\$\d+\$|users_gone/);
    }
  });
});

describe("11. Throttling per account, and a registration limit per IP", () => {
  it("counts guesses by email and by username against one account counter", async () => {
    const user = await registerUser(new TestClient());
    const client = new TestClient();
    for (let attempt = 0; attempt < 3; attempt++) {
      expect((await client.post("/api/v1/auth/login", { json: { email: user.email, password: "wrong-password-1" } })).status).toBe(401);
    }
    for (let attempt = 0; attempt < 2; attempt++) {
      const other = new TestClient();
      expect((await other.post("/api/v1/auth/login", { json: { username: user.username, password: "wrong-password-2" } })).status).toBe(
        401,
      );
    }
    const locked = await new TestClient().post("/api/v1/auth/login", { json: { username: user.username, password: user.password } });
    expect(locked.status).toBe(429);
    expect(locked.headers.get("Retry-After")).not.toBeNull();
  });

  it("allows exactly REGISTRATION_MAX_PER_HOUR registrations per IP, also when 10 race", async () => {
    const settings = { REGISTRATION_MAX_PER_HOUR: "3" };
    const client = new TestClient({ settings });
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => client.post("/api/v1/users", { json: { email: uniqueEmail(), password: strongPassword() } })),
    );
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(3);
    const refused = answers.filter((answer) => answer.status === 429);
    expect(refused).toHaveLength(7);
    expect(await refused[0]?.json()).toMatchObject({ code: "too_many_attempts" });
    // Mail-sending requests share the IP's hourly budget.
    const reset = await client.post("/api/v1/auth/password-reset/request", { json: { email: uniqueEmail() } });
    expect(reset.status).toBe(429);
  });
});

describe("12. Revocation bounds hold exactly", () => {
  it("never trusts an isolate's copy of a session past 5 s from its read, even after a touch", async () => {
    const user = await registerUser(new TestClient());
    const client = await signedIn(user);
    const id = sessionIdOf(client.sessionToken);
    // Cached activity 58 s old: the read at t0 needs no touch, the one at t0 + 3 s does.
    await ageSession(id, 58_000);
    expect((await client.get("/api/v1/users/me")).status).toBe(200); // from KV at t0
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect((await client.get("/api/v1/users/me")).status).toBe(200); // from memory, and a touch
    // Revoked elsewhere: straight at the authority, so this isolate is not told.
    await authorityOf(user.id).revokeSession(id);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect((await client.get("/api/v1/users/me")).status).toBe(401);
  });

  it("takes a revoked session's stale KV entry down when a read's touch finds it revoked", async () => {
    const user = await registerUser(new TestClient());
    const client = await signedIn(user);
    const id = sessionIdOf(client.sessionToken);
    await ageSession(id, 2 * MINUTE);
    const stale = await env.SESSIONS.get(`session:${id}`);
    await authorityOf(user.id).revokeSession(id);
    // A KV location that has not heard of the revocation yet still serves the old entry.
    await env.SESSIONS.put(`session:${id}`, stale ?? "", { expirationTtl: 600 });
    await new Promise((resolve) => setTimeout(resolve, 5100));
    await client.get("/api/v1/users/me");
    expect(await env.SESSIONS.get(`session:${id}`)).toBeNull();
    expect((await client.get("/api/v1/users/me")).status).toBe(401);
  });

  it("retries a failed principal-record write and gives the record a TTL", async () => {
    const user = await registerUser(new TestClient());
    const pair = await tokensFor(user);
    expect((await new TestClient().get("/api/v1/users/me", { headers: { Authorization: `Bearer ${pair.access_token}` } })).status).toBe(
      200,
    );
    const listed = await env.SESSIONS.list({ prefix: `user:${user.id}` });
    expect(listed.keys[0]?.expiration).toBeGreaterThan(Date.now() / 1000);

    const failingKv = {
      put: async () => Promise.reject(new Error("KV PUT failed: 503")),
      delete: async () => Promise.reject(new Error("KV DELETE failed: 503")),
    } as unknown as KVNamespace;
    await runInDurableObject(authorityOf(user.id), async (instance, state) => {
      const internals = (instance as unknown as { parts: { cache: CacheWriter } }).parts;
      const working = internals.cache;
      internals.cache = new CacheWriter(state.storage.sql, state.storage, failingKv, (working as unknown as { source: never }).source);
      await instance.revokeAll(null);
      const dirty = state.storage.sql
        .exec<{ key: string }>("SELECT key FROM cache_dirty")
        .toArray()
        .map((row) => row.key);
      expect(dirty).toContain(`user:${user.id}`);
      expect(await state.storage.getAlarm()).not.toBeNull();
      internals.cache = working;
      await instance.alarm();
      expect(state.storage.sql.exec("SELECT key FROM cache_dirty").toArray()).toEqual([]);
    });
    const record = (await env.SESSIONS.get(`user:${user.id}`, "json")) as { families: string[] };
    expect(record.families).toEqual([]);
    forgetUser(user.id); // as if read by another isolate
    expect((await new TestClient().get("/api/v1/users/me", { headers: { Authorization: `Bearer ${pair.access_token}` } })).status).toBe(
      401,
    );
  });

  it("writes the principal key once when an account is deleted", async () => {
    const user = await registerUser(new TestClient());
    await tokensFor(user);
    const writes: string[] = [];
    const countingKv = {
      put: async (key: string, ...rest: unknown[]) => {
        writes.push(key);
        return env.SESSIONS.put(key, ...(rest as [string]));
      },
      delete: async (key: string) => {
        writes.push(key);
        return env.SESSIONS.delete(key);
      },
    } as unknown as KVNamespace;
    await runInDurableObject(authorityOf(user.id), async (instance, state) => {
      const internals = (instance as unknown as { parts: { cache: CacheWriter } }).parts;
      internals.cache = new CacheWriter(
        state.storage.sql,
        state.storage,
        countingKv,
        (internals.cache as unknown as { source: never }).source,
      );
      await instance.deleteAccount();
    });
    expect(writes.filter((key) => key === `user:${user.id}`)).toHaveLength(1);
    expect(await env.SESSIONS.get(`user:${user.id}`)).toBeNull();
  });

  it("refuses a read with an access token whose family never existed", async () => {
    const user = await registerUser(new TestClient());
    await tokensFor(user);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const forged = await forgeHs256(user.id, "f".repeat(48), { claims: { iat: Math.floor(Date.now() / 1000) - 1 } });
    const response = await new TestClient().get("/api/v1/users/me", { headers: { Authorization: `Bearer ${forged}` } });
    expect(response.status).toBe(401);
  });

  it("accepts the access token of a family created after the cached record was written", async () => {
    const user = await registerUser(new TestClient());
    const first = await tokensFor(user);
    expect((await new TestClient().get("/api/v1/users/me", { headers: { Authorization: `Bearer ${first.access_token}` } })).status).toBe(
      200,
    );
    // Another location still has the record from before the second sign-in.
    const old = await env.SESSIONS.get(`user:${user.id}`);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const second = await tokensFor(user);
    await env.SESSIONS.put(`user:${user.id}`, old ?? "");
    forgetUser(user.id); // as if read by another isolate
    expect((await new TestClient().get("/api/v1/users/me", { headers: { Authorization: `Bearer ${second.access_token}` } })).status).toBe(
      200,
    );
  });
});

describe("13. Contract v1.1 conformance", () => {
  it("answers a method a path does not have with 405 and Allow before asking for a credential", async () => {
    for (const [method, path] of [
      ["PUT", "/api/v1/api-keys"],
      ["PUT", "/api/v1/api-keys/abcdefgh"],
      ["POST", "/api/v1/api-keys/abcdefgh/usage"],
      ["PUT", "/api/v1/users/me"],
    ] as const) {
      const response = await new TestClient().request(method, path, { json: {} });
      expect(response.status, `${method} ${path}`).toBe(405);
      expect(response.headers.get("Allow")).not.toBeNull();
      expect(await response.json()).toMatchObject({ code: "method_not_allowed" });
    }
  });
});

describe("14. HTTP, introspection and RPC give the same verdict", () => {
  it("refuses Authorization: Basic plus a valid session cookie everywhere", async () => {
    const user = await registerUser(new TestClient());
    const client = await signedIn(user);
    const headers = { Authorization: "Basic dXNlcjpwYXNz", Cookie: `session_id=${client.sessionToken}` };
    const http = await new TestClient().get("/api/v1/users/me", { headers });
    expect(http.status).toBe(401);
    expect(await http.json()).toMatchObject({ code: "invalid_token" });
    expect(await rpcAuthenticate("GET", headers)).toMatchObject({ authenticated: false, code: "invalid_token", status: 401 });
    const introspection = await new TestClient().post("/api/v1/auth/introspect", { json: {}, headers });
    expect(await introspection.json()).toEqual({ active: false });
  });
});
