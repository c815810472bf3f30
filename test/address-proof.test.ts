// Account pre-hijacking ("Pre-hijacked accounts", USENIX Security 2022) and what proving
// an address does: someone registers another person's address, enrolls a passkey, links
// a provider identity and makes a key; the address's owner resets the password and must
// then hold the only way in. A verification link clicked without being signed in never
// promotes or binds; "this wasn't me" locks the account. Races run with the hold helpers.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SoftwareAuthenticator } from "./helpers/authenticator";
import { BASE_URL, TestClient } from "./helpers/client";
import { d1Holding, hold, namespaceHolding, withBindings } from "./helpers/holds";
import { linkToken } from "./helpers/mail";
import { enrollTotp } from "./helpers/mfa";
import { OAuthBrowser } from "./helpers/oauth-browser";
import { type TestUser, login, registerUser, strongPassword, uniqueEmail } from "./helpers/users";

type Options = { challenge: string; rp: { id?: string }; user: { id: string } };

/** Enrolls a passkey for the signed-in client. */
async function enrollPasskey(client: TestClient, authenticator: SoftwareAuthenticator): Promise<Response> {
  const options = (await (await client.post("/api/v1/auth/mfa/webauthn/registration")).json()) as Options;
  return client.post("/api/v1/auth/mfa/webauthn/registration/verify", {
    json: { response: await authenticator.register(options, BASE_URL), name: "Squatter's key" },
  });
}

async function passwordlessStatus(authenticator: SoftwareAuthenticator): Promise<number> {
  const options = (await (await new TestClient().post("/api/v1/auth/passkeys/options")).json()) as Options;
  const response = await new TestClient().post("/api/v1/auth/passkeys/login", {
    json: { response: await authenticator.assert(options, BASE_URL) },
  });
  return response.status;
}

async function createKey(client: TestClient): Promise<string> {
  const response = await client.post("/api/v1/api-keys", { json: { name: "squatter", permissions: { "*": ["*"] } } });
  expect(response.status).toBe(201);
  return ((await response.json()) as { api_key: string }).api_key;
}

async function keyWorks(key: string): Promise<boolean> {
  const response = await new TestClient().post("/api/v1/api-keys/verify", { json: { api_key: key } });
  return ((await response.json()) as { valid: boolean }).valid;
}

async function resetPassword(email: string, settings: Record<string, string> = {}): Promise<string> {
  const password = strongPassword();
  expect((await new TestClient({ settings }).post("/api/v1/auth/password-reset/request", { json: { email } })).status).toBe(202);
  const token = await linkToken(email, "/reset-password");
  const confirmed = await new TestClient({ settings }).post("/api/v1/auth/password-reset/confirm", {
    json: { token, new_password: password },
  });
  expect(confirmed.status).toBe(200);
  return password;
}

async function linkCount(userId: string): Promise<number> {
  return (await env.DB.prepare("SELECT COUNT(*) AS n FROM oauth_accounts WHERE user_id = ?").bind(userId).first<{ n: number }>())?.n ?? -1;
}

/** Links a testidp identity (`login` at the provider) to the signed-in browser's account. */
async function linkIdentity(browser: OAuthBrowser, login: string): Promise<Response> {
  const started = await browser.post("/api/v1/auth/oauth/testidp/link?mode=json");
  expect(started.status).toBe(200);
  const callback = await browser.signInAtProvider(((await started.json()) as { url: string }).url, login);
  return browser.get(callback.replace(BASE_URL, ""));
}

/** Someone registers `email` (unverified) and signs in. */
async function squat(email = uniqueEmail(), settings: Record<string, string> = {}): Promise<{ squatter: OAuthBrowser; user: TestUser }> {
  const squatter = new OAuthBrowser({ settings });
  const user = await registerUser(squatter, { email });
  await login(squatter, user);
  return { squatter, user };
}

