import type { MiddlewareHandler } from "hono";
import type { HttpEnv } from "./http-env";

const INBOUND_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Gives every request an id (the caller's X-Request-Id when it looks like one, so
 * traces join up across services) and echoes it on the response, errors included.
 */
export function requestId(): MiddlewareHandler<HttpEnv> {
  return async function requestIdMiddleware(c, next) {
    const inbound = c.req.header("X-Request-Id");
    const id = inbound !== undefined && INBOUND_ID.test(inbound) ? inbound : crypto.randomUUID();
    c.set("requestId", id);
    await next();
    c.res.headers.set("X-Request-Id", id);
  };
}
