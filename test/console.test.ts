// The pages the Worker serves (the admin console and the account page, Workers static
// assets from public/): their CSP and caching, what paths they answer, ADMIN_CONSOLE,
// and the API additions the console draws from (a user's keys and a key's usage, sign-ins
// per day, the OAuth providers list). The pages' flows run in Chromium (test/e2e).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { adminSession, makeAdmin } from "./helpers/admin";
import { BASE_URL, TestClient, callWorker } from "./helpers/client";
import { login, registerUser } from "./helpers/users";

const get = (path: string, settings: Record<string, string> = {}, headers: Record<string, string> = {}) =>
  callWorker(new Request(`${BASE_URL}${path}`, { headers }), settings);

/** The scripts and styles an HTML page loads. */
function linkedFiles(html: string): string[] {
  return [...html.matchAll(/(?:src|href)="(\/[^"]+)"/g)].map((match) => match[1] ?? "").filter((path) => /\.(js|css)$/.test(path));
}

describe("the pages", () => {
  for (const [path, title] of <Array<[string, string]>>[
    ["/admin", "Admin console"],
    ["/admin/", "Admin console"],
    ["/account", "Your account"],
    ["/account/", "Your account"],
    ["/verify-email", "Your account"],
    ["/reset-password", "Your account"],
  ]) {
    it(`serves ${path} with the pages' CSP: scripts, styles and calls to this origin only, nothing inline`, async () => {
      const response = await get(path);
      expect(response.status).toBe(200);
      expect(response.headers.get("Content-Type")).toMatch(/^text\/html/);
      const csp = response.headers.get("Content-Security-Policy") ?? "";
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("connect-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain("unsafe-inline");
      expect(csp).not.toContain("unsafe-eval");
      expect(response.headers.get("X-Frame-Options")).toBe("DENY");
      expect(response.headers.get("Cache-Control")).toBe("no-cache");
      const html = await response.text();
      expect(html).toContain(`<title>${title}</title>`);
      // No inline script or style: everything the page runs is a file of this origin.
      expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
      expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/);
    });
  }

  it("serves every file the pages link to, each with the CSP; a client-made path is a JSON 404", async () => {
    const files = new Set<string>();
    for (const page of ["/admin/", "/account/"]) for (const file of linkedFiles(await (await get(page)).text())) files.add(file);
    expect(files.size).toBeGreaterThanOrEqual(4);
    for (const file of files) {
      const response = await get(file);
      expect(response.status, file).toBe(200);
      expect(response.headers.get("Content-Type"), file).toMatch(/javascript|css/);
      expect(response.headers.get("Content-Security-Policy"), file).toContain("script-src 'self'");
      await response.arrayBuffer();
    }
    for (const path of [
      "/admin/missing.js",
      "/shared/../wrangler.toml",
      "/admin/index.html",
      "/public/shared/ui.css",
      "/account/ACCOUNT.JS",
      "/shared/vendor/x.css",
    ]) {
      const response = await get(path);
      expect(response.status, path).toBe(404);
      expect(await response.json()).toMatchObject({ code: "not_found" });
    }
  });

  it("answers a revalidation by ETag with 304 and no body", async () => {
    const first = await get("/shared/ui.css");
    const etag = first.headers.get("ETag");
    expect(etag).toBeTruthy();
    await first.arrayBuffer();
    const again = await get("/shared/ui.css", {}, { "If-None-Match": etag as string });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
  });

  it("answers 503 service_unavailable when the assets service fails or errs, never a 500 or a 404", async () => {
    const failing = [
      { fetch: async () => new Response("upstream error", { status: 500 }) },
      {
        fetch: async () => {
          throw new Error("assets unreachable");
        },
      },
    ];
    for (const ASSETS of failing) {
      const response = await callWorker(new Request(`${BASE_URL}/account/`), { ASSETS } as unknown as Record<string, string>);
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ code: "service_unavailable" });
    }
  });

  it("refuses other methods on a page with 405 and Allow: GET", async () => {
    const response = await callWorker(
      new Request(`${BASE_URL}/admin/`, { method: "POST", body: "{}", headers: { "Content-Type": "application/json" } }),
    );
    expect(response.status).toBe(405);
    expect(response.headers.get("Allow")).toContain("GET");
  });

  it("ADMIN_CONSOLE=false: /admin and its files are 404; the account page, the shared files and the admin API stay", async () => {
    const off = { ADMIN_CONSOLE: "false" };
    for (const path of ["/admin", "/admin/", "/admin/admin.js", "/admin/users.js"]) {
      const response = await get(path, off);
      expect(response.status, path).toBe(404);
      expect(await response.json()).toMatchObject({ code: "not_found" });
    }
    for (const path of ["/account/", "/shared/ui.css", "/shared/api.js"]) expect((await get(path, off)).status, path).toBe(200);
    // The API is not the console: an anonymous call is still 401, not 404.
    expect((await get("/api/v1/admin/users", off)).status).toBe(401);
  });
});

