// The OAuth server's side of the measurements, made through its own routes as apps and
// an operator would: apps that registered themselves (DCR) and hold grants a user
// consented to, and a resource server an admin registered for introspection. Shared by
// `npm run bench` (bench/run.mjs) and the edge harness (bench/edge/paths.mjs).
import { createHash, randomUUID } from "node:crypto";

/** The resource the measured tokens are for (an MCP server; benchSettings lists it in OAUTH_SERVER_RESOURCES). */
export const BENCH_RESOURCE = "https://mcp.bench.invalid/mcp";
const REDIRECT_URI = "http://127.0.0.1:9/callback";
/** Apps per user holding the refresh families: the provider keeps at most 10 grants per user and app. */
const APPS = 5;

let addresses = 0;
/** A client IP of its own per call (198.18.0.0/15, set aside for benchmarks): the per-IP hourly budgets never run out. */
function nextIp() {
  addresses += 1;
  return `198.19.${Math.floor(addresses / 250) % 256}.${(addresses % 250) + 1}`;
}

async function expectStatus(response, status, what) {
  if (response.status !== status) throw new Error(`${what}: ${response.status} ${await response.text()}`);
  return response;
}

function form(base, route, fields, headers = {}) {
  return fetch(`${base}${route}`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", "CF-Connecting-IP": nextIp(), ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

function json(base, method, route, body, headers = {}) {
  return fetch(`${base}${route}`, {
    method,
    headers: { "Content-Type": "application/json", "CF-Connecting-IP": nextIp(), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    redirect: "manual",
  });
}

/** A new account, signed in: its session cookie and CSRF token. */
export async function oauthUser(base, label = "bench-oauth") {
  const email = `${label}-${randomUUID()}@bench.test`;
  const password = `${label}-password-${randomUUID()}`;
  await expectStatus(await json(base, "POST", "/api/v1/users", { email, password }), 201, "register");
  const login = await expectStatus(await json(base, "POST", "/api/v1/auth/login", { email, password }), 200, "login");
  const cookie = login.headers
    .getSetCookie()
    .map((line) => line.split(";")[0])
    .join("; ");
  const { csrf_token: csrf } = await login.json();
  return { email, password, cookie, csrf };
}

/** An app that registered itself (RFC 7591): public, PKCE, refresh tokens. */
export async function registeredApp(base, name = "bench app") {
  const registered = await json(base, "POST", "/oauth2/register", {
    client_name: name,
    redirect_uris: [REDIRECT_URI],
    token_endpoint_auth_method: "none",
    grant_types: ["authorization_code", "refresh_token"],
  });
  return (await (await expectStatus(registered, 201, "oauth register")).json()).client_id;
}

/**
 * One grant of `user` to `clientId`: authorize (consenting on the first time, remembered
 * after), redeem the code. Returns the token answer.
 */
export async function grantTokens(base, user, clientId, { scope = "email offline_access", resource = BENCH_RESOURCE } = {}) {
  const verifier = randomUUID() + randomUUID();
  const query = new URLSearchParams({
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    response_type: "code",
    scope,
    resource,
    code_challenge: createHash("sha256").update(verifier).digest("base64url"),
    code_challenge_method: "S256",
  });
  const started = await expectStatus(
    await json(base, "GET", `/oauth2/authorize?${query}`, undefined, { Cookie: user.cookie }),
    302,
    "oauth authorize",
  );
  let redirectTo = new URL(started.headers.get("Location"), base);
  const requestId = redirectTo.searchParams.get("request");
  if (requestId !== null) {
    const decided = await json(
      base,
      "POST",
      `/api/v1/oauth2/requests/${requestId}/decision`,
      { allow: true },
      { Cookie: user.cookie, "X-CSRF-Token": user.csrf },
    );
    redirectTo = new URL((await (await expectStatus(decided, 200, "oauth decision")).json()).redirect_to);
  }
  const code = redirectTo.searchParams.get("code");
  if (code === null) throw new Error(`oauth authorize: no code in ${redirectTo.origin}${redirectTo.pathname}`);
  const redeemed = await form(base, "/oauth2/token", {
    grant_type: "authorization_code",
    code,
    redirect_uri: REDIRECT_URI,
    code_verifier: verifier,
    client_id: clientId,
    resource,
  });
  return (await expectStatus(redeemed, 200, "oauth code")).json();
}

/**
 * A resource server an admin registered (confidential, `introspection: true`, for
 * BENCH_RESOURCE), made by a new account promoted as `wrangler d1 execute` would (the
 * seeder's /promote). The service must run with ADMIN_REQUIRE_MFA=false. Returns its
 * client_secret_basic Authorization header.
 */
export async function introspectingServer(base, seederUrl) {
  const admin = await oauthUser(base, "bench-oauth-admin");
  await expectStatus(await fetch(`${seederUrl}/promote?email=${encodeURIComponent(admin.email)}`, { method: "POST" }), 200, "promote");
  // Signed in again: the session made before the promotion does not carry it.
  const operator = await expectStatus(
    await json(base, "POST", "/api/v1/auth/login", { email: admin.email, password: admin.password }),
    200,
    "admin login",
  );
  const cookie = operator.headers
    .getSetCookie()
    .map((line) => line.split(";")[0])
    .join("; ");
  const { csrf_token: csrf } = await operator.json();
  const created = await json(
    base,
    "POST",
    "/api/v1/admin/oauth-clients",
    {
      name: "bench resource server",
      type: "confidential",
      grant_types: ["client_credentials"],
      introspection: true,
      resources: [BENCH_RESOURCE],
    },
    { Cookie: cookie, "X-CSRF-Token": csrf },
  );
  const { client_id: clientId, client_secret: secret } = await (await expectStatus(created, 201, "admin oauth client")).json();
  const encode = (value) => encodeURIComponent(value).replace(/%20/g, "+");
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString("base64")}`;
}

/**
 * What the OAuth scenarios need: a user whose grant's access token (for BENCH_RESOURCE,
 * scope email) is introspected and checked by a resource server, and another user whose
 * apps rotate refresh families (`newFamilies`, one per connection, each app holding at
 * most 10 of them: the provider's per-app bound evicts older ones).
 */
export async function oauthFixture(base, seederUrl, connections) {
  const holder = await oauthUser(base, "bench-oauth-holder");
  const held = await grantTokens(base, holder, await registeredApp(base, "bench mcp client"));
  const introspection = await introspectingServer(base, seederUrl);
  const refresher = await oauthUser(base, "bench-oauth-refresher");
  const apps = [];
  for (let i = 0; i < APPS; i++) apps.push(await registeredApp(base, `bench app ${i}`));
  /** The app of family `index` (families are numbered per connection). */
  const appOf = (index) => apps[index % apps.length];
  const newFamilies = async (count = connections) => {
    const families = [];
    for (let i = 0; i < count; i++) families.push((await grantTokens(base, refresher, appOf(i))).refresh_token);
    return families;
  };
  return {
    accessToken: held.access_token,
    introspection,
    families: await newFamilies(1),
    refreshBody: (index, token) =>
      new URLSearchParams({ grant_type: "refresh_token", refresh_token: token, client_id: appOf(index) }).toString(),
    newFamilies,
  };
}
