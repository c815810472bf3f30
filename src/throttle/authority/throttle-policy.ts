// Pure sliding-window rules for login throttling. No I/O here.
//
// An attempt first takes a *pending* slot, then becomes *failed* (wrong password) or is
// given back (right password). Pending slots count against the limit so that racing
// attempts can never get more than maxAttempts passwords checked; a newcomer that finds
// only pending slots in its way waits for them to resolve instead of being refused, so
// a burst of correct logins is not turned away.

export interface ThrottlePolicy {
  maxAttempts: number;
  windowMs: number;
}

export type Reservation =
  /** failures: the failed attempts in the window before this one (Turnstile on login after TURNSTILE_LOGIN_AFTER_FAILURES). */
  | { allowed: true; attemptId: number; failures: number }
  | { allowed: false; retryAfterSeconds: number; /** The first refusal of this lockout. */ firstRefusal: boolean };

export type Decision = { kind: "allow" } | { kind: "deny"; retryAfterSeconds: number } | { kind: "wait" };

/** A pending slot older than this was left by a request that died; it counts as failed. */
export const PENDING_TIMEOUT_MS = 30_000;

/** How long a newcomer waits for pending slots before it is refused. */
export const MAX_WAIT_MS = 5_000;

export interface SlotCounts {
  failed: number;
  pending: number;
  /** When the oldest failed attempt in the window was made. */
  oldestFailedAt: number | null;
}

export function decide(policy: ThrottlePolicy, counts: SlotCounts, now: number): Decision {
  if (counts.failed >= policy.maxAttempts) {
    return { kind: "deny", retryAfterSeconds: retryAfterSeconds(policy, counts.oldestFailedAt ?? now, now) };
  }
  if (counts.failed + counts.pending < policy.maxAttempts) return { kind: "allow" };
  return { kind: "wait" };
}

/** Failed attempts made at or before this no longer count. */
export function windowStart(policy: ThrottlePolicy, now: number): number {
  return now - policy.windowMs;
}

/** Seconds until the oldest counted failure leaves the window, freeing a slot. */
export function retryAfterSeconds(policy: ThrottlePolicy, oldestFailedAt: number, now: number): number {
  return Math.max(1, Math.ceil((oldestFailedAt + policy.windowMs - now) / 1000));
}
