// The AuthService RPC entrypoint: other Workers on the account bind to it
// (services = [{ binding = "AUTH", service = "edge-auth", entrypoint = "AuthService" }])
// and authenticate a request, a token or an API key with one call and no HTTP hop. The
// answers are those of the HTTP routes: the same resolver, the same error codes.
import { WorkerEntrypoint } from "cloudflare:workers";
import { hasPermission } from "../api-keys/permissions";
import type { RateLimitState } from "../api-keys/rate-limit-policy";
import { type Credential, credentialOf } from "../auth/credentials";
import { CSRF_HEADER } from "../auth/csrf";
import { type RequestFacts, type ResolveDeps, type Resolution, describePrincipal, resolveCredential } from "../auth/resolve";
import { type Config, loadConfig } from "../config/config";
import { SettingError } from "../config/parse";
import { clientIp } from "../http/client-info";
import { ApiError, type ErrorCode } from "../http/errors";
import { isUnsafeMethod } from "../http/methods";
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
    const credential = credentialOf(config, request.headers);
    if (credential === null) return refusal("not_authenticated");
    const result = await this.resolve(config, credential, {
      unsafe: isUnsafeMethod(request.method),
      url: request.url,
      origin: request.headers.get("Origin"),
      csrfHeader: request.headers.get(CSRF_HEADER),
      csrf: "check",
      use: { endpoint: "rpc:authenticate", method: request.method, ip: clientIp(request) },
    });
    if (result.status === "refused") return refusal(result.code);
    const described = describePrincipal(result.principal);
    const answer: AuthenticateAnswer = { authenticated: true, principal: described.principal, user: result.principal.user };
    if (described.permissions !== undefined) answer.permissions = described.permissions;
    if (described.exp !== undefined) answer.exp = described.exp;
    return answer;
  }

  /** Verifies an access token, including revocation (as a state-changing route would). */
  async verifyAccessToken(token: string): Promise<TokenAnswer> {
    const result = await this.resolve(this.config(), { kind: "bearer", token }, authoritative("rpc:verifyAccessToken"));
    if (result.status === "refused" || result.principal.kind !== "token") return { valid: false, code: "invalid_token" };
    return { valid: true, user_id: result.principal.userId, user: result.principal.user, exp: result.principal.exp };
  }

  /** As POST /api/v1/api-keys/verify: counts against the key's rate limit. */
  async verifyApiKey(key: string, resource?: string, action?: string): Promise<ApiKeyAnswer> {
    const result = await this.resolve(this.config(), { kind: "api_key", key }, authoritative("rpc:verifyApiKey"));
    if (result.status === "refused") return { valid: false, code: result.code === "rate_limited" ? "rate_limited" : "invalid_api_key" };
    const { principal } = result;
    if (principal.kind !== "api_key") return { valid: false, code: "invalid_api_key" };
    const answer: ApiKeyAnswer = {
      valid: true,
      key_id: principal.key.id,
      user_id: principal.userId,
      permissions: principal.key.permissions,
      ratelimit: result.ratelimit ?? { limit: 0, remaining: 0, reset: 0 },
    };
    if (resource !== undefined && action !== undefined) answer.allowed = hasPermission(answer.permissions, resource, action);
    return answer;
  }

  private resolve(config: Config, credential: Credential, request: RequestFacts): Promise<Resolution> {
    const deps: ResolveDeps = {
      config,
      kv: this.env.SESSIONS,
      authority: this.env.USER_AUTHORITY,
      keys: this.env.API_KEYS,
      waitUntil: (promise) => this.ctx.waitUntil(promise),
    };
    return resolveCredential(deps, credential, request);
  }

  private config(): Config {
    const config = loadConfig(this.env);
    if (config instanceof SettingError) throw new Error(`Service misconfigured: ${config.setting}`);
    return config;
  }
}

function authoritative(endpoint: string): RequestFacts {
  return { unsafe: true, url: "https://rpc.invalid/", origin: null, csrfHeader: null, csrf: "skip", use: { endpoint, method: "RPC", ip: "rpc" } };
}

function refusal(code: ErrorCode): AuthenticateAnswer {
  return { authenticated: false, code, status: new ApiError(code, code).status };
}