describe("a password reset ends every credential made before the address was proven", () => {
  it("leaves the pre-hijacker no passkey, provider link, API key, session or admin rights (ADMIN_EMAILS)", async () => {
    const email = uniqueEmail();
    const settings = { ADMIN_EMAILS: email };
    const { squatter, user } = await squat(email, settings);
    const idpLogin = `squatter-${crypto.randomUUID()}@example.com`;
    expect((await linkIdentity(squatter, idpLogin)).status).toBe(200);
    expect(await linkCount(user.id)).toBe(1);
    const passkey = new SoftwareAuthenticator();
    expect((await enrollPasskey(squatter, passkey)).status).toBe(201);
    // The passkey made the session aal 2: a wildcard key, and no admin rights (unverified).
    const key = await createKey(squatter);
    expect(await (await squatter.get("/api/v1/users/me")).json()).toMatchObject({ is_superuser: false, email_verified: false });
    expect(await passwordlessStatus(passkey)).toBe(200);

    // The owner: the address is taken, so they reset the password.
    const owner = new TestClient({ settings });
    expect((await owner.post("/api/v1/users", { json: { email, password: strongPassword() } })).status).toBe(409);
    const password = await resetPassword(email, settings);

    expect(await passwordlessStatus(passkey)).toBe(401);
    expect(await keyWorks(key)).toBe(false);
    expect(await (await squatter.get("/api/v1/auth/check-auth")).json()).toEqual({ authenticated: false });
    expect(await linkCount(user.id)).toBe(0);
    // The squatter's identity now signs in to an account of its own, never the owner's.
    const viaProvider = await new OAuthBrowser({ settings }).loginWith("/api/v1/auth/oauth/testidp?mode=json", idpLogin);
    if (viaProvider.status === 200) expect(((await viaProvider.json()) as { user: { id: string } }).user.id).not.toBe(user.id);
    // The owner signs in with one factor (the squatter's is gone) and is the admin.
    const signedIn = await owner.post("/api/v1/auth/login", { json: { email, password } });
    expect(signedIn.status).toBe(200);
    expect(await signedIn.json()).toMatchObject({ user: { id: user.id, is_superuser: true, email_verified: true } });
    expect(await (await owner.get("/api/v1/auth/mfa")).json()).toEqual({ factors: [], recovery_codes_remaining: 0 });
    const keys = (await (await owner.get("/api/v1/api-keys")).json()) as { items: Array<{ revoked_at: string | null }> };
    expect(keys.items.every((item) => item.revoked_at !== null)).toBe(true);
    const events = (await (await owner.get("/api/v1/auth/events")).json()) as { items: Array<{ type: string; detail: unknown }> };
    expect(events.items.find((event) => event.type === "address_proven")?.detail).toMatchObject({
      by: "reset",
      factors_removed: 1,
      api_keys_revoked: 1,
    });
  });

  it("keeps the second factors of an account whose holder proved the address (a reset is not a way around MFA)", async () => {
    const client = new TestClient();
    const user = await registerUser(client);
    await login(client, user);
    await client.post("/api/v1/auth/verify-email/request");
    // Confirmed signed in: the holder proved the address.
    const confirmed = await client.post("/api/v1/auth/verify-email/confirm", {
      json: { token: await linkToken(user.email, "/verify-email") },
    });
    expect(confirmed.status).toBe(200);
    const { secret } = await enrollTotp(client, user.id);
    const password = await resetPassword(user.email);
    const stopped = await new TestClient().post("/api/v1/auth/login", { json: { email: user.email, password } });
    expect(stopped.status).toBe(401);
    expect(await stopped.json()).toMatchObject({ code: "mfa_required" });
    expect(secret.length).toBeGreaterThan(0);
  });
});

