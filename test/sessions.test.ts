import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { TestClient } from "./helpers/client";
import { ageSession, authorityLastActivity, cachedSession, sessionIdOf } from "./helpers/sessions";
import { type TestUser, login, registerUser } from "./helpers/users";

const MINUTE = 60_000;

async function signedIn(settings: Record<string, string> = {}): Promise<{ client: TestClient; user: TestUser }> {
  const client = new TestClient({ settings });
  const user = await registerUser(client);
  await login(client, user);
  return { client, user };
}

/** A state-changing request, answered by the session authority. */
async function write(client: TestClient): Promise<Response> {
  return client.patch("/api/v1/users/me", { json: { name: "touched" } });
}

describe("GET /api/v1/auth/check-auth", () => {
  it("says authenticated: false without a session", async () => {
    const response = await new TestClient().get("/api/v1/auth/check-auth");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ authenticated: false });
  });

  it("says authenticated: false for a garbage or forged cookie", async () => {
    const client = new TestClient();
    client.cookies.set("session_id", "garbage");
    expect(await (await client.get("/api/v1/auth/check-auth")).json()).toEqual({ authenticated: false });
    const { client: real } = await signedIn();
    const forged = new TestClient();
    forged.cookies.set("session_id", `${sessionIdOf(real.sessionToken)}.${"A".repeat(43)}`);
    expect(await (await forged.get("/api/v1/auth/check-auth")).json()).toEqual({ authenticated: false });
  });

  it("returns the user and the session with ISO timestamps", async () => {
    const { client, user } = await signedIn();
    const response = await client.get("/api/v1/auth/check-auth");
    const body = (await response.json()) as {
      authenticated: boolean;
      user: { id: string };
      session: { id: string; created_at: string; last_activity: string; expires_at: string };
    };
    expect(body.authenticated).toBe(true);
    expect(body.user.id).toBe(user.id);
    expect(body.session.id).toBe(sessionIdOf(client.sessionToken));
    const expires = Date.parse(body.session.expires_at);
    expect(expires - Date.parse(body.session.last_activity)).toBe(30 * MINUTE);
    expect(body.session.created_at).toMatch(/Z$/);
  });
});

describe("POST /api/v1/auth/logout", () => {
  it("needs the CSRF header like any other unsafe request", async () => {
    const { client } = await signedIn();
    const response = await client.post("/api/v1/auth/logout", { csrf: false });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ code: "csrf_failed" });
  });

  it("ends the session everywhere at once and clears both cookies", async () => {
    const { client } = await signedIn();
    const otherTab = client.clone();
    const response = await client.post("/api/v1/auth/logout");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ detail: "Logged out" });
    const cleared = response.headers.getSetCookie();
    expect(cleared.some((line) => line.startsWith("session_id=;") && line.includes("Max-Age=0"))).toBe(true);
    expect(cleared.some((line) => line.startsWith("csrf_token=;") && line.includes("Max-Age=0"))).toBe(true);
    expect((await write(otherTab)).status).toBe(401);
    expect((await otherTab.get("/api/v1/users/me")).status).toBe(401);
  });

  it("requires a session: 401 without one", async () => {
    const response = await new TestClient().post("/api/v1/auth/logout");
    expect(response.status).toBe(401);
  });
});

