import { describe, expect, it } from "vitest";
import { type Settings, TestClient } from "./helpers/client";
import { login, registerUser } from "./helpers/users";

interface KeyView {
  id: string;
  name: string;
  prefix: string;
  permissions: Record<string, string[]>;
  rate_limits: { requests_per_minute: number | null; requests_per_day: number | null };
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
  last_used_ip: string | null;
  is_active: boolean;
  api_key?: string;
}

async function owner(settings: Settings = {}): Promise<TestClient> {
  const client = new TestClient({ settings });
  await login(client, await registerUser(client));
  return client;
}

async function createKey(client: TestClient, body: Record<string, unknown> = {}): Promise<KeyView & { api_key: string }> {
  const response = await client.post("/api/v1/api-keys", {
    json: { name: "ci key", permissions: { user_profile: ["read"] }, ...body },
  });
  expect(response.status).toBe(201);
  return (await response.json()) as KeyView & { api_key: string };
}

function withKey(
  key: string,
  settings: Settings = {},
  how: "x-api-key" | "bearer" = "x-api-key",
): TestClient & { h: Record<string, string> } {
  const client = new TestClient({ settings }) as TestClient & { h: Record<string, string> };
  client.h = how === "x-api-key" ? { "X-API-Key": key } : { Authorization: `Bearer ${key}` };
  return client;
}

async function keyGet(key: string, path = "/api/v1/users/me", settings: Settings = {}): Promise<Response> {
  const client = withKey(key, settings);
  return client.get(path, { headers: client.h });
}

async function verify(body: Record<string, unknown>, settings: Settings = {}): Promise<Response> {
  return new TestClient({ settings }).post("/api/v1/api-keys/verify", { json: body });
}

