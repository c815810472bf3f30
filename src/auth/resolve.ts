// The one credential resolver: turns a credential into a Principal or a typed refusal.
// The authenticate middleware, /auth/introspect and the AuthService RPC entrypoint all
// call it and only map its answer, so the three can never disagree.
//
// Read-only requests may be answered from caches (KV, this isolate's memory);
// state-changing ones always ask the authorities, and a cookie session must then come
// from an allowed Origin (when one is sent) and carry the X-CSRF-Token header.
import type { Services } from "../services/services";
import type { ApiKeyAuthority, UsedAt } from "../api-keys/authority/api-key-authority";
import { parseApiKey } from "../api-keys/key-format";
import { knownKeyOwner, rememberKeyOwner } from "../api-keys/key-owners";
import { useKey } from "../api-keys/key-service";
import type { RateLimitState } from "../api-keys/rate-limit-policy";
import type { Config } from "../config/config";
import { ApiError, type ErrorCode, tooManyRequests } from "../http/errors";
import { FOREIGN_ORIGIN_DETAIL, isTrustedOrigin } from "../http/origins";
import type { AuthorityNamespace } from "../sessions/authority-client";
import { principalRecord } from "../sessions/isolate-memory";
import { assuranceOf, expiresAt } from "../user-authority/session-policy";
import { resolveSession } from "../sessions/session-service";
import { checkAccessToken } from "./access-check";
import type { Credential } from "./credentials";
import { checkCsrfToken } from "./csrf";
import type { ApiKeyPrincipal, Principal, SessionPrincipal, TokenPrincipal } from "./principal";

export type ResolveDeps = Pick<Services, "config" | "kv" | "authority" | "keys" | "waitUntil">;

export interface RequestFacts {
  /** State-changing: ask the authorities, and check Origin and CSRF for cookies. */
  unsafe: boolean;
  url: string;
  origin: string | null;
  csrfHeader: string | null;
  /** refresh-csrf: a reloaded page has no CSRF token yet. */
  csrf: "check" | "skip";
  /** What an API key's usage records for this call. */
  use: { endpoint: string; method: string; ip: string };
}

export type Resolution =
  | { status: "ok"; principal: Principal; ratelimit?: RateLimitState; use?: UsedAt }
  | {
      status: "refused";
      code: Extract<
        ErrorCode,
        "not_authenticated" | "session_expired" | "invalid_token" | "invalid_api_key" | "rate_limited" | "csrf_failed"
      >;
      detail: string;
      /** The presented session cookie is dead: the browser should drop it. */
      clearCookies?: boolean;
      ratelimit?: RateLimitState;
      retryAfterSeconds?: number;
    };

export type Refusal = Extract<Resolution, { status: "refused" }>;

/**
 * The error a refused credential is answered with, by a route and by the AuthService
 * alike. RFC 6750: a refused bearer token says so in WWW-Authenticate.
 */
export function refusalError(credential: Credential, refusal: Refusal): ApiError {
  if (refusal.code === "rate_limited") return tooManyRequests("rate_limited", refusal.retryAfterSeconds ?? 1);
  const headers: Record<string, string> = {};
  if (credential.kind === "bearer") headers["WWW-Authenticate"] = 'Bearer error="invalid_token"';
  if (credential.kind === "malformed_authorization") headers["WWW-Authenticate"] = 'Bearer error="invalid_request"';
  return new ApiError(refusal.code, refusal.detail, { headers });
}

export async function resolveCredential(deps: ResolveDeps, credential: Credential, request: RequestFacts): Promise<Resolution> {
  switch (credential.kind) {
    case "malformed_authorization":
      return { status: "refused", code: "invalid_token", detail: "Send the token as: Authorization: Bearer <token>" };
    case "bearer":
      return bearer(deps, credential.token, request);
    case "api_key":
      return apiKey(deps, credential.key, request);
    case "session":
      return session(deps, credential.token, request);
  }
}

async function session(deps: ResolveDeps, token: string, request: RequestFacts): Promise<Resolution> {
  const result = await resolveSession(deps, token, { authoritative: request.unsafe });
  if (result.status === "expired")
    return { status: "refused", code: "session_expired", detail: "Session expired; sign in again", clearCookies: true };
  if (result.status !== "valid") return { status: "refused", code: "not_authenticated", detail: "Not authenticated", clearCookies: true };
  if (request.unsafe) {
    if (request.origin !== null && !isTrustedOrigin(deps.config, request.url, request.origin)) {
      return { status: "refused", code: "csrf_failed", detail: FOREIGN_ORIGIN_DETAIL };
    }
    if (deps.config.csrfEnabled && request.csrf === "check") {
      const csrf = await checkCsrfToken(request.csrfHeader, result.csrfHash);
      if (csrf !== "ok") return { status: "refused", code: "csrf_failed", detail: csrf };
    }
  }
  const cached = result.session;
  const principal: SessionPrincipal = {
    kind: "session",
    userId: cached.userId,
    user: cached.user,
    session: {
      id: cached.id,
      createdAt: cached.createdAt,
      lastActivity: cached.lastActivity,
      expiresAt: expiresAt(cached),
      absoluteExpiresAt: cached.absoluteExpiresAt,
      assurance: assuranceOf(cached),
      activeOrg: cached.activeOrg ?? null,
      ...(request.unsafe || cached.org === undefined ? {} : { org: cached.org }),
      secretHash: result.secretHash,
    },
  };
  return { status: "ok", principal };
}

