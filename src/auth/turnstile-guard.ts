// The Turnstile guard of a route (throttle/turnstile.ts), and login's challenge after
// failures: the token comes in the CF-Turnstile-Response header or the body's
// `turnstile_token` (which a guarded route's own schema then never sees).
import type { Context, MiddlewareHandler } from "hono";
import type { LoginCaptcha } from "./password-login";
import type { TurnstileRoute } from "../config/abuse-settings";
import { guards, verifyTurnstile } from "../throttle/turnstile";
import type { AppEnv } from "./app-env";

export const TURNSTILE_HEADER = "CF-Turnstile-Response";

/** The hosts a token may have been solved on when TURNSTILE_EXPECTED_HOSTNAMES is not set. */
function defaultHostnames(c: Context<AppEnv>): string[] {
  const hosts = [new URL(c.req.url).hostname];
  const base = c.get("services").config.appBaseUrl;
  if (base !== undefined) hosts.push(new URL(base).hostname);
  return hosts;
}

/** The token a request presents: the header, else the body's own `turnstile_token`. */
function presentedToken(c: Context<AppEnv>): string | undefined {
  const body = c.get("body");
  const fields = typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : null;
  const fromBody = fields !== null && Object.hasOwn(fields, "turnstile_token") ? fields.turnstile_token : undefined;
  return c.req.header(TURNSTILE_HEADER) ?? (typeof fromBody === "string" ? fromBody : undefined);
}

/**
 * Login's challenge (passed to passwordSignIn): always when TURNSTILE_ROUTES lists
 * `login`, else once the client IP failed TURNSTILE_LOGIN_AFTER_FAILURES sign-ins in the window.
 */
export function loginCaptcha(c: Context<AppEnv>): LoginCaptcha {
  return async (failures) => {
    const services = c.get("services");
    const settings = services.config.turnstile;
    if (settings.secretKey === null) return;
    if (!settings.routes.has("login") && failures < settings.loginAfterFailures) return;
    await verifyTurnstile({ settings, defaultHostnames: defaultHostnames(c), ip: services.ip }, "login", presentedToken(c));
  };
}

export function turnstile(route: TurnstileRoute): MiddlewareHandler<AppEnv> {
  return async function turnstileGuard(c, next) {
    const services = c.get("services");
    const settings = services.config.turnstile;
    if (!guards(settings, route)) return next();
    await verifyTurnstile({ settings, defaultHostnames: defaultHostnames(c), ip: services.ip }, route, presentedToken(c));
    const body = c.get("body");
    if (typeof body === "object" && body !== null && !Array.isArray(body) && Object.hasOwn(body, "turnstile_token")) {
      const { turnstile_token: _token, ...rest } = body as Record<string, unknown>;
      c.set("body", rest);
    }
    return next();
  };
}
