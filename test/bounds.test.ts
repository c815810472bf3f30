// Bounded growth: what anonymous or repeated traffic cannot fill. Random, well-formed
// credentials reach a Durable Object but leave no storage in it; a throttle object is
// emptied once its window has passed; a token family's rotation history is capped; the
// isolate memory keeps at most MAX_USERS users, least recently used out first.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { HISTORY_KEPT } from "../src/user-authority/refresh";
import { MAX_USERS, rememberSession, rememberedSession, rememberedUsers } from "../src/sessions/isolate-memory";
import type { CachedSession } from "../src/user-authority/session-policy";
import { TestClient } from "./helpers/client";
import { Faults } from "./helpers/faults";
import { registerUser, tokensFor } from "./helpers/users";

const hex = (bytes: number): string =>
  Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
/** 43 characters, the length a real secret has: anything else is refused before any storage is asked. */
const secret = (): string => "A".repeat(11) + hex(16);
const userIdOf = (id: string): string => `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20, 32)}`;

/** The tables an object's storage holds (internal ones aside); [] when it holds nothing. */
async function tablesOf(namespace: { getByName(name: string): DurableObjectStub }, name: string): Promise<string[]> {
  return runInDurableObject(namespace.getByName(name), (_instance: unknown, state: DurableObjectState) =>
    state.storage.sql
      .exec<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite_%'",
      )
      .toArray()
      .map((row) => row.name),
  );
}

describe("random well-formed credentials leave no Durable Object storage", () => {
  it("a session cookie, a refresh token and an mfa_token for a user id nobody has", async () => {
    // The wrappers fail nothing: they count, so the test knows each request reached the object.
    const faults = new Faults();
    const cookieId = hex(24);
    const client = new TestClient();
    client.bindings = faults.bindings();
    client.cookies.set("session_id", `${cookieId}.${secret()}`);
    expect((await client.get("/api/v1/users/me")).status).toBe(401);
    expect((await client.post("/api/v1/auth/logout", { csrf: false })).status).toBeGreaterThanOrEqual(401);
    expect(faults.count("USER_AUTHORITY", "authorize")).toBeGreaterThanOrEqual(1);
    expect(await tablesOf(env.USER_AUTHORITY, userIdOf(cookieId))).toEqual([]);

    const familyId = hex(24);
    const refresher = new TestClient();
    refresher.bindings = faults.bindings();
    const refreshed = await refresher.post("/api/v1/auth/refresh", { json: { refresh_token: `${familyId}.${secret()}` } });
    expect(refreshed.status).toBe(401);
    expect(faults.count("USER_AUTHORITY", "rotateRefreshToken")).toBe(1);
    expect(await tablesOf(env.USER_AUTHORITY, userIdOf(familyId))).toEqual([]);

    const pendingId = hex(24);
    const verifier = new TestClient();
    verifier.bindings = faults.bindings();
    const verified = await verifier.post("/api/v1/auth/mfa/verify", {
      json: { mfa_token: `${pendingId}.${secret()}`, method: "totp", code: "123456" },
    });
    expect(verified.status).toBe(401);
    expect(faults.count("USER_AUTHORITY", "completeSignIn")).toBe(1);
    expect(await tablesOf(env.USER_AUTHORITY, userIdOf(pendingId))).toEqual([]);
  });

  it("an API key with a key id nobody has, used and verified", async () => {
    const keyId = hex(4);
    const key = `fai_${keyId}_${secret()}`;
    const faults = new Faults();
    const client = new TestClient();
    client.bindings = faults.bindings();
    expect((await client.get("/api/v1/users/me", { headers: { "X-API-Key": key } })).status).toBe(401);
    const verify = await client.post("/api/v1/api-keys/verify", { json: { api_key: key } });
    expect(((await verify.json()) as { valid: boolean }).valid).toBe(false);
    expect(faults.count("API_KEYS", "use")).toBe(2);
    expect(await tablesOf(env.API_KEYS, keyId)).toEqual([]);
  });

  it("the real objects still have their storage (the check can tell)", async () => {
    const user = await registerUser(new TestClient());
    await tokensFor(user);
    expect(await tablesOf(env.USER_AUTHORITY, user.id)).toContain("sessions");
  });
});

describe("throttle objects are emptied after their window", () => {
  it("a failed login's counters are gone, storage and all, when the alarm runs", async () => {
    const ip = "10.250.1.7";
    const client = new TestClient({ ip });
    const user = await registerUser(new TestClient());
    expect((await client.post("/api/v1/auth/login", { json: { email: user.email, password: "wrong-password-123" } })).status).toBe(401);
    const name = `ip:${ip}`;
    expect(await tablesOf(env.LOGIN_THROTTLE, name)).toContain("attempts");
    expect(await runDurableObjectAlarm(env.LOGIN_THROTTLE.getByName(name))).toBe(true);
    expect(await tablesOf(env.LOGIN_THROTTLE, name)).toEqual([]);
    // And the object works again afterwards.
    expect((await client.post("/api/v1/auth/login", { json: { email: user.email, password: user.password } })).status).toBe(200);
  });
});