describe("creating and managing API keys", () => {
  it("creates a key shown once, in the documented format, stored only as a hash", async () => {
    const client = await owner();
    const created = await createKey(client, { rate_limits: { requests_per_minute: 100 } });
    expect(created.api_key).toMatch(/^fai_[a-z0-9]{8}_[A-Za-z0-9_-]{43}$/);
    expect(created.prefix).toBe(`fai_${created.id}`);
    expect(created.api_key.startsWith(`${created.prefix}_`)).toBe(true);
    expect(created).toMatchObject({
      name: "ci key",
      permissions: { user_profile: ["read"] },
      rate_limits: { requests_per_minute: 100, requests_per_day: null },
      is_active: true,
      revoked_at: null,
    });
    const listed = (await (await client.get("/api/v1/api-keys")).json()) as { items: KeyView[]; total: number };
    expect(listed.total).toBe(1);
    expect(listed.items[0]?.id).toBe(created.id);
    expect(JSON.stringify(listed)).not.toContain(created.api_key.split("_").slice(2).join("_"));
    expect(listed.items[0]?.api_key).toBeUndefined();
    const one = await client.get(`/api/v1/api-keys/${created.id}`);
    expect(one.status).toBe(200);
    expect(((await one.json()) as KeyView).api_key).toBeUndefined();
  });

  it("uses the configured API_KEY_PREFIX", async () => {
    const settings = { API_KEY_PREFIX: "acme" };
    const client = await owner(settings);
    const created = await createKey(client);
    expect(created.api_key.startsWith("acme_")).toBe(true);
    expect((await keyGet(created.api_key, "/api/v1/users/me", settings)).status).toBe(200);
  });

  it("hides other users' keys: 404 for get, patch, delete and usage", async () => {
    const alice = await owner();
    const mallory = await owner();
    const key = await createKey(alice);
    expect((await mallory.get(`/api/v1/api-keys/${key.id}`)).status).toBe(404);
    expect((await mallory.patch(`/api/v1/api-keys/${key.id}`, { json: { name: "mine" } })).status).toBe(404);
    expect((await mallory.delete(`/api/v1/api-keys/${key.id}`)).status).toBe(404);
    expect((await mallory.get(`/api/v1/api-keys/${key.id}/usage`)).status).toBe(404);
    expect((await mallory.get("/api/v1/api-keys/zzzzzzzz")).status).toBe(404);
    expect((await keyGet(key.api_key)).status).toBe(200);
  });

  it("updates name, permissions and limits; moves expires_at only earlier", async () => {
    const client = await owner();
    const later = new Date(Date.now() + 7 * 86_400_000).toISOString();
    const key = await createKey(client, { expires_at: later });
    const patched = await client.patch(`/api/v1/api-keys/${key.id}`, {
      json: { name: "renamed", permissions: { "*": ["read"] }, rate_limits: { requests_per_day: 1000 } },
    });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({
      name: "renamed",
      permissions: { "*": ["read"] },
      rate_limits: { requests_per_day: 1000 },
    });
    const further = new Date(Date.now() + 30 * 86_400_000).toISOString();
    const refused = await client.patch(`/api/v1/api-keys/${key.id}`, { json: { expires_at: further } });
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({ code: "invalid_request" });
    expect((await client.patch(`/api/v1/api-keys/${key.id}`, { json: { expires_at: null } })).status).toBe(422);
    const earlier = new Date(Date.now() + 86_400_000).toISOString();
    const moved = await client.patch(`/api/v1/api-keys/${key.id}`, { json: { expires_at: earlier } });
    expect(moved.status).toBe(200);
    expect(((await moved.json()) as KeyView).expires_at).toBe(earlier);
  });

  it("refuses bad create bodies with 422", async () => {
    const client = await owner();
    const past = new Date(Date.now() - 1000).toISOString();
    for (const body of [
      { name: "", permissions: {} },
      { name: "x", permissions: { "Bad Resource": ["read"] } },
      { name: "x", permissions: { users: "read" } },
      { name: "x", permissions: {}, rate_limits: { requests_per_minute: 0 } },
      { name: "x", permissions: {}, expires_at: "tomorrow" },
      { name: "x", permissions: {}, expires_at: past },
      { name: "x", permissions: {}, owner: "someone else" },
    ]) {
      const response = await client.post("/api/v1/api-keys", { json: body });
      expect(response.status).toBe(422);
    }
  });

  it("revokes for good, keeping the record for audit", async () => {
    const client = await owner();
    const key = await createKey(client);
    expect((await client.delete(`/api/v1/api-keys/${key.id}`)).status).toBe(204);
    const record = (await (await client.get(`/api/v1/api-keys/${key.id}`)).json()) as KeyView;
    expect(record.revoked_at).not.toBeNull();
    expect(record.is_active).toBe(false);
    const used = await keyGet(key.api_key);
    expect(used.status).toBe(401);
    expect(await used.json()).toMatchObject({ code: "invalid_api_key" });
    expect((await client.patch(`/api/v1/api-keys/${key.id}`, { json: { name: "revive" } })).status).toBe(422);
    expect((await keyGet(key.api_key)).status).toBe(401);
    expect(await (await verify({ api_key: key.api_key })).json()).toEqual({ valid: false, code: "invalid_api_key" });
  });

  it("is closed to API keys: a key never reaches key management", async () => {
    const client = await owner();
    const key = await createKey(client, { permissions: { "*": ["*"] } });
    const asKey = withKey(key.api_key);
    for (const [method, path] of [
      ["GET", "/api/v1/api-keys"],
      ["POST", "/api/v1/api-keys"],
      ["DELETE", `/api/v1/api-keys/${key.id}`],
      ["GET", "/api/v1/auth/sessions"],
      ["POST", "/api/v1/auth/logout-all"],
    ] as const) {
      const response = await asKey.request(method, path, {
        headers: asKey.h,
        json: method === "POST" ? { name: "x", permissions: {} } : undefined,
      });
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ code: "forbidden" });
    }
    expect((await client.get(`/api/v1/api-keys/${key.id}`)).status).toBe(200);
  });
});

