// The AuthService RPC entrypoint: other Workers on the account bind to it
// (services = [{ binding = "AUTH", service = "edge-auth", entrypoint = "AuthService" }])
// and authenticate a request, a token or an API key with one call and no HTTP hop. The
// answers are those of the HTTP routes: the same resolver, the same error codes.
// An API key's use is recorded as a 200 when authenticate lets it through; the consumer
// reports the status it finally answered with recordStatus (edge-auth/hono does), so a
// request its own checks refused is counted as refused, as the HTTP routes count it.
import { keyRequirementRefusal } from "../api-keys/grants";
import { type OrgRequirement, activeOrgOfPrincipal, orgDescription, orgRefusal } from "../auth/org-standing";
import { WorkerEntrypoint } from "cloudflare:workers";
import type { RateLimitState } from "../api-keys/rate-limit-policy";
import { type Credential, credentialOf } from "../auth/credentials";
import { type ReauthMethod, reauthenticationRequired } from "../auth/fresh";
import { CSRF_HEADER } from "../auth/csrf";
import { type RequestFacts, type Resolution, describePrincipal, refusalError, resolveCredential } from "../auth/resolve";
import { type KeyVerdict, verifyKeyAnswer } from "../auth/verify-key";
import { openUseReceipt, signUseReceipt } from "./usage-receipt";
import { type OAuthTokenAnswer, checkResourceToken } from "../oauth-server/resource-check";
import { type Services, buildServices } from "../services/services";
import type { Config } from "../config/config";
import { clientIp } from "../http/client-info";
import { ApiError, type WireCode, internalError, serviceUnavailable } from "../http/errors";
import { configOf } from "../http/load-config";
import { isUnsafeMethod } from "../http/methods";
import { logError } from "../lib/log";
import { isProgrammingError } from "../lib/platform-errors";
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
      /** The organization a session or token acts in, with the caller's role there now (POST /api/v1/auth/active-org). */
      org_id?: string;
      org_role?: string;
      org_permissions?: string[];
      /** API keys: the key's rate-limit window, as the RateLimit-* headers of HTTP answers carry it. */
      ratelimit?: RateLimitState;
      /** API keys: pass to recordStatus with the status the request was finally answered with. */
      usage_receipt?: string;
    }
  | AuthRefusal;

/** A refusal: the status, code and detail an HTTP route of this service answers with, and its headers' values. */
export interface AuthRefusal {
  authenticated: false;
  code: WireCode;
  status: number;
  detail: string;
  /** Seconds (429 and 503): the Retry-After header. */
  retry_after?: number;
  /** The WWW-Authenticate header (a refused bearer credential, RFC 6750). */
  www_authenticate?: string;
  /** reauthentication_required: how this user can re-authenticate. */
  methods?: ReauthMethod[];
  ratelimit?: RateLimitState;
}

export type TokenAnswer =
  | { valid: true; user_id: string; user: PublicUser; exp: number; aal: 1 | 2; amr: string[]; auth_time: number }
  | { valid: false; code: "invalid_token" | "forbidden" };

/** `requireAal: 2`: a token signed in with one factor is refused (403 forbidden). */
export interface AssuranceOptions {
  requireAal?: 1 | 2;
}

export interface AuthenticateOptions {
  /**
   * 2: a session or token signed in with one factor is refused with 403
   * reauthentication_required (and the second factors it can re-authenticate with), as
   * this service's aal-2 routes answer; an API key with 403 forbidden.
   */
  requireAal?: 1 | 2;
  /** An API key must hold this permission (403 insufficient_scope); sessions and tokens act as their user and pass. */
  permission?: { resource: string; action: string };
  /**
   * An active organization (true), or one whose role holds this permission: 403 forbidden
   * otherwise, as the organization's authority has the role now (edge-auth/hono's requireOrg
   * and requireOrgPermission). API keys have no active organization.
   */
  org?: OrgRequirement;
}

export type ApiKeyAnswer = KeyVerdict;

export class AuthService extends WorkerEntrypoint<Env> {
  /**
   * Authenticates a request as a protected route of this service would: API key, bearer
   * token or session cookie; state-changing methods are checked with the authorities and,
   * for cookies, need an allowed Origin and the X-CSRF-Token header.
   */
  async authenticate(request: Request, options: AuthenticateOptions = {}): Promise<AuthenticateAnswer> {
    try {
      return await this.authenticateRequest(request, options ?? {});
    } catch (error) {
      if (error instanceof ApiError) return refusalOf(error);
      // As the HTTP app: a bug is a 500, a dependency that failed a 503 (never a pass).
      logError("rpc_error", error, { method: "authenticate" });
      return refusalOf(isProgrammingError(error) ? internalError() : serviceUnavailable());
    }
  }

