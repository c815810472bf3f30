// Identifying a credential without Hono: for introspection (POST /auth/introspect) and
// the AuthService RPC entrypoint. Built from the same pieces as the authenticate
// middleware (session authority, access token checks, API key authorities), and always
// authoritative: a backend asking is about to act on the answer.
import type { ApiKeyAuthority } from "../api-keys/api-key-authority";
import { looksLikeApiKey } from "../api-keys/key-format";
import { useKey } from "../api-keys/key-service";
import type { RateLimitState } from "../api-keys/rate-limit-policy";
import type { Config } from "../config/config";
import { cookieNames } from "../http/cookies";
import { expiresAt } from "../sessions/session-policy";
import { resolveSession } from "../sessions/session-service";
import type { UserAuthority } from "../sessions/user-authority";
import { principalRecord } from "../tokens/principal-cache";
import type { PublicUser } from "../users/user-view";
import { checkAccessToken } from "./access-check";

export interface IdentifyDeps {
  config: Config;
  kv: KVNamespace;
  authority: DurableObjectNamespace<UserAuthority>;
  keys: DurableObjectNamespace<ApiKeyAuthority>;
  waitUntil: (promise: Promise<unknown>) => void;
}


export type Identity =
  | {
      active: true;
      principal: "session" | "token" | "api_key";
      user_id: string;
      user: PublicUser;
      /** Cookie sessions: the session's CSRF token hash (for the caller's CSRF check). */
      csrfHash?: string | null;
      /** Seconds since the epoch: session idle/absolute expiry, or the token's exp. */
      exp?: number;
      permissions?: Record<string, string[]>;
      ratelimit?: RateLimitState;
      key_id?: string;
    }
  | { active: false; code: "not_authenticated" | "invalid_token" | "session_expired" | "invalid_api_key" | "rate_limited" };

export type Credential =
  | { kind: "session"; token: string }
  | { kind: "bearer"; token: string }
  | { kind: "api_key"; key: string };

/** Finds the credential a request carries, in the middleware's order: key, bearer, cookie. */
export function credentialOf(config: Config, headers: Headers): Credential | null {
  const apiKey = headers.get("X-API-Key");
  if (apiKey !== null) return { kind: "api_key", key: apiKey.trim() };
  const bearer = /^Bearer +([^\s]+)$/i.exec(headers.get("Authorization")?.trim() ?? "")?.[1];
  if (bearer !== undefined) {
    return looksLikeApiKey(config.apiKeys.prefix, bearer) ? { kind: "api_key", key: bearer } : { kind: "bearer", token: bearer };
  }
  const name = cookieNames(config).session;
  for (const part of (headers.get("Cookie") ?? "").split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return { kind: "session", token: decodeURIComponent(rest.join("=")) };
  }
  return null;
}

/** A bare token as sent to introspection: an API key, an access JWT, or a session token. */
export function credentialOfToken(config: Config, token: string): Credential {
  if (looksLikeApiKey(config.apiKeys.prefix, token)) return { kind: "api_key", key: token };
  if (token.split(".").length === 3) return { kind: "bearer", token };
  return { kind: "session", token };
}

export async function identify(
  deps: IdentifyDeps,
  credential: Credential | null,
  use: { endpoint: string; method: string; ip: string },
  options: { authoritative: boolean } = { authoritative: true },
): Promise<Identity> {
  if (credential === null) return { active: false, code: "not_authenticated" };
  if (credential.kind === "session") {
    const result = await resolveSession(deps, credential.token, options);
    if (result.status === "expired") return { active: false, code: "session_expired" };
    if (result.status !== "valid") return { active: false, code: "not_authenticated" };
    return {
      active: true,
      principal: "session",
      user_id: result.session.userId,
      user: result.session.user,
      csrfHash: result.csrfHash,
      exp: Math.floor(expiresAt(result.session) / 1000),
    };
  }
  if (credential.kind === "bearer") {
    const check = await checkAccessToken(deps, credential.token, options);
    if (check.status !== "valid") return { active: false, code: "invalid_token" };
    return { active: true, principal: "token", user_id: check.claims.userId, user: check.user, exp: check.claims.expiresAt };
  }
  const result = await useKey({ config: deps.config, keys: deps.keys }, credential.key, use);
  if (result.status === "invalid") return { active: false, code: "invalid_api_key" };
  if (result.status === "limited") return { active: false, code: "rate_limited" };
  const record = await principalRecord(deps, result.key.userId);
  if (record === null) return { active: false, code: "invalid_api_key" };
  return {
    active: true,
    principal: "api_key",
    user_id: result.key.userId,
    user: record.user,
    permissions: result.key.permissions,
    ratelimit: result.rateLimit,
    key_id: result.key.id,
  };
}

