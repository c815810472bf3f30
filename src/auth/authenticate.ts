// The authenticate middleware: reads the request's credential, asks the one resolver
// (resolve.ts), and maps its answer to HTTP. API-key uses are also recorded with the
// final status of the response, refusals included.
import type { Context, MiddlewareHandler } from "hono";
import { keyRefusal } from "../api-keys/grants";
import { hasAdminPermission } from "../api-keys/permissions";
import { type RateLimitState, rateLimitHeaders } from "../api-keys/rate-limit-policy";
import type { AppEnv } from "./app-env";
import { clearSessionCookies } from "../http/cookies";
import { ApiError } from "../http/errors";
import { takeDecided } from "../http/handover";
import { isUnsafeMethod } from "../http/methods";
import { callerOf } from "./caller";
import { type Credential, credentialOf } from "./credentials";
import { CSRF_HEADER } from "./csrf";
import type { PrincipalKind, SessionPrincipal, TokenPrincipal } from "./principal";
import { refusalError, resolveCredential } from "./resolve";

export interface AuthenticateOptions {
  /** No credential is fine: the route runs without a principal. */
  optional?: boolean;
  /** With `optional`: an API key is taken as no credential (not checked, not counted). */
  ignoreApiKeys?: boolean;
  /** Skip the CSRF token check (refresh-csrf: a reloaded page has no token yet). */
  skipCsrfToken?: boolean;
  /** Which user credentials the route takes (default: session and token). */
  allow?: Array<Exclude<PrincipalKind, "api_key">>;
  /** The permission an API key needs here. Without it, API keys are refused (403). */
  apiKey?: { resource: string; action: string };
  /** An admin route: a superuser's key with this admin permission named exactly; anyone else's key is 403 forbidden. */
  adminKey?: { resource: string; action: string };
  /**
   * The route acts on the caller's own sessions through UserAuthority.act (caller.ts),
   * which checks a state-changing request's cookie or token family in the same call:
   * those are not resolved here, and the route reads `c.get("caller")`.
   */
  actAtAuthority?: boolean;
}

const NO_USE = { endpoint: "", method: "", ip: "" };

export function authenticate(options: AuthenticateOptions = {}): MiddlewareHandler<AppEnv> {
  const allow = options.allow ?? ["session", "token"];
  const csrf = options.skipCsrfToken ? "skip" : "check";
  return async function authenticateMiddleware(c, next) {
    const credential = credentialOf(c.get("config"), c.req.raw.headers);
    if (credential === null || (options.optional && options.ignoreApiKeys && credential.kind === "api_key")) {
      if (options.optional) return next();
      throw new ApiError("not_authenticated", "Not authenticated");
    }
    const services = c.get("services");
    const facts = {
      unsafe: isUnsafeMethod(c.req.method),
      url: c.req.url,
      origin: c.req.header("Origin") ?? null,
      csrfHeader: c.req.header(CSRF_HEADER) ?? null,
      csrf,
      // Only an API key's use is recorded (reading the route pattern is not free).
      use: credential.kind === "api_key" ? { endpoint: c.req.routePath, method: c.req.method, ip: services.ip } : NO_USE,
    } as const;
    if (options.actAtAuthority && facts.unsafe && actsAtAuthority(credential, allow)) {
      const caller = await callerOf(services.config, credential, facts);
      if ("status" in caller) {
        if (caller.clearCookies) clearSessionCookies(c);
        throw refusalError(credential, caller);
      }
      c.set("caller", caller);
      return next();
    }
    // A credential a direct answer already resolved (direct-answers.ts) is not resolved
    // again: a key's use is counted once.
    const handed = takeDecided(c.req.raw, "credential");
    const result = handed !== undefined ? handed.value : await resolveCredential(services, credential, facts);
    if (result.ratelimit !== undefined) setRateLimitHeaders(c, result.ratelimit);
    if (result.status === "refused") {
      // An optional route treats a dead session cookie as no credential at all.
      if (options.optional && credential.kind === "session" && result.code !== "csrf_failed") return next();
      if (result.clearCookies) clearSessionCookies(c);
      throw refusalError(credential, result);
    }
    const { principal } = result;
    if (principal.kind !== "api_key") {
      if (!allow.includes(principal.kind)) throw new ApiError("not_authenticated", `This route needs a ${allow.join(" or ")} credential`);
      c.set("principal", principal);
      return next();
    }

    const use = result.use;
    const amend = (status: number): void => {
      if (status !== 200 && use !== undefined) services.waitUntil(services.keys.getByName(principal.key.id).amendUse(use, status));
    };
    try {
      // An organization's key acts for the organization: this service's routes act for a user.
      if (principal.key.orgId !== null) throw new ApiError("forbidden", "An organization's API key cannot use this route");
      if (options.adminKey !== undefined) {
        const { resource, action } = options.adminKey;
        if (!principal.user.is_superuser || !hasAdminPermission(principal.key.permissions, resource, action)) {
          throw new ApiError("forbidden", "Administrators only");
        }
      } else {
        if (options.apiKey === undefined) throw new ApiError("forbidden", "API keys cannot use this route");
        const refused = keyRefusal(principal.key.permissions, { permission: options.apiKey });
        if (refused !== null) throw new ApiError(refused.code, refused.detail);
      }
    } catch (error) {
      amend(error instanceof ApiError ? error.status : 500);
      throw error;
    }
    c.set("principal", principal);
    await next();
    amend(c.res.status);
  };
}

function actsAtAuthority(
  credential: Credential,
  allow: PrincipalKind[],
): credential is Extract<Credential, { kind: "session" | "bearer" }> {
  return (credential.kind === "session" && allow.includes("session")) || (credential.kind === "bearer" && allow.includes("token"));
}

/** The principal of a route that refuses API keys (authenticate() without `apiKey`). */
export function userPrincipal(c: Context<AppEnv>): SessionPrincipal | TokenPrincipal {
  const principal = c.get("principal");
  if (principal.kind === "api_key") throw new ApiError("forbidden", "API keys cannot use this route");
  return principal;
}

/** The key's RateLimit-* headers, on whatever the answer turns out to be (the frame sets them). */
export function setRateLimitHeaders(c: Context<AppEnv>, state: RateLimitState): void {
  c.set("answerHeaders", rateLimitHeaders(state));
}
