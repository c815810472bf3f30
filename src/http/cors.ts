import type { MiddlewareHandler } from "hono";
import type { HttpEnv } from "./http-env";
import { ApiError } from "./errors";

const ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE";
const ALLOWED_HEADERS = "Content-Type, X-CSRF-Token, Authorization, X-API-Key, X-Request-Id";
const EXPOSED_HEADERS = "X-Request-Id, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset";
const PREFLIGHT_MAX_AGE_SECONDS = "600";

/**
 * CORS with credentials for the origins in CORS_ORIGINS only. A foreign origin never
 * gets Access-Control-Allow-Origin, so its pages cannot read any response.
 */
export function cors(): MiddlewareHandler<HttpEnv> {
  return async function corsMiddleware(c, next) {
    const origin = c.req.header("Origin");
    const allowed = origin !== undefined && c.get("config").corsOrigins.includes(origin);
    const isPreflight = c.req.method === "OPTIONS" && c.req.header("Access-Control-Request-Method") !== undefined;

    if (isPreflight) {
      if (!allowed) throw new ApiError("forbidden", "Origin not allowed");
      return new Response(null, {
        status: 204,
        headers: {
          "Access-Control-Allow-Origin": origin,
          "Access-Control-Allow-Credentials": "true",
          "Access-Control-Allow-Methods": ALLOWED_METHODS,
          "Access-Control-Allow-Headers": ALLOWED_HEADERS,
          "Access-Control-Max-Age": PREFLIGHT_MAX_AGE_SECONDS,
          Vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
        },
      });
    }

    await next();
    c.res.headers.append("Vary", "Origin");
    if (allowed) {
      c.res.headers.set("Access-Control-Allow-Origin", origin);
      c.res.headers.set("Access-Control-Allow-Credentials", "true");
      c.res.headers.set("Access-Control-Expose-Headers", EXPOSED_HEADERS);
    }
  };
}
