// The only file that imports arctic (deprecated in July 2026, still working): the
// OAuth 2.0 protocol steps. Replacing arctic means rewriting these two functions.
import { CodeChallengeMethod, OAuth2Client, OAuth2RequestError } from "arctic";

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

/** The provider's authorization URL with state, PKCE S256 and any extra parameters (nonce). */
export function buildAuthorizationUrl(
  endpoint: string,
  client: ClientCredentials,
  request: { state: string; codeVerifier: string; scopes: string[]; extra?: Record<string, string> },
): URL {
  const oauth = new OAuth2Client(client.clientId, client.clientSecret, client.redirectUri);
  const url = oauth.createAuthorizationURLWithPKCE(endpoint, request.state, CodeChallengeMethod.S256, request.codeVerifier, request.scopes);
  for (const [name, value] of Object.entries(request.extra ?? {})) url.searchParams.set(name, value);
  return url;
}

export interface ProviderTokens {
  accessToken: string;
  idToken: string | null;
}

export class CodeExchangeError extends Error {
  /** The provider's OAuth error code (e.g. invalid_grant), safe to pass on. */
  readonly reason: string;

  constructor(reason: string) {
    super(`code exchange failed: ${reason}`);
    this.reason = reason;
  }
}

const EXCHANGE_TIMEOUT_MS = 5_000;

/** Exchanges the authorization code (with the PKCE verifier) for the provider's tokens. */
export async function exchangeCode(
  tokenEndpoint: string,
  client: ClientCredentials,
  code: string,
  codeVerifier: string,
): Promise<ProviderTokens> {
  const oauth = new OAuth2Client(client.clientId, client.clientSecret, client.redirectUri);
  try {
    // arctic's fetch takes no signal: a stalled token endpoint is cut off by the race.
    const tokens = await Promise.race([
      oauth.validateAuthorizationCode(tokenEndpoint, code, codeVerifier),
      new Promise<never>((_, reject) => setTimeout(() => reject(new CodeExchangeError("token_timeout")), EXCHANGE_TIMEOUT_MS)),
    ]);
    const data = tokens.data as { id_token?: unknown };
    return { accessToken: tokens.accessToken(), idToken: typeof data.id_token === "string" ? data.id_token : null };
  } catch (error) {
    if (error instanceof CodeExchangeError) throw error;
    if (error instanceof OAuth2RequestError) throw new CodeExchangeError(/^[a-z_]{1,64}$/.test(error.code) ? error.code : "token_error");
    throw new CodeExchangeError("token_request_failed");
  }
}
