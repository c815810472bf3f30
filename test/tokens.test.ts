import { decodeJwt, decodeProtectedHeader } from "jose";
import { describe, expect, it } from "vitest";
import { type Settings, TestClient } from "./helpers/client";
import { type TokenPair as TokenResponse, login, registerUser, tokensFor } from "./helpers/users";

function bearer(token: string, settings: Settings = {}): TestClient & { auth: Record<string, string> } {
  const client = new TestClient({ settings }) as TestClient & { auth: Record<string, string> };
  client.auth = { Authorization: `Bearer ${token}` };
  return client;
}

async function me(token: string, settings: Settings = {}): Promise<Response> {
  const client = bearer(token, settings);
  return client.get("/api/v1/users/me", { headers: client.auth });
}

async function rename(token: string, settings: Settings = {}): Promise<Response> {
  const client = bearer(token, settings);
  return client.patch("/api/v1/users/me", { json: { name: "via token" }, headers: client.auth });
}

async function refresh(refreshToken: string, settings: Settings = {}): Promise<Response> {
  return new TestClient({ settings }).post("/api/v1/auth/refresh", { json: { refresh_token: refreshToken } });
}

describe("POST /api/v1/auth/token (password grant)", () => {
  it("returns the contract's token response with no-store and no cookies", async () => {
    const user = await registerUser(new TestClient());
    const client = new TestClient();
    const response = await client.post("/api/v1/auth/token", { json: { email: user.email, password: user.password } });
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    expect(response.headers.getSetCookie()).toEqual([]);
    const body = (await response.json()) as TokenResponse;
    expect(Object.keys(body).sort()).toEqual(["access_token", "expires_in", "refresh_expires_in", "refresh_token", "token_type"]);
    expect(body).toMatchObject({ token_type: "bearer", expires_in: 1800, refresh_expires_in: 7 * 86400 });
    expect(body.refresh_token).toMatch(/^[0-9a-f]{48}\.[A-Za-z0-9_-]{43}$/);
  });

  it("accepts an OAuth2 password form with grant_type=password", async () => {
    const user = await registerUser(new TestClient());
    const response = await new TestClient().post("/api/v1/auth/token", {
      form: { grant_type: "password", username: user.username, password: user.password },
    });
    expect(response.status).toBe(200);
  });

  it("issues an access token with the contract's header and claims", async () => {
    const user = await registerUser(new TestClient());
    const body = await tokensFor(user);
    const header = decodeProtectedHeader(body.access_token);
    expect(header).toMatchObject({ alg: "HS256", typ: "at+jwt" });
    expect(header.kid).toMatch(/^hs256-/);
    const claims = decodeJwt(body.access_token);
    expect(claims).toMatchObject({ iss: "edge-auth", aud: "edge-auth", sub: user.id, token_type: "access" });
    expect(claims.exp! - claims.iat!).toBe(1800);
    expect(typeof claims.jti).toBe("string");
    expect(claims.sid).toBe(body.refresh_token.split(".")[0]);
  });

  it("answers a wrong password like login does, and is throttled like login", async () => {
    const user = await registerUser(new TestClient());
    const client = new TestClient();
    for (let i = 0; i < 5; i++) {
      const response = await client.post("/api/v1/auth/token", { json: { email: user.email, password: "nope nope" } });
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ detail: "Incorrect username or password", code: "invalid_credentials" });
    }
    const blocked = await client.post("/api/v1/auth/token", { json: { email: user.email, password: user.password } });
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get("Retry-After")).not.toBeNull();
  });

  it("shares the throttle with session login for the same identifier", async () => {
    const user = await registerUser(new TestClient());
    for (let i = 0; i < 5; i++) {
      await new TestClient().post("/api/v1/auth/login", { json: { email: user.email, password: "wrong" } });
    }
    const response = await new TestClient().post("/api/v1/auth/token", { json: { email: user.email, password: user.password } });
    expect(response.status).toBe(429);
  });

  it("refuses an unknown grant_type with 422 and a missing password with 422", async () => {
    expect((await new TestClient().post("/api/v1/auth/token", { json: { grant_type: "client_credentials" } })).status).toBe(422);
    expect((await new TestClient().post("/api/v1/auth/token", { json: { email: "a@example.com" } })).status).toBe(422);
  });
});

