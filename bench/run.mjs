// npm run bench: the service's speed and cost against the physical ceilings, in one run
// (`-- --newest`: on the newest wrangler release instead of the pinned one).
//
// 1. Builds the Worker as it deploys (wrangler deploy --dry-run --outdir), plus the
//    ceiling Workers and an instrumented build that counts storage operations.
// 2. Serves them all in one Miniflare instance (real local KV, D1 and Durable Objects),
//    each on its own direct socket (no wrangler dev proxy in the way).
// 3. Loads each scenario and its ceiling with autocannon (50 connections; 4 for the login pair), interleaved
//    round by round, and reports requests/s, p50, p99, errors and ratios (and the
//    runtime process's CPU per request, a steadier second measure), the storage
//    operations per request with their price, and the scale figures. Results also go to
//    bench/out/results.json.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { randomUUID, randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import autocannon from "autocannon";
import { build as esbuild } from "esbuild";
import { spawnSync } from "node:child_process";
import {
  COMPAT,
  Miniflare,
  benchSettings,
  build,
  convertV4MiniflareOptions,
  installNewest,
  migrate,
  toolchainVersions,
  unstable_getMiniflareWorkerOptions,
  workerdCpuMicros,
} from "./harness.mjs";
import { orgFixture } from "./orgs.mjs";
import { oauthFixture } from "./oauth.mjs";

const QUICK = process.argv.includes("--quick");
/** `--only "me (bearer),refresh"`: just these scenarios (and their ceilings), for working on one path. */
const ONLY = (() => {
  const index = process.argv.indexOf("--only");
  return index === -1 ? null : new Set(process.argv[index + 1].split(",").map((name) => name.trim()));
})();
const CONNECTIONS = 50;
const FORM = "application/x-www-form-urlencoded";
// A login is ~70 ms of CPU in six hash rounds, and requests in flight take turns between
// rounds: with 50 connections all 50 logins finish together every ~3.5 s, so a run of a
// few seconds counts one or two such bursts. Four connections keep the runtime's one
// thread as busy (twice the cores) with a queue short enough to measure a steady rate;
// the load still comes from 50 users on 50 IPs, one after another.
const LOGIN_CONNECTIONS = 4;
const ROUNDS = QUICK ? 1 : 3;
const SECONDS = QUICK ? 2 : 3;
const WARMUP_SECONDS = 1;
// Password hashing takes ~70 ms of CPU: the login pair runs longer, for enough logins
// per run to measure a rate.
const LOGIN_SECONDS = QUICK ? 4 : 8;
const SCALE_SIZES = QUICK ? [1, 1000] : [1, 10_000, 100_000];
const OUT = "bench/out";
const SECRET = randomBytes(32).toString("base64url");

/** Cloudflare's published prices (USD), per million operations (Workers Paid plan). */
const PRICES = { request: 0.3, kvRead: 0.5, kvWrite: 5.0, d1Row: 0.001, doRequest: 0.15 };

// Goals. A path with a least-work Worker (bench/floors/: the contract's work of the path
// written as directly as the runtime allows, with only the headers the contract asks
// for) must spend at most 1/0.95 of that Worker's CPU per request. The session checks
// answered from the isolate's memory must serve 2.5 times the requests/s of one KV get.
// Every row must also keep its p99 within twice its ceiling's p99, with no errors.
const FLOOR_GOAL = 0.95;
const CEILING_GOALS = { "session check": 2.5, "me (session)": 2.5 };

/** Each path's least-work Worker. `me (api key)` is key verify's work and its answer (a key's use needs no more). */
const FLOORS = {
  login: "login",
  "session check (cache miss)": "session-check",
  "me (bearer)": "bearer",
  "me (api key)": "key-verify",
  "api key verify": "key-verify",
  refresh: "refresh",
  "oauth refresh": "oauth-refresh",
  "oauth introspection": "oauth-introspect",
  "oauth resource check": "oauth-resource",
};

