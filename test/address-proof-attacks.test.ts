// The attacks an independent review tried against proving an address, each kept as a
// test: a password sign-in in the window of a provider's claim, a failure midway through
// one, "this wasn't me" on a link its owner no longer needs, a provider's word against a
// second factor, an admin's change of address, and an API key on the confirmation.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { makeAdmin } from "./helpers/admin";
import { BASE_URL, TestClient, callWorker } from "./helpers/client";
import { Faults } from "./helpers/faults";
import { d1Holding, hold, namespaceHolding, withBindings } from "./helpers/holds";
import { linkToken, outbox } from "./helpers/mail";
import { enrollTotp } from "./helpers/mfa";
import { OAuthBrowser } from "./helpers/oauth-browser";
import { type TestUser, login, registerUser, strongPassword, uniqueEmail } from "./helpers/users";

/** Every verification token mailed to `to`, newest first. */
async function verifyTokens(to: string): Promise<string[]> {
  const tokens: string[] = [];
  for (const message of await outbox(to)) {
    const match = /\/verify-email\?token=([A-Za-z0-9_-]+)/.exec(message.body);
    if (match?.[1] !== undefined) tokens.push(match[1]);
  }
  return tokens;
}

async function createKey(client: TestClient): Promise<string> {
  const response = await client.post("/api/v1/api-keys", { json: { name: "k", permissions: { "*": ["*"] } } });
  expect(response.status).toBe(201);
  return ((await response.json()) as { api_key: string }).api_key;
}

async function keyWorks(key: string): Promise<boolean> {
  const response = await new TestClient().post("/api/v1/api-keys/verify", { json: { api_key: key } });
  return ((await response.json()) as { valid: boolean }).valid;
}

async function resetPassword(email: string): Promise<string> {
  const password = strongPassword();
  expect((await new TestClient().post("/api/v1/auth/password-reset/request", { json: { email } })).status).toBe(202);
  const token = await linkToken(email, "/reset-password");
  expect((await new TestClient().post("/api/v1/auth/password-reset/confirm", { json: { token, new_password: password } })).status).toBe(
    200,
  );
  return password;
}

async function passwordLogin(email: string, password: string): Promise<Response> {
  return new TestClient().post("/api/v1/auth/login", { json: { email, password } });
}

/** Someone registers `email` and signs in; the address's owner clicks the verification link without a session. */
async function squatVerifiedByClick(email: string): Promise<{ squatter: TestClient; user: TestUser }> {
  const squatter = new TestClient();
  const user = await registerUser(squatter, { email });
  await login(squatter, user);
  expect((await squatter.post("/api/v1/auth/verify-email/request")).status).toBe(202);
  const token = await linkToken(email, "/verify-email");
  expect((await new TestClient().post("/api/v1/auth/verify-email/confirm", { json: { token } })).status).toBe(200);
  return { squatter, user };
}

