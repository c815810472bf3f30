// Durability across restarts: the Worker as it deploys, served on a persisted state
// folder; a user signs in (a session cookie and a token family), creates an API key and
// uses it; the server stops and starts again on the same folder, and the session, the
// refresh token, the key and its usage are all there.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: a plain ES module without types (shared with the benchmark)
import { build, migrate, serveService } from "../../bench/harness.mjs";

type Served = { mf: { dispose(): Promise<void> }; url: string };
const serve = serveService as (script: string, options: { bindings: Record<string, string>; persist: string }) => Promise<Served>;

const state = mkdtempSync(path.join(tmpdir(), "edge-auth-restart-"));
const bindings = {
  ENVIRONMENT: "development",
  SECRET_KEY: "restart-test-secret-key-with-32-characters!",
  SESSION_SECURE_COOKIES: "false",
  MAIL_PROVIDER: "dev",
  REQUEST_LOGS: "false",
};
let script = "";

beforeAll(() => {
  // Built inside the project: the runtime refuses module paths that climb out of it.
  script = (build as (entry: null, outdir: string) => string)(null, "bench/out/restart-build");
}, 180_000);

afterAll(() => rmSync(state, { recursive: true, force: true }));

async function call(base: string, method: string, route: string, init: { json?: unknown; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { "CF-Connecting-IP": "203.0.113.40", ...init.headers };
  if (init.json !== undefined) headers["Content-Type"] = "application/json";
  return fetch(`${base}${route}`, { method, headers, body: init.json === undefined ? undefined : JSON.stringify(init.json) });
}

describe("state survives a restart of the local server", () => {
  it("keeps the session, the refresh token, the API key and its usage", async () => {
    const persist = path.join(state, "data");
    let served = await serve(script, { bindings, persist });
    await (migrate as (mf: unknown) => Promise<void>)(served.mf);
    const email = `restart-${Date.now()}@example.com`;
    const password = "Restart-Test-Password-1234";
    expect((await call(served.url, "POST", "/api/v1/users", { json: { email, password } })).status).toBe(201);
    const login = await call(served.url, "POST", "/api/v1/auth/login", { json: { email, password } });
    expect(login.status).toBe(200);
    const cookie = login.headers
      .getSetCookie()
      .map((line) => line.split(";")[0])
      .join("; ");
    const { csrf_token: csrf } = (await login.json()) as { csrf_token: string };
    const tokens = (await (await call(served.url, "POST", "/api/v1/auth/token", { json: { email, password } })).json()) as {
      refresh_token: string;
    };
    const created = await call(served.url, "POST", "/api/v1/api-keys", {
      json: { name: "restart", permissions: { user_profile: ["read"] } },
      headers: { Cookie: cookie, "X-CSRF-Token": csrf },
    });
    expect(created.status).toBe(201);
    const key = (await created.json()) as { id: string; api_key: string };
    for (let i = 0; i < 3; i++) {
      expect((await call(served.url, "GET", "/api/v1/users/me", { headers: { "X-API-Key": key.api_key } })).status).toBe(200);
    }
    // Stopped with the uses still buffered in the key's object (the flush waits 5 s).
    await served.mf.dispose();

    served = await serve(script, { bindings, persist });
    try {
      const me = await call(served.url, "GET", "/api/v1/users/me", { headers: { Cookie: cookie } });
      expect(me.status).toBe(200);
      expect(((await me.json()) as { email: string }).email).toBe(email);
      const refreshed = await call(served.url, "POST", "/api/v1/auth/refresh", { json: { refresh_token: tokens.refresh_token } });
      expect(refreshed.status).toBe(200);
      expect((await call(served.url, "GET", "/api/v1/users/me", { headers: { "X-API-Key": key.api_key } })).status).toBe(200);
      const usage = await call(served.url, "GET", `/api/v1/api-keys/${key.id}/usage?days=1`, { headers: { Cookie: cookie } });
      expect(usage.status).toBe(200);
      expect(((await usage.json()) as { total: number }).total).toBe(4);
    } finally {
      await served.mf.dispose();
    }
  }, 120_000);
});
