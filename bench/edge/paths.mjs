// The paths the edge harness measures: how each request is made, against which build
// (isolate memory on or off), and what it needs made beforehand. `setup` runs once per
// measurement and `prepare` before each sample, both with no injected delay; only
// `send` is measured.
import { createHash, randomUUID } from "node:crypto";
import { grantTokens, introspectingServer, oauthUser, registeredApp } from "../oauth.mjs";

const PASSWORD = `edge-bench-password-${randomUUID()}`;
let addresses = 0;

/** A client IP never used before (198.18.0.0/15 is set aside for benchmarks): no throttle or hourly limit carries over. */
export function freshIp() {
  addresses += 1;
  return `198.18.${Math.floor(addresses / 250) % 256}.${(addresses % 250) + 1}`;
}

function cookiesOf(response) {
  return response.headers
    .getSetCookie()
    .map((line) => line.split(";")[0])
    .join("; ");
}

async function call(base, method, route, { json, form, headers = {}, ip = freshIp() } = {}) {
  const all = { "CF-Connecting-IP": ip, ...headers };
  if (json !== undefined) all["Content-Type"] = "application/json";
  if (form !== undefined) all["Content-Type"] = "application/x-www-form-urlencoded";
  const body = json !== undefined ? JSON.stringify(json) : form !== undefined ? new URLSearchParams(form).toString() : undefined;
  return fetch(`${base}${route}`, { method, headers: all, body, redirect: "manual" });
}

async function expectStatus(response, status, what) {
  if (response.status !== status) throw new Error(`${what}: ${response.status} ${await response.text()}`);
  return response;
}

export async function register(base) {
  const email = `edge-${randomUUID()}@bench.test`;
  await expectStatus(await call(base, "POST", "/api/v1/users", { json: { email, password: PASSWORD } }), 201, "register");
  return email;
}

/** A new session; the client keeps the IP it signed in from (`ip`). */
export async function login(base, email, ip = freshIp()) {
  const response = await call(base, "POST", "/api/v1/auth/login", { json: { email, password: PASSWORD }, ip });
  await expectStatus(response, 200, "login");
  const { csrf_token: csrf } = await response.json();
  return { cookie: cookiesOf(response), csrf, ip };
}

/** A signed-in user with a token pair and an API key that may read the user's profile. */
export async function signedInUser(base) {
  const email = await register(base);
  const session = await login(base, email);
  const { ip } = session;
  const tokens = await (await call(base, "POST", "/api/v1/auth/token", { json: { email, password: PASSWORD }, ip })).json();
  const created = await call(base, "POST", "/api/v1/api-keys", {
    json: {
      name: "edge",
      permissions: { user_profile: ["read"] },
      rate_limits: { requests_per_minute: 1_000_000, requests_per_day: 100_000_000 },
    },
    headers: { Cookie: session.cookie, "X-CSRF-Token": session.csrf },
    ip,
  });
  const { api_key: apiKey } = await (await expectStatus(created, 201, "api key")).json();
  return { email, ...session, accessToken: tokens.access_token, refreshToken: tokens.refresh_token, apiKey };
}

/**
 * A grant of the OAuth server: a client registers itself, a signed-in user authorizes it
 * and consents, and the client redeems the code. Returns its tokens and client id.
 */
