// OpenID Connect providers (Google, and any issuer in OAUTH_OIDC_PROVIDERS): endpoints
// and keys come from the issuer's discovery document (cached); the ID token's signature
// is verified with jose against the issuer's published keys, with iss, aud, exp and
// nonce checked.
import { type JWTPayload, createRemoteJWKSet, jwtVerify } from "jose";
import { constantTimeEqual } from "../../lib/crypto";
import { CodeExchangeError, buildAuthorizationUrl, exchangeCode } from "../arctic";
import { OAuthFailure, type OAuthProvider, type ProviderIdentity, fetchJson } from "./provider";

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  userinfo_endpoint?: string;
  code_challenge_methods_supported?: string[];
}

const DISCOVERY_TTL_MS = 60 * 60 * 1000;
const discoveries = new Map<string, { document: Discovery; fetchedAt: number }>();
const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

export async function discover(issuer: string): Promise<Discovery> {
  const cached = discoveries.get(issuer);
  if (cached !== undefined && Date.now() - cached.fetchedAt < DISCOVERY_TTL_MS) return cached.document;
  const document = await fetchJson<Discovery>(`${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`, {}, "discovery");
  if (document.issuer?.replace(/\/$/, "") !== issuer.replace(/\/$/, "")) throw new OAuthFailure("discovery_issuer_mismatch");
  for (const field of ["authorization_endpoint", "token_endpoint", "jwks_uri"] as const) {
    if (typeof document[field] !== "string") throw new OAuthFailure("discovery_invalid");
  }
  discoveries.set(issuer, { document, fetchedAt: Date.now() });
  return document;
}

function keySet(jwksUri: string): ReturnType<typeof createRemoteJWKSet> {
  let keys = keySets.get(jwksUri);
  if (keys === undefined) {
    keys = createRemoteJWKSet(new URL(jwksUri));
    keySets.set(jwksUri, keys);
  }
  return keys;
}

export interface OidcOptions {
  name: string;
  issuer: string;
  /** Issuer values the ID token may carry (Google also uses the bare host name). */
  acceptedIssuers?: string[];
}

export function oidcProvider(options: OidcOptions): OAuthProvider {
  return {
    name: options.name,
    async authorizationUrl(client, request) {
      const discovery = await discover(options.issuer);
      return buildAuthorizationUrl(discovery.authorization_endpoint, client, {
        state: request.state,
        codeVerifier: request.codeVerifier,
        scopes: ["openid", "email", "profile"],
        extra: { nonce: request.nonce },
      });
    },
    async identify(client, code, request): Promise<ProviderIdentity> {
      const discovery = await discover(options.issuer);
      let tokens;
      try {
        tokens = await exchangeCode(discovery.token_endpoint, client, code, request.codeVerifier);
      } catch (error) {
        throw new OAuthFailure(error instanceof CodeExchangeError ? error.reason : "token_error");
      }
      if (tokens.idToken === null) throw new OAuthFailure("no_id_token");
      let claims: JWTPayload;
      try {
        ({ payload: claims } = await jwtVerify(tokens.idToken, keySet(discovery.jwks_uri), {
          issuer: options.acceptedIssuers ?? discovery.issuer,
          audience: client.clientId,
          algorithms: ["RS256", "ES256", "PS256", "EdDSA"],
          requiredClaims: ["sub", "exp", "iat"],
        }));
      } catch {
        throw new OAuthFailure("invalid_id_token");
      }
      if (typeof claims.nonce !== "string" || !constantTimeEqual(claims.nonce, request.nonce)) {
        throw new OAuthFailure("nonce_mismatch");
      }
      let profile: Record<string, unknown> = claims;
      if (typeof claims.email !== "string" && discovery.userinfo_endpoint !== undefined) {
        // Some providers put the email claims only in the userinfo response.
        const info = await fetchJson<Record<string, unknown>>(
          discovery.userinfo_endpoint,
          { headers: { Authorization: `Bearer ${tokens.accessToken}` } },
          "userinfo",
        );
        if (info.sub !== claims.sub) throw new OAuthFailure("userinfo_subject_mismatch");
        profile = { ...info, ...claims };
      }
      return {
        providerUserId: String(claims.sub),
        email: typeof profile.email === "string" ? profile.email : null,
        emailVerified: profile.email_verified === true || profile.email_verified === "true",
        name: typeof profile.name === "string" ? profile.name : null,
      };
    },
  };
}
