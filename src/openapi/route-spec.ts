// The shape of one documented route. ROUTES (routes.ts) lists every route of the API
// with the very schemas its handler validates with, so the OpenAPI document, the docs
// page, the typed client and the test suite's response checks all come from one place.
import type { z } from "zod";
import type { ErrorCode } from "../http/errors";

export type Credential = "session" | "bearer" | "api_key";

export interface RouteSpec {
  method: "get" | "post" | "put" | "patch" | "delete";
  /** Hono-style path: `/api/v1/api-keys/:id`. */
  path: string;
  summary: string;
  tag: string;
  /** Credentials the route takes; empty: none needed. */
  auth: readonly Credential[];
  /** The permission an API key needs here (only with "api_key" in auth). */
  apiKeyPermission?: string;
  body?: z.ZodType;
  /** The body may also be application/x-www-form-urlencoded. */
  form?: boolean;
  query?: z.ZodType;
  /** The success answer. */
  ok: { status: 200 | 201 | 202 | 204 | 302; description: string; schema?: z.ZodType };
  /** Other documented non-error answers (a redirect mode, a JSON mode). */
  alternatives?: ReadonlyArray<{ status: 200 | 201 | 302 | 429; description: string; schema?: z.ZodType }>;
  /**
   * The errors only this route's handler gives. Those every route of its kind shares
   * (body, credentials, storage) are added by route-errors.ts.
   */
  errors?: readonly ErrorCode[];
  /**
   * An OAuth 2 protocol endpoint (/oauth2/*): its errors are RFC 6749 §5.2's
   * `{error, error_description}`, with these error codes (route-errors.ts adds the
   * ones every such endpoint shares). `errorPage`: it may also answer 400 with an HTML
   * page (the authorization endpoint, when it must not redirect).
   */
  oauth?: { errors: readonly string[]; errorPage?: boolean };
  example?: unknown;
}
