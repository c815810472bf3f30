// Resolves the request's credential into a Principal: `Authorization: Bearer <access
// JWT>` first, else the session cookie. Read-only requests may be answered from caches;
// state-changing ones always ask the user's session authority, and cookie sessions must
// also carry the CSRF header.
import type { Context, MiddlewareHandler, Next } from "hono";
import { useKey } from "../api-keys/key-service";
import { looksLikeApiKey } from "../api-keys/key-format";
import { hasPermission } from "../api-keys/permissions";
import type { RateLimitState } from "../api-keys/rate-limit-policy";
import { clientIp } from "../http/client-info";
import type { AppEnv } from "../env";
import { clearSessionCookies, readSessionCookie } from "../http/cookies";
import { ApiError, tooManyRequests } from "../http/errors";
import { expiresAt } from "../sessions/session-policy";
import { type SessionDeps, resolveSession } from "../sessions/session-service";
import { checkAccessToken } from "./access-check";
import { principalRecord } from "../tokens/principal-cache";
import { isUnsafeMethod } from "../http/methods";
import { CSRF_HEADER, checkCsrfToken } from "./csrf";
import type { Principal, PrincipalKind, SessionPrincipal, TokenPrincipal } from "./principal";

export interface AuthenticateOptions {
  /** No credential is fine: the route runs without a principal. */
  optional?: boolean;
  /** Skip the CSRF token check (refresh-csrf: a reloaded page has no token yet). */
  skipCsrfToken?: boolean;
  /** Which user credentials the route takes (default: session and token). */
  allow?: Array<Exclude<PrincipalKind, "api_key">>;
  /** The permission an API key needs here. Without it, API keys are refused (403). */
  apiKey?: { resource: string; action: string };
}

export function sessionDeps(c: Context<AppEnv>): SessionDeps {
  return {
    config: c.get("config"),
    kv: c.env.SESSIONS,
    authority: c.env.USER_AUTHORITY,
    waitUntil: (promise) => c.executionCtx.waitUntil(promise),
  };
}

export function authenticate(options: AuthenticateOptions = {}): MiddlewareHandler<AppEnv> {
  const allow = options.allow ?? ["session", "token"];
  return async function authenticateMiddleware(c, next) {
    const apiKey = presentedApiKey(c);
    if (apiKey !== undefined) return apiKeyAuthentication(c, next, apiKey, options);

    const authorization = c.req.header("Authorization");
    const principal =
      authorization !== undefined ? await bearerPrincipal(c, authorization) : await cookiePrincipal(c, options);
    if (principal === null) {
      if (options.optional) return next();
      throw new ApiError("not_authenticated", "Not authenticated");
    }
    if (principal.kind !== "api_key" && !allow.includes(principal.kind)) {
      throw new ApiError("not_authenticated", `This route needs a ${allow.join(" or ")} credential`);
    }
    c.set("principal", principal);
    return next();
  };
}

/** X-API-Key, or an Authorization: Bearer value in the API key format. */
function presentedApiKey(c: Context<AppEnv>): string | undefined {
  const header = c.req.header("X-API-Key");
  if (header !== undefined) return header.trim();
  const bearer = /^Bearer +([^\s]+)$/i.exec(c.req.header("Authorization")?.trim() ?? "")?.[1];
  return bearer !== undefined && looksLikeApiKey(c.get("config").apiKeys.prefix, bearer) ? bearer : undefined;
}

/**
 * Every use of a key is counted against its rate limits before anything else, and its
 * usage is recorded with the final status, refusals included.
 */
