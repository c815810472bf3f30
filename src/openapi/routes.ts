// Every route of the API, with the schemas its handler uses. See route-spec.ts.
import { OAUTH_SERVER_ROUTES } from "./oauth-server-routes";
import { ORG_ROUTES } from "./org-routes";
import { PASSWORDLESS_ROUTES } from "./passwordless-routes";
import {
  changePasswordBody,
  confirmVerificationBody,
  deleteAccountBody,
  eventsQuery,
  resetConfirmBody,
  resetRequestBody,
} from "../account/schemas";
import { auditQuery, createUserBody, statsQuery, throttleClearBody, updateUserBody, userListQuery } from "../admin/schemas";
import { createKeyBody, listQuery, updateKeyBody, usageQuery, verifyKeyBody } from "../api-keys/schemas";
import { introspectBody } from "../auth/schemas";
import {
  challengeBody,
  confirmTotpBody,
  enrollTotpBody,
  passkeyLoginBody,
  reauthenticateBody,
  registrationVerifyBody,
  verifyBody,
} from "../mfa/schemas";
import { callbackQuery, codeGrantBody, startQuery } from "../oauth/schemas";
import { loginBody, logoutAllQuery } from "../sessions/schemas";
import { passwordGrantBody, refreshBody, revokeBody } from "../tokens/schemas";
import { registerBody, updateProfileBody } from "../users/schemas";
import { z } from "zod";
import * as out from "./response-schemas";
import type { RouteSpec } from "./route-spec";

const USER = ["session", "bearer"] as const;
const ADMIN = ["session", "bearer", "api_key"] as const;

