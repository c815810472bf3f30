// edge-auth/hono: protect another Worker's Hono routes with this service, over a service
// binding to its AuthService entrypoint (no HTTP hop, no secret to share):
//
//   # the other Worker's wrangler.toml
//   services = [{ binding = "AUTH", service = "edge-auth", entrypoint = "AuthService" }]
//
//   import { requireAal, requireAuth, requirePermission } from "edge-auth/hono";
//   app.get("/me", requireAuth(), (c) => c.json(c.var.auth.user));
//   app.get("/reports", requirePermission("reports", "read"), ...);
//   app.post("/transfers", requireAal(2), ...);
//
// A refused request gets the answer this service's own routes give: the same status,
// `{detail, code}` body and Retry-After, WWW-Authenticate and RateLimit-* headers. The
// service failing (or the binding missing) is a 503, never a pass. This module runs in the
// other Worker: it imports only types, the permission check (api-keys/grants.ts) and the rate-limit
// header names (api-keys/rate-limit-policy.ts), both free of dependencies.
import type { Context, MiddlewareHandler } from "hono";
import { keyRefusal } from "./api-keys/grants";
import { rateLimitHeaders } from "./api-keys/rate-limit-policy";
import type { AuthRefusal, AuthenticateAnswer, AuthenticateOptions } from "./rpc/auth-service";

export type { AuthRefusal, AuthenticateAnswer, AuthenticateOptions } from "./rpc/auth-service";

/** The signed-in principal a guard lets through: `c.var.auth`. */
export type Authenticated = Extract<AuthenticateAnswer, { authenticated: true }>;

/** What a service binding to AuthService offers these guards. */
export interface AuthServiceBinding {
  authenticate(request: Request, options?: AuthenticateOptions): Promise<AuthenticateAnswer>;
}

export interface GuardOptions {
  /** The name of the service binding in the Worker's env (default "AUTH"). */
  binding?: string;
}

export type AuthVariables = { auth: Authenticated };
type GuardEnv = { Variables: AuthVariables };

const UNAVAILABLE: AuthRefusal = {
  authenticated: false,
  code: "service_unavailable",
  status: 503,
  detail: "The authentication service is unavailable; try again",
  retry_after: 1,
};

/** Any valid credential: session cookie (with CSRF on writes), bearer token or API key. */
export function requireAuth(options: GuardOptions = {}): MiddlewareHandler<GuardEnv> {
  return guard({}, options);
}

/** As requireAuth; an API key must also hold `resource:action` (sessions and tokens act as their user). */
export function requirePermission(resource: string, action: string, options: GuardOptions = {}): MiddlewareHandler<GuardEnv> {
  return guard({ permission: { resource, action } }, options);
}

/** As requireAuth; with 2, a session or token must have signed in with a second factor, and API keys are refused. */
export function requireAal(level: 1 | 2, options: GuardOptions = {}): MiddlewareHandler<GuardEnv> {
  return guard({ requireAal: level }, options);
}

function guard(requirements: AuthenticateOptions, options: GuardOptions): MiddlewareHandler<GuardEnv> {
  const name = options.binding ?? "AUTH";
  return async function authGuard(c, next) {
    // A guard after another on the same request decides from the first answer, so an API
    // key's use is counted once; only a session short of aal 2 asks again (for its methods).
    const known = c.get("auth") as Authenticated | undefined;
    if (known !== undefined) {
      if (known.principal === "api_key") {
        const refused = keyRefusal(known.permissions ?? {}, requirements);
        return refused === null ? next() : refuse(c, { authenticated: false, ...refused });
      }
      if (requirements.requireAal !== 2 || known.aal === 2) return next();
    }
    const answer = await ask(c, name, requirements);
    if (answer.ratelimit !== undefined) for (const [name, value] of rateLimitHeaders(answer.ratelimit)) c.header(name, value);
    if (!answer.authenticated) return refuse(c, answer);
    c.set("auth", answer);
    await next();
  };
}

async function ask(c: Context, name: string, requirements: AuthenticateOptions): Promise<AuthenticateAnswer> {
  const env = (c.env ?? {}) as Record<string, unknown>;
  const service = Object.hasOwn(env, name) ? (env[name] as Partial<AuthServiceBinding> | undefined) : undefined;
  if (typeof service?.authenticate !== "function") {
    console.error(JSON.stringify({ level: "error", event: "auth_binding_missing", binding: name }));
    return UNAVAILABLE;
  }
  // The method, URL and headers are all it needs: the body stays with this request.
  const request = new Request(c.req.url, { method: c.req.method, headers: c.req.raw.headers });
  try {
    return await service.authenticate(request, requirements);
  } catch (error) {
    console.error(JSON.stringify({ level: "error", event: "auth_service_failed", error: error instanceof Error ? error.name : "unknown" }));
    return UNAVAILABLE;
  }
}

function refuse(c: Context, answer: AuthRefusal): Response {
  const headers: Record<string, string> = { "Cache-Control": "no-store" };
  if (answer.retry_after !== undefined) headers["Retry-After"] = String(answer.retry_after);
  if (answer.www_authenticate !== undefined) headers["WWW-Authenticate"] = answer.www_authenticate;
  const body: Record<string, unknown> = { detail: answer.detail, code: answer.code };
  if (answer.methods !== undefined) body.methods = answer.methods;
  return c.json(body, answer.status as 401, headers);
}
