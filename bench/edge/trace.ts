// The edge harness's module-level state: the placement it simulates and the trace of every
// remote call. The Worker and its Durable Objects run in one isolate under Miniflare, so
// they share this module: bench/edge/harness.mjs checks it at start (GET /__edge/shared
// asks an object for its moduleInstance() and compares it with the Worker's).
// @ts-ignore: nodejs_compat's node:async_hooks, which the Workers type set does not declare
import { AsyncLocalStorage } from "node:async_hooks";

/** Where a caller runs: the Worker (at the user's region) or one Durable Object. */
export interface Caller {
  /** "worker", or the object's binding and name ("USER_AUTHORITY:<user id>"). */
  tag: string;
  namespace: string | null;
  name: string | null;
}

export interface TraceEvent {
  kind: "kv" | "d1" | "do" | "provider";
  /** What was called: "SESSIONS.get", "DB.first SELECT ...", "USER_AUTHORITY.createSession". */
  label: string;
  /** The caller's tag, and its region when the call was made. */
  from: string;
  region: string;
  /** The callee: "SESSIONS", "DB:primary", "DB:replica", an object's tag, a provider's host. */
  target: string;
  where: string;
  /** The injected round trip, in ms. */
  rtt: number;
  /** Made by an object's alarm: never part of a request's answer, even while one is in flight. */
  background?: true;
  /** Sequence numbers (one counter for calls and requests): ordering, not time. */
  start: number;
  end: number;
}

export interface Placement {
  user: string;
  d1Primary: string;
  d1Replicas: string[];
  authority: string;
  keys: string;
  kvHome: string;
  provider: string;
}

export interface EdgeConfig {
  /** Round trips in ms, by "a|b" (either order); the same region costs `sameRegionRtt`. */
  rtt: Record<string, number>;
  sameRegionRtt: number;
  /** A KV read is answered by the edge cache near the caller. */
  kvReadRtt: number;
  placement: Placement;
  /** Tests: every hop costs this one-way delay, whatever the placement. */
  fixedOneWayMs: number | null;
}

const LOCAL = "local";
let config: EdgeConfig = {
  rtt: {},
  sameRegionRtt: 0,
  kvReadRtt: 0,
  placement: { user: LOCAL, d1Primary: LOCAL, d1Replicas: [], authority: LOCAL, keys: LOCAL, kvHome: LOCAL, provider: LOCAL },
  fixedOneWayMs: 0,
};

let seq = 0;
let inflight = 0;
let events: TraceEvent[] = [];
let requests: Array<{ method: string; path: string; start: number; responded: number }> = [];

export const WORKER: Caller = { tag: "worker", namespace: null, name: null };

let instance: string | undefined;

/** This module instance (made on first use: no random values at start): an object that reports the Worker's shares its trace. */
export function moduleInstance(): string {
  return (instance ??= crypto.randomUUID());
}

const alarms = new AsyncLocalStorage();

/** Runs an object's alarm so that the calls it makes are marked as background work. */
export function asAlarm<T>(alarm: () => Promise<T>): Promise<T> {
  return alarms.run(true, alarm) as Promise<T>;
}

export function setConfig(next: EdgeConfig): void {
  config = next;
}

export function placement(): Placement {
  return config.placement;
}

/** An object's home: the user's authority, the key's, or (throttles by client IP) the user's region. */
export function regionOf(caller: Caller): string {
  const where = config.placement;
  if (caller.namespace === null) return where.user;
  if (caller.namespace === "API_KEYS") return where.keys;
  if (caller.namespace === "LOGIN_THROTTLE" && /^(ip|hourly):/.test(caller.name ?? "")) return where.user;
  return where.authority;
}

export function oneWayMs(from: string, to: string): number {
  if (config.fixedOneWayMs !== null) return config.fixedOneWayMs;
  if (from === to) return config.sameRegionRtt / 2;
  return (config.rtt[`${from}|${to}`] ?? config.rtt[`${to}|${from}`] ?? 0) / 2;
}

export function kvReadOneWayMs(): number {
  return config.fixedOneWayMs ?? config.kvReadRtt / 2;
}

function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * One remote call: the request travels, the callee works, the answer travels back.
 * Recorded with the sequence numbers of its start and end, so calls made side by side
 * overlap and calls made one after another do not.
 *
 * A timer fires late (about 1 ms here): the way back is shortened by how late the way
 * out was, so a call costs its modelled round trip plus the callee's work plus one
 * timer's lateness, not two. `whole`: the modelled round trip is the whole call, the
 * callee's work included (a hot KV read's published latency), so the local store's own
 * time is counted inside it, not on top.
 */
export async function traced<T>(
  call: Omit<TraceEvent, "rtt" | "start" | "end">,
  oneWay: number,
  perform: () => Promise<T> | T,
  options: { whole?: boolean } = {},
): Promise<T> {
  const start = ++seq;
  const background = alarms.getStore() === true ? { background: true as const } : {};
  inflight += 1;
  const began = Date.now();
  let late = 0;
  try {
    if (!options.whole) {
      await sleep(oneWay);
      late = Math.max(0, Date.now() - began - oneWay);
    }
    return await perform();
  } finally {
    await sleep(options.whole ? began + 2 * oneWay - Date.now() : oneWay - late);
    inflight -= 1;
    events.push({ ...call, ...background, rtt: 2 * oneWay, start, end: ++seq });
  }
}

/** Marks a request's arrival; the returned function marks its answer. */
export function requestStarted(method: string, path: string): () => void {
  const entry = { method, path, start: ++seq, responded: 0 };
  requests.push(entry);
  return () => {
    entry.responded = ++seq;
  };
}

/**
 * Waits until no traced call is in flight and none started for `quietChecks` checks in a
 * row (work after the answer starts its calls a few ticks apart), then hands back and
 * clears what was recorded.
 */
export async function drainTrace(
  quietChecks = 5,
  everyMs = 10,
  limitMs = 30_000,
): Promise<{
  events: TraceEvent[];
  requests: typeof requests;
}> {
  let quiet = 0;
  let last = seq;
  for (let waited = 0; quiet < quietChecks && waited < limitMs; waited += everyMs) {
    await sleep(everyMs);
    quiet = inflight === 0 && seq === last ? quiet + 1 : 0;
    last = seq;
  }
  const taken = { events, requests };
  events = [];
  requests = [];
  return taken;
}
