// Checking a username/email and password, throttled. Shared by session login and the
// token endpoint so both are throttled and timed the same way.
import type { Config } from "../config/config";
import type { Database } from "../db/client";
import type { UserRow } from "../db/schema";
import { needsRehash, verifyPassword, hashPassword } from "../passwords/hash";
import type { LoginThrottle } from "../throttle/login-throttle";
import { beginLoginAttempt } from "../throttle/login-guard";
import { findUserByIdentifier, updatePasswordHash } from "../users/user-store";

export interface LoginDeps {
  db: Database;
  config: Config;
  throttle: DurableObjectNamespace<LoginThrottle>;
  waitUntil: (promise: Promise<unknown>) => void;
}

export type LoginResult =
  | { status: "ok"; user: UserRow }
  /** userId: the account the identifier named, if any (for its security events). */
  | { status: "invalid"; userId: string | null }
  | { status: "throttled"; retryAfterSeconds: number; lockedOutUserId: string | null };

export async function checkPasswordLogin(
  deps: LoginDeps,
  input: { identifier: string; password: string; ip: string },
): Promise<LoginResult> {
  const attempt = await beginLoginAttempt(
    { namespace: deps.throttle, policy: deps.config.login },
    { ip: input.ip, identifier: input.identifier },
  );
  if (!attempt.allowed) {
    // Look the account up only once per lockout, to tell its owner; never on every refusal.
    const lockedOut = attempt.identifierLockedOut ? await findUserByIdentifier(deps.db, input.identifier) : null;
    return { status: "throttled", retryAfterSeconds: attempt.retryAfterSeconds, lockedOutUserId: lockedOut?.id ?? null };
  }

  // Unknown users and accounts without a password go through the same hash work, so
  // neither the answer nor its timing tells them apart from a wrong password.
  const user = await findUserByIdentifier(deps.db, input.identifier);
  const hashOptions = { pepper: deps.config.passwordPepper };
  const valid = await verifyPassword(input.password, user?.passwordHash ?? null, hashOptions);
  if (!valid || user === null || user.passwordHash === null) {
    await attempt.failed();
    return { status: "invalid", userId: user?.id ?? null };
  }

  await attempt.succeeded();
  if (needsRehash(user.passwordHash, hashOptions)) {
    // Upgrading the stored hash is not needed for this login to succeed; do it after the response.
    deps.waitUntil(
      hashPassword(input.password, hashOptions).then((hash) => updatePasswordHash(deps.db, user.id, hash)),
    );
  }
  return { status: "ok", user };
}
