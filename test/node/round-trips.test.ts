// Sequential remote round trips per hot path (issue 32): the service as it deploys, in the
// edge harness (bench/edge/), with the same 5 ms one-way delay on every hop, so calls made
// side by side overlap and calls made one after another do not. A round trip is any KV,
// D1 or Durable Object call the Worker's answer waits for; the calls an object awaits
// while answering are counted apart (inside trips: only a revocation's KV deletes, which
// the authority makes before it answers), and so are identity providers' calls.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: a plain ES module without types (shared with the edge benchmark)
import { measure, startEdge, stopEdge } from "../../bench/edge/harness.mjs";

interface Measured {
  round_trips: number;
  inside_trips: number;
  d1_primary_trips: number;
  provider_calls: number;
  chain: string[];
  disagree: number[] | null;
}
type Edge = { warnings: string[] };
const start = startEdge as (options: { outDir: string }) => Promise<Edge>;
const stop = stopEdge as (edge: Edge) => Promise<void>;
const measureOne = measure as (
  edge: Edge,
  path: string,
  scenario: string,
  options: { samples: number; fixedOneWayMs: number },
) => Promise<Measured>;

/**
 * The round trips each path may take (issue 32's targets; a change that adds a hop
 * fails here). `_kv`: against the build without isolate memory, as in an isolate that
 * has not seen the user lately; oauth_callback: a returning user, oauth_signup: a
 * GitHub account new to the service (not a hot path: measured so it cannot grow unseen).
 * Login: 2 besides the hash, at most 1 to D1's primary; OAuth: besides the provider's calls.
 */
const LIMITS: Record<string, number> = {
  session_check_memory: 0,
  session_check_kv: 1,
  bearer: 0,
  bearer_kv: 1,
  refresh: 1,
  refresh_csrf: 1,
  api_key_verify: 1,
  api_key_verify_kv: 1,
  logout: 1,
  logout_all: 1,
  login: 2,
  registration: 2,
  oauth_callback: 2,
  oauth_signup: 7,
  // The OAuth server: one call to the user's authority each (issue 33).
  oauth_refresh: 1,
  oauth_userinfo: 1,
  oauth_introspect: 1,
  // A resource server's check over RPC: as the bearer path (isolate memory; KV without it).
  oauth_resource_check: 0,
  oauth_resource_check_kv: 1,
  // requireOrgPermission on a read (issue 34): no more than the session or bearer check itself.
  org_read_session: 0,
  org_read_session_kv: 1,
  org_read_bearer: 0,
  org_read_bearer_kv: 1,
};
/** Trips to D1's primary, where the issue sets a target of its own. */
const D1_PRIMARY_LIMITS: Record<string, number> = { login: 1 };
/**
 * Calls an object awaits inside its answer: revocations, whose KV deletes are made before
 * the answer so a revoked session is not read back from KV (docs/concepts/consistency.md),
 * and a new account's first principal record.
 */
const INSIDE_LIMITS: Record<string, number> = { logout: 1, logout_all: 1, oauth_signup: 1 };

let edge: Edge;
const measured: Record<string, Measured> = {};

beforeAll(async () => {
  // Built inside the project: the runtime refuses module paths that climb out of it.
  edge = await start({ outDir: "bench/out/edge-test" });
}, 240_000);

afterAll(async () => {
  if (Object.keys(measured).length > 0) {
    const rows = Object.entries(measured).map(([path, result]) => `${path}: ${result.round_trips} (${result.chain.join(" -> ") || "-"})`);
    console.log(`round trips at 5 ms a hop:\n${rows.join("\n")}`);
  }
  if (edge !== undefined) await stop(edge);
});

describe("sequential remote round trips on each hot path", () => {
  it.each(Object.keys(LIMITS))(
    "%s takes no more round trips than today",
    async (path) => {
      const result = await measureOne(edge, path, "near", { samples: 2, fixedOneWayMs: 5 });
      measured[path] = result;
      expect(result.disagree, `${path}: samples disagree`).toBeNull();
      expect(result.round_trips, result.chain.join(" -> ")).toBeLessThanOrEqual(LIMITS[path] ?? 0);
      expect(result.inside_trips, result.chain.join(" -> ")).toBeLessThanOrEqual(INSIDE_LIMITS[path] ?? 0);
      const primary = D1_PRIMARY_LIMITS[path];
      if (primary !== undefined) expect(result.d1_primary_trips).toBeLessThanOrEqual(primary);
    },
    60_000,
  );

  it("matches the calls made inside Durable Objects to the calls that reached them (by the objects' names)", () => {
    expect(edge.warnings).toEqual([]);
  });
});
