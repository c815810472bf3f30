// The imported signing and verification keys for access tokens, built once per config.
import { type CryptoKey, type JWK, importJWK } from "jose";
import type { Config } from "../config/config";
import { sha256 } from "../lib/crypto";
import { utf8 } from "../lib/encoding";

export interface KeySet {
  algorithm: Config["tokens"]["algorithm"];
  /** kid of the key that signs new tokens. */
  signingKid: string;
  signingKey: CryptoKey | Uint8Array;
  /** Every key that verifies, by kid. */
  verificationKeys: Map<string, CryptoKey | Uint8Array>;
  /** Public JWKs for /.well-known/jwks.json (empty with HS256: a shared secret is never published). */
  publicJwks: JWK[];
}

const cache = new WeakMap<Config, Promise<KeySet>>();

export function keySet(config: Config): Promise<KeySet> {
  let keys = cache.get(config);
  if (keys === undefined) {
    keys = buildKeySet(config);
    cache.set(config, keys);
  }
  return keys;
}

async function buildKeySet(config: Config): Promise<KeySet> {
  const { algorithm, signingKeys } = config.tokens;
  if (algorithm === "HS256") {
    // The kid names the secret without revealing it, so a rotated SECRET_KEY fails cleanly.
    const kid = `hs256-${(await sha256(config.secretKey)).slice(0, 12)}`;
    const secret = await crypto.subtle.importKey("raw", utf8(config.secretKey), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]);
    return {
      algorithm,
      signingKid: kid,
      signingKey: secret,
      verificationKeys: new Map([[kid, secret]]),
      publicJwks: [],
    };
  }
  const verificationKeys = new Map<string, CryptoKey | Uint8Array>();
  const publicJwks: JWK[] = [];
  let signingKey: CryptoKey | Uint8Array | undefined;
  for (const jwk of signingKeys) {
    const privateKey = await importJWK({ ...jwk, alg: algorithm }, algorithm, { extractable: false });
    signingKey ??= privateKey;
    const { d: _private, ...publicPart } = jwk;
    const publicJwk: JWK = { ...publicPart, alg: algorithm, use: "sig" };
    verificationKeys.set(jwk.kid, await importJWK(publicJwk, algorithm));
    publicJwks.push(publicJwk);
  }
  if (signingKey === undefined || signingKeys[0] === undefined) throw new Error("no signing key");
  return { algorithm, signingKid: signingKeys[0].kid, signingKey, verificationKeys, publicJwks };
}
