// The authorization endpoint's and token endpoint's refusals: no open redirect, PKCE,
// exact redirect URIs (loopback ports for native apps), single-use codes, prompt and
// consent rules.
import { describe, expect, it } from "vitest";
import { BASE_URL, TestClient } from "../helpers/client";
import { login, registerUser } from "../helpers/users";
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

const MCP = "https://mcp.example.test/mcp";
const SETTINGS_MCP = { ...OAUTH_SETTINGS, OAUTH_SERVER_RESOURCES: MCP };

async function signedInBrowser(): Promise<TestClient> {
  const browser = new TestClient({ settings: OAUTH_SETTINGS });
  await login(browser, await registerUser(browser));
  return browser;
}

function authorizeUrl(clientId: string, redirectUri: string, extra: Record<string, string> = {}): string {
  const query = new URLSearchParams({
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: "code",
    code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    code_challenge_method: "S256",
    state: "s1",
    ...extra,
  });
  return `/oauth2/authorize?${query}`;
}

describe("the authorization endpoint", () => {
  it("shows an error page and redirects nowhere for an unknown client or an unregistered redirect URI", async () => {
    const browser = await signedInBrowser();
    const unknown = await browser.get(authorizeUrl("no-such-client", "https://evil.example/cb"));
    expect(unknown.status).toBe(400);
    expect(unknown.headers.get("Location")).toBeNull();
    expect(await unknown.text()).toContain("not registered");
    const registered = await registerDcrClient(await discover());
    const foreign = await browser.get(authorizeUrl(registered.client.client_id, "https://evil.example/cb"));
    expect(foreign.status).toBe(400);
    expect(foreign.headers.get("Location")).toBeNull();
    // A registered URI with another path, or a query added, is another URI.
    const other = await browser.get(authorizeUrl(registered.client.client_id, `${registered.redirectUri}?x=1`));
    expect(other.status).toBe(400);
  });

  it("accepts another port on a loopback redirect URI (RFC 8252), and nothing else", async () => {
    const registered = await registerDcrClient(await discover());
    const authorized = await authorizeInBrowser({ ...registered, redirectUri: "http://127.0.0.1:49152/callback" });
    expect(authorized.callback.origin).toBe("http://127.0.0.1:49152");
    expect(authorized.callback.searchParams.get("code")).toMatch(/\./);
    const browser = await signedInBrowser();
    const host = await browser.get(authorizeUrl(registered.client.client_id, "http://localhost:8123/callback"));
    expect(host.status).toBe(400);
  });

  it("requires PKCE with S256, answering a verified client at its redirect URI with iss (RFC 9207)", async () => {
    const registered = await registerVerifiedClient();
    const browser = await signedInBrowser();
    for (const extra of [{ code_challenge: "" }, { code_challenge_method: "plain" }] as Array<Record<string, string>>) {
      const response = await browser.get(authorizeUrl(registered.client.client_id, registered.redirectUri, extra));
      expect(response.status).toBe(302);
      const location = new URL(response.headers.get("Location") as string);
      expect(location.origin + location.pathname).toBe(registered.redirectUri);
      expect(location.searchParams.get("error")).toBe("invalid_request");
      expect(location.searchParams.get("state")).toBe("s1");
      expect(location.searchParams.get("iss")).toBe(ISSUER);
    }
  });

  it("sends a browser with no session to sign in and back, and answers prompt=none with login_required", async () => {
    const registered = await registerVerifiedClient();
    const anonymous = new TestClient({ settings: OAUTH_SETTINGS });
    const url = authorizeUrl(registered.client.client_id, registered.redirectUri);
    const response = await anonymous.get(url);
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get("Location") as string, BASE_URL);
    expect(location.origin).toBe(BASE_URL);
    expect(location.pathname).toBe("/account");
    expect(location.searchParams.get("return_to")).toBe(url);
    const silent = await anonymous.get(authorizeUrl(registered.client.client_id, registered.redirectUri, { prompt: "none" }));
    expect(new URL(silent.headers.get("Location") as string).searchParams.get("error")).toBe("login_required");
  });

  it("sends a signed-in browser to sign in again for prompt=login and max_age=0, back without them; prompt=none with max_age=0 is login_required", async () => {
    const registered = await registerVerifiedClient();
    const browser = await signedInBrowser();
    for (const extra of [{ prompt: "login" }, { max_age: "0" }] as Record<string, string>[]) {
      const response = await browser.get(authorizeUrl(registered.client.client_id, registered.redirectUri, extra));
      expect(response.status).toBe(302);
      const location = new URL(response.headers.get("Location") as string, BASE_URL);
      expect(location.pathname).toBe("/account");
      expect(location.searchParams.get("reauth")).toBe("1");
      // Back with a 60-second max_age, so the fresh sign-in passes.
      const back = new URL(location.searchParams.get("return_to") as string, BASE_URL);
      expect(back.searchParams.get("prompt")).toBeNull();
      expect(back.searchParams.get("max_age")).toBe("60");
    }
    const silent = await browser.get(authorizeUrl(registered.client.client_id, registered.redirectUri, { max_age: "0", prompt: "none" }));
    expect(new URL(silent.headers.get("Location") as string).searchParams.get("error")).toBe("login_required");
  });

  it("lets only the session that started a request answer it", async () => {
    const registered = await registerVerifiedClient();
    const first = new TestClient({ settings: OAUTH_SETTINGS });
    const user = await registerUser(first);
    await login(first, user);
    const second = new TestClient({ settings: OAUTH_SETTINGS });
    await login(second, user);
    const started = await first.get(authorizeUrl(registered.client.client_id, registered.redirectUri));
    const requestId = new URL(started.headers.get("Location") as string, BASE_URL).searchParams.get("request");
    expect(requestId).not.toBeNull();
    // The user's other session (another device, or whoever holds it) cannot answer it.
    expect((await second.post(`/api/v1/oauth2/requests/${requestId}/decision`, { json: { allow: true } })).status).toBe(404);
    const answered = await first.post(`/api/v1/oauth2/requests/${requestId}/decision`, { json: { allow: true } });
    expect(answered.status).toBe(200);
    expect(new URL(((await answered.json()) as { redirect_to: string }).redirect_to).searchParams.has("code")).toBe(true);
  });

  it("remembers consent per client, scopes and resources, and asks again for more", async () => {
    const registered = await registerVerifiedClient();
    const first = await authorizeInBrowser(registered, { scope: "openid email" });
    const browser = first.browser;
    const again = await browser.get(authorizeUrl(registered.client.client_id, registered.redirectUri, { scope: "openid" }));
    expect(new URL(again.headers.get("Location") as string).searchParams.has("code")).toBe(true);
    const more = await browser.get(authorizeUrl(registered.client.client_id, registered.redirectUri, { scope: "openid profile" }));
    expect(new URL(more.headers.get("Location") as string, BASE_URL).pathname).toBe("/oauth2/consent");
    const silent = await browser.get(
      authorizeUrl(registered.client.client_id, registered.redirectUri, { scope: "openid profile", prompt: "none" }),
    );
    expect(new URL(silent.headers.get("Location") as string).searchParams.get("error")).toBe("consent_required");
  });

  it("shows a self-registered client's errors on a page instead of redirecting (RFC 9700 §4.11.2: no open redirector)", async () => {
    const registered = await registerDcrClient(await discover());
    const browser = await signedInBrowser();
    const unsupported = await browser.get(authorizeUrl(registered.client.client_id, registered.redirectUri, { response_type: "token" }));
    expect(unsupported.status).toBe(400);
    expect(unsupported.headers.get("Location")).toBeNull();
    expect(await unsupported.text()).toContain("unsupported_response_type");
    const silent = await new TestClient({ settings: OAUTH_SETTINGS }).get(
      authorizeUrl(registered.client.client_id, registered.redirectUri, { prompt: "none" }),
    );
    expect(silent.status).toBe(400);
    expect(silent.headers.get("Location")).toBeNull();
  });

  it("sends an aal 1 session asked for acr_values=aal2 to a second factor before any consent", async () => {
    const registered = await registerDcrClient(await discover());
    const browser = await signedInBrowser();
    const response = await browser.get(authorizeUrl(registered.client.client_id, registered.redirectUri, { acr_values: "aal2" }));
    const location = new URL(response.headers.get("Location") as string, BASE_URL);
    expect(location.pathname).toBe("/account");
    expect(location.searchParams.get("step_up")).toBe("aal2");
  });
});

