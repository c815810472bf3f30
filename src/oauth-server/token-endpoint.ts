// The token endpoint (OAuth 2.1 §3.2): authenticates the client, then runs its grant.
// Every outcome is a value: the route renders a failure in the RFC 6749 §5.2 shape.
import type { ClientDeps } from "./clients/resolve-client";
import type { Services } from "../services/services";
import { randomToken, sha256 } from "../lib/crypto";
import { createSessionToken, parseSessionToken, userIdOfSession } from "../sessions/session-token";
import { type OAuthClient, isConfidential } from "./clients/client-record";
import { authenticateClient, presentedClient } from "./clients/client-auth";
import { findClient, touchClient } from "./clients/client-store";
import { grantsOf } from "./grant-client";
import { type Params, checkResources, checkScopes, param, paramList, repeatedParameter } from "./params";
import { type Provider, audienceOf } from "./provider";
import { signProviderAccessToken } from "./provider-tokens";
import type { TokenBody } from "./token-response";
import { deviceCodeGrant } from "./device/device-grant";
import { type OAuthFailure, type TokenAnswer, answerFor, askedNarrowing, failure } from "./grant-answer";
import type { Narrowing } from "../user-authority/oauth-grants/narrowing";

export type { OAuthFailure, TokenAnswer } from "./grant-answer";

export type TokenDeps = Pick<Services, "config" | "d1" | "authority" | "waitUntil" | "devices" | "throttle" | "ip">;

const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

/** Authenticates the client of a token, revocation or introspection request (RFC 6749 §2.3). */
export async function clientOf(
  services: ClientDeps,
  params: Params,
  authorization: string | null,
): Promise<{ ok: true; client: OAuthClient } | OAuthFailure> {
  const repeated = repeatedParameter(params);
  if (repeated !== null) return failure("invalid_request", `The parameter ${repeated.slice(0, 40)} was sent twice`);
  const presented = presentedClient(authorization, params);
  if (presented === "invalid") return failure("invalid_request", "Authenticate the client with one method only");
  if (presented === null) return { ...failure("invalid_client", "Client authentication is required", 401) };
  const result = await authenticateClient(services, presented);
  if (result.status === "ok") return { ok: true, client: result.client };
  // RFC 6749 §5.2: a client that tried Basic is answered with the scheme it used.
  const headers: Record<string, string> = result.basic ? { "WWW-Authenticate": 'Basic realm="oauth2"' } : {};
  return { ok: false, status: 401, error: "invalid_client", description: result.detail, headers };
}

export async function tokenEndpoint(
  services: TokenDeps,
  provider: Provider,
  params: Params,
  authorization: string | null,
): Promise<TokenAnswer> {
  const authenticated = await clientOf(services, params, authorization);
  if (!authenticated.ok) return authenticated;
  const { client } = authenticated;
  const grantType = param(params, "grant_type");
  if (grantType === null) return failure("invalid_request", "grant_type is required");
  if (client.source !== "cimd") services.waitUntil(touchClient(services.d1, client.clientId).catch(() => undefined));
  switch (grantType) {
    case "authorization_code":
      return client.grantTypes.includes("authorization_code") ? codeGrant(services, provider, client, params) : unauthorized();
    case "refresh_token":
      return refreshGrant(services, provider, client, params);
    case "client_credentials":
      return client.grantTypes.includes("client_credentials") && isConfidential(client)
        ? clientCredentials(provider, client, params)
        : unauthorized();
    case "urn:ietf:params:oauth:grant-type:device_code":
      return client.grantTypes.includes(grantType) ? deviceCodeGrant(services, provider, client, params) : unauthorized();
    default:
      return failure("unsupported_grant_type", "Supported grants: authorization_code, refresh_token, client_credentials, device_code");
  }
}

function unauthorized(): OAuthFailure {
  return failure("unauthorized_client", "The client is not allowed this grant type");
}

/** OAuth 2.1 §4.1.3. */
async function codeGrant(services: TokenDeps, provider: Provider, client: OAuthClient, params: Params): Promise<TokenAnswer> {
  const code = param(params, "code");
  const verifier = param(params, "code_verifier");
  if (code === null || verifier === null) return failure("invalid_request", "code and code_verifier are required");
  if (!VERIFIER.test(verifier)) return failure("invalid_request", "code_verifier must be 43 to 128 unreserved characters");
  const narrowing = askedNarrowing(provider, client, params);
  if (!narrowing.ok) return narrowing;
  const parsed = parseSessionToken(code);
  if (parsed === null) return failure("invalid_grant", "Unknown or expired authorization code");
  return redeemCode(services, provider, client, {
    code: parsed,
    userId: userIdOfSession(parsed.id),
    redirectUri: param(params, "redirect_uri"),
    verifier,
    asked: narrowing.asked,
  });
}

