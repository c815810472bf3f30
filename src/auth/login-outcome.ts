// What follows a password login attempt, shared by session login and the token
// endpoint: the answer for a refusal, and the security events (and new-device mail).
import { recordEventLater } from "../events/event-log";
import { ApiError, tooManyRequests } from "../http/errors";
import { deliver } from "../mail/mailer";
import { newDeviceMessage } from "../mail/templates";
import type { Services } from "../services/services";
import { type SecurityEvent, type SecurityEventType, eventStatement } from "../events/record-event";
import { lastLoginStatement } from "../users/user-store";
import { promoteVerifiedListedAdmin } from "../users/user-credentials";
import { logError } from "../lib/log";
import { type PublicUser, toPublicUser } from "../users/user-view";
import type { UserRow } from "../db/schema";
import { hashPassword, needsRehash } from "../passwords/hash";
import { upgradePasswordHash } from "../users/user-credentials";
import { authorityFor } from "../sessions/authority-client";
import type { AttemptRefusal, PasswordVerdict } from "../user-authority/types";
import { judged } from "../throttle/login-guard";
import { type LoginCaptcha, type LoginCheck, checkPasswordLogin } from "./password-login";

/**
 * Checks a username/email and password (throttled) for session login and the token
 * endpoint alike. `open` asks the user's authority to judge the verdict against the
 * account's throttle and, when it stands, to open the session or token family (one
 * call); a refusal is thrown with the right error, else its result is returned.
 */
export async function passwordSignIn<T>(
  services: Services,
  input: { identifier: string; password: string; captcha?: LoginCaptcha },
  open: (user: PublicUser, credentialEpoch: number, verdict: PasswordVerdict) => Promise<T | AttemptRefusal>,
): Promise<{ user: PublicUser; result: T }> {
  const checked = await checkPasswordLogin(services, { ...input, ip: services.ip });
  if (checked.status !== "checked") throw loginRefusal(services, checked);
  const { verified, ip } = checked;
  const row = checked.user;
  let user = toPublicUser(row, checked.providers);
  const result = await judged(ip, services.waitUntil, open(user, row.credentialEpoch, { verified, policy: services.config.login }));
  // The IP's slot is settled after the answer: a wrong password, and a guess at a locked
  // account (which still cost a hash), count against it.
  const refused = isAttemptRefusal(result) ? result : null;
  services.waitUntil(ip.settle(refused === null ? "released" : "failed"));
  if (refused?.status === "invalid") throw loginRefusal(services, { status: "invalid", userId: user.id });
  if (refused?.status === "throttled") {
    const lockedOutUserId = refused.firstRefusal ? user.id : null;
    throw loginRefusal(services, { status: "throttled", retryAfterSeconds: refused.retryAfterSeconds, lockedOutUserId });
  }
  // Only a sign-in the authority let through promotes an ADMIN_EMAILS address (once) or
  // upgrades the hash.
  if (signedIn(result)) {
    const promoted = await promoteVerifiedListedAdmin(services.db, row, services.config.admin.emails);
    if (promoted !== null) {
      user = toPublicUser(promoted, checked.providers);
      await authorityFor(services.authority, user.id).updateUser(user);
    }
    upgradeHashLater(services, row, input.password);
  }
  return { user, result: result as T };
}

/** A session or token family was opened, or waits at the MFA gate. */
function signedIn(value: unknown): boolean {
  if (typeof value !== "object" || value === null || !("status" in value)) return false;
  return value.status === "started" || value.status === "issued" || value.status === "mfa_required";
}

function isAttemptRefusal(value: unknown): value is AttemptRefusal {
  if (typeof value !== "object" || value === null || !("status" in value)) return false;
  return value.status === "throttled" || value.status === "invalid";
}

/** A hash made with older settings is made again, after the answer, and only over the hash just checked. */
function upgradeHashLater(services: Services, row: UserRow, password: string): void {
  const checkedHash = row.passwordHash;
  const options = { pepper: services.config.passwordPepper };
  if (checkedHash === null || !needsRehash(checkedHash, options)) return;
  services.waitUntil(
    hashPassword(password, options)
      .then((hash) => upgradePasswordHash(services.db, row.id, checkedHash, hash))
      .catch((error: unknown) => logError("password_rehash_failed", error)),
  );
}

/**
 * The user's authority refused to create the session: the account was deleted, or its
 * password changed, after the first factor was checked. To the client that is simply
 * a failed sign-in.
 */
export function signInRefused(): ApiError {
  return new ApiError("invalid_credentials", "Incorrect username or password");
}

/** Records the failed attempt on the account it named, and returns the error to answer with. */
export function loginRefusal(services: Services, result: Exclude<LoginCheck, { status: "checked" }>): ApiError {
  if (result.status === "throttled") {
    if (result.lockedOutUserId !== null) recordEventLater(services, result.lockedOutUserId, "login_throttled");
    return tooManyRequests("too_many_attempts", result.retryAfterSeconds);
  }
  if (result.userId !== null) recordEventLater(services, result.userId, "login_failed");
  return signInRefused();
}

export function recordLoginSuccess(
  services: Services,
  user: PublicUser,
  details: { kind: "cookie" | "token"; method: string; newDevice: boolean },
): void {
  const { db, d1, client } = services;
  const event = (type: SecurityEventType, detail: SecurityEvent["detail"]) => eventStatement(d1, { userId: user.id, type, client, detail });
  const records = [event("login_succeeded", { kind: details.kind, method: details.method }), lastLoginStatement(db, d1, user.id)];
  const newDevice = details.newDevice && client !== null;
  if (newDevice) records.push(event("new_device", { browser: client.device.browser, os: client.device.os }));
  // One round trip to D1 after the answer, not one per record.
  services.waitUntil(d1.batch(records).catch((error: unknown) => logError("login_record_failed", error)));
  if (newDevice) services.waitUntil(deliver(services.mailer, newDeviceMessage(user.email, client.device, client.location, client.ip)));
}
