// A grant belongs to the user: listed in connected apps, and ended with every token of it
// when the user revokes it, logs out everywhere, changes the password, is disabled or
// deleted, or when an admin disables the client.
import { describe, expect, it, vi } from "vitest";
import { makeAdmin } from "../helpers/admin";
import { TestClient } from "../helpers/client";
import { linkToken } from "../helpers/mail";
import { login, strongPassword } from "../helpers/users";
import {
  ISSUER,
  OAUTH_SETTINGS,
  type TokenJson,
  authorizeInBrowser,
  discover,
  postForm,
  redeemCode,
  refreshWith,
  registerDcrClient,
  registerVerifiedClient,
  userInfoStatus,
} from "../helpers/oauth-server";

let resourceServer: Promise<string> | undefined;

/** The Authorization header of a resource server an admin registered for introspection (RFC 7662). */
function introspector(): Promise<string> {
  resourceServer ??= (async () => {
    const admin = await makeAdmin(OAUTH_SETTINGS);
    const created = await admin.client.post("/api/v1/admin/oauth-clients", {
      // The service's own API: the resource of a grant given none.
      json: {
        name: "Resource server",
        type: "confidential",
        grant_types: ["client_credentials"],
        introspection: true,
        resources: [ISSUER],
      },
    });
    expect(created.status).toBe(201);
    const { client_id: id, client_secret: secret } = (await created.json()) as { client_id: string; client_secret: string };
    return `Basic ${btoa(`${id}:${secret}`)}`;
  })();
  return resourceServer;
}

