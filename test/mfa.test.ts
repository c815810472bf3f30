// TOTP, recovery codes, the MFA gate on password sign-ins, assurance levels, fresh
// routes and re-authentication, against the real local D1, KV and Durable Objects.
import { describe, expect, it } from "vitest";
import { decodeJwt } from "jose";
import { env } from "cloudflare:workers";
import { BASE_URL, TestClient } from "./helpers/client";
import { codeAt, enrollTotp, forgetUsedSteps, mfaTokenFor, stableStep } from "./helpers/mfa";
import { outbox } from "./helpers/mail";
import { ageSession, sessionIdOf } from "./helpers/sessions";
import { type TokenPair, login, registerUser } from "./helpers/users";

const MINUTE = 60_000;

async function signedInWithTotp(settings: Record<string, string> = {}) {
  const client = new TestClient({ settings });
  const user = await registerUser(client);
  await login(client, user);
  const enrolled = await enrollTotp(client, user.id);
  return { client, user, ...enrolled };
}

async function verify(token: string, body: Record<string, unknown>, settings: Record<string, string> = {}): Promise<Response> {
  return new TestClient({ settings }).post("/api/v1/auth/mfa/verify", { json: { mfa_token: token, ...body } });
}

describe("TOTP enrollment", () => {
  it("gives a base32 secret and an otpauth URI, activates on the first code, returns 10 recovery codes once, and makes the session aal 2", async () => {
    const client = new TestClient();
    const user = await registerUser(client);
    await login(client, user);
    const before = (await (await client.get("/api/v1/auth/check-auth")).json()) as { session: { aal: number; amr: string[] } };
    expect(before.session).toMatchObject({ aal: 1, amr: ["pwd"] });

    const started = await client.post("/api/v1/auth/mfa/totp", { json: {} });
    expect(started.status).toBe(201);
    const pending = (await started.json()) as { factor_id: string; secret: string; otpauth_uri: string };
    expect(pending.secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(pending.otpauth_uri);
    expect(uri.protocol).toBe("otpauth:");
    expect(uri.searchParams.get("secret")).toBe(pending.secret);
    expect(uri.searchParams.get("period")).toBe("30");
    // Pending: not listed, and no gate yet.
    expect(((await (await client.get("/api/v1/auth/mfa")).json()) as { factors: unknown[] }).factors).toEqual([]);

    const wrong = await client.post(`/api/v1/auth/mfa/totp/${pending.factor_id}/confirm`, { json: { code: "000000" } });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ code: "invalid_mfa_code" });

    await stableStep();
    const confirmed = await client.post(`/api/v1/auth/mfa/totp/${pending.factor_id}/confirm`, {
      json: { code: await codeAt(pending.secret) },
    });
    expect(confirmed.status).toBe(200);
    const body = (await confirmed.json()) as { factor: { id: string; type: string }; recovery_codes: string[] };
    expect(body.factor).toMatchObject({ id: pending.factor_id, type: "totp" });
    expect(body.recovery_codes).toHaveLength(10);
    expect(new Set(body.recovery_codes).size).toBe(10);
    for (const code of body.recovery_codes) expect(code).toMatch(/^[a-z2-7]{6}(-[a-z2-7]{6}){3}$/);

    const after = (await (await client.get("/api/v1/auth/check-auth")).json()) as { session: { aal: number; amr: string[] } };
    expect(after.session).toMatchObject({ aal: 2, amr: ["pwd", "otp"] });
    const list = (await (await client.get("/api/v1/auth/mfa")).json()) as {
      factors: Array<{ id: string }>;
      recovery_codes_remaining: number;
    };
    expect(list.factors.map((factor) => factor.id)).toEqual([pending.factor_id]);
    expect(list.recovery_codes_remaining).toBe(10);
    expect((await outbox(user.email)).some((message) => message.subject.includes("second factor was added"))).toBe(true);
    const events = (await (await client.get("/api/v1/auth/events")).json()) as { items: Array<{ type: string }> };
    expect(events.items.map((event) => event.type)).toContain("mfa_enabled");

    // A second factor shows no new recovery codes (the first set stands).
    await forgetUsedSteps(user.id);
    const second = (await (await client.post("/api/v1/auth/mfa/totp", { json: { name: "Tablet" } })).json()) as {
      factor_id: string;
      secret: string;
    };
    await stableStep();
    const secondConfirmed = await client.post(`/api/v1/auth/mfa/totp/${second.factor_id}/confirm`, {
      json: { code: await codeAt(second.secret) },
    });
    expect(secondConfirmed.status).toBe(200);
    expect(await secondConfirmed.json()).not.toHaveProperty("recovery_codes");
  });

  it("stores the secret sealed, never in the clear", async () => {
    const { user, secret } = await signedInWithTotp();
    const { runInDurableObject } = await import("cloudflare:test");
    const { env } = await import("cloudflare:workers");
    const boxes = await runInDurableObject(env.USER_AUTHORITY.getByName(user.id), (_instance, state) =>
      state.storage.sql.exec<{ secret_box: string }>("SELECT secret_box FROM factors").toArray(),
    );
    expect(boxes).toHaveLength(1);
    expect(boxes[0]!.secret_box).toMatch(/^v1\.sk\./);
    expect(boxes[0]!.secret_box).not.toContain(secret);
  });
});