describe("Authorization: Bearer on protected routes", () => {
  it("reads and writes with an access token, no CSRF token needed", async () => {
    const user = await registerUser(new TestClient());
    const { access_token: token } = await tokensFor(user);
    const read = await me(token);
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ id: user.id });
    const write = await rename(token);
    expect(write.status).toBe(200);
    expect(await write.json()).toMatchObject({ name: "via token" });
  });

  it("reports the token on check-auth and lists the family as a session of kind token", async () => {
    const user = await registerUser(new TestClient());
    const body = await tokensFor(user);
    const client = bearer(body.access_token);
    const check = (await (await client.get("/api/v1/auth/check-auth", { headers: client.auth })).json()) as {
      authenticated: boolean;
      session: { id: string };
    };
    expect(check.authenticated).toBe(true);
    expect(check.session.id).toBe(body.refresh_token.split(".")[0]);
    const list = (await (await client.get("/api/v1/auth/sessions", { headers: client.auth })).json()) as {
      sessions: Array<{ id: string; kind: string; current: boolean; device: { browser: string } }>;
    };
    expect(list.sessions).toHaveLength(1);
    expect(list.sessions[0]).toMatchObject({ kind: "token", current: true, device: { browser: "Chrome" } });
  });

  it("never falls back to the cookie when the bearer token is bad", async () => {
    const client = new TestClient();
    await login(client, await registerUser(client));
    const response = await client.get("/api/v1/users/me", { headers: { Authorization: "Bearer not-a-token" } });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: "invalid_token" });
  });

  it("refuses a bearer token on the cookie-only routes", async () => {
    const { access_token: token } = await tokensFor(await registerUser(new TestClient()));
    const client = bearer(token);
    expect((await client.post("/api/v1/auth/logout", { headers: client.auth })).status).toBe(401);
    expect((await client.post("/api/v1/auth/refresh-csrf", { headers: client.auth })).status).toBe(401);
  });
});

describe("POST /api/v1/auth/refresh", () => {
  it("rotates: a new pair, and the new refresh token works in turn", async () => {
    const first = await tokensFor(await registerUser(new TestClient()));
    const response = await refresh(first.refresh_token);
    expect(response.status).toBe(200);
    const second = (await response.json()) as TokenResponse;
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.access_token).not.toBe(first.access_token);
    expect(second.refresh_token.split(".")[0]).toBe(first.refresh_token.split(".")[0]);
    expect(second.refresh_expires_in).toBeLessThanOrEqual(first.refresh_expires_in);
    expect((await me(second.access_token)).status).toBe(200);
    expect((await refresh(second.refresh_token)).status).toBe(200);
  });

  it("gives two concurrent refreshes with one token the same new pair", async () => {
    const first = await tokensFor(await registerUser(new TestClient()));
    const [a, b] = await Promise.all([refresh(first.refresh_token), refresh(first.refresh_token)]);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    const pairA = (await a.json()) as TokenResponse;
    expect(await b.json()).toEqual(pairA);
    expect((await refresh(pairA.refresh_token)).status).toBe(200);
  });

  it("answers a retry inside the grace period with the same pair", async () => {
    const first = await tokensFor(await registerUser(new TestClient()));
    const pair = await (await refresh(first.refresh_token)).json();
    expect(await (await refresh(first.refresh_token)).json()).toEqual(pair);
  });

  it("revokes the whole family when a rotated-out token comes back after the grace period", async () => {
    const settings = { REFRESH_REUSE_GRACE_SECONDS: "0" };
    const user = await registerUser(new TestClient());
    const first = await tokensFor(user, settings);
    const second = (await (await refresh(first.refresh_token, settings)).json()) as TokenResponse;
    const reused = await refresh(first.refresh_token, settings);
    expect(reused.status).toBe(401);
    expect(await reused.json()).toMatchObject({ code: "token_reused" });
    expect((await refresh(second.refresh_token, settings)).status).toBe(401);
    expect((await rename(second.access_token, settings)).status).toBe(401);
    expect((await me(second.access_token, settings)).status).toBe(401);
  });

  it("takes the refresh token from the refresh_token cookie", async () => {
    const first = await tokensFor(await registerUser(new TestClient()));
    const client = new TestClient();
    client.cookies.set("refresh_token", first.refresh_token);
    expect((await client.post("/api/v1/auth/refresh")).status).toBe(200);
  });

  it("refuses unknown and malformed refresh tokens with 401 invalid_token, and a body without one with 422", async () => {
    const first = await tokensFor(await registerUser(new TestClient()));
    const [id] = first.refresh_token.split(".");
    for (const token of [`${id}.${"B".repeat(43)}`, "garbage", first.access_token]) {
      const response = await refresh(token);
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ code: "invalid_token" });
    }
    // Contract v1.2: only a body that lacks refresh_token (and no cookie) is malformed.
    expect((await new TestClient().post("/api/v1/auth/refresh", { json: {} })).status).toBe(422);
  });

  it("refuses a refresh token after its absolute lifetime", async () => {
    const { ageSession } = await import("./helpers/sessions");
    const first = await tokensFor(await registerUser(new TestClient()));
    await ageSession(first.refresh_token.split(".")[0]!, 7 * 86_400_000 + 1000, ["absolute_expires_at"]);
    expect((await refresh(first.refresh_token)).status).toBe(401);
  });
});