async function oauthGrant(base) {
  const session = await login(base, await register(base));
  const redirectUri = "http://127.0.0.1:9/callback";
  const registered = await call(base, "POST", "/oauth2/register", {
    json: {
      client_name: "edge bench",
      redirect_uris: [redirectUri],
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token"],
    },
    ip: session.ip,
  });
  const { client_id: clientId } = await (await expectStatus(registered, 201, "oauth register")).json();
  const verifier = randomUUID() + randomUUID();
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const query = new URLSearchParams({
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: "code",
    scope: "openid email offline_access",
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  const started = await expectStatus(
    await call(base, "GET", `/oauth2/authorize?${query}`, { headers: { Cookie: session.cookie }, ip: session.ip }),
    302,
    "oauth authorize",
  );
  const requestId = new URL(started.headers.get("Location"), base).searchParams.get("request");
  const decided = await call(base, "POST", `/api/v1/oauth2/requests/${requestId}/decision`, {
    json: { allow: true },
    headers: { Cookie: session.cookie, "X-CSRF-Token": session.csrf },
    ip: session.ip,
  });
  const { redirect_to: redirectTo } = await (await expectStatus(decided, 200, "oauth decision")).json();
  const code = new URL(redirectTo).searchParams.get("code");
  const redeemed = await call(base, "POST", "/oauth2/token", {
    form: { grant_type: "authorization_code", code, redirect_uri: redirectUri, code_verifier: verifier, client_id: clientId },
    ip: session.ip,
  });
  const tokens = await (await expectStatus(redeemed, 200, "oauth code")).json();
  return { clientId, ip: session.ip, token: tokens.refresh_token, accessToken: tokens.access_token };
}

/** A GitHub account at the loopback GitHub, new to the service. */
function githubIdentity() {
  const id = Math.floor(Math.random() * 1e9);
  return { id, email: `edge-gh-${id}@bench.test` };
}

/** Starts a GitHub login and signs in at the loopback GitHub as `identity`; returns the callback to finish it. */
async function oauthStart(base, githubUrl, identity) {
  const ip = freshIp();
  const started = await expectStatus(await call(base, "GET", "/api/v1/auth/oauth/github?mode=json", { ip }), 200, "oauth start");
  const { url } = await started.json();
  const state = new URL(url).searchParams.get("state");
  const user = { id: identity.id, login: `edge${identity.id}`, name: "Edge Bench", email: null };
  const emails = [{ email: identity.email, primary: true, verified: true, visibility: null }];
  await fetch(`${githubUrl}/__users`, { method: "POST", body: JSON.stringify({ state, user, emails }) });
  const authorized = await fetch(url, { redirect: "manual" });
  const callback = new URL(authorized.headers.get("Location"));
  return { route: `${callback.pathname}${callback.search}`, cookie: cookiesOf(started), ip };
}

function oauthCallback(base, flow) {
  return call(base, "GET", flow.route, { headers: { Cookie: flow.cookie }, ip: flow.ip });
}

/**
 * Each path: `build` ("memory" or "cold"), `route` (the request path the trace records),
 * `status` (the answer expected), optional `setup(context)` and `prepare(context, state)`,
 * and `send(context, state, input)`. `context`: { base, githubUrl, user } of the build.
 */
export const PATHS = {
  session_check_memory: {
    build: "memory",
    route: "/api/v1/auth/check-auth",
    send: ({ base, user }) => call(base, "GET", "/api/v1/auth/check-auth", { headers: { Cookie: user.cookie }, ip: user.ip }),
  },
  session_check_kv: {
    build: "cold",
    route: "/api/v1/auth/check-auth",
    send: ({ base, user }) => call(base, "GET", "/api/v1/auth/check-auth", { headers: { Cookie: user.cookie }, ip: user.ip }),
  },
  bearer: {
    build: "memory",
    route: "/api/v1/users/me",
    send: ({ base, user }) =>
      call(base, "GET", "/api/v1/users/me", { headers: { Authorization: `Bearer ${user.accessToken}` }, ip: user.ip }),
  },
  bearer_kv: {
    build: "cold",
    route: "/api/v1/users/me",
    send: ({ base, user }) =>
      call(base, "GET", "/api/v1/users/me", { headers: { Authorization: `Bearer ${user.accessToken}` }, ip: user.ip }),
  },
  refresh: {
    build: "memory",
    route: "/api/v1/auth/refresh",
    // Each sample presents the newest token of its own family: a fresh, never-used one.
    setup: async ({ base }) => {
      const ip = freshIp();
      const tokens = await (
        await call(base, "POST", "/api/v1/auth/token", { json: { email: await register(base), password: PASSWORD }, ip })
      ).json();
      return { token: tokens.refresh_token, ip };
    },
    send: async ({ base }, state) => {
      const response = await call(base, "POST", "/api/v1/auth/refresh", { json: { refresh_token: state.token }, ip: state.ip });
      if (response.status === 200) state.token = (await response.clone().json()).refresh_token;
      return response;
    },
  },
  refresh_csrf: {
    build: "memory",
    route: "/api/v1/auth/refresh-csrf",
    setup: async ({ base }) => login(base, await register(base)),
    send: ({ base }, session) =>
      call(base, "POST", "/api/v1/auth/refresh-csrf", {
        headers: { Cookie: session.cookie, "X-CSRF-Token": session.csrf },
        ip: session.ip,
      }),
  },
  api_key_verify: {
    build: "memory",
    route: "/api/v1/api-keys/verify",
    send: ({ base, user }) =>
      call(base, "POST", "/api/v1/api-keys/verify", {
        json: { api_key: user.apiKey, resource: "user_profile", action: "read" },
        ip: user.ip,
      }),
  },
  logout: {
    build: "memory",
    route: "/api/v1/auth/logout",
    setup: async ({ base }) => ({ email: await register(base) }),
    prepare: ({ base }, state) => login(base, state.email),
    send: ({ base }, state, session) =>
      call(base, "POST", "/api/v1/auth/logout", { headers: { Cookie: session.cookie, "X-CSRF-Token": session.csrf }, ip: session.ip }),
  },
  logout_all: {
    build: "memory",
    route: "/api/v1/auth/logout-all",
    setup: async ({ base }) => ({ email: await register(base) }),
    prepare: ({ base }, state) => login(base, state.email),
    send: ({ base }, state, session) =>
      call(base, "POST", "/api/v1/auth/logout-all", { headers: { Cookie: session.cookie, "X-CSRF-Token": session.csrf }, ip: session.ip }),
  },
  login: {
    build: "memory",
    route: "/api/v1/auth/login",
    // A right password from a new IP: nothing is counted against the account or the IP.
    setup: async ({ base }) => ({ email: await register(base) }),
    send: ({ base }, state) => call(base, "POST", "/api/v1/auth/login", { json: { email: state.email, password: PASSWORD } }),
  },
  registration: {
    build: "memory",
    route: "/api/v1/users",
    status: 201,
    send: ({ base }) => call(base, "POST", "/api/v1/users", { json: { email: `edge-${randomUUID()}@bench.test`, password: PASSWORD } }),
  },
  // A returning user: the GitHub account signed up in setup signs in again.
  oauth_callback: {
    build: "memory",
    route: "/api/v1/auth/oauth/callback/github",
    setup: async ({ base, githubUrl }) => {
      const identity = githubIdentity();
      await expectStatus(await oauthCallback(base, await oauthStart(base, githubUrl, identity)), 200, "oauth sign-up");
      return identity;
    },
    prepare: ({ base, githubUrl }, identity) => oauthStart(base, githubUrl, identity),
    send: ({ base }, identity, flow) => oauthCallback(base, flow),
  },
  // A new user: each sample signs up with a GitHub account the service has not seen.
  oauth_signup: {
    build: "memory",
    route: "/api/v1/auth/oauth/callback/github",
    prepare: ({ base, githubUrl }) => oauthStart(base, githubUrl, githubIdentity()),
    send: ({ base }, state, flow) => oauthCallback(base, flow),
  },
};
// The OAuth server: a client's refresh (a rotation at the user's authority; the client's
// record is remembered by the isolate), and UserInfo (the grant's standing, asked of the authority).
PATHS.oauth_refresh = {
  build: "memory",
  route: "/oauth2/token",
  setup: ({ base }) => oauthGrant(base),
  send: async ({ base }, state) => {
    const response = await call(base, "POST", "/oauth2/token", {
      form: { grant_type: "refresh_token", refresh_token: state.token, client_id: state.clientId },
      ip: state.ip,
    });
    if (response.status === 200) state.token = (await response.clone().json()).refresh_token;
    return response;
  },
};
PATHS.oauth_userinfo = {
  build: "memory",
  route: "/oauth2/userinfo",
  setup: ({ base }) => oauthGrant(base),
  send: ({ base }, state) =>
    call(base, "GET", "/oauth2/userinfo", { headers: { Authorization: `Bearer ${state.accessToken}` }, ip: state.ip }),
};
// A resource server an admin registered introspects a grant's access token (the grant's
// standing, asked of the user's authority); a resource server's check over RPC reads it
// as the bearer path does (isolate memory; KV in the build without it).
async function resourceToken(base) {
  const user = await oauthUser(base, "edge-oauth");
  return (await grantTokens(base, user, await registeredApp(base, "edge mcp client"))).access_token;
}
PATHS.oauth_introspect = {
  build: "memory",
  route: "/oauth2/introspect",
  setup: async ({ base, seeder }) => ({ token: await resourceToken(base), authorization: await introspectingServer(base, seeder) }),
  send: async ({ base }, state) => {
    const response = await call(base, "POST", "/oauth2/introspect", {
      form: { token: state.token },
      headers: { Authorization: state.authorization },
    });
    const body = await response.clone().json();
    if (response.status === 200 && body.active !== true) throw new Error("oauth_introspect: the token was not active");
    return response;
  },
};
PATHS.oauth_resource_check = {
  build: "memory",
  route: "/__edge/resource-check",
  setup: async ({ base }) => ({ token: await resourceToken(base) }),
  send: ({ base }, state) => call(base, "GET", "/__edge/resource-check", { headers: { Authorization: `Bearer ${state.token}` } }),
};
PATHS.oauth_resource_check_kv = { ...PATHS.oauth_resource_check, build: "cold" };

/**
 * A member acting in an organization (its owner; the address proven through the seeder):
 * a cookie session and an access token (signed in with `org_id`) that act in it.
 */
async function orgMember(base, seeder) {
  const email = await register(base);
  await expectStatus(await fetch(`${seeder}/verify?email=${encodeURIComponent(email)}`, { method: "POST" }), 200, "verify");
  const session = await login(base, email);
  const headers = { Cookie: session.cookie, "X-CSRF-Token": session.csrf };
  const created = await call(base, "POST", "/api/v1/orgs", { json: { name: "Edge" }, headers, ip: session.ip });
  const { id } = await (await expectStatus(created, 201, "organization")).json();
  await expectStatus(
    await call(base, "POST", "/api/v1/auth/active-org", { json: { org_id: id }, headers, ip: session.ip }),
    200,
    "active org",
  );
  const signIn = await call(base, "POST", "/api/v1/auth/token", { json: { email, password: PASSWORD, org_id: id }, ip: session.ip });
  const { access_token: accessToken } = await (await expectStatus(signIn, 200, "token")).json();
  return { ...session, accessToken };
}
// An app's read behind requireOrgPermission (members:read), over the service binding:
// the standing travels with the session's cached record and the principal record.
const orgRead = (credential) => ({
  build: "memory",
  route: "/__edge/org-check",
  setup: ({ base, seeder }) => orgMember(base, seeder),
  send: async ({ base }, state) => {
    const headers = credential === "cookie" ? { Cookie: state.cookie } : { Authorization: `Bearer ${state.accessToken}` };
    const response = await call(base, "GET", "/__edge/org-check", { headers, ip: state.ip });
    if (response.status === 200 && (await response.clone().json()).org_role !== "owner") throw new Error("org-check: no org_role");
    return response;
  },
});
PATHS.org_read_session = orgRead("cookie");
PATHS.org_read_session_kv = { ...orgRead("cookie"), build: "cold" };
PATHS.org_read_bearer = orgRead("bearer");
PATHS.org_read_bearer_kv = { ...orgRead("bearer"), build: "cold" };
// The same verify, as a key's user is checked in an isolate that has not seen the user lately.
PATHS.api_key_verify_kv = { ...PATHS.api_key_verify, build: "cold" };

/**
 * The paths of `npm run bench:edge` (the test adds refresh_csrf, bearer_kv,
 * api_key_verify_kv, oauth_signup, oauth_resource_check_kv and the org reads' `_kv`).
 */
export const BENCH_PATHS = [
  "session_check_memory",
  "session_check_kv",
  "bearer",
  "refresh",
  "api_key_verify",
  "logout",
  "logout_all",
  "login",
  "registration",
  "oauth_callback",
  "oauth_refresh",
  "oauth_userinfo",
  "oauth_introspect",
  "oauth_resource_check",
  "org_read_session",
  "org_read_bearer",
];
