// Login throttling across two keys at once: the client's IP and the account being
// tried (its email and username share one counter; an identifier that names no
// account has a counter of its own, so unknown names are throttled alike). Either one
// over its limit refuses the attempt.
import { throttleKeyForIp } from "../http/client-info";
import { emailKey } from "../lib/email-address";
import type { LoginThrottle } from "./authority/login-throttle";
import type { ThrottlePolicy } from "./authority/throttle-policy";

export interface LoginAttempt {
  allowed: true;
  /** The password was right: clear the account's counter, give back the IP's slot. */
  succeeded(): Promise<void>;
  /** The password was wrong: both slots become counted failures. */
  failed(): Promise<void>;
}

export interface Throttled {
  allowed: false;
  retryAfterSeconds: number;
  /** The account's own limit refused it for the first time in this lockout. */
  accountLockedOut: boolean;
}

export interface ThrottleDeps {
  namespace: DurableObjectNamespace<LoginThrottle>;
  policy: ThrottlePolicy;
}

/** An email's unique key (lib/email-address.ts), else the lower-cased name: spellings of one name share a counter. */
export function normalizeIdentifier(identifier: string): string {
  return identifier.includes("@") ? emailKey(identifier) : identifier.trim().toLowerCase();
}

/** The throttle key of an account, or of an identifier that names none. */
export function accountThrottleKey(userId: string | null, identifier: string): string {
  return userId !== null ? `account:${userId}` : `id:${normalizeIdentifier(identifier)}`;
}

/** Reserves a slot on both keys before the password is checked. */
export async function beginLoginAttempt(deps: ThrottleDeps, keys: { ip: string; account: string }): Promise<LoginAttempt | Throttled> {
  const ipStub = deps.namespace.getByName(`ip:${throttleKeyForIp(keys.ip)}`);
  const idStub = deps.namespace.getByName(keys.account);
  const [byIp, byIdentifier] = await Promise.all([ipStub.reserve(deps.policy), idStub.reserve(deps.policy)]);

  if (!byIp.allowed || !byIdentifier.allowed) {
    // The attempt is refused unchecked, so a slot taken on the other key is not a failure.
    const releases: Promise<void>[] = [];
    if (byIp.allowed) releases.push(ipStub.release(byIp.attemptId));
    if (byIdentifier.allowed) releases.push(idStub.release(byIdentifier.attemptId));
    await Promise.all(releases);
    const waits = [byIp, byIdentifier].flatMap((result) => (result.allowed ? [] : [result.retryAfterSeconds]));
    return {
      allowed: false,
      retryAfterSeconds: Math.max(...waits),
      accountLockedOut: !byIdentifier.allowed && byIdentifier.firstRefusal,
    };
  }

  return {
    allowed: true,
    async succeeded(): Promise<void> {
      await Promise.all([idStub.clear(), ipStub.release(byIp.attemptId)]);
    },
    async failed(): Promise<void> {
      await Promise.all([idStub.fail(byIdentifier.attemptId), ipStub.fail(byIp.attemptId)]);
    },
  };
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
 * An admin clears login throttling: the counters of an identifier (the account it names
 * and the bare name) and of a client IP (by its /64 for IPv6), whose hourly budget of
 * registrations and mail (takeHourlySlot) is cleared with it.
 */
export async function clearLoginThrottle(
  namespace: DurableObjectNamespace<LoginThrottle>,
  target: { identifier?: string | undefined; userId?: string | null; ip?: string | undefined },
): Promise<void> {
  const names: string[] = [];
  if (target.identifier !== undefined) names.push(`id:${normalizeIdentifier(target.identifier)}`);
  if (target.userId != null) names.push(`account:${target.userId}`);
  if (target.ip !== undefined) names.push(`ip:${throttleKeyForIp(target.ip)}`, `hourly:${throttleKeyForIp(target.ip)}`);
  await Promise.all(names.map((name) => namespace.getByName(name).clear()));
}
