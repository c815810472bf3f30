// The one error type of the API. Each kind has exactly one status and one wire code
// (ERRORS); routes, middleware and domain modules throw it, and `errorResponse` renders
// every error the API sends, so an answer's shape never depends on who refused.
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** The wire codes of the contract (api-contract.md, Conventions). */
export type WireCode =
  | "invalid_request"
  | "invalid_credentials"
  | "not_authenticated"
  | "session_expired"
  | "invalid_token"
  | "token_reused"
  | "invalid_api_key"
  | "csrf_failed"
  | "forbidden"
  | "insufficient_scope"
  | "not_found"
  | "provider_not_configured"
  | "method_not_allowed"
  | "email_taken"
  | "username_taken"
  | "account_exists"
  | "payload_too_large"
  | "unsupported_media_type"
  | "too_many_attempts"
  | "rate_limited"
  | "oauth_failed"
  | "invalid_grant"
  | "mfa_required"
  | "invalid_mfa_code"
  | "reauthentication_required"
  | "account_disabled"
  | "service_unavailable"
  | "org_not_found"
  | "not_a_member"
  | "seat_limit_reached"
  | "last_owner"
  | "invitation_invalid"
  | "captcha_required"
  | "captcha_failed"
  | "password_breached"
  | "internal_error"
  | "configuration_error";

interface ErrorKind {
  status: ContentfulStatusCode;
  /** The wire code, when it is not the kind's own name. */
  code?: WireCode;
}

const ERRORS = {
  invalid_request: { status: 400 },
  /** Well-formed, but not acceptable: validation errors and refused changes (contract: 422 invalid_request). */
  invalid_input: { status: 422, code: "invalid_request" },
  invalid_credentials: { status: 401 },
  not_authenticated: { status: 401 },
  session_expired: { status: 401 },
  invalid_token: { status: 401 },
  token_reused: { status: 401 },
  invalid_api_key: { status: 401 },
  mfa_required: { status: 401 },
  invalid_mfa_code: { status: 401 },
  csrf_failed: { status: 403 },
  forbidden: { status: 403 },
  insufficient_scope: { status: 403 },
  reauthentication_required: { status: 403 },
  account_disabled: { status: 403 },
  not_found: { status: 404 },
  provider_not_configured: { status: 404 },
  method_not_allowed: { status: 405 },
  email_taken: { status: 409 },
  username_taken: { status: 409 },
  account_exists: { status: 409 },
  payload_too_large: { status: 413 },
  unsupported_media_type: { status: 415 },
  too_many_attempts: { status: 429 },
  rate_limited: { status: 429 },
  oauth_failed: { status: 400 },
  invalid_grant: { status: 400 },
  /** Organizations: one a caller cannot see is not found (no existence leak). */
  org_not_found: { status: 404 },
  not_a_member: { status: 403 },
  seat_limit_reached: { status: 409 },
  last_owner: { status: 422 },
  invitation_invalid: { status: 400 },
  /** Turnstile (TURNSTILE_SECRET_KEY): no token on a guarded route, or siteverify refused it. */
  captcha_required: { status: 400 },
  captcha_failed: { status: 403 },
  /** PWNED_PASSWORDS: the new password is in a breach list. */
  password_breached: { status: 422 },
  /** A change that conflicts with what exists (a taken slug, an existing member, a role still held): 409 invalid_request. */
  conflict: { status: 409, code: "invalid_request" },
  internal_error: { status: 500 },
  configuration_error: { status: 500 },
  service_unavailable: { status: 503 },
} as const satisfies Record<string, ErrorKind> & Record<WireCode, ErrorKind>;

export type ErrorCode = keyof typeof ERRORS;

/** The status a kind of error is answered with. */
export function statusOf(kind: ErrorCode): ContentfulStatusCode {
  return ERRORS[kind].status;
}

/** The code a kind of error is sent with. */
export function wireCodeOf(kind: ErrorCode): WireCode {
  const entry: ErrorKind = ERRORS[kind];
  return entry.code ?? (kind as WireCode);
}

export interface FieldError {
  path: string;
  message: string;
}

export interface ApiErrorOptions {
  headers?: Record<string, string>;
  errors?: FieldError[];
  /** Fields an endpoint documents beside detail and code (e.g. OAuth's `reason`). */
  extra?: Record<string, unknown>;
}

