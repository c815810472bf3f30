// The AuthService RPC entrypoint: other Workers on the account bind to it
// (services = [{ binding = "AUTH", service = "edge-auth", entrypoint = "AuthService" }])
// and authenticate a request, a token or an API key with one call and no HTTP hop. The
// answers are those of the HTTP routes: the same checks, the same error codes.
import { WorkerEntrypoint } from "cloudflare:workers";
import { hasPermission } from "../api-keys/permissions";
import type { RateLimitState } from "../api-keys/rate-limit-policy";
import { CSRF_HEADER, checkCsrfToken } from "../auth/csrf";
import { isUnsafeMethod } from "../http/methods";
import { type IdentifyDeps, credentialOf, identify } from "../auth/identify";
import { type Config, loadConfig } from "../config/config";
import { SettingError } from "../config/parse";
import { clientIp } from "../http/client-info";
import { ApiError, type ErrorCode } from "../http/errors";
import { isTrustedOrigin } from "../http/origins";
import type { PublicUser } from "../users/user-view";

export type AuthenticateAnswer =
  | {
      authenticated: true;
      principal: "session" | "token" | "api_key";
      user: PublicUser;
      permissions?: Record<string, string[]>;
      exp?: number;
    }
  | { authenticated: false; code: ErrorCode; status: number };

export type TokenAnswer = { valid: true; user_id: string; user: PublicUser; exp: number } | { valid: false; code: "invalid_token" };

export type ApiKeyAnswer =
  | {
      valid: true;
      key_id: string;
      user_id: string;
      permissions: Record<string, string[]>;
      ratelimit: RateLimitState;
      allowed?: boolean;
    }
  | { valid: false; code: "invalid_api_key" | "rate_limited" };

export class AuthService extends WorkerEntrypoint<Env> {
  /**
   * Authenticates a request as a protected route of this service would: API key, bearer
   * token or session cookie; state-changing methods are checked with the authorities and,
   * for cookies, need an allowed Origin and the X-CSRF-Token header.
   */
  async authenticate(request: Request): Promise<AuthenticateAnswer> {
    const config = this.config();
    const unsafe = isUnsafeMethod(request.method);
    const credential = credentialOf(config, request.headers);
    const identity = await identify(
      this.deps(config),
      credential,
      { endpoint: "rpc:authenticate", method: request.method, ip: clientIp(request) },
      { authoritative: unsafe },
    );
    if (!identity.active) return refusal(new ApiError(identity.code, identity.code));
    if (identity.principal === "session" && unsafe) {
      const origin = request.headers.get("Origin");
      if (origin !== null && !isTrustedOrigin(config, request.url, origin)) return refusal(new ApiError("csrf_failed", "csrf"));
      if (config.csrfEnabled) {
        try {
          await checkCsrfToken(request.headers.get(CSRF_HEADER) ?? undefined, identity.csrfHash ?? null);
        } catch (error) {
          if (error instanceof ApiError) return refusal(error);
          throw error;
        }
      }
    }
    const answer: AuthenticateAnswer = { authenticated: true, principal: identity.principal, user: identity.user };
    if (identity.permissions !== undefined) answer.permissions = identity.permissions;
    if (identity.exp !== undefined) answer.exp = identity.exp;
    return answer;
  }

  /** Verifies an access token, including revocation (as a state-changing route would). */
  async verifyAccessToken(token: string): Promise<TokenAnswer> {
    const config = this.config();
    const identity = await identify(this.deps(config), { kind: "bearer", token }, { endpoint: "rpc:verifyAccessToken", method: "RPC", ip: "rpc" });
    if (!identity.active || identity.principal !== "token") return { valid: false, code: "invalid_token" };
    return { valid: true, user_id: identity.user_id, user: identity.user, exp: identity.exp ?? 0 };
  }

  /** As POST /api/v1/api-keys/verify: counts against the key's rate limit. */
  async verifyApiKey(key: string, resource?: string, action?: string): Promise<ApiKeyAnswer> {
    const config = this.config();
    const identity = await identify(this.deps(config), { kind: "api_key", key }, { endpoint: "rpc:verifyApiKey", method: "RPC", ip: "rpc" });
    if (!identity.active) return { valid: false, code: identity.code === "rate_limited" ? "rate_limited" : "invalid_api_key" };
    const answer: ApiKeyAnswer = {
      valid: true,
      key_id: identity.key_id ?? "",
      user_id: identity.user_id,
      permissions: identity.permissions ?? {},
      ratelimit: identity.ratelimit ?? { limit: 0, remaining: 0, reset: 0 },
    };
    if (resource !== undefined && action !== undefined) answer.allowed = hasPermission(answer.permissions, resource, action);
    return answer;
  }

  private config(): Config {
    const config = loadConfig(this.env);
    if (config instanceof SettingError) throw new Error(`Service misconfigured: ${config.message}`);
    return config;
  }

  private deps(config: Config): IdentifyDeps {
    return {
      config,
      kv: this.env.SESSIONS,
      authority: this.env.USER_AUTHORITY,
      keys: this.env.API_KEYS,
      waitUntil: (promise) => this.ctx.waitUntil(promise),
    };
  }
}

function refusal(error: ApiError): AuthenticateAnswer {
  return { authenticated: false, code: error.code, status: error.status };
}
