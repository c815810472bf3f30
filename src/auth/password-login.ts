// Checking a username/email and password, throttled. Shared by session login and the
// token endpoint so both are throttled and timed the same way.
import type { Services } from "../services/services";
import type { Config } from "../config/config";
import type { Database } from "../db/client";
import type { UserRow } from "../db/schema";
import { needsRehash, verifyPassword, hashPassword } from "../passwords/hash";
import type { LoginThrottle } from "../throttle/authority/login-throttle";
import { accountThrottleKey, beginLoginAttempt } from "../throttle/login-guard";
import { findSignInUser } from "../users/user-store";
import { upgradePasswordHash } from "../users/user-credentials";
import { logError } from "../lib/log";

export type LoginDeps = Pick<Services, "db" | "config" | "throttle" | "waitUntil">;

export type LoginResult =
  /** user.credentialEpoch was read with the hash: the session must be made under it. */
  | { status: "ok"; user: UserRow; providers: string[] }
  /** userId: the account the identifier named, if any (for its security events). */
  | { status: "invalid"; userId: string | null }
  | { status: "throttled"; retryAfterSeconds: number; lockedOutUserId: string | null };

export async function checkPasswordLogin(
  deps: LoginDeps,
  input: { identifier: string; password: string; ip: string },
): Promise<LoginResult> {
  // The account first: its email and username share one throttle counter.
  const found = await findSignInUser(deps.db, input.identifier);
  const user = found?.row ?? null;
  const attempt = await beginLoginAttempt(
    { namespace: deps.throttle, policy: deps.config.login },
    { ip: input.ip, account: accountThrottleKey(user?.id ?? null, input.identifier) },
  );
  if (!attempt.allowed) {
    const lockedOutUserId = attempt.accountLockedOut ? (user?.id ?? null) : null;
    return { status: "throttled", retryAfterSeconds: attempt.retryAfterSeconds, lockedOutUserId };
  }

  // Unknown users and accounts without a password go through the same hash work, so
  // neither the answer nor its timing tells them apart from a wrong password.
  const hashOptions = { pepper: deps.config.passwordPepper };
  const valid = await verifyPassword(input.password, user?.passwordHash ?? null, hashOptions);
  if (!valid || user === null || user.passwordHash === null) {
    await attempt.failed();
    return { status: "invalid", userId: user?.id ?? null };
  }

  await attempt.succeeded();
  const checkedHash = user.passwordHash;
  if (needsRehash(checkedHash, hashOptions)) {
    // Not needed for this login to succeed: after the response, and only over the hash just checked.
    deps.waitUntil(
      hashPassword(input.password, hashOptions)
        .then((hash) => upgradePasswordHash(deps.db, user.id, checkedHash, hash))
        .catch((error: unknown) => logError("password_rehash_failed", error)),
    );
  }
  return { status: "ok", user, providers: found?.providers ?? [] };
}