function log(message) {
  process.stderr.write(`${message}\n`);
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  log("building the service as it deploys, the instrumented build and the ceilings...");
  const serviceScript = build(null, `${OUT}/service`);
  const instrumentedScript = build("bench/instrumented.ts", `${OUT}/instrumented`);
  // The same service with the isolate memory off: every session check pays its KV read,
  // as in production, where a given session rarely meets an isolate that has it.
  const coldScript = build(null, `${OUT}/cold`, ["--define", "EDGE_AUTH_BENCH_NO_MEMORY:true"]);
  // The hash ceiling is a standalone Worker around the service's own hashing module.
  await esbuild({
    entryPoints: ["bench/ceilings/hash.ts"],
    bundle: true,
    format: "esm",
    outfile: `${OUT}/hash/index.js`,
    logLevel: "error",
  });
  const hashScript = `${OUT}/hash/index.js`;
  // The least-work Workers (bench/floors/): the contract's work of a path hand-written in
  // plain Workers code, no framework and no library, as the most any implementation of
  // that path could reach against its ceiling here.
  for (const floor of new Set(Object.values(FLOORS))) {
    await esbuild({
      entryPoints: [`bench/floors/${floor}.js`],
      bundle: true,
      format: "esm",
      outfile: `${OUT}/floors/${floor}.js`,
      external: ["cloudflare:workers"],
      logLevel: "error",
    });
  }

  const { workerOptions } = unstable_getMiniflareWorkerOptions("wrangler.toml");
  const bindings = {
    ...benchSettings(SECRET),
    // The admin list's scale scenario uses an admin key, which only a session that may use
    // the admin routes can make: without this, that is a session signed in with a second
    // factor. The bench measures D1 queries there, not the MFA gate.
    ADMIN_REQUIRE_MFA: "false",
  };
  const shared = {
    kvNamespaces: workerOptions.kvNamespaces,
    d1Databases: workerOptions.d1Databases,
    compatibilityDate: COMPAT,
    compatibilityFlags: ["nodejs_compat"],
  };
  const userWorker = (name, scriptPath, extra = {}) => ({
    name,
    modules: true,
    scriptPath,
    // Its own socket straight into the Worker, no proxy in between.
    unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
    ...shared,
    ...extra,
  });
  const workers = [
    userWorker("service", serviceScript, {
      durableObjects: workerOptions.durableObjects,
      // Only the bench's settings: a developer's .dev.vars must not change the numbers.
      bindings,
    }),
    userWorker("cold", coldScript, { durableObjects: workerOptions.durableObjects, bindings }),
    userWorker("instrumented", instrumentedScript, {
      durableObjects: workerOptions.durableObjects,
      bindings,
    }),
    userWorker("bare", "bench/ceilings/bare.js"),
    userWorker("kv", "bench/ceilings/kv-get.js"),
    userWorker("d1", "bench/ceilings/d1-select.js", { bindings: { USER_ID: "bench-ceiling-user" } }),
    userWorker("do", "bench/ceilings/do-rpc.js", { durableObjects: { COUNTER: { className: "Counter", useSQLite: true } } }),
    userWorker("hash", hashScript),
    userWorker("floor-login", `${OUT}/floors/login.js`, {
      durableObjects: { THROTTLE: { className: "ThrottleFloor", useSQLite: true }, USERS: { className: "UserFloor", useSQLite: true } },
    }),
    userWorker("floor-session-check", `${OUT}/floors/session-check.js`),
    userWorker("floor-bearer", `${OUT}/floors/bearer.js`),
    userWorker("floor-key-verify", `${OUT}/floors/key-verify.js`, { durableObjects: { KEYS: { className: "KeyFloor", useSQLite: true } } }),
    userWorker("floor-refresh", `${OUT}/floors/refresh.js`, {
      bindings: { SECRET_KEY: SECRET },
      durableObjects: { AUTHORITY: { className: "AuthorityFloor", useSQLite: true } },
    }),
    userWorker("floor-oauth-refresh", `${OUT}/floors/oauth-refresh.js`, {
      durableObjects: { AUTHORITY: { className: "OAuthGrantFloor", useSQLite: true } },
    }),
    userWorker("floor-oauth-introspect", `${OUT}/floors/oauth-introspect.js`, {
      durableObjects: { AUTHORITY: { className: "IntrospectionFloor", useSQLite: true } },
    }),
    userWorker("floor-oauth-resource", `${OUT}/floors/oauth-resource.js`),
    // A resource server in front of each: the service's RPC entrypoint, the counted build's, the floor's.
    userWorker("resource-server", "bench/resource-server.js", {
      serviceBindings: { AUTH: { name: "service", entrypoint: "AuthService" } },
    }),
    userWorker("resource-server-instrumented", "bench/resource-server.js", {
      serviceBindings: { AUTH: { name: "instrumented", entrypoint: "AuthService" } },
    }),
    userWorker("floor-resource-server", "bench/resource-server.js", {
      serviceBindings: { AUTH: { name: "floor-oauth-resource", entrypoint: "ResourceFloor" } },
    }),
    // An app in front of each that asks for a permission in the active organization (bench/org-app.js).
    userWorker("org-app", "bench/org-app.js", { serviceBindings: { AUTH: { name: "service", entrypoint: "AuthService" } } }),
    userWorker("org-app-instrumented", "bench/org-app.js", {
      serviceBindings: { AUTH: { name: "instrumented", entrypoint: "AuthService" } },
    }),
    userWorker("seeder", "bench/seeder.js"),
  ];
  const mf = new Miniflare(convertV4MiniflareOptions({ workers }));
  await mf.ready;
  const url = {};
  for (const worker of workers) url[worker.name] = (await mf.unsafeGetDirectURL(worker.name)).href.replace(/\/$/, "");

  log("applying migrations and seeding...");
  await migrate(mf);
  const db = await mf.getD1Database("DB", "service");
  const kv = await mf.getKVNamespace("SESSIONS", "service");
  await kv.put("bench:ceiling", JSON.stringify({ userId: "bench-ceiling-user", secretHash: "x".repeat(43), lastActivity: Date.now() }));
  await db
    .prepare("INSERT INTO users (id, email, email_normalized, created_at, updated_at) VALUES (?, ?, ?, ?, ?)")
    .bind("bench-ceiling-user", "ceiling@bench.test", "ceiling@bench.test", new Date().toISOString(), new Date().toISOString())
    .run();

  const fixtures = {};
  const resourceServers = { service: url["resource-server"], instrumented: url["resource-server-instrumented"] };
  const orgApps = { service: url["org-app"], instrumented: url["org-app-instrumented"] };
  for (const target of ["service", "instrumented"]) {
    fixtures[target] = await setUp(url[target]);
    fixtures[target].oauth = { ...(await oauthFixture(url[target], url.seeder, CONNECTIONS)), resourceServer: resourceServers[target] };
    fixtures[target].org = { ...(await orgFixture(url[target], url.seeder)), app: orgApps[target] };
  }
  const cold = await signedIn(url.cold);

  const scenarios = scenarioList(fixtures.service, url.service, { base: url.cold, cookie: cold }).filter(
    (scenario) => ONLY === null || ONLY.has(scenario.name),
  );
  const ceilings = {
    bare: { method: "GET", url: `${url.bare}/` },
    kv: { method: "GET", url: `${url.kv}/` },
    d1: { method: "GET", url: `${url.d1}/` },
    do: { method: "GET", url: `${url.do}/` },
    hash: { method: "GET", url: `${url.hash}/`, connections: LOGIN_CONNECTIONS },
  };

  const floors = await floorTargets(url, fixtures.service, cold);

  log("warming up...");
  for (const scenario of scenarios) await load(scenario, WARMUP_SECONDS);
  for (const ceiling of Object.values(ceilings)) await load(ceiling, WARMUP_SECONDS);
  for (const scenario of scenarios) if (floors[scenario.name] !== undefined) await load(floors[scenario.name], WARMUP_SECONDS);

  const samples = {};
  for (let round = 1; round <= ROUNDS; round++) {
    log(`round ${round}/${ROUNDS}`);
    for (const scenario of scenarios) {
      const seconds = scenario.name === "login" ? LOGIN_SECONDS : SECONDS;
      // The path and its least-work Worker side by side in time (pairedRound), each
      // round's pair compared (report()).
      const floor = floors[scenario.name];
      if (floor === undefined) {
        (samples[scenario.name] ??= []).push(await load(scenario, seconds));
      } else {
        const pair = await pairedRound(scenario, floor, seconds);
        (samples[scenario.name] ??= []).push(pair.service);
        (samples[`floor:${scenario.name}`] ??= []).push(pair.floor);
      }
      (samples[`ceiling:${scenario.ceiling}`] ??= []).push(await load(ceilings[scenario.ceiling], seconds));
    }
  }
  // The D1 ceiling has no scenario of its own; measure it for the record.
  samples["ceiling:d1"] = [await load(ceilings.d1, SECONDS)];

  log("counting storage operations per request (instrumented build)...");
  const counted = scenarioList(fixtures.instrumented, url.instrumented).filter((scenario) => ONLY === null || ONLY.has(scenario.name));
  const ops = await countOperations(counted, url.instrumented);

  const scale = ONLY === null ? (log("measuring scale..."), await measureScale(url.seeder, url.service, fixtures.service)) : {};

  await mf.dispose();
  log("measuring the bundle and a fresh Worker's first response...");
  const footprint = await measureFootprint(serviceScript, workerOptions, bindings, shared);
  report(samples, scenarios, ops, scale, footprint);
}

