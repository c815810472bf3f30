import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { BASE_URL, TestClient } from "./helpers/client";
import { OAuthBrowser, servers } from "./helpers/oauth-browser";
import { login, registerUser, strongPassword } from "./helpers/users";

const APP_REDIRECT = "edgeauth://oauth/callback";

function uniqueAddress(): string {
  return `oidc-${crypto.randomUUID()}@example.com`;
}

async function s256(verifier: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  return btoa(String.fromCharCode(...digest))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

async function me(client: TestClient): Promise<Record<string, unknown>> {
  const response = await client.get("/api/v1/users/me");
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

describe("OAuth login with a generic OpenID Connect provider (oidc-provider on loopback)", () => {
  it("runs start -> provider login and consent -> callback -> a session usable on /users/me", async () => {
    const browser = new OAuthBrowser();
    const email = uniqueAddress();
    const providerUrl = await browser.start("/api/v1/auth/oauth/testidp?redirect_to=/dashboard");
    const authorize = new URL(providerUrl);
    expect(authorize.origin).toBe(servers.OAUTH_TESTIDP_ISSUER);
    expect(authorize.searchParams.get("code_challenge_method")).toBe("S256");
    expect(authorize.searchParams.get("state")?.length).toBeGreaterThanOrEqual(43);
    expect(authorize.searchParams.get("nonce")?.length).toBeGreaterThanOrEqual(43);
    expect(authorize.searchParams.get("redirect_uri")).toBe(`${BASE_URL}/api/v1/auth/oauth/callback/testidp`);

    const callback = await browser.signInAtProvider(providerUrl, email);
    expect(callback.startsWith(`${BASE_URL}/api/v1/auth/oauth/callback/testidp?`)).toBe(true);
    const landed = await browser.get(callback.replace(BASE_URL, ""));
    expect(landed.status).toBe(302);
    expect(landed.headers.get("Location")).toBe(`${BASE_URL}/dashboard`);
    expect(browser.sessionToken).toBeDefined();
    expect(await me(browser)).toMatchObject({ email, email_verified: true, oauth_providers: ["testidp"] });
    expect((await browser.patch("/api/v1/users/me", { json: { name: "Via OIDC" } })).status).toBe(200);
  });

  it("answers the callback with JSON in mode=json, telling new users from returning ones", async () => {
    const email = uniqueAddress();
    for (const expectedNew of [true, false]) {
      const browser = new OAuthBrowser();
      const started = await browser.get("/api/v1/auth/oauth/testidp?mode=json");
      expect(started.status).toBe(200);
      const { url } = (await started.json()) as { url: string };
      const callback = await browser.signInAtProvider(url, email);
      const response = await browser.get(callback.replace(BASE_URL, ""));
      expect(response.status).toBe(200);
      const body = (await response.json()) as { user: { email: string }; csrf_token: string; is_new_user: boolean };
      expect(body.user.email).toBe(email);
      expect(body.is_new_user).toBe(expectedNew);
      expect(body.csrf_token).toBe(browser.csrfToken);
    }
  });

  it("refuses a replayed state and a tampered state", async () => {
    const browser = new OAuthBrowser();
    const callback = await browser.signInAtProvider(await browser.start("/api/v1/auth/oauth/testidp?mode=json"), uniqueAddress());
    expect((await browser.get(callback.replace(BASE_URL, ""))).status).toBe(200);
    const replay = await browser.get(callback.replace(BASE_URL, ""));
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ code: "oauth_failed" });

    const other = new OAuthBrowser();
    const fresh = new URL(await other.signInAtProvider(await other.start("/api/v1/auth/oauth/testidp?mode=json"), uniqueAddress()));
    fresh.searchParams.set("state", `${fresh.searchParams.get("state")!.slice(0, -2)}xx`);
    const tampered = await other.get(`${fresh.pathname}${fresh.search}`);
    expect(tampered.status).toBe(400);
    expect(await tampered.json()).toMatchObject({ code: "oauth_failed" });
  });

  it("refuses a callback in another browser than the one that started (state bound by cookie)", async () => {
    const victim = new OAuthBrowser();
    const callback = await victim.signInAtProvider(await victim.start("/api/v1/auth/oauth/testidp?redirect_to=/home"), uniqueAddress());
    const attacker = new OAuthBrowser();
    const response = await attacker.get(callback.replace(BASE_URL, ""));
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get("Location") ?? "");
    expect(location.pathname).toBe("/home");
    expect(location.searchParams.get("error")).toBe("oauth_failed");
    expect(location.searchParams.get("reason")).toBe("state_mismatch");
    expect(attacker.sessionToken).toBeUndefined();
  });

  it("cannot redeem a code without the PKCE verifier only the service holds", async () => {
    const browser = new OAuthBrowser();
    const callback = new URL(await browser.signInAtProvider(await browser.start("/api/v1/auth/oauth/testidp"), uniqueAddress()));
    const discovery = (await (await fetch(`${servers.OAUTH_TESTIDP_ISSUER}/.well-known/openid-configuration`)).json()) as {
      token_endpoint: string;
    };
    const stolen = await fetch(discovery.token_endpoint, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        Authorization: `Basic ${btoa("edge-auth-test:generic-test-secret")}`,
      },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: callback.searchParams.get("code") ?? "",
        redirect_uri: `${BASE_URL}/api/v1/auth/oauth/callback/testidp`,
      }).toString(),
    });
    expect(stolen.status).toBe(400);
    expect(await stolen.json()).toMatchObject({ error: "invalid_grant" });
  });

  it("refuses a foreign redirect_to at the start with 400 invalid_request", async () => {
    for (const target of [
      "https://evil.example/steal",
      "//evil.example/x",
      "javascript:alert(1)",
      "/\\evil.example",
      "https://app.example.test.evil.example/",
    ]) {
      const response = await new TestClient().get(`/api/v1/auth/oauth/testidp?redirect_to=${encodeURIComponent(target)}`);
      expect(response.status, target).toBe(400);
      expect(await response.json()).toMatchObject({ code: "invalid_request" });
    }
    for (const target of ["https://partner.example.test/after", "http://app.example.test/after"]) {
      const response = await new TestClient().get(`/api/v1/auth/oauth/testidp?redirect_to=${encodeURIComponent(target)}`);
      expect(response.status, target).toBe(302);
    }
  });

  it("answers 404 provider_not_configured for an unknown or unconfigured provider", async () => {
    const unknown = await new TestClient().get("/api/v1/auth/oauth/myspace");
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: "provider_not_configured" });
    const noCredentials = await new TestClient({ settings: { OAUTH_GITHUB_CLIENT_SECRET: "" } }).get("/api/v1/auth/oauth/github");
    expect(noCredentials.status).toBe(404);
    expect((await new TestClient().get("/api/v1/auth/oauth/callback/myspace?code=x&state=y")).status).toBe(404);
  });
});