// One row per route reads as a table; the formatter would spread each over a dozen lines.
// prettier-ignore
export const ROUTES = [
  { method: "get", path: "/healthz", summary: "Liveness check", tag: "service", auth: [], ok: { status: 200, description: "Up", schema: out.healthResponse } },
  { method: "get", path: "/openapi.json", summary: "This OpenAPI 3.1 document", tag: "service", auth: [], ok: { status: 200, description: "The document" } },
  { method: "get", path: "/docs", summary: "Human-readable API reference", tag: "service", auth: [], ok: { status: 200, description: "HTML page" } },
  { method: "get", path: "/.well-known/jwks.json", summary: "Public keys that verify access tokens (empty with HS256)", tag: "tokens", auth: [], ok: { status: 200, description: "JSON Web Key Set", schema: out.jwksResponse } },

  { method: "post", path: "/api/v1/users", summary: "Register", tag: "users", auth: [], body: registerBody, ok: { status: 201, description: "The new user", schema: out.userResponse }, errors: ["email_taken", "username_taken", "too_many_attempts", "password_breached", "captcha_required", "captcha_failed", "service_unavailable"], example: { email: "ada@example.com", password: "correct horse battery", username: "ada", name: "Ada" } },
  { method: "get", path: "/api/v1/users/me", summary: "The signed-in user", tag: "users", auth: ["session", "bearer", "api_key"], apiKeyPermission: "user_profile:read", ok: { status: 200, description: "The user", schema: out.userResponse } },
  { method: "patch", path: "/api/v1/users/me", summary: "Change name or username", tag: "users", auth: ["session", "bearer", "api_key"], apiKeyPermission: "user_profile:update", body: updateProfileBody, ok: { status: 200, description: "The user", schema: out.userResponse }, errors: ["username_taken"], example: { name: "Ada Lovelace" } },
  { method: "post", path: "/api/v1/users/me/password", summary: "Change password; ends every other session and token family", tag: "account", auth: USER, body: changePasswordBody, ok: { status: 200, description: "Changed", schema: out.passwordChangedResponse }, errors: ["invalid_credentials", "too_many_attempts", "password_breached"] },
  { method: "delete", path: "/api/v1/users/me", summary: "Delete the account for good", tag: "account", auth: USER, body: deleteAccountBody, ok: { status: 204, description: "Deleted" }, errors: ["invalid_credentials", "reauthentication_required", "too_many_attempts"] },

  { method: "post", path: "/api/v1/auth/login", summary: "Sign in with a session cookie", tag: "sessions", auth: [], body: loginBody, form: true, ok: { status: 200, description: "Signed in; sets the session and CSRF cookies", schema: out.loginResponse }, errors: ["invalid_credentials", "mfa_required", "account_disabled", "too_many_attempts", "captcha_required", "captcha_failed", "service_unavailable"], example: { email: "ada@example.com", password: "correct horse battery", remember_me: false } },
  { method: "post", path: "/api/v1/auth/logout", summary: "Sign out (needs the CSRF header)", tag: "sessions", auth: ["session"], ok: { status: 200, description: "Signed out; clears both cookies", schema: out.detailResponse } },
  { method: "post", path: "/api/v1/auth/logout-all", summary: "End every session and token family", tag: "sessions", auth: USER, query: logoutAllQuery, ok: { status: 200, description: "How many ended", schema: out.revokedResponse } },
  { method: "get", path: "/api/v1/auth/check-auth", summary: "Whether the request is signed in", tag: "sessions", auth: USER, ok: { status: 200, description: "Authenticated or not", schema: out.checkAuthResponse } },
  { method: "post", path: "/api/v1/auth/refresh-csrf", summary: "Rotate the CSRF token (no CSRF header needed)", tag: "sessions", auth: ["session"], ok: { status: 200, description: "The new token", schema: out.csrfResponse } },
  { method: "get", path: "/api/v1/auth/sessions", summary: "The user's sessions and token families", tag: "sessions", auth: USER, ok: { status: 200, description: "Sessions", schema: out.sessionListResponse } },
  { method: "delete", path: "/api/v1/auth/sessions/:id", summary: "End one session or token family", tag: "sessions", auth: USER, ok: { status: 204, description: "Ended" }, errors: ["not_found"] },

  { method: "post", path: "/api/v1/auth/token", summary: "Sign in for tokens (password or authorization_code grant)", tag: "tokens", auth: [], body: z.union([passwordGrantBody, codeGrantBody]), form: true, ok: { status: 200, description: "A token pair", schema: out.tokenResponse }, errors: ["invalid_grant", "invalid_credentials", "mfa_required", "account_disabled", "too_many_attempts", "not_a_member", "captcha_required", "captcha_failed", "service_unavailable"], example: { username: "ada@example.com", password: "correct horse battery" } },
  { method: "post", path: "/api/v1/auth/refresh", summary: "Rotate the refresh token for a new pair", tag: "tokens", auth: [], body: refreshBody, ok: { status: 200, description: "A token pair", schema: out.tokenResponse }, errors: ["invalid_token", "token_reused"] },
  { method: "post", path: "/api/v1/auth/revoke", summary: "Revoke a refresh or access token's family (RFC 7009)", tag: "tokens", auth: [], body: revokeBody, ok: { status: 200, description: "Always", schema: out.emptyResponse } },
  { method: "post", path: "/api/v1/auth/introspect", summary: "Is this session, token or API key active (RFC 7662)", tag: "tokens", auth: [], body: introspectBody, ok: { status: 200, description: "The answer", schema: out.introspectResponse } },

  { method: "post", path: "/api/v1/auth/verify-email/request", summary: "Mail a verification link", tag: "account", auth: USER, ok: { status: 202, description: "Sent", schema: out.detailResponse }, errors: ["too_many_attempts"] },
  { method: "post", path: "/api/v1/auth/verify-email/details", summary: "Which account a verification link verifies (the link stays usable)", tag: "account", auth: [], body: confirmVerificationBody, ok: { status: 200, description: "The account", schema: out.verificationDetailsResponse }, errors: ["invalid_token"] },
  { method: "post", path: "/api/v1/auth/verify-email/confirm", summary: "Verify the email with the mailed token (signed in to the account: proven by its holder)", tag: "account", auth: [], body: confirmVerificationBody, ok: { status: 200, description: "The user", schema: out.userResponse }, errors: ["invalid_token"] },
  { method: "post", path: "/api/v1/auth/verify-email/disown", summary: "\"This wasn't me\": lock the account the link names and end its credentials", tag: "account", auth: [], body: confirmVerificationBody, ok: { status: 200, description: "Locked", schema: out.detailResponse }, errors: ["invalid_token"] },
  { method: "post", path: "/api/v1/auth/password-reset/request", summary: "Mail a password reset link (same answer for unknown emails)", tag: "account", auth: [], body: resetRequestBody, ok: { status: 202, description: "Accepted", schema: out.detailResponse }, errors: ["too_many_attempts", "captcha_required", "captcha_failed", "service_unavailable"] },
  { method: "post", path: "/api/v1/auth/password-reset/confirm", summary: "Set a new password with the mailed token", tag: "account", auth: [], body: resetConfirmBody, ok: { status: 200, description: "Reset", schema: out.detailResponse }, errors: ["invalid_token", "password_breached"] },
  { method: "get", path: "/api/v1/auth/events", summary: "The user's own security events", tag: "account", auth: USER, query: eventsQuery, ok: { status: 200, description: "Events, newest first", schema: out.eventsResponse } },

  { method: "get", path: "/api/v1/auth/oauth/providers", summary: "The providers turned on here (for sign-in buttons)", tag: "oauth", auth: [], ok: { status: 200, description: "Provider ids", schema: out.oauthProvidersResponse } },
  { method: "get", path: "/api/v1/auth/oauth/:provider", summary: "Start an OAuth login", tag: "oauth", auth: [], query: startQuery, ok: { status: 302, description: "To the provider" }, alternatives: [{ status: 200, description: "mode=json: the provider URL", schema: out.oauthUrlResponse }], errors: ["invalid_request", "provider_not_configured"] },
  { method: "post", path: "/api/v1/auth/oauth/:provider/link", summary: "Start linking a provider to the signed-in account (fresh)", tag: "oauth", auth: USER, query: startQuery, ok: { status: 200, description: "The provider URL to send the browser to", schema: out.oauthUrlResponse }, errors: ["provider_not_configured", "reauthentication_required"] },
  { method: "delete", path: "/api/v1/auth/oauth/:provider", summary: "Unlink a provider (not the account's only way to sign in; fresh)", tag: "oauth", auth: USER, ok: { status: 204, description: "Unlinked" }, errors: ["provider_not_configured", "not_found", "reauthentication_required", "invalid_input"] },
  { method: "get", path: "/api/v1/auth/oauth/callback/:provider", summary: "The provider's callback", tag: "oauth", auth: [], query: callbackQuery, ok: { status: 302, description: "Signed in; to redirect_to (or the app)" }, alternatives: [{ status: 200, description: "mode=json", schema: out.oauthJsonLoginResponse }], errors: ["invalid_request", "oauth_failed", "provider_not_configured", "account_exists", "account_disabled", "mfa_required"] },

  { method: "get", path: "/api/v1/auth/mfa", summary: "The user's second factors", tag: "mfa", auth: USER, ok: { status: 200, description: "Factors", schema: out.factorListResponse } },
  { method: "post", path: "/api/v1/auth/mfa/totp", summary: "Start a TOTP enrollment (fresh)", tag: "mfa", auth: USER, body: enrollTotpBody, ok: { status: 201, description: "A pending factor and its secret", schema: out.totpEnrollResponse }, errors: ["reauthentication_required"] },
  { method: "post", path: "/api/v1/auth/mfa/totp/:factor_id/confirm", summary: "Confirm a TOTP factor with its first code (fresh)", tag: "mfa", auth: USER, body: confirmTotpBody, ok: { status: 200, description: "Active; the first factor also returns 10 recovery codes", schema: out.factorAddedResponse }, errors: ["invalid_mfa_code", "too_many_attempts", "not_found", "reauthentication_required"] },
  { method: "post", path: "/api/v1/auth/mfa/webauthn/registration", summary: "Options to register a passkey (fresh)", tag: "mfa", auth: USER, ok: { status: 200, description: "PublicKeyCredentialCreationOptionsJSON", schema: out.webauthnOptionsResponse }, errors: ["reauthentication_required"] },
  { method: "post", path: "/api/v1/auth/mfa/webauthn/registration/verify", summary: "Register a passkey (fresh)", tag: "mfa", auth: USER, body: registrationVerifyBody, ok: { status: 201, description: "The passkey; the first factor also returns 10 recovery codes", schema: out.factorAddedResponse }, errors: ["invalid_mfa_code", "reauthentication_required"] },
  { method: "delete", path: "/api/v1/auth/mfa/:factor_id", summary: "Remove a factor (fresh, aal 2); the last one ends every other session", tag: "mfa", auth: USER, ok: { status: 204, description: "Removed" }, errors: ["not_found", "reauthentication_required"] },
  { method: "post", path: "/api/v1/auth/mfa/recovery-codes", summary: "10 new recovery codes; the old ones stop working (fresh, aal 2)", tag: "mfa", auth: USER, ok: { status: 200, description: "Shown once", schema: out.recoveryCodesResponse }, errors: ["reauthentication_required", "invalid_input"] },
  { method: "post", path: "/api/v1/auth/mfa/challenge", summary: "Passkey options for a sign-in waiting for its second factor", tag: "mfa", auth: [], body: challengeBody, ok: { status: 200, description: "PublicKeyCredentialRequestOptionsJSON", schema: out.webauthnOptionsResponse }, errors: ["invalid_token"] },
  { method: "post", path: "/api/v1/auth/mfa/verify", summary: "Finish a sign-in with its second factor", tag: "mfa", auth: [], body: verifyBody, ok: { status: 200, description: "What the first factor would have answered (cookies, or a token pair)", schema: out.signInResponse }, errors: ["invalid_mfa_code", "invalid_token", "invalid_credentials", "account_disabled", "too_many_attempts"] },
  { method: "post", path: "/api/v1/auth/passkeys/options", summary: "Options for a passwordless passkey sign-in", tag: "mfa", auth: [], ok: { status: 200, description: "PublicKeyCredentialRequestOptionsJSON", schema: out.webauthnOptionsResponse } },
  { method: "post", path: "/api/v1/auth/passkeys/login", summary: "Sign in with a passkey (aal 2 when the user was verified)", tag: "mfa", auth: [], body: passkeyLoginBody, ok: { status: 200, description: "The login answer (cookie) or the token answer", schema: out.signInResponse }, errors: ["invalid_mfa_code", "mfa_required", "account_disabled"] },
  { method: "post", path: "/api/v1/auth/reauthenticate/options", summary: "Passkey options to re-authenticate", tag: "mfa", auth: USER, ok: { status: 200, description: "PublicKeyCredentialRequestOptionsJSON", schema: out.webauthnOptionsResponse }, errors: ["invalid_input"] },
  { method: "post", path: "/api/v1/auth/reauthenticate", summary: "Re-authenticate the current session (password or a second factor)", tag: "mfa", auth: USER, body: reauthenticateBody, ok: { status: 200, description: "When, and the session's aal", schema: out.reauthenticatedResponse }, errors: ["invalid_credentials", "invalid_mfa_code", "too_many_attempts"] },

  { method: "post", path: "/api/v1/api-keys", summary: "Create an API key (shown once; fresh)", tag: "api-keys", auth: USER, body: createKeyBody, ok: { status: 201, description: "The key", schema: out.createdApiKeyResponse }, errors: ["reauthentication_required"], example: { name: "CI", permissions: { user_profile: ["read"] }, rate_limits: { requests_per_minute: 60 } } },
  { method: "get", path: "/api/v1/api-keys", summary: "List API keys", tag: "api-keys", auth: USER, query: listQuery, ok: { status: 200, description: "Keys", schema: out.apiKeyListResponse } },
  { method: "get", path: "/api/v1/api-keys/:id", summary: "One API key", tag: "api-keys", auth: USER, ok: { status: 200, description: "The key", schema: out.apiKeyResponse }, errors: ["not_found"] },
  { method: "patch", path: "/api/v1/api-keys/:id", summary: "Change name, permissions, limits; expires_at only earlier (new permissions: fresh)", tag: "api-keys", auth: USER, body: updateKeyBody, ok: { status: 200, description: "The key", schema: out.apiKeyResponse }, errors: ["not_found", "reauthentication_required"] },
  { method: "delete", path: "/api/v1/api-keys/:id", summary: "Revoke an API key for good", tag: "api-keys", auth: USER, ok: { status: 204, description: "Revoked" }, errors: ["not_found"] },
  { method: "get", path: "/api/v1/api-keys/:id/usage", summary: "Usage totals, by day, endpoint and status", tag: "api-keys", auth: USER, query: usageQuery, ok: { status: 200, description: "Usage", schema: out.usageResponse }, errors: ["not_found"] },
  { method: "post", path: "/api/v1/api-keys/verify", summary: "Verify a key for another service (counts as a use)", tag: "api-keys", auth: [], body: verifyKeyBody, ok: { status: 200, description: "The verdict", schema: out.verifyKeyResponse }, errors: ["rate_limited"], example: { api_key: "fai_k3x9a0qz_...", resource: "reports", action: "read" } },

  { method: "get", path: "/api/v1/admin/users", summary: "Search users (prefix of email, username or name), newest first", tag: "admin", auth: ADMIN, apiKeyPermission: "admin_users:read", query: userListQuery, ok: { status: 200, description: "A page of users", schema: out.adminUserListResponse }, errors: ["forbidden"] },
  { method: "post", path: "/api/v1/admin/users", summary: "Create a user (without a password: they set one by reset)", tag: "admin", auth: ADMIN, apiKeyPermission: "admin_users:write", body: createUserBody, ok: { status: 201, description: "The user", schema: out.adminUserResponse }, errors: ["forbidden", "reauthentication_required", "email_taken", "username_taken", "password_breached"] },
  { method: "get", path: "/api/v1/admin/users/:id", summary: "One user", tag: "admin", auth: ADMIN, apiKeyPermission: "admin_users:read", ok: { status: 200, description: "The user", schema: out.adminUserResponse }, errors: ["forbidden", "not_found"] },
  { method: "patch", path: "/api/v1/admin/users/:id", summary: "Change a user; disabled: true ends everything at once", tag: "admin", auth: ADMIN, apiKeyPermission: "admin_users:write", body: updateUserBody, ok: { status: 200, description: "The user", schema: out.adminUserResponse }, errors: ["forbidden", "reauthentication_required", "not_found", "email_taken", "username_taken"] },
  { method: "delete", path: "/api/v1/admin/users/:id", summary: "Delete a user, as their own deletion", tag: "admin", auth: ADMIN, apiKeyPermission: "admin_users:write", ok: { status: 204, description: "Deleted" }, errors: ["forbidden", "reauthentication_required", "not_found", "invalid_input"] },
  { method: "get", path: "/api/v1/admin/users/:id/sessions", summary: "A user's sessions, as they see them", tag: "admin", auth: ADMIN, apiKeyPermission: "admin_users:read", ok: { status: 200, description: "Sessions", schema: out.adminSessionListResponse }, errors: ["forbidden", "not_found"] },
  { method: "delete", path: "/api/v1/admin/users/:id/sessions", summary: "End every session and token family of a user", tag: "admin", auth: ADMIN, apiKeyPermission: "admin_users:write", ok: { status: 200, description: "How many ended", schema: out.revokedResponse }, errors: ["forbidden", "reauthentication_required", "not_found"] },
  { method: "delete", path: "/api/v1/admin/users/:id/sessions/:session_id", summary: "End one session of a user", tag: "admin", auth: ADMIN, apiKeyPermission: "admin_users:write", ok: { status: 204, description: "Ended" }, errors: ["forbidden", "reauthentication_required", "not_found"] },
  { method: "post", path: "/api/v1/admin/users/:id/password-reset", summary: "Mail the user a reset link", tag: "admin", auth: ADMIN, apiKeyPermission: "admin_users:write", ok: { status: 202, description: "Sent", schema: out.detailResponse }, errors: ["forbidden", "reauthentication_required", "not_found"] },
  { method: "delete", path: "/api/v1/admin/users/:id/mfa", summary: "Remove every factor and recovery code of a user", tag: "admin", auth: ADMIN, apiKeyPermission: "admin_users:write", ok: { status: 204, description: "Removed" }, errors: ["forbidden", "reauthentication_required", "not_found"] },
  { method: "post", path: "/api/v1/admin/throttle/clear", summary: "Clear login throttling for an identifier or IP (with the IP's hourly budget of registrations and mail)", tag: "admin", auth: ADMIN, apiKeyPermission: "admin_users:write", body: throttleClearBody, ok: { status: 200, description: "Cleared", schema: out.detailResponse }, errors: ["forbidden", "reauthentication_required"] },
  { method: "get", path: "/api/v1/admin/users/:id/api-keys", summary: "A user's API keys (prefix only)", tag: "admin", auth: ADMIN, apiKeyPermission: "admin_users:read", query: listQuery, ok: { status: 200, description: "Keys", schema: out.apiKeyListResponse }, errors: ["forbidden"] },
  { method: "get", path: "/api/v1/admin/users/:id/api-keys/:key_id/usage", summary: "A user's key's usage, as the owner sees it", tag: "admin", auth: ADMIN, apiKeyPermission: "admin_users:read", query: usageQuery, ok: { status: 200, description: "Usage", schema: out.usageResponse }, errors: ["forbidden", "not_found"] },
  { method: "get", path: "/api/v1/admin/stats/sign-ins", summary: "Sign-ins per UTC day across users: succeeded, failed, throttled", tag: "admin", auth: ADMIN, apiKeyPermission: "admin_audit:read", query: statsQuery, ok: { status: 200, description: "Every day, oldest first", schema: out.signInStatsResponse }, errors: ["forbidden"] },
  { method: "get", path: "/api/v1/admin/events", summary: "The audit log: security events across users", tag: "admin", auth: ADMIN, apiKeyPermission: "admin_audit:read", query: auditQuery, ok: { status: 200, description: "Events, newest first", schema: out.auditEventsResponse }, errors: ["forbidden"] },

  ...OAUTH_SERVER_ROUTES,
  ...ORG_ROUTES,
  ...PASSWORDLESS_ROUTES,

  { method: "get", path: "/api/v1/dev/outbox", summary: "Development mail outbox (MAIL_PROVIDER=dev; development and test only)", tag: "service", auth: [], ok: { status: 200, description: "Messages", schema: out.outboxResponse }, errors: ["not_found"] },
] as const satisfies readonly RouteSpec[];
