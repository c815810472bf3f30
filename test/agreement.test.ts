// One credential, three ways in: a protected HTTP route, POST /auth/introspect and the
// AuthService RPC entrypoint (over a real service binding from another Worker) all ask
// the one resolver, so for every kind of credential, valid or not, and for the
// combinations a client can send, they must give the same verdict.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { BASE_URL, TestClient } from "./helpers/client";
import { forgeHs256 } from "./helpers/jwt";
import { type TestUser, login, registerUser, tokensFor } from "./helpers/users";

const consumer = (env as unknown as { CONSUMER: Fetcher }).CONSUMER;

interface Verdict {
  ok: boolean;
  /** The refusal's code (HTTP and RPC carry one; introspection only says inactive). */
  code?: string;
  /** Who the credential is (RPC and introspection say; the route only lets it through). */
  kind?: string;
}

interface Case {
  name: string;
  method: "GET" | "PATCH";
  headers: () => Record<string, string>;
  expected: Verdict;
  /** Introspection skips CSRF (the calling backend checks it): a CSRF-only refusal is active there. */
  csrfOnly?: boolean;
}

async function viaHttp(method: string, headers: Record<string, string>): Promise<Verdict & { wwwAuthenticate: string | null }> {
  const client = new TestClient();
  const response =
    method === "GET"
      ? await client.get("/api/v1/users/me", { headers })
      : await client.patch("/api/v1/users/me", { headers, json: { name: "Agreement" } });
  const wwwAuthenticate = response.headers.get("WWW-Authenticate");
  if (response.status === 200) return { ok: true, wwwAuthenticate };
  const body = (await response.json()) as { code: string };
  return { ok: false, code: body.code, wwwAuthenticate };
}

async function viaIntrospection(headers: Record<string, string>): Promise<Verdict> {
  const response = await new TestClient().post("/api/v1/auth/introspect", { headers, json: {}, csrf: false });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { active: boolean; principal?: string };
  return body.active ? { ok: true, kind: body.principal } : { ok: false };
}

