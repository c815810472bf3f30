// Which credential a request carries, read the same way for every entry point (the
// authenticate middleware, /auth/introspect, the AuthService RPC entrypoint):
// X-API-Key first, then Authorization, then the session cookie. An Authorization
// header that is not a well-formed Bearer credential is a refusal of its own and never
// falls back to the cookie: the client meant to authenticate with the header.
import { parse } from "hono/utils/cookie";
import { looksLikeApiKey } from "../api-keys/key-format";
import type { Config } from "../config/config";
import { cookieNames } from "../http/cookies";

export type Credential =
  | { kind: "session"; token: string }
  | { kind: "bearer"; token: string }
  | { kind: "api_key"; key: string }
  | { kind: "malformed_authorization" };

const BEARER = /^Bearer +([^\s]+)$/i;

export function credentialOf(config: Config, headers: Headers): Credential | null {
  const apiKey = headers.get("X-API-Key");
  if (apiKey !== null) return { kind: "api_key", key: apiKey.trim() };
  const authorization = headers.get("Authorization");
  if (authorization !== null) {
    const token = BEARER.exec(authorization.trim())?.[1];
    if (token === undefined) return { kind: "malformed_authorization" };
    return looksLikeApiKey(config.apiKeys.prefix, token) ? { kind: "api_key", key: token } : { kind: "bearer", token };
  }
  const token = sessionCookieOf(config, headers.get("Cookie"));
  return token === undefined || token === "" ? null : { kind: "session", token };
}

/** The session cookie's value; malformed percent-encoding is kept as it came (and then matches no session). */
export function sessionCookieOf(config: Config, cookieHeader: string | null): string | undefined {
  if (cookieHeader === null) return undefined;
  const name = cookieNames(config).session;
  const cookies = parse(cookieHeader, name);
  return Object.hasOwn(cookies, name) ? cookies[name] : undefined;
}

/** A bare token as sent to introspection: an API key, an access JWT, or a session token. */
export function credentialOfToken(config: Config, token: string): Credential {
  if (looksLikeApiKey(config.apiKeys.prefix, token)) return { kind: "api_key", key: token };
  if (token.split(".").length === 3) return { kind: "bearer", token };
  return { kind: "session", token };
}