/**
 * Redeems an authorization code at its user's authority (a browser's, or the one a
 * device's approval made, whose verifier is the device code's secret) into a grant, and
 * signs its tokens. The grant's id and refresh token are made here, before the one call.
 */
export async function redeemCode(
  services: Pick<Services, "authority" | "d1">,
  provider: Provider,
  client: OAuthClient,
  input: { code: { id: string; secret: string }; userId: string; redirectUri: string | null; verifier: string; asked: Narrowing },
): Promise<TokenAnswer> {
  // A new grant is made from D1's word on the client, not the isolate's 5-second memory:
  // a grant made just after an admin disabled the client would miss the disable's sweep.
  if (client.source !== "cimd") {
    const current = await findClient(services.d1, client.clientId);
    if (current === null || current.disabled) return failure("invalid_client", "Unknown or disabled client", 401);
  }
  const grant = await createSessionToken(input.userId);
  const [secretHash, challenge, unusedSecretHash] = await Promise.all([
    sha256(input.code.secret),
    sha256(input.verifier),
    sha256(randomToken(32)),
  ]);
  const redemption = await grantsOf(services.authority, input.userId).redeem(
    input.code.id,
    secretHash,
    { clientId: client.clientId, redirectUri: input.redirectUri, challengeOfVerifier: challenge },
    {
      id: grant.id,
      refresh: { secretHash: grant.secretHash, token: grant.token },
      refreshAlways: client.grantTypes.includes("refresh_token"),
      unusedSecretHash,
    },
    { accessTtlSeconds: provider.accessTtlSeconds, refreshTtlMs: provider.refreshTtlMs },
    input.asked,
  );
  return answerFor(provider, client, redemption);
}

/** OAuth 2.1 §4.3: rotation with the replay window; a rotated-out token ends the grant. */
async function refreshGrant(services: TokenDeps, provider: Provider, client: OAuthClient, params: Params): Promise<TokenAnswer> {
  const token = param(params, "refresh_token");
  if (token === null) return failure("invalid_request", "refresh_token is required");
  const narrowing = askedNarrowing(provider, client, params);
  if (!narrowing.ok) return narrowing;
  const parsed = parseSessionToken(token);
  if (parsed === null) return failure("invalid_grant", "Invalid refresh token");
  const userId = userIdOfSession(parsed.id);
  const next = randomToken(32);
  const [presentedHash, nextHash] = await Promise.all([sha256(parsed.secret), sha256(next)]);
  const rotation = await grantsOf(services.authority, userId).rotate(
    parsed.id,
    presentedHash,
    { secretHash: nextHash, refreshToken: `${parsed.id}.${next}` },
    services.config.tokens.reuseGraceMs,
    client.clientId,
    narrowing.asked,
  );
  if (rotation.status === "reused") return failure("invalid_grant", "The refresh token was already used; the grant was revoked");
  return answerFor(provider, client, rotation);
}

/** OAuth 2.1 §4.2: a confidential client's own token, for the scopes and resources an admin allowed it. */
async function clientCredentials(provider: Provider, client: OAuthClient, params: Params): Promise<TokenAnswer> {
  const scopes = checkScopes(provider, client, param(params, "scope"));
  if (!scopes.ok) return failure(scopes.error, scopes.description);
  if (scopes.value.some((scope) => scope === "openid" || scope === "offline_access")) {
    return failure("invalid_scope", "openid and offline_access need a user; client_credentials has none");
  }
  const resources = checkResources(provider, client, paramList(params, "resource"));
  if (!resources.ok) return failure(resources.error, resources.description);
  const keys = await provider.keys();
  const token = await signProviderAccessToken(keys, {
    issuer: provider.issuer,
    subject: client.clientId,
    clientId: client.clientId,
    grantId: null,
    scopes: scopes.value,
    audience: audienceOf(provider, resources.value),
    assurance: null,
    ttlSeconds: provider.accessTtlSeconds,
  });
  return {
    ok: true,
    body: { access_token: token, token_type: "Bearer", expires_in: provider.accessTtlSeconds, scope: scopes.value.join(" ") },
  };
}
