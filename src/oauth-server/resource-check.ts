// A resource server's check of an access token the provider issued (the RPC method
// AuthService.verifyOAuthToken, which edge-auth/hono's requireOAuth calls): the signature,
// issuer and audience (this resource, RFC 8707), the scopes the route needs, and the
// grant's standing as the bearer path reads it (the principal record: isolate memory,
// then KV, then the user's authority for a grant the record cannot know yet). A
// client_credentials token has no grant: it lives until it expires.
import type { Services } from "../services/services";
import { normalizeResource } from "../config/oauth-server-settings";
import { principalRecord, rememberPrincipal } from "../sessions/isolate-memory";
import { authorityFor } from "../sessions/authority-client";
import { tokenStanding } from "../user-authority/principal-record";
import type { PublicUser } from "../users/user-view";
import { providerOf } from "./provider";
import { verifyProviderAccessToken } from "./provider-tokens";

export type OAuthTokenAnswer =
  | {
      active: true;
      sub: string;
      client_id: string;
      scopes: string[];
      /** The user the grant belongs to (absent for a client_credentials token). */
      user?: PublicUser;
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
  const provider = providerOf(services);
  const invalid: OAuthTokenAnswer = { active: false, status: 401, error: "invalid_token" };
  if (!URL.canParse(required.resource)) return invalid;
  const audience = [required.resource, normalizeResource(required.resource)];
  const claims = await verifyProviderAccessToken(await provider.keys(), token, { issuer: provider.issuer, audience });
  if (claims === null) return invalid;
  let user: PublicUser | undefined;
  if (claims.grantId !== null) {
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
    ...(user === undefined ? {} : { user }),
    ...(claims.grantId === null ? {} : { grant_id: claims.grantId }),
    exp: claims.expiresAt,
    aal: claims.aal,
  };
}
