// The provider's signing keys: the first ES256 or EdDSA key of OAUTH_SERVER_SIGNING_KEYS
// (default JWT_SIGNING_KEYS) signs access tokens; ID tokens are RS256 by default (OpenID
// Discovery requires it), from an RSA key in that set or, when there is none, one the
// service generates once and keeps sealed in D1 (oauth_server_keys). Every public key
// is published in the JWKS.
import { type JWK, importJWK } from "jose";
import type { Config } from "../config/config";
import type { ProviderJwk } from "../config/oauth-server-settings";
import { seal, open } from "../lib/secret-box";
import { utf8 } from "../lib/encoding";

export type SigningAlg = ProviderJwk["alg"];

export interface SigningKey {
  kid: string;
  alg: SigningAlg;
  key: CryptoKey;
}

export interface ProviderKeys {
  /** Signs access tokens (RFC 9068). */
  access: SigningKey;
  /** ID-token keys by algorithm (RS256 always; ES256/EdDSA when configured). */
  idToken: Map<SigningAlg, SigningKey>;
  /** Every public key, for the JWKS. */
  publicJwks: JWK[];
  /** Public keys that verify the provider's access tokens, by kid. */
  verification: Map<string, { alg: SigningAlg; key: CryptoKey }>;
}

const GENERATED_KID = "oauth-rs256-1";
const SEAL_CONTEXT = "oauth-server-key";
const cache = new WeakMap<Config, Promise<ProviderKeys>>();

/** The provider's keys, built once per isolate and config (a failed build is tried again next time). */
export function providerKeys(config: Config, db: D1Database): Promise<ProviderKeys> {
  let keys = cache.get(config);
  if (keys === undefined) {
    keys = buildKeys(config, db);
    cache.set(config, keys);
    keys.catch(() => cache.delete(config));
  }
  return keys;
}

async function buildKeys(config: Config, db: D1Database): Promise<ProviderKeys> {
  const configured = config.oauthServer.keys;
  const rsa = configured.find((key) => key.alg === "RS256") ?? (await generatedRsaKey(config, db));
  const all = configured.includes(rsa) ? configured : [...configured, rsa];
  const publicJwks: JWK[] = [];
  const verification = new Map<string, { alg: SigningAlg; key: CryptoKey }>();
  const signing = new Map<string, SigningKey>();
  for (const entry of all) {
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, oth: _oth, key_ops: _ops, ext: _ext, ...publicPart } = entry.jwk;
    const publicJwk: JWK = { ...(publicPart as JWK), kid: entry.kid, alg: entry.alg, use: "sig" };
    publicJwks.push(publicJwk);
    verification.set(entry.kid, { alg: entry.alg, key: (await importJWK(publicJwk, entry.alg)) as CryptoKey });
    signing.set(entry.kid, {
      kid: entry.kid,
      alg: entry.alg,
      key: (await importJWK({ ...entry.jwk, alg: entry.alg }, entry.alg)) as CryptoKey,
    });
  }
  const accessEntry = configured.find((key) => key.alg !== "RS256");
  if (accessEntry === undefined) throw new Error("no access-token signing key");
  const idToken = new Map<SigningAlg, SigningKey>();
  for (const entry of all) {
    const key = signing.get(entry.kid);
    if (key !== undefined && !idToken.has(entry.alg)) idToken.set(entry.alg, key);
  }
  const access = signing.get(accessEntry.kid);
  if (access === undefined) throw new Error("no access-token signing key");
  return { access, idToken, publicJwks, verification };
}

/** The RSA key the service made for ID tokens: read from D1, or generated and stored (the first stored wins). */
async function generatedRsaKey(config: Config, db: D1Database): Promise<ProviderJwk> {
  const boxKeys = config.mfa.encryptionKeys;
  const stored = await readStored(db);
  if (stored === null) {
    const pair = (await crypto.subtle.generateKey(
      { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      true,
      ["sign", "verify"],
    )) as CryptoKeyPair;
    const jwk = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
    const publicJwk = (await crypto.subtle.exportKey("jwk", pair.publicKey)) as JsonWebKey;
    const sealed = await seal(boxKeys, utf8(JSON.stringify(jwk)), SEAL_CONTEXT);
    await db
      .prepare("INSERT OR IGNORE INTO oauth_server_keys (kid, alg, sealed_jwk, public_jwk, created_at) VALUES (?, 'RS256', ?, ?, ?)")
      .bind(GENERATED_KID, sealed, JSON.stringify(publicJwk), new Date().toISOString())
      .run();
  }
  const row = stored ?? (await readStored(db));
  if (row === null) throw new Error("the generated ID-token key was not stored");
  const plain = await open(boxKeys, row.sealed_jwk, SEAL_CONTEXT);
  // Sealed under a SECRET_KEY (or MFA_ENCRYPTION_KEYS) no longer configured: a clear failure, never a silent new key.
  if (plain === null) throw new Error("the stored ID-token key cannot be opened with the configured keys");
  return { kty: "RSA", kid: GENERATED_KID, alg: "RS256", jwk: JSON.parse(new TextDecoder().decode(plain)) as JsonWebKey };
}

async function readStored(db: D1Database): Promise<{ sealed_jwk: string } | null> {
  return db.prepare("SELECT sealed_jwk FROM oauth_server_keys WHERE kid = ?").bind(GENERATED_KID).first<{ sealed_jwk: string }>();
}

/** WebCrypto's parameters for a JWS algorithm. */
export const JWS_SIGNATURE: Record<SigningAlg, SubtleCryptoSignAlgorithm> = {
  ES256: { name: "ECDSA", hash: "SHA-256" },
  EdDSA: { name: "Ed25519" },
  RS256: { name: "RSASSA-PKCS1-v1_5" },
};
