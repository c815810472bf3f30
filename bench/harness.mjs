// The local harness the benchmark, the soak test and the restart test share: the Worker
// built as it deploys, served by Miniflare's API on a direct loopback socket with real
// local KV, D1 and Durable Objects (optionally persisted to a folder).
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
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
