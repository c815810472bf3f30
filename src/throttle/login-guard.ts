// Login throttling across two keys: the client's IP, whose slot is taken before the
// password is checked (beside the account read, so it costs no round trip of its own),
// and the account being tried, whose counter its UserAuthority keeps and judges the
// checked password against (user-authority/password-ops.ts). An identifier that names no
// account has a counter of its own here, so unknown names are throttled alike. Either
// one over its limit refuses the attempt.
import { throttleKeyForIp } from "../http/client-info";
import { emailKey } from "../lib/email-address";
import type { LoginThrottle } from "./authority/login-throttle";
import type { ThrottlePolicy } from "./authority/throttle-policy";

export interface ThrottleDeps {
  namespace: DurableObjectNamespace<LoginThrottle>;
  policy: ThrottlePolicy;
}

/** The client IP's slot for one attempt, given back or counted as a failure once the attempt is judged. */
export type IpSlot =
  | {
      allowed: true;
      settle(outcome: "failed" | "released"): Promise<void>;
      /** Failed attempts in the window before this one. */ failures: number;
    }
  | { allowed: false; retryAfterSeconds: number };

/** An email's unique key (lib/email-address.ts), else the lower-cased name: spellings of one name share a counter. */
export function normalizeIdentifier(identifier: string): string {
  return identifier.includes("@") ? emailKey(identifier) : identifier.trim().toLowerCase();
}

/** Takes the client IP's slot before the password is checked. */
export async function reserveIpSlot(deps: ThrottleDeps, ip: string): Promise<IpSlot> {
  const stub = deps.namespace.getByName(`ip:${throttleKeyForIp(ip)}`);
  const reserved = await stub.reserve(deps.policy);
  if (!reserved.allowed) return { allowed: false, retryAfterSeconds: reserved.retryAfterSeconds };
  return {
    allowed: true,
    failures: reserved.failures,
    settle: (outcome) => (outcome === "failed" ? stub.fail(reserved.attemptId) : stub.release(reserved.attemptId)),
  };
}

type Allowed = Extract<IpSlot, { allowed: true }>;

/**
 * `read` side by side with taking the client IP's slot (one round trip). A failed read
 * gives the slot back: a pending slot left behind would count as a failure.
 */
export async function besideIpSlot<T>(
  deps: ThrottleDeps & { waitUntil(promise: Promise<unknown>): void },
  ip: string,
  read: Promise<T>,
): Promise<[T, IpSlot]> {
  const [value, reserved] = await Promise.allSettled([read, reserveIpSlot(deps, ip)]);
  if (value.status === "rejected") {
    if (reserved.status === "fulfilled" && reserved.value.allowed) deps.waitUntil(reserved.value.settle("released"));
    throw value.reason;
  }
  if (reserved.status === "rejected") throw reserved.reason;
  return [value.value, reserved.value];
}

/** Waits for an attempt's judgement; one that never came (a dependency failed) gives the IP's slot back. */
export async function judged<T>(slot: Allowed, waitUntil: (promise: Promise<unknown>) => void, judge: Promise<T>): Promise<T> {
  try {
    return await judge;
  } catch (error) {
    waitUntil(slot.settle("released"));
    throw error;
  }
}

/** An identifier that names no account, after its dummy check: a counted failure, or refused while its window is full. */
export async function failUnknownIdentifier(
  deps: ThrottleDeps,
  identifier: string,
): Promise<{ allowed: true } | { allowed: false; retryAfterSeconds: number }> {
  const judged = await deps.namespace.getByName(`id:${normalizeIdentifier(identifier)}`).failUnlessLocked(deps.policy);
  return judged.allowed ? { allowed: true } : { allowed: false, retryAfterSeconds: judged.retryAfterSeconds };
}

export type HourlyLimit = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/**
 * Registration and every request that sends mail: at most `maxPerHour` per client IP
 * (IPv6 per /64), counted exactly by the IP's own LoginThrottle object.
 */
export async function takeHourlySlot(
  namespace: DurableObjectNamespace<LoginThrottle>,
  ip: string,
  maxPerHour: number,
): Promise<HourlyLimit> {
  return namespace.getByName(`hourly:${throttleKeyForIp(ip)}`).hit({ maxAttempts: maxPerHour, windowMs: 3_600_000 });
}

/**
 * Another per-IP hourly budget, counted by its own object (`<purpose>:<ip>`): the OAuth
 * server's client registrations, authorization requests and typed device codes.
 */
export async function takeIpSlot(
  namespace: DurableObjectNamespace<LoginThrottle>,
  purpose: "oauth-register" | "oauth-authorize" | "oauth-device" | "oauth-cimd",
  ip: string,
  maxPerHour: number,
): Promise<HourlyLimit> {
  return namespace.getByName(`${purpose}:${throttleKeyForIp(ip)}`).hit({ maxAttempts: maxPerHour, windowMs: 3_600_000 });
}

/** A per-user budget, counted by its own object (`<purpose>:<user id>`): codes a user types on /device. */
export async function takeUserSlot(
  namespace: DurableObjectNamespace<LoginThrottle>,
  purpose: "oauth-device-user",
  userId: string,
  limit: { max: number; windowMs: number },
): Promise<HourlyLimit> {
  return namespace.getByName(`${purpose}:${userId}`).hit({ maxAttempts: limit.max, windowMs: limit.windowMs });
}

/**
 * An admin clears login throttling: the counters of an identifier (the bare name, and an
 * account's counter of earlier versions; its authority's is cleared by the caller) and of
 * a client IP (by its /64 for IPv6), whose hourly budgets of registrations and mail
 * (takeHourlySlot) and of the OAuth server (takeIpSlot) are cleared with it.
 */
export async function clearLoginThrottle(
  namespace: DurableObjectNamespace<LoginThrottle>,
  target: { identifier?: string | undefined; userId?: string | null; ip?: string | undefined },
): Promise<void> {
  const names: string[] = [];
  if (target.identifier !== undefined) names.push(`id:${normalizeIdentifier(target.identifier)}`);
  if (target.userId != null) names.push(`account:${target.userId}`);
  if (target.ip !== undefined) {
    const key = throttleKeyForIp(target.ip);
    names.push(`ip:${key}`, `hourly:${key}`, `oauth-register:${key}`, `oauth-authorize:${key}`, `oauth-device:${key}`, `oauth-cimd:${key}`);
  }
  await Promise.all(names.map((name) => namespace.getByName(name).clear()));
}
