// Fault injection on every hot and write path (test/helpers/faults.ts wraps the real
// bindings): a failing dependency is a 503 service_unavailable with Retry-After, never
// a 500 and never a pass; a read that can fall back does; an idempotent authority call
// is retried once when the platform says it may be, a non-idempotent one never; and the
// state afterwards is unchanged, or changed exactly once.
import { describe, expect, it } from "vitest";
import { BASE_URL, TestClient } from "./helpers/client";
import { Faults, type FaultKind } from "./helpers/faults";
import { makeAdmin } from "./helpers/admin";
import { linkToken } from "./helpers/mail";
import { codeAt, stableStep } from "./helpers/mfa";
import { OAuthBrowser, servers } from "./helpers/oauth-browser";
import { login, registerUser, strongPassword, tokensFor, uniqueEmail } from "./helpers/users";

async function expectUnavailable(response: Response): Promise<void> {
  expect(response.status).toBe(503);
  expect(Number(response.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
  const body = (await response.json()) as { code: string; detail: string };
  expect(body.code).toBe("service_unavailable");
  expect(body.detail).not.toMatch(/injected|Error|at /);
}

async function signedIn(): Promise<{ client: TestClient; user: Awaited<ReturnType<typeof registerUser>> }> {
  const client = new TestClient();
  const user = await registerUser(client);
  await login(client, user);
  return { client, user };
}

/** A fresh client (no isolate-memory hit: the memory is per session, and this session is new to it) with faults. */
function faulty(client: TestClient, faults: Faults): TestClient {
  const other = client.clone();
  other.bindings = faults.bindings();
  return other;
}

async function sessionCount(client: TestClient): Promise<number> {
  const response = await client.get("/api/v1/auth/sessions");
  expect(response.status).toBe(200);
  return ((await response.json()) as { sessions: unknown[] }).sessions.length;
}

describe("session check (cookie) under faults", () => {
  it("a KV read error falls back to the authority and answers", async () => {
    const { client, user } = await signedIn();
    const faults = new Faults().fail("SESSIONS", { methods: ["get"] });
    const response = await faulty(client, faults).get("/api/v1/users/me");
    expect(response.status).toBe(200);
    expect(((await response.json()) as { email: string }).email).toBe(user.email.toLowerCase());
    expect(faults.failed.get("SESSIONS.get")).toBeGreaterThanOrEqual(1);
    expect(faults.count("USER_AUTHORITY", "authorize")).toBe(1);
  });

  it.each<FaultKind>(["error", "overloaded"])("KV failing and the authority failing (%s) is a 503, not a pass", async (kind) => {
    const { client } = await signedIn();
    const faults = new Faults().fail("SESSIONS", { methods: ["get"] }).fail("USER_AUTHORITY", { kind });
    await expectUnavailable(await faulty(client, faults).get("/api/v1/users/me"));
    expect(faults.count("USER_AUTHORITY", "authorize")).toBe(1); // an overloaded object is not asked again
    expect((await client.get("/api/v1/users/me")).status).toBe(200);
  });

  it("a retryable authority error is retried once, on a fresh stub", async () => {
    const { client } = await signedIn();
    const faults = new Faults().fail("SESSIONS", { methods: ["get"] }).fail("USER_AUTHORITY", { kind: "retryable", times: 1 });
    expect((await faulty(client, faults).get("/api/v1/users/me")).status).toBe(200);
    expect(faults.count("USER_AUTHORITY", "authorize")).toBe(2);
  });

  it("two retryable errors in a row are a 503 (one retry only)", async () => {
    const { client } = await signedIn();
    const faults = new Faults().fail("SESSIONS", { methods: ["get"] }).fail("USER_AUTHORITY", { kind: "retryable" });
    await expectUnavailable(await faulty(client, faults).get("/api/v1/users/me"));
    expect(faults.count("USER_AUTHORITY", "authorize")).toBe(2);
  });

  it("a write's authoritative check failing is a 503 and changes nothing", async () => {
    const { client } = await signedIn();
    const faults = new Faults().fail("USER_AUTHORITY", { methods: ["authorize"], kind: "overloaded" });
    await expectUnavailable(await faulty(client, faults).patch("/api/v1/users/me", { json: { name: "Not Written" } }));
    expect(((await (await client.get("/api/v1/users/me")).json()) as { name: string | null }).name).not.toBe("Not Written");
  });
});

describe("bearer token under faults", () => {
  it("a KV error on the principal read asks the authority; the authority down is a 503", async () => {
    // A token no request has read yet: this isolate's memory does not hold its user.
    const { access_token: token } = await tokensFor(await registerUser(new TestClient()));
    const headers = { Authorization: `Bearer ${token}` };
    const faults = new Faults().fail("SESSIONS", { methods: ["get"] }).fail("USER_AUTHORITY", { kind: "error" });
    const client = new TestClient();
    client.bindings = faults.bindings();
    await expectUnavailable(await client.get("/api/v1/users/me", { headers }));
    faults.heal().fail("SESSIONS", { methods: ["get"] });
    expect((await client.get("/api/v1/users/me", { headers })).status).toBe(200);
    expect(faults.failed.get("SESSIONS.get")).toBeGreaterThanOrEqual(1);
  });
});

describe("login under faults", () => {
  it.each<["DB" | "USER_AUTHORITY" | "LOGIN_THROTTLE", FaultKind]>([
    ["DB", "error"],
    ["USER_AUTHORITY", "overloaded"],
    ["USER_AUTHORITY", "retryable"],
    ["LOGIN_THROTTLE", "error"],
  ])("%s failing (%s) is a 503 and opens no session", async (binding, kind) => {
    const { client, user } = await signedIn();
    const before = await sessionCount(client);
    const faults = new Faults().fail(binding, { kind });
    const other = new TestClient();
    other.bindings = faults.bindings();
    await expectUnavailable(await other.post("/api/v1/auth/login", { json: { email: user.email, password: user.password } }));
    expect(other.sessionToken).toBeUndefined();
    expect(await sessionCount(client)).toBe(before);
    // Not counted as a failed attempt either: the next login works.
    await login(new TestClient(), user);
  });

  it("the authority reset after it opened the session: 503, and the session is one, not two", async () => {
    const { client, user } = await signedIn();
    const before = await sessionCount(client);
    const faults = new Faults().fail("USER_AUTHORITY", { methods: ["passwordSignIn"], kind: "reset" });
    const other = new TestClient();
    other.bindings = faults.bindings();
    await expectUnavailable(await other.post("/api/v1/auth/login", { json: { email: user.email, password: user.password } }));
    expect(faults.count("USER_AUTHORITY", "passwordSignIn")).toBe(1); // not idempotent: never retried
    expect(await sessionCount(client)).toBe(before + 1);
  });
});

describe("logout and revocation under faults", () => {
  // Logout checks the session and ends it in one call (UserAuthority.act).
  it("the authority failing: 503, and the session still works (a 2xx is never claimed)", async () => {
    const { client } = await signedIn();
    const faults = new Faults().fail("USER_AUTHORITY", { methods: ["act"], kind: "overloaded" });
    await expectUnavailable(await faulty(client, faults).post("/api/v1/auth/logout"));
    expect((await client.get("/api/v1/users/me")).status).toBe(200);
  });

  it("a retryable error is retried (revoking twice is revoking once): 200, and the session is gone", async () => {
    const { client } = await signedIn();
    const faults = new Faults().fail("USER_AUTHORITY", { methods: ["act"], kind: "reset", times: 1 });
    const copy = client.clone();
    expect((await faulty(client, faults).post("/api/v1/auth/logout")).status).toBe(200);
    expect(faults.count("USER_AUTHORITY", "act")).toBe(2);
    expect((await copy.get("/api/v1/users/me")).status).toBe(401);
  });

  it("logout-all reset mid-call is retried and every session ends", async () => {
    const { client, user } = await signedIn();
    const second = new TestClient();
    await login(second, user);
    const faults = new Faults().fail("USER_AUTHORITY", { methods: ["act"], kind: "reset", times: 1 });
    expect((await faulty(client, faults).post("/api/v1/auth/logout-all")).status).toBe(200);
    expect(faults.count("USER_AUTHORITY", "act")).toBe(2);
    expect((await second.get("/api/v1/users/me")).status).toBe(401);
  });
});

describe("refresh under faults", () => {
  async function refresh(token: string, faults?: Faults): Promise<Response> {
    const client = new TestClient();
    if (faults !== undefined) client.bindings = faults.bindings();
    return client.post("/api/v1/auth/refresh", { json: { refresh_token: token } });
  }

  it("the authority failing before the rotation: 503, and the same refresh token still works", async () => {
    const pair = await tokensFor(await registerUser(new TestClient()));
    await expectUnavailable(await refresh(pair.refresh_token, new Faults().fail("USER_AUTHORITY", { kind: "overloaded" })));
    expect((await refresh(pair.refresh_token)).status).toBe(200);
  });

  it("the authority reset after the rotation landed: 503, never retried; the client's retry gets that rotation's tokens", async () => {
    const pair = await tokensFor(await registerUser(new TestClient()));
    const faults = new Faults().fail("USER_AUTHORITY", { methods: ["rotateRefreshToken"], kind: "reset" });
    await expectUnavailable(await refresh(pair.refresh_token, faults));
    expect(faults.count("USER_AUTHORITY", "rotateRefreshToken")).toBe(1);
    // Within the grace period the presented token answers the rotation that landed: one rotation, not two.
    const again = await refresh(pair.refresh_token);
    expect(again.status).toBe(200);
    const next = ((await again.json()) as { refresh_token: string }).refresh_token;
    expect((await refresh(pair.refresh_token)).status).toBe(200);
    const third = await refresh(pair.refresh_token);
    expect(((await third.json()) as { refresh_token: string }).refresh_token).toBe(next);
  });
});

describe("registration and password changes under faults", () => {
  it("D1 failing during registration: 503, no user; the same email registers afterwards", async () => {
    const email = uniqueEmail();
    const password = strongPassword();
    const client = new TestClient();
    client.bindings = new Faults().fail("DB", { sql: /^\s*insert/i }).bindings();
    await expectUnavailable(await client.post("/api/v1/users", { json: { email, password } }));
    expect((await new TestClient().post("/api/v1/users", { json: { email, password } })).status).toBe(201);
  });

  it("D1 failing at the write of a password change: 503, and the old password still signs in", async () => {
    const { client, user } = await signedIn();
    const faults = new Faults().fail("DB", { sql: /^\s*update/i });
    const answer = await faulty(client, faults).post("/api/v1/users/me/password", {
      json: { current_password: user.password, new_password: strongPassword() },
    });
    await expectUnavailable(answer);
    await login(new TestClient(), user);
    expect((await client.get("/api/v1/users/me")).status).toBe(200);
  });
});

describe("API keys under faults", () => {
  async function keyOwner(): Promise<{ client: TestClient; key: { id: string; api_key: string } }> {
    const { client } = await signedIn();
    const response = await client.post("/api/v1/api-keys", { json: { name: "faults", permissions: { user_profile: ["read"] } } });
    expect(response.status).toBe(201);
    return { client, key: (await response.json()) as { id: string; api_key: string } };
  }

  async function usageTotal(client: TestClient, keyId: string): Promise<number> {
    const response = await client.get(`/api/v1/api-keys/${keyId}/usage?days=1`);
    expect(response.status).toBe(200);
    return ((await response.json()) as { total: number }).total;
  }

  it.each<FaultKind>(["error", "overloaded", "retryable"])(
    "the key's object failing (%s) before the use: 503, nothing counted",
    async (kind) => {
      const { client, key } = await keyOwner();
      const user = new TestClient();
      user.bindings = new Faults().fail("API_KEYS", { kind, methods: ["use"] }).bindings();
      await expectUnavailable(await user.get("/api/v1/users/me", { headers: { "X-API-Key": key.api_key } }));
      const verify = await user.post("/api/v1/api-keys/verify", { json: { api_key: key.api_key } });
      await expectUnavailable(verify);
      expect(await usageTotal(client, key.id)).toBe(0);
    },
  );

  it("the key's object reset after counting the use: 503, never retried, counted once", async () => {
    const { client, key } = await keyOwner();
    const faults = new Faults().fail("API_KEYS", { kind: "reset", methods: ["use"] });
    const user = new TestClient();
    user.bindings = faults.bindings();
    await expectUnavailable(await user.get("/api/v1/users/me", { headers: { "X-API-Key": key.api_key } }));
    expect(faults.count("API_KEYS", "use")).toBe(1);
    expect(await usageTotal(client, key.id)).toBe(1);
  });
});

describe("an OAuth provider that stops answering", () => {
  it("the token exchange times out: 503 service_unavailable, no user and no session", async () => {
    const browser = new OAuthBrowser();
    const providerUrl = await browser.start("/api/v1/auth/oauth/rogue?mode=json");
    const state = new URL(providerUrl).searchParams.get("state");
    await fetch(`${servers.OAUTH_ROGUE_ISSUER}/__scenario`, { method: "POST", body: JSON.stringify({ state, scenario: "stall" }) });
    const started = Date.now();
    const response = await browser.get((await browser.signInAtProvider(providerUrl, "unused")).replace(BASE_URL, ""));
    await expectUnavailable(response);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(browser.sessionToken).toBeUndefined();
  });
});

describe("deletion, reset, factor changes and disable under faults", () => {
  it("the authority failing during an account deletion: 503, and the account still signs in", async () => {
    const { client, user } = await signedIn();
    const faults = new Faults().fail("USER_AUTHORITY", { methods: ["deleteAccount"], kind: "overloaded" });
    await expectUnavailable(await faulty(client, faults).delete("/api/v1/users/me", { json: { password: user.password } }));
    expect(faults.count("USER_AUTHORITY", "deleteAccount")).toBe(1);
    await login(new TestClient(), user);
  });

  it("D1 failing at a reset's write: 503, the token is not used up, and the reset then works once", async () => {
    const user = await registerUser(new TestClient());
    expect((await new TestClient().post("/api/v1/auth/password-reset/request", { json: { email: user.email } })).status).toBe(202);
    const token = await linkToken(user.email.toLowerCase(), "/reset-password");
    const password = strongPassword();
    const broken = new TestClient();
    broken.bindings = new Faults().fail("DB", { sql: /^\s*update/i }).bindings();
    await expectUnavailable(await broken.post("/api/v1/auth/password-reset/confirm", { json: { token, new_password: password } }));
    await login(new TestClient(), user); // the old password still works
    expect((await new TestClient().post("/api/v1/auth/password-reset/confirm", { json: { token, new_password: password } })).status).toBe(
      200,
    );
    await login(new TestClient(), { ...user, password });
  });

  it("the authority failing at a TOTP confirmation: 503, and the factor is not active", async () => {
    const { client, user } = await signedIn();
    const started = await client.post("/api/v1/auth/mfa/totp", { json: { name: "Phone" } });
    const { factor_id: factorId, secret } = (await started.json()) as { factor_id: string; secret: string };
    await stableStep();
    const faults = new Faults().fail("USER_AUTHORITY", { methods: ["confirmTotp"], kind: "retryable" });
    const confirm = await faulty(client, faults).post(`/api/v1/auth/mfa/totp/${factorId}/confirm`, {
      json: { code: await codeAt(secret) },
    });
    await expectUnavailable(confirm);
    expect(faults.count("USER_AUTHORITY", "confirmTotp")).toBe(1); // not idempotent: never retried, even when retryable
    await login(new TestClient(), user); // one factor still signs in: the factor is not active
  });

  it("the authority failing at an admin's disable: 503, and the user still signs in", async () => {
    const admin = await makeAdmin();
    const user = await registerUser(new TestClient());
    const faults = new Faults().fail("USER_AUTHORITY", { methods: ["setDisabled"], kind: "overloaded" });
    const answer = await faulty(admin.client, faults).patch(`/api/v1/admin/users/${user.id}`, { json: { disabled: true } });
    await expectUnavailable(answer);
    await login(new TestClient(), user);
    const shown = await admin.client.get(`/api/v1/admin/users/${user.id}`);
    expect(await shown.json()).toMatchObject({ disabled: false });
  });
});
