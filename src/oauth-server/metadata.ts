// Discovery documents: RFC 8414 authorization server metadata, OpenID Connect Discovery
// 1.0, and RFC 9728 protected-resource metadata for this service's own API.
import type { Config } from "../config/config";
import type { Provider } from "./provider";

export function authorizationServerMetadata(config: Config, provider: Provider): Record<string, unknown> {
  const base = provider.issuer;
  const metadata: Record<string, unknown> = {
    issuer: base,
    authorization_endpoint: `${base}/oauth2/authorize`,
    token_endpoint: `${base}/oauth2/token`,
    jwks_uri: `${base}/.well-known/jwks.json`,
    revocation_endpoint: `${base}/oauth2/revoke`,
    introspection_endpoint: `${base}/oauth2/introspect`,
    userinfo_endpoint: `${base}/oauth2/userinfo`,
    device_authorization_endpoint: `${base}/oauth2/device_authorization`,
    scopes_supported: [...provider.scopes],
    response_types_supported: ["code"],
    response_modes_supported: ["query"],
    grant_types_supported: ["authorization_code", "refresh_token", "client_credentials", "urn:ietf:params:oauth:grant-type:device_code"],
    token_endpoint_auth_methods_supported: ["none", "client_secret_basic", "client_secret_post"],
    revocation_endpoint_auth_methods_supported: ["none", "client_secret_basic", "client_secret_post"],
    introspection_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
    code_challenge_methods_supported: ["S256"],
    authorization_response_iss_parameter_supported: true,
    prompt_values_supported: ["none", "login", "consent"],
    acr_values_supported: ["aal1", "aal2"],
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: ["RS256", ...provider.idTokenAlgs.filter((alg) => alg !== "RS256")],
    claims_supported: [
      "sub",
      "iss",
      "aud",
      "exp",
      "iat",
      "auth_time",
      "nonce",
      "acr",
      "amr",
      "sid",
      "email",
      "email_verified",
      "name",
      "preferred_username",
    ],
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
  };
  if (config.oauthServer.dcr) metadata.registration_endpoint = `${base}/oauth2/register`;
  if (config.oauthServer.cimd) metadata.client_id_metadata_document_supported = true;
  return metadata;
}

/** RFC 9728 §2: this service's own API, protected by this provider. */
export function protectedResourceMetadata(provider: Provider): Record<string, unknown> {
  return {
    resource: provider.ownResource,
    authorization_servers: [provider.issuer],
    scopes_supported: [...provider.scopes],
    bearer_methods_supported: ["header"],
    resource_name: "Account API",
  };
}
