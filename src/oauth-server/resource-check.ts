// A resource server's check of an access token the provider issued (the RPC method
// AuthService.verifyOAuthToken, which edge-auth/hono's requireOAuth calls): the signature,
// issuer and audience (this resource, RFC 8707), the scopes the route needs, and the
// grant's standing as the bearer path reads it (the principal record: isolate memory,
// then KV, then the user's authority for a grant the record cannot know yet). A
// client_credentials token has no grant: its client must still be enabled (D1, kept in
// this isolate's memory for 5 seconds).
import type { Services } from "../services/services";
import { normalizeResource } from "../config/oauth-server-settings";
import { principalRecord, rememberPrincipal } from "../sessions/isolate-memory";
import { authorityFor } from "../sessions/authority-client";
import { tokenStanding } from "../user-authority/principal-record";
import type { PublicUser } from "../users/user-view";
import { ApiError } from "../http/errors";
import { providerKeys } from "./keys";
import { verifyProviderAccessToken } from "./provider-tokens";
import { userClaims } from "./claims";
import { registeredClient } from "./clients/resolve-client";

export type OAuthTokenAnswer =
  | {
      active: true;
      sub: string;
      client_id: string;
      scopes: string[];
      /** The user the grant belongs to, with what the token's scopes release (absent for a client_credentials token). */
      user?: { id: string; email?: string; email_verified?: boolean; name?: string; preferred_username?: string };
      grant_id?: string;
      exp: number;
      aal: 1 | 2;
    }
  | { active: false; status: 401 | 403; error: "invalid_token" | "insufficient_scope"; scope?: string };

export type ResourceCheckDeps = Pick<Services, "config" | "d1" | "kv" | "authority" | "waitUntil" | "origin">;

export async function checkResourceToken(
  services: ResourceCheckDeps,
  token: string,
  required: { resource: string; scopes: readonly string[] },
): Promise<OAuthTokenAnswer> {
  const settings = services.config.oauthServer;
  if (!settings.enabled) throw new ApiError("not_found", "The OAuth server is off (OAUTH_SERVER_ENABLED)");
  const invalid: OAuthTokenAnswer = { active: false, status: 401, error: "invalid_token" };
  if (!URL.canParse(required.resource)) return invalid;
  const audience = [required.resource, normalizeResource(required.resource)];
  // Over RPC there is no request origin: the issuer is OAUTH_ISSUER or OAUTH_REDIRECT_BASE_URL when set.
  const issuer = settings.issuer ?? (services.origin === "" ? null : services.origin);
  const keys = await providerKeys(services.config, services.d1);
  const claims = await verifyProviderAccessToken(keys, token, { issuer, audience });
  if (claims === null) return invalid;
  let user: PublicUser | undefined;
  if (claims.grantId === null) {
    // client_credentials: no grant to revoke, so the client itself must still be enabled.
    const client = await registeredClient(services.d1, claims.clientId);
    if (client === null || client.disabled) return invalid;
  } else {
    let record = await principalRecord(services, claims.subject);
    let standing = record === null ? "revoked" : tokenStanding(record, claims.grantId, claims.issuedAt);
    if (standing === "ask_authority") {
      // A grant made after the record was written (a sign-in just now): the authority's record knows it.
      record = await authorityFor(services.authority, claims.subject).readPrincipal();
      if (record !== null) rememberPrincipal(claims.subject, record);
      standing = record === null ? "revoked" : tokenStanding(record, claims.grantId, claims.issuedAt);
    }
    if (standing !== "valid" || record === null) return invalid;
    user = record.user;
  }
  const missing = required.scopes.find((scope) => !claims.scopes.includes(scope));
  if (missing !== undefined) return { active: false, status: 403, error: "insufficient_scope", scope: required.scopes.join(" ") };
  return {
    active: true,
    sub: claims.subject,
    client_id: claims.clientId,
    scopes: claims.scopes,
    // A resource server learns of the user only what the token's scopes release (OpenID Connect Core §5.4).
    ...(user === undefined ? {} : { user: { id: user.id, ...userClaims(user, claims.scopes) } }),
    ...(claims.grantId === null ? {} : { grant_id: claims.grantId }),
    exp: claims.expiresAt,
    aal: claims.aal,
  };
}
