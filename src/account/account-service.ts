// Account lifecycle: email verification, password reset and change, account deletion.
// Domain functions with explicit dependencies; the routes only parse and answer.
import type { ApiKeyAuthority } from "../api-keys/api-key-authority";
import type { LoginThrottle } from "../throttle/login-throttle";
import type { Config } from "../config/config";
import type { Database } from "../db/client";
import { type Mailer, deliver } from "../mail/mailer";
import { passwordChangedMessage, passwordResetMessage, verifyEmailMessage } from "../mail/templates";
import { hashPassword, verifyPassword } from "../passwords/hash";
import { principalCacheKey } from "../sessions/principal-record";
import type { UserAuthority } from "../sessions/user-authority";
import { beginLoginAttempt } from "../throttle/login-guard";
import { normalizeEmail } from "../users/schemas";
import {
  deleteUserData,
  findUserById,
  findUserByIdentifier,
  markEmailVerified,
  publicUser,
  updatePasswordHash,
} from "../users/user-store";
import type { PublicUser } from "../users/user-view";
import { consumeMailToken, issueMailToken } from "./mail-tokens";

export interface AccountDeps {
  db: Database;
  d1: D1Database;
  config: Config;
  authority: DurableObjectNamespace<UserAuthority>;
  keys: DurableObjectNamespace<ApiKeyAuthority>;
  throttle: DurableObjectNamespace<LoginThrottle>;
  kv: KVNamespace;
  mailer: Mailer;
  waitUntil: (promise: Promise<unknown>) => void;
  /** Where mailed links point: APP_BASE_URL, or this service's origin. */
  linkBase: string;
}

export type VerificationRequest = { status: "sent" } | { status: "already_verified" } | { status: "rate_limited"; retryAfterSeconds: number };

export async function requestEmailVerification(deps: AccountDeps, user: PublicUser): Promise<VerificationRequest> {
  if (user.email_verified) return { status: "already_verified" };
  const issued = await issueMailToken(deps.d1, { userId: user.id, email: normalizeEmail(user.email), purpose: "verify_email" });
  if (issued.status === "rate_limited") return issued;
  const link = `${deps.linkBase}/verify-email?token=${issued.token}`;
  deps.waitUntil(deliver(deps.mailer, verifyEmailMessage(user.email, link)));
  return { status: "sent" };
}

/** Marks the address verified if the token is live and the account still has that address. */
export async function confirmEmailVerification(deps: AccountDeps, token: string): Promise<PublicUser | null> {
  const owner = await consumeMailToken(deps.d1, token, "verify_email");
  if (owner === null) return null;
  const row = await findUserById(deps.db, owner.userId);
  if (row === null || row.emailNormalized !== owner.email) return null;
  const updated = await markEmailVerified(deps.db, row.id);
  if (updated === null) return null;
  const user = await publicUser(deps.db, updated);
  await deps.authority.getByName(user.id).updateUser(user);
  return user;
}

/**
 * Always the same answer, so nobody learns whether an address has an account: the work
 * (lookup, token, mail) runs after the response, for known and unknown addresses alike.
 */
export function requestPasswordReset(deps: AccountDeps, email: string): void {
  deps.waitUntil(
    (async () => {
      const row = await findUserByIdentifier(deps.db, email);
      if (row === null) return;
      const issued = await issueMailToken(deps.d1, { userId: row.id, email: row.emailNormalized, purpose: "password_reset" });
      if (issued.status !== "issued") return;
      const link = `${deps.linkBase}/reset-password?token=${issued.token}`;
      await deliver(deps.mailer, passwordResetMessage(row.email, link));
    })().catch((error: unknown) => {
      console.error(JSON.stringify({ level: "error", event: "password_reset_request_failed", error: String(error) }));
    }),
  );
}

/** Sets the new password and ends every session and token family of the user. */
export async function confirmPasswordReset(
  deps: AccountDeps,
  token: string,
  newPassword: string,
): Promise<{ userId: string } | null> {
  const owner = await consumeMailToken(deps.d1, token, "password_reset");
  if (owner === null) return null;
  const row = await findUserById(deps.db, owner.userId);
  if (row === null || row.emailNormalized !== owner.email) return null;
  await updatePasswordHash(deps.db, row.id, await hashPassword(newPassword, { pepper: deps.config.passwordPepper }));
  // Following the mailed link proves the address.
  const verified = row.emailVerified ? row : ((await markEmailVerified(deps.db, row.id)) ?? row);
  const authority = deps.authority.getByName(row.id);
  await authority.revokeAll(null);
  await authority.updateUser(await publicUser(deps.db, verified));
  deps.waitUntil(deliver(deps.mailer, passwordChangedMessage(row.email, "reset")));
  return { userId: row.id };
}

export type PasswordCheck = { status: "ok" } | { status: "wrong" } | { status: "throttled"; retryAfterSeconds: number };

/**
 * Checks the current password of a signed-in user, throttled like a login for that
 * account: a stolen session must not become a way to guess the password.
 */
export async function checkCurrentPassword(
  deps: AccountDeps,
  user: PublicUser,
  password: string,
  ip: string,
): Promise<PasswordCheck> {
  const attempt = await beginLoginAttempt({ namespace: deps.throttle, policy: deps.config.login }, { ip, identifier: user.email });
  if (!attempt.allowed) return { status: "throttled", retryAfterSeconds: attempt.retryAfterSeconds };
  const row = await findUserById(deps.db, user.id);
  const valid = await verifyPassword(password, row?.passwordHash ?? null, { pepper: deps.config.passwordPepper });
  if (!valid) {
    await attempt.failed();
    return { status: "wrong" };
  }
  await attempt.succeeded();
  return { status: "ok" };
}

/** Sets a new password and ends every other session and token family (keeps `currentSessionId`). */
export async function changePassword(
  deps: AccountDeps,
  user: PublicUser,
  newPassword: string,
  currentSessionId: string,
): Promise<number> {
  await updatePasswordHash(deps.db, user.id, await hashPassword(newPassword, { pepper: deps.config.passwordPepper }));
  const revoked = await deps.authority.getByName(user.id).revokeAll(currentSessionId);
  deps.waitUntil(deliver(deps.mailer, passwordChangedMessage(user.email, "changed")));
  return revoked;
}

/**
 * Deletes an account for good: API keys revoked at their authorities first (so no
 * cached copy can authenticate), then every session and token family and the
 * authority's storage, then every row of personal data in D1.
 */
export async function deleteAccount(deps: AccountDeps, userId: string): Promise<void> {
  const keys = await deps.d1.prepare("SELECT id FROM api_keys WHERE user_id = ?").bind(userId).all<{ id: string }>();
  await Promise.all(keys.results.map((key) => deps.keys.getByName(key.id).erase()));
  await deps.authority.getByName(userId).deleteAccount();
  await deleteUserData(deps.d1, userId);
  await deps.kv.delete(principalCacheKey(userId));
}