describe("account matching and linking", () => {
  async function passwordUser(verified: boolean): Promise<{ id: string; email: string; password: string }> {
    const email = uniqueAddress();
    const password = strongPassword();
    const user = await registerUser(new TestClient(), { email, password });
    if (verified) await env.DB.prepare("UPDATE users SET email_verified = 1 WHERE id = ?").bind(user.id).run();
    return { id: user.id, email, password };
  }

  it("does not let an unverified provider email take over an existing account", async () => {
    const owner = await passwordUser(true);
    const browser = new OAuthBrowser();
    const response = await browser.loginWith("/api/v1/auth/oauth/testidp?redirect_to=/signed-in", `unverified:${owner.email}`);
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get("Location") ?? "");
    expect(location.searchParams.get("error")).toBe("account_exists");
    expect(browser.sessionToken).toBeUndefined();
    const links = await env.DB.prepare("SELECT COUNT(*) AS n FROM oauth_accounts WHERE user_id = ?").bind(owner.id).first<{ n: number }>();
    expect(links?.n).toBe(0);
  });

  it("does not link a verified provider email to an account whose own email is unverified", async () => {
    const owner = await passwordUser(false);
    const browser = new OAuthBrowser();
    const started = await browser.get("/api/v1/auth/oauth/testidp?mode=json");
    const { url } = (await started.json()) as { url: string };
    const response = await browser.get((await browser.signInAtProvider(url, owner.email)).replace(BASE_URL, ""));
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ code: "account_exists" });
  });

  it("links a verified provider email to the verified account with that email", async () => {
    const owner = await passwordUser(true);
    const browser = new OAuthBrowser();
    await browser.loginWith("/api/v1/auth/oauth/testidp", owner.email);
    expect(await me(browser)).toMatchObject({ id: owner.id, oauth_providers: ["testidp"] });
    const events = (await (await browser.get("/api/v1/auth/events")).json()) as { items: Array<{ type: string }> };
    expect(events.items.map((item) => item.type)).toContain("oauth_linked");
  });

  it("lets a signed-in user link another provider by POST, shown in the user object", async () => {
    const owner = await passwordUser(false);
    const browser = new OAuthBrowser();
    await login(browser, { ...owner, username: "" });
    const started = await browser.post("/api/v1/auth/oauth/testidp/link?redirect_to=/settings");
    expect(started.status).toBe(200);
    const { url } = (await started.json()) as { url: string };
    const callback = await browser.signInAtProvider(url, `unverified:${uniqueAddress()}`);
    const response = await browser.get(callback.replace(BASE_URL, ""));
    expect(response.headers.get("Location")).toBe(`${BASE_URL}/settings`);
    expect(await me(browser)).toMatchObject({ id: owner.id, oauth_providers: ["testidp"] });
    expect((await new TestClient().post("/api/v1/auth/oauth/testidp/link")).status).toBe(401);
    // Linking by GET (contract v1.0) is gone: it cannot turn a cookie into a provider identity.
    expect((await browser.get("/api/v1/auth/oauth/testidp?link=true")).status).toBe(400);
  });
});

