// Account lifecycle: email verification, password reset and change (deletion.ts deletes,
// registration.ts creates).
// Domain functions with explicit dependencies; the routes only parse and answer.
// Every change of credentials goes to D1 and the user's authority in this order: the
// new hash and a new credential epoch in one D1 statement, then the authority, which
// ends the sessions made under older epochs and refuses sign-ins that read them.
import { type PwnedDeps, refuseBreached } from "../passwords/pwned";
import type { Services } from "../services/services";
import type { ApiKeyAuthority } from "../api-keys/authority/api-key-authority";
import type { Config } from "../config/config";
import type { Database } from "../db/client";
import { logError } from "../lib/log";
import { type Mailer, deliver } from "../mail/mailer";
import { passwordChangedMessage, passwordResetMessage, verifyEmailMessage } from "../mail/templates";
import { hashPassword, verifyPassword } from "../passwords/hash";
import { type AuthorityNamespace, authorityFor } from "../sessions/authority-client";
import type { LoginThrottle } from "../throttle/authority/login-throttle";
import { besideIpSlot, judged } from "../throttle/login-guard";
import { normalizeEmail } from "../users/schemas";
import { findUserById, findUserByIdentifier, publicUser } from "../users/user-store";
import { recordAddressProven, replacePassword, resetPassword } from "../users/user-credentials";
import type { PublicUser } from "../users/user-view";
import { proveAddress } from "../auth/prove-address";
import { consumeMailToken, issueMailToken, retireVerificationLinks } from "./mail-tokens";

export type AccountDeps = Pick<
  Services,
  "db" | "d1" | "kv" | "config" | "authority" | "keys" | "throttle" | "mailer" | "waitUntil" | "appBase" | "ip" | "client"
>;

/** The breach check's dependencies (passwords/pwned.ts). */
export function pwnedDeps(deps: Pick<Services, "kv" | "config" | "waitUntil">): PwnedDeps {
  return { settings: deps.config.pwned, kv: deps.kv, waitUntil: (promise) => deps.waitUntil(promise) };
}

export type VerificationRequest =
  { status: "sent" } | { status: "already_verified" } | { status: "rate_limited"; retryAfterSeconds: number };

export async function requestEmailVerification(deps: AccountDeps, user: PublicUser): Promise<VerificationRequest> {
  // A verified address is mailed again while its holder has not proven it (a click from
  // elsewhere verified it): confirming the new link signed in binds the account.
  const row = user.email_verified ? await findUserById(deps.db, user.id) : null;
  if (user.email_verified && (row === null || row.addressProven)) return { status: "already_verified" };
  const issued = await issueMailToken(deps.d1, authorityFor(deps.authority, user.id), {
    userId: user.id,
    email: normalizeEmail(user.email),
    purpose: "verify_email",
  });
  if (issued.status === "rate_limited") return issued;
  if (issued.status === "gone") return { status: "already_verified" };
  const link = `${deps.appBase}/verify-email?token=${issued.token}`;
  deps.waitUntil(deliver(deps.mailer, verifyEmailMessage(user.email, link)));
  return { status: "sent" };
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
      const issued = await issueMailToken(deps.d1, authorityFor(deps.authority, row.id), {
        userId: row.id,
        email: row.emailNormalized,
        purpose: "password_reset",
      });
      if (issued.status !== "issued") return;
      const link = `${deps.appBase}/reset-password?token=${issued.token}`;
      await deliver(deps.mailer, passwordResetMessage(row.email, link));
    })().catch((error: unknown) => logError("password_reset_request_failed", error)),
  );
}

/**
 * Sets the new password and ends every session and token family of the user. The reset
 * proves the address to whoever now holds the password: on an account whose address its
 * credential holder had not proven, every other credential made before ends too
 * (address-proof.ts), and an ADMIN_EMAILS address becomes a superuser.
 */
export async function confirmPasswordReset(deps: AccountDeps, token: string, newPassword: string): Promise<{ userId: string } | null> {
  // Before the link is used: refused, it still works with another password.
  await refuseBreached(pwnedDeps(deps), newPassword, "new_password");
  const owner = await consumeMailToken(deps.d1, token, "password_reset");
  if (owner === null) return null;
  const hash = await hashPassword(newPassword, { pepper: deps.config.passwordPepper });
  const row = await resetPassword(deps.db, owner.userId, owner.email, hash);
  if (row === null) return null;
  const authority = authorityFor(deps.authority, row.id);
  await authority.credentialsChanged(row.credentialEpoch, null);
  if ((await proveAddress(deps, row, "reset")) === null) return null;
  await retireVerificationLinks(deps.d1, row.id);
  const proven = (await recordAddressProven(deps.db, row.id, row.emailNormalized, deps.config.admin.emails)) ?? row;
  await authority.updateUser(await publicUser(deps.db, proven));
  deps.waitUntil(deliver(deps.mailer, passwordChangedMessage(row.email, "reset")));
  return { userId: row.id };
}

/** `hash`: the stored hash the password was checked against (a change replaces exactly it). */
export type PasswordCheck = { status: "ok"; hash: string } | { status: "wrong" } | { status: "throttled"; retryAfterSeconds: number };

/**
 * Checks the current password of a signed-in user, throttled like a login for that
 * account: a stolen session must not become a way to guess the password.
 */
export async function checkCurrentPassword(deps: AccountDeps, user: PublicUser, password: string): Promise<PasswordCheck> {
  const throttle = { namespace: deps.throttle, policy: deps.config.login, waitUntil: deps.waitUntil };
  const [row, ip] = await besideIpSlot(throttle, deps.ip, findUserById(deps.db, user.id));
  if (!ip.allowed) return { status: "throttled", retryAfterSeconds: ip.retryAfterSeconds };
  const hash = row?.passwordHash ?? null;
  const valid = await verifyPassword(password, hash, { pepper: deps.config.passwordPepper });
  const verdict = { verified: valid && hash !== null, policy: deps.config.login };
  const judgement = await judged(ip, deps.waitUntil, authorityFor(deps.authority, user.id).checkPassword(verdict));
  // Settled on the authority's judgement, never on the hash alone: a locked account's
  // answer must not say, through the IP's count, whether the guess was right.
  deps.waitUntil(ip.settle(judgement.status === "ok" ? "released" : "failed"));
  if (judgement.status === "throttled") return { status: "throttled", retryAfterSeconds: judgement.retryAfterSeconds };
  if (judgement.status === "invalid" || hash === null) return { status: "wrong" };
  return { status: "ok", hash };
}

/**
 * Replaces the password checked as `checkedHash` and ends every other session and
 * token family (keeps `currentSessionId`). Null when the password changed meanwhile.
 */
export async function changePassword(
  deps: AccountDeps,
  user: PublicUser,
  change: { checkedHash: string; newPassword: string; currentSessionId: string },
): Promise<number | null> {
  await refuseBreached(pwnedDeps(deps), change.newPassword, "new_password");
  const hash = await hashPassword(change.newPassword, { pepper: deps.config.passwordPepper });
  const epoch = await replacePassword(deps.db, user.id, change.checkedHash, hash);
  if (epoch === null) return null;
  const revoked = await authorityFor(deps.authority, user.id).credentialsChanged(epoch, change.currentSessionId);
  deps.waitUntil(deliver(deps.mailer, passwordChangedMessage(user.email, "changed")));
  return revoked;
}
