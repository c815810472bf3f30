// The tokens the provider signs and checks: RFC 9068 access tokens (typ at+jwt) and
// OpenID Connect ID tokens. Signing is a compact JWS made with WebCrypto (the header
// and claims are this module's own); verification is jose's, with the key chosen only
// by kid from the provider's own set and the algorithm that key was made for.
import { type JWTPayload, jwtVerify } from "jose";
import { randomToken } from "../lib/crypto";
import { toBase64Url, utf8 } from "../lib/encoding";
import type { AuthMethod } from "../user-authority/session-policy";
import { JWS_SIGNATURE, type ProviderKeys, type SigningKey } from "./keys";

export const OAUTH_ACCESS_TOKEN_TYPE = "at+jwt";

export interface AccessTokenInput {
  issuer: string;
  /** The user, or the client itself for client_credentials. */
  subject: string;
  clientId: string;
  /** The grant (absent for client_credentials). */
  grantId: string | null;
  scopes: string[];
  audience: string | string[];
  assurance: { aal: 1 | 2; amr: AuthMethod[]; authTime: number } | null;
  ttlSeconds: number;
  issuedAt?: number;
  jti?: string;
}

export interface OAuthAccessClaims {
  issuer: string;
  subject: string;
  clientId: string;
  grantId: string | null;
  scopes: string[];
  audience: string[];
  issuedAt: number;
  expiresAt: number;
  authTime: number | null;
  aal: 1 | 2;
  amr: string[];
}

export async function signJws(key: SigningKey, typ: string, claims: Record<string, unknown>): Promise<string> {
  const header = toBase64Url(utf8(JSON.stringify({ alg: key.alg, typ, kid: key.kid })));
  const input = `${header}.${toBase64Url(utf8(JSON.stringify(claims)))}`;
  const signature = await crypto.subtle.sign(JWS_SIGNATURE[key.alg], key.key, utf8(input));
  return `${input}.${toBase64Url(new Uint8Array(signature))}`;
}

export async function signProviderAccessToken(keys: ProviderKeys, input: AccessTokenInput): Promise<string> {
  const now = input.issuedAt ?? Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: input.issuer,
    sub: input.subject,
    aud: input.audience,
    client_id: input.clientId,
    scope: input.scopes.join(" "),
    iat: now,
    exp: now + input.ttlSeconds,
    jti: input.jti ?? randomToken(16),
  };
  if (input.grantId !== null) claims.sid = input.grantId;
  if (input.assurance !== null) {
    claims.auth_time = Math.floor(input.assurance.authTime / 1000);
    claims.acr = `aal${input.assurance.aal}`;
    claims.amr = input.assurance.amr;
  }
  return signJws(keys.access, OAUTH_ACCESS_TOKEN_TYPE, claims);
}

/** OpenID Connect Core §3.1.3.6: the left half of the access token's hash, for the ID token's alg. */
export async function leftHalfHash(alg: SigningKey["alg"], value: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest(alg === "EdDSA" ? "SHA-512" : "SHA-256", utf8(value)));
  return toBase64Url(digest.slice(0, digest.length / 2));
}

const FORBIDDEN_HEADERS = ["jwk", "jku", "x5u", "x5c", "crit"];

/**
 * Tokens this isolate has verified, by their exact text, per key set (a new set, after
 * a key change, starts empty): a signature check is a pure function of the token and
 * the keys, so its claims are reused until the token expires, as the bearer path does
 * (tokens/access-token.ts). The issuer, audience and expiry are checked on every use;
 * the grant's standing is the caller's to check. Bounded; the oldest entries go first.
 */
const verified = new WeakMap<ProviderKeys, Map<string, OAuthAccessClaims>>();
const MAX_REMEMBERED = 10_000;
/** Longer tokens (a long client_id, many scopes) are verified each time: the memory stays within ~20 MB. */
const MAX_REMEMBERED_LENGTH = 2_048;

/**
 * The claims of one of the provider's access tokens, or null. `audience`: the resource
 * checking it, by any of its spellings (a token for another resource is refused, RFC
 * 8707 §2); null only where the provider itself acts on any of its tokens (revocation,
 * introspection, which check the client instead). `issuer` null: whatever issuer the
 * provider signed it as (a check over RPC, where no request names the service's origin
 * and no OAUTH_ISSUER does: the provider's own key proves the provider made it).
 */
export async function verifyProviderAccessToken(
  keys: ProviderKeys,
  token: string,
  expected: { issuer: string | null; audience: string[] | null },
): Promise<OAuthAccessClaims | null> {
  if (token.length > 8192 || token.split(".").length !== 3) return null;
  let remembered = verified.get(keys);
  if (remembered === undefined) {
    remembered = new Map();
    verified.set(keys, remembered);
  }
  let claims = remembered.get(token) ?? null;
  if (claims === null) {
    claims = await verifySignature(keys, token);
    if (claims === null) return null;
    if (token.length <= MAX_REMEMBERED_LENGTH) {
      if (remembered.size >= MAX_REMEMBERED) remembered.delete(remembered.keys().next().value as string);
      remembered.set(token, claims);
    }
  }
  if (Date.now() / 1000 >= claims.expiresAt) {
    remembered.delete(token);
    return null;
  }
  if (expected.issuer !== null && claims.issuer !== expected.issuer) return null;
  const { audience } = expected;
  if (audience !== null && !claims.audience.some((aud) => audience.includes(aud))) return null;
  return claims;
}

/** jose's check of the signature, type, required claims and times; the issuer and audience are the caller's. */
async function verifySignature(keys: ProviderKeys, token: string): Promise<OAuthAccessClaims | null> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(
      token,
      (header) => {
        if (FORBIDDEN_HEADERS.some((name) => name in header)) throw new Error("key-bearing header");
        const entry = typeof header.kid === "string" ? keys.verification.get(header.kid) : undefined;
        if (entry === undefined || entry.alg !== header.alg) throw new Error("unknown kid");
        return entry.key;
      },
      { typ: OAUTH_ACCESS_TOKEN_TYPE, requiredClaims: ["iss", "sub", "exp", "iat", "jti", "client_id"] },
    ));
  } catch {
    // jose's messages can quote the token: never passed on or logged.
    return null;
  }
  if (typeof payload.iss !== "string" || typeof payload.sub !== "string" || typeof payload.client_id !== "string") return null;
  const audience = typeof payload.aud === "string" ? [payload.aud] : Array.isArray(payload.aud) ? payload.aud : [];
  // Shared by every later use of the token in this isolate: frozen, so no caller can change what the next one reads.
  return deepFreeze({
    issuer: payload.iss,
    subject: payload.sub,
    clientId: payload.client_id,
    grantId: typeof payload.sid === "string" ? payload.sid : null,
    scopes: typeof payload.scope === "string" && payload.scope !== "" ? payload.scope.split(" ") : [],
    audience,
    issuedAt: payload.iat ?? 0,
    expiresAt: payload.exp ?? 0,
    authTime: typeof payload.auth_time === "number" ? payload.auth_time : null,
    aal: payload.acr === "aal2" ? 2 : 1,
    amr: Array.isArray(payload.amr) ? payload.amr.filter((method): method is string => typeof method === "string") : [],
  });
}

function deepFreeze(claims: OAuthAccessClaims): OAuthAccessClaims {
  Object.freeze(claims.scopes);
  Object.freeze(claims.audience);
  Object.freeze(claims.amr);
  return Object.freeze(claims);
}
