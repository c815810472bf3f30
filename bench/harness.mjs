// The local harness the benchmark, the soak test and the restart test share: the Worker
// built as it deploys, served by Miniflare's API on a direct loopback socket with real
// local KV, D1 and Durable Objects (optionally persisted to a folder).
import { execFileSync } from "node:child_process";
import { generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

export const COMPAT = "2026-11-01";

/**
 * Which wrangler builds and serves: the repo's pinned one, or with
 * EDGE_AUTH_BENCH_WRANGLER=newest the newest release (with its Miniflare and workerd),
 * installed in bench/out/newest by `npm run bench -- --newest` (installNewest below).
 * Production always runs the newest runtime, so the numbers are taken on both.
 */
export const TOOLCHAIN = process.env.EDGE_AUTH_BENCH_WRANGLER === "newest" ? "newest" : "pinned";
const NEWEST_DIR = "bench/out/newest";
const modules = TOOLCHAIN === "newest" ? path.resolve(NEWEST_DIR, "node_modules") : path.resolve("node_modules");
const wranglerBin = path.join(modules, ".bin", "wrangler");
const { Miniflare, convertV4MiniflareOptions } = await import(
  pathToFileURL(path.join(modules, "miniflare", "dist", "src", "index.js")).href
);
const { unstable_getMiniflareWorkerOptions } = await import(pathToFileURL(path.join(modules, "wrangler", "wrangler-dist", "cli.js")).href);
export { Miniflare, convertV4MiniflareOptions, unstable_getMiniflareWorkerOptions };

/** The versions in use, for the report. */
export function toolchainVersions() {
  const version = (name) => JSON.parse(readFileSync(path.join(modules, name, "package.json"), "utf8")).version;
  return { toolchain: TOOLCHAIN, wrangler: version("wrangler"), miniflare: version("miniflare"), workerd: version("workerd") };
}

/** Installs (or updates, with `refresh`) the newest wrangler release in bench/out/newest. */
export function installNewest({ refresh = false } = {}) {
  if (existsSync(path.join(NEWEST_DIR, "node_modules", ".bin", "wrangler")) && !refresh) return;
  execFileSync("npm", ["install", "--prefix", NEWEST_DIR, "--no-audit", "--no-fund", "--no-save", "wrangler@latest"], {
    stdio: ["ignore", "ignore", "inherit"],
  });
}

/** Builds `entry` (null: the Worker of wrangler.toml) with wrangler, as `wrangler deploy` would; returns the bundle's path. */
export function build(entry, outdir, extra = []) {
  // `--env=`: the top-level environment (wrangler.toml also defines staging), unless asked otherwise.
  const env = extra.some((arg) => arg.startsWith("--env")) ? [] : ["--env="];
  execFileSync(wranglerBin, ["deploy", ...(entry ? [entry] : []), "--dry-run", "--outdir", outdir, ...env, ...extra], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  // wrangler names the bundle after the entry file.
  const name =
    entry === null
      ? "index"
      : entry
          .split("/")
          .pop()
          .replace(/\.[jt]s$/, "");
  return `${outdir}/${name}.js`;
}

/**
 * The service's settings for a measurement: production mode with its required base URL
 * (nothing here follows it), plain-HTTP cookies on loopback, no per-user session cap in
 * the way of many token families, no request log lines (locally each is piped from workerd
 * through Node, which costs more than the request itself; at the edge they go to Workers
 * Logs), and API keys limited only by their own limits.
 */
export function benchSettings(secret = randomBytes(32).toString("base64url")) {
  return {
    ENVIRONMENT: "production",
    APP_BASE_URL: "https://app.bench.invalid",
    SECRET_KEY: secret,
    SESSION_SECURE_COOKIES: "false",
    MAX_SESSIONS_PER_USER: "1000",
    REQUEST_LOGS: "false",
    API_KEY_DEFAULT_REQUESTS_PER_MINUTE: "1000000",
    // The OAuth server (its refresh and UserInfo are measured too), with an ES256 key of the run's own.
    OAUTH_SERVER_ENABLED: "true",
    // Production needs a fixed issuer (the floors sign as the same one).
    OAUTH_ISSUER: "https://app.bench.invalid",
    // The resource the measured OAuth tokens are for (bench/oauth.mjs).
    OAUTH_SERVER_RESOURCES: "https://mcp.bench.invalid/mcp",
    OAUTH_SERVER_SIGNING_KEYS: JSON.stringify({
      keys: [{ ...generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "jwk" }), kid: "bench-es256" }],
    }),
  };
}

export function migrationsSql() {
  return readdirSync("migrations")
    .filter((name) => name.endsWith(".sql"))
    .sort()
    .map((name) => readFileSync(`migrations/${name}`, "utf8"));
}