/**
 * The least-work Workers' loads, each checked once to answer as the service does (a
 * floor that refused would be cheaper and prove nothing). The session check reads the
 * cache-miss build's own KV record of its session; the bearer floor gets the service's
 * access token; the key and the token families are the floors' own (seeded here).
 */
async function floorTargets(url, fixture, coldCookie) {
  const json = { "Content-Type": "application/json" };
  const { api_key: floorKey } = await (await fetch(`${url["floor-key-verify"]}/seed`)).json();
  const newFamilies = async () => (await fetch(`${url["floor-refresh"]}/seed`)).json();
  const [firstLogin] = fixture.loginUsers;
  const introspected = await (await fetch(`${url["floor-oauth-introspect"]}/seed`)).json();
  const floors = {
    login: {
      method: "POST",
      url: `${url["floor-login"]}/`,
      headers: { ...json, "CF-Connecting-IP": firstLogin.ip },
      body: JSON.stringify({ email: firstLogin.email, password: fixture.password }),
      loginUsers: fixture.loginUsers,
      password: fixture.password,
      connections: LOGIN_CONNECTIONS,
    },
    "session check (cache miss)": { method: "GET", url: `${url["floor-session-check"]}/`, headers: { Cookie: coldCookie } },
    "me (bearer)": {
      method: "GET",
      url: `${url["floor-bearer"]}/api/v1/users/me`,
      headers: { Authorization: `Bearer ${fixture.accessToken}` },
    },
    "api key verify": {
      method: "POST",
      url: `${url["floor-key-verify"]}/`,
      headers: json,
      body: JSON.stringify({ api_key: floorKey, resource: "user_profile", action: "read" }),
    },
    refresh: { method: "POST", url: `${url["floor-refresh"]}/`, headers: json, refreshFamilies: [], newFamilies },
    "oauth refresh": {
      method: "POST",
      url: `${url["floor-oauth-refresh"]}/`,
      headers: { "Content-Type": FORM },
      refreshFamilies: [],
      newFamilies: async () => (await fetch(`${url["floor-oauth-refresh"]}/seed`)).json(),
      refreshBody: (index, token) =>
        new URLSearchParams({ grant_type: "refresh_token", refresh_token: token, client_id: `floor-app-${index % 5}` }).toString(),
    },
    "oauth introspection": {
      method: "POST",
      url: `${url["floor-oauth-introspect"]}/`,
      headers: { "Content-Type": FORM, Authorization: introspected.authorization },
      body: new URLSearchParams({ token: introspected.token }).toString(),
    },
    "oauth resource check": {
      method: "GET",
      url: `${url["floor-resource-server"]}/`,
      headers: { Authorization: `Bearer ${fixture.oauth.accessToken}` },
    },
  };
  floors["me (api key)"] = floors["api key verify"];
  const [family] = await newFamilies();
  const checks = {
    login: (body) => typeof body.user?.id === "string" && typeof body.csrf_token === "string",
    "session check (cache miss)": (body) => body.authenticated === true && typeof body.session?.id === "string",
    "me (bearer)": (body) => typeof body.id === "string",
    "api key verify": (body) => body.valid === true && body.allowed === true,
    "me (api key)": (body) => body.valid === true && body.allowed === true,
    refresh: (body) => typeof body.access_token === "string" && typeof body.refresh_token === "string",
    "oauth refresh": (body) =>
      typeof body.access_token === "string" && typeof body.refresh_token === "string" && body.scope === "email offline_access",
    "oauth introspection": (body) => body.active === true && body.aud === "https://mcp.bench.invalid/mcp",
    "oauth resource check": (body) => body.active === true && typeof body.sub === "string",
  };
  for (const [name, floor] of Object.entries(floors)) {
    let body = floor.body;
    if (name === "refresh") body = JSON.stringify({ refresh_token: family });
    if (floor.refreshBody !== undefined) body = floor.refreshBody(0, (await floor.newFamilies())[0]);
    const response = await fetch(floor.url, { method: floor.method, headers: floor.headers, body });
    const answer = await response.json();
    if (response.status !== 200 || !checks[name](answer))
      throw new Error(`least-work ${name}: ${response.status} ${JSON.stringify(answer)}`);
  }
  return floors;
}