describe("a token family's rotation history is capped", () => {
  it(`keeps at most ${HISTORY_KEPT} + a few rotated-out hashes; the family keeps working`, async () => {
    let { refresh_token: token } = await tokensFor(await registerUser(new TestClient()));
    const familyId = token.split(".")[0]!;
    const first = token;
    const client = new TestClient();
    for (let i = 0; i < HISTORY_KEPT + 40; i++) {
      const answer = await client.post("/api/v1/auth/refresh", { json: { refresh_token: token } });
      expect(answer.status).toBe(200);
      token = ((await answer.json()) as { refresh_token: string }).refresh_token;
    }
    const count = await runInDurableObject(
      env.USER_AUTHORITY.getByName(userIdOf(familyId)),
      (_instance, state) =>
        state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM refresh_history WHERE family_id = ?", familyId).one().n,
    );
    expect(count).toBeGreaterThanOrEqual(HISTORY_KEPT);
    expect(count).toBeLessThanOrEqual(128);
    // The oldest token is no longer in the history: refused as unknown, and the family lives on.
    expect((await client.post("/api/v1/auth/refresh", { json: { refresh_token: first } })).status).toBe(401);
    expect((await client.post("/api/v1/auth/refresh", { json: { refresh_token: token } })).status).toBe(200);
  });
});

describe("the isolate memory is capped", () => {
  it(`holds at most ${MAX_USERS} users, and a recently used one survives`, () => {
    const session = (userId: string): CachedSession =>
      ({ id: `${userId}-s`, userId, secretHash: "x", lastActivity: Date.now() }) as unknown as CachedSession;
    const keep = crypto.randomUUID();
    rememberSession(session(keep));
    for (let i = 0; i < MAX_USERS + 500; i++) {
      rememberSession(session(`bounds-${i}`));
      if (i % 1000 === 0) expect(rememberedSession(keep, `${keep}-s`)).not.toBeNull(); // used: moves to the back
    }
    expect(rememberedUsers()).toBeLessThanOrEqual(MAX_USERS);
    expect(rememberedSession(keep, `${keep}-s`)).not.toBeNull();
    expect(rememberedSession("bounds-0", "bounds-0-s")).toBeNull();
  });
});

describe("the scheduled purges", () => {
  it("every 5 minutes: OAuth logins started and never finished, and app codes never redeemed, once expired", async () => {
    const { runScheduled } = await import("../src/scheduled");
    const past = new Date(Date.now() - 60_000).toISOString();
    const future = new Date(Date.now() + 600_000).toISOString();
    const insertState = (hash: string, expires: string) =>
      env.DB.prepare(
        "INSERT INTO oauth_states (state_hash, provider, binding_hash, code_verifier, nonce, redirect_to, mode, created_at, expires_at) VALUES (?, 'testidp', 'b', 'v', 'n', '/', 'json', ?, ?)",
      )
        .bind(hash, past, expires)
        .run();
    await insertState("purge-old", past);
    await insertState("purge-live", future);
    await env.DB.prepare(
      "INSERT INTO oauth_codes (code_hash, user_id, redirect_uri, code_challenge, created_at, expires_at) VALUES (?, 'u', 'r', 'c', ?, ?)",
    )
      .bind("purge-code", past, past)
      .run();
    const done = await runScheduled(env, "*/5 * * * *");
    expect(done.oauth_states).toBeGreaterThanOrEqual(1);
    expect(done.oauth_codes).toBeGreaterThanOrEqual(1);
    const left = await env.DB.prepare("SELECT state_hash FROM oauth_states WHERE state_hash LIKE 'purge-%'").all<{ state_hash: string }>();
    expect(left.results.map((row) => row.state_hash)).toEqual(["purge-live"]);
    expect(await env.DB.prepare("SELECT 1 FROM oauth_codes WHERE code_hash = 'purge-code'").first()).toBeNull();
  });

  it("daily: API-key usage past the longest report (365 days), and not the usage inside it", async () => {
    const { runScheduled, DAILY_CRON } = await import("../src/scheduled");
    const old = new Date(Date.now() - 400 * 86_400_000).toISOString().slice(0, 13);
    const recent = new Date(Date.now() - 300 * 86_400_000).toISOString().slice(0, 13);
    for (const hour of [old, recent]) {
      await env.DB.prepare(
        "INSERT INTO api_key_usage (key_id, hour, endpoint, method, status, count) VALUES ('purgekey', ?, '/x', 'GET', 200, 1)",
      )
        .bind(hour)
        .run();
    }
    expect((await runScheduled(env, DAILY_CRON)).key_usage).toBeGreaterThanOrEqual(1);
    const left = await env.DB.prepare("SELECT hour FROM api_key_usage WHERE key_id = 'purgekey'").all<{ hour: string }>();
    expect(left.results.map((row) => row.hour)).toEqual([recent]);
  });
});