async function viaRpc(method: string, headers: Record<string, string>): Promise<Verdict> {
  const response = await consumer.fetch("http://consumer/", {
    method: "POST",
    body: JSON.stringify({ op: "authenticate", args: [method, `${BASE_URL}/api/v1/users/me`, headers] }),
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { authenticated: boolean; principal?: string; code?: string };
  return body.authenticated ? { ok: true, kind: body.principal } : { ok: false, code: body.code };
}

describe("HTTP, introspection and RPC give one verdict per credential", () => {
  let user: TestUser;
  let session: TestClient;
  let endedSession: TestClient;
  let access: string;
  let revokedAccess: string;
  let expiredAccess: string;
  let key: string;
  let revokedKey: string;

  beforeAll(async () => {
    user = await registerUser(new TestClient());
    session = new TestClient();
    await login(session, user);
    endedSession = new TestClient();
    await login(endedSession, user);
    const ended = endedSession.clone();
    expect((await ended.post("/api/v1/auth/logout")).status).toBe(200);

    access = (await tokensFor(user)).access_token;
    const revokedPair = await tokensFor(user);
    revokedAccess = revokedPair.access_token;
    const revoke = await new TestClient().post("/api/v1/auth/revoke", { json: { token: revokedPair.refresh_token } });
    expect(revoke.status).toBe(200);
    const now = Math.floor(Date.now() / 1000);
    expiredAccess = await forgeHs256(user.id, revokedPair.refresh_token.split(".")[0]!, { claims: { iat: now - 7200, exp: now - 60 } });

    const permissions = { user_profile: ["read", "update"] };
    const created = await session.post("/api/v1/api-keys", { json: { name: "agreement", permissions } });
    expect(created.status).toBe(201);
    key = ((await created.json()) as { api_key: string }).api_key;
    const other = await session.post("/api/v1/api-keys", { json: { name: "revoked", permissions } });
    const otherKey = (await other.json()) as { id: string; api_key: string };
    revokedKey = otherKey.api_key;
    expect((await session.delete(`/api/v1/api-keys/${otherKey.id}`)).status).toBe(204);
  });

  const cookie =
    (client: () => TestClient): (() => string) =>
    () =>
      `session_id=${client().sessionToken}`;
  const sessionCookie = cookie(() => session);
  const endedCookie = cookie(() => endedSession);
  const csrf = (): string => session.csrfToken ?? "";

  const cases: Case[] = [
    { name: "no credential", method: "GET", headers: () => ({}), expected: { ok: false, code: "not_authenticated" } },
    {
      name: "a valid session cookie",
      method: "GET",
      headers: () => ({ Cookie: sessionCookie() }),
      expected: { ok: true, kind: "session" },
    },
    {
      name: "a valid session cookie on a write, with the CSRF header",
      method: "PATCH",
      headers: () => ({ Cookie: sessionCookie(), "X-CSRF-Token": csrf() }),
      expected: { ok: true, kind: "session" },
    },
    {
      name: "a valid session cookie on a write, without the CSRF header",
      method: "PATCH",
      headers: () => ({ Cookie: sessionCookie() }),
      expected: { ok: false, code: "csrf_failed" },
      csrfOnly: true,
    },
    {
      name: "a valid session cookie on a write, with a wrong CSRF header",
      method: "PATCH",
      headers: () => ({ Cookie: sessionCookie(), "X-CSRF-Token": "not-the-token" }),
      expected: { ok: false, code: "csrf_failed" },
      csrfOnly: true,
    },
    {
      name: "a logged-out session cookie",
      method: "GET",
      headers: () => ({ Cookie: endedCookie() }),
      expected: { ok: false, code: "not_authenticated" },
    },
    {
      name: "a logged-out session cookie on a write",
      method: "PATCH",
      headers: () => ({ Cookie: endedCookie(), "X-CSRF-Token": csrf() }),
      expected: { ok: false, code: "not_authenticated" },
    },
    {
      name: "a made-up session cookie",
      method: "GET",
      headers: () => ({ Cookie: "session_id=abc.def" }),
      expected: { ok: false, code: "not_authenticated" },
    },
    {
      name: "a valid access token",
      method: "GET",
      headers: () => ({ Authorization: `Bearer ${access}` }),
      expected: { ok: true, kind: "token" },
    },
    {
      name: "a valid access token on a write",
      method: "PATCH",
      headers: () => ({ Authorization: `Bearer ${access}` }),
      expected: { ok: true, kind: "token" },
    },
    {
      name: "an access token of a revoked family, on a write",
      method: "PATCH",
      headers: () => ({ Authorization: `Bearer ${revokedAccess}` }),
      expected: { ok: false, code: "invalid_token" },
    },
    {
      name: "an expired access token",
      method: "GET",
      headers: () => ({ Authorization: `Bearer ${expiredAccess}` }),
      expected: { ok: false, code: "invalid_token" },
    },
    {
      name: "a malformed bearer token",
      method: "GET",
      headers: () => ({ Authorization: "Bearer not.a.jwt" }),
      expected: { ok: false, code: "invalid_token" },
    },
    {
      name: "a Basic Authorization header",
      method: "GET",
      headers: () => ({ Authorization: "Basic dXNlcjpwYXNz" }),
      expected: { ok: false, code: "invalid_token" },
    },
    {
      name: "Basic Authorization plus a valid session cookie (the header decides)",
      method: "GET",
      headers: () => ({ Authorization: "Basic dXNlcjpwYXNz", Cookie: sessionCookie() }),
      expected: { ok: false, code: "invalid_token" },
    },
    {
      name: "a valid access token plus a valid session cookie",
      method: "GET",
      headers: () => ({ Authorization: `Bearer ${access}`, Cookie: sessionCookie() }),
      expected: { ok: true, kind: "token" },
    },
    {
      name: "an expired access token plus a valid session cookie",
      method: "GET",
      headers: () => ({ Authorization: `Bearer ${expiredAccess}`, Cookie: sessionCookie() }),
      expected: { ok: false, code: "invalid_token" },
    },
    { name: "a valid API key in X-API-Key", method: "GET", headers: () => ({ "X-API-Key": key }), expected: { ok: true, kind: "api_key" } },
    { name: "a valid API key on a write", method: "PATCH", headers: () => ({ "X-API-Key": key }), expected: { ok: true, kind: "api_key" } },
    {
      name: "a valid API key as a bearer token",
      method: "GET",
      headers: () => ({ Authorization: `Bearer ${key}` }),
      expected: { ok: true, kind: "api_key" },
    },
    {
      name: "a revoked API key",
      method: "GET",
      headers: () => ({ "X-API-Key": revokedKey }),
      expected: { ok: false, code: "invalid_api_key" },
    },
    {
      name: "a malformed API key",
      method: "GET",
      headers: () => ({ "X-API-Key": "ak_garbage" }),
      expected: { ok: false, code: "invalid_api_key" },
    },
    {
      name: "a valid API key plus a valid session cookie",
      method: "GET",
      headers: () => ({ "X-API-Key": key, Cookie: sessionCookie() }),
      expected: { ok: true, kind: "api_key" },
    },
  ];

  for (const testCase of cases) {
    it(`${testCase.method} with ${testCase.name}`, async () => {
      const headers = testCase.headers();
      const http = await viaHttp(testCase.method, headers);
      const rpc = await viaRpc(testCase.method, headers);
      const introspection = await viaIntrospection(headers);

      expect({ ok: http.ok, code: http.code }).toEqual({ ok: testCase.expected.ok, code: testCase.expected.code });
      expect(rpc).toEqual(testCase.expected);
      if (testCase.csrfOnly) expect(introspection).toEqual({ ok: true, kind: "session" });
      else expect(introspection).toEqual(testCase.expected.ok ? testCase.expected : { ok: false });
      // RFC 6750: a refused bearer token says so.
      if (!http.ok && headers.Authorization?.startsWith("Bearer ")) expect(http.wwwAuthenticate).toBe('Bearer error="invalid_token"');
      if (http.ok) expect(http.wwwAuthenticate).toBeNull();
    });
  }
});

describe("POST /api-keys/verify and AuthService.verifyApiKey give one verdict", () => {
  async function verifyHttp(body: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await new TestClient().post("/api/v1/api-keys/verify", { json: body });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  async function verifyRpc(...args: unknown[]): Promise<Record<string, unknown>> {
    const response = await consumer.fetch("http://consumer/", { method: "POST", body: JSON.stringify({ op: "verifyApiKey", args }) });
    return (await response.json()) as Record<string, unknown>;
  }

  it("agrees on a valid key (with and without a permission question), a revoked key and a made-up one", async () => {
    const owner = new TestClient();
    await login(owner, await registerUser(new TestClient()));
    const created = await owner.post("/api/v1/api-keys", { json: { name: "verify", permissions: { reports: ["read"] } } });
    const { api_key: valid, id } = (await created.json()) as { api_key: string; id: string };

    const plain = await verifyHttp({ api_key: valid });
    const plainRpc = await verifyRpc(valid);
    expect(plain.status).toBe(200);
    expect(plain.body).toMatchObject({ valid: true, key_id: id, permissions: { reports: ["read"] } });
    expect(plainRpc).toMatchObject({ valid: true, key_id: id, user_id: plain.body.user_id, permissions: plain.body.permissions });
    expect("allowed" in plain.body || "allowed" in plainRpc).toBe(false);

    for (const [resource, action, allowed] of [
      ["reports", "read", true],
      ["reports", "delete", false],
      ["constructor", "read", false],
    ] as const) {
      const http = await verifyHttp({ api_key: valid, resource, action });
      const rpc = await verifyRpc(valid, resource, action);
      expect(http.body.allowed).toBe(allowed);
      expect(rpc.allowed).toBe(allowed);
    }

    expect((await owner.delete(`/api/v1/api-keys/${id}`)).status).toBe(204);
    const revoked = await verifyHttp({ api_key: valid });
    expect(revoked).toEqual({ status: 200, body: { valid: false, code: "invalid_api_key" } });
    expect(await verifyRpc(valid)).toEqual({ valid: false, code: "invalid_api_key" });

    const madeUp = "ak_" + "x".repeat(40);
    expect((await verifyHttp({ api_key: madeUp })).body).toEqual({ valid: false, code: "invalid_api_key" });
    expect(await verifyRpc(madeUp)).toEqual({ valid: false, code: "invalid_api_key" });
  });

  it("agrees on a key over its rate limit: refused with the limit state, 429 and Retry-After over HTTP", async () => {
    const owner = new TestClient();
    await login(owner, await registerUser(new TestClient()));
    const created = await owner.post("/api/v1/api-keys", {
      json: { name: "limited", permissions: {}, rate_limits: { requests_per_minute: 2 } },
    });
    const { api_key: limited } = (await created.json()) as { api_key: string };
    expect((await verifyHttp({ api_key: limited })).status).toBe(200);
    expect(await verifyRpc(limited)).toMatchObject({ valid: true });

    const response = await new TestClient().post("/api/v1/api-keys/verify", { json: { api_key: limited } });
    expect(response.status).toBe(429);
    expect(Number(response.headers.get("Retry-After"))).toBeGreaterThan(0);
    const http = (await response.json()) as Record<string, unknown>;
    expect(http).toMatchObject({ valid: false, code: "rate_limited", ratelimit: { limit: 2, remaining: 0 } });
    expect(await verifyRpc(limited)).toMatchObject({ valid: false, code: "rate_limited", ratelimit: { limit: 2, remaining: 0 } });
  });
});
