// examples/consumer-worker, built as it deploys and run in workerd as a Worker of its
// own, guarded by edge-auth/hono over a real service binding to AuthService. Each
// refusal is compared with what this service's HTTP routes answer for the same credential.
import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { Hono } from "hono";
import { describe, expect, it, vi } from "vitest";
import { type AuthServiceBinding, requireAal, requireAuth } from "../src/hono";
import { AuthService } from "../src/rpc/auth-service";
import { TestClient } from "./helpers/client";
import { enrollTotp } from "./helpers/mfa";
import { type TestUser, login, registerUser, tokensFor } from "./helpers/users";

const example = (env as unknown as { EXAMPLE_CONSUMER: Fetcher }).EXAMPLE_CONSUMER;

function call(method: string, path: string, headers: Record<string, string> = {}, json?: unknown): Promise<Response> {
  const init: RequestInit = { method, headers: json === undefined ? headers : { ...headers, "Content-Type": "application/json" } };
  if (json !== undefined) init.body = JSON.stringify(json);
  return example.fetch(`http://reports.example.test${path}`, init);
}

/** Status, body and the headers a client acts on. */
async function answer(response: Response): Promise<Record<string, unknown>> {
  return {
    status: response.status,
    body: await response.json(),
    retryAfter: response.headers.get("Retry-After"),
    challenge: response.headers.get("WWW-Authenticate"),
  };
}

async function signedIn(): Promise<{ client: TestClient; user: TestUser; cookie: Record<string, string> }> {
  const client = new TestClient();
  const user = await registerUser(client);
  await login(client, user);
  return { client, user, cookie: { Cookie: `session_id=${client.sessionToken}` } };
}

async function apiKey(client: TestClient, permissions: Record<string, string[]>, perMinute = 100): Promise<string> {
  return (await createKey(client, permissions, perMinute)).api_key;
}

async function createKey(
  client: TestClient,
  permissions: Record<string, string[]>,
  perMinute = 100,
): Promise<{ api_key: string; id: string }> {
  const created = await client.post("/api/v1/api-keys", {
    json: { name: "consumer", permissions, rate_limits: { requests_per_minute: perMinute } },
  });
  expect(created.status).toBe(201);
  return (await created.json()) as { api_key: string; id: string };
}

/** A key's usage by status, as its owner reads it (GET /api/v1/api-keys/{id}/usage). */
async function usageByStatus(client: TestClient, keyId: string): Promise<Array<{ status: number; count: number }>> {
  const usage = await client.get(`/api/v1/api-keys/${keyId}/usage?days=1`);
  expect(usage.status).toBe(200);
  return ((await usage.json()) as { by_status: Array<{ status: number; count: number }> }).by_status;
}