/** One user signed in with a session cookie (the cache-miss build's own). */
async function signedIn(base) {
  const email = `bench-cold-${randomUUID()}@bench.test`;
  const password = `bench-password-${randomUUID()}`;
  const headers = { "Content-Type": "application/json", "CF-Connecting-IP": "198.51.100.9" };
  const register = await fetch(`${base}/api/v1/users`, { method: "POST", headers, body: JSON.stringify({ email, password }) });
  if (register.status !== 201) throw new Error(`register: ${register.status}`);
  const login = await fetch(`${base}/api/v1/auth/login`, { method: "POST", headers, body: JSON.stringify({ email, password }) });
  if (login.status !== 200) throw new Error(`login: ${login.status}`);
  return login.headers
    .getSetCookie()
    .map((line) => line.split(";")[0])
    .join("; ");
}

/** Creates the bench users, sessions, tokens and API keys through the API. */
async function setUp(base) {
  const email = `bench-${randomUUID()}@bench.test`;
  const password = `bench-password-${randomUUID()}`;
  const ip = { "CF-Connecting-IP": "198.51.100.7" };
  const json = { "Content-Type": "application/json", ...ip };
  const register = await fetch(`${base}/api/v1/users`, { method: "POST", headers: json, body: JSON.stringify({ email, password }) });
  if (register.status !== 201) throw new Error(`register: ${register.status} ${await register.text()}`);
  const user = await register.json();
  const login = await fetch(`${base}/api/v1/auth/login`, { method: "POST", headers: json, body: JSON.stringify({ email, password }) });
  const cookie = login.headers
    .getSetCookie()
    .map((line) => line.split(";")[0])
    .join("; ");
  const { csrf_token: csrf } = await login.json();
  const tokens = await (
    await fetch(`${base}/api/v1/auth/token`, { method: "POST", headers: json, body: JSON.stringify({ email, password }) })
  ).json();
  /** Fresh token families, one per connection: a run cut short leaves its families unusable. */
  const newFamilies = async () => {
    const families = [];
    for (let i = 0; i < CONNECTIONS; i++) {
      const pair = await (
        await fetch(`${base}/api/v1/auth/token`, { method: "POST", headers: json, body: JSON.stringify({ email, password }) })
      ).json();
      families.push(pair.refresh_token);
    }
    return families;
  };
  const families = await newFamilies();
  // Login load comes from many people on many networks, as at a real login endpoint:
  // one user and one client IP per connection (throttling is per identifier and per IP).
  const loginUsers = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const loginEmail = `bench-login-${i}-${randomUUID()}@bench.test`;
    const loginIp = `198.51.${100 + Math.floor(i / 250)}.${(i % 250) + 1}`;
    // Registration is limited per client IP (REGISTRATION_MAX_PER_HOUR): each from its own.
    const headers = { ...json, "CF-Connecting-IP": loginIp };
    const created = await fetch(`${base}/api/v1/users`, { method: "POST", headers, body: JSON.stringify({ email: loginEmail, password }) });
    if (created.status !== 201) throw new Error(`register: ${created.status}`);
    loginUsers.push({ email: loginEmail, ip: loginIp });
  }
  const key = await (
    await fetch(`${base}/api/v1/api-keys`, {
      method: "POST",
      headers: { ...json, Cookie: cookie, "X-CSRF-Token": csrf },
      body: JSON.stringify({
        name: "bench",
        permissions: { user_profile: ["read"] },
        rate_limits: { requests_per_minute: 1_000_000, requests_per_day: 100_000_000 },
      }),
    })
  ).json();
  /** Sends the key's buffered uses to D1 now: the usage report flushes before it reads. */
  const flushUsage = async () => {
    const response = await fetch(`${base}/api/v1/api-keys/${key.id}/usage`, { headers: { Cookie: cookie, ...ip } });
    if (response.status !== 200) throw new Error(`usage: ${response.status}`);
    await response.arrayBuffer();
  };
  return {
    user,
    email,
    password,
    cookie,
    accessToken: tokens.access_token,
    families,
    newFamilies,
    apiKey: key.api_key,
    flushUsage,
    loginUsers,
  };
}

