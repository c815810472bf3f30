// The edge harness, shared by `npm run bench:edge` (bench/edge/run.mjs) and
// test/node/round-trips.test.ts: the service built as it deploys around bench/edge/worker.ts
// (isolate memory on, and off as in bench/run.mjs's cache-miss build), served by Miniflare
// with every binding behind a latency injector, a loopback GitHub for OAuth, and one
// request at a time measured with its critical path of remote round trips.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { build as esbuild } from "esbuild";
import {
  benchSettings,
  COMPAT,
  Miniflare,
  build,
  convertV4MiniflareOptions,
  migrate,
  serviceWorker,
  unstable_getMiniflareWorkerOptions,
} from "../harness.mjs";
import { criticalPath } from "./critical-path.mjs";
import { PATHS, signedInUser } from "./paths.mjs";
import { edgeConfig } from "./scenarios.mjs";

// `--env=`: the top-level environment (wrangler.toml also defines staging).
const BUILDS = { memory: ["--env="], cold: ["--env=", "--define", "EDGE_AUTH_BENCH_NO_MEMORY:true"] };

/** Builds both services and the loopback GitHub (test/servers/fake-github.ts) under `outDir`. */
export async function buildEdge(outDir) {
  mkdirSync(outDir, { recursive: true });
  const scripts = {};
  for (const [name, extra] of Object.entries(BUILDS)) scripts[name] = build("bench/edge/worker.ts", `${outDir}/${name}`, extra);
  await esbuild({
    entryPoints: ["test/servers/fake-github.ts"],
    bundle: true,
    platform: "node",
    format: "esm",
    outfile: `${outDir}/fake-github.mjs`,
    logLevel: "error",
  });
  return scripts;
}

/**
 * Builds and serves both services; makes a signed-in user with a token pair and an API
 * key on each. Returns the edge handle the other functions take.
 */
export async function startEdge({ outDir = "bench/out/edge", users = 0 } = {}) {
  const scripts = await buildEdge(outDir);
  const fakeGitHub = await import(pathToFileURL(path.resolve(outDir, "fake-github.mjs")).href);
  const github = await fakeGitHub.startFakeGitHub();
  const { workerOptions } = unstable_getMiniflareWorkerOptions("wrangler.toml");
  const bindings = {
    ...benchSettings(),
    // The OAuth paths' resource server is registered by an admin with no second factor (bench/oauth.mjs).
    ADMIN_REQUIRE_MFA: "false",
    OAUTH_GITHUB_URL: github.url,
    OAUTH_GITHUB_API_URL: github.url,
    OAUTH_GITHUB_CLIENT_ID: fakeGitHub.GITHUB_CLIENT_ID,
    OAUTH_GITHUB_CLIENT_SECRET: fakeGitHub.GITHUB_CLIENT_SECRET,
  };
  // Each build's own AuthService behind AUTH_SELF: a resource server's check over a service binding.
  const workers = Object.entries(scripts).map(([name, scriptPath]) => ({
    ...serviceWorker(name, scriptPath, bindings),
    serviceBindings: { AUTH_SELF: { name, entrypoint: "AuthService" } },
  }));
  // The bench's seeder (bench/seeder.js) shares the services' D1 and KV: `users` accounts
  // with a session, a key and 3 security events each, so the paths run against a full table.
  workers.push({
    name: "seeder",
    modules: true,
    scriptPath: "bench/seeder.js",
    unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
    kvNamespaces: workerOptions.kvNamespaces,
    d1Databases: workerOptions.d1Databases,
    compatibilityDate: COMPAT,
  });
  const mf = new Miniflare(convertV4MiniflareOptions({ workers }));
  await mf.ready;
  await migrate(mf, "memory");
  const seeder = (await mf.unsafeGetDirectURL("seeder")).href.replace(/\/$/, "");
  for (let from = 0; from < users; from += 10_000) {
    const seeded = await fetch(`${seeder}/seed?from=${from}&to=${Math.min(users, from + 10_000)}&events=3`, { method: "POST" });
    if (seeded.status !== 200) throw new Error(`seeding: ${seeded.status}`);
  }
  const edge = { mf, github, contexts: {}, warnings: [], users };
  for (const name of Object.keys(scripts)) {
    const base = (await mf.unsafeGetDirectURL(name)).href.replace(/\/$/, "");
    edge.contexts[name] = { base, githubUrl: github.url, seeder };
  }
  await setScenario(edge, "near", { fixedOneWayMs: 0 });
  for (const context of Object.values(edge.contexts)) {
    // One trace for the Worker and its objects needs one module instance for both.
    const { shared } = await (await fetch(`${context.base}/__edge/shared`)).json();
    if (!shared) throw new Error("the Durable Objects do not share the Worker's module here: their calls would miss the trace");
    context.user = await signedInUser(context.base);
    const { events } = await drain(context.base);
    if (events.some((event) => /:[0-9a-f]{64}$/.test(event.from))) {
      edge.warnings.push("objects see their id without its name: their calls are not matched to the calls that reached them");
    }
  }
  return edge;
}

