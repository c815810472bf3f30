// Client ID Metadata Documents: a client whose client_id is the https URL of its own
// metadata (loopback http in test), through a real client (oauth4webapi): authorized,
// consented to as "not verified", its code redeemed and refreshed. Documents that claim a
// secret, are too big, redirect, or answer too slowly name no client.
import { env } from "cloudflare:workers";
import * as oauth from "oauth4webapi";
import { describe, expect, it } from "vitest";
import { TestClient, uniqueIp } from "../helpers/client";
import { login, registerUser } from "../helpers/users";
import { OAUTH_SETTINGS, authorizeInBrowser, clientOptions, discover, exchangeCode, postForm } from "../helpers/oauth-server";

const documentUrl = (name: string) => `${env.TEST_CLIENT_METADATA}/clients/${name}-${crypto.randomUUID()}.json`;

describe("Client ID Metadata Documents", () => {
  it("authorizes a client named by its document URL, as not verified, and lets it redeem and refresh", async () => {
    const as = await discover();
    expect(as.client_id_metadata_document_supported).toBe(true);
    const registered = {
      client: { client_id: documentUrl("app"), token_endpoint_auth_method: "none" },
      auth: oauth.None(),
      redirectUri: "http://127.0.0.1:8123/callback",
    };
    const authorized = await authorizeInBrowser(registered, { scope: "openid offline_access" });
    const tokens = await exchangeCode(as, registered, authorized);
    expect(tokens.refresh_token).toBeTypeOf("string");
    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      registered.client,
      await oauth.refreshTokenGrantRequest(as, registered.client, registered.auth, tokens.refresh_token as string, clientOptions()),
    );
    expect(refreshed.access_token).toBeTypeOf("string");
    const { items } = (await (await authorized.browser.get("/api/v1/users/me/connected-apps")).json()) as {
      items: Array<{ client_name: string }>;
    };
    expect(items[0]?.client_name).toBe("Metadata Document App");
  });

  it("names no client when the document claims a secret, is over 5 KiB, redirects, or is slower than 5 s", async () => {
    const browser = new TestClient({ settings: OAUTH_SETTINGS });
    await login(browser, await registerUser(browser));
    for (const name of ["secret", "big", "redirect", "slow"]) {
      const query = new URLSearchParams({
        client_id: documentUrl(name),
        redirect_uri: "http://127.0.0.1:8123/callback",
        response_type: "code",
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        code_challenge_method: "S256",
      });
      const response = await browser.get(`/oauth2/authorize?${query}`);
      expect(response.status, name).toBe(400);
      expect(response.headers.get("Location"), name).toBeNull();
    }
  });

  it("refuses documents on loopback or private addresses outside development", async () => {
    const production = {
      ...OAUTH_SETTINGS,
      ENVIRONMENT: "production",
      APP_BASE_URL: "https://auth.example.test",
      SECRET_KEY: "a-production-secret-key-of-more-than-32-characters",
    };
    const browser = new TestClient({ settings: production });
    const query = new URLSearchParams({
      client_id: documentUrl("app"),
      redirect_uri: "http://127.0.0.1:8123/callback",
      response_type: "code",
      code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
      code_challenge_method: "S256",
    });
    const response = await browser.get(`/oauth2/authorize?${query}`);
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("not registered");
  });

  it("fetches at most 60 documents an hour for one client IP, from any endpoint that names a client", async () => {
    const ip = uniqueIp();
    // The token endpoint names the client before anything else: a bogus refresh token is
    // invalid_grant once the document was had, invalid_client when it was not.
    const tokenRequest = (clientId: string) =>
      postForm(
        "/oauth2/token",
        { grant_type: "refresh_token", refresh_token: "x", client_id: clientId },
        { headers: { "CF-Connecting-IP": ip } },
      );
    const first = documentUrl("app");
    for (let i = 0; i < 60; i++) {
      const answer = await tokenRequest(i === 0 ? first : documentUrl("app"));
      expect(((await answer.json()) as { error: string }).error).toBe("invalid_grant");
    }
    const refused = await tokenRequest(documentUrl("app"));
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: string }).error).toBe("invalid_client");
    // A document this isolate already has costs no fetch.
    expect(((await (await tokenRequest(first)).json()) as { error: string }).error).toBe("invalid_grant");
    // Another IP has its own budget.
    expect(
      (
        (await (
          await postForm("/oauth2/token", { grant_type: "refresh_token", refresh_token: "x", client_id: documentUrl("app") })
        ).json()) as { error: string }
      ).error,
    ).toBe("invalid_grant");
  });
});
