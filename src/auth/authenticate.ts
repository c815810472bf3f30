// Resolves the request's credential into a Principal: `Authorization: Bearer <access
// JWT>` first, else the session cookie. Read-only requests may be answered from caches;
// state-changing ones always ask the user's session authority, and cookie sessions must
// also carry the CSRF header.
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { clearSessionCookies, readSessionCookie } from "../http/cookies";
import { ApiError } from "../http/errors";
import { isTokenRevoked } from "../sessions/principal-record";
import { expiresAt } from "../sessions/session-policy";
import { type SessionDeps, authorityFor, resolveSession } from "../sessions/session-service";
import { verifyAccessToken } from "../tokens/access-token";
import { principalRecord } from "../tokens/principal-cache";
import { CSRF_HEADER, checkCsrfToken, isUnsafeMethod } from "./csrf";
import type { Principal, PrincipalKind, SessionPrincipal, TokenPrincipal } from "./principal";

export interface AuthenticateOptions {
  /** No credential is fine: the route runs without a principal. */
  optional?: boolean;
  /** Skip the CSRF token check (refresh-csrf: a reloaded page has no token yet). */
  skipCsrfToken?: boolean;
  /** Which kinds of credential the route takes (default: session and token). */
  allow?: PrincipalKind[];
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
    const authorization = c.req.header("Authorization");
    const principal =
      authorization !== undefined ? await bearerPrincipal(c, authorization) : await cookiePrincipal(c, options);
    if (principal === null) {
      if (options.optional) return next();
      throw new ApiError("not_authenticated", "Not authenticated");
    }
    if (!allow.includes(principal.kind)) {
      throw new ApiError("not_authenticated", `This route needs a ${allow.join(" or ")} credential`);
    }
    c.set("principal", principal);
    return next();
  };
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
  const claims = await verifyAccessToken(c.get("config"), match[1]);
  if (claims === null) throw new ApiError("invalid_token", "Invalid or expired access token");

  let user;
  if (isUnsafeMethod(c.req.method)) {
    const result = await authorityFor(sessionDeps(c), claims.userId).authorizeFamily(claims.familyId, claims.issuedAt);
    if (result.status !== "valid") throw new ApiError("invalid_token", "Access token revoked");
    user = result.user;
  } else {
    const record = await principalRecord({ kv: c.env.SESSIONS, authority: c.env.USER_AUTHORITY }, claims.userId);
    if (record === null || isTokenRevoked(record, claims.familyId, claims.issuedAt)) {
      throw new ApiError("invalid_token", "Access token revoked");
    }
    user = record.user;
  }
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
