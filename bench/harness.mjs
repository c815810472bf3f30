// The local harness the benchmark, the soak test and the restart test share: the Worker
// built as it deploys, served by Miniflare's API on a direct loopback socket with real
// local KV, D1 and Durable Objects (optionally persisted to a folder).
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";

export const COMPAT = "2026-11-01";

/** Builds `entry` (null: the Worker of wrangler.toml) with wrangler, as `wrangler deploy` would; returns the bundle's path. */
export function build(entry, outdir, extra = []) {
  execFileSync("npx", ["wrangler", "deploy", ...(entry ? [entry] : []), "--dry-run", "--outdir", outdir, ...extra], {
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

/**
 * Serves the built service alone, on a direct socket. `persist`: a folder that keeps D1,
 * KV and Durable Object state across instances (a restart); none: in memory.
 */
export async function serveService(script, { bindings, persist } = {}) {
  const { workerOptions } = unstable_getMiniflareWorkerOptions("wrangler.toml");
  const worker = {
    name: "service",
    modules: true,
    scriptPath: script,
    unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
    kvNamespaces: workerOptions.kvNamespaces,
    d1Databases: workerOptions.d1Databases,
    durableObjects: workerOptions.durableObjects,
    compatibilityDate: COMPAT,
    compatibilityFlags: ["nodejs_compat"],
    bindings,
  };
  const options = persist === undefined ? { workers: [worker] } : { workers: [worker], resourcePersistencePath: persist };
  const mf = new Miniflare(convertV4MiniflareOptions(options));
  await mf.ready;
  const url = (await mf.unsafeGetDirectURL("service")).href.replace(/\/$/, "");
  return { mf, url };
}
