// Resolves the request's credential into a Principal. Read-only requests may be
// answered from the KV cache; state-changing ones always ask the session authority and
// must carry the CSRF header.
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { clearSessionCookies, readSessionCookie } from "../http/cookies";
import { ApiError } from "../http/errors";
import { expiresAt } from "../sessions/session-policy";
import { type SessionDeps, resolveSession } from "../sessions/session-service";
import { CSRF_HEADER, checkCsrfToken, isUnsafeMethod } from "./csrf";
import type { SessionPrincipal } from "./principal";

export interface AuthenticateOptions {
  /** No credential is fine: the route runs without a principal. */
  optional?: boolean;
  /** Skip the CSRF token check (refresh-csrf: a reloaded page has no token yet). */
  skipCsrfToken?: boolean;
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
  return async function authenticateMiddleware(c, next) {
    const token = readSessionCookie(c);
    if (token === undefined || token === "") {
      if (options.optional) return next();
      throw new ApiError("not_authenticated", "Not authenticated");
    }

    const unsafe = isUnsafeMethod(c.req.method);
    const resolution = await resolveSession(sessionDeps(c), token, { authoritative: unsafe });
    if (resolution.status !== "valid") {
      if (options.optional) return next();
      clearSessionCookies(c);
      throw resolution.status === "expired"
        ? new ApiError("session_expired", "Session expired; sign in again")
        : new ApiError("not_authenticated", "Not authenticated");
    }

    if (unsafe && c.get("config").csrfEnabled && !options.skipCsrfToken) {
      await checkCsrfToken(c.req.header(CSRF_HEADER), resolution.csrfHash);
    }

    const { session } = resolution;
    const principal: SessionPrincipal = {
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
    c.set("principal", principal);
    return next();
  };
}
