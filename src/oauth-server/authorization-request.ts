// Checking an authorization request (OAuth 2.1 §4.1.1, RFC 6749 §4.1.2.1). The order is
// the RFC's: until the client and its redirect URI are known good, an error is shown on
// a page and redirects nowhere (no open redirect); after, errors go to the client.
import type { Services } from "../services/services";
import type { AuthorizationRequest } from "../user-authority/oauth-grants/types";
import { isVerified, type OAuthClient } from "./clients/client-record";
import { matchesRedirectUri } from "./clients/redirect-uri";
import { type ClientDeps, resolveClient } from "./clients/resolve-client";
import { type Params, checkResources, checkScopes, param, paramList, repeatedParameter } from "./params";
import type { Provider } from "./provider";

export interface AuthorizationParams {
  request: AuthorizationRequest;
  client: OAuthClient;
  prompt: "none" | "login" | "consent" | null;
  /** max_age in seconds (OpenID Connect Core §3.1.2.1), or null. */
  maxAge: number | null;
}

export type CheckedAuthorization =
  | { status: "ok"; value: AuthorizationParams }
  /** Shown on the service's own error page; nothing is redirected. */
  | { status: "page_error"; description: string }
  | { status: "redirect_error"; redirectUri: string; error: string; description: string; state: string | null; verified: boolean };

const MAX_TEXT = 2048;
const PKCE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

export async function checkAuthorizationRequest(services: ClientDeps, provider: Provider, params: Params): Promise<CheckedAuthorization> {
  const clientId = typeof params.client_id === "string" ? params.client_id : null;
  if (clientId === null || clientId === "") return { status: "page_error", description: "The request names no client (client_id)." };
  const client = await resolveClient(services, clientId);
  if (client === null || client.disabled)
    return { status: "page_error", description: "The app that sent you here is not registered, or was disabled." };
  const asked = typeof params.redirect_uri === "string" ? params.redirect_uri : null;
  // OAuth 2.1 §4.1.1: redirect_uri may be left out only when the client registered exactly one.
  const redirectUri = asked ?? (client.redirectUris.length === 1 ? (client.redirectUris[0] as string) : null);
  if (redirectUri === null || !matchesRedirectUri(client.redirectUris, redirectUri)) {
    return { status: "page_error", description: "The app's redirect address is not one it registered, so you were not sent back." };
  }
  const state = typeof params.state === "string" ? params.state : null;
  const fail = (error: string, description: string): CheckedAuthorization => ({
    status: "redirect_error",
    redirectUri,
    error,
    description,
    state,
    verified: isVerified(client),
  });
  const repeated = repeatedParameter(params);
  if (repeated !== null) return fail("invalid_request", `The parameter ${repeated.slice(0, 40)} was sent twice`);
  if (param(params, "response_type") !== "code") return fail("unsupported_response_type", "Only response_type=code is supported");
  if (!client.grantTypes.includes("authorization_code"))
    return fail("unauthorized_client", "The client may not use the authorization code grant");
  const challenge = param(params, "code_challenge");
  if (challenge === null) return fail("invalid_request", "PKCE is required: send code_challenge and code_challenge_method=S256");
  if (param(params, "code_challenge_method") !== "S256" || !PKCE_CHALLENGE.test(challenge)) {
    return fail("invalid_request", "code_challenge_method must be S256 with a 43-character code_challenge");
  }
  for (const name of ["state", "nonce", "scope"] as const) {
    if ((param(params, name)?.length ?? 0) > MAX_TEXT) return fail("invalid_request", `${name} is too long`);
  }
  const scopes = checkScopes(provider, client, param(params, "scope"));
  if (!scopes.ok) return fail(scopes.error, scopes.description);
  const resources = checkResources(provider, client, paramList(params, "resource"));
  if (!resources.ok) return fail(resources.error, resources.description);
  const prompt = param(params, "prompt");
  if (prompt !== null && prompt !== "none" && prompt !== "login" && prompt !== "consent") {
    return fail("invalid_request", "prompt must be none, login or consent");
  }
  const maxAgeText = param(params, "max_age");
  if (maxAgeText !== null && !/^\d{1,9}$/.test(maxAgeText)) return fail("invalid_request", "max_age must be a number of seconds");
  const acr = (param(params, "acr_values") ?? "").split(" ");
  const aalRequired = acr.includes("aal2") || client.requireAal === 2 ? 2 : 1;
  return {
    status: "ok",
    value: {
      client,
      prompt,
      maxAge: maxAgeText === null ? null : Number(maxAgeText),
      request: {
        clientId: client.clientId,
        clientName: client.name,
        verified: isVerified(client),
        redirectUri,
        redirectUriSent: asked !== null,
        scopes: scopes.value,
        resources: resources.value,
        state,
        nonce: param(params, "nonce"),
        codeChallenge: challenge,
        aalRequired,
      },
    },
  };
}

/** The client's redirect URI with the response's parameters (RFC 9207: iss on every answer). */
export function redirectWith(redirectUri: string, values: Record<string, string | null>): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(values)) if (value !== null) url.searchParams.set(name, value);
  return url.href;
}
