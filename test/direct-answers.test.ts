// The four requests answered before the router (src/auth/direct-answers.ts) are
// shortcuts only: their success is the app's answer (status, body, every header, the log
// line), and every other outcome is the app's own, reached without making the request's
// one call twice (a key's use counted once, a token rotated once).
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../src/app";
import { answerDirectly } from "../src/auth/direct-answers";
import worker from "../src/index";
import { headersOf, isolateEnv, logLines } from "./helpers/answers";
import { BASE_URL, TestClient } from "./helpers/client";
import { Faults } from "./helpers/faults";
import { login, registerUser, tokensFor } from "./helpers/users";

const app = createApp();

type Way = "direct" | "app" | "worker";

/** One request answered one way: directly (null when it would not), by the app alone, or by the Worker's entry. */
async function answered(way: Way, request: Request, isolate: Env): Promise<Response | null> {
  const ctx = createExecutionContext();
  const response =
    way === "direct"
      ? await answerDirectly(request, isolate, ctx)
      : way === "app"
        ? await app.fetch(request, isolate, ctx)
        : await worker.fetch(request, isolate, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

const IP = { "CF-Connecting-IP": "10.8.8.8" };

function keyRead(key: string, headers: Record<string, string> = {}, method = "GET"): Request {
  return new Request(`${BASE_URL}/api/v1/users/me`, { method, headers: { "X-API-Key": key, ...IP, ...headers } });
}

function post(path: string, body: unknown, headers: Record<string, string> = {}): Request {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return new Request(`${BASE_URL}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...IP, ...headers },
    body: text,
  });
}

/** A key limited per day only: no minute ends between two of a test's requests (RateLimit-Reset still moves by the second). */
async function newKey(
  permissions: Record<string, string[]> = { user_profile: ["read"] },
  limits: Record<string, number> = { requests_per_day: 1000 },
): Promise<string> {
  const client = new TestClient();
  await login(client, await registerUser(client));
  const response = await client.post("/api/v1/api-keys", { json: { name: "direct", permissions, rate_limits: limits } });
  expect(response.status).toBe(201);
  return ((await response.json()) as { api_key: string }).api_key;
}

const remaining = (response: Response): number => Number(response.headers.get("RateLimit-Remaining"));
/** Headers that differ between two uses of one key: the count left, and the seconds to the window's end. */
const PER_USE = ["ratelimit-remaining", "ratelimit-reset"];

describe("requests answered directly", () => {
  afterEach(() => vi.restoreAllMocks());

  it("a read with an API key: the app's answer and log line, each counting one use", async () => {
    const isolate = isolateEnv();
    const key = await newKey();
    const variants: Array<Record<string, string>> = [
      {},
      { Origin: "http://app.example.test" },
      { Origin: "https://evil.example" },
      { "X-Request-Id": "trace-1" },
    ];
    for (const headers of variants) {
      let direct: Response | null = null;
      let viaApp: Response | null = null;
      const directLog = await logLines(async () => (direct = await answered("direct", keyRead(key, headers), isolate)));
      const appLog = await logLines(async () => (viaApp = await answered("app", keyRead(key, headers), isolate)));
      expect(direct, JSON.stringify(headers)).not.toBeNull();
      expect(direct!.status).toBe(200);
      expect(viaApp!.status).toBe(200);
      expect(headersOf(direct!, PER_USE)).toEqual(headersOf(viaApp!, PER_USE));
      expect(remaining(viaApp!)).toBe(remaining(direct!) - 1);
      expect(await direct!.json()).toEqual(await viaApp!.json());
      expect(directLog).toEqual(appLog);
      expect(directLog).toEqual([
        { level: "info", event: "request", method: "GET", route: "/api/v1/users/me", status: 200, principal: "api_key" },
      ]);
    }
  });

  it("a key verification: the app's answer for a valid and an unknown key", async () => {
    const isolate = isolateEnv();
    const key = await newKey();
    const body = { api_key: key, resource: "user_profile", action: "read" };
    let direct: Response | null = null;
    let viaApp: Response | null = null;
    const directLog = await logLines(async () => (direct = await answered("direct", post("/api/v1/api-keys/verify", body), isolate)));
    const appLog = await logLines(async () => (viaApp = await answered("app", post("/api/v1/api-keys/verify", body), isolate)));
    expect(direct!.status).toBe(200);
    expect(headersOf(direct!, PER_USE)).toEqual(headersOf(viaApp!, PER_USE));
    const [directBody, appBody] = [(await direct!.json()) as Record<string, any>, (await viaApp!.json()) as Record<string, any>];
    expect(directBody.allowed).toBe(true);
    // A fresh key: the direct answer's use is its first, counted once.
    expect(directBody.ratelimit.remaining).toBe(directBody.ratelimit.limit - 1);
    expect(appBody.ratelimit.remaining).toBe(directBody.ratelimit.remaining - 1);
    expect({ ...directBody, ratelimit: null }).toEqual({ ...appBody, ratelimit: null });
    expect(directLog).toEqual(appLog);
    expect(directLog).toEqual([
      { level: "info", event: "request", method: "POST", route: "/api/v1/api-keys/verify", status: 200, principal: null },
    ]);

    const unknown = { api_key: `${key.slice(0, -4)}AAAA` };
    const directUnknown = (await answered("direct", post("/api/v1/api-keys/verify", unknown), isolate))!;
    const appUnknown = (await answered("app", post("/api/v1/api-keys/verify", unknown), isolate))!;
    expect(headersOf(directUnknown)).toEqual(headersOf(appUnknown));
    expect(await directUnknown.json()).toEqual({ valid: false, code: "invalid_api_key" });
    expect(await appUnknown.json()).toEqual({ valid: false, code: "invalid_api_key" });
  });

  it("a refresh: the app's headers and answer, each rotating once", async () => {
    const isolate = isolateEnv();
    const user = await registerUser(new TestClient());
    const first = await tokensFor(user);
    let direct: Response | null = null;
    const directLog = await logLines(async () => {
      direct = await answered("direct", post("/api/v1/auth/refresh", { refresh_token: first.refresh_token }), isolate);
    });
    expect(direct!.status).toBe(200);
    const rotated = (await direct!.json()) as Record<string, unknown>;
    let viaApp: Response | null = null;
    const appLog = await logLines(async () => {
      viaApp = await answered("app", post("/api/v1/auth/refresh", { refresh_token: rotated.refresh_token }), isolate);
    });
    expect(viaApp!.status).toBe(200);
    expect(headersOf(direct!)).toEqual(headersOf(viaApp!));
    expect(direct!.headers.get("Pragma")).toBe("no-cache");
    const next = (await viaApp!.json()) as Record<string, unknown>;
    expect(Object.keys(rotated).sort()).toEqual(Object.keys(next).sort());
    expect({ ...rotated, access_token: "", refresh_token: "" }).toEqual({ ...next, access_token: "", refresh_token: "" });
    expect(directLog).toEqual(appLog);
  });

  it("a session check: the app's answer and log line; a dead session is the app's answer too", async () => {
    const isolate = isolateEnv();
    const client = new TestClient();
    await login(client, await registerUser(client));
    const cookie = [...client.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
    const check = (headers: Record<string, string> = {}) =>
      new Request(`${BASE_URL}/api/v1/auth/check-auth`, { headers: { Cookie: cookie, ...IP, ...headers } });
    const variants: Array<Record<string, string>> = [{}, { Origin: "http://app.example.test" }, { "X-Request-Id": "trace-2" }];
    for (const headers of variants) {
      let direct: Response | null = null;
      let viaApp: Response | null = null;
      const directLog = await logLines(async () => (direct = await answered("direct", check(headers), isolate)));
      const appLog = await logLines(async () => (viaApp = await answered("app", check(headers), isolate)));
      expect(direct, JSON.stringify(headers)).not.toBeNull();
      expect(headersOf(direct!)).toEqual(headersOf(viaApp!));
      const body = await direct!.json();
      expect(body).toMatchObject({ authenticated: true });
      expect(body).toEqual(await viaApp!.json());
      expect(directLog).toEqual(appLog);
      expect(directLog).toEqual([
        { level: "info", event: "request", method: "GET", route: "/api/v1/auth/check-auth", status: 200, principal: "session" },
      ]);
    }
    expect((await client.post("/api/v1/auth/logout")).status).toBe(200);
    expect(await answered("direct", check(), isolate)).toBeNull();
    const ended = (await answered("worker", check(), isolate))!;
    expect(ended.status).toBe(200);
    expect(await ended.json()).toEqual({ authenticated: false });
  });

  it("leaves to the app, before any call, what it does not answer", async () => {
    const isolate = isolateEnv();
    const key = await newKey();
    const user = await registerUser(new TestClient());
    const { refresh_token: token } = await tokensFor(user);
    const before = remaining((await answered("worker", keyRead(key), isolate))!);
    const untouched: Request[] = [
      keyRead(key, { "Sec-Fetch-Mode": "navigate" }),
      keyRead(key, {}, "HEAD"),
      new Request(`${BASE_URL}/api/v1/users/me?x=1`, { headers: { "X-API-Key": key } }),
      post("/api/v1/api-keys/verify", { api_key: key }, { Origin: "https://evil.example" }),
      post("/api/v1/auth/refresh", { refresh_token: token }, { Origin: "https://evil.example" }),
    ];
    for (const request of untouched) expect(await answered("direct", request, isolate), request.url).toBeNull();
    expect(await answered("direct", keyRead(key), isolateEnv({ SERVER_TIMING: "true" }))).toBeNull();
    expect(await answered("direct", keyRead(key), isolateEnv({ SESSION_TIMEOUT_MINUTES: "0" }))).toBeNull();
    // None of them used the key or the token.
    expect(remaining((await answered("worker", keyRead(key), isolate))!)).toBe(before - 1);
    expect((await answered("worker", post("/api/v1/auth/refresh", { refresh_token: token }), isolate))!.status).toBe(200);
  });

  it("leaves every other outcome to the app, with the body read and the call made once", async () => {
    // The real bindings, with every call counted (no fault injected).
    const faults = new Faults();
    const isolate = { ...isolateEnv(), ...faults.bindings() } as Env;
    const uses = (): number => faults.count("API_KEYS", "use");
    const rotations = (): number => faults.count("USER_AUTHORITY", "rotateRefreshToken");

    // A key that may not read the profile: the app's 403, the use counted once, its headers kept.
    const writer = await newKey({ api_keys: ["read"] });
    const refused = (await answered("worker", keyRead(writer), isolate))!;
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: "insufficient_scope" });
    expect(uses()).toBe(1);
    const limit = Number(refused.headers.get("RateLimit-Limit"));
    expect(remaining(refused)).toBe(limit - 1);
    const verified = (await answered("worker", post("/api/v1/api-keys/verify", { api_key: writer }), isolate))!;
    expect(((await verified.json()) as { ratelimit: { remaining: number } }).ratelimit.remaining).toBe(limit - 2);
    expect(uses()).toBe(2);

    // Rate-limited: the app's 429, each request one use.
    const tight = await newKey(undefined, { requests_per_day: 1 });
    expect((await answered("worker", post("/api/v1/api-keys/verify", { api_key: tight }), isolate))!.status).toBe(200);
    const limited = (await answered("worker", post("/api/v1/api-keys/verify", { api_key: tight }), isolate))!;
    expect(limited.status).toBe(429);
    expect(await limited.json()).toMatchObject({ code: "rate_limited", valid: false });
    expect(limited.headers.get("Retry-After")).not.toBeNull();
    expect(uses()).toBe(4);

    // Bodies the app refuses, read once and never used.
    const bad = (await answered("worker", post("/api/v1/api-keys/verify", "{not json"), isolate))!;
    expect(bad.status).toBe(400);
    const invalid = (await answered("worker", post("/api/v1/api-keys/verify", { api_key: 7 }), isolate))!;
    expect(invalid.status).toBe(422);
    const empty = (await answered("worker", post("/api/v1/auth/refresh", {}), isolate))!;
    expect(empty.status).toBe(422);
    expect(uses()).toBe(4);
    expect(rotations()).toBe(0);

    // A reused refresh token: the app's 401 token_reused, one rotation call a request.
    const user = await registerUser(new TestClient());
    const { refresh_token: token } = await tokensFor(user, { REFRESH_REUSE_GRACE_SECONDS: "0" });
    const graceless = { ...isolate, REFRESH_REUSE_GRACE_SECONDS: "0" } as Env;
    const next = (await answered("worker", post("/api/v1/auth/refresh", { refresh_token: token }), graceless))!;
    expect(next.status).toBe(200);
    const { refresh_token: newer } = (await next.json()) as { refresh_token: string };
    const reused = (await answered("worker", post("/api/v1/auth/refresh", { refresh_token: token }), graceless))!;
    expect(reused.status).toBe(401);
    expect(await reused.json()).toMatchObject({ code: "token_reused" });
    const after = (await answered("worker", post("/api/v1/auth/refresh", { refresh_token: newer }), graceless))!;
    expect(after.status).toBe(401);
    expect(rotations()).toBe(3);
  });

  it("a failing dependency is the app's 503, with the call made once", async () => {
    const expectUnavailable = async (response: Response): Promise<void> => {
      expect(response.status).toBe(503);
      expect(response.headers.get("X-Request-Id")).not.toBeNull();
      expect(response.headers.get("Retry-After")).toBe("1");
      expect(await response.json()).toMatchObject({ code: "service_unavailable" });
    };
    const key = await newKey();
    const keyFaults = new Faults().fail("API_KEYS", { methods: ["use"], kind: "overloaded" });
    const keyIsolate = { ...isolateEnv(), ...keyFaults.bindings() } as Env;
    await expectUnavailable((await answered("worker", keyRead(key), keyIsolate))!);
    expect(keyFaults.count("API_KEYS", "use")).toBe(1);
    await expectUnavailable((await answered("worker", post("/api/v1/api-keys/verify", { api_key: key }), keyIsolate))!);
    expect(keyFaults.count("API_KEYS", "use")).toBe(2);

    const user = await registerUser(new TestClient());
    const { refresh_token: token } = await tokensFor(user);
    const authorityFaults = new Faults().fail("USER_AUTHORITY", { kind: "overloaded" }).fail("SESSIONS", { methods: ["get"] });
    const authorityIsolate = { ...isolateEnv(), ...authorityFaults.bindings() } as Env;
    const lines = await logLines(async () => {
      await expectUnavailable((await answered("worker", post("/api/v1/auth/refresh", { refresh_token: token }), authorityIsolate))!);
    });
    expect(authorityFaults.count("USER_AUTHORITY", "rotateRefreshToken")).toBe(1);
    expect(lines).toEqual([
      { level: "error", event: "request", method: "POST", route: "/api/v1/auth/refresh", status: 503, principal: null },
    ]);

    // A session this isolate has not seen: KV and the authority both failing.
    const client = new TestClient();
    await login(client, await registerUser(client));
    const cookie = [...client.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
    const check = new Request(`${BASE_URL}/api/v1/auth/check-auth`, { headers: { Cookie: cookie, ...IP } });
    await expectUnavailable((await answered("worker", check, authorityIsolate))!);
    expect(authorityFaults.count("USER_AUTHORITY", "authorize")).toBe(1);
  });
});