describe("revocation of token families", () => {
  it("POST /revoke (RFC 7009) ends the family of a refresh token and always answers 200", async () => {
    const pair = await tokensFor(await registerUser(new TestClient()));
    const response = await new TestClient().post("/api/v1/auth/revoke", { json: { token: pair.refresh_token } });
    expect(response.status).toBe(200);
    expect((await refresh(pair.refresh_token)).status).toBe(401);
    expect((await rename(pair.access_token)).status).toBe(401);
    expect((await me(pair.access_token)).status).toBe(401);
    for (const token of ["garbage", pair.refresh_token]) {
      const again = await new TestClient().post("/api/v1/auth/revoke", { json: { token } });
      expect(again.status).toBe(200);
      expect(await again.json()).toEqual({});
    }
  });

  it("POST /revoke with an access token ends its family", async () => {
    const pair = await tokensFor(await registerUser(new TestClient()));
    expect((await new TestClient().post("/api/v1/auth/revoke", { json: { token: pair.access_token } })).status).toBe(200);
    expect((await refresh(pair.refresh_token)).status).toBe(401);
  });

  it("DELETE /sessions/{id} from a cookie session ends a token family", async () => {
    const user = await registerUser(new TestClient());
    const pair = await tokensFor(user);
    const browser = new TestClient();
    await login(browser, user);
    const family = pair.refresh_token.split(".")[0];
    expect((await browser.delete(`/api/v1/auth/sessions/${family}`)).status).toBe(204);
    expect((await refresh(pair.refresh_token)).status).toBe(401);
    expect((await rename(pair.access_token)).status).toBe(401);
    expect((await me(pair.access_token)).status).toBe(401);
  });

  it("logout-all counts both kinds and rejects access tokens issued before it", async () => {
    const user = await registerUser(new TestClient());
    const pairs = [await tokensFor(user), await tokensFor(user)];
    const browser = new TestClient();
    await login(browser, user);
    const response = await browser.post("/api/v1/auth/logout-all");
    expect(await response.json()).toEqual({ revoked: 3 });
    for (const pair of pairs) {
      expect((await rename(pair.access_token)).status).toBe(401);
      expect((await me(pair.access_token)).status).toBe(401);
      expect((await refresh(pair.refresh_token)).status).toBe(401);
    }
    const fresh = await tokensFor(user);
    expect((await me(fresh.access_token)).status).toBe(200);
  });

  it("logout-all with a bearer token and keep_current=true keeps that family only", async () => {
    const user = await registerUser(new TestClient());
    const kept = await tokensFor(user);
    const other = await tokensFor(user);
    const client = bearer(kept.access_token);
    const response = await client.post("/api/v1/auth/logout-all?keep_current=true", { headers: client.auth });
    expect(await response.json()).toEqual({ revoked: 1 });
    expect((await rename(kept.access_token)).status).toBe(200);
    expect((await rename(other.access_token)).status).toBe(401);
  });

  it("counts token families toward MAX_SESSIONS_PER_USER", async () => {
    const settings = { MAX_SESSIONS_PER_USER: "2" };
    const user = await registerUser(new TestClient());
    const oldest = await tokensFor(user, settings);
    const browser = new TestClient({ settings });
    await login(browser, user);
    await tokensFor(user, settings);
    expect((await refresh(oldest.refresh_token, settings)).status).toBe(401);
    expect((await rename(oldest.access_token, settings)).status).toBe(401);
  });
});