describe("a provider's claim of an account whose holder never proved the address", () => {
  it("opens no password session in its window and leaves no key made in it", async () => {
    const address = `oidc-${crypto.randomUUID()}@example.com`;
    const { user } = await squatVerifiedByClick(address);
    // The claim has removed the password; the authority has not decided the proof yet.
    const gate = hold();
    const owner = new OAuthBrowser();
    owner.bindings = withBindings({ USER_AUTHORITY: namespaceHolding(env.USER_AUTHORITY, "proveAddress", gate) });
    const claiming = owner.loginWith("/api/v1/auth/oauth/testidp?mode=json", address);
    await gate.reached(1);
    expect((await passwordLogin(address, user.password)).status).toBe(401);
    gate.release();
    const claimed = await claiming;
    expect(claimed.status).toBe(200);
    expect(await claimed.json()).toMatchObject({ user: { id: user.id } });
  });

  it("fails closed when D1 fails midway, and the owner's reset then ends what the squatter made meanwhile", async () => {
    const address = `oidc-${crypto.randomUUID()}@example.com`;
    const { user } = await squatVerifiedByClick(address);
    const failing = new OAuthBrowser();
    failing.bindings = new Faults().fail("DB", { sql: /update "users" set "password_hash"/i, times: 1 }).bindings();
    expect((await failing.loginWith("/api/v1/auth/oauth/testidp?mode=json", address)).status).toBe(503);

    // Nothing was claimed: the squatter still signs in, and adds a key and a factor.
    const squatter = new TestClient();
    const back = await squatter.post("/api/v1/auth/login", { json: { email: address, password: user.password } });
    expect(back.status).toBe(200);
    const key = await createKey(squatter);
    await enrollTotp(squatter, user.id);
    // A provider's word never removes a factor: the owner's retry meets the gate...
    const retried = await new OAuthBrowser().loginWith("/api/v1/auth/oauth/testidp?mode=json", address);
    expect(await retried.json()).toMatchObject({ code: "mfa_required" });
    // ...and the owner's reset (the account is still unproven) ends the squatter's key and factor.
    const password = await resetPassword(address);
    expect(await keyWorks(key)).toBe(false);
    expect((await passwordLogin(address, password)).status).toBe(200);
  });

  it("does not remove a legitimate holder's second factor (the gate applies, the factor stays)", async () => {
    const address = `oidc-${crypto.randomUUID()}@example.com`;
    const { squatter: holder, user } = await squatVerifiedByClick(address);
    await enrollTotp(holder, user.id);
    const signedIn = await new OAuthBrowser().loginWith("/api/v1/auth/oauth/testidp?mode=json", address);
    expect(signedIn.status).toBe(401);
    expect(await signedIn.json()).toMatchObject({ code: "mfa_required" });
    const factors = (await (await holder.get("/api/v1/auth/mfa")).json()) as { factors: unknown[] };
    expect(factors.factors).toHaveLength(1);
  });

  it("does not remove a factor added while the claim was under way: the authority refuses, the gate applies", async () => {
    const address = `oidc-${crypto.randomUUID()}@example.com`;
    const { squatter, user } = await squatVerifiedByClick(address);
    // The claim saw no factor; before it clears the password, one is added.
    const gate = hold();
    const owner = new OAuthBrowser();
    owner.bindings = withBindings({ DB: d1Holding(/update "users" set "password_hash"/i, gate) });
    const claiming = owner.loginWith("/api/v1/auth/oauth/testidp?mode=json", address);
    await gate.reached(1);
    await enrollTotp(squatter, user.id);
    gate.release();
    expect(await (await claiming).json()).toMatchObject({ code: "mfa_required" });
    const factors = await env.USER_AUTHORITY.getByName(user.id).listFactors();
    expect(factors.factors).toHaveLength(1);
  });

  it("changes nothing on a disabled account", async () => {
    const admin = await makeAdmin();
    const address = `oidc-${crypto.randomUUID()}@example.com`;
    const { user } = await squatVerifiedByClick(address);
    expect((await admin.client.patch(`/api/v1/admin/users/${user.id}`, { json: { disabled: true } })).status).toBe(200);
    const refused = await new OAuthBrowser().loginWith("/api/v1/auth/oauth/testidp?mode=json", address);
    expect(await refused.json()).toMatchObject({ code: "account_disabled" });
    const row = await env.DB.prepare("SELECT password_hash FROM users WHERE id = ?")
      .bind(user.id)
      .first<{ password_hash: string | null }>();
    expect(row?.password_hash).not.toBeNull();
  });
});

describe("binding the account after a click", () => {
  it("mails a new link to a holder whose address a click verified, and confirming it signed in binds and promotes", async () => {
    const address = uniqueEmail();
    const { squatter: holder } = await squatVerifiedByClick(address);
    const before = (await verifyTokens(address)).length;
    expect((await holder.post("/api/v1/auth/verify-email/request")).status).toBe(202);
    const tokens = await verifyTokens(address);
    expect(tokens.length).toBe(before + 1);
    const listed = new TestClient({ settings: { ADMIN_EMAILS: address } });
    for (const [name, value] of holder.cookies) listed.cookies.set(name, value);
    const confirmed = await listed.post("/api/v1/auth/verify-email/confirm", { json: { token: tokens[0] } });
    expect(await confirmed.json()).toMatchObject({ is_superuser: true });
  });
});

