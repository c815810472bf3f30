// The one error type of the API: a closed list of codes, each with its HTTP status.
// Thrown from routes and middleware, rendered once by the app's onError.
import type { ContentfulStatusCode } from "hono/utils/http-status";

const STATUS_BY_CODE = {
  invalid_request: 400,
  invalid_credentials: 401,
  not_authenticated: 401,
  session_expired: 401,
  invalid_token: 401,
  token_reused: 401,
  invalid_api_key: 401,
  csrf_failed: 403,
  forbidden: 403,
  insufficient_scope: 403,
  not_found: 404,
  provider_not_configured: 404,
  method_not_allowed: 405,
  email_taken: 409,
  username_taken: 409,
  account_exists: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  too_many_attempts: 429,
  rate_limited: 429,
  oauth_failed: 400,
  invalid_grant: 400,
  mfa_required: 401,
  invalid_mfa_code: 401,
  reauthentication_required: 403,
  account_disabled: 403,
  service_unavailable: 503,
  internal_error: 500,
  configuration_error: 500,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof STATUS_BY_CODE;

export interface FieldError {
  path: string;
  message: string;
}

export interface ApiErrorOptions {
  /** Overrides the code's usual status (invalid_request is 400, or 422 for validation). */
  status?: ContentfulStatusCode;
  headers?: Record<string, string>;
  errors?: FieldError[];
}

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: ContentfulStatusCode;
  readonly headers: Record<string, string>;
  readonly errors: FieldError[] | undefined;

  constructor(code: ErrorCode, detail: string, options: ApiErrorOptions = {}) {
    super(detail);
    this.name = "ApiError";
    this.code = code;
    this.status = options.status ?? STATUS_BY_CODE[code];
    this.headers = options.headers ?? {};
    this.errors = options.errors;
  }

  toJSON(): { detail: string; code: ErrorCode; errors?: FieldError[] } {
    return this.errors === undefined
      ? { detail: this.message, code: this.code }
      : { detail: this.message, code: this.code, errors: this.errors };
  }
}

export function validationError(errors: FieldError[]): ApiError {
  return new ApiError("invalid_request", "The request body is not valid", { status: 422, errors });
}

/** A 429 with the Retry-After header every 429 of this API carries. */
export function tooManyRequests(code: "too_many_attempts" | "rate_limited", retryAfterSeconds: number): ApiError {
  const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
  const detail =
    code === "too_many_attempts" ? "Too many failed attempts; try again later" : "Rate limit exceeded; try again later";
  return new ApiError(code, detail, { headers: { "Retry-After": String(seconds) } });
}
