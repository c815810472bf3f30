// The errors each route can answer with, by status and code: those every route of its
// kind shares (derived from what it takes: a body, a query, credentials, storage) and
// those its handler names (RouteSpec.errors). /openapi.json documents exactly these, and
// the test suite fails any error answer outside them (test/helpers/documented.ts).
import { type ErrorCode, statusOf, wireCodeOf } from "../http/errors";
import type { RouteSpec } from "./route-spec";

/** Routes answered from the code and settings alone: no storage, so no 503. */
const STATELESS = new Set(["/healthz", "/openapi.json", "/docs", "/.well-known/jwks.json"]);

/** What each code means, as the reference shows it. */
const CODE_MEANINGS: ReadonlyMap<string, string> = new Map([
  ["invalid_request", "the request is malformed (its JSON, its encoding or a parameter)"],
  ["invalid_credentials", "wrong email or password"],
  ["not_authenticated", "no credential, or one that is not (or no longer) valid"],
  ["session_expired", "the session ended (idle or absolute timeout)"],
  ["invalid_token", "the token is malformed, expired or revoked"],
  ["token_reused", "a rotated-out refresh token was replayed: its family is revoked"],
  ["invalid_api_key", "unknown, revoked or expired API key"],
  ["mfa_required", "the password was right; finish with a second factor (mfa_token)"],
  ["invalid_mfa_code", "the code, passkey or recovery code was not accepted"],
  ["csrf_failed", "a cookie write without the X-CSRF-Token header, or from an origin not allowed"],
  ["forbidden", "this principal may not do this"],
  ["insufficient_scope", "the API key lacks the permission"],
  ["reauthentication_required", "the session must re-authenticate first (fresh, or aal 2)"],
  ["account_disabled", "an administrator disabled the account"],
  ["not_found", "no such resource (for this user)"],
  ["provider_not_configured", "no such OAuth provider here"],
  ["email_taken", "the email belongs to another account"],
  ["username_taken", "the username belongs to another account"],
  ["account_exists", "an account with the provider's email exists: sign in, then link"],
  ["payload_too_large", "the body is over 64 KiB"],
  ["unsupported_media_type", "the body is not application/json"],
  ["too_many_attempts", "throttled: see Retry-After"],
  ["rate_limited", "the API key's rate limit: see Retry-After"],
  ["oauth_failed", "the provider sign-in failed (state, code or identity)"],
  ["invalid_grant", "the grant or code is not valid"],
  ["service_unavailable", "a dependency failed; nothing was let through: retry after Retry-After"],
  ["configuration_error", "the deployment is misconfigured (its log names the setting)"],
  ["org_not_found", "no such organization, or the caller is not a member (the same answer)"],
  ["not_a_member", "the caller is not a member of that organization"],
  ["seat_limit_reached", "members plus pending invitations are at ORG_MAX_MEMBERS"],
  ["last_owner", "an organization keeps at least one owner"],
  ["invitation_invalid", "the invitation was used, withdrawn or expired"],
  ["captcha_required", "this route needs a Turnstile token (CF-Turnstile-Response header or turnstile_token)"],
  ["captcha_failed", "Turnstile refused the token (wrong, used, expired, or for another action or host)"],
  ["password_breached", "the new password appears in a breach list (Pwned Passwords): choose another"],
]);

/** A code's meaning at a status (invalid_request is both 400 and 422). */
export function meaningOf(code: string, status: number): string {
  if (status === 422) return "a field or query parameter is not valid (errors[].path names it), or the change is refused";
  return CODE_MEANINGS.get(code) ?? "";
}

function kindsOf(route: RouteSpec): Set<ErrorCode> {
  const kinds = new Set<ErrorCode>();
  const unsafe = route.method !== "get";
  // The request frame reads every unsafe request's body (http/body.ts) and refuses
  // foreign-origin writes before any route runs.
  if (unsafe)
    for (const kind of ["invalid_request", "csrf_failed", "payload_too_large", "unsupported_media_type"] as const) kinds.add(kind);
  if (route.body !== undefined || route.query !== undefined) kinds.add("invalid_input");
  if (route.auth.length > 0) {
    // Any credential presented is checked (auth/authenticate.ts), whichever kinds the
    // route accepts: a bad one is refused as what it is, a key over its limit is 429,
    // and a good key on a route that refuses keys is 403 forbidden.
    for (const kind of ["not_authenticated", "session_expired", "invalid_token", "invalid_api_key", "rate_limited"] as const)
      kinds.add(kind);
    // A route that takes API keys refuses an organization's key (it acts for no user) with 403 forbidden too.
    kinds.add("forbidden");
    if (route.auth.includes("api_key") && route.apiKeyPermission !== undefined && route.tag !== "admin") kinds.add("insufficient_scope");
  }
  if (!STATELESS.has(route.path)) kinds.add("service_unavailable");
  // Every request loads the settings first: a deployment missing one answers 500.
  kinds.add("configuration_error");
  for (const kind of route.errors ?? []) kinds.add(kind);
  return kinds;
}

/** The status of each RFC 6749 error code an OAuth endpoint answers with (400 for any other). */
const OAUTH_STATUS: ReadonlyMap<string, readonly number[]> = new Map([
  ["invalid_client", [401]],
  ["invalid_token", [401]],
  ["insufficient_scope", [403]],
  ["access_denied", [403]],
  ["not_found", [404]],
  ["invalid_request", [400, 405]],
  ["server_error", [500]],
  ["temporarily_unavailable", [429, 503]],
]);

/** Status → the wire codes the route can answer it with (sorted). */
export function routeErrors(route: RouteSpec): Map<number, string[]> {
  const byStatus = new Map<number, Set<string>>();
  if (route.oauth !== undefined) {
    // Every OAuth endpoint can refuse a malformed request, be off (404), or lose a dependency (503).
    for (const code of ["invalid_request", "not_found", "server_error", "temporarily_unavailable", ...route.oauth.errors]) {
      for (const status of OAUTH_STATUS.get(code) ?? [400]) byStatus.set(status, (byStatus.get(status) ?? new Set()).add(code));
    }
    return new Map([...byStatus].sort(([a], [b]) => a - b).map(([status, codes]) => [status, [...codes].sort()]));
  }
  for (const kind of kindsOf(route)) {
    const status = statusOf(kind);
    const codes = byStatus.get(status) ?? new Set<string>();
    codes.add(wireCodeOf(kind));
    byStatus.set(status, codes);
  }
  return new Map([...byStatus].sort(([a], [b]) => a - b).map(([status, codes]) => [status, [...codes].sort()]));
}