function scenarioList(fixture, base, cold = null) {
  const ip = { "CF-Connecting-IP": "198.51.100.7" };
  const families = [...fixture.families];
  const coldScenario =
    cold === null
      ? []
      : [
          {
            name: "session check (cache miss)",
            ceiling: "kv",
            method: "GET",
            url: `${cold.base}/api/v1/auth/check-auth`,
            headers: { Cookie: cold.cookie },
          },
        ];
  return [
    {
      name: "login",
      ceiling: "hash",
      method: "POST",
      url: `${base}/api/v1/auth/login`,
      headers: { "Content-Type": "application/json", ...ip },
      body: JSON.stringify({ email: fixture.email, password: fixture.password }),
      loginUsers: fixture.loginUsers,
      password: fixture.password,
      connections: LOGIN_CONNECTIONS,
    },
    { name: "session check", ceiling: "kv", method: "GET", url: `${base}/api/v1/auth/check-auth`, headers: { Cookie: fixture.cookie } },
    ...coldScenario,
    {
      name: "me (bearer)",
      ceiling: "bare",
      method: "GET",
      url: `${base}/api/v1/users/me`,
      headers: { Authorization: `Bearer ${fixture.accessToken}` },
    },
    { name: "me (session)", ceiling: "kv", method: "GET", url: `${base}/api/v1/users/me`, headers: { Cookie: fixture.cookie } },
    {
      name: "me (api key)",
      ceiling: "do",
      method: "GET",
      url: `${base}/api/v1/users/me`,
      headers: { "X-API-Key": fixture.apiKey },
      finish: fixture.flushUsage,
    },
    {
      name: "api key verify",
      ceiling: "do",
      method: "POST",
      url: `${base}/api/v1/api-keys/verify`,
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ api_key: fixture.apiKey, resource: "user_profile", action: "read" }),
      finish: fixture.flushUsage,
    },
    {
      name: "refresh",
      ceiling: "do",
      method: "POST",
      url: `${base}/api/v1/auth/refresh`,
      headers: { "Content-Type": "application/json" },
      // Each connection rotates its own token family: every request presents the newest token.
      refreshFamilies: families,
      newFamilies: fixture.newFamilies,
    },
    // The OAuth server: an app's refresh (public client), a resource server's
    // introspection (client_secret_basic), and a resource server's check over RPC.
    {
      name: "oauth refresh",
      ceiling: "do",
      method: "POST",
      url: `${base}/oauth2/token`,
      headers: { "Content-Type": FORM },
      refreshFamilies: fixture.oauth.families,
      newFamilies: fixture.oauth.newFamilies,
      refreshBody: fixture.oauth.refreshBody,
    },
    {
      name: "oauth introspection",
      ceiling: "do",
      method: "POST",
      url: `${base}/oauth2/introspect`,
      headers: { "Content-Type": FORM, Authorization: fixture.oauth.introspection },
      body: new URLSearchParams({ token: fixture.oauth.accessToken }).toString(),
    },
    {
      name: "oauth resource check",
      ceiling: "bare",
      method: "GET",
      url: `${fixture.oauth.resourceServer}/`,
      headers: { Authorization: `Bearer ${fixture.oauth.accessToken}` },
    },
    // An app's requireOrgPermission read over RPC, and the same session check with no
    // organization asked: the organization's standing travels with the session's memory.
    { name: "org permission read", ceiling: "kv", method: "GET", url: `${fixture.org.app}/`, headers: { Cookie: fixture.org.cookie } },
    {
      name: "rpc session check",
      ceiling: "kv",
      method: "GET",
      url: `${fixture.org.app}/?org=none`,
      headers: { Cookie: fixture.org.cookie },
    },
  ];
}

/** One autocannon run; returns requests/s, p50, p99 (ms) and errors. */
async function load(scenario, seconds) {
  const options = {
    url: scenario.url,
    connections: scenario.connections ?? CONNECTIONS,
    duration: seconds,
    method: scenario.method,
    headers: scenario.headers,
    body: scenario.body,
  };
  if (scenario.loginUsers !== undefined) {
    let next = 0;
    const users = scenario.loginUsers;
    options.requests = [
      {
        setupRequest(request) {
          const user = users[next++ % users.length];
          return {
            ...request,
            headers: { ...request.headers, "CF-Connecting-IP": user.ip },
            body: JSON.stringify({ email: user.email, password: scenario.password }),
          };
        },
      },
    ];
  }
  if (scenario.refreshFamilies !== undefined) {
    // Each connection owns one family and always presents its newest refresh token, as
    // an app would. Responses still in flight when a run ends are lost to the client, so
    // every run starts with fresh families (outside the measured time).
    let next = 0;
    const families = await scenario.newFamilies();
    options.requests = [
      {
        setupRequest(request, context) {
          context.family ??= next++ % families.length;
          const token = families[context.family];
          const body =
            scenario.refreshBody === undefined ? JSON.stringify({ refresh_token: token }) : scenario.refreshBody(context.family, token);
          return { ...request, body };
        },
        onResponse(status, body, context) {
          if (status === 200) families[context.family] = JSON.parse(body).refresh_token;
          else if (process.env.BENCH_DEBUG && !context.reported) {
            context.reported = true;
            log(`  refresh answered ${status}: ${String(body).slice(0, 200)}`);
          }
        },
      },
    ];
  }
  const cpuBefore = workerdCpuMicros();
  const result = await autocannon(options);
  // A path whose work goes on after its answers (an API key's usage goes to D1 by alarm a
  // few seconds later) is charged for it: that work is done now, inside the measurement.
  const cpuServed = workerdCpuMicros();
  if (scenario.finish !== undefined) await scenario.finish();
  const cpuAfter = workerdCpuMicros();
  // CPU-bound requests (password hashing) still queued in the Worker would slow the next
  // run down: wait until the Worker answers promptly again.
  await drain(scenario.url);
  if (process.env.BENCH_DEBUG)
    log(
      `  ${scenario.name ?? scenario.url}: ${JSON.stringify({ total: result.requests.total, avg: result.requests.average, errors: result.errors, non2xx: result.non2xx, finishMicros: cpuServed === null || cpuAfter === null ? null : cpuAfter - cpuServed })}`,
    );
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    cpuMicros:
      cpuBefore === null || cpuAfter === null || result.requests.total === 0 ? null : (cpuAfter - cpuBefore) / result.requests.total,
    requests: result.requests.total,
  };
}

/**
 * A path and its least-work Worker measured in one round as A B B A: two runs of half the
 * round's time each, so a drift of the machine's speed within the round (and whatever one
 * run leaves to the next) falls on both alike. Each side's CPU per request is its total
 * over its two runs.
 */
async function pairedRound(scenario, floor, seconds) {
  const half = seconds / 2;
  const first = await load(scenario, half);
  const floorFirst = await load(floor, half);
  const floorSecond = await load(floor, half);
  const second = await load(scenario, half);
  return { service: merged(first, second), floor: merged(floorFirst, floorSecond) };
}

function merged(a, b) {
  const requests = a.requests + b.requests;
  const cpuMicros =
    a.cpuMicros === null || b.cpuMicros === null || requests === 0
      ? null
      : (a.cpuMicros * a.requests + b.cpuMicros * b.requests) / requests;
  return {
    rps: (a.rps + b.rps) / 2,
    p50: Math.max(a.p50, b.p50),
    p99: Math.max(a.p99, b.p99),
    errors: a.errors + b.errors,
    cpuMicros,
    requests,
  };
}

