// Dynamic client registration (RFC 7591 §2, §3): the metadata a client sends, checked
// field by field, and the client it becomes. Registered clients are "not verified" on
// the consent page; they may not use client_credentials (an admin allows a client its
// own resources), and never skip consent.
import { isDevelopmentEnvironment } from "../../config/config";
import type { Config } from "../../config/config";
import { randomToken, sha256 } from "../../lib/crypto";
import type { ClientAuthMethod, GrantType, OAuthClient } from "./client-record";
import { redirectUriProblem } from "./redirect-uri";

export type Registration =
  | { ok: true; client: OAuthClient; secret: string | null }
  | { ok: false; error: "invalid_redirect_uri" | "invalid_client_metadata"; description: string };

const DCR_GRANTS: readonly GrantType[] = ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"];
const AUTH_METHODS: readonly ClientAuthMethod[] = ["none", "client_secret_basic", "client_secret_post"];

export async function registerClient(config: Config, offeredScopes: ReadonlySet<string>, metadata: unknown): Promise<Registration> {
  const bad = (description: string): Registration => ({ ok: false, error: "invalid_client_metadata", description });
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata))
    return bad("The body must be a JSON object of client metadata");
  const fields = metadata as Record<string, unknown>;
  const field = (name: string): unknown => (Object.hasOwn(fields, name) ? fields[name] : undefined);

  const method = field("token_endpoint_auth_method") ?? "client_secret_basic";
  if (!AUTH_METHODS.includes(method as ClientAuthMethod))
    return bad("token_endpoint_auth_method must be none, client_secret_basic or client_secret_post");
  const grants = field("grant_types") ?? ["authorization_code"];
  if (!Array.isArray(grants) || grants.length === 0 || !grants.every((grant) => DCR_GRANTS.includes(grant as GrantType))) {
    return bad("grant_types may list authorization_code, refresh_token and urn:ietf:params:oauth:grant-type:device_code");
  }
  const responseTypes = field("response_types") ?? ["code"];
  if (!Array.isArray(responseTypes) || responseTypes.some((type) => type !== "code")) return bad('response_types may only be ["code"]');
  const grantTypes = [...new Set(grants as GrantType[])];

  const development = isDevelopmentEnvironment(config.environment);
  const redirects = field("redirect_uris") ?? [];
  if (!Array.isArray(redirects) || redirects.length > 20 || !redirects.every((uri) => typeof uri === "string")) {
    return { ok: false, error: "invalid_redirect_uri", description: "redirect_uris must be an array of at most 20 URIs" };
  }
  if (grantTypes.includes("authorization_code") && redirects.length === 0) {
    return { ok: false, error: "invalid_redirect_uri", description: "redirect_uris is required for the authorization_code grant" };
  }
  for (const uri of redirects as string[]) {
    const problem = redirectUriProblem(uri, { development });
    if (problem !== null) return { ok: false, error: "invalid_redirect_uri", description: `${uri.slice(0, 200)} ${problem}` };
  }

  const name = field("client_name");
  if (name !== undefined && (typeof name !== "string" || name.trim() === "" || name.length > 200))
    return bad("client_name must be 1 to 200 characters");
  const scope = field("scope");
  if (scope !== undefined && typeof scope !== "string") return bad("scope must be a space-separated string");
  const scopes = scope === undefined ? null : [...new Set(scope.split(" ").filter((item) => item !== ""))];
  const unknown = scopes?.find((item) => !offeredScopes.has(item));
  if (unknown !== undefined) return bad(`Unknown scope: ${unknown.slice(0, 64)}`);
  const links: Record<"client_uri" | "logo_uri", string | null> = { client_uri: null, logo_uri: null };
  for (const key of ["client_uri", "logo_uri"] as const) {
    const value = field(key);
    if (value === undefined) continue;
    if (typeof value !== "string" || !URL.canParse(value) || new URL(value).protocol !== "https:" || value.length > 2000)
      return bad(`${key} must be an https URL`);
    links[key] = value;
  }
  const alg = field("id_token_signed_response_alg") ?? "RS256";
  if (alg !== "RS256" && alg !== "ES256" && alg !== "EdDSA") return bad("id_token_signed_response_alg must be RS256, ES256 or EdDSA");

  const secret = method === "none" ? null : randomToken(32);
  const now = new Date().toISOString();
  const client: OAuthClient = {
    clientId: `dcr_${randomToken(18)}`,
    name: typeof name === "string" ? name.trim() : "Unnamed app",
    source: "dcr",
    authMethod: method as ClientAuthMethod,
    secretHash: secret === null ? null : await sha256(secret),
    redirectUris: redirects as string[],
    grantTypes,
    scopes,
    resources: null,
    firstParty: false,
    requireAal: 1,
    introspection: false,
    disabled: false,
    idTokenAlg: alg,
    clientUri: links.client_uri,
    logoUri: links.logo_uri,
    createdAt: now,
  };
  return { ok: true, client, secret };
}

/** RFC 7591 §3.2.1: the client information response. */
export function clientInformation(client: OAuthClient, secret: string | null): Record<string, unknown> {
  const body: Record<string, unknown> = {
    client_id: client.clientId,
    client_id_issued_at: Math.floor(Date.parse(client.createdAt) / 1000),
    client_name: client.name,
    redirect_uris: client.redirectUris,
    grant_types: client.grantTypes,
    response_types: ["code"],
    token_endpoint_auth_method: client.authMethod,
    id_token_signed_response_alg: client.idTokenAlg,
  };
  if (client.scopes !== null) body.scope = client.scopes.join(" ");
  if (client.clientUri !== null) body.client_uri = client.clientUri;
  if (client.logoUri !== null) body.logo_uri = client.logoUri;
  if (secret !== null) {
    body.client_secret = secret;
    body.client_secret_expires_at = 0;
  }
  return body;
}
