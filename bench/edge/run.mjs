// npm run bench:edge: what each hot path costs at the edge, where a request's cost is its
// sequential remote round trips. Serves the service as it deploys with every binding
// behind a latency injector (bench/edge/worker.ts) for three placements
// (bench/edge/scenarios.mjs), sends each path's requests one at a time, and prints per
// path and scenario the client-side p50 and p95 and the round trips on the critical path.
//
//   npm run bench:edge [-- --quick] [-- --samples N] [-- --only login,refresh] [-- --json FILE]
import { writeFileSync } from "node:fs";
import { measure, startEdge, stopEdge } from "./harness.mjs";
import { BENCH_PATHS } from "./paths.mjs";
import { KV_READ_RTT_MS, RTT_MS, SAME_REGION_RTT_MS, SCENARIOS } from "./scenarios.mjs";

function option(name) {
  const index = process.argv.indexOf(name);
  return index === -1 ? null : process.argv[index + 1];
}

const QUICK = process.argv.includes("--quick");
const SAMPLES = Number(option("--samples") ?? (QUICK ? 8 : 30));
const ONLY = option("--only")?.split(",") ?? null;
const JSON_FILE = option("--json");
/** `--users N`: N accounts seeded first (each with a session, a key and 3 security events). */
const USERS = Number(option("--users") ?? "0");

function log(message) {
  process.stderr.write(`${message}\n`);
}

function report(results, hashMs, warnings) {
  const scenarios = Object.keys(SCENARIOS);
  const lines = [
    `| path | ${scenarios.map((name) => `${name} p50 ms | ${name} p95 ms | ${name} round trips`).join(" | ")} |`,
    `|---|${scenarios.map(() => "---|---|---").join("|")}|`,
  ];
  for (const [path, byScenario] of Object.entries(results)) {
    const cells = scenarios.map((name) => {
      const result = byScenario[name];
      const inside = result.inside_trips > 0 ? ` (+${result.inside_trips} inside)` : "";
      const providers = result.provider_calls > 0 ? ` (+${result.provider_calls} provider)` : "";
      const trips = `${result.round_trips}${inside}${providers}`;
      return `${result.p50_ms} | ${result.p95_ms} | ${trips}`;
    });
    lines.push(`| ${path} | ${cells.join(" | ")} |`);
  }
  lines.push(
    "",
    `Local password hash (median login with no injected delay): ${hashMs} ms. Accounts seeded besides the bench's own: ${USERS}.`,
    "",
    "Critical paths (near):",
  );
  for (const [path, byScenario] of Object.entries(results)) {
    const { chain, d1_primary_trips: primary } = byScenario.near;
    lines.push(
      `- ${path}: ${chain.length === 0 ? "(no remote call)" : chain.join(" -> ")}${primary > 0 ? ` [D1 primary: ${primary}]` : ""}`,
    );
    for (const name of scenarios.slice(1)) {
      const other = byScenario[name];
      if (other.chain.join() !== chain.join()) lines.push(`  - ${name}: ${other.chain.join(" -> ")}`);
    }
  }
  if (warnings.length > 0) lines.push("", "Warnings:", ...warnings.map((warning) => `- ${warning}`));
  process.stdout.write(`\n${lines.join("\n")}\n`);
}

async function main() {
  log("building the edge harness (memory on and off) and serving it...");
  const edge = await startEdge({ users: USERS });
  const warnings = [...edge.warnings];
  const results = {};
  try {
    const hash = await measure(edge, "login", "near", { samples: SAMPLES, fixedOneWayMs: 0 });
    // --only may also name the test's extra paths (refresh_csrf, bearer_kv, api_key_verify_kv).
    for (const path of ONLY ?? BENCH_PATHS) {
      results[path] = {};
      for (const scenario of Object.keys(SCENARIOS)) {
        log(`${path}, ${scenario} (${SAMPLES} samples)...`);
        const result = await measure(edge, path, scenario, { samples: SAMPLES });
        if (result.disagree !== null) warnings.push(`${path} (${scenario}): samples took ${result.disagree.join(" or ")} round trips`);
        results[path][scenario] = result;
      }
    }
    report(results, hash.p50_ms, warnings);
    if (JSON_FILE !== null) {
      const paths = {};
      for (const [path, byScenario] of Object.entries(results)) {
        paths[path] = {};
        for (const [scenario, { chain, disagree, ...figures }] of Object.entries(byScenario)) paths[path][scenario] = figures;
      }
      const rtt = { ...RTT_MS, same_region: SAME_REGION_RTT_MS, kv_read: KV_READ_RTT_MS };
      writeFileSync(JSON_FILE, `${JSON.stringify({ paths, hash_ms: hash.p50_ms, rtt_ms: rtt, users: USERS }, null, 2)}\n`);
      log(`results: ${JSON_FILE}`);
    }
  } finally {
    await stopEdge(edge);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