async function countOperations(scenarios, base) {
  const calls = 40;
  const ops = {};
  await fetch(`${base}/__bench/ops`);
  for (const scenario of scenarios) {
    const tokens = scenario.refreshFamilies ? [...scenario.refreshFamilies] : null;
    for (let i = 0; i < calls; i++) {
      let body = scenario.body;
      if (tokens !== null)
        body = scenario.refreshBody === undefined ? JSON.stringify({ refresh_token: tokens[0] }) : scenario.refreshBody(0, tokens[0]);
      const response = await fetch(scenario.url, { method: scenario.method, headers: scenario.headers, body });
      const text = await response.text();
      if (tokens !== null && response.status === 200) tokens[0] = JSON.parse(text).refresh_token;
    }
    // Let waitUntil work and the usage flush (an alarm within 5 s) finish inside the window.
    await new Promise((resolve) => setTimeout(resolve, scenario.name.includes("api key") ? 6000 : 500));
    const counted = await (await fetch(`${base}/__bench/ops`)).json();
    ops[scenario.name] = Object.fromEntries(Object.entries(counted).map(([name, value]) => [name, value / calls]));
  }
  return ops;
}

/** Session check, bearer check and key verify with 1, 10,000 and 100,000 stored records. */
async function measureScale(seederUrl, base, fixture) {
  const scenarios = scenarioList(fixture, base).filter((scenario) =>
    ["session check", "me (bearer)", "api key verify"].includes(scenario.name),
  );
  const results = {};
  const adminScenarios = await adminList(seederUrl, base, fixture);
  let seeded = 1;
  for (const size of SCALE_SIZES) {
    const started = Date.now();
    // A KV session record, a KV principal record, a D1 user row and a D1 API key row per
    // record. Key Durable Objects are not created in bulk: a key's use only ever touches
    // its own object, so their number cannot slow another key down.
    const seeding = await fetch(`${seederUrl}/seed?from=${seeded}&to=${size}`, { method: "POST" });
    if (!seeding.ok) throw new Error(`seeding failed: ${seeding.status} ${await seeding.text()}`);
    seeded = size;
    log(`  ${size} stored sessions, users and keys (seeded in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    for (const scenario of scenarios) {
      const runs = [];
      for (let round = 0; round < (QUICK ? 1 : 2); round++) runs.push(await load(scenario, 2));
      (results[scenario.name] ??= {})[size] = median(runs.map((run) => run.rps));
    }
    for (const scenario of adminScenarios) {
      const run = await load(scenario, 2);
      (results.admin ??= {})[scenario.name] ??= {};
      results.admin[scenario.name][size] = { rps: Math.round(run.rps), p50: run.p50, p99: run.p99, errors: run.errors };
    }
  }
  return results;
}

/**
 * The admin user list (newest first, 20 a page) and a prefix search, called with a
 * superuser's API key holding admin_users:read (the bench user, promoted as
 * `wrangler d1 execute` would, then signed in again to mint the key).
 */
async function adminList(seederUrl, base, fixture) {
  await fetch(`${seederUrl}/promote?email=${encodeURIComponent(fixture.email)}`, { method: "POST" });
  const headers = { "Content-Type": "application/json", "CF-Connecting-IP": "198.51.100.7" };
  const login = await fetch(`${base}/api/v1/auth/login`, {
    method: "POST",
    headers,
    body: JSON.stringify({ email: fixture.email, password: fixture.password }),
  });
  const cookie = login.headers
    .getSetCookie()
    .map((line) => line.split(";")[0])
    .join("; ");
  const { csrf_token: csrf } = await login.json();
  const created = await fetch(`${base}/api/v1/api-keys`, {
    method: "POST",
    headers: { ...headers, Cookie: cookie, "X-CSRF-Token": csrf },
    body: JSON.stringify({
      name: "bench-admin",
      permissions: { admin_users: ["read"] },
      rate_limits: { requests_per_minute: 1_000_000, requests_per_day: 100_000_000 },
    }),
  });
  if (created.status !== 201) throw new Error(`admin key: ${created.status} ${await created.text()}`);
  const { api_key: key } = await created.json();
  return [
    { name: "admin user list", method: "GET", url: `${base}/api/v1/admin/users?limit=20`, headers: { "X-API-Key": key } },
    { name: "admin user search", method: "GET", url: `${base}/api/v1/admin/users?limit=20&query=u99`, headers: { "X-API-Key": key } },
  ];
}

/**
 * The deployed bundle's gzip size, and the time from starting a fresh runtime with the
 * Worker to its first answer (GET /healthz), against the same for the bare ceiling: the
 * difference is this Worker's own startup (module evaluation and first request).
 */
async function measureFootprint(serviceScript, workerOptions, bindings, shared) {
  const gzipBytes = gzipSync(readFileSync(serviceScript)).byteLength;
  const starts = QUICK ? 1 : 3;
  const firstResponse = async (worker) => {
    const started = performance.now();
    const fresh = new Miniflare(convertV4MiniflareOptions({ workers: [worker] }));
    const response = await fresh.dispatchFetch("http://localhost/healthz");
    await response.arrayBuffer();
    const elapsed = performance.now() - started;
    await fresh.dispose();
    return elapsed;
  };
  const service = [];
  const bare = [];
  for (let i = 0; i < starts; i++) {
    service.push(
      await firstResponse({
        name: "fresh",
        modules: true,
        scriptPath: serviceScript,
        ...shared,
        durableObjects: workerOptions.durableObjects,
        bindings,
      }),
    );
    bare.push(await firstResponse({ name: "fresh", modules: true, scriptPath: "bench/ceilings/bare.js", ...shared }));
  }
  return { gzipBytes, starts, serviceStartMs: Math.round(median(service)), bareStartMs: Math.round(median(bare)) };
}

async function drain(url) {
  // Requests still in flight when a run ends keep the runtime busy (a login's hash rounds
  // leave room for a quick /healthz between them): wait until its process is idle.
  for (let attempt = 0; attempt < 240; attempt++) {
    const before = workerdCpuMicros();
    await new Promise((resolve) => setTimeout(resolve, 250));
    const after = workerdCpuMicros();
    if (before === null || after === null || after - before < 25_000) break;
  }
  const origin = new URL(url).origin;
  for (let attempt = 0; attempt < 200; attempt++) {
    const started = performance.now();
    await fetch(`${origin}/healthz`)
      .then((response) => response.arrayBuffer())
      .catch(() => undefined);
    if (performance.now() - started < 50) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function report(samples, scenarios, ops, scale, footprint) {
  const summary = (runs) => ({
    rps: median(runs.map((run) => run.rps)),
    p50: median(runs.map((run) => run.p50)),
    p99: median(runs.map((run) => run.p99)),
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
    cpu: runs.some((run) => run.cpuMicros === null) ? null : median(runs.map((run) => run.cpuMicros)),
  });
  const rows = [];
  for (const scenario of scenarios) {
    const service = summary(samples[scenario.name]);
    const ceiling = summary(samples[`ceiling:${scenario.ceiling}`]);
    const ratio = service.rps / ceiling.rps;
    const ceilingGoal = CEILING_GOALS[scenario.name];
    const p99Ok = service.p99 <= 2 * Math.max(ceiling.p99, 1);
    const floorRuns = samples[`floor:${scenario.name}`];
    const floor = floorRuns === undefined ? null : summary(floorRuns);
    const ratioOf = (value) => (value === null ? null : Number(value.toFixed(2)));
    // Each round's pair, measured one after the other, is one ratio, and the row gives their
    // median: the machine's speed drifts between rounds (by up to a third here), much less
    // within a pair.
    const serviceRuns = samples[scenario.name];
    const pairs =
      floorRuns === undefined || floorRuns.some((run) => run.cpuMicros === null) || serviceRuns.some((run) => run.cpuMicros === null)
        ? null
        : floorRuns.map((run, index) => run.cpuMicros / serviceRuns[index].cpuMicros);
    const serviceOfFloor = pairs === null ? null : ratioOf(median(pairs));
    const goalMet =
      floor !== null
        ? serviceOfFloor !== null && serviceOfFloor >= FLOOR_GOAL && floor.errors === 0
        : ceilingGoal === undefined || ratio >= ceilingGoal;
    rows.push({
      scenario: scenario.name,
      ceiling: scenario.ceiling,
      rps: Math.round(service.rps),
      p50: service.p50,
      p99: service.p99,
      errors: service.errors,
      ceilingRps: Math.round(ceiling.rps),
      ceilingP99: ceiling.p99,
      ratio: Number(ratio.toFixed(2)),
      goal:
        floor !== null ? `CPU >= ${FLOOR_GOAL} of least work` : ceilingGoal === undefined ? null : `>= ${ceilingGoal}x ${scenario.ceiling}`,
      meetsTarget: goalMet && p99Ok && service.errors === 0,
      p99WithinTwiceCeiling: p99Ok,
      cpuMicros: service.cpu === null ? null : Math.round(service.cpu),
      ceilingCpuMicros: ceiling.cpu === null ? null : Math.round(ceiling.cpu),
      cpuRatio: service.cpu === null || ceiling.cpu === null ? null : Number((ceiling.cpu / service.cpu).toFixed(2)),
      // The least-work Worker of the path: what it reaches against the same ceiling, and
      // the service against it (CPU per request).
      floorRatio: floor === null ? null : ratioOf(floor.rps / ceiling.rps),
      floorErrors: floor === null ? null : floor.errors,
      floorCpuMicros: floor?.cpu == null ? null : Math.round(floor.cpu),
      floorCpuRatio: floor?.cpu == null || ceiling.cpu === null ? null : ratioOf(ceiling.cpu / floor.cpu),
      serviceOfFloor,
    });
  }
  const ceilingRows = Object.entries(samples)
    .filter(([name]) => name.startsWith("ceiling:"))
    .map(([name, runs]) => ({ ceiling: name.slice(8), ...summary(runs) }));

  const pad = (text, width) => String(text).padEnd(width);
  const lines = [];
  lines.push(
    "| scenario | req/s | p50 ms | p99 ms | errors | ceiling | ceiling req/s | ceiling p99 ms | ratio | least work's ratio | goal | p99 <= 2x ceiling | goal met |",
  );
  lines.push("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
  const cell = (value) => (value === null ? "-" : value);
  for (const row of rows) {
    lines.push(
      `| ${row.scenario} | ${row.rps} | ${row.p50} | ${row.p99} | ${row.errors} | ${row.ceiling} | ${row.ceilingRps} | ${row.ceilingP99} | ${row.ratio} | ${cell(row.floorRatio)} | ${cell(row.goal)} | ${row.p99WithinTwiceCeiling ? "yes" : "no"} | ${row.meetsTarget ? "met" : "missed"} |`,
    );
  }
  lines.push("");
  lines.push(
    "| scenario | CPU µs per request | ceiling's CPU µs per request | CPU ratio (ceiling / scenario) | least work's CPU µs | least work's CPU ratio | service against least work (CPU) |",
  );
  lines.push("|---|---|---|---|---|---|---|");
  for (const row of rows) {
    lines.push(
      `| ${row.scenario} | ${cell(row.cpuMicros)} | ${cell(row.ceilingCpuMicros)} | ${cell(row.cpuRatio)} | ${cell(row.floorCpuMicros)} | ${cell(row.floorCpuRatio)} | ${cell(row.serviceOfFloor)} |`,
    );
  }
  lines.push("");
  // A missed goal, said under the table, row by row.
  for (const row of rows) {
    if (row.goal === null || row.meetsTarget) continue;
    lines.push(
      row.serviceOfFloor === null
        ? `- ${row.scenario}: missed (${row.ratio} of ${row.ceiling} by req/s; p99 within 2x: ${row.p99WithinTwiceCeiling ? "yes" : "no"}; errors ${row.errors}).`
        : `- ${row.scenario}: the service spends ${row.cpuMicros} µs of CPU per request, its least work ${row.floorCpuMicros} µs (${row.serviceOfFloor}; p99 within 2x: ${row.p99WithinTwiceCeiling ? "yes" : "no"}; errors ${row.errors}).`,
    );
  }
  if (rows.some((row) => row.floorRatio !== null && row.floorErrors > 0))
    lines.push("- a least-work Worker answered with errors: its ratio is not a bound.");
  lines.push("");
  lines.push("| ceiling | req/s | p50 ms | p99 ms | CPU µs per request |");
  lines.push("|---|---|---|---|---|");
  for (const row of ceilingRows)
    lines.push(`| ${row.ceiling} | ${Math.round(row.rps)} | ${row.p50} | ${row.p99} | ${row.cpu === null ? "-" : Math.round(row.cpu)} |`);
  lines.push("");
  lines.push("| scenario | KV reads | KV writes | D1 queries | DO calls | USD per 1M requests |");
  lines.push("|---|---|---|---|---|---|");
  const costs = {};
  for (const [name, counted] of Object.entries(ops)) {
    const cost =
      PRICES.request +
      counted.kvRead * PRICES.kvRead +
      counted.kvWrite * PRICES.kvWrite +
      counted.d1Query * PRICES.d1Row +
      counted.doCall * PRICES.doRequest;
    costs[name] = Number(cost.toFixed(3));
    lines.push(
      `| ${name} | ${counted.kvRead.toFixed(2)} | ${counted.kvWrite.toFixed(2)} | ${counted.d1Query.toFixed(2)} | ${counted.doCall.toFixed(2)} | ${cost.toFixed(2)} |`,
    );
  }
  lines.push("");
  lines.push(`| scenario | ${SCALE_SIZES.map((size) => `${size.toLocaleString("en")} stored`).join(" | ")} | spread |`);
  lines.push(`|---|${SCALE_SIZES.map(() => "---").join("|")}|---|`);
  const spreads = {};
  for (const [name, bySize] of Object.entries(scale)) {
    if (name === "admin") continue;
    const values = SCALE_SIZES.map((size) => bySize[size]);
    const spread = (Math.max(...values) - Math.min(...values)) / Math.max(...values);
    spreads[name] = Number(spread.toFixed(3));
    lines.push(`| ${name} | ${values.map((value) => Math.round(value)).join(" | ")} | ${(spread * 100).toFixed(1)}% |`);
  }
  if (scale.admin !== undefined) {
    lines.push("");
    lines.push(
      `| admin (API key, 20 a page) | ${SCALE_SIZES.map((size) => `${size.toLocaleString("en")} users: req/s, p50, p99 ms`).join(" | ")} |`,
    );
    lines.push(`|---|${SCALE_SIZES.map(() => "---").join("|")}|`);
    for (const [name, bySize] of Object.entries(scale.admin)) {
      lines.push(
        `| ${name} | ${SCALE_SIZES.map((size) => `${bySize[size].rps}, ${bySize[size].p50}, ${bySize[size].p99}${bySize[size].errors > 0 ? ` (${bySize[size].errors} errors)` : ""}`).join(" | ")} |`,
      );
    }
  }
  lines.push("");
  lines.push("| footprint | service | bare Worker |");
  lines.push("|---|---|---|");
  lines.push(`| bundle, gzip | ${(footprint.gzipBytes / 1024).toFixed(1)} KiB | - |`);
  lines.push(
    `| first response of a fresh Worker (median of ${footprint.starts}) | ${footprint.serviceStartMs} ms | ${footprint.bareStartMs} ms |`,
  );
  const versions = toolchainVersions();
  lines.push(
    "",
    `Built and served by wrangler ${versions.wrangler} (Miniflare ${versions.miniflare}, workerd ${versions.workerd}; ${versions.toolchain}).`,
  );
  const table = lines.join("\n");
  process.stdout.write(`\n${table}\n\n`);
  process.stdout.write(
    "Prices: Workers $0.30/M requests, KV $0.50/M reads and $5.00/M writes, D1 $0.001/M rows read (one row per query assumed), Durable Objects $0.15/M requests; CPU time, DO duration and storage rows are not included.\n",
  );
  writeFileSync(
    `${OUT}/results.json`,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        toolchain: toolchainVersions(),
        connections: CONNECTIONS,
        rounds: ROUNDS,
        seconds: SECONDS,
        scenarios: rows,
        ceilings: ceilingRows,
        operations: ops,
        costPerMillion: costs,
        scale,
        scaleSpread: spreads,
        footprint,
        // Every run of every round, for a second look at the spread.
        samples: Object.fromEntries(
          Object.entries(samples).map(([name, runs]) => [
            name,
            runs.map((run) => ({
              rps: Math.round(run.rps),
              cpuMicros: run.cpuMicros === null ? null : Math.round(run.cpuMicros),
              errors: run.errors,
            })),
          ]),
        ),
      },
      null,
      2,
    ),
  );
  writeFileSync(`${OUT}/results.md`, `${table}\n`);
  log(`results: ${OUT}/results.json, ${OUT}/results.md`);
}

/** `--newest`: the same run on the newest wrangler release, installed in bench/out/newest first. */
function runOnNewest() {
  installNewest({ refresh: process.argv.includes("--refresh") });
  const args = process.argv.slice(1).filter((arg) => arg !== "--newest" && arg !== "--refresh");
  const run = spawnSync(process.execPath, args, { stdio: "inherit", env: { ...process.env, EDGE_AUTH_BENCH_WRANGLER: "newest" } });
  process.exit(run.status ?? 1);
}

if (process.argv.includes("--newest") && process.env.EDGE_AUTH_BENCH_WRANGLER !== "newest") runOnNewest();
main().catch((error) => {
  console.error(error);
  process.exit(1);
});
