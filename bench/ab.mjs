// npm run bench:ab -- <ref A> <ref B> ["<path>"]: two commits of the service against each
// other on one hot path, for a change too small for `npm run bench` to see. Both builds
// are served by one runtime, with one database, and measured A B B A in every round (8
// rounds of 3 s per side; BENCH_AB_ROUNDS, BENCH_AB_SECONDS), so the machine's drift,
// which here moves a run's CPU per request by up to a fifth, falls on both alike. Prints
// each round's CPU per request and A's over B's (above 1: B is cheaper), with their median.
// Paths: "api key verify" (the default), "me (api key)", "refresh".
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import {
  Miniflare,
  benchAccount,
  benchSettings,
  convertV4MiniflareOptions,
  migrate,
  refreshTarget,
  serviceWorker,
  workerdCpuMicros,
} from "./harness.mjs";

const [refA, refB, PATH = "api key verify"] = process.argv.slice(2);
if (refA === undefined || refB === undefined) throw new Error('usage: npm run bench:ab -- <ref A> <ref B> ["<path>"]');
const ROUNDS = Number(process.env.BENCH_AB_ROUNDS ?? 8);
const SECONDS = Number(process.env.BENCH_AB_SECONDS ?? 3);
const OUT = "bench/out/ab";

/** The commit's Worker built as it deploys, in a worktree of its own; the bundle is copied under bench/out (Miniflare serves from this directory). */
function buildAt(ref) {
  const sha = execFileSync("git", ["rev-parse", "--short", ref], { encoding: "utf8" }).trim();
  // Outside this checkout, so no tool that walks it (tests, the structure check) meets a second copy.
  const tree = path.join(os.tmpdir(), "edge-auth-ab", sha);
  if (!existsSync(tree)) {
    mkdirSync(path.dirname(tree), { recursive: true });
    execFileSync("git", ["worktree", "prune"]);
    execFileSync("git", ["worktree", "add", "--detach", tree, sha], { stdio: "ignore" });
    symlinkSync(path.resolve("node_modules"), path.join(tree, "node_modules"));
  }
  execFileSync(path.resolve("node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", path.join(tree, ".ab-build"), "--env="], {
    cwd: tree,
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  const script = `${OUT}/${sha}.js`;
  copyFileSync(path.join(tree, ".ab-build", "index.js"), script);
  return { sha, script };
}

mkdirSync(OUT, { recursive: true });
const a = buildAt(refA);
const b = buildAt(refB);
const settings = benchSettings();
const mf = new Miniflare(
  convertV4MiniflareOptions({ workers: [serviceWorker("a", a.script, settings), serviceWorker("b", b.script, settings)] }),
);
await mf.ready;
// The two builds share wrangler.toml's D1 database: migrated once.
await migrate(mf, "a");

const json = { "Content-Type": "application/json" };
async function target(worker) {
  const base = (await mf.unsafeGetDirectURL(worker)).href.replace(/\/$/, "");
  const { email, password, key, post } = await benchAccount(base, `ab-${worker}`);
  if (PATH === "refresh") {
    const families = [];
    for (let i = 0; i < 50; i++) families.push((await (await post("/api/v1/auth/token", { email, password })).json()).refresh_token);
    return refreshTarget(`${base}/api/v1/auth/refresh`, families);
  }
  const targets = {
    "api key verify": {
      method: "POST",
      url: `${base}/api/v1/api-keys/verify`,
      headers: json,
      body: JSON.stringify({ api_key: key.api_key, resource: "user_profile", action: "read" }),
    },
    "me (api key)": { method: "GET", url: `${base}/api/v1/users/me`, headers: { "X-API-Key": key.api_key } },
  };
  if (!Object.hasOwn(targets, PATH)) throw new Error(`unknown path ${PATH}: one of ${[...Object.keys(targets), "refresh"].join(", ")}`);
  return targets[PATH];
}
const targetA = await target("a");
const targetB = await target("b");

async function load(target) {
  const before = workerdCpuMicros();
  const result = await autocannon({ connections: 50, duration: SECONDS, ...target });
  if (result.non2xx > 0 || result.errors > 0) console.log(`  ${result.non2xx} answers were not 2xx, ${result.errors} errors`);
  return { requests: result.requests.total, micros: workerdCpuMicros() - before };
}

const perRequest = (first, second) => (first.micros + second.micros) / (first.requests + second.requests);
await load(targetA);
await load(targetB);
const ratios = [];
for (let round = 1; round <= ROUNDS; round++) {
  const a1 = await load(targetA);
  const b1 = await load(targetB);
  const b2 = await load(targetB);
  const a2 = await load(targetA);
  const [usA, usB] = [perRequest(a1, a2), perRequest(b1, b2)];
  ratios.push(usA / usB);
  console.log(`round ${round}: ${a.sha} ${usA.toFixed(0)} µs, ${b.sha} ${usB.toFixed(0)} µs a request; A/B ${(usA / usB).toFixed(3)}`);
}
const sorted = [...ratios].sort((x, y) => x - y);
const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
console.log(
  `${PATH}: A (${a.sha}) over B (${b.sha}), CPU per request: median ${median.toFixed(3)} (rounds: ${sorted.map((r) => r.toFixed(2)).join(" ")}); above 1, B is cheaper`,
);
await mf.dispose();
