// Pure sliding-window rules for login throttling. No I/O here.

export interface ThrottlePolicy {
  maxAttempts: number;
  windowMs: number;
}

export type Reservation = { allowed: true; attemptId: number } | { allowed: false; retryAfterSeconds: number };

/** Attempts that still count at `now`: those made within the window. */
export function windowStart(policy: ThrottlePolicy, now: number): number {
  return now - policy.windowMs;
}

/** Seconds until the oldest counted attempt leaves the window, freeing a slot. */
export function retryAfterSeconds(policy: ThrottlePolicy, oldestAttemptAt: number, now: number): number {
  return Math.max(1, Math.ceil((oldestAttemptAt + policy.windowMs - now) / 1000));
}
