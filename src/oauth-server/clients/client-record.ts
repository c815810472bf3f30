// An OAuth client as the provider uses it, and its D1 row (oauth_server_clients).
export type ClientAuthMethod = "none" | "client_secret_basic" | "client_secret_post";
export type GrantType = "authorization_code" | "refresh_token" | "client_credentials" | "urn:ietf:params:oauth:grant-type:device_code";

export const GRANT_TYPES: readonly GrantType[] = [
  "authorization_code",
  "refresh_token",
  "client_credentials",
  "urn:ietf:params:oauth:grant-type:device_code",
];

export interface OAuthClient {
  clientId: string;
  name: string;
  /** Who made it: an admin, dynamic registration (RFC 7591), or a metadata document (its URL is the id). */
  source: "admin" | "dcr" | "cimd";
  authMethod: ClientAuthMethod;
  secretHash: string | null;
  redirectUris: string[];
  grantTypes: GrantType[];
  /** null: any scope the server offers. */
  scopes: string[] | null;
  /** null: any configured resource. */
  resources: string[] | null;
  firstParty: boolean;
  requireAal: 1 | 2;
  introspection: boolean;
  disabled: boolean;
  idTokenAlg: "RS256" | "ES256" | "EdDSA";
  clientUri: string | null;
  logoUri: string | null;
  createdAt: string;
}

export interface ClientRow {
  client_id: string;
  name: string;
  source: string;
  auth_method: string;
  secret_hash: string | null;
  redirect_uris: string;
  grant_types: string;
  scopes: string | null;
  resources: string | null;
  first_party: number;
  require_aal: number;
  introspection: number;
  disabled: number;
  id_token_alg: string;
  client_uri: string | null;
  logo_uri: string | null;
  created_at: string;
  updated_at: string;
  last_used_at: string | null;
}

export function fromRow(row: ClientRow): OAuthClient {
  return {
    clientId: row.client_id,
    name: row.name,
    source: row.source === "admin" ? "admin" : "dcr",
    authMethod: row.auth_method as ClientAuthMethod,
    secretHash: row.secret_hash,
    redirectUris: JSON.parse(row.redirect_uris) as string[],
    grantTypes: JSON.parse(row.grant_types) as GrantType[],
    scopes: row.scopes === null ? null : (JSON.parse(row.scopes) as string[]),
    resources: row.resources === null ? null : (JSON.parse(row.resources) as string[]),
    firstParty: row.first_party === 1,
    requireAal: row.require_aal === 2 ? 2 : 1,
    introspection: row.introspection === 1,
    disabled: row.disabled === 1,
    idTokenAlg: row.id_token_alg === "ES256" || row.id_token_alg === "EdDSA" ? row.id_token_alg : "RS256",
    clientUri: row.client_uri,
    logoUri: row.logo_uri,
    createdAt: row.created_at,
  };
}

/** A client others see as vouched for: one an admin registered. DCR and metadata-document clients are "not verified". */
export function isVerified(client: OAuthClient): boolean {
  return client.source === "admin";
}

export function isConfidential(client: OAuthClient): boolean {
  return client.authMethod !== "none";
}
