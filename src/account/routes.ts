// Account lifecycle routes: password change and account deletion under /users/me,
// email verification, password reset and security events under /auth.
import { type Context, Hono } from "hono";
import { authenticate, userPrincipal } from "../auth/authenticate";
import { isDevelopmentEnvironment } from "../config/config";
import type { AppEnv } from "../env";
import { listEvents, recordEventLater } from "../events/event-log";
import { parseBody, parseInput } from "../http/body";
import { clientIp } from "../http/client-info";
import { clearSessionCookies } from "../http/cookies";
import { ApiError, tooManyRequests } from "../http/errors";
import { takeHourlySlot } from "../throttle/login-guard";
import { findUserById } from "../users/user-store";
import {
  changePassword,
  checkCurrentPassword,
  confirmEmailVerification,
  confirmPasswordReset,
  deleteAccount,
  requestEmailVerification,
  requestPasswordReset,
} from "./account-service";
import { accountDeps } from "./deps";
import {
  changePasswordBody,
  confirmVerificationBody,
  deleteAccountBody,
  eventsQuery,
  resetConfirmBody,
  resetRequestBody,
} from "./schemas";

/** An account without a password confirms deletion with a sign-in this recent. */
const RECENT_LOGIN_MS = 10 * 60 * 1000;

export const accountUserRoutes = new Hono<AppEnv>();

accountUserRoutes.post("/me/password", authenticate(), async (c) => {
  const input = parseBody(c, changePasswordBody);
  const principal = userPrincipal(c);
  const deps = accountDeps(c);
  const check = await checkCurrentPassword(deps, principal.user, input.current_password, clientIp(c.req.raw));
  if (check.status === "throttled") throw tooManyRequests("too_many_attempts", check.retryAfterSeconds);
  if (check.status === "wrong") throw new ApiError("invalid_credentials", "The current password is not correct");
  const revoked = await changePassword(deps, principal.user, {
    checkedHash: check.hash,
    newPassword: input.new_password,
    currentSessionId: principal.session.id,
  });
  // Another change or a reset replaced the password after it was checked.
  if (revoked === null) throw new ApiError("invalid_credentials", "The current password is not correct");
  recordEventLater(c, principal.userId, "password_changed", { other_sessions_revoked: revoked });
  return c.json({ detail: "Password changed", revoked });
});

accountUserRoutes.delete("/me", authenticate(), async (c) => {
  const input = parseBody(c, deleteAccountBody);
  const principal = userPrincipal(c);
  const deps = accountDeps(c);
  const row = await findUserById(deps.db, principal.userId);
  if (row === null) throw new ApiError("not_authenticated", "Not authenticated");
  if (row.passwordHash !== null) {
    if (input.password === undefined) {
      throw new ApiError("invalid_request", "Confirm with your password", {
        status: 422,
        errors: [{ path: "password", message: "Required" }],
      });
    }
    const check = await checkCurrentPassword(deps, principal.user, input.password, clientIp(c.req.raw));
    if (check.status === "throttled") throw tooManyRequests("too_many_attempts", check.retryAfterSeconds);
    if (check.status === "wrong") throw new ApiError("invalid_credentials", "The password is not correct");
  } else if (Date.now() - principal.session.createdAt > RECENT_LOGIN_MS) {
    // createdAt is the sign-in of this session or token family, as its authority knows
    // it (this is a state-changing request): a refreshed access token does not renew it.
    throw new ApiError("forbidden", "Sign in again to confirm deleting your account");
  }
  await deleteAccount(deps, principal.userId);
  clearSessionCookies(c);
  return c.body(null, 204);
});

export const accountAuthRoutes = new Hono<AppEnv>();

accountAuthRoutes.post("/verify-email/request", authenticate(), async (c) => {
  await limitMailPerIp(c);
  const result = await requestEmailVerification(accountDeps(c), userPrincipal(c).user);
  if (result.status === "rate_limited") throw tooManyRequests("too_many_attempts", result.retryAfterSeconds);
  const detail = result.status === "already_verified" ? "Email already verified" : "Verification email sent";
  return c.json({ detail }, 202);
});

accountAuthRoutes.post("/verify-email/confirm", async (c) => {
  const { token } = parseBody(c, confirmVerificationBody);
  const user = await confirmEmailVerification(accountDeps(c), token);
  if (user === null) throw new ApiError("invalid_token", "This link is invalid, expired or already used");
  recordEventLater(c, user.id, "email_verified");
  return c.json(user);
});

accountAuthRoutes.post("/password-reset/request", async (c) => {
  const { email } = parseBody(c, resetRequestBody);
  await limitMailPerIp(c);
  requestPasswordReset(accountDeps(c), email);
  return c.json({ detail: "If an account has this address, a reset link is on its way" }, 202);
});

accountAuthRoutes.post("/password-reset/confirm", async (c) => {
  const input = parseBody(c, resetConfirmBody);
  const result = await confirmPasswordReset(accountDeps(c), input.token, input.new_password);
  if (result === null) throw new ApiError("invalid_token", "This link is invalid, expired or already used");
  recordEventLater(c, result.userId, "password_reset");
  return c.json({ detail: "Password reset; sign in with the new password" });
});

accountAuthRoutes.get("/events", authenticate(), async (c) => {
  const page = parseInput(eventsQuery, c.req.query());
  const items = await listEvents(accountDeps(c).db, userPrincipal(c).userId, page);
  return c.json({ items });
});

/** Requests that send mail share the per-IP hourly limit with registration. */
async function limitMailPerIp(c: Context<AppEnv>): Promise<void> {
  const slot = await takeHourlySlot(c.env.LOGIN_THROTTLE, clientIp(c.req.raw), c.get("config").registrationMaxPerHour);
  if (!slot.allowed) throw tooManyRequests("too_many_attempts", slot.retryAfterSeconds);
}

/** The development outbox (MAIL_PROVIDER=dev, outside production only). */
export const devRoutes = new Hono<AppEnv>();

devRoutes.get("/outbox", async (c) => {
  const config = c.get("config");
  if (config.mail.provider !== "dev" || !isDevelopmentEnvironment(config.environment)) throw new ApiError("not_found", "Not found");
  const to = c.req.query("to")?.toLowerCase();
  const statement =
    to === undefined
      ? c.env.DB.prepare("SELECT to_address, subject, body, created_at FROM mail_outbox ORDER BY created_at DESC LIMIT 50")
      : c.env.DB.prepare(
          "SELECT to_address, subject, body, created_at FROM mail_outbox WHERE to_address = ? ORDER BY created_at DESC LIMIT 50",
        ).bind(to);
  const { results } = await statement.all<{ to_address: string; subject: string; body: string; created_at: string }>();
  return c.json({
    items: results.map((row) => ({ to: row.to_address, subject: row.subject, body: row.body, created_at: row.created_at })),
  });
});