describe("a verification link clicked without being signed in", () => {
  it("shows which account it verifies, verifies it for mail, but never promotes or binds it", async () => {
    const email = uniqueEmail();
    const settings = { ADMIN_EMAILS: email };
    const squatter = new TestClient({ settings });
    const user = await registerUser(squatter, { email });
    await login(squatter, user);
    expect((await squatter.post("/api/v1/auth/verify-email/request")).status).toBe(202);
    const token = await linkToken(email, "/verify-email");

    // The owner opens the mail: the page first shows whose account this is.
    const owner = new TestClient({ settings });
    const details = await owner.post("/api/v1/auth/verify-email/details", { json: { token } });
    expect(details.status).toBe(200);
    expect(await details.json()).toMatchObject({ email, username: user.username, signed_in: false });
    const confirmed = await owner.post("/api/v1/auth/verify-email/confirm", { json: { token } });
    expect(confirmed.status).toBe(200);
    expect(await confirmed.json()).toMatchObject({ email_verified: true, is_superuser: false });

    // Verified by a click, the squatter still holds the password and adds a factor...
    await enrollTotp(squatter, user.id);
    expect(await (await squatter.get("/api/v1/users/me")).json()).toMatchObject({ is_superuser: false });
    // ...which the owner's reset ends: the click bound nothing.
    const password = await resetPassword(email, settings);
    const signedIn = await owner.post("/api/v1/auth/login", { json: { email, password } });
    expect(signedIn.status).toBe(200);
    expect(await signedIn.json()).toMatchObject({ user: { is_superuser: true } });
  });

  it("is claimed, not shared, by a provider sign-in that vouches for the address: the squatter's password, sessions and key end", async () => {
    const address = `oidc-${crypto.randomUUID()}@example.com`;
    const { squatter, user } = await squat(address);
    await squatter.post("/api/v1/auth/verify-email/request");
    await new TestClient().post("/api/v1/auth/verify-email/confirm", { json: { token: await linkToken(address, "/verify-email") } });
    // (With a second factor the provider's word would not be enough: address-proof-attacks.test.ts.)
    const key = await createKey(squatter);

    const owner = new OAuthBrowser();
    const signedIn = await owner.loginWith("/api/v1/auth/oauth/testidp?mode=json", address);
    expect(signedIn.status).toBe(200);
    expect(await signedIn.json()).toMatchObject({ user: { id: user.id, oauth_providers: ["testidp"] } });
    expect(await (await owner.get("/api/v1/auth/mfa")).json()).toEqual({ factors: [], recovery_codes_remaining: 0 });
    expect(await keyWorks(key)).toBe(false);
    expect(await (await squatter.get("/api/v1/auth/check-auth")).json()).toEqual({ authenticated: false });
    const byPassword = await new TestClient().post("/api/v1/auth/login", { json: { email: address, password: user.password } });
    expect(byPassword.status).toBe(401);
    expect(await linkCount(user.id)).toBe(1);
  });

  it("confirmed while signed in to the account proves it by its holder: promoted, nothing ends", async () => {
    const email = uniqueEmail();
    const settings = { ADMIN_EMAILS: email };
    const client = new TestClient({ settings });
    const user = await registerUser(client, { email });
    await login(client, user);
    await client.post("/api/v1/auth/verify-email/request");
    const token = await linkToken(email, "/verify-email");
    expect(await (await client.post("/api/v1/auth/verify-email/details", { json: { token } })).json()).toMatchObject({ signed_in: true });
    const confirmed = await client.post("/api/v1/auth/verify-email/confirm", { json: { token } });
    expect(await confirmed.json()).toMatchObject({ email_verified: true, is_superuser: true });
    expect(await (await client.get("/api/v1/auth/check-auth")).json()).toMatchObject({ authenticated: true });
  });
});

describe('"this wasn\'t me"', () => {
  it("locks the account and ends its credentials until the address's owner resets the password", async () => {
    const { squatter, user } = await squat();
    const key = await createKey(squatter);
    await squatter.post("/api/v1/auth/verify-email/request");
    const token = await linkToken(user.email, "/verify-email");
    const disowned = await new TestClient().post("/api/v1/auth/verify-email/disown", { json: { token } });
    expect(disowned.status).toBe(200);
    expect(await (await squatter.get("/api/v1/auth/check-auth")).json()).toEqual({ authenticated: false });
    expect(await keyWorks(key)).toBe(false);
    const locked = await new TestClient().post("/api/v1/auth/login", { json: { email: user.email, password: user.password } });
    expect(locked.status).toBe(403);
    expect(await locked.json()).toMatchObject({ code: "account_disabled" });
    // The link is used up.
    expect((await new TestClient().post("/api/v1/auth/verify-email/confirm", { json: { token } })).status).toBe(401);

    const password = await resetPassword(user.email);
    expect((await new TestClient().post("/api/v1/auth/login", { json: { email: user.email, password } })).status).toBe(200);
  });
});