describe("revocation and the KV cache", () => {
  it("rejects a revoked session for writes at once even where the cache still has it", async () => {
    const { client } = await signedIn();
    const id = sessionIdOf(client.sessionToken);
    const stale = await cachedSession(id);
    expect(stale).not.toBeNull();
    const otherTab = client.clone();
    expect((await client.post("/api/v1/auth/logout")).status).toBe(200);
    expect(await cachedSession(id)).toBeNull();

    // Another edge location may still serve the old cache entry for up to 60 s.
    await env.SESSIONS.put(`session:${id}`, JSON.stringify(stale), { expirationTtl: 60 });
    expect((await otherTab.get("/api/v1/users/me")).status).toBe(200);
    const refused = await write(otherTab);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ code: "not_authenticated" });
  });

  it("answers from the authority when the cache has not seen the session yet", async () => {
    const { client } = await signedIn();
    await env.SESSIONS.delete(`session:${sessionIdOf(client.sessionToken)}`);
    expect((await client.get("/api/v1/users/me")).status).toBe(200);
  });

  it("makes no cache write on a read while the cached activity is fresh", async () => {
    const { client } = await signedIn();
    const id = sessionIdOf(client.sessionToken);
    const before = await cachedSession(id);
    for (let i = 0; i < 5; i++) expect((await client.get("/api/v1/users/me")).status).toBe(200);
    expect(await cachedSession(id)).toEqual(before);
  });

  it("refreshes the cached activity on a read once it is over a minute old", async () => {
    const { client } = await signedIn();
    const id = sessionIdOf(client.sessionToken);
    await ageSession(id, 2 * MINUTE);
    const aged = (await cachedSession(id))?.lastActivity ?? 0;
    expect((await client.get("/api/v1/users/me")).status).toBe(200);
    const refreshed = (await cachedSession(id))?.lastActivity ?? 0;
    expect(refreshed - aged).toBeGreaterThanOrEqual(2 * MINUTE - 1000);
  });
});

describe("session expiry", () => {
  it("ends a session idle for longer than SESSION_TIMEOUT_MINUTES: 401 session_expired", async () => {
    const { client } = await signedIn();
    await ageSession(sessionIdOf(client.sessionToken), 31 * MINUTE);
    const read = await client.clone().get("/api/v1/users/me");
    expect(read.status).toBe(401);
    expect(await read.json()).toMatchObject({ code: "session_expired" });
    expect((await write(client)).status).toBe(401);
  });

  it("slides the idle timeout with activity", async () => {
    const { client } = await signedIn();
    const id = sessionIdOf(client.sessionToken);
    await ageSession(id, 25 * MINUTE);
    expect((await write(client)).status).toBe(200);
    expect(Date.now() - ((await authorityLastActivity(id)) ?? 0)).toBeLessThan(5000);
    await ageSession(id, 25 * MINUTE);
    expect((await client.get("/api/v1/users/me")).status).toBe(200);
  });

  it("ends a session at its absolute lifetime however active it is", async () => {
    const { client } = await signedIn({ SESSION_COOKIE_MAX_AGE: "3600" });
    await ageSession(sessionIdOf(client.sessionToken), 3601_000, ["absolute_expires_at"]);
    const response = await write(client);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: "session_expired" });
  });

  it("gives a remember-me session REMEMBER_ME_DAYS of lifetime but keeps the idle timeout (contract v1.1)", async () => {
    const client = new TestClient();
    const user = await registerUser(client);
    const response = await login(client, user, { remember_me: true });
    const maxAge = /Max-Age=(\d+)/.exec(client.lastSetCookies.find((line) => line.startsWith("session_id=")) ?? "")?.[1];
    expect(Number(maxAge)).toBe(30 * 24 * 60 * 60);
    expect(response.status).toBe(200);
    const session = (await (await client.get("/api/v1/auth/check-auth")).json()) as { session: { expires_at: string } };
    // expires_at is when it ends if left idle: SESSION_TIMEOUT_MINUTES (30) from now.
    expect(Date.parse(session.session.expires_at) - Date.now()).toBeLessThanOrEqual(30 * MINUTE);
    await ageSession(sessionIdOf(client.sessionToken), 31 * MINUTE);
    expect((await write(client)).status).toBe(401);
  });

  it("uses REMEMBER_ME_IDLE_MINUTES as a remembered session's idle timeout when it is set", async () => {
    const settings = { REMEMBER_ME_IDLE_MINUTES: "10080" };
    const client = new TestClient({ settings });
    const user = await registerUser(client);
    await login(client, user, { remember_me: true });
    await ageSession(sessionIdOf(client.sessionToken), 2 * 24 * 60 * MINUTE);
    expect((await write(client)).status).toBe(200);
    const plain = new TestClient({ settings });
    await login(plain, user);
    await ageSession(sessionIdOf(plain.sessionToken), 31 * MINUTE);
    expect((await write(plain)).status).toBe(401);
  });
});

