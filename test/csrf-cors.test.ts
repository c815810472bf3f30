import { describe, expect, it } from "vitest";
import { TestClient } from "./helpers/client";
import { login, registerUser, strongPassword, uniqueEmail } from "./helpers/users";

const APP_ORIGIN = "http://app.example.test"; // listed in CORS_ORIGINS by vitest.config.ts
const EVIL_ORIGIN = "https://evil.example";

async function signedIn(settings: Record<string, string> = {}): Promise<TestClient> {
  const client = new TestClient({ settings });
  await login(client, await registerUser(client));
  return client;
}

function rename(client: TestClient, options: { csrf?: boolean; headers?: Record<string, string> } = {}): Promise<Response> {
  return client.patch("/api/v1/users/me", { json: { name: "CSRF test" }, ...options });
}

describe("CSRF protection of cookie-authenticated writes", () => {
  it("refuses a write without the X-CSRF-Token header, even though the CSRF cookie is sent", async () => {
    const client = await signedIn();
    expect(client.csrfToken).toBeDefined();
    const response = await rename(client, { csrf: false });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ code: "csrf_failed" });
  });

  it("refuses a wrong CSRF token and another session's token", async () => {
    const client = await signedIn();
    const other = await signedIn();
    expect((await rename(client, { headers: { "X-CSRF-Token": "wrong" } })).status).toBe(403);
    expect((await rename(client, { headers: { "X-CSRF-Token": other.csrfToken ?? "" } })).status).toBe(403);
  });

  it("accepts the session's own token from the same origin and from an allowed origin", async () => {
    const client = await signedIn();
    expect((await rename(client)).status).toBe(200);
    expect((await rename(client, { headers: { Origin: "http://auth.example.test" } })).status).toBe(200);
    expect((await rename(client, { headers: { Origin: APP_ORIGIN } })).status).toBe(200);
  });

  it("refuses a write from a foreign origin even with the right token", async () => {
    const client = await signedIn();
    for (const origin of [EVIL_ORIGIN, "null", "http://app.example.test.evil.example"]) {
      const response = await rename(client, { headers: { Origin: origin } });
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ code: "csrf_failed" });
    }
  });

  it("refuses a login form posted from a foreign origin (login CSRF)", async () => {
    const user = await registerUser(new TestClient());
    const response = await new TestClient().post("/api/v1/auth/login", {
      form: { username: user.email, password: user.password },
      headers: { Origin: EVIL_ORIGIN },
    });
    expect(response.status).toBe(403);
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it("with CSRF_ENABLED=false skips the token check but still refuses foreign origins", async () => {
    const client = await signedIn({ CSRF_ENABLED: "false" });
    expect((await rename(client, { csrf: false })).status).toBe(200);
    expect((await rename(client, { csrf: false, headers: { Origin: EVIL_ORIGIN } })).status).toBe(403);
  });
});

describe("CORS", () => {
  it("answers a preflight from an allowed origin with credentials allowed", async () => {
    const response = await new TestClient().request("OPTIONS", "/api/v1/users/me", {
      headers: {
        Origin: APP_ORIGIN,
        "Access-Control-Request-Method": "PATCH",
        "Access-Control-Request-Headers": "content-type, x-csrf-token",
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe(APP_ORIGIN);
    expect(response.headers.get("Access-Control-Allow-Credentials")).toBe("true");
    expect(response.headers.get("Access-Control-Allow-Methods")).toContain("PATCH");
    expect(response.headers.get("Access-Control-Allow-Headers")?.toLowerCase()).toContain("x-csrf-token");
    expect(response.headers.get("X-Request-Id")).not.toBeNull();
  });

  it("never gives a foreign origin Access-Control-Allow-Origin, preflight or not", async () => {
    const preflight = await new TestClient().request("OPTIONS", "/api/v1/users/me", {
      headers: { Origin: EVIL_ORIGIN, "Access-Control-Request-Method": "GET" },
    });
    expect(preflight.status).toBe(403);
    expect(preflight.headers.get("Access-Control-Allow-Origin")).toBeNull();

    const client = await signedIn();
    const read = await client.get("/api/v1/users/me", { headers: { Origin: EVIL_ORIGIN } });
    expect(read.headers.get("Access-Control-Allow-Origin")).toBeNull();
    expect(read.headers.get("Access-Control-Allow-Credentials")).toBeNull();
  });

  it("lets an allowed origin read responses with credentials, errors included", async () => {
    const ok = await new TestClient().get("/healthz", { headers: { Origin: APP_ORIGIN } });
    expect(ok.headers.get("Access-Control-Allow-Origin")).toBe(APP_ORIGIN);
    expect(ok.headers.get("Vary")).toContain("Origin");
    const error = await new TestClient().get("/api/v1/users/me", { headers: { Origin: APP_ORIGIN } });
    expect(error.status).toBe(401);
    expect(error.headers.get("Access-Control-Allow-Origin")).toBe(APP_ORIGIN);
    expect(error.headers.get("Access-Control-Expose-Headers")).toContain("X-Request-Id");
  });

  it("lets an allowed origin register and log in with JSON", async () => {
    const client = new TestClient();
    const email = uniqueEmail();
    const password = strongPassword();
    const created = await client.post("/api/v1/users", { json: { email, password }, headers: { Origin: APP_ORIGIN } });
    expect(created.status).toBe(201);
    const loggedIn = await client.post("/api/v1/auth/login", { json: { email, password }, headers: { Origin: APP_ORIGIN } });
    expect(loggedIn.status).toBe(200);
  });
});