describe("The MFA gate on password sign-ins", () => {
  it("answers a password login with mfa_required and no session, then the login answer after the code", async () => {
    const { user, secret } = await signedInWithTotp();
    const client = new TestClient();
    const response = await client.post("/api/v1/auth/login", { json: { email: user.email, password: user.password } });
    expect(response.status).toBe(401);
    const body = (await response.json()) as { code: string; mfa_token: string; methods: string[] };
    expect(body.code).toBe("mfa_required");
    expect(body.methods).toEqual(["totp", "recovery_code"]);
    expect(client.sessionToken).toBeUndefined();
    expect(client.lastSetCookies).toEqual([]);

    await stableStep();
    const verified = await client.post("/api/v1/auth/mfa/verify", {
      json: { mfa_token: body.mfa_token, method: "totp", code: await codeAt(secret) },
    });
    expect(verified.status).toBe(200);
    const answer = (await verified.json()) as { user: { id: string }; csrf_token: string };
    expect(answer.user.id).toBe(user.id);
    expect(answer.csrf_token).toBe(client.csrfToken);
    expect(client.sessionToken).toBeDefined();
    const check = (await (await client.get("/api/v1/auth/check-auth")).json()) as { session: { aal: number; amr: string[] } };
    expect(check.session).toMatchObject({ aal: 2, amr: ["pwd", "otp"] });
    const sessions = (await (await client.get("/api/v1/auth/sessions")).json()) as { sessions: Array<{ current: boolean; aal: number }> };
    expect(sessions.sessions.find((session) => session.current)?.aal).toBe(2);
    // The mfa_token is single use once verified.
    await forgetUsedSteps(user.id);
    const again = await verify(body.mfa_token, { method: "totp", code: await codeAt(secret, 1) });
    expect(again.status).toBe(401);
    expect(await again.json()).toMatchObject({ code: "invalid_token" });
  });

  it("answers the password grant of /auth/token with mfa_required, then a token pair whose claims carry aal 2", async () => {
    const { user, secret } = await signedInWithTotp();
    const response = await new TestClient().post("/api/v1/auth/token", { json: { email: user.email, password: user.password } });
    expect(response.status).toBe(401);
    const body = (await response.json()) as { code: string; mfa_token: string };
    expect(body).not.toHaveProperty("access_token");
    expect(body.code).toBe("mfa_required");
    await stableStep();
    const verified = await verify(body.mfa_token, { method: "totp", code: await codeAt(secret) });
    expect(verified.status).toBe(200);
    const pair = (await verified.json()) as TokenPair;
    const claims = decodeJwt(pair.access_token);
    expect(claims).toMatchObject({ aal: 2, amr: ["pwd", "otp"] });
    expect(typeof claims.auth_time).toBe("number");
    // A refreshed access token keeps the family's assurance.
    const refreshed = (await (
      await new TestClient().post("/api/v1/auth/refresh", { json: { refresh_token: pair.refresh_token } })
    ).json()) as TokenPair;
    expect(decodeJwt(refreshed.access_token)).toMatchObject({ aal: 2, amr: ["pwd", "otp"], auth_time: claims.auth_time });
    // Introspection names the assurance, and can require aal 2.
    const introspected = await new TestClient().post("/api/v1/auth/introspect", {
      json: { token: refreshed.access_token, require_aal: 2 },
    });
    expect(await introspected.json()).toMatchObject({ active: true, principal: "token", aal: 2, amr: ["pwd", "otp"] });
  });

  it("accepts one step of clock skew either way and refuses two", async () => {
    const { user, secret } = await signedInWithTotp({ LOGIN_MAX_ATTEMPTS: "50" });
    const settings = { LOGIN_MAX_ATTEMPTS: "50" };
    for (const [offset, status] of [
      [-2, 401],
      [2, 401],
      [-1, 200],
      [1, 200],
    ] as const) {
      await forgetUsedSteps(user.id);
      const token = await mfaTokenFor(new TestClient({ settings }), user);
      await stableStep();
      const response = await verify(token, { method: "totp", code: await codeAt(secret, offset) }, settings);
      expect(response.status, `offset ${offset}`).toBe(status);
    }
  });

  it("never takes the same time step twice for a user: of 20 concurrent verifications with one code, exactly one signs in", async () => {
    const settings = { LOGIN_MAX_ATTEMPTS: "100" };
    const { user, secret } = await signedInWithTotp(settings);
    const tokens = await Promise.all(Array.from({ length: 20 }, () => mfaTokenFor(new TestClient({ settings }), user)));
    await stableStep();
    const code = await codeAt(secret);
    const responses = await Promise.all(tokens.map((token) => verify(token, { method: "totp", code }, settings)));
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 401)).toHaveLength(19);
    // The step just used stays used: a fresh sign-in with the same code is refused.
    const late = await verify(await mfaTokenFor(new TestClient({ settings }), user), { method: "totp", code }, settings);
    expect(late.status).toBe(401);
    expect(await late.json()).toMatchObject({ code: "invalid_mfa_code" });
  });

  it("tells the holder of a right code whose step is spent to wait for the next one, and a wrong code nothing", async () => {
    const settings = { LOGIN_MAX_ATTEMPTS: "50" };
    const { user, secret } = await signedInWithTotp(settings);
    await stableStep();
    const code = await codeAt(secret);
    expect((await verify(await mfaTokenFor(new TestClient({ settings }), user), { method: "totp", code }, settings)).status).toBe(200);

    const reused = await verify(await mfaTokenFor(new TestClient({ settings }), user), { method: "totp", code }, settings);
    expect(reused.status).toBe(401);
    expect(await reused.json()).toMatchObject({ code: "invalid_mfa_code", detail: expect.stringMatching(/wait for the next/) });
    const wrong = await verify(
      await mfaTokenFor(new TestClient({ settings }), user),
      { method: "totp", code: await codeAt(secret, 5) },
      settings,
    );
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ code: "invalid_mfa_code", detail: "The code or passkey was not accepted" });
  });

  it("throttles wrong second factors per user exactly under concurrency, then refuses even the right code with 429", async () => {
    const settings = { LOGIN_MAX_ATTEMPTS: "3" };
    const { user, secret } = await signedInWithTotp(settings);
    const tokens = await Promise.all(Array.from({ length: 10 }, () => mfaTokenFor(new TestClient({ settings }), user)));
    const responses = await Promise.all(tokens.map((token) => verify(token, { method: "totp", code: "123456" }, settings)));
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429, 429, 429, 429, 429]);
    for (const response of responses.filter((item) => item.status === 429))
      expect(Number(response.headers.get("Retry-After"))).toBeGreaterThan(0);
    await stableStep();
    const right = await verify(tokens[0]!, { method: "totp", code: await codeAt(secret) }, settings);
    expect(right.status).toBe(429);
    expect(await right.json()).toMatchObject({ code: "too_many_attempts" });
  });

  it("kills an mfa_token after 5 wrong codes, counted exactly under concurrency", async () => {
    const settings = { LOGIN_MAX_ATTEMPTS: "100" };
    const { user, secret } = await signedInWithTotp(settings);
    const token = await mfaTokenFor(new TestClient({ settings }), user);
    const wrong = await Promise.all(Array.from({ length: 8 }, () => verify(token, { method: "totp", code: "654321" }, settings)));
    const codes = await Promise.all(wrong.map(async (response) => ((await response.json()) as { code: string }).code));
    expect(codes.filter((code) => code === "invalid_mfa_code")).toHaveLength(5);
    expect(codes.filter((code) => code === "invalid_token")).toHaveLength(3);
    await stableStep();
    const right = await verify(token, { method: "totp", code: await codeAt(secret) }, settings);
    expect(await right.json()).toMatchObject({ code: "invalid_token" });
  });

  it("lets an mfa_token expire after 5 minutes", async () => {
    const { user, secret } = await signedInWithTotp();
    const token = await mfaTokenFor(new TestClient(), user);
    const { runInDurableObject } = await import("cloudflare:test");
    const { env } = await import("cloudflare:workers");
    await runInDurableObject(env.USER_AUTHORITY.getByName(user.id), (_instance, state) => {
      state.storage.sql.exec("UPDATE mfa_pending SET expires_at = expires_at - ?", 5 * MINUTE);
    });
    await stableStep();
    const response = await verify(token, { method: "totp", code: await codeAt(secret) });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: "invalid_token" });
  });

  it("refuses malformed and made-up mfa tokens and bodies with the contract's errors", async () => {
    expect((await verify("garbage", { method: "totp", code: "123456" })).status).toBe(401);
    const madeUp = `${"a".repeat(48)}.${"B".repeat(43)}`;
    expect(await (await verify(madeUp, { method: "totp", code: "123456" })).json()).toMatchObject({ code: "invalid_token" });
    expect((await verify(madeUp, { method: "sms", code: "123456" })).status).toBe(422);
    expect((await new TestClient().post("/api/v1/auth/mfa/verify", { json: { method: "totp", code: "1" } })).status).toBe(401);
  });
});

