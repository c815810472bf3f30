// The AuthService RPC entrypoint: other Workers on the account bind to it
// (services = [{ binding = "AUTH", service = "edge-auth", entrypoint = "AuthService" }])
// and authenticate a request, a token or an API key with one call and no HTTP hop. The
// answers are those of the HTTP routes: the same resolver, the same error codes.
import { WorkerEntrypoint } from "cloudflare:workers";
import { type Credential, credentialOf } from "../auth/credentials";
import { CSRF_HEADER } from "../auth/csrf";
import { type RequestFacts, type Resolution, describePrincipal, meetsAal, resolveCredential } from "../auth/resolve";
import { type KeyVerdict, verifyKeyAnswer } from "../auth/verify-key";
import { type Services, buildServices } from "../services/services";
import { type Config, loadConfig } from "../config/config";
import { SettingError } from "../config/parse";
import { clientIp } from "../http/client-info";
import { type ErrorCode, statusOf } from "../http/errors";
import { isUnsafeMethod } from "../http/methods";
import type { PublicUser } from "../users/user-view";

export type AuthenticateAnswer =
  | {
      authenticated: true;
      principal: "session" | "token" | "api_key";
      user: PublicUser;
      permissions?: Record<string, string[]>;
      exp?: number;
      aal?: 1 | 2;
      amr?: string[];
      auth_time?: number;
    }
  | { authenticated: false; code: ErrorCode; status: number };

export type TokenAnswer =
  | { valid: true; user_id: string; user: PublicUser; exp: number; aal: 1 | 2; amr: string[]; auth_time: number }
  | { valid: false; code: "invalid_token" | "forbidden" };

/** `requireAal: 2`: a credential signed in with one factor is refused (403 forbidden). */
export interface AssuranceOptions {
  requireAal?: 1 | 2;
}

export type ApiKeyAnswer = KeyVerdict;

export class AuthService extends WorkerEntrypoint<Env> {
  /**
   * Authenticates a request as a protected route of this service would: API key, bearer
   * token or session cookie; state-changing methods are checked with the authorities and,
   * for cookies, need an allowed Origin and the X-CSRF-Token header.
   */
  async authenticate(request: Request, options: AssuranceOptions = {}): Promise<AuthenticateAnswer> {
    const credential = credentialOf(this.config(), request.headers);
    if (credential === null) return refusal("not_authenticated");
    const result = await this.resolve(credential, {
      unsafe: isUnsafeMethod(request.method),
      url: request.url,
      origin: request.headers.get("Origin"),
      csrfHeader: request.headers.get(CSRF_HEADER),
      csrf: "check",
      use: { endpoint: "rpc:authenticate", method: request.method, ip: clientIp(request) },
    });
    if (result.status === "refused") return refusal(result.code);
    const { user_id: _userId, ...described } = describePrincipal(result.principal);
    if (!meetsAal(described as ReturnType<typeof describePrincipal>, options.requireAal)) return refusal("forbidden");
    return { authenticated: true, ...described, user: result.principal.user };
  }

  /** Verifies an access token, including revocation (as a state-changing route would). */
  async verifyAccessToken(token: string, options: AssuranceOptions = {}): Promise<TokenAnswer> {
    const result = await this.resolve({ kind: "bearer", token }, authoritative("rpc:verifyAccessToken"));
    if (result.status === "refused" || result.principal.kind !== "token") return { valid: false, code: "invalid_token" };
    const { principal } = result;
    const { aal, amr, authTime } = principal.session.assurance;
    if (options.requireAal === 2 && aal !== 2) return { valid: false, code: "forbidden" };
    return {
      valid: true,
      user_id: principal.userId,
      user: principal.user,
      exp: principal.exp,
      aal,
      amr,
      auth_time: Math.floor(authTime / 1000),
    };
  }

  /** As POST /api/v1/api-keys/verify (the same verdict): counts against the key's rate limit. */
  async verifyApiKey(key: string, resource?: string, action?: string): Promise<ApiKeyAnswer> {
    const check = resource !== undefined && action !== undefined ? { resource, action } : undefined;
    return verifyKeyAnswer(this.services(), key, { endpoint: "rpc:verifyApiKey", method: "RPC", ip: "rpc" }, check);
  }

  private resolve(credential: Credential, request: RequestFacts): Promise<Resolution> {
    return resolveCredential(this.services(), credential, request);
  }

  /** Built like a request's (services/services.ts), without a request. */
  private services(): Services {
    const config = this.config();
    return buildServices({ env: this.env, config, waitUntil: (promise) => this.ctx.waitUntil(promise), request: null });
  }

  private config(): Config {
    const config = loadConfig(this.env);
    if (config instanceof SettingError) throw new Error(`Service misconfigured: ${config.setting}`);
    return config;
  }
}

function authoritative(endpoint: string): RequestFacts {
  return {
    unsafe: true,
    url: "https://rpc.invalid/",
    origin: null,
    csrfHeader: null,
    csrf: "skip",
    use: { endpoint, method: "RPC", ip: "rpc" },
  };
}

function refusal(code: ErrorCode): AuthenticateAnswer {
  return { authenticated: false, code, status: statusOf(code) };
}