async function bearer(deps: ResolveDeps, token: string, request: RequestFacts): Promise<Resolution> {
  const check = await checkAccessToken(deps, token, { authoritative: request.unsafe });
  if (check.status === "invalid") return { status: "refused", code: "invalid_token", detail: "Invalid or expired access token" };
  if (check.status === "revoked") return { status: "refused", code: "invalid_token", detail: "Access token revoked" };
  const { claims, user } = check;
  const principal: TokenPrincipal = {
    kind: "token",
    userId: claims.userId,
    user,
    session: {
      id: claims.familyId,
      // The family's sign-in time when the authority answered; reads only know the token's.
      createdAt: check.signedInAt ?? claims.issuedAt * 1000,
      lastActivity: claims.issuedAt * 1000,
      expiresAt: claims.expiresAt * 1000,
      absoluteExpiresAt: claims.expiresAt * 1000,
      assurance: check.assurance ?? { aal: claims.aal, amr: claims.amr, authTime: claims.authTime * 1000, reauthAt: null },
      activeOrg: claims.org?.id ?? null,
      ...(check.org === undefined ? {} : { org: check.org }),
    },
    exp: claims.expiresAt,
  };
  return { status: "ok", principal };
}

/** Every use of a key is counted against its rate limits before anything else. */
async function apiKey(deps: ResolveDeps, presented: string, request: RequestFacts): Promise<Resolution> {
  const parsed = parseApiKey(deps.config.apiKeys.prefix, presented);
  if (parsed === null) return { status: "refused", code: "invalid_api_key", detail: "Invalid or expired API key" };
  const keyId = parsed.id;
  // A key this isolate has seen: its owner's record is read beside the use (key-owners.ts).
  const owner = knownKeyOwner(keyId);
  const [result, early] = await Promise.all([useKey(deps, parsed, request.use), owner === undefined ? null : principalRecord(deps, owner)]);
  if (result.status === "invalid") return { status: "refused", code: "invalid_api_key", detail: "Invalid or expired API key" };
  if (result.status === "limited") {
    return {
      status: "refused",
      code: "rate_limited",
      detail: "Rate limit exceeded; try again later",
      ratelimit: result.rateLimit,
      retryAfterSeconds: result.retryAfterSeconds,
    };
  }
  rememberKeyOwner(keyId, result.key.userId);
  const record = owner === result.key.userId ? early : await principalRecord(deps, result.key.userId);
  if (record === null)
    return { status: "refused", code: "invalid_api_key", detail: "Invalid or expired API key", ratelimit: result.rateLimit };
  const principal: ApiKeyPrincipal = { kind: "api_key", userId: result.key.userId, user: record.user, key: result.key };
  return { status: "ok", principal, ratelimit: result.rateLimit, use: result.use };
}

/** What introspection and RPC report about a principal. */
export interface PrincipalDescription {
  principal: Principal["kind"];
  user_id: string;
  permissions?: Record<string, string[]>;
  exp?: number;
  /** Sessions and tokens: how they signed in (auth_time in seconds). API keys have none. */
  aal?: 1 | 2;
  amr?: string[];
  auth_time?: number;
  /** An organization's API key: the organization it acts for. */
  org_id?: string;
}

export function describePrincipal(principal: Principal): PrincipalDescription {
  switch (principal.kind) {
    case "session":
    case "token": {
      const { aal, amr, authTime } = principal.session.assurance;
      const exp = principal.kind === "token" ? principal.exp : Math.floor(principal.session.expiresAt / 1000);
      return { principal: principal.kind, user_id: principal.userId, exp, aal, amr, auth_time: Math.floor(authTime / 1000) };
    }
    case "api_key":
      // An organization's key names it (user_id is the member who made it).
      return {
        principal: "api_key",
        user_id: principal.userId,
        permissions: principal.key.permissions,
        ...(principal.key.orgId === null ? {} : { org_id: principal.key.orgId }),
      };
  }
}

/** Whether a principal meets a required assurance level (API keys never reach aal 2). */
export function meetsAal(described: PrincipalDescription, required: 1 | 2 | undefined): boolean {
  return required === undefined || required === 1 || described.aal === 2;
}
