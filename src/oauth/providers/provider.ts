// What every OAuth provider offers the login flow. Adding a provider is one small file
// implementing this, plus a line in providers/index.ts.
import type { ClientCredentials } from "../arctic";

export interface ProviderIdentity {
  /** The provider's stable user id (OIDC `sub`, GitHub's numeric id). */
  providerUserId: string;
  email: string | null;
  /** The provider asserts the address belongs to this user. */
  emailVerified: boolean;
  name: string | null;
}

export interface AuthorizationRequest {
  state: string;
  codeVerifier: string;
  nonce: string;
}

export interface OAuthProvider {
  name: string;
  authorizationUrl(client: ClientCredentials, request: AuthorizationRequest): Promise<URL>;
  /** Exchanges the code and returns who signed in; throws OAuthFailure on any problem. */
  identify(client: ClientCredentials, code: string, request: Omit<AuthorizationRequest, "state">): Promise<ProviderIdentity>;
}

/** A failed login at the provider; `reason` is a short code safe to show. */
export class OAuthFailure extends Error {
  readonly reason: string;
  /** The provider did not answer (unreachable, too slow, or a 5xx): a dependency failure, not a refused login. */
  readonly unavailable: boolean;

  constructor(reason: string) {
    super(`oauth failed: ${reason}`);
    this.name = "OAuthFailure";
    this.reason = reason;
    this.unavailable = /(_unreachable|_timeout|_5\d\d)$/.test(reason) || reason === "token_request_failed";
  }
}

/** How long a provider may take to answer one call: a stalled provider is a 503, not a hung request. */
export const PROVIDER_TIMEOUT_MS = 5_000;

/** Every provider response is checked: a non-2xx answer is a failure, never parsed as data. */
export async function fetchJson<T>(url: string, init: RequestInit, reason: string): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS) });
  } catch (error) {
    throw new OAuthFailure(error instanceof DOMException && error.name === "TimeoutError" ? `${reason}_timeout` : `${reason}_unreachable`);
  }
  if (!response.ok) throw new OAuthFailure(`${reason}_${response.status}`);
  try {
    return (await response.json()) as T;
  } catch {
    throw new OAuthFailure(`${reason}_invalid`);
  }
}

/** The provider's answer for a code, or what it failed with (judged once the state has decided). */
export async function identifySettled(
  provider: OAuthProvider,
  credentials: ClientCredentials,
  code: string,
  secrets: { codeVerifier: string; nonce: string },
): Promise<{ identity: ProviderIdentity } | { failure: unknown }> {
  try {
    return { identity: await provider.identify(credentials, code, secrets) };
  } catch (failure) {
    return { failure };
  }
}