  private async authenticateRequest(request: Request, options: AuthenticateOptions): Promise<AuthenticateAnswer> {
    const credential = credentialOf(this.config(), request.headers);
    if (credential === null) return refusalOf(new ApiError("not_authenticated", "Not authenticated"));
    const services = this.services();
    const result = await resolveCredential(services, credential, {
      unsafe: isUnsafeMethod(request.method),
      url: request.url,
      origin: request.headers.get("Origin"),
      csrfHeader: request.headers.get(CSRF_HEADER),
      csrf: "check",
      use: { endpoint: "rpc:authenticate", method: request.method, ip: clientIp(request) },
    });
    const ratelimit = result.ratelimit === undefined ? {} : { ratelimit: result.ratelimit };
    if (result.status === "refused") {
      return { ...refusalOf(refusalError(credential, result)), ...ratelimit };
    }
    const { principal } = result;
    let receipt: { usage_receipt?: string } = {};
    if (principal.kind === "api_key") {
      const refused = keyRequirementRefusal(principal.key.permissions, principal.key.orgId, options);
      if (refused !== null) {
        if (result.use !== undefined) this.ctx.waitUntil(services.keys.getByName(principal.key.id).amendUse(result.use, refused.status));
        return { authenticated: false, ...refused, ...ratelimit };
      }
      if (result.use !== undefined) {
        receipt = { usage_receipt: await signUseReceipt(services.config.secretKey, { keyId: principal.key.id, use: result.use }) };
      }
    } else if (options.requireAal === 2 && principal.session.assurance.aal !== 2) {
      return refusalOf(await reauthenticationRequired(services, principal.userId, true));
    }
    const org = await activeOrgOfPrincipal(services, principal);
    // An API key's organization requirement was judged above, by the key's own permissions.
    const orgRefused = principal.kind === "api_key" ? null : orgRefusal(org, options.org);
    if (orgRefused !== null) return { ...refusalOf(orgRefused), ...ratelimit };
    const { user_id: _userId, ...described } = describePrincipal(principal);
    return { authenticated: true, ...described, ...orgDescription(org), user: principal.user, ...ratelimit, ...receipt };
  }

  /**
   * The status a request that authenticate let through with an API key was finally
   * answered with (`usage_receipt` from that answer): anything but 200 corrects the use
   * recorded as 200, once per call. A receipt this service did not sign changes nothing.
   */
  async recordStatus(receipt: string, status: number): Promise<void> {
    if (!Number.isInteger(status) || status < 100 || status > 599 || status === 200) return;
    try {
      const services = this.services();
      const opened = await openUseReceipt(services.config.secretKey, receipt);
      if (opened !== null) await services.keys.getByName(opened.keyId).amendUse(opened.use, status);
    } catch (error) {
      // Usage is a report, not a decision: a failure here is logged, never the consumer's.
      logError("rpc_error", error, { method: "recordStatus" });
    }
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

  /**
   * A resource server's check of an OAuth access token from this service's authorization
   * server (oauth-server/resource-check.ts): for `resource`, holding `scopes`.
   */
  async verifyOAuthToken(token: string, required: { resource: string; scopes?: string[] }): Promise<OAuthTokenAnswer | AuthRefusal> {
    try {
      return await checkResourceToken(this.services(), token, { resource: required.resource, scopes: required.scopes ?? [] });
    } catch (error) {
      if (error instanceof ApiError) return refusalOf(error);
      logError("rpc_error", error, { method: "verifyOAuthToken" });
      return refusalOf(isProgrammingError(error) ? internalError() : serviceUnavailable());
    }
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

  /** As every HTTP request loads them: a bad setting is a 500 configuration_error naming it. */
  private config(): Config {
    return configOf(this.env);
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

/** An error as the HTTP routes would render it, as data. */
function refusalOf(error: ApiError): AuthRefusal {
  const answer: AuthRefusal = { authenticated: false, code: error.code, status: error.status, detail: error.message };
  const retryAfter = error.headers["Retry-After"];
  if (retryAfter !== undefined) answer.retry_after = Number(retryAfter);
  const challenge = error.headers["WWW-Authenticate"];
  if (challenge !== undefined) answer.www_authenticate = challenge;
  const methods = error.extra?.methods;
  if (Array.isArray(methods)) answer.methods = methods as ReauthMethod[];
  return answer;
}
