// The token endpoint's answer for a grant (RFC 6749 §5.1): the RFC 9068 access token for
// the resources asked, the refresh token when the grant has one, and with the openid
// scope an ID token (OpenID Connect Core §3.1.3.3).
import type { GrantTokens } from "../user-authority/oauth-grants/types";
import type { OAuthClient } from "./clients/client-record";
import { userClaims } from "./claims";
import { leftHalfHash, signJws, signProviderAccessToken } from "./provider-tokens";
import { type Provider, audienceOf } from "./provider";

export interface TokenBody {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  scope: string;
  refresh_token?: string;
  id_token?: string;
}

export async function grantTokenBody(
  provider: Provider,
  client: OAuthClient,
  tokens: GrantTokens,
  narrowed: { scopes: string[]; resources: string[] },
): Promise<TokenBody> {
  const keys = await provider.keys();
  const accessToken = await signProviderAccessToken(keys, {
    issuer: provider.issuer,
    subject: tokens.user.id,
    clientId: client.clientId,
    grantId: tokens.grantId,
    scopes: narrowed.scopes,
    audience: audienceOf(provider, narrowed.resources),
    assurance: tokens.assurance,
    ttlSeconds: provider.accessTtlSeconds,
    issuedAt: tokens.issuedAt,
    jti: tokens.jti,
  });
  const body: TokenBody = {
    access_token: accessToken,
    token_type: "Bearer",
    expires_in: provider.accessTtlSeconds,
    scope: narrowed.scopes.join(" "),
  };
  if (tokens.refreshToken !== null) body.refresh_token = tokens.refreshToken;
  if (narrowed.scopes.includes("openid")) {
    const key = keys.idToken.get(client.idTokenAlg) ?? keys.idToken.get("RS256");
    if (key !== undefined) {
      const claims: Record<string, unknown> = {
        iss: provider.issuer,
        sub: tokens.user.id,
        aud: client.clientId,
        azp: client.clientId,
        iat: tokens.issuedAt,
        exp: tokens.issuedAt + provider.accessTtlSeconds,
        auth_time: Math.floor(tokens.assurance.authTime / 1000),
        acr: `aal${tokens.assurance.aal}`,
        amr: tokens.assurance.amr,
        sid: tokens.grantId,
        at_hash: await leftHalfHash(key.alg, accessToken),
        ...userClaims(tokens.user, narrowed.scopes),
      };
      if (tokens.nonce !== null) claims.nonce = tokens.nonce;
      body.id_token = await signJws(key, "JWT", claims);
    }
  }
  return body;
}
