// Where things are in each placement scenario of the edge harness, and what a round trip
// between two regions costs (bench/edge/worker.ts applies both to every binding call).
//
// Regions: enam (Ashburn / New York), weur (Paris / London), apac (Sydney).
// Round trips, in ms, rounded from published figures:
// - WonderNetwork global ping statistics (https://wondernetwork.com/pings): New York to
//   London about 70-75, London to Sydney about 260-270, Paris to Sydney about 280-290,
//   New York to Sydney about 200-230;
// - Azure network round-trip latency statistics
//   (https://learn.microsoft.com/azure/networking/azure-network-latency): East US to
//   West Europe / UK South about 75-85, East US to Australia East about 200-210, West
//   Europe / France Central to Australia East about 250-290.
// So enam-weur 80, enam-apac 200 and weur-apac 280 (the Paris end; issue 32 quotes up to
// ~350 for Paris-Sydney, the worst routes of older measurements). Within one region 2 ms.
export const RTT_MS = { "enam|weur": 80, "enam|apac": 200, "weur|apac": 280 };
export const SAME_REGION_RTT_MS = 2;
/** A hot KV read is answered by the cache of the caller's own data centre. */
export const KV_READ_RTT_MS = 3;
/** KV writes go to the central store. */
export const KV_HOME = "enam";
/** The identity providers' APIs (GitHub's are served from the US East coast). */
export const PROVIDER_HOME = "enam";

/**
 * Durable Object homes follow from the placement (bench/edge/trace.ts, regionOf): the
 * user's authority and the account throttles (`account:`, `id:`) at `authority`, the IP
 * throttles (`ip:`, `hourly:`) at the user's region, API key objects at `keys`.
 */
export const SCENARIOS = {
  // Everything in one region.
  near: { user: "enam", d1Primary: "enam", d1Replicas: [], authority: "enam", keys: "enam" },
  // A user in Sydney, whose objects were created near them; D1's primary stays in enam,
  // with a read replica in apac.
  far: { user: "apac", d1Primary: "enam", d1Replicas: ["apac"], authority: "apac", keys: "apac" },
  // A Sydney user travelling in Europe: their authority stays home in apac; the IP
  // throttles and the API key they use now are made near them, with a weur replica.
  traveller: { user: "weur", d1Primary: "enam", d1Replicas: ["weur"], authority: "apac", keys: "weur" },
};

/** The body of POST /__edge/config for a scenario, or for a fixed one-way delay on every hop. */
export function edgeConfig(scenario, { fixedOneWayMs = null } = {}) {
  const where = SCENARIOS[scenario] ?? SCENARIOS.near;
  return {
    rtt: RTT_MS,
    sameRegionRtt: SAME_REGION_RTT_MS,
    kvReadRtt: KV_READ_RTT_MS,
    placement: { ...where, kvHome: KV_HOME, provider: PROVIDER_HOME },
    fixedOneWayMs,
  };
}
