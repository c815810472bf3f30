// Assurance can only be earned: a second factor is a different factor than the first,
// aal 2 comes only from a factor the user already had, and no credential reaches
// further than the session that made it (an admin key from an aal-1 session, new
// permissions from a stale one). Each case is an escalation an attacker's review proved.
import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { makeAdmin } from "./helpers/admin";
import { SoftwareAuthenticator } from "./helpers/authenticator";
import { BASE_URL, TestClient } from "./helpers/client";
import { codeAt, enrollTotp, forgetUsedSteps, stableStep } from "./helpers/mfa";
import { ageSession, sessionIdOf } from "./helpers/sessions";
import { type TokenPair, login, registerUser, tokensFor } from "./helpers/users";

const MINUTE = 60_000;
type Options = { challenge: string; rp: { id?: string }; user: { id: string } };

async function options(client: TestClient, path: string, json?: unknown): Promise<Options> {
  const response = await client.post(path, json === undefined ? {} : { json });
  expect(response.status).toBe(200);
  return (await response.json()) as Options;
}

describe("a passkey that did not verify the user", () => {
  it("is never its own second factor: the MFA challenge offers no passkey and the same assertion is refused", async () => {
    const authenticator = new SoftwareAuthenticator({ userVerified: false });
    const owner = new TestClient();
    const user = await registerUser(owner);
    await login(owner, user);
    const registration = await options(owner, "/api/v1/auth/mfa/webauthn/registration");
    const added = await owner.post("/api/v1/auth/mfa/webauthn/registration/verify", {
      json: { response: await authenticator.register(registration, BASE_URL) },
    });
    expect(added.status).toBe(201);

    // A stolen PIN-less key: passwordless sign-in stops at the gate...
    const thief = new TestClient();
    const stopped = await thief.post("/api/v1/auth/passkeys/login", {
      json: { response: await authenticator.assert(await options(thief, "/api/v1/auth/passkeys/options"), BASE_URL) },
    });
    expect(stopped.status).toBe(401);
    const { mfa_token: mfaToken } = (await stopped.json()) as { mfa_token: string };
    // ...and the same authenticator cannot finish it.
    const challenge = await thief.post("/api/v1/auth/mfa/challenge", { json: { mfa_token: mfaToken, method: "webauthn" } });
    expect(challenge.status).toBe(422);
    const anyOptions = await options(thief, "/api/v1/auth/passkeys/options");
    const verified = await thief.post("/api/v1/auth/mfa/verify", {
      json: { mfa_token: mfaToken, method: "webauthn", response: await authenticator.assert(anyOptions, BASE_URL) },
    });
    expect(verified.status).toBe(401);
    expect(await verified.json()).toMatchObject({ code: "invalid_mfa_code" });
    expect(await (await thief.get("/api/v1/auth/check-auth")).json()).toEqual({ authenticated: false });
  });
});