describe("Recovery codes", () => {
  it("work once each (case and dashes aside), are counted down, and are mailed and recorded when used", async () => {
    const { user, recoveryCodes } = await signedInWithTotp();
    const code = recoveryCodes[3]!;
    const client = new TestClient();
    const used = await client.post("/api/v1/auth/mfa/verify", {
      json: { mfa_token: await mfaTokenFor(new TestClient(), user), method: "recovery_code", code: code.toUpperCase().replace(/-/g, " ") },
    });
    expect(used.status).toBe(200);
    const check = (await (await client.get("/api/v1/auth/check-auth")).json()) as { session: { aal: number; amr: string[] } };
    expect(check.session).toMatchObject({ aal: 2, amr: ["pwd", "recovery"] });
    expect(((await (await client.get("/api/v1/auth/mfa")).json()) as { recovery_codes_remaining: number }).recovery_codes_remaining).toBe(
      9,
    );
    const again = await verify(await mfaTokenFor(new TestClient(), user), { method: "recovery_code", code });
    expect(again.status).toBe(401);
    expect(await again.json()).toMatchObject({ code: "invalid_mfa_code" });
    expect((await outbox(user.email)).some((message) => message.subject === "A recovery code was used")).toBe(true);
    const events = (await (await client.get("/api/v1/auth/events")).json()) as { items: Array<{ type: string }> };
    expect(events.items.map((event) => event.type)).toContain("recovery_code_used");
  });

  it("of 10 concurrent uses of one code, exactly one signs in", async () => {
    const settings = { LOGIN_MAX_ATTEMPTS: "100" };
    const { user, recoveryCodes } = await signedInWithTotp(settings);
    const tokens = await Promise.all(Array.from({ length: 10 }, () => mfaTokenFor(new TestClient({ settings }), user)));
    const responses = await Promise.all(
      tokens.map((token) => verify(token, { method: "recovery_code", code: recoveryCodes[0]! }, settings)),
    );
    expect(responses.filter((response) => response.status === 200)).toHaveLength(1);
  });

  it("are replaced by a new set (fresh, aal 2): the old ones stop working", async () => {
    const { client, user, recoveryCodes } = await signedInWithTotp();
    const response = await client.post("/api/v1/auth/mfa/recovery-codes");
    expect(response.status).toBe(200);
    const { recovery_codes: fresh } = (await response.json()) as { recovery_codes: string[] };
    expect(fresh).toHaveLength(10);
    expect(fresh).not.toContain(recoveryCodes[0]);
    expect((await verify(await mfaTokenFor(new TestClient(), user), { method: "recovery_code", code: recoveryCodes[0]! })).status).toBe(
      401,
    );
    expect((await verify(await mfaTokenFor(new TestClient(), user), { method: "recovery_code", code: fresh[0]! })).status).toBe(200);
    const events = (await (await client.get("/api/v1/auth/events")).json()) as { items: Array<{ type: string }> };
    expect(events.items.map((event) => event.type)).toContain("recovery_codes_regenerated");
  });

  it("are stored as hashes only", async () => {
    const { user, recoveryCodes } = await signedInWithTotp();
    const { runInDurableObject } = await import("cloudflare:test");
    const { env } = await import("cloudflare:workers");
    const stored = await runInDurableObject(env.USER_AUTHORITY.getByName(user.id), (_instance, state) =>
      state.storage.sql
        .exec<{ code_hash: string }>("SELECT code_hash FROM recovery_codes")
        .toArray()
        .map((row) => row.code_hash),
    );
    expect(stored).toHaveLength(10);
    for (const code of recoveryCodes) expect(stored.join(" ")).not.toContain(code);
  });
});

