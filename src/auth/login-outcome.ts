// What follows a password login attempt, shared by session login and the token
// endpoint: the answer for a refusal, and the security events (and new-device mail).
import type { Context } from "hono";
import type { AppEnv } from "../env";
import { recordEventLater } from "../events/event-log";
import { clientInfo } from "../http/client-info";
import { ApiError, tooManyRequests } from "../http/errors";
import { createMailer, deliver } from "../mail/mailer";
import { newDeviceMessage } from "../mail/templates";
import type { PublicUser } from "../users/user-view";
import { database } from "../db/client";
import type { ClientInfo } from "../http/client-info";
import { publicUser } from "../users/user-store";
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
export async function passwordSignIn(
  c: Context<AppEnv>,
  input: { identifier: string; password: string },
  client: ClientInfo,
): Promise<SignedIn> {
  const db = database(c.env.DB);
  const result = await checkPasswordLogin(
    {
      db,
      config: c.get("config"),
      throttle: c.env.LOGIN_THROTTLE,
      waitUntil: (promise) => c.executionCtx.waitUntil(promise),
    },
    { ...input, ip: client.ip },
  );
  if (result.status !== "ok") throw loginRefusal(c, result);
  return { user: await publicUser(db, result.user), credentialEpoch: result.user.credentialEpoch };
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
export function loginRefusal(c: Context<AppEnv>, result: Exclude<LoginResult, { status: "ok" }>): ApiError {
  if (result.status === "throttled") {
    if (result.lockedOutUserId !== null) recordEventLater(c, result.lockedOutUserId, "login_throttled");
    return tooManyRequests("too_many_attempts", result.retryAfterSeconds);
  }
  if (result.userId !== null) recordEventLater(c, result.userId, "login_failed");
  return new ApiError("invalid_credentials", "Incorrect username or password");
}

export function recordLoginSuccess(
  c: Context<AppEnv>,
  user: PublicUser,
  details: { kind: "cookie" | "token"; method: string; newDevice: boolean },
): void {
  recordEventLater(c, user.id, "login_succeeded", { kind: details.kind, method: details.method });
  if (!details.newDevice) return;
  const client = clientInfo(c.req.raw);
  recordEventLater(c, user.id, "new_device", { browser: client.device.browser, os: client.device.os });
  const mailer = createMailer(c.get("config"), c.env.DB);
  c.executionCtx.waitUntil(deliver(mailer, newDeviceMessage(user.email, client.device, client.location, client.ip)));
}