describe("adding a factor", () => {
  it("from an aal-1 session of a user who has one already is refused, so it can never lift that session and remove the real one", async () => {
    const owner = new TestClient();
    const user = await registerUser(owner);
    await login(owner, user);
    const attacker = new TestClient();
    await login(attacker, user); // a session from before the owner's first factor: aal 1
    const { factorId } = await enrollTotp(owner, user.id);

    const started = await attacker.post("/api/v1/auth/mfa/totp", { json: { name: "Attacker" } });
    expect(started.status).toBe(403);
    expect(await started.json()).toMatchObject({ code: "reauthentication_required", methods: ["totp", "recovery_code"] });
    const passkey = new SoftwareAuthenticator();
    const registration = await options(attacker, "/api/v1/auth/mfa/webauthn/registration");
    const added = await attacker.post("/api/v1/auth/mfa/webauthn/registration/verify", {
      json: { response: await passkey.register(registration, BASE_URL) },
    });
    expect(added.status).toBe(403);
    expect(await (await attacker.get("/api/v1/auth/check-auth")).json()).toMatchObject({ session: { aal: 1 } });
    expect((await attacker.delete(`/api/v1/auth/mfa/${factorId}`)).status).toBe(403);
    expect((await attacker.post("/api/v1/auth/mfa/recovery-codes")).status).toBe(403);
    const factors = (await (await owner.get("/api/v1/auth/mfa")).json()) as { factors: Array<{ id: string }> };
    expect(factors.factors.map((factor) => factor.id)).toEqual([factorId]);
  });

  it("through a token family issued before enrollment is refused, and its next refresh stays aal 1", async () => {
    const owner = new TestClient();
    const user = await registerUser(owner);
    await login(owner, user);
    const pair: TokenPair = await tokensFor(user);
    await enrollTotp(owner, user.id);
    const bearer = { Authorization: `Bearer ${pair.access_token}` };
    expect((await new TestClient().post("/api/v1/auth/mfa/totp", { headers: bearer, json: {} })).status).toBe(403);
    const refreshed = await new TestClient().post("/api/v1/auth/refresh", { json: { refresh_token: pair.refresh_token } });
    expect(refreshed.status).toBe(200);
    expect(decodeJwt(((await refreshed.json()) as TokenPair).access_token)).toMatchObject({ aal: 1 });
  });

  it("lifts the session that adds the user's first factor to aal 2 (the contract's enrollment), and a later one from aal 2 is allowed", async () => {
    const client = new TestClient();
    const user = await registerUser(client);
    await login(client, user);
    await enrollTotp(client, user.id);
    expect(await (await client.get("/api/v1/auth/check-auth")).json()).toMatchObject({ session: { aal: 2 } });
    const passkey = new SoftwareAuthenticator();
    const registration = await options(client, "/api/v1/auth/mfa/webauthn/registration");
    const added = await client.post("/api/v1/auth/mfa/webauthn/registration/verify", {
      json: { response: await passkey.register(registration, BASE_URL) },
    });
    expect(added.status).toBe(201);
  });

  it("from a session whose user's factor was enrolled meanwhile: re-authenticating with that factor is what lifts it", async () => {
    const owner = new TestClient();
    const user = await registerUser(owner);
    await login(owner, user);
    const other = new TestClient();
    await login(other, user);
    const { secret } = await enrollTotp(owner, user.id);
    await forgetUsedSteps(user.id);
    await stableStep();
    const reauth = await other.post("/api/v1/auth/reauthenticate", { json: { method: "totp", code: await codeAt(secret) } });
    expect(await reauth.json()).toMatchObject({ aal: 2 });
    expect((await other.post("/api/v1/auth/mfa/totp", { json: {} })).status).toBe(201);
  });
});

describe("API keys reach no further than the session that made them", () => {
  it("grants no admin permission from a superuser's aal-1 session (ADMIN_REQUIRE_MFA)", async () => {
    const client = new TestClient();
    const user = await registerUser(client);
    await env.DB.prepare("UPDATE users SET is_superuser = 1 WHERE id = ?").bind(user.id).run();
    await login(client, user);
    const refused = await client.post("/api/v1/api-keys", { json: { name: "admin", permissions: { admin_users: ["read", "write"] } } });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: "forbidden" });
    const plain = await client.post("/api/v1/api-keys", { json: { name: "plain", permissions: { user_profile: ["read"] } } });
    expect(plain.status).toBe(201);
    const { id } = (await plain.json()) as { id: string };
    const widened = await client.patch(`/api/v1/api-keys/${id}`, { json: { permissions: { admin_users: ["read", "write"] } } });
    expect(widened.status).toBe(403);
    const rows = await env.DB.prepare("SELECT permissions FROM api_keys WHERE user_id = ?").bind(user.id).all<{ permissions: string }>();
    expect(rows.results.map((row) => row.permissions)).toEqual([JSON.stringify({ user_profile: ["read"] })]);
    // Unless the deployment says admins need no second factor.
    const relaxed = new TestClient({ settings: { ADMIN_REQUIRE_MFA: "false" } });
    await login(relaxed, user);
    expect((await relaxed.post("/api/v1/api-keys", { json: { name: "a", permissions: { admin_users: ["read"] } } })).status).toBe(201);
  });

  it("changes no key's permissions from a stale session", async () => {
    const admin = await makeAdmin();
    const created = await admin.client.post("/api/v1/api-keys", { json: { name: "k", permissions: { user_profile: ["read"] } } });
    const { id } = (await created.json()) as { id: string };
    await ageSession(sessionIdOf(admin.client.sessionToken), 11 * MINUTE, ["created_at"]);
    const widened = await admin.client.patch(`/api/v1/api-keys/${id}`, { json: { permissions: { admin_users: ["read", "write"] } } });
    expect(widened.status).toBe(403);
    expect(await widened.json()).toMatchObject({ code: "reauthentication_required" });
    // A rename is no new grant.
    expect((await admin.client.patch(`/api/v1/api-keys/${id}`, { json: { name: "renamed" } })).status).toBe(200);
  });
});