export function statements(sql) {
  return sql
    .split("\n")
    .filter((line) => !line.trim().startsWith("--"))
    .join("\n")
    .split(";")
    .map((statement) => statement.trim())
    .filter((statement) => statement !== "");
}

/** Applies every migration to the service's D1 (a fresh database). */
export async function migrate(mf, worker = "service") {
  const db = await mf.getD1Database("DB", worker);
  for (const sql of migrationsSql()) for (const statement of statements(sql)) await db.prepare(statement).run();
}

/** A build of the service as a Miniflare worker, on its own direct socket, with wrangler.toml's KV, D1 and Durable Objects. */
export function serviceWorker(name, scriptPath, bindings) {
  const { workerOptions } = unstable_getMiniflareWorkerOptions("wrangler.toml");
  return {
    name,
    modules: true,
    scriptPath,
    unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
    kvNamespaces: workerOptions.kvNamespaces,
    d1Databases: workerOptions.d1Databases,
    durableObjects: workerOptions.durableObjects,
    compatibilityDate: COMPAT,
    compatibilityFlags: ["nodejs_compat"],
    bindings,
  };
}

/**
 * Serves the built service alone, on a direct socket. `persist`: a folder that keeps D1,
 * KV and Durable Object state across instances (a restart); none: in memory.
 */
export async function serveService(script, { bindings, persist } = {}) {
  const worker = serviceWorker("service", script, bindings);
  const options = persist === undefined ? { workers: [worker] } : { workers: [worker], resourcePersistencePath: persist };
  const mf = new Miniflare(convertV4MiniflareOptions(options));
  await mf.ready;
  const url = (await mf.unsafeGetDirectURL("service")).href.replace(/\/$/, "");
  return { mf, url };
}

const JSON_FROM_ONE_IP = { "Content-Type": "application/json", "CF-Connecting-IP": "198.51.100.7" };

/**
 * One bench account on the service at `base`, made through the API: registered, signed
 * in (its session cookie and CSRF token), and holding an API key that may read the
 * profile with limits the load never reaches. `post` sends JSON from the bench's one IP.
 */
export async function benchAccount(base, label) {
  const post = (route, body, headers = {}) =>
    fetch(`${base}${route}`, { method: "POST", headers: { ...JSON_FROM_ONE_IP, ...headers }, body: JSON.stringify(body) });
  const email = `${label}-${randomUUID()}@bench.test`;
  const password = `${label}-password-${randomUUID()}`;
  const registered = await post("/api/v1/users", { email, password });
  if (registered.status !== 201) throw new Error(`register: ${registered.status}`);
  const login = await post("/api/v1/auth/login", { email, password });
  const cookie = login.headers
    .getSetCookie()
    .map((line) => line.split(";")[0])
    .join("; ");
  const { csrf_token: csrf } = await login.json();
  const key = await (
    await post(
      "/api/v1/api-keys",
      {
        name: label,
        permissions: { user_profile: ["read"] },
        rate_limits: { requests_per_minute: 1_000_000, requests_per_day: 100_000_000 },
      },
      { Cookie: cookie, "X-CSRF-Token": csrf },
    )
  ).json();
  return { email, password, cookie, csrf, key, post };
}

/**
 * An autocannon target refreshing tokens: each connection rotates its own family from
 * `families` (refresh tokens, replaced in place as they rotate). `bodyOf(slot, token)`:
 * a form body instead of the JSON one (the OAuth server's token endpoint).
 */
export function refreshTarget(url, families, bodyOf = undefined) {
  let slots = 0;
  return {
    method: "POST",
    url,
    headers: { "Content-Type": bodyOf === undefined ? "application/json" : "application/x-www-form-urlencoded" },
    requests: [
      {
        setupRequest(request, context) {
          context.slot ??= slots++ % families.length;
          const token = families[context.slot];
          return { ...request, body: bodyOf === undefined ? JSON.stringify({ refresh_token: token }) : bodyOf(context.slot, token) };
        },
        onResponse(status, body, context) {
          if (status === 200) families[context.slot] = JSON.parse(body).refresh_token;
        },
      },
    ],
  };
}

let workerdPid;
/**
 * The CPU time (user + system, µs) the runtime's process has used so far, from Linux's
 * /proc; null elsewhere. Every Worker and Durable Object of a Miniflare instance lives in
 * that one workerd process (the child of this one).
 */
export function workerdCpuMicros() {
  try {
    workerdPid ??= readdirSync("/proc")
      .filter((entry) => /^\d+$/.test(entry))
      .find((pid) => {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        return stat.includes("(workerd)") && Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === process.pid;
      });
    if (workerdPid === undefined) return null;
    const stat = readFileSync(`/proc/${workerdPid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime, in clock ticks of 1/100 s (USER_HZ on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return null;
  }
}