describe("examples/consumer-worker (edge-auth/hono over a service binding)", () => {
  it("a session: let through as its user; no credential, a dead session or a write without CSRF refused as the HTTP routes refuse them", async () => {
    const { client, user, cookie } = await signedIn();
    const me = await call("GET", "/me", cookie);
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({ principal: "session", user_id: user.id, email: user.email, aal: 1 });

    const none = await call("GET", "/me");
    expect(await answer(none)).toEqual(await answer(await new TestClient().get("/api/v1/users/me")));
    expect((await answer(await call("GET", "/me"))).body).toMatchObject({ code: "not_authenticated" });

    const noCsrf = await call("POST", "/reports", cookie, { title: "Q3" });
    const httpNoCsrf = await client.patch("/api/v1/users/me", { json: { name: "x" }, csrf: false });
    expect(await answer(noCsrf)).toEqual(await answer(httpNoCsrf));
    expect(noCsrf.status).toBe(403);
    const withCsrf = await call("POST", "/reports", { ...cookie, "X-CSRF-Token": client.csrfToken ?? "" }, { title: "Q3" });
    expect(withCsrf.status).toBe(201);
    expect(await withCsrf.json()).toEqual({ title: "Q3", owner: user.id });

    const stale = client.clone();
    expect((await client.post("/api/v1/auth/logout")).status).toBe(200);
    const dead = await call("GET", "/me", cookie);
    expect(await answer(dead)).toEqual(await answer(await stale.get("/api/v1/users/me")));
    expect(dead.status).toBe(401);
  });

  it("a bearer token: let through; a bad one gets the same 401 and WWW-Authenticate challenge as HTTP", async () => {
    const { user } = await signedIn();
    const pair = await tokensFor(user);
    const me = await call("GET", "/me", { Authorization: `Bearer ${pair.access_token}` });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ principal: "token", user_id: user.id, aal: 1 });

    const forged = { Authorization: `Bearer ${pair.access_token.slice(0, -4)}AAAA` };
    const refused = await answer(await call("GET", "/me", forged));
    expect(refused).toEqual(await answer(await new TestClient().get("/api/v1/users/me", { headers: forged })));
    expect(refused).toMatchObject({ status: 401, body: { code: "invalid_token" }, challenge: 'Bearer error="invalid_token"' });
  });

  it("an API key with the permission passes, one without is 403 insufficient_scope, and a use is counted once even through two guards", async () => {
    const { client, user } = await signedIn();
    const reader = await apiKey(client, { reports: ["read"] }, 10);
    const allowed = await call("GET", "/reports", { "X-API-Key": reader });
    expect(allowed.status).toBe(200);
    expect(await allowed.json()).toEqual({ owner: user.id, reports: [] });
    expect(allowed.headers.get("RateLimit-Limit")).toBe("10");
    expect(allowed.headers.get("RateLimit-Remaining")).toBe("9");

    // Two guards (requireAuth, then requirePermission for write): one use, then refused from the first answer.
    const refused = await call("POST", "/reports", { "X-API-Key": reader }, { title: "Q3" });
    expect(await answer(refused)).toEqual({
      status: 403,
      body: { detail: "This API key lacks the reports:write permission", code: "insufficient_scope" },
      retryAfter: null,
      challenge: null,
    });
    expect(refused.headers.get("RateLimit-Remaining")).toBe("8");
    const writer = await apiKey(client, { reports: ["read", "write"] }, 10);
    const written = await call("POST", "/reports", { "X-API-Key": writer }, { title: "Q3" });
    expect(written.status).toBe(201);
    expect(written.headers.get("RateLimit-Remaining")).toBe("9");

    // The HTTP routes refuse a key without the route's permission the same way.
    const http = await new TestClient().get("/api/v1/users/me", { headers: { "X-API-Key": reader } });
    expect(await answer(http)).toMatchObject({ status: 403, body: { code: "insufficient_scope" } });

    const unknown = { "X-API-Key": `fai_${"a".repeat(8)}_${"A".repeat(43)}` };
    expect(await answer(await call("GET", "/reports", unknown))).toEqual(
      await answer(await new TestClient().get("/api/v1/users/me", { headers: unknown })),
    );

    const limited = await apiKey(client, { reports: ["read"] }, 1);
    expect((await call("GET", "/reports", { "X-API-Key": limited })).status).toBe(200);
    const over = await answer(await call("GET", "/reports", { "X-API-Key": limited }));
    expect(over).toMatchObject({ status: 429, body: { code: "rate_limited" } });
    expect(Number(over.retryAfter)).toBeGreaterThanOrEqual(1);
  });

  it("requireAal(2) refuses an aal 1 session and token with 403 reauthentication_required (and the factors to use), an API key with 403, and lets an aal 2 session through", async () => {
    const { client: first, user, cookie } = await signedIn();
    const second = new TestClient();
    await login(second, user);
    const factor = await enrollTotp(second, user.id);
    expect(factor.secret).not.toBe("");

    const aal1 = await call("POST", "/transfers", { ...cookie, "X-CSRF-Token": first.csrfToken ?? "" });
    expect(await answer(aal1)).toEqual({
      status: 403,
      body: {
        detail: "This needs a sign-in with a second factor: re-authenticate with one",
        code: "reauthentication_required",
        methods: ["totp", "recovery_code"],
      },
      retryAfter: null,
      challenge: null,
    });
    // The HTTP route that needs aal 2 answers that session the same way.
    const http = await first.post("/api/v1/auth/mfa/recovery-codes");
    expect(await answer(http)).toMatchObject({
      status: 403,
      body: { code: "reauthentication_required", methods: ["totp", "recovery_code"] },
    });

    const aal2 = await call("POST", "/transfers", { Cookie: `session_id=${second.sessionToken}`, "X-CSRF-Token": second.csrfToken ?? "" });
    expect(aal2.status).toBe(200);
    expect(await aal2.json()).toEqual({ accepted: true, amr: ["pwd", "otp"] });

    const other = await signedIn();
    const pair = await tokensFor(other.user);
    const token = await call("POST", "/transfers", { Authorization: `Bearer ${pair.access_token}` });
    expect(await answer(token)).toMatchObject({ status: 403, body: { code: "reauthentication_required", methods: [] } });
    const key = await apiKey(other.client, { "*": ["*"] });
    expect(await answer(await call("POST", "/transfers", { "X-API-Key": key }))).toMatchObject({
      status: 403,
      body: { code: "forbidden" },
    });
  });

  it("counts an API key's use with the status the consumer finally answered: a later guard's 403 is a 403, not a 200", async () => {
    const { client } = await signedIn();
    const reader = await createKey(client, { reports: ["read"] });
    expect((await call("GET", "/reports", { "X-API-Key": reader.api_key })).status).toBe(200);
    // requireAuth() lets the key through (a use, recorded as 200); requirePermission(write) then refuses it.
    expect((await call("POST", "/reports", { "X-API-Key": reader.api_key }, { title: "Q3" })).status).toBe(403);
    // The consumer reports the final status after its answer (waitUntil).
    await vi.waitFor(
      async () =>
        expect(await usageByStatus(client, reader.id)).toEqual([
          { status: 200, count: 1 },
          { status: 403, count: 1 },
        ]),
      { timeout: 10_000, interval: 200 },
    );
  });

  it("counts a handler's 500 and requireAal(2)'s refusal after requireAuth() as such; a receipt it did not sign changes nothing", async () => {
    const { client } = await signedIn();
    const key = await createKey(client, { "*": ["*"] });
    const ctx = createExecutionContext();
    const service = new AuthService(ctx, env);
    const app = new Hono<{ Bindings: { AUTH: AuthServiceBinding } }>();
    app.get("/fails", requireAuth(), () => {
      throw new Error("handler bug");
    });
    app.get("/money", requireAuth(), requireAal(2), (c) => c.text("through"));
    app.get("/fine", requireAuth(), (c) => c.text("fine"));
    const headers = { "X-API-Key": key.api_key };
    expect((await app.request("/fails", { headers }, { AUTH: service })).status).toBe(500);
    expect((await app.request("/money", { headers }, { AUTH: service })).status).toBe(403);
    expect((await app.request("/fine", { headers }, { AUTH: service })).status).toBe(200);

    const allowed = await service.authenticate(new Request("http://reports.example.test/x", { headers }));
    expect(allowed).toMatchObject({ authenticated: true, principal: "api_key" });
    const receipt = (allowed as { usage_receipt: string }).usage_receipt;
    const [payload, mac = ""] = receipt.split(".");
    await service.recordStatus(`${payload}.${mac.startsWith("A") ? "B" : "A"}${mac.slice(1)}`, 500);
    await service.recordStatus("not-a-receipt", 500);
    await waitOnExecutionContext(ctx);
    expect(await usageByStatus(client, key.id)).toEqual([
      { status: 200, count: 2 },
      { status: 403, count: 1 },
      { status: 500, count: 1 },
    ]);
  });

  it("fails closed: a missing binding or a failing service is 503 service_unavailable with Retry-After, never a pass", async () => {
    const failing: AuthServiceBinding = { authenticate: () => Promise.reject(new Error("binding reset")) };
    const app = new Hono<{ Bindings: { AUTH: AuthServiceBinding } }>();
    app.get("/missing", requireAuth({ binding: "NOT_BOUND" }), (c) => c.text("through"));
    app.get("/failing", requireAuth(), (c) => c.text("through"));
    for (const path of ["/missing", "/failing"]) {
      const response = await app.request(path, {}, { AUTH: failing });
      expect(await answer(response)).toEqual({
        status: 503,
        body: { detail: "The authentication service is unavailable; try again", code: "service_unavailable" },
        retryAfter: "1",
        challenge: null,
      });
    }
  });
});