describe("what the console reads", () => {
  it("lists a user's API keys (prefix only, never the key or its hash) and their usage by day and status", async () => {
    const admin = await makeAdmin();
    const client = await adminSession(admin);
    const owner = new TestClient();
    const user = await registerUser(owner);
    await login(owner, user);
    const created = await owner.post("/api/v1/api-keys", { json: { name: "ci", permissions: { user_profile: ["read"] } } });
    const key = (await created.json()) as { id: string; api_key: string };
    for (let call = 0; call < 3; call += 1) {
      expect((await new TestClient().get("/api/v1/users/me", { headers: { "X-API-Key": key.api_key } })).status).toBe(200);
    }
    expect((await new TestClient().patch("/api/v1/users/me", { headers: { "X-API-Key": key.api_key }, json: { name: "x" } })).status).toBe(
      403,
    );

    const list = await client.get(`/api/v1/admin/users/${user.id}/api-keys`);
    expect(list.status).toBe(200);
    const text = await list.clone().text();
    // The secret is everything after the id (it may hold "_" itself).
    expect(text).not.toContain(key.api_key.split("_").slice(2).join("_"));
    const body = (await list.json()) as { items: Array<Record<string, unknown>>; total: number };
    expect(body.total).toBe(1);
    expect(body.items[0]).toMatchObject({ id: key.id, name: "ci" });
    expect(body.items[0]).not.toHaveProperty("key_hash");

    const usage = await client.get(`/api/v1/admin/users/${user.id}/api-keys/${key.id}/usage?days=7`);
    expect(usage.status).toBe(200);
    const today = new Date().toISOString().slice(0, 10);
    expect(await usage.json()).toMatchObject({
      total: 4,
      by_day_status: [
        { date: today, status: 200, count: 3 },
        { date: today, status: 403, count: 1 },
      ],
    });
    // The key under another user's path is not found: the path names the owner.
    const other = await registerUser(new TestClient());
    expect((await client.get(`/api/v1/admin/users/${other.id}/api-keys/${key.id}/usage`)).status).toBe(404);
    expect(((await (await client.get(`/api/v1/admin/users/${other.id}/api-keys`)).json()) as { total: number }).total).toBe(0);
  });

  it("counts sign-ins per UTC day: every day of the window present, succeeded, failed and throttled", async () => {
    const admin = await makeAdmin();
    const client = await adminSession(admin);
    const read = async (days = 30) => {
      const response = await client.get(`/api/v1/admin/stats/sign-ins?days=${days}`);
      expect(response.status).toBe(200);
      return (await response.json()) as {
        days: number;
        items: Array<{ date: string; succeeded: number; failed: number; throttled: number }>;
      };
    };
    const before = await read();
    expect(before.items).toHaveLength(30);
    const today = new Date().toISOString().slice(0, 10);
    expect(before.items.at(-1)?.date).toBe(today);
    expect(before.items[0]?.date).toBe(new Date(Date.now() - 29 * 86_400_000).toISOString().slice(0, 10));

    const user = await registerUser(new TestClient());
    await login(new TestClient(), user);
    for (let attempt = 0; attempt < 2; attempt += 1) {
      expect(
        (await new TestClient().post("/api/v1/auth/login", { json: { email: user.email, password: "wrong-password-here" } })).status,
      ).toBe(401);
    }
    // An event older than the window is not counted.
    await env.DB.prepare("INSERT INTO security_events (id, user_id, type, at) VALUES (?, ?, 'login_failed', ?)")
      .bind(crypto.randomUUID(), user.id, new Date(Date.now() - 40 * 86_400_000).toISOString())
      .run();
    const after = await read();
    const [was, now] = [before.items.at(-1), after.items.at(-1)];
    expect(now?.succeeded).toBe((was?.succeeded ?? 0) + 1);
    expect(now?.failed).toBe((was?.failed ?? 0) + 2);
    expect(after.items.slice(0, -1)).toEqual(before.items.slice(0, -1));
    expect((await read(1)).items).toHaveLength(1);
    for (const days of ["0", "91", "x"]) expect((await client.get(`/api/v1/admin/stats/sign-ins?days=${days}`)).status).toBe(422);
  });

  it("lists the OAuth providers turned on, for sign-in buttons (no provider can be named 'providers': test/config.test.ts)", async () => {
    const response = await new TestClient().get("/api/v1/auth/oauth/providers");
    expect(response.status).toBe(200);
    const ids = ((await response.json()) as { providers: Array<{ id: string }> }).providers.map((provider) => provider.id);
    expect(ids.sort()).toEqual(["github", "google", "rogue", "testidp"]);
  });
});