describe("Fresh routes and re-authentication", () => {
  it("refuses a stale session with reauthentication_required and its methods, until it re-authenticates", async () => {
    const client = new TestClient();
    const user = await registerUser(client);
    await login(client, user);
    await ageSession(sessionIdOf(client.sessionToken), 11 * MINUTE, ["created_at"]);
    for (const [path, json] of [
      ["/api/v1/auth/mfa/totp", {}],
      ["/api/v1/api-keys", { name: "ci", permissions: { user_profile: ["read"] } }],
      ["/api/v1/auth/mfa/webauthn/registration", undefined],
      ["/api/v1/auth/oauth/testidp/link", undefined],
    ] as const) {
      const refused = await client.post(path, json === undefined ? {} : { json });
      expect(refused.status, path).toBe(403);
      expect(await refused.json()).toMatchObject({ code: "reauthentication_required", methods: ["password"] });
    }
    const wrong = await client.post("/api/v1/auth/reauthenticate", { json: { password: "not the password" } });
    expect(wrong.status).toBe(401);
    const reauth = await client.post("/api/v1/auth/reauthenticate", { json: { password: user.password } });
    expect(reauth.status).toBe(200);
    const body = (await reauth.json()) as { reauthenticated_at: string; aal: number };
    expect(body.aal).toBe(1);
    expect(Date.now() - Date.parse(body.reauthenticated_at)).toBeLessThan(MINUTE);
    expect((await client.post("/api/v1/auth/mfa/totp", { json: {} })).status).toBe(201);
    const check = (await (await client.get("/api/v1/auth/check-auth")).json()) as { session: { reauthenticated_at: string | null } };
    expect(check.session.reauthenticated_at).toBe(body.reauthenticated_at);
  });

  it("a bearer token's family re-authenticates too (writes see it at once)", async () => {
    const client = new TestClient();
    const user = await registerUser(client);
    const pair = (await (
      await client.post("/api/v1/auth/token", { json: { email: user.email, password: user.password } })
    ).json()) as TokenPair;
    await ageSession(sessionIdOf(pair.refresh_token), 11 * MINUTE, ["created_at"]);
    const bearer = { headers: { Authorization: `Bearer ${pair.access_token}` } };
    expect((await new TestClient().post("/api/v1/auth/mfa/totp", { ...bearer, json: {} })).status).toBe(403);
    expect((await new TestClient().post("/api/v1/auth/reauthenticate", { ...bearer, json: { password: user.password } })).status).toBe(200);
    expect((await new TestClient().post("/api/v1/auth/mfa/totp", { ...bearer, json: {} })).status).toBe(201);
  });

  it("removing a factor needs aal 2; removing the last one ends every other session", async () => {
    const first = new TestClient();
    const user = await registerUser(first);
    await login(first, user);
    const second = new TestClient();
    await login(second, user); // signed in before the factor existed: aal 1
    const { factorId, secret } = await enrollTotp(first, user.id);

    const refused = await second.delete(`/api/v1/auth/mfa/${factorId}`);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: "reauthentication_required", methods: ["totp", "recovery_code"] });
    await stableStep();
    const reauth = await second.post("/api/v1/auth/reauthenticate", { json: { method: "totp", code: await codeAt(secret) } });
    expect(reauth.status).toBe(200);
    expect(await reauth.json()).toMatchObject({ aal: 2 });
    expect((await second.delete(`/api/v1/auth/mfa/does-not-exist`)).status).toBe(404);
    expect((await second.delete(`/api/v1/auth/mfa/${factorId}`)).status).toBe(204);

    expect(await (await first.get("/api/v1/auth/check-auth")).json()).toEqual({ authenticated: false });
    expect(await (await second.get("/api/v1/auth/check-auth")).json()).toMatchObject({ authenticated: true });
    const list = (await (await second.get("/api/v1/auth/mfa")).json()) as { factors: unknown[]; recovery_codes_remaining: number };
    expect(list).toEqual({ factors: [], recovery_codes_remaining: 0 });
    // No factor, no gate.
    await login(new TestClient(), user);
    const events = (await (await second.get("/api/v1/auth/events")).json()) as { items: Array<{ type: string }> };
    expect(events.items.map((event) => event.type)).toContain("mfa_disabled");
    expect((await outbox(user.email)).some((message) => message.subject.includes("second factor was removed"))).toBe(true);
  });

  it("re-authentication with a wrong code counts against the per-user limit", async () => {
    const settings = { LOGIN_MAX_ATTEMPTS: "2" };
    const { client } = await signedInWithTotp(settings);
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await client.post("/api/v1/auth/reauthenticate", { json: { method: "totp", code: "111111" } })).status);
    expect(statuses).toEqual([401, 401, 429]);
  });
});

