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
import { type LoginResult, checkPasswordLogin } from "./password-login";

/** A first factor that passed: the user, and the credential epoch it was checked under. */
export interface SignedIn {
  user: PublicUser;
  credentialEpoch: number;
}

/**
 * Checks a username/email and password (throttled) for session login and the token
 * endpoint alike; answers a refusal with the right error, else returns the user.
 */
export async function passwordSignIn(services: Services, input: { identifier: string; password: string }): Promise<SignedIn> {
  const result = await checkPasswordLogin(services, { ...input, ip: services.ip });
  if (result.status !== "ok") throw loginRefusal(services, result);
  const row = (await promoteVerifiedListedAdmin(services.db, result.user, services.config.admin.emails)) ?? result.user;
  return { user: toPublicUser(row, result.providers), credentialEpoch: row.credentialEpoch };
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
export function loginRefusal(services: Services, result: Exclude<LoginResult, { status: "ok" }>): ApiError {
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