export async function stopEdge(edge) {
  await edge.mf.dispose();
  await new Promise((resolve) => edge.github.server.close(resolve));
}

async function configure(base, config) {
  const response = await fetch(`${base}/__edge/config`, { method: "POST", body: JSON.stringify(config) });
  if (response.status !== 204) throw new Error(`edge config: ${response.status}`);
}

/** Sets every build's placement and delays: a scenario, or `fixedOneWayMs` on every hop. */
export async function setScenario(edge, scenario, options = {}) {
  edge.config = edgeConfig(scenario, options);
  for (const context of Object.values(edge.contexts)) await configure(context.base, edge.config);
}

/** Waits for after-answer work to settle; returns and clears the trace. */
export async function drain(base) {
  return (await fetch(`${base}/__edge/trace`)).json();
}

async function sample(edge, path, context, state) {
  const definition = PATHS[path];
  let input;
  if (definition.prepare !== undefined) {
    await configure(context.base, edgeConfig("near", { fixedOneWayMs: 0 }));
    input = await definition.prepare(context, state);
    await drain(context.base);
    await configure(context.base, edge.config);
  }
  const started = performance.now();
  const response = await definition.send(context, state, input);
  const body = await response.text();
  const ms = performance.now() - started;
  if (response.status !== (definition.status ?? 200)) throw new Error(`${path}: ${response.status} ${body.slice(0, 300)}`);
  const { events, requests } = await drain(context.base);
  const request = requests.filter((entry) => entry.path === definition.route).at(-1);
  if (request === undefined) throw new Error(`${path}: the trace has no request to ${definition.route}`);
  return { ms, ...criticalPath(events, request) };
}

function percentile(values, share) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(share * sorted.length) - 1)];
}

/**
 * Measures `path` under `scenario` (set with setScenario, or here with `fixedOneWayMs`),
 * one request at a time after one unmeasured warm-up: client-side p50 and p95, and the
 * critical path's round trips (the most any sample took; `disagree` lists the distinct
 * counts when samples differ).
 */
export async function measure(edge, path, scenario, { samples = 30, fixedOneWayMs = null } = {}) {
  const definition = PATHS[path];
  const context = edge.contexts[definition.build];
  await setScenario(edge, "near", { fixedOneWayMs: 0 });
  const state = definition.setup === undefined ? {} : await definition.setup(context);
  await drain(context.base);
  await setScenario(edge, scenario, { fixedOneWayMs });
  await sample(edge, path, context, state);
  const runs = [];
  for (let i = 0; i < samples; i++) runs.push(await sample(edge, path, context, state));
  const trips = runs.map((run) => run.round_trips);
  const times = runs.map((run) => run.ms);
  const worst = runs.reduce((top, run) => (run.round_trips > top.round_trips ? run : top));
  const distinct = [...new Set(trips)].sort((a, b) => a - b);
  return {
    p50_ms: Math.round(percentile(times, 0.5)),
    p95_ms: Math.round(percentile(times, 0.95)),
    round_trips: worst.round_trips,
    inside_trips: Math.max(...runs.map((run) => run.inside_trips)),
    d1_primary_trips: Math.max(...runs.map((run) => run.d1_primary_trips)),
    provider_calls: Math.max(...runs.map((run) => run.provider_calls)),
    chain: worst.chain,
    disagree: distinct.length > 1 ? distinct : null,
  };
}
