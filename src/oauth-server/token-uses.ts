// What clients and resource servers do with issued tokens: revoke them (RFC 7009),
// introspect them (RFC 7662, resource servers an admin registered), and read the user's
// claims (OpenID Connect Core §5.3). Each asks the user's authority, so a revoked grant
// is refused on the next request.
import type { Services } from "../services/services";
import { normalizeResource } from "../config/oauth-server-settings";
import { sha256 } from "../lib/crypto";
import { parseSessionToken, userIdOfSession } from "../sessions/session-token";
import { isConfidential } from "./clients/client-record";
import { findClient } from "./clients/client-store";
import { userClaims } from "./claims";
import { type OAuthFailure, failure } from "./grant-answer";
import { grantsOf } from "./grant-client";
import { type Params, param } from "./params";
import type { Provider } from "./provider";
import { type OAuthAccessClaims, verifyProviderAccessToken } from "./provider-tokens";
import { clientOf } from "./token-endpoint";

export type TokenUseDeps = Pick<Services, "d1" | "authority" | "config" | "throttle" | "ip">;

/** RFC 7009 §2: 200 whether or not the token was known; only the client it was issued to can revoke it. */
export async function revokeToken(
  services: TokenUseDeps,
  provider: Provider,
  params: Params,
  authorization: string | null,
): Promise<{ ok: true } | OAuthFailure> {
  const authenticated = await clientOf(services, params, authorization);
  if (!authenticated.ok) return authenticated;
  const token = param(params, "token");
  if (token === null) return failure("invalid_request", "token is required");
  const { clientId } = authenticated.client;
  const refresh = parseSessionToken(token);
  if (refresh !== null) {
    await grantsOf(services.authority, userIdOfSession(refresh.id)).revoke(refresh.id, {
      presentedHash: await sha256(refresh.secret),
      clientId,
    });
    return { ok: true };
  }
  const claims = await verifyProviderAccessToken(await provider.keys(), token, { issuer: provider.issuer, audience: null });
  // An access token of a grant ends its grant (§2.1 allows it); a client_credentials token lives until it expires.
  if (claims !== null && claims.clientId === clientId && claims.grantId !== null) {
    await grantsOf(services.authority, claims.subject).revoke(claims.grantId, { clientId, presentedHash: null });
  }
  return { ok: true };
}

/** RFC 7662 §2.2: `{active: false}` for anything not active, with no reason given. */
export async function introspectToken(
  services: TokenUseDeps,
  provider: Provider,
  params: Params,
  authorization: string | null,
): Promise<{ ok: true; body: Record<string, unknown> } | OAuthFailure> {
  const authenticated = await clientOf(services, params, authorization);
  if (!authenticated.ok) return authenticated;
  const caller = authenticated.client;
  if (!caller.introspection || !isConfidential(caller))
    return failure("invalid_client", "Only resource servers registered by an admin may introspect", 401);
  const token = param(params, "token");
  if (token === null) return failure("invalid_request", "token is required");
  const inactive = { ok: true as const, body: { active: false } };
  const claims = await verifyProviderAccessToken(await provider.keys(), token, { issuer: provider.issuer, audience: null });
  if (claims === null) return inactive;
  // A resource server learns only about tokens meant for it (when an admin named its resources).
  if (
    caller.resources !== null &&
    !claims.audience.some((aud) => caller.resources?.map(normalizeResource).includes(normalizeResource(aud)))
  )
    return inactive;
  const standing = await standingOf(services, claims);
  if (standing === null) return inactive;
  return {
    ok: true,
    body: {
      active: true,
      iss: provider.issuer,
      sub: claims.subject,
      client_id: claims.clientId,
      scope: claims.scopes.join(" "),
      aud: claims.audience.length === 1 ? claims.audience[0] : claims.audience,
      exp: claims.expiresAt,
      iat: claims.issuedAt,
      token_type: "Bearer",
      ...(claims.grantId === null ? {} : { sid: claims.grantId, acr: `aal${claims.aal}`, amr: claims.amr }),
      ...(claims.authTime === null ? {} : { auth_time: claims.authTime }),
      ...(standing.username === null ? {} : { username: standing.username }),
    },
  };
}

/** Whether a verified token is still live: its grant at the user's authority, or its client for client_credentials. */
async function standingOf(services: TokenUseDeps, claims: OAuthAccessClaims): Promise<{ username: string | null } | null> {
  if (claims.grantId === null) {
    const client = await findClient(services.d1, claims.clientId);
    return client === null || client.disabled ? null : { username: null };
  }
  const standing = await grantsOf(services.authority, claims.subject).standing(claims.grantId, claims.issuedAt);
  if (standing === null || standing.clientId !== claims.clientId) return null;
  // The username only when the token's scopes release one (OpenID Connect Core §5.4).
  return { username: claims.scopes.includes("profile") ? standing.username : null };
}

export type UserInfoAnswer = { ok: true; body: Record<string, unknown> } | { ok: false; status: 401 | 403; challenge: string };

/** OpenID Connect Core §5.3: the claims the token's scopes release; a bearer challenge (RFC 6750 §3) otherwise. */
export async function userInfo(services: TokenUseDeps, provider: Provider, token: string | null): Promise<UserInfoAnswer> {
  if (token === null) return { ok: false, status: 401, challenge: 'Bearer realm="userinfo"' };
  const audience = [provider.issuer, normalizeResource(provider.issuer)];
  const claims = await verifyProviderAccessToken(await provider.keys(), token, { issuer: provider.issuer, audience });
  const invalid: UserInfoAnswer = { ok: false, status: 401, challenge: 'Bearer error="invalid_token"' };
  if (claims === null || claims.grantId === null) return invalid;
  if (!claims.scopes.includes("openid")) return { ok: false, status: 403, challenge: 'Bearer error="insufficient_scope", scope="openid"' };
  const status = await grantsOf(services.authority, claims.subject).status(claims.grantId, claims.issuedAt);
  if (status.status !== "active") return invalid;
  return { ok: true, body: { sub: status.user.id, ...userClaims(status.user, claims.scopes) } };
}
