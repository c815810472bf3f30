// edge-auth/hono: protect another Worker's Hono routes with this service, over a service
// binding to its AuthService entrypoint (no HTTP hop, no secret to share):
//
//   # the other Worker's wrangler.toml
//   services = [{ binding = "AUTH", service = "edge-auth", entrypoint = "AuthService" }]
//
//   import { requireAal, requireAuth, requireOrgPermission, requirePermission } from "edge-auth/hono";
//   app.get("/me", requireAuth(), (c) => c.json(c.var.auth.user));
//   app.get("/reports", requirePermission("reports", "read"), ...);
//   app.post("/transfers", requireAal(2), ...);
//   app.get("/billing", requireOrgPermission("billing:read"), ...);   // in the active organization
//
// A resource server of this service's OAuth server (an MCP server, an API other apps
// call with tokens they got from it) uses requireOAuth and serves its RFC 9728 metadata
// (edge-auth/oauth-resource: requireOAuth, protectedResourceMetadata).
//
// A refused request gets the answer this service's own routes give: the same status,
// `{detail, code}` body and Retry-After, WWW-Authenticate and RateLimit-* headers. An API
// key's use is counted with the status this Worker finally answers (a later guard's 403,
// the handler's 500), reported back after the handler, as the service's routes count it. The
// service failing (or the binding missing) is a 503, never a pass. This module runs in the
// other Worker: it imports only types, the permission check (api-keys/grants.ts) and the rate-limit
// header names (api-keys/rate-limit-policy.ts), both free of dependencies.
import type { Context, MiddlewareHandler } from "hono";
import { keyRequirementRefusal, orgRequirementRefusal } from "./api-keys/grants";
import { rateLimitHeaders } from "./api-keys/rate-limit-policy";
import type { AuthRefusal, AuthenticateAnswer, AuthenticateOptions } from "./rpc/auth-service";

export type { AuthRefusal, AuthenticateAnswer, AuthenticateOptions } from "./rpc/auth-service";
export { protectedResourceMetadata, requireOAuth, type OAuthGuardOptions, type OAuthVariables } from "./oauth-resource";

/** The signed-in principal a guard lets through: `c.var.auth`. */
export type Authenticated = Extract<AuthenticateAnswer, { authenticated: true }>;

/** What a service binding to AuthService offers these guards. */
export interface AuthServiceBinding {
  authenticate(request: Request, options?: AuthenticateOptions): Promise<AuthenticateAnswer>;
  /** The final status of a request an API key was let through for (its answer's usage_receipt). */
  recordStatus?(receipt: string, status: number): Promise<void>;
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

/**
 * A session or token acting in an organization (POST /api/v1/auth/active-org), as the
 * organization has the caller's role now: `c.var.auth.org_id`, `org_role`,
 * `org_permissions`. None active, or no longer a member: 403 forbidden; API keys too.
 */
export function requireOrg(options: GuardOptions = {}): MiddlewareHandler<GuardEnv> {
  return guard({ org: true }, options);
}

/** As requireOrg; the caller's role there must also hold `permission` ("resource:action", `*` wildcards). */
export function requireOrgPermission(permission: string, options: GuardOptions = {}): MiddlewareHandler<GuardEnv> {
  const colon = permission.indexOf(":");
  if (colon <= 0 || colon === permission.length - 1) throw new Error(`requireOrgPermission: "${permission}" is not resource:action`);
  return guard({ org: { permission: { resource: permission.slice(0, colon), action: permission.slice(colon + 1) } } }, options);
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
        const refused = keyRequirementRefusal(known.permissions ?? {}, known.org_id, requirements);
        return refused === null ? next() : refuse(c, { authenticated: false, ...refused });
      }
      const orgRefused = orgRefusalOf(known, requirements.org);
      if (orgRefused !== null) return refuse(c, orgRefused);
      if (requirements.requireAal !== 2 || known.aal === 2) return next();
    }
    const service = bindingOf(c, name);
    const answer = await ask(c, service, name, requirements);
    if (answer.ratelimit !== undefined) for (const [name, value] of rateLimitHeaders(answer.ratelimit)) c.header(name, value);
    if (!answer.authenticated) return refuse(c, answer);
    const { usage_receipt: receipt, ...auth } = answer;
    c.set("auth", auth);
    await next();
    // The key's use was counted as a 200 when it was checked: the guard that asked says how
    // the request really ended (a later guard's refusal comes back through here too).
    if (receipt !== undefined && c.res.status !== 200) await recordStatus(c, service, receipt, c.res.status);
  };
}

/** An earlier guard's answer against an organization requirement (the service decides the first time). */
function orgRefusalOf(known: Authenticated, requirement: AuthenticateOptions["org"]): AuthRefusal | null {
  const org = known.org_id === undefined ? null : { role: known.org_role ?? "", permissions: known.org_permissions ?? [] };
  const refused = orgRequirementRefusal(org, requirement);
  return refused === null ? null : { authenticated: false, ...refused };
}

function bindingOf(c: Context, name: string): Partial<AuthServiceBinding> | undefined {
  const env = (c.env ?? {}) as Record<string, unknown>;
  return Object.hasOwn(env, name) ? (env[name] as Partial<AuthServiceBinding> | undefined) : undefined;
}

async function ask(
  c: Context,
  service: Partial<AuthServiceBinding> | undefined,
  name: string,
  requirements: AuthenticateOptions,
): Promise<AuthenticateAnswer> {
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

/** After the response (waitUntil) where the Worker has an execution context; else awaited. Never fails the request. */
async function recordStatus(c: Context, service: Partial<AuthServiceBinding> | undefined, receipt: string, status: number): Promise<void> {
  if (typeof service?.recordStatus !== "function") return;
  const recorded = service.recordStatus(receipt, status).catch((error: unknown) => {
    console.error(
      JSON.stringify({ level: "error", event: "auth_usage_not_recorded", error: error instanceof Error ? error.name : "unknown" }),
    );
  });
  let ctx: { waitUntil(promise: Promise<unknown>): void } | undefined;
  try {
    ctx = c.executionCtx;
  } catch {
    // Hono's app.request() (tests) has no execution context.
  }
  if (ctx === undefined) await recorded;
  else ctx.waitUntil(recorded);
}

function refuse(c: Context, answer: AuthRefusal): Response {
  const headers: Record<string, string> = { "Cache-Control": "no-store" };
  if (answer.retry_after !== undefined) headers["Retry-After"] = String(answer.retry_after);
  if (answer.www_authenticate !== undefined) headers["WWW-Authenticate"] = answer.www_authenticate;
  const body: Record<string, unknown> = { detail: answer.detail, code: answer.code };
  if (answer.methods !== undefined) body.methods = answer.methods;
  return c.json(body, answer.status as 401, headers);
}
