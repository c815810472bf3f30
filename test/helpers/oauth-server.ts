// The OAuth server in tests: its settings, a fetch that reaches the Worker for
// oauth4webapi (a real client implementation from another project), a registered
// client, and a signed-in browser going through authorization and consent.
import { env } from "cloudflare:workers";
import * as oauth from "oauth4webapi";
import type { OAuthClient } from "../../src/oauth-server/clients/client-record";
import { insertClient } from "../../src/oauth-server/clients/client-store";
import { expect } from "vitest";
import { BASE_URL, type Settings, TestClient, callWorker, uniqueIp } from "./client";
import { type TestUser, login, registerUser } from "./users";

export const OAUTH_SETTINGS: Settings = { OAUTH_SERVER_ENABLED: "true" };
export const ISSUER = BASE_URL;

/** oauth4webapi's options: plain http to the test origin, and every request answered by the Worker. */
export function clientOptions(settings: Settings = OAUTH_SETTINGS, ip: string = uniqueIp()) {
  const customFetch = async (url: string, init: RequestInit = {}): Promise<Response> => {
    const headers = new Headers(init.headers);
    headers.set("CF-Connecting-IP", ip);
    return callWorker(new Request(url, { ...init, headers }), settings);
  };
  return { [oauth.customFetch]: customFetch, [oauth.allowInsecureRequests]: true } as const;
}

export async function discover(settings: Settings = OAUTH_SETTINGS): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(ISSUER);
  const response = await oauth.discoveryRequest(issuer, { ...clientOptions(settings), algorithm: "oauth2" });
  return oauth.processDiscoveryResponse(issuer, response);
}

export interface RegisteredClient {
  client: oauth.Client;
  auth: oauth.ClientAuth;
  redirectUri: string;
}

/** A client registered by DCR (RFC 7591): public unless a secret method is asked for. */
export async function registerDcrClient(
  as: oauth.AuthorizationServer,
  metadata: Partial<oauth.OmitSymbolProperties<oauth.Client>> = {},
  settings: Settings = OAUTH_SETTINGS,
): Promise<RegisteredClient> {
  const redirectUri = "http://127.0.0.1:8123/callback";
  const response = await oauth.dynamicClientRegistrationRequest(
    as,
    { redirect_uris: [redirectUri], token_endpoint_auth_method: "none", client_name: "Test app", ...metadata },
    clientOptions(settings),
  );
  const client = await oauth.processDynamicClientRegistrationResponse(response);
  const auth = client.client_secret === undefined ? oauth.None() : oauth.ClientSecretPost(client.client_secret as string);
  return { client, auth, redirectUri: (client.redirect_uris as string[])[0] as string };
}

export interface Authorized {
  browser: TestClient;
  user: TestUser;
  callback: URL;
  verifier: string;
  nonce: string;
  state: string;
}

/** A user signs in, is sent through /oauth2/authorize and consents; returns the client's callback URL. */
export async function authorizeInBrowser(
  registered: RegisteredClient,
  options: {
    scope?: string;
    resources?: string[];
    browser?: TestClient;
    user?: TestUser;
    settings?: Settings;
    extra?: Record<string, string>;
  } = {},
): Promise<Authorized> {
  const settings = options.settings ?? OAUTH_SETTINGS;
  const browser = options.browser ?? new TestClient({ settings });
  const user = options.user ?? (await registerUser(browser));
  if (options.browser === undefined) await login(browser, user);
  const verifier = oauth.generateRandomCodeVerifier();
  const nonce = oauth.generateRandomNonce();
  const state = oauth.generateRandomState();
  const query = new URLSearchParams({
    client_id: registered.client.client_id,
    redirect_uri: registered.redirectUri,
    response_type: "code",
    scope: options.scope ?? "openid email profile offline_access",
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    nonce,
    ...options.extra,
  });
  for (const resource of options.resources ?? []) query.append("resource", resource);
  const started = await browser.get(`/oauth2/authorize?${query}`);
  expect(started.status).toBe(302);
  let location = new URL(started.headers.get("Location") as string, BASE_URL);
  if (location.pathname === "/oauth2/consent") {
    const requestId = location.searchParams.get("request") as string;
    const view = await browser.get(`/api/v1/oauth2/requests/${requestId}`);
    expect(view.status).toBe(200);
    const decided = await browser.post(`/api/v1/oauth2/requests/${requestId}/decision`, { json: { allow: true } });
    expect(decided.status).toBe(200);
    location = new URL(((await decided.json()) as { redirect_to: string }).redirect_to);
  }
  return { browser, user, callback: location, verifier, nonce, state };
}

