// Login throttling across two keys at once: the client's IP and the identifier
// (username or email) being tried. Either one over its limit refuses the attempt.
import { throttleKeyForIp } from "../http/client-info";
import type { LoginThrottle } from "./login-throttle";
import type { ThrottlePolicy } from "./throttle-policy";

export interface LoginAttempt {
  allowed: true;
  /** The password was right: clear the identifier's counter, give back the IP's slot. */
  succeeded(): Promise<void>;
  /** The password was wrong: both slots become counted failures. */
  failed(): Promise<void>;
}

export interface Throttled {
  allowed: false;
  retryAfterSeconds: number;
  /** The identifier's own limit refused it for the first time in this lockout. */
  identifierLockedOut: boolean;
}

export interface ThrottleDeps {
  namespace: DurableObjectNamespace<LoginThrottle>;
  policy: ThrottlePolicy;
}

export function normalizeIdentifier(identifier: string): string {
  return identifier.trim().toLowerCase();
}

/** Reserves a slot on both keys before the password is checked. */
export async function beginLoginAttempt(
  deps: ThrottleDeps,
  keys: { ip: string; identifier: string },
): Promise<LoginAttempt | Throttled> {
  const ipStub = deps.namespace.getByName(`ip:${throttleKeyForIp(keys.ip)}`);
  const idStub = deps.namespace.getByName(`id:${normalizeIdentifier(keys.identifier)}`);
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
      identifierLockedOut: !byIdentifier.allowed && byIdentifier.firstRefusal,
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
