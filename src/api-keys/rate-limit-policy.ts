// Fixed-window rate limits per key (per minute, per UTC day), counted exactly by the
// key's Durable Object. Pure rules here; no I/O.

export interface KeyLimits {
  requestsPerMinute: number | null;
  requestsPerDay: number | null;
}

export interface Window {
  name: "minute" | "day";
  limit: number;
  start: number;
  length: number;
}

/** What the RateLimit-* headers and the verify answer report. */
export interface RateLimitState {
  limit: number;
  remaining: number;
  /** Seconds until the reported window resets. */
  reset: number;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

/** Whether the window a key names (see windowKey) has ended by `now`. */
export function windowKeyEnded(key: string, now: number): boolean {
  const [name, start] = key.split(":");
  const length = name === "minute" ? MINUTE : DAY;
  return Number(start) + length <= now;
}

export function windows(limits: KeyLimits, defaultPerMinute: number, now: number): Window[] {
  const perMinute = limits.requestsPerMinute ?? (limits.requestsPerDay === null ? defaultPerMinute : null);
  const result: Window[] = [];
  if (perMinute !== null) result.push({ name: "minute", limit: perMinute, start: now - (now % MINUTE), length: MINUTE });
  if (limits.requestsPerDay !== null) {
    result.push({ name: "day", limit: limits.requestsPerDay, start: now - (now % DAY), length: DAY });
  }
  return result;
}

export function windowKey(window: Window): string {
  return `${window.name}:${window.start}`;
}

export function secondsUntilReset(window: Window, now: number): number {
  return Math.max(1, Math.ceil((window.start + window.length - now) / 1000));
}

/** The state to report: the window with the fewest requests left (ties: the one resetting last). */
export function reportedState(states: Array<RateLimitState>): RateLimitState {
  return states.reduce((worst, state) =>
    state.remaining < worst.remaining || (state.remaining === worst.remaining && state.reset > worst.reset) ? state : worst,
  );
}

/** The RateLimit-* headers of an answer to a key (also set by edge-auth/hono in other Workers). */
export function rateLimitHeaders(state: RateLimitState): Array<[string, string]> {
  return [
    ["RateLimit-Limit", String(state.limit)],
    ["RateLimit-Remaining", String(Math.max(0, state.remaining))],
    ["RateLimit-Reset", String(state.reset)],
  ];
}
