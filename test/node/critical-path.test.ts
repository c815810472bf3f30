// The edge harness's critical path (bench/edge/critical-path.mjs): how many remote round
// trips a request's answer waited for, from the trace of its calls.
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain ES module without types (shared with the edge benchmark)
import { criticalPath as untypedCriticalPath } from "../../bench/edge/critical-path.mjs";

interface Event {
  kind: "kv" | "d1" | "do" | "provider";
  label: string;
  from: string;
  target: string;
  start: number;
  end: number;
  background?: true;
}
interface Path {
  round_trips: number;
  inside_trips: number;
  d1_primary_trips: number;
  provider_calls: number;
  chain: string[];
}
const criticalPath = untypedCriticalPath as (events: Event[], request: { start: number; responded: number }) => Path;

const REQUEST = { start: 0, responded: 100 };

function kv(start: number, end: number, from = "worker"): Event {
  return { kind: "kv", label: "SESSIONS.get", from, target: "SESSIONS", start, end };
}
function d1(start: number, end: number, from = "worker", target = "DB:primary"): Event {
  return { kind: "d1", label: "DB.first", from, target, start, end };
}
function object(start: number, end: number, target: string, from = "worker"): Event {
  return { kind: "do", label: `${target.split(":")[0]}.call`, from, target, start, end };
}
function provider(start: number, end: number): Event {
  return { kind: "provider", label: "fetch POST /token", from: "worker", target: "github", start, end };
}

describe("the critical path of one request", () => {
  it("has no round trip when the request calls nothing", () => {
    expect(criticalPath([], REQUEST)).toEqual({ round_trips: 0, inside_trips: 0, d1_primary_trips: 0, provider_calls: 0, chain: [] });
  });

  it("counts calls made side by side once", () => {
    const trace = [object(1, 5, "LOGIN_THROTTLE:ip:1"), object(2, 6, "LOGIN_THROTTLE:account:u"), kv(3, 4)];
    expect(criticalPath(trace, REQUEST).round_trips).toBe(1);
  });

  it("adds calls made one after another", () => {
    const trace = [d1(1, 2), object(3, 6, "LOGIN_THROTTLE:ip:1"), object(4, 5, "LOGIN_THROTTLE:account:u"), kv(7, 8)];
    const path = criticalPath(trace, REQUEST);
    expect(path.round_trips).toBe(3);
    expect(path.d1_primary_trips).toBe(1);
    expect(path.chain).toHaveLength(3);
  });

  it("counts a Durable Object call once, and the calls it makes while answering (and theirs) as inside trips", () => {
    const authority = "USER_AUTHORITY:u";
    const keys = "API_KEYS:k";
    const trace = [
      object(1, 20, authority),
      d1(2, 3, authority),
      object(4, 9, keys, authority),
      d1(5, 6, keys),
      kv(10, 11, authority),
      // Another object's call in the same interval is not this object's work.
      kv(12, 13, "USER_AUTHORITY:someone-else"),
    ];
    const path = criticalPath(trace, REQUEST);
    // The Worker waits for one call; inside it: the authority's D1 call, the key object's
    // hop with its D1 call, its KV write.
    expect(path.round_trips).toBe(1);
    expect(path.inside_trips).toBe(4);
    expect(path.d1_primary_trips).toBe(2);
    expect(path.chain).toEqual(["USER_AUTHORITY.call { DB.first -> API_KEYS.call { DB.first } -> SESSIONS.get }"]);
  });

  it("ignores calls still running after the answer, and an object's calls after its own answer", () => {
    const authority = "USER_AUTHORITY:u";
    const trace = [object(1, 4, authority), kv(5, 6, authority), d1(7, 150), kv(120, 130)];
    expect(criticalPath(trace, { start: 0, responded: 10 }).round_trips).toBe(1);
  });

  it("ignores an object's alarm work that runs while a call to it is answered", () => {
    const keys = "API_KEYS:k";
    const trace = [object(1, 6, keys), { ...d1(2, 5, keys), background: true as const }];
    expect(criticalPath(trace, REQUEST).round_trips).toBe(1);
  });

  it("ignores calls of earlier requests", () => {
    const trace = [kv(1, 2), d1(3, 4), kv(11, 12)];
    expect(criticalPath(trace, { start: 10, responded: 20 }).round_trips).toBe(1);
  });

  it("counts provider calls apart from the round trips", () => {
    const trace = [d1(1, 2), provider(3, 4), provider(5, 8), provider(6, 7), object(9, 10, "USER_AUTHORITY:u")];
    const path = criticalPath(trace, REQUEST);
    expect(path.round_trips).toBe(2);
    expect(path.provider_calls).toBe(2);
    expect(path.chain).toEqual(["DB.first", "fetch POST /token", "fetch POST /token", "USER_AUTHORITY.call"]);
  });

  it("does not count a read replica as a trip to D1's primary", () => {
    const trace = [d1(1, 2, "worker", "DB:replica"), d1(3, 4)];
    const path = criticalPath(trace, REQUEST);
    expect(path.round_trips).toBe(2);
    expect(path.d1_primary_trips).toBe(1);
    expect(path.chain[0]).toBe("DB.first (replica)");
  });
});