describe("codes and refresh tokens", () => {
  it("redeems a code once; a second use is refused and ends what the first issued (RFC 6749 §4.1.2)", async () => {
    const registered = await registerDcrClient(await discover());
    const authorized = await authorizeInBrowser(registered);
    const first = await redeemCode(registered, authorized);
    expect(first.status).toBe(200);
    const tokens = (await first.json()) as TokenJson;
    expect(await userInfoStatus(tokens.access_token)).toBe(200);
    const second = await redeemCode(registered, authorized);
    expect(second.status).toBe(400);
    expect(await second.json()).toMatchObject({ error: "invalid_grant" });
    expect(await userInfoStatus(tokens.access_token)).toBe(401);
    expect((await refreshWith(registered, tokens.refresh_token as string)).status).toBe(400);
  });

  it("refuses a wrong code_verifier, another client's code and a mismatched redirect_uri without burning the code", async () => {
    const as = await discover();
    const registered = await registerDcrClient(as);
    const other = await registerDcrClient(as);
    const authorized = await authorizeInBrowser(registered);
    const wrongVerifier = await redeemCode(registered, { ...authorized, verifier: "a".repeat(43) });
    expect(await wrongVerifier.json()).toMatchObject({ error: "invalid_grant" });
    const wrongClient = await redeemCode({ ...other, redirectUri: registered.redirectUri }, authorized);
    expect(await wrongClient.json()).toMatchObject({ error: "invalid_grant" });
    const wrongRedirect = await redeemCode({ ...registered, redirectUri: "http://127.0.0.1:8123/other" }, authorized);
    expect(await wrongRedirect.json()).toMatchObject({ error: "invalid_grant" });
    expect((await redeemCode(registered, authorized)).status).toBe(200);
  });

  it("gives two refreshes of one token (two places at once) the same new pair inside the window", async () => {
    const registered = await registerDcrClient(await discover());
    const authorized = await authorizeInBrowser(registered);
    const tokens = (await (await redeemCode(registered, authorized)).json()) as TokenJson;
    const [a, b] = await Promise.all([
      refreshWith(registered, tokens.refresh_token as string),
      refreshWith(registered, tokens.refresh_token as string),
    ]);
    const first = (await a.json()) as TokenJson;
    const second = (await b.json()) as TokenJson;
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(second.refresh_token).toBe(first.refresh_token);
    // ES256 signatures are randomized: the same token is the same header and claims (contract v1.2).
    const signedPart = (token: string) => token.split(".").slice(0, 2).join(".");
    expect(signedPart(second.access_token)).toBe(signedPart(first.access_token));
  });

  it("ends the whole grant when a rotated-out refresh token comes back after the window", async () => {
    // REFRESH_REUSE_GRACE_SECONDS=0: any second use of a rotated-out token is a reuse.
    const strict = { ...OAUTH_SETTINGS, REFRESH_REUSE_GRACE_SECONDS: "0" };
    const refresh = (token: string) =>
      postForm(
        "/oauth2/token",
        { grant_type: "refresh_token", refresh_token: token, client_id: registered.client.client_id },
        { settings: strict },
      );
    const registered = await registerDcrClient(await discover());
    const tokens = (await (await redeemCode(registered, await authorizeInBrowser(registered))).json()) as TokenJson;
    const first = (await (await refresh(tokens.refresh_token as string)).json()) as TokenJson;
    const reuse = await refresh(tokens.refresh_token as string);
    expect(await reuse.json()).toMatchObject({ error: "invalid_grant" });
    expect(await userInfoStatus(first.access_token)).toBe(401);
    expect((await refresh(first.refresh_token as string)).status).toBe(400);
  });

  it("issues tokens only for the resources the user consented to, and refuses another without rotating anything", async () => {
    const registered = await registerDcrClient(await discover(SETTINGS_MCP), {}, SETTINGS_MCP);
    const authorized = await authorizeInBrowser(registered, { settings: SETTINGS_MCP });
    // Consent named no resource: the grant holds the issuer's own API alone.
    const elsewhere = await postForm(
      "/oauth2/token",
      {
        grant_type: "authorization_code",
        code: authorized.callback.searchParams.get("code") ?? "",
        redirect_uri: registered.redirectUri,
        code_verifier: authorized.verifier,
        client_id: registered.client.client_id,
        resource: MCP,
      },
      { settings: SETTINGS_MCP },
    );
    expect(await elsewhere.json()).toMatchObject({ error: "invalid_target" });
    // The code was not used up by the refusal.
    const tokens = (await (await redeemCode(registered, authorized)).json()) as TokenJson;
    const refused = await postForm(
      "/oauth2/token",
      { grant_type: "refresh_token", refresh_token: tokens.refresh_token as string, client_id: registered.client.client_id, resource: MCP },
      { settings: SETTINGS_MCP },
    );
    expect(await refused.json()).toMatchObject({ error: "invalid_target" });
    const narrower = await postForm(
      "/oauth2/token",
      {
        grant_type: "refresh_token",
        refresh_token: tokens.refresh_token as string,
        client_id: registered.client.client_id,
        scope: "openid",
      },
      { settings: SETTINGS_MCP },
    );
    expect(narrower.status).toBe(200);
    expect(((await narrower.json()) as TokenJson).scope).toBe("openid");
  });

  it("refuses a refresh token presented by another client without ending the grant", async () => {
    const as = await discover();
    const registered = await registerDcrClient(as);
    const other = await registerDcrClient(as);
    const tokens = (await (await redeemCode(registered, await authorizeInBrowser(registered))).json()) as TokenJson;
    const stolen = await refreshWith(other, tokens.refresh_token as string);
    expect(await stolen.json()).toMatchObject({ error: "invalid_grant" });
    expect((await refreshWith(registered, tokens.refresh_token as string)).status).toBe(200);
  });
});
