import type { MiddlewareHandler } from "hono";
import type { HttpEnv } from "./http-env";

/**
 * One JSON line per request for Workers Logs: request id, route pattern (never the raw
 * path, which may carry ids), status, duration and the kind of principal. Never a
 * header, cookie, token, body or query string.
 */
export function requestLog(): MiddlewareHandler<HttpEnv> {
  return async function requestLogMiddleware(c, next) {
    const started = Date.now();
    await next();
    if (c.get("config")?.requestLogs === false) return;
    console.log(
      JSON.stringify({
        level: c.res.status >= 500 ? "error" : "info",
        event: "request",
        request_id: c.get("requestId"),
        method: c.req.method,
        route: c.req.routePath,
        status: c.res.status,
        duration_ms: Date.now() - started,
        principal: c.get("principal")?.kind ?? null,
      }),
    );
  };
}
