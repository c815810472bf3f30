// CSRF defences for cookie-authenticated requests. The session cookie travels on its
// own; the CSRF token must come back in the X-CSRF-Token header, which a foreign page
// can neither read nor set. The token's hash is bound to the session in its authority.
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./app-env";
import { ApiError } from "../http/errors";
import { isUnsafeMethod } from "../http/methods";
import { isTrustedOrigin } from "../http/origins";
import { constantTimeEqual, sha256 } from "../lib/crypto";

export const CSRF_HEADER = "X-CSRF-Token";

/**
 * Refuses a state-changing request whose Origin is foreign. Requests that authenticate
 * with a header (Authorization, X-API-Key) carry no ambient credential and are exempt.
 */
export function originGuard(): MiddlewareHandler<AppEnv> {
  return async function originGuardMiddleware(c, next) {
    const origin = c.req.header("Origin");
    const headerCredential = c.req.header("Authorization") !== undefined || c.req.header("X-API-Key") !== undefined;
    if (isUnsafeMethod(c.req.method) && origin !== undefined && !headerCredential) {
      if (!isTrustedOrigin(c.get("config"), c.req.url, origin)) {
        throw new ApiError("csrf_failed", "Cross-origin request refused");
      }
    }
    await next();
  };
}

/** Checks the X-CSRF-Token header against the session's token hash: "ok", or why not. */
export async function checkCsrfToken(header: string | null, csrfHash: string | null): Promise<"ok" | string> {
  if (header === null || header === "" || csrfHash === null) return "Missing CSRF token: send it in the X-CSRF-Token header";
  return constantTimeEqual(await sha256(header), csrfHash) ? "ok" : "Invalid CSRF token";
}
