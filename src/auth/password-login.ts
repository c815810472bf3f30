// Checking a username/email and password, throttled. Shared by session login and the
// token endpoint so both are throttled and timed the same way. The account read and the
// client IP's throttle slot go side by side; the hash follows; the verdict then goes to
// the account's authority, which judges it against the account's throttle and opens the
// session in the same call (login-outcome.ts): two round trips besides the hash.
import type { Services } from "../services/services";
import type { UserRow } from "../db/schema";
import { verifyPassword } from "../passwords/hash";
import { type IpSlot, besideIpSlot, failUnknownIdentifier, judged } from "../throttle/login-guard";
import { findSignInUser } from "../users/user-store";

/** Asks for the Turnstile challenge when the client IP has failed `failures` sign-ins in the window (turnstile-guard.ts). */
export type LoginCaptcha = (failures: number) => Promise<void>;

export type LoginDeps = Pick<Services, "db" | "config" | "throttle" | "waitUntil">;

export type LoginCheck =
  /** The password was checked against an account; its authority judges `verified` (user.credentialEpoch was read with the hash). */
  | { status: "checked"; user: UserRow; providers: string[]; verified: boolean; ip: Extract<IpSlot, { allowed: true }> }
  /** userId: the account the identifier named, if any (for its security events). */
  | { status: "invalid"; userId: string | null }
  | { status: "throttled"; retryAfterSeconds: number; lockedOutUserId: string | null };

export async function checkPasswordLogin(
  deps: LoginDeps,
  input: { identifier: string; password: string; ip: string; captcha?: LoginCaptcha | undefined },
): Promise<LoginCheck> {
  const throttle = { namespace: deps.throttle, policy: deps.config.login };
  const [found, ip] = await besideIpSlot({ ...throttle, waitUntil: deps.waitUntil }, input.ip, findSignInUser(deps.db, input.identifier));
  if (!ip.allowed) return { status: "throttled", retryAfterSeconds: ip.retryAfterSeconds, lockedOutUserId: null };
  // Turnstile, when the IP's failures call for it: before any hash; a refused challenge gives the slot back.
  if (input.captcha !== undefined) await judged(ip, deps.waitUntil, input.captcha(ip.failures));
  const user = found?.row ?? null;
  // Unknown users and accounts without a password go through the same hash work, so
  // neither the answer nor its timing tells them apart from a wrong password.
  const valid = await verifyPassword(input.password, user?.passwordHash ?? null, { pepper: deps.config.passwordPepper });
  if (user === null) {
    const refused = await judged(ip, deps.waitUntil, failUnknownIdentifier(throttle, input.identifier));
    // Refused or not, the guess cost a hash: it counts against the IP.
    deps.waitUntil(ip.settle("failed"));
    return refused.allowed
      ? { status: "invalid", userId: null }
      : { status: "throttled", retryAfterSeconds: refused.retryAfterSeconds, lockedOutUserId: null };
  }
  return { status: "checked", user, providers: found?.providers ?? [], verified: valid && user.passwordHash !== null, ip };
}