describe("credentials made while the owner's reset lands", () => {
  it("keeps no API key whose creation raced the reset", async () => {
    const { squatter, user } = await squat();
    const gate = hold();
    squatter.bindings = withBindings({ API_KEYS: namespaceHolding(env.API_KEYS, "setRecord", gate) });
    const creating = squatter.post("/api/v1/api-keys", { json: { name: "late", permissions: { "*": ["*"] } } });
    await gate.reached(1);
    await resetPassword(user.email);
    gate.release();
    const answer = await creating;
    expect(answer.status).toBe(401);
    const rows = await env.DB.prepare("SELECT id FROM api_keys WHERE user_id = ? AND revoked_at IS NULL").bind(user.id).all();
    expect(rows.results).toEqual([]);
  });

  it("adds no passkey whose registration raced the reset", async () => {
    const { squatter, user } = await squat();
    const gate = hold();
    squatter.bindings = withBindings({ USER_AUTHORITY: namespaceHolding(env.USER_AUTHORITY, "addPasskey", gate) });
    const passkey = new SoftwareAuthenticator();
    const enrolling = enrollPasskey(squatter, passkey);
    await gate.reached(1);
    const password = await resetPassword(user.email);
    gate.release();
    expect((await enrolling).status).toBe(401);
    expect(await passwordlessStatus(passkey)).toBe(401);
    expect((await new TestClient().post("/api/v1/auth/login", { json: { email: user.email, password } })).status).toBe(200);
  });

  it("leaves no provider link whose callback raced the reset", async () => {
    const { squatter, user } = await squat();
    const gate = hold();
    squatter.bindings = withBindings({ DB: d1Holding(/insert into "oauth_accounts"/i, gate, "after") });
    const linking = linkIdentity(squatter, `late-${crypto.randomUUID()}@example.com`);
    await gate.reached(1);
    await resetPassword(user.email);
    gate.release();
    expect(await (await linking).json()).toMatchObject({ code: "oauth_failed", reason: "session_ended" });
    expect(await linkCount(user.id)).toBe(0);
  });

  it("opens no session through a provider link made before the proof, even when the sign-in read it after the reset", async () => {
    const { squatter, user } = await squat();
    const idpLogin = `early-${crypto.randomUUID()}@example.com`;
    expect((await linkIdentity(squatter, idpLogin)).status).toBe(200);
    // The reset has written the new password (and epoch) but its authority has not decided yet.
    const proof = hold();
    const resetting = new TestClient();
    resetting.bindings = withBindings({ USER_AUTHORITY: namespaceHolding(env.USER_AUTHORITY, "proveAddress", proof) });
    await resetting.post("/api/v1/auth/password-reset/request", { json: { email: user.email } });
    const confirming = resetting.post("/api/v1/auth/password-reset/confirm", {
      json: { token: await linkToken(user.email, "/reset-password"), new_password: strongPassword() },
    });
    await proof.reached(1);
    // Meanwhile a sign-in through the link reads the link and the new epoch, then waits to open its session.
    const opening = hold();
    const browser = new OAuthBrowser();
    browser.bindings = withBindings({ USER_AUTHORITY: namespaceHolding(env.USER_AUTHORITY, "createSession", opening) });
    const signingIn = browser.loginWith("/api/v1/auth/oauth/testidp?mode=json", idpLogin);
    await opening.reached(1);
    proof.release();
    expect((await confirming).status).toBe(200);
    opening.release();
    expect((await signingIn).status).not.toBe(200);
    expect(await (await browser.get("/api/v1/auth/check-auth")).json()).toEqual({ authenticated: false });
  });
});
