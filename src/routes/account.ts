// Account lifecycle routes: password change and account deletion under /users/me,
// email verification, password reset and security events under /auth.
import { turnstile } from "../auth/turnstile-guard";
import { type Context, Hono } from "hono";
import {
  changePassword,
  checkCurrentPassword,
  confirmPasswordReset,
  requestEmailVerification,
  requestPasswordReset,
} from "../account/account-service";
import { confirmEmailVerification, disownAddress, verificationDetails } from "../account/address-proof";
import { deleteOwnAccount } from "../account/deletion";
import { limitPerIp } from "../account/registration";
import {
  changePasswordBody,
  confirmVerificationBody,
  deleteAccountBody,
  eventsQuery,
  resetConfirmBody,
  resetRequestBody,
} from "../account/schemas";
import type { AppEnv } from "../auth/app-env";
import { authenticate, userPrincipal } from "../auth/authenticate";
import { listEvents, recordEventLater } from "../events/event-log";
import { parseBody, parseQuery } from "../http/body";
import { clearSessionCookies } from "../http/cookies";
import { ApiError, tooManyAttempts } from "../http/errors";

export const accountUserRoutes = new Hono<AppEnv>();

accountUserRoutes.post("/me/password", authenticate(), async (c) => {
  const input = parseBody(c, changePasswordBody);
  const principal = userPrincipal(c);
  const deps = c.get("services");
  const check = await checkCurrentPassword(deps, principal.user, input.current_password);
  if (check.status === "throttled") throw tooManyAttempts("failed_sign_ins", check.retryAfterSeconds);
  if (check.status === "wrong") throw new ApiError("invalid_credentials", "The current password is not correct");
  const revoked = await changePassword(deps, principal.user, {
    checkedHash: check.hash,
    newPassword: input.new_password,
    currentSessionId: principal.session.id,
  });
  // Another change or a reset replaced the password after it was checked.
  if (revoked === null) throw new ApiError("invalid_credentials", "The current password is not correct");
  recordEventLater(c.get("services"), principal.userId, "password_changed", { other_sessions_revoked: revoked });
  return c.json({ detail: "Password changed", revoked });
});

accountUserRoutes.delete("/me", authenticate(), async (c) => {
  const { password } = parseBody(c, deleteAccountBody);
  await deleteOwnAccount(c.get("services"), userPrincipal(c), password);
  clearSessionCookies(c);
  return c.body(null, 204);
});

export const accountAuthRoutes = new Hono<AppEnv>();

accountAuthRoutes.post("/verify-email/request", authenticate(), async (c) => {
  await limitPerIp(c.get("services"));
  const result = await requestEmailVerification(c.get("services"), userPrincipal(c).user);
  if (result.status === "rate_limited") throw tooManyAttempts("mails_per_address", result.retryAfterSeconds);
  const detail = result.status === "already_verified" ? "Email already verified" : "Verification email sent";
  return c.json({ detail }, 202);
});

const invalidLink = (): ApiError => new ApiError("invalid_token", "This link is invalid, expired or already used");

/** Who is signed in on a verification request, if anyone: confirming as the account itself proves the address by its holder. */
const signedInAs = (c: Context<AppEnv>): string | null => {
  const principal = c.get("principal");
  return principal === undefined || principal.kind === "api_key" ? null : principal.userId;
};

// No CSRF token is needed (the link's page may have none), an API key is taken as no
// credential, and a session that does not check out is taken as none: a session here
// only ever names its own account.
const maybeSignedIn = authenticate({ optional: true, skipCsrfToken: true, ignoreApiKeys: true });

accountAuthRoutes.post("/verify-email/details", maybeSignedIn, async (c) => {
  const { token } = parseBody(c, confirmVerificationBody);
  const details = await verificationDetails(c.get("services"), token, signedInAs(c));
  if (details === null) throw invalidLink();
  return c.json(details);
});

accountAuthRoutes.post("/verify-email/confirm", maybeSignedIn, async (c) => {
  const { token } = parseBody(c, confirmVerificationBody);
  const user = await confirmEmailVerification(c.get("services"), token, signedInAs(c));
  if (user === null) throw invalidLink();
  recordEventLater(c.get("services"), user.id, "email_verified");
  return c.json(user);
});

accountAuthRoutes.post("/verify-email/disown", async (c) => {
  const { token } = parseBody(c, confirmVerificationBody);
  await disownAddress(c.get("services"), token);
  return c.json({ detail: "The account is locked and signed out everywhere; reset the password to claim it" });
});

accountAuthRoutes.post("/password-reset/request", turnstile("password_reset"), async (c) => {
  const { email } = parseBody(c, resetRequestBody);
  await limitPerIp(c.get("services"));
  requestPasswordReset(c.get("services"), email);
  return c.json({ detail: "If an account has this address, a reset link is on its way" }, 202);
});

accountAuthRoutes.post("/password-reset/confirm", async (c) => {
  const input = parseBody(c, resetConfirmBody);
  const result = await confirmPasswordReset(c.get("services"), input.token, input.new_password);
  if (result === null) throw new ApiError("invalid_token", "This link is invalid, expired or already used");
  recordEventLater(c.get("services"), result.userId, "password_reset");
  return c.json({ detail: "Password reset; sign in with the new password" });
});

accountAuthRoutes.get("/events", authenticate(), async (c) => {
  const page = parseQuery(c, eventsQuery);
  const items = await listEvents(c.get("services").db, userPrincipal(c).userId, page);
  return c.json({ items });
});
