import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { BASE_URL, TestClient } from "./helpers/client";
import { login, registerUser, strongPassword } from "./helpers/users";

const consumer = (env as unknown as { CONSUMER: Fetcher }).CONSUMER;

async function rpc(op: string, ...args: unknown[]): Promise<Record<string, unknown>> {
  const response = await consumer.fetch("http://consumer/", { method: "POST", body: JSON.stringify({ op, args }) });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

function authenticate(method: string, headers: Record<string, string>): Promise<Record<string, unknown>> {
  return rpc("authenticate", method, `${BASE_URL}/api/v1/users/me`, headers);
}

describe("AuthService over a real service binding from another Worker", () => {
  it("gives the same answers as the HTTP routes for a valid and a revoked session", async () => {
    const client = new TestClient();
    const user = await registerUser(client);
    await login(client, user);
    const cookie = `session_id=${client.sessionToken}`;

    const http = await client.get("/api/v1/users/me");
    const viaRpc = await authenticate("GET", { Cookie: cookie });
    expect(http.status).toBe(200);
    expect(viaRpc).toMatchObject({ authenticated: true, principal: "session", user: await http.json() });

    const writeWithoutCsrf = await authenticate("PATCH", { Cookie: cookie });
    const httpWithoutCsrf = await client.clone().patch("/api/v1/users/me", { json: { name: "x" }, csrf: false });
    expect(writeWithoutCsrf).toEqual({ authenticated: false, status: 403, ...((await httpWithoutCsrf.json()) as object) });
    expect(writeWithoutCsrf).toMatchObject({ code: "csrf_failed" });
    expect(await authenticate("PATCH", { Cookie: cookie, "X-CSRF-Token": client.csrfToken ?? "" })).toMatchObject({
      authenticated: true,
    });

    const revoked = client.clone();
    await client.post("/api/v1/auth/logout");
    const httpAfter = await revoked.patch("/api/v1/users/me", { json: { name: "x" } });
    expect(httpAfter.status).toBe(401);
    const rpcAfter = await authenticate("PATCH", { Cookie: cookie, "X-CSRF-Token": revoked.csrfToken ?? "" });
    expect(rpcAfter).toEqual({ authenticated: false, status: 401, ...((await httpAfter.json()) as object) });
    expect(rpcAfter).toMatchObject({ code: "not_authenticated" });
  });

  it("verifies a valid access token and refuses an expired or revoked one, like the HTTP routes", async () => {
    const user = await registerUser(new TestClient());
    const pairResponse = await new TestClient().post("/api/v1/auth/token", { json: { email: user.email, password: user.password } });
    const pair = (await pairResponse.json()) as { access_token: string; refresh_token: string };
    expect(await rpc("verifyAccessToken", pair.access_token)).toMatchObject({ valid: true, user_id: user.id });
    expect(await authenticate("GET", { Authorization: `Bearer ${pair.access_token}` })).toMatchObject({
      authenticated: true,
      principal: "token",
    });

    const { forgeHs256 } = await import("./helpers/jwt");
    const now = Math.floor(Date.now() / 1000);
    const expired = await forgeHs256(user.id, pair.refresh_token.split(".")[0]!, { claims: { iat: now - 7200, exp: now - 60 } });
    const httpExpired = await new TestClient().get("/api/v1/users/me", { headers: { Authorization: `Bearer ${expired}` } });
    expect(httpExpired.status).toBe(401);
    expect(await rpc("verifyAccessToken", expired)).toEqual({ valid: false, code: "invalid_token" });

    await new TestClient().post("/api/v1/auth/revoke", { json: { token: pair.refresh_token } });
    expect(await rpc("verifyAccessToken", pair.access_token)).toEqual({ valid: false, code: "invalid_token" });
    const httpRevoked = await new TestClient().get("/api/v1/users/me", { headers: { Authorization: `Bearer ${pair.access_token}` } });
    expect(await authenticate("GET", { Authorization: `Bearer ${pair.access_token}` })).toEqual({
      authenticated: false,
      status: 401,
      ...((await httpRevoked.json()) as object),
      www_authenticate: httpRevoked.headers.get("WWW-Authenticate"),
    });
  });

  it("verifies an API key with and without the needed permission, like POST /api-keys/verify", async () => {
    const client = new TestClient();
    await login(client, await registerUser(client, { password: strongPassword() }));
    const created = (await (
      await client.post("/api/v1/api-keys", { json: { name: "rpc", permissions: { reports: ["read"] } } })
    ).json()) as { api_key: string; id: string };

    const http = (await (
      await new TestClient().post("/api/v1/api-keys/verify", { json: { api_key: created.api_key, resource: "reports", action: "write" } })
    ).json()) as Record<string, unknown>;
    const allowed = await rpc("verifyApiKey", created.api_key, "reports", "read");
    const refused = await rpc("verifyApiKey", created.api_key, "reports", "write");
    expect(allowed).toMatchObject({ valid: true, key_id: created.id, allowed: true, permissions: { reports: ["read"] } });
    expect(refused).toMatchObject({ valid: true, allowed: false });
    expect(http).toMatchObject({ valid: true, allowed: false });
    expect(await rpc("verifyApiKey", "fai_nope")).toEqual({ valid: false, code: "invalid_api_key" });
  });
});

describe("POST /api/v1/auth/introspect", () => {
  it("reports active credentials of each kind and inactive ones", async () => {
    const client = new TestClient();
    const user = await registerUser(client);
    await login(client, user);
    const pair = (await (
      await new TestClient().post("/api/v1/auth/token", { json: { email: user.email, password: user.password } })
    ).json()) as { access_token: string };
    const key = (await (await client.post("/api/v1/api-keys", { json: { name: "i", permissions: { a: ["b"] } } })).json()) as {
      api_key: string;
    };

    const introspect = async (body: unknown, headers: Record<string, string> = {}): Promise<Record<string, unknown>> => {
      const response = await new TestClient().post("/api/v1/auth/introspect", { json: body, headers });
      expect(response.status).toBe(200);
      return (await response.json()) as Record<string, unknown>;
    };
    expect(await introspect({ token: pair.access_token })).toMatchObject({ active: true, principal: "token", user_id: user.id });
    expect(await introspect({ token: client.sessionToken })).toMatchObject({ active: true, principal: "session", user_id: user.id });
    expect(await introspect({}, { Cookie: `session_id=${client.sessionToken}` })).toMatchObject({ active: true, principal: "session" });
    expect(await introspect({ token: key.api_key })).toMatchObject({ active: true, principal: "api_key", permissions: { a: ["b"] } });
    for (const token of ["garbage", `${pair.access_token}x`, "fai_aaaaaaaa_" + "A".repeat(43)]) {
      expect(await introspect({ token })).toEqual({ active: false });
    }
    expect(await introspect({})).toEqual({ active: false });
  });
});

describe("AuthService with a bad setting", () => {
  it("answers 500 configuration_error as the HTTP routes do, never a pass", async () => {
    const { createExecutionContext } = await import("cloudflare:test");
    const { AuthService } = await import("../src/rpc/auth-service");
    const broken = { ...env, MAX_SESSIONS_PER_USER: "lots" } as Env;
    const service = new AuthService(createExecutionContext(), broken);
    const answer = await service.authenticate(new Request(`${BASE_URL}/api/v1/users/me`, { headers: { Authorization: "Bearer x.y.z" } }));
    const http = await new TestClient({ settings: { MAX_SESSIONS_PER_USER: "lots" } }).get("/api/v1/users/me");
    expect(http.status).toBe(500);
    expect(answer).toEqual({ authenticated: false, status: 500, ...((await http.json()) as object) });
    expect(answer).toMatchObject({ code: "configuration_error" });
  });
});
