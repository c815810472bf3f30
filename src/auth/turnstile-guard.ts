// The Turnstile guard of a route (throttle/turnstile.ts): the token comes in the
// CF-Turnstile-Response header or the body's `turnstile_token` (which the route's own
// schema then never sees).
import type { MiddlewareHandler } from "hono";
import type { TurnstileRoute } from "../config/abuse-settings";
import { guards, verifyTurnstile } from "../throttle/turnstile";
import type { AppEnv } from "./app-env";

export const TURNSTILE_HEADER = "CF-Turnstile-Response";

export function turnstile(route: TurnstileRoute): MiddlewareHandler<AppEnv> {
  return async function turnstileGuard(c, next) {
    const services = c.get("services");
    const settings = services.config.turnstile;
    if (!guards(settings, route)) return next();
    const body = c.get("body");
    const fields = typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : null;
    const fromBody = fields !== null && Object.hasOwn(fields, "turnstile_token") ? fields.turnstile_token : undefined;
    const token = c.req.header(TURNSTILE_HEADER) ?? (typeof fromBody === "string" ? fromBody : undefined);
    const defaultHostnames = [new URL(c.req.url).hostname];
    if (services.config.appBaseUrl !== undefined) defaultHostnames.push(new URL(services.config.appBaseUrl).hostname);
    await verifyTurnstile({ settings, defaultHostnames, ip: services.ip }, route, token);
    if (fields !== null && fromBody !== undefined) {
      const { turnstile_token: _token, ...rest } = fields;
      c.set("body", rest);
    }
    return next();
  };
}