describe("Assurance through RPC", () => {
  const consumer = (env as unknown as { CONSUMER: Fetcher }).CONSUMER;
  async function rpc(op: string, ...args: unknown[]): Promise<Record<string, unknown>> {
    const response = await consumer.fetch("http://consumer/", { method: "POST", body: JSON.stringify({ op, args }) });
    expect(response.status).toBe(200);
    return (await response.json()) as Record<string, unknown>;
  }

  it("names aal and amr, and refuses aal 1 when aal 2 is required (RPC and introspection)", async () => {
    const client = new TestClient();
    const user = await registerUser(client);
    await login(client, user);
    const headers = { Cookie: `session_id=${client.sessionToken}` };
    const url = `${BASE_URL}/api/v1/users/me`;
    expect(await rpc("authenticate", "GET", url, headers)).toMatchObject({ authenticated: true, aal: 1, amr: ["pwd"] });
    // As the HTTP routes that need aal 2 answer: this user has no second factor to offer yet.
    expect(await rpc("authenticate", "GET", url, headers, { requireAal: 2 })).toEqual({
      authenticated: false,
      code: "reauthentication_required",
      status: 403,
      detail: "This needs a sign-in with a second factor: re-authenticate with one",
      methods: [],
    });
    const introspected = await client.post("/api/v1/auth/introspect", { json: { token: client.sessionToken, require_aal: 2 } });
    expect(await introspected.json()).toEqual({ active: false, reason: "aal_required" });

    await enrollTotp(client, user.id);
    expect(await rpc("authenticate", "GET", url, headers, { requireAal: 2 })).toMatchObject({
      authenticated: true,
      aal: 2,
      amr: ["pwd", "otp"],
    });
    const pair = (await (
      await new TestClient().post("/api/v1/auth/token", { json: { email: user.email, password: user.password } })
    ).json()) as {
      mfa_token: string;
    };
    expect(pair.mfa_token).toBeDefined();
  });

  it("verifyAccessToken reports the family's assurance and honours requireAal", async () => {
    const user = await registerUser(new TestClient());
    const pair = (await (
      await new TestClient().post("/api/v1/auth/token", { json: { email: user.email, password: user.password } })
    ).json()) as TokenPair;
    expect(await rpc("verifyAccessToken", pair.access_token)).toMatchObject({ valid: true, aal: 1, amr: ["pwd"] });
    expect(await rpc("verifyAccessToken", pair.access_token, { requireAal: 2 })).toEqual({ valid: false, code: "forbidden" });
  });
});