/** The code exchange through oauth4webapi, with its checks of the response and the ID token's claims. */
export async function exchangeCode(
  as: oauth.AuthorizationServer,
  registered: RegisteredClient,
  authorized: Authorized,
  settings: Settings = OAUTH_SETTINGS,
) {
  const params = oauth.validateAuthResponse(as, registered.client, authorized.callback, authorized.state);
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    registered.client,
    registered.auth,
    params,
    registered.redirectUri,
    authorized.verifier,
    clientOptions(settings),
  );
  return oauth.processAuthorizationCodeResponse(as, registered.client, response, { expectedNonce: authorized.nonce, requireIdToken: true });
}

/** A raw form POST to a protocol endpoint (what a client library sends), answered by the Worker. */
export async function postForm(
  path: string,
  form: Record<string, string>,
  options: { settings?: Settings; headers?: Record<string, string> } = {},
): Promise<Response> {
  return callWorker(
    new Request(`${BASE_URL}${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "CF-Connecting-IP": uniqueIp(), ...options.headers },
      body: new URLSearchParams(form).toString(),
    }),
    options.settings ?? OAUTH_SETTINGS,
  );
}

/** Redeems the authorized callback's code with a raw token request. */
export async function redeemCode(registered: RegisteredClient, authorized: Authorized): Promise<Response> {
  return postForm("/oauth2/token", {
    grant_type: "authorization_code",
    code: authorized.callback.searchParams.get("code") ?? "",
    redirect_uri: registered.redirectUri,
    code_verifier: authorized.verifier,
    client_id: registered.client.client_id,
  });
}

export async function refreshWith(registered: RegisteredClient, refreshToken: string): Promise<Response> {
  return postForm("/oauth2/token", { grant_type: "refresh_token", refresh_token: refreshToken, client_id: registered.client.client_id });
}

export async function userInfoStatus(accessToken: string): Promise<number> {
  const response = await callWorker(
    new Request(`${BASE_URL}/oauth2/userinfo`, { headers: { Authorization: `Bearer ${accessToken}` } }),
    OAUTH_SETTINGS,
  );
  return response.status;
}

export interface TokenJson {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  scope: string;
  expires_in: number;
}

/** A public client as an admin registers it (verified: errors at authorization are redirected to it), written straight to D1. */
export async function registerVerifiedClient(overrides: Partial<OAuthClient> = {}): Promise<RegisteredClient> {
  const redirectUri = "http://127.0.0.1:8123/callback";
  const client: OAuthClient = {
    clientId: `oc_test_${crypto.randomUUID()}`,
    name: "Verified test app",
    source: "admin",
    authMethod: "none",
    secretHash: null,
    redirectUris: [redirectUri],
    grantTypes: ["authorization_code", "refresh_token"],
    scopes: null,
    resources: null,
    firstParty: false,
    requireAal: 1,
    introspection: false,
    disabled: false,
    idTokenAlg: "RS256",
    clientUri: null,
    logoUri: null,
    createdAt: new Date().toISOString(),
    ...overrides,
  };
  await insertClient(env.DB, client);
  return {
    client: { client_id: client.clientId, token_endpoint_auth_method: "none" },
    auth: oauth.None(),
    redirectUri: client.redirectUris[0] as string,
  };
}
