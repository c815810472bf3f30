import type { MiddlewareHandler } from "hono";
import type { HttpEnv } from "./http-env";

/**
 * Safe defaults on every response. No API response may be cached: most carry or
 * depend on a credential, and the rest are cheap to recompute.
 */
export function securityHeaders(): MiddlewareHandler<HttpEnv> {
  return async function securityHeadersMiddleware(c, next) {
    await next();
    const headers = c.res.headers;
    headers.set("X-Content-Type-Options", "nosniff");
    headers.set("X-Frame-Options", "DENY");
    headers.set("Referrer-Policy", "no-referrer");
    headers.set("Cross-Origin-Resource-Policy", "same-site");
    if (!headers.has("Cache-Control")) headers.set("Cache-Control", "no-store");
    if (!headers.has("Content-Security-Policy")) {
      headers.set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
    }
    const config = c.get("config");
    if (config?.cookies.secure) headers.set("Strict-Transport-Security", "max-age=31536000");
  };
}