async function introspected(token: string): Promise<Record<string, unknown>> {
  const response = await postForm("/oauth2/introspect", { token }, { headers: { Authorization: await introspector() } });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

async function connected(settings = OAUTH_SETTINGS) {
  const registered = await registerDcrClient(await discover(settings), {}, settings);
  const authorized = await authorizeInBrowser(registered, { settings });
  const tokens = (await (await redeemCode(registered, authorized)).json()) as TokenJson;
  expect(await userInfoStatus(tokens.access_token)).toBe(200);
  expect(await introspected(tokens.access_token)).toMatchObject({
    active: true,
    sub: authorized.user.id,
    client_id: registered.client.client_id,
    token_type: "Bearer",
  });
  return { registered, authorized, tokens };
}

/** A silent authorization (prompt=none) by this browser: the code it gets, or null (consent_required and the like). */
async function silentCode(browser: TestClient, grant: Awaited<ReturnType<typeof connected>>): Promise<string | null> {
  const query = new URLSearchParams({
    client_id: grant.registered.client.client_id,
    redirect_uri: grant.registered.redirectUri,
    response_type: "code",
    scope: "openid email profile offline_access",
    code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    code_challenge_method: "S256",
    prompt: "none",
  });
  const location = (await browser.get(`/oauth2/authorize?${query}`)).headers.get("Location");
  return location === null ? null : new URL(location, "http://unused.invalid").searchParams.get("code");
}

/** Signed in again (with `password`), the user is asked before the app gets a code: the consent ended with the grant. */
async function expectConsentForgotten(grant: Awaited<ReturnType<typeof connected>>, password: string): Promise<void> {
  const again = new TestClient({ settings: grant.authorized.browser.settings });
  await login(again, { ...grant.authorized.user, password });
  expect(await silentCode(again, grant)).toBeNull();
}

/** The access token is refused, and so is the refresh token (400 invalid_grant; 401 invalid_client once the client is disabled). */
async function expectEnded(grant: Awaited<ReturnType<typeof connected>>, refreshError = "invalid_grant"): Promise<void> {
  expect(await userInfoStatus(grant.tokens.access_token)).toBe(401);
  expect(await introspected(grant.tokens.access_token)).toEqual({ active: false });
  const refreshed = await refreshWith(grant.registered, grant.tokens.refresh_token as string);
  expect(await refreshed.json()).toMatchObject({ error: refreshError });
}

describe("a grant's life", () => {
  it("is listed in connected apps (not in sessions) and ends at once when the user revokes it", async () => {
    const grant = await connected();
    const { browser } = grant.authorized;
    type Item = { grant_id: string; client_id: string; scopes: string[]; created_at: string; last_used_at: string };
    const listed = async () => ((await (await browser.get("/api/v1/users/me/connected-apps")).json()) as { items: Item[] }).items;
    const items = await listed();
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      client_id: grant.registered.client.client_id,
      scopes: ["openid", "email", "profile", "offline_access"],
    });
    // Its last use is its last refresh.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const refreshed = (await (await refreshWith(grant.registered, grant.tokens.refresh_token as string)).json()) as TokenJson;
    grant.tokens = refreshed;
    const [after] = await listed();
    expect(Date.parse(after?.last_used_at ?? "")).toBeGreaterThan(Date.parse(items[0]?.last_used_at ?? ""));
    expect(after?.created_at).toBe(items[0]?.created_at);
    const { sessions } = (await (await browser.get("/api/v1/auth/sessions")).json()) as { sessions: unknown[] };
    expect(sessions).toHaveLength(1);
    expect((await browser.delete(`/api/v1/users/me/connected-apps/${items[0]?.grant_id}`)).status).toBe(204);
    await expectEnded(grant);
    expect(((await (await browser.get("/api/v1/users/me/connected-apps")).json()) as { items: unknown[] }).items).toHaveLength(0);
  });

  it("forgets the app's consent when the user revokes it: a silent prompt=none cannot bring the grant back", async () => {
    const registered = await registerVerifiedClient();
    const authorized = await authorizeInBrowser(registered, { scope: "openid" });
    expect((await redeemCode(registered, authorized)).status).toBe(200);
    const { browser } = authorized;
    const query = (prompt: string) =>
      `/oauth2/authorize?${new URLSearchParams({ client_id: registered.client.client_id, redirect_uri: registered.redirectUri, response_type: "code", scope: "openid", code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", code_challenge_method: "S256", prompt })}`;
    expect(new URL((await browser.get(query("none"))).headers.get("Location") as string).searchParams.has("code")).toBe(true);
    const { items } = (await (await browser.get("/api/v1/users/me/connected-apps")).json()) as { items: Array<{ grant_id: string }> };
    expect(items).toHaveLength(1);
    for (const item of items) expect((await browser.delete(`/api/v1/users/me/connected-apps/${item.grant_id}`)).status).toBe(204);
    const silent = await browser.get(query("none"));
    expect(new URL(silent.headers.get("Location") as string).searchParams.get("error")).toBe("consent_required");
  });

  it("ends, with the consent behind it, when the address's owner proves it: nothing consented before the proof outlives it", async () => {
    // Someone registers with another person's address (unproven) and consents to an app.
    const registered = await registerVerifiedClient();
    const authorized = await authorizeInBrowser(registered, { scope: "openid" });
    const tokens = (await (await redeemCode(registered, authorized)).json()) as TokenJson;
    // The address's owner resets the password from the mail: that proves the address.
    const { email } = authorized.user;
    expect((await new TestClient().post("/api/v1/auth/password-reset/request", { json: { email } })).status).toBe(202);
    const token = await linkToken(email, "/reset-password");
    const password = strongPassword();
    expect((await new TestClient().post("/api/v1/auth/password-reset/confirm", { json: { token, new_password: password } })).status).toBe(
      200,
    );
    expect(await userInfoStatus(tokens.access_token)).toBe(401);
    // Signed in, the owner is asked before the app gets anything: the consent went with the proof.
    const owner = new TestClient({ settings: OAUTH_SETTINGS });
    await login(owner, { ...authorized.user, password });
    const query = new URLSearchParams({
      client_id: registered.client.client_id,
      redirect_uri: registered.redirectUri,
      response_type: "code",
      scope: "openid",
      code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
      code_challenge_method: "S256",
      prompt: "none",
    });
    const silent = await owner.get(`/oauth2/authorize?${query}`);
    expect(new URL(silent.headers.get("Location") as string).searchParams.get("error")).toBe("consent_required");
  });

  it("ends with logout-all, with the consent behind it", async () => {
    const grant = await connected();
    // Until then the consent is remembered: a silent authorization gets a code.
    expect(await silentCode(grant.authorized.browser, grant)).not.toBeNull();
    expect((await grant.authorized.browser.post("/api/v1/auth/logout-all")).status).toBe(200);
    await expectEnded(grant);
    await expectConsentForgotten(grant, grant.authorized.user.password);
  });

  it("ends with a password change, with the consent behind it", async () => {
    const grant = await connected();
    const { browser, user } = grant.authorized;
    const password = strongPassword();
    const changed = await browser.post("/api/v1/users/me/password", { json: { current_password: user.password, new_password: password } });
    expect(changed.status).toBe(200);
    await expectEnded(grant);
    await expectConsentForgotten(grant, password);
  });

  it("ends with the account's deletion", async () => {
    const grant = await connected();
    const { browser, user } = grant.authorized;
    expect((await browser.delete("/api/v1/users/me", { json: { password: user.password } })).status).toBe(204);
    await expectEnded(grant);
  });

  it("ends when an admin disables the user, and when an admin disables the client", async () => {
    const admin = await makeAdmin(OAUTH_SETTINGS);
    const settings = admin.client.settings;
    const grant = await connected(settings);
    // The admin's view of the user lists the grant.
    const listed = await admin.client.get(`/api/v1/admin/users/${grant.authorized.user.id}/connected-apps`);
    expect(((await listed.json()) as { items: Array<{ client_id: string }> }).items.map((item) => item.client_id)).toEqual([
      grant.registered.client.client_id,
    ]);
    // An admin ends one of the user's apps: it ends at once, and the event names the admin.
    const ended = await connected(settings);
    const [app] = (
      (await (await admin.client.get(`/api/v1/admin/users/${ended.authorized.user.id}/connected-apps`)).json()) as {
        items: Array<{ grant_id: string }>;
      }
    ).items;
    expect((await admin.client.delete(`/api/v1/admin/users/${ended.authorized.user.id}/connected-apps/${app?.grant_id}`)).status).toBe(204);
    await expectEnded(ended);
    await vi.waitFor(
      async () => {
        const events = (await (await admin.client.get(`/api/v1/admin/events?user_id=${ended.authorized.user.id}`)).json()) as {
          items: Array<{ type: string; actor_id: string | null; detail: Record<string, unknown> }>;
        };
        expect(events.items.find((event) => event.type === "oauth_grant_revoked")).toMatchObject({
          actor_id: admin.user.id,
          detail: { grant_id: app?.grant_id, by: "admin" },
        });
      },
      { timeout: 5_000, interval: 100 },
    );
    const disabled = await admin.client.patch(`/api/v1/admin/users/${grant.authorized.user.id}`, { json: { disabled: true } });
    expect(disabled.status).toBe(200);
    await expectEnded(grant);
    // Enabled again, the user's apps must ask again: the consent ended with the disable.
    const enabled = await admin.client.patch(`/api/v1/admin/users/${grant.authorized.user.id}`, { json: { disabled: false } });
    expect(enabled.status).toBe(200);
    await expectConsentForgotten(grant, grant.authorized.user.password);

    const other = await connected(settings);
    const before = await admin.client.get(`/api/v1/admin/oauth-clients/${other.registered.client.client_id}`);
    expect(((await before.json()) as { authorizations: unknown[] }).authorizations).toHaveLength(1);
    const off = await admin.client.patch(`/api/v1/admin/oauth-clients/${other.registered.client.client_id}`, { json: { disabled: true } });
    expect(off.status).toBe(200);
    await expectEnded(other, "invalid_client");
  });

  it("refuses a code of a client an admin just disabled, and forgets the consent given to it though no grant was made", async () => {
    const admin = await makeAdmin(OAUTH_SETTINGS);
    const settings = admin.client.settings;
    const registered = await registerDcrClient(await discover(settings), {}, settings);
    const authorized = await authorizeInBrowser(registered, { settings });
    const clientPath = `/api/v1/admin/oauth-clients/${registered.client.client_id}`;
    // The consent's record reaches D1 after the answer (the authority's outbox).
    await vi.waitFor(
      async () =>
        expect(((await (await admin.client.get(clientPath)).json()) as { authorizations: unknown[] }).authorizations).toHaveLength(1),
      {
        timeout: 5_000,
        interval: 100,
      },
    );
    expect((await admin.client.patch(clientPath, { json: { disabled: true } })).status).toBe(200);
    // At once, though this isolate read the client a moment ago.
    const redeemed = await redeemCode(registered, authorized);
    expect(redeemed.status).toBe(401);
    expect(((await redeemed.json()) as { error: string }).error).toBe("invalid_client");
    // Enabled again, the app gets nothing silently: the consent went with the disable.
    expect((await admin.client.patch(clientPath, { json: { disabled: false } })).status).toBe(200);
    const connectedLike = { registered, authorized } as unknown as Awaited<ReturnType<typeof connected>>;
    expect(await silentCode(authorized.browser, connectedLike)).toBeNull();
  });
});