describe("mobile OAuth: a one-time code exchanged for tokens", () => {
  async function mobileLogin(verifier: string, email: string): Promise<URL> {
    const browser = new OAuthBrowser();
    const challenge = await s256(verifier);
    const providerUrl = await browser.start(
      `/api/v1/auth/oauth/testidp?client=mobile&redirect_uri=${encodeURIComponent(APP_REDIRECT)}&code_challenge=${challenge}&code_challenge_method=S256&app_state=abc123`,
    );
    const callback = await browser.signInAtProvider(providerUrl, email);
    const response = await browser.get(callback.replace(BASE_URL, ""));
    expect(response.status).toBe(302);
    expect(browser.sessionToken).toBeUndefined();
    return new URL(response.headers.get("Location") ?? "");
  }

  function exchange(body: Record<string, string>): Promise<Response> {
    return new TestClient().post("/api/v1/auth/token", { json: { grant_type: "authorization_code", ...body } });
  }

  it("redirects to the app with a code only, which the app exchanges once with its verifier", async () => {
    const verifier = `v-${crypto.randomUUID()}-${crypto.randomUUID()}`;
    const email = uniqueAddress();
    const back = await mobileLogin(verifier, email);
    expect(`${back.protocol}//${back.host}${back.pathname}`).toBe(APP_REDIRECT);
    expect([...back.searchParams.keys()].sort()).toEqual(["code", "state"]);
    expect(back.searchParams.get("state")).toBe("abc123");
    const code = back.searchParams.get("code") ?? "";

    const wrongVerifier = await exchange({ code, code_verifier: `x${verifier.slice(1)}`, redirect_uri: APP_REDIRECT });
    expect(wrongVerifier.status).toBe(400);
    expect(await wrongVerifier.json()).toMatchObject({ code: "invalid_grant" });

    const back2 = await mobileLogin(verifier, email);
    const code2 = back2.searchParams.get("code") ?? "";
    const tokens = await exchange({ code: code2, code_verifier: verifier, redirect_uri: APP_REDIRECT });
    expect(tokens.status).toBe(200);
    const pair = (await tokens.json()) as { access_token: string; refresh_token: string };
    const profile = await new TestClient().get("/api/v1/users/me", { headers: { Authorization: `Bearer ${pair.access_token}` } });
    expect(await profile.json()).toMatchObject({ email, oauth_providers: ["testidp"] });

    const reused = await exchange({ code: code2, code_verifier: verifier, redirect_uri: APP_REDIRECT });
    expect(reused.status).toBe(400);
    expect(await reused.json()).toMatchObject({ code: "invalid_grant" });
  });

  it("refuses an exchange without the verifier, or with another redirect_uri", async () => {
    const verifier = `v-${crypto.randomUUID()}-${crypto.randomUUID()}`;
    const back = await mobileLogin(verifier, uniqueAddress());
    const code = back.searchParams.get("code") ?? "";
    expect((await exchange({ code, redirect_uri: APP_REDIRECT })).status).toBe(422);
    const otherUri = await exchange({ code, code_verifier: verifier, redirect_uri: "edgeauth://elsewhere" });
    expect(otherUri.status).toBe(400);
    expect((await exchange({ code: "garbage", code_verifier: verifier, redirect_uri: APP_REDIRECT })).status).toBe(400);
  });

  it("refuses a mobile start with an unlisted redirect_uri or without code_challenge", async () => {
    const challenge = await s256("x".repeat(43));
    const unlisted = await new TestClient().get(
      `/api/v1/auth/oauth/testidp?client=mobile&redirect_uri=${encodeURIComponent("evilapp://steal")}&code_challenge=${challenge}`,
    );
    expect(unlisted.status).toBe(400);
    const noChallenge = await new TestClient().get(
      `/api/v1/auth/oauth/testidp?client=mobile&redirect_uri=${encodeURIComponent(APP_REDIRECT)}`,
    );
    expect(noChallenge.status).toBe(400);
  });
});