export class ApiError extends Error {
  readonly kind: ErrorCode;
  /** The wire code sent to the client. */
  readonly code: WireCode;
  readonly status: ContentfulStatusCode;
  readonly headers: Record<string, string>;
  readonly errors: FieldError[] | undefined;
  readonly extra: Record<string, unknown> | undefined;

  constructor(kind: ErrorCode, detail: string, options: ApiErrorOptions = {}) {
    super(detail);
    this.name = "ApiError";
    const entry: ErrorKind = ERRORS[kind];
    this.kind = kind;
    this.code = wireCodeOf(kind);
    this.status = entry.status;
    this.headers = options.headers ?? {};
    // Every 503 tells the client when to try again.
    if (this.status === 503 && this.headers["Retry-After"] === undefined) this.headers = { ...this.headers, "Retry-After": "1" };
    this.errors = options.errors;
    this.extra = options.extra;
  }

  toJSON(): Record<string, unknown> {
    const body: Record<string, unknown> = { ...this.extra, detail: this.message, code: this.code };
    if (this.errors !== undefined) body.errors = this.errors;
    return body;
  }
}

/**
 * The one renderer: every error response of the API is made here (the app's onError).
 * Through the context, so headers a handler set before refusing (a cleared cookie,
 * RateLimit-*) stay on the answer.
 */
export function errorResponse(c: Context, error: ApiError): Response {
  for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
  return c.json(error.toJSON(), error.status);
}

export function validationError(errors: FieldError[]): ApiError {
  return new ApiError("invalid_input", "The request body is not valid", { errors });
}

/** A 422 for query parameters: each errors[].path names its parameter (`query.days`), and the detail says so. */
export function queryValidationError(errors: FieldError[]): ApiError {
  const named = errors.map((error) => ({ ...error, path: error.path === "" ? "query" : `query.${error.path}` }));
  return new ApiError("invalid_input", "A query parameter is not valid", { errors: named });
}

/** A 429 with the Retry-After header every 429 of this API carries. */
export function tooManyRequests(
  code: "too_many_attempts" | "rate_limited",
  retryAfterSeconds: number,
  extra?: Record<string, unknown>,
): ApiError {
  const detail = code === "too_many_attempts" ? THROTTLE_DETAILS.failed_sign_ins : "Rate limit exceeded; try again later";
  return new ApiError(code, detail, { headers: { "Retry-After": String(retryAfter(retryAfterSeconds)) }, extra });
}

/** What a 429 too_many_attempts was counting (contract v1.2: its detail names the cause). */
export type ThrottleCause = "failed_sign_ins" | "ip_hourly" | "mails_per_address";

const THROTTLE_DETAILS: Record<ThrottleCause, string> = {
  failed_sign_ins: "Too many failed sign-in attempts; try again later",
  /** REGISTRATION_MAX_PER_HOUR per client IP, shared by registration and every request that sends mail. */
  ip_hourly: "Too many registrations or mails from this address in the last hour; try again later",
  /** At most 3 mailed tokens per email address and purpose per hour. */
  mails_per_address: "Too many mails to this email address in the last hour; try again later",
};

/** A 429 too_many_attempts whose detail names which limit refused it. */
export function tooManyAttempts(cause: ThrottleCause, retryAfterSeconds: number): ApiError {
  return new ApiError("too_many_attempts", THROTTLE_DETAILS[cause], { headers: { "Retry-After": String(retryAfter(retryAfterSeconds)) } });
}

function retryAfter(seconds: number): number {
  return Math.max(1, Math.ceil(seconds));
}

/** A dependency (D1, KV, a Durable Object, a provider) failed: the request was not let through. */
export function serviceUnavailable(): ApiError {
  return new ApiError("service_unavailable", "A service this request depends on is unavailable; try again shortly");
}

/** An admin disabled the account: said only after a correct first factor. */
export function accountDisabled(): ApiError {
  return new ApiError("account_disabled", "This account is disabled; contact the service's administrators");
}

/** A bug in this code: the details stay in the log (class name only). */
export function internalError(): ApiError {
  return new ApiError("internal_error", "Internal server error");
}