describe("POST /api/v1/auth/logout-all", () => {
  it("with keep_current=true ends every other session and keeps this one", async () => {
    const user = await registerUser(new TestClient());
    const clients = [new TestClient(), new TestClient(), new TestClient()];
    for (const client of clients) await login(client, user);
    const [current, ...others] = clients as [TestClient, TestClient, TestClient];
    const response = await current.post("/api/v1/auth/logout-all?keep_current=true");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ revoked: 2 });
    expect((await write(current)).status).toBe(200);
    for (const other of others) expect((await write(other)).status).toBe(401);
  });

  it("by default ends every session including this one and clears its cookies", async () => {
    const user = await registerUser(new TestClient());
    const first = new TestClient();
    const second = new TestClient();
    await login(first, user);
    await login(second, user);
    const response = await first.post("/api/v1/auth/logout-all");
    expect(await response.json()).toEqual({ revoked: 2 });
    expect(first.sessionToken).toBeUndefined();
    expect((await second.get("/api/v1/users/me")).status).toBe(401);
  });

  it("refuses a keep_current that is not true or false with 422", async () => {
    const { client } = await signedIn();
    expect((await client.post("/api/v1/auth/logout-all?keep_current=maybe")).status).toBe(422);
  });
});

describe("POST /api/v1/auth/refresh-csrf", () => {
  it("rotates the token without needing the old one; the old one stops working", async () => {
    const { client } = await signedIn();
    const old = client.csrfToken;
    const response = await client.post("/api/v1/auth/refresh-csrf", { csrf: false });
    expect(response.status).toBe(200);
    const { csrf_token: fresh } = (await response.json()) as { csrf_token: string };
    expect(fresh).not.toBe(old);
    expect(client.csrfToken).toBe(fresh);
    const withOld = await client.patch("/api/v1/users/me", { json: { name: "x" }, headers: { "X-CSRF-Token": old ?? "" } });
    expect(withOld.status).toBe(403);
    expect((await write(client)).status).toBe(200);
  });

  it("refuses a foreign Origin", async () => {
    const { client } = await signedIn();
    const response = await client.post("/api/v1/auth/refresh-csrf", { headers: { Origin: "https://evil.example" } });
    expect(response.status).toBe(403);
  });

  it("needs a session", async () => {
    expect((await new TestClient().post("/api/v1/auth/refresh-csrf")).status).toBe(401);
  });
});

describe("GET and DELETE /api/v1/auth/sessions", () => {
  it("lists the user's sessions with device, ip and which one is current", async () => {
    const user = await registerUser(new TestClient());
    const desktop = new TestClient();
    const phone = new TestClient();
    phone.userAgent =
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
    await login(desktop, user);
    await login(phone, user);
    const response = await desktop.get("/api/v1/auth/sessions");
    expect(response.status).toBe(200);
    const { sessions } = (await response.json()) as { sessions: Array<Record<string, unknown>> };
    expect(sessions).toHaveLength(2);
    const current = sessions.find((session) => session.current === true);
    expect(current).toMatchObject({
      id: sessionIdOf(desktop.sessionToken),
      kind: "cookie",
      ip: desktop.ip,
      device: { browser: "Chrome", os: "macOS", type: "desktop" },
      location: { country: null, city: null },
    });
    expect(Object.keys(current ?? {}).sort()).toEqual(
      // Contract v1.1 adds the assurance (aal, amr, auth_time) and the last re-authentication; v1.2 the active organization.
      [
        "org",
        "aal",
        "amr",
        "auth_time",
        "created_at",
        "current",
        "device",
        "expires_at",
        "id",
        "ip",
        "kind",
        "last_activity",
        "location",
        "reauthenticated_at",
        "user_agent",
      ].sort(),
    );
    const other = sessions.find((session) => session.current === false);
    expect(other).toMatchObject({ device: { browser: "Safari", os: "iOS", type: "mobile" }, ip: phone.ip });
  });

  it("revokes one of the user's sessions: 204, and that session stops working", async () => {
    const user = await registerUser(new TestClient());
    const me = new TestClient();
    const lost = new TestClient();
    await login(me, user);
    await login(lost, user);
    const response = await me.delete(`/api/v1/auth/sessions/${sessionIdOf(lost.sessionToken)}`);
    expect(response.status).toBe(204);
    expect((await write(lost)).status).toBe(401);
    expect((await lost.get("/api/v1/users/me")).status).toBe(401);
    expect((await write(me)).status).toBe(200);
  });

  it("answers 404 for someone else's session, an unknown id and a malformed id", async () => {
    const { client: mallory } = await signedIn();
    const { client: victim } = await signedIn();
    const victimId = sessionIdOf(victim.sessionToken);
    expect((await mallory.delete(`/api/v1/auth/sessions/${victimId}`)).status).toBe(404);
    expect((await write(victim)).status).toBe(200);
    expect((await mallory.delete(`/api/v1/auth/sessions/${"0".repeat(48)}`)).status).toBe(404);
    const malformed = await mallory.delete("/api/v1/auth/sessions/not-a-session");
    expect(malformed.status).toBe(404);
    expect(await malformed.json()).toMatchObject({ code: "not_found" });
  });
});