describe("Google (OpenID Connect, ID token checked) against a loopback issuer", () => {
  it("signs in with a verified Google account", async () => {
    const browser = new OAuthBrowser();
    const email = uniqueAddress();
    const providerUrl = await browser.start("/api/v1/auth/oauth/google");
    expect(new URL(providerUrl).origin).toBe(servers.OAUTH_GOOGLE_ISSUER);
    expect(new URL(providerUrl).searchParams.get("scope")).toBe("openid email profile");
    const response = await browser.get((await browser.signInAtProvider(providerUrl, email)).replace(BASE_URL, ""));
    expect(response.status).toBe(302);
    expect(await me(browser)).toMatchObject({ email, email_verified: true, oauth_providers: ["google"] });
  });

  it("fails the login when the provider does not accept our client credentials", async () => {
    const browser = new OAuthBrowser();
    const callback = await browser.signInAtProvider(await browser.start("/api/v1/auth/oauth/google?mode=json"), uniqueAddress());
    const impostor = new OAuthBrowser({ settings: { OAUTH_GOOGLE_CLIENT_SECRET: "not-the-secret" } });
    for (const [name, value] of browser.cookies) impostor.cookies.set(name, value);
    const response = await impostor.get(callback.replace(BASE_URL, ""));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "oauth_failed", reason: "invalid_client" });
  });
});

describe("ID token verification against a misbehaving issuer", () => {
  async function rogueLogin(scenario: string): Promise<Response> {
    const browser = new OAuthBrowser();
    const providerUrl = await browser.start("/api/v1/auth/oauth/rogue?mode=json");
    const state = new URL(providerUrl).searchParams.get("state");
    await fetch(`${servers.OAUTH_ROGUE_ISSUER}/__scenario`, { method: "POST", body: JSON.stringify({ state, scenario }) });
    return browser.get((await browser.signInAtProvider(providerUrl, "unused")).replace(BASE_URL, ""));
  }

  it("accepts a correct ID token (the control case)", async () => {
    expect((await rogueLogin("valid")).status).toBe(200);
  });

  it.each([
    ["wrong_aud", "invalid_id_token"],
    ["wrong_iss", "invalid_id_token"],
    ["expired", "invalid_id_token"],
    ["bad_signature", "invalid_id_token"],
    ["bad_nonce", "nonce_mismatch"],
  ])("refuses an ID token with %s", async (scenario, reason) => {
    const response = await rogueLogin(scenario);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "oauth_failed", reason });
  });
});

describe("GitHub (user from /user, email from /user/emails) against a loopback server", () => {
  async function githubLogin(user: object, emails: object[]): Promise<{ browser: OAuthBrowser; response: Response }> {
    const browser = new OAuthBrowser();
    const providerUrl = await browser.start("/api/v1/auth/oauth/github?mode=json");
    const state = new URL(providerUrl).searchParams.get("state");
    await fetch(`${servers.OAUTH_GITHUB_URL}/__users`, { method: "POST", body: JSON.stringify({ state, user, emails }) });
    const callback = await browser.signInAtProvider(providerUrl, "unused");
    return { browser, response: await browser.get(callback.replace(BASE_URL, "")) };
  }

  it("uses the primary verified email and GitHub's numeric id", async () => {
    const id = Math.floor(Math.random() * 1e9);
    const email = uniqueAddress();
    const { browser, response } = await githubLogin({ id, login: "octocat", name: "The Octocat", email: null }, [
      { email: uniqueAddress(), primary: false, verified: true, visibility: null },
      { email, primary: true, verified: true, visibility: "private" },
    ]);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ is_new_user: true, user: { email, email_verified: true, name: "The Octocat" } });
    expect(await me(browser)).toMatchObject({ oauth_providers: ["github"] });
    const row = await env.DB.prepare("SELECT provider_user_id FROM oauth_accounts WHERE provider = 'github' AND email = ?")
      .bind(email)
      .first<{ provider_user_id: string }>();
    expect(row?.provider_user_id).toBe(String(id));
  });

  it("refuses an account whose primary email is not verified", async () => {
    const { response } = await githubLogin({ id: Math.floor(Math.random() * 1e9), login: "ghost", name: null, email: null }, [
      { email: uniqueAddress(), primary: true, verified: false, visibility: null },
      { email: uniqueAddress(), primary: false, verified: true, visibility: null },
    ]);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "oauth_failed", reason: "no_email" });
  });
});