async function apiKeyAuthentication(
  c: Context<AppEnv>,
  next: Next,
  presented: string,
  options: AuthenticateOptions,
): Promise<void> {
  const keys = c.env.API_KEYS;
  const result = await useKey({ config: c.get("config"), keys }, presented, {
    endpoint: c.req.routePath,
    method: c.req.method,
    ip: clientIp(c.req.raw),
  });
  if (result.status === "invalid") throw new ApiError("invalid_api_key", "Invalid or expired API key");
  setRateLimitHeaders(c, result.rateLimit);
  if (result.status === "limited") throw tooManyRequests("rate_limited", result.retryAfterSeconds);

  const amend = (status: number): void => {
    if (status !== 200) c.executionCtx.waitUntil(keys.getByName(result.key.id).amendUse(result.use, status));
  };
  try {
    if (options.apiKey === undefined) throw new ApiError("forbidden", "API keys cannot use this route");
    const { resource, action } = options.apiKey;
    if (!hasPermission(result.key.permissions, resource, action)) {
      throw new ApiError("insufficient_scope", `This API key lacks the ${resource}:${action} permission`);
    }
    const record = await principalRecord({ kv: c.env.SESSIONS, authority: c.env.USER_AUTHORITY }, result.key.userId);
    if (record === null) throw new ApiError("invalid_api_key", "Invalid or expired API key");
    c.set("principal", { kind: "api_key", userId: result.key.userId, user: record.user, key: result.key });
  } catch (error) {
    amend(error instanceof ApiError ? error.status : 500);
    throw error;
  }
  await next();
  amend(c.res.status);
}

/** The principal of a route that refuses API keys (authenticate() without `apiKey`). */
export function userPrincipal(c: Context<AppEnv>): SessionPrincipal | TokenPrincipal {
  const principal = c.get("principal");
  if (principal.kind === "api_key") throw new ApiError("forbidden", "API keys cannot use this route");
  return principal;
}

export function setRateLimitHeaders(c: Context<AppEnv>, state: RateLimitState): void {
  c.header("RateLimit-Limit", String(state.limit));
  c.header("RateLimit-Remaining", String(Math.max(0, state.remaining)));
  c.header("RateLimit-Reset", String(state.reset));
}

async function cookiePrincipal(c: Context<AppEnv>, options: AuthenticateOptions): Promise<SessionPrincipal | null> {
  const token = readSessionCookie(c);
  if (token === undefined || token === "") return null;

  const unsafe = isUnsafeMethod(c.req.method);
  const resolution = await resolveSession(sessionDeps(c), token, { authoritative: unsafe });
  if (resolution.status !== "valid") {
    if (options.optional) return null;
    clearSessionCookies(c);
    throw resolution.status === "expired"
      ? new ApiError("session_expired", "Session expired; sign in again")
      : new ApiError("not_authenticated", "Not authenticated");
  }
  if (unsafe && c.get("config").csrfEnabled && !options.skipCsrfToken) {
    await checkCsrfToken(c.req.header(CSRF_HEADER), resolution.csrfHash);
  }
  const { session } = resolution;
  return {
    kind: "session",
    userId: session.userId,
    user: session.user,
    session: {
      id: session.id,
      createdAt: session.createdAt,
      lastActivity: session.lastActivity,
      expiresAt: expiresAt(session),
      absoluteExpiresAt: session.absoluteExpiresAt,
      secretHash: resolution.secretHash,
    },
  };
}

/** An invalid bearer credential is a 401 of its own: it never falls back to the cookie. */
async function bearerPrincipal(c: Context<AppEnv>, authorization: string): Promise<Principal> {
  const match = /^Bearer +([^\s]+)$/i.exec(authorization.trim());
  if (match === null || match[1] === undefined) {
    throw new ApiError("invalid_token", "Send the token as: Authorization: Bearer <token>");
  }
  const check = await checkAccessToken(
    { config: c.get("config"), kv: c.env.SESSIONS, authority: c.env.USER_AUTHORITY },
    match[1],
    { authoritative: isUnsafeMethod(c.req.method) },
  );
  if (check.status === "invalid") throw new ApiError("invalid_token", "Invalid or expired access token");
  if (check.status === "revoked") throw new ApiError("invalid_token", "Access token revoked");
  const { claims, user } = check;
  const principal: TokenPrincipal = {
    kind: "token",
    userId: claims.userId,
    user,
    session: {
      id: claims.familyId,
      createdAt: claims.issuedAt * 1000,
      lastActivity: claims.issuedAt * 1000,
      expiresAt: claims.expiresAt * 1000,
      absoluteExpiresAt: claims.expiresAt * 1000,
    },
  };
  return principal;
}