describe('"this wasn\'t me" on an account whose holder proved the address', () => {
  it("answers an older link of the holder 401 (links retire once one is used), and the factor stays", async () => {
    const client = new TestClient();
    const user = await registerUser(client);
    await login(client, user);
    expect((await client.post("/api/v1/auth/verify-email/request")).status).toBe(202);
    expect((await client.post("/api/v1/auth/verify-email/request")).status).toBe(202);
    const [newer, older] = await verifyTokens(user.email);
    expect((await client.post("/api/v1/auth/verify-email/confirm", { json: { token: newer } })).status).toBe(200);
    await enrollTotp(client, user.id);
    expect((await new TestClient().post("/api/v1/auth/verify-email/disown", { json: { token: older } })).status).toBe(401);
    expect((await client.get("/api/v1/auth/mfa")).status).toBe(200);
  });

  it("answers the squatter's old mail 401 once the owner reset, so the owner is never locked out", async () => {
    const squatter = new TestClient();
    const squatted = await registerUser(squatter);
    await login(squatter, squatted);
    expect((await squatter.post("/api/v1/auth/verify-email/request")).status).toBe(202);
    const squattersMail = await linkToken(squatted.email, "/verify-email");
    const password = await resetPassword(squatted.email);
    expect((await new TestClient().post("/api/v1/auth/verify-email/disown", { json: { token: squattersMail } })).status).toBe(401);
    expect((await passwordLogin(squatted.email, password)).status).toBe(200);
  });

  it("a lock from a disowned link ends with an admin's enable too", async () => {
    const admin = await makeAdmin();
    const client = new TestClient();
    const user = await registerUser(client);
    await login(client, user);
    await client.post("/api/v1/auth/verify-email/request");
    const token = await linkToken(user.email, "/verify-email");
    expect((await new TestClient().post("/api/v1/auth/verify-email/disown", { json: { token } })).status).toBe(200);
    expect((await passwordLogin(user.email, user.password)).status).toBe(403);
    expect((await admin.client.patch(`/api/v1/admin/users/${user.id}`, { json: { disabled: false } })).status).toBe(200);
    expect((await passwordLogin(user.email, user.password)).status).toBe(200);
  });
});

describe("an admin's change of address", () => {
  it("leaves the new address unproven: not promoted by ADMIN_EMAILS at the next sign-in", async () => {
    const admin = await makeAdmin();
    const client = new TestClient();
    const user = await registerUser(client);
    await login(client, user);
    await client.post("/api/v1/auth/verify-email/request");
    expect(
      (await client.post("/api/v1/auth/verify-email/confirm", { json: { token: await linkToken(user.email, "/verify-email") } })).status,
    ).toBe(200);
    const listed = uniqueEmail();
    const changed = await admin.client.patch(`/api/v1/admin/users/${user.id}`, { json: { email: listed } });
    expect(await changed.json()).toMatchObject({ email_verified: false });
    const signedIn = await new TestClient({ settings: { ADMIN_EMAILS: listed } }).post("/api/v1/auth/login", {
      json: { email: listed, password: user.password },
    });
    expect(await signedIn.json()).toMatchObject({ user: { is_superuser: false } });
  });
});

it("takes a verification confirmed with an X-API-Key header as not signed in (200), not refused", async () => {
  const client = new TestClient();
  const user = await registerUser(client);
  await login(client, user);
  const key = await createKey(client);
  expect((await client.post("/api/v1/auth/verify-email/request")).status).toBe(202);
  const token = await linkToken(user.email, "/verify-email");
  const request = new Request(`${BASE_URL}/api/v1/auth/verify-email/confirm`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-API-Key": key, "CF-Connecting-IP": "10.9.9.9" },
    body: JSON.stringify({ token }),
  });
  expect((await callWorker(request)).status).toBe(200);
});
