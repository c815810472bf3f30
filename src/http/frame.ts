// The request frame: everything every request goes through, in one middleware stage
// (one await, one pass over the response headers) instead of a stack of them. In order:
// the request id, the settings, a CORS preflight's answer, the Origin check of a
// state-changing request, reading its body; then, on the way out, the request id, the
// security headers and the CORS headers on every response (errors included), and the
// request's log line. Each rule lives in its own module; this file only orders them.
import type { Context, MiddlewareHandler } from "hono";
import type { Config } from "../config/config";
import { readBody } from "./body";
import { applyCorsHeaders, applyOpenCorsHeaders, isCorsOrigin, isPreflight, openPreflightResponse, preflightResponse } from "./cors";
import { ApiError } from "./errors";
import { handedBody, handedOver } from "./handover";
import type { HttpEnv } from "./http-env";
import { configOf } from "./load-config";
import { isUnsafeMethod } from "./methods";
import { FOREIGN_ORIGIN_DETAIL, isForeignWrite } from "./origins";
import { requestIdOf } from "./request-id";
import { logRequest } from "./request-log";
import { applySecurityHeaders, isNavigation } from "./security-headers";

export interface FrameOptions<E extends HttpEnv> {
  /** Renders an error thrown inside the frame itself (a bad setting, a foreign Origin, a bad body). */
  onError: (error: unknown, c: Context<E>) => Response;
  /**
   * Readies what the routes use (the app's services), once the settings are read and
   * before the body: one call here instead of another middleware stage on every request.
   */
  prepare: (c: Context<E>) => void;
  /** Paths any origin may call without credentials (cors.ts, openPreflightResponse). */
  openEndpoint?: (path: string) => boolean;
}

export function frame<E extends HttpEnv>(options: FrameOptions<E>): MiddlewareHandler<E> {
  return async function frameMiddleware(context, next) {
    // The frame reads and sets only the HTTP layer's own variables.
    const c = context as unknown as Context<HttpEnv>;
    const request = c.req.raw;
    const handover = handedOver(request);
    const started = handover?.started ?? Date.now();
    const requestId = requestIdOf(request.headers);
    c.set("requestId", requestId);
    const origin = request.headers.get("Origin");
    const preflight = isPreflight(request);
    const open = options.openEndpoint?.(c.req.path) === true;
    let config: Config | undefined;
    try {
      config = configOf(c.env);
      c.set("config", config);
      if (preflight) {
        c.res = open ? openPreflightResponse() : preflightResponse(config, origin);
      } else {
        // An open endpoint takes no ambient credential (no cookie is read there): no Origin check.
        if (!open && isForeignWrite(config, request, origin)) throw new ApiError("csrf_failed", FOREIGN_ORIGIN_DETAIL);
        options.prepare(context);
        if (isUnsafeMethod(request.method)) {
          // A direct answer that left the request to the app may have read the body already.
          const handed = handedBody(handover);
          c.set("body", handed !== undefined ? handed.value : await readBody(request, c.req.path));
        }
        await next();
      }
    } catch (error) {
      c.res = options.onError(error, context);
    }
    const headers = c.res.headers;
    headers.set("X-Request-Id", requestId);
    const answerHeaders = c.get("answerHeaders");
    if (answerHeaders !== undefined) for (const [name, value] of answerHeaders) headers.set(name, value);
    const timing = c.get("timing");
    if (timing !== undefined) headers.set("Server-Timing", timing.header());
    applySecurityHeaders(headers, config, { status: c.res.status, navigation: isNavigation(request) });
    // A preflight's answer carries its own CORS headers.
    if (!preflight && open) applyOpenCorsHeaders(headers);
    else if (!preflight) applyCorsHeaders(headers, config !== undefined && isCorsOrigin(config, origin) ? origin : null);
    if (config?.requestLogs !== false) {
      logRequest({
        requestId,
        method: request.method,
        route: c.req.routePath,
        status: c.res.status,
        durationMs: Date.now() - started,
        principal: c.get("principal")?.kind ?? c.get("acted") ?? null,
      });
    }
  };
}