describe("authenticating with an API key", () => {
  it("reads the profile with user_profile:read, through X-API-Key or Authorization: Bearer", async () => {
    const client = await owner();
    const key = await createKey(client);
    const me = (await (await client.get("/api/v1/users/me")).json()) as { id: string };
    for (const how of ["x-api-key", "bearer"] as const) {
      const asKey = withKey(key.api_key, {}, how);
      const response = await asKey.get("/api/v1/users/me", { headers: asKey.h });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ id: me.id });
    }
  });

  it("refuses an update without user_profile:update: 403 insufficient_scope", async () => {
    const client = await owner();
    const key = await createKey(client);
    const asKey = withKey(key.api_key);
    const response = await asKey.patch("/api/v1/users/me", { headers: asKey.h, json: { name: "by key" } });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ code: "insufficient_scope" });
    expect(response.headers.get("RateLimit-Limit")).not.toBeNull();
  });

  it.each([
    ["an exact grant", { user_profile: ["update"] }, true],
    ["(*, action)", { "*": ["update"] }, true],
    ["(resource, *)", { user_profile: ["*"] }, true],
    ["(*, *)", { "*": ["*"] }, true],
    ["another action only", { user_profile: ["read"] }, false],
    ["another resource only", { billing: ["update", "*"] }, false],
  ])("matches permissions: %s", async (_label, permissions, allowed) => {
    const client = await owner();
    const key = await createKey(client, { permissions });
    const asKey = withKey(key.api_key);
    const response = await asKey.patch("/api/v1/users/me", { headers: asKey.h, json: { name: "by key" } });
    expect(response.status).toBe(allowed ? 200 : 403);
    const verified = (await (await verify({ api_key: key.api_key, resource: "user_profile", action: "update" })).json()) as {
      allowed: boolean;
    };
    expect(verified.allowed).toBe(allowed);
  });

  it("answers unknown, malformed and expired keys alike: 401 invalid_api_key", async () => {
    const client = await owner();
    const key = await createKey(client, { expires_at: new Date(Date.now() + 1500).toISOString() });
    expect((await keyGet(key.api_key)).status).toBe(200);
    const wrongSecret = `${key.prefix}_${"A".repeat(43)}`;
    for (const presented of [wrongSecret, "fai_garbage", "fai_zzzzzzzz_" + "B".repeat(43)]) {
      const response = await keyGet(presented);
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ code: "invalid_api_key" });
    }
    await new Promise((resolve) => setTimeout(resolve, 1600));
    const expired = await keyGet(key.api_key);
    expect(expired.status).toBe(401);
    expect(await expired.json()).toMatchObject({ code: "invalid_api_key" });
  });

  it("sends RateLimit headers on every key-authenticated response", async () => {
    const client = await owner();
    const key = await createKey(client, { rate_limits: { requests_per_minute: 50 } });
    const first = await keyGet(key.api_key);
    expect(first.headers.get("RateLimit-Limit")).toBe("50");
    expect(first.headers.get("RateLimit-Remaining")).toBe("49");
    const reset = Number(first.headers.get("RateLimit-Reset"));
    expect(reset).toBeGreaterThan(0);
    expect(reset).toBeLessThanOrEqual(60);
    const second = await keyGet(key.api_key);
    expect(second.headers.get("RateLimit-Remaining")).toBe("48");
    // A use the route then refuses (the key may read its profile, not change it) still counted, and says so.
    const writer = withKey(key.api_key);
    const refused = await writer.patch("/api/v1/users/me", { json: { full_name: "X" }, headers: writer.h });
    expect(refused.status).toBe(403);
    expect(refused.headers.get("RateLimit-Limit")).toBe("50");
    expect(refused.headers.get("RateLimit-Remaining")).toBe("47");
  });

  it("gives a key without rate_limits the documented default per-minute limit", async () => {
    const settings = { API_KEY_DEFAULT_REQUESTS_PER_MINUTE: "7" };
    const client = await owner(settings);
    const key = await createKey(client);
    expect((await keyGet(key.api_key, "/api/v1/users/me", settings)).headers.get("RateLimit-Limit")).toBe("7");
  });

  it("lets exactly 10 of 30 concurrent calls through a limit of 10; the rest get 429 with Retry-After", async () => {
    const client = await owner();
    const key = await createKey(client, { rate_limits: { requests_per_minute: 10 } });
    const responses = await Promise.all(Array.from({ length: 30 }, () => keyGet(key.api_key)));
    const ok = responses.filter((response) => response.status === 200);
    const limited = responses.filter((response) => response.status === 429);
    expect(ok).toHaveLength(10);
    expect(limited).toHaveLength(20);
    for (const response of limited) {
      expect(await response.json()).toMatchObject({ code: "rate_limited" });
      expect(Number(response.headers.get("Retry-After"))).toBeGreaterThan(0);
      expect(response.headers.get("RateLimit-Remaining")).toBe("0");
      expect(response.headers.get("RateLimit-Limit")).toBe("10");
    }
    const remaining = ok.map((response) => Number(response.headers.get("RateLimit-Remaining"))).sort((a, b) => a - b);
    expect(remaining).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("enforces the daily limit as well as the minute limit", async () => {
    const client = await owner();
    const key = await createKey(client, { rate_limits: { requests_per_minute: 100, requests_per_day: 3 } });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await keyGet(key.api_key)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const limited = await keyGet(key.api_key);
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(60);
  });
});

