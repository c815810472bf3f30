// The OAuth 2.1 authorization server's settings (contract: "OAuth 2.1 authorization
// server and OpenID Provider"). Off by default; when on, it needs an asymmetric key to
// sign access tokens with (ES256 or EdDSA), from OAUTH_SERVER_SIGNING_KEYS or else
// JWT_SIGNING_KEYS: a resource server elsewhere must verify them with public keys only.
import { type RawSettings, SettingError, readBool, readInt, readRaw, readUrl } from "./parse";
import type { SigningJwk } from "./signing-keys";

/** A private JWK the provider signs with: EC P-256 (ES256), OKP Ed25519 (EdDSA) or RSA (RS256, ID tokens). */
export interface ProviderJwk {
  kty: "EC" | "OKP" | "RSA";
  kid: string;
  alg: "ES256" | "EdDSA" | "RS256";
  /** The private JWK as given (its public part is published in the JWKS). */
  jwk: JsonWebKey;
}

export interface OAuthServerSettings {
  enabled: boolean;
  /** OAUTH_ISSUER; null: the service's origin. */
  issuer: string | null;
  dcr: boolean;
  cimd: boolean;
  /** Scopes besides openid, profile, email and offline_access. */
  extraScopes: string[];
  /** Resource URIs tokens may be issued for besides the service's own API. */
  resources: string[];
  accessTtlSeconds: number;
  refreshTtlMs: number;
  /** The first ES256/EdDSA key signs access tokens; an RSA key, if any, signs ID tokens. */
  keys: ProviderJwk[];
}

export const BASE_SCOPES = ["openid", "profile", "email", "offline_access"] as const;
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,64}$/; // RFC 6749 §3.3 scope-token
const KID = /^[A-Za-z0-9._-]{1,64}$/;

export function readOAuthServerSettings(
  raw: RawSettings,
  jwtKeys: SigningJwk[],
  environment: string,
  development: boolean,
): OAuthServerSettings {
  const enabled = readBool(raw, "OAUTH_SERVER_ENABLED", false);
  const issuer = readUrl(raw, "OAUTH_ISSUER") ?? null;
  if (issuer !== null && (issuer.includes("?") || issuer.includes("#"))) {
    throw new SettingError("OAUTH_ISSUER", "must have no query or fragment (RFC 8414 §2)");
  }
  // One issuer, fixed: tokens checked over RPC (no request origin there) are held to it,
  // and a second host name (workers.dev, a preview) must not become a second issuer.
  if (enabled && issuer === null && readUrl(raw, "OAUTH_REDIRECT_BASE_URL") === undefined && !development) {
    throw new SettingError("OAUTH_ISSUER", `must be set in ${environment} when OAUTH_SERVER_ENABLED is true (or OAUTH_REDIRECT_BASE_URL)`);
  }
  const keys = readProviderKeys(raw, jwtKeys);
  if (enabled && !keys.some((key) => key.alg !== "RS256")) {
    throw new SettingError(
      "OAUTH_SERVER_SIGNING_KEYS",
      "is required when OAUTH_SERVER_ENABLED is true and JWT_SIGNING_KEYS holds no ES256 or EdDSA key: access tokens for other apps are signed with a public-key algorithm",
    );
  }
  return {
    enabled,
    issuer: issuer?.replace(/\/$/, "") ?? null,
    dcr: readBool(raw, "OAUTH_SERVER_DCR", true),
    cimd: readBool(raw, "OAUTH_SERVER_CIMD", true),
    extraScopes: readList(raw, "OAUTH_SERVER_SCOPES", (scope) => SCOPE_TOKEN.test(scope), "scope tokens (RFC 6749 §3.3)"),
    resources: readList(raw, "OAUTH_SERVER_RESOURCES", isResourceUri, "absolute URIs without a fragment (RFC 8707 §2)").map((uri) =>
      normalizeResource(uri),
    ),
    accessTtlSeconds: readInt(raw, "OAUTH_SERVER_ACCESS_TOKEN_MINUTES", 60, { min: 1, max: 1440 }) * 60,
    refreshTtlMs: readInt(raw, "OAUTH_SERVER_REFRESH_TOKEN_DAYS", 30, { min: 1, max: 400 }) * 86_400_000,
    keys,
  };
}

/** Resources this isolate normalized (a token's audience and a client's resources come back on every request). */
const normalizedResources = new Map<string, string>();

/** A resource indicator as compared: the URL's serialization (host lower-cased, default port dropped). */
export function normalizeResource(uri: string): string {
  let normalized = normalizedResources.get(uri);
  if (normalized === undefined) {
    normalized = new URL(uri).href;
    if (uri.length > 2_000) return normalized;
    if (normalizedResources.size >= 1_000) normalizedResources.delete(normalizedResources.keys().next().value as string);
    normalizedResources.set(uri, normalized);
  }
  return normalized;
}

function isResourceUri(text: string): boolean {
  if (!URL.canParse(text) || text.includes("#")) return false;
  const url = new URL(text);
  return url.protocol === "https:" || url.protocol === "http:";
}

function readList(raw: RawSettings, name: string, valid: (item: string) => boolean, what: string): string[] {
  const items = (readRaw(raw, name) ?? "")
    .split(/[\s,]+/)
    .map((item) => item.trim())
    .filter((item) => item !== "");
  const bad = items.find((item) => !valid(item));
  if (bad !== undefined) throw new SettingError(name, `must list ${what}; "${bad}" is not one`);
  return [...new Set(items)];
}

function readProviderKeys(raw: RawSettings, jwtKeys: SigningJwk[]): ProviderJwk[] {
  const name = "OAUTH_SERVER_SIGNING_KEYS";
  const text = readRaw(raw, name);
  if (text === undefined) {
    return jwtKeys.map((key) => ({
      kty: key.kty === "EC" ? "EC" : "OKP",
      kid: key.kid,
      alg: key.kty === "EC" ? "ES256" : "EdDSA",
      jwk: { ...key },
    }));
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new SettingError(name, 'must be a JSON Web Key Set of private keys: {"keys": [...]}');
  }
  const list = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list) || list.length === 0) throw new SettingError(name, "must list at least one key");
  const kids = new Set<string>();
  return list.map((entry: unknown, index) => {
    const jwk = (typeof entry === "object" && entry !== null ? entry : {}) as Record<string, unknown>;
    const kid = jwk.kid;
    if (typeof kid !== "string" || !KID.test(kid))
      throw new SettingError(name, `key ${index + 1} needs a "kid" of 1 to 64 letters, digits, '.', '_' or '-'`);
    if (kids.has(kid)) throw new SettingError(name, `kid "${kid}" is listed twice`);
    kids.add(kid);
    if (typeof jwk.d !== "string") throw new SettingError(name, `key "${kid}" must be a private key (with "d")`);
    if (jwk.kty === "EC" && jwk.crv === "P-256") return { kty: "EC", kid, alg: "ES256", jwk: jwk as unknown as JsonWebKey };
    if (jwk.kty === "OKP" && jwk.crv === "Ed25519") return { kty: "OKP", kid, alg: "EdDSA", jwk: jwk as unknown as JsonWebKey };
    if (jwk.kty === "RSA" && typeof jwk.n === "string" && jwk.n.length >= 342)
      return { kty: "RSA", kid, alg: "RS256", jwk: jwk as unknown as JsonWebKey };
    throw new SettingError(name, `key "${kid}" must be EC P-256, OKP Ed25519 or RSA of at least 2048 bits`);
  });
}