describe("MAX_SESSIONS_PER_USER", () => {
  it("ends the least recently active session when a login exceeds the limit", async () => {
    const settings = { MAX_SESSIONS_PER_USER: "3" };
    const user = await registerUser(new TestClient());
    const [a, b, c, d] = [0, 1, 2, 3].map(() => new TestClient({ settings })) as [TestClient, TestClient, TestClient, TestClient];
    await login(a, user);
    await login(b, user);
    await login(c, user);
    expect((await write(a)).status).toBe(200); // a is now more recent than b
    const loginD = await d.post("/api/v1/auth/login", { json: { email: user.email, password: user.password } });
    expect(loginD.status).toBe(200); // the login itself never fails for the limit
    expect((await write(b)).status).toBe(401);
    expect((await b.get("/api/v1/users/me")).status).toBe(401);
    for (const client of [a, c, d]) expect((await write(client)).status).toBe(200);
  });

  it("holds exactly when 20 logins race: 5 sessions survive and only they work", async () => {
    const user = await registerUser(new TestClient());
    const clients = Array.from({ length: 20 }, () => new TestClient());
    const responses = await Promise.all(
      clients.map((client) => client.post("/api/v1/auth/login", { json: { email: user.email, password: user.password } })),
    );
    expect(responses.every((response) => response.status === 200)).toBe(true);

    const survivors: TestClient[] = [];
    for (const client of clients) {
      const response = await client.post("/api/v1/auth/refresh-csrf");
      if (response.status === 200) survivors.push(client);
      else expect(response.status).toBe(401);
    }
    expect(survivors).toHaveLength(5);
    const listed = (await (await survivors[0]!.get("/api/v1/auth/sessions")).json()) as { sessions: unknown[] };
    expect(listed.sessions).toHaveLength(5);
  });
});

describe("device tracking", () => {
  it("records country and city from request.cf and the IP from CF-Connecting-IP", async () => {
    const { callWorker, BASE_URL } = await import("./helpers/client");
    const user = await registerUser(new TestClient());
    const response = await callWorker(
      new Request(`${BASE_URL}/api/v1/auth/login`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "CF-Connecting-IP": "203.0.113.7" },
        body: JSON.stringify({ email: user.email, password: user.password }),
        cf: { country: "NL", city: "Amsterdam" },
      } as RequestInit),
    );
    expect(response.status).toBe(200);
    const client = new TestClient();
    for (const line of response.headers.getSetCookie()) {
      const [pair = ""] = line.split(";");
      const [name = "", value = ""] = pair.split("=");
      client.cookies.set(name, value);
    }
    const { sessions } = (await (await client.get("/api/v1/auth/sessions")).json()) as {
      sessions: Array<{ ip: string; location: unknown }>;
    };
    expect(sessions[0]).toMatchObject({ ip: "203.0.113.7", location: { country: "NL", city: "Amsterdam" } });
  });

  it("refuses session routes without a session: 401", async () => {
    const anonymous = new TestClient();
    expect((await anonymous.get("/api/v1/auth/sessions")).status).toBe(401);
    expect((await anonymous.post("/api/v1/auth/logout-all")).status).toBe(401);
    expect((await anonymous.delete(`/api/v1/auth/sessions/${"0".repeat(48)}`)).status).toBe(401);
  });
});