describe("POST /api/v1/api-keys/verify", () => {
  it("answers for a valid key with its owner, permissions and rate limit, and counts the call", async () => {
    const client = await owner();
    const me = (await (await client.get("/api/v1/users/me")).json()) as { id: string };
    const key = await createKey(client, { permissions: { reports: ["read"] }, rate_limits: { requests_per_minute: 5 } });
    const response = await verify({ api_key: key.api_key });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      valid: true,
      key_id: key.id,
      user_id: me.id,
      permissions: { reports: ["read"] },
      ratelimit: { limit: 5, remaining: 4, reset: expect.any(Number) },
    });
    const withCheck = (await (await verify({ api_key: key.api_key, resource: "reports", action: "write" })).json()) as {
      allowed: boolean;
      ratelimit: { remaining: number };
    };
    expect(withCheck.allowed).toBe(false);
    expect(withCheck.ratelimit.remaining).toBe(3);
  });

  it("says valid: false for an unknown key and 429 once the key is over its limit", async () => {
    expect(await (await verify({ api_key: "nope" })).json()).toEqual({ valid: false, code: "invalid_api_key" });
    const client = await owner();
    const key = await createKey(client, { rate_limits: { requests_per_minute: 2 } });
    await verify({ api_key: key.api_key });
    await verify({ api_key: key.api_key });
    const limited = await verify({ api_key: key.api_key });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("Retry-After")).not.toBeNull();
    expect(await limited.json()).toMatchObject({ valid: false, code: "rate_limited" });
  });

  it("refuses a body without api_key, or with resource but no action, with 422", async () => {
    expect((await verify({})).status).toBe(422);
    expect((await verify({ api_key: "x", resource: "reports" })).status).toBe(422);
  });
});

describe("usage tracking", () => {
  it("reports usage that equals the calls made, by day, endpoint and status", async () => {
    const client = await owner();
    const key = await createKey(client, { rate_limits: { requests_per_minute: 8 } });
    const asKey = withKey(key.api_key);
    await Promise.all(Array.from({ length: 6 }, () => asKey.get("/api/v1/users/me", { headers: asKey.h })));
    await asKey.patch("/api/v1/users/me", { headers: asKey.h, json: { name: "no scope" } });
    await verify({ api_key: key.api_key });
    await asKey.get("/api/v1/users/me", { headers: asKey.h });
    await asKey.get("/api/v1/users/me", { headers: asKey.h }); // the 9th and 10th uses: over 8/min

    const response = await client.get(`/api/v1/api-keys/${key.id}/usage?days=30`);
    expect(response.status).toBe(200);
    const usage = (await response.json()) as {
      total: number;
      by_day: Array<{ date: string; count: number }>;
      by_endpoint: Array<{ endpoint: string; method: string; count: number }>;
      by_status: Array<{ status: number; count: number }>;
      by_day_status: Array<{ date: string; status: number; count: number }>;
    };
    expect(usage.total).toBe(10);
    const today = new Date().toISOString().slice(0, 10);
    expect(usage.by_day_status).toEqual([
      { date: today, status: 200, count: 7 },
      { date: today, status: 403, count: 1 },
      { date: today, status: 429, count: 2 },
    ]);
    expect(usage.by_day).toEqual([{ date: new Date().toISOString().slice(0, 10), count: 10 }]);
    expect(usage.by_status).toEqual([
      { status: 200, count: 7 },
      { status: 403, count: 1 },
      { status: 429, count: 2 },
    ]);
    expect(usage.by_endpoint).toEqual(
      expect.arrayContaining([
        { endpoint: "/api/v1/users/me", method: "GET", count: 8 },
        { endpoint: "/api/v1/users/me", method: "PATCH", count: 1 },
        { endpoint: "/api/v1/api-keys/verify", method: "POST", count: 1 },
      ]),
    );
    const record = (await (await client.get(`/api/v1/api-keys/${key.id}`)).json()) as KeyView;
    expect(record.last_used_at).not.toBeNull();
    expect(record.last_used_ip).toBe(asKey.ip);
  });

  it("refuses days outside 1..365 with 422", async () => {
    const client = await owner();
    const key = await createKey(client);
    expect((await client.get(`/api/v1/api-keys/${key.id}/usage?days=0`)).status).toBe(422);
    expect((await client.get(`/api/v1/api-keys/${key.id}/usage?days=abc`)).status).toBe(422);
  });
});
