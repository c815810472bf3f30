// JWT_SIGNING_KEYS: a JSON Web Key Set of *private* keys for ES256 or EdDSA. The first
// key signs; every listed key verifies, so keys rotate by prepending a new one and
// removing the old one once its tokens have expired.
import { type RawSettings, SettingError, readRaw } from "./parse";

export interface SigningJwk {
  kty: string;
  crv: string;
  kid: string;
  x: string;
  y?: string;
  d: string;
}

const CURVES = { ES256: { kty: "EC", crv: "P-256" }, EdDSA: { kty: "OKP", crv: "Ed25519" } } as const;
const KID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

export function readSigningKeys(raw: RawSettings, algorithm: "HS256" | "ES256" | "EdDSA"): SigningJwk[] {
  const name = "JWT_SIGNING_KEYS";
  const text = readRaw(raw, name);
  if (algorithm === "HS256") return [];
  if (text === undefined) throw new SettingError(name, `is required when ALGORITHM is ${algorithm}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new SettingError(name, 'must be a JSON Web Key Set: {"keys": [...]}');
  }
  const keys = Array.isArray(parsed) ? parsed : (parsed as { keys?: unknown })?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new SettingError(name, "must list at least one key");
  const expected = CURVES[algorithm];
  const kids = new Set<string>();
  return keys.map((key: unknown, index): SigningJwk => {
    const jwk = key as Partial<SigningJwk>;
    const where = `key ${index + 1}`;
    if (typeof jwk !== "object" || jwk === null) throw new SettingError(name, `${where} is not a JWK object`);
    if (typeof jwk.kid !== "string" || !KID_PATTERN.test(jwk.kid)) {
      throw new SettingError(name, `${where} needs a "kid" of 1 to 64 letters, digits, '.', '_' or '-'`);
    }
    if (kids.has(jwk.kid)) throw new SettingError(name, `kid "${jwk.kid}" is listed twice`);
    kids.add(jwk.kid);
    if (jwk.kty !== expected.kty || jwk.crv !== expected.crv) {
      throw new SettingError(name, `key "${jwk.kid}" must be kty ${expected.kty}, crv ${expected.crv} for ${algorithm}`);
    }
    if (typeof jwk.d !== "string" || typeof jwk.x !== "string" || (expected.kty === "EC" && typeof jwk.y !== "string")) {
      throw new SettingError(name, `key "${jwk.kid}" must be a private key (with "d")`);
    }
    const clean: SigningJwk = { kty: jwk.kty, crv: jwk.crv, kid: jwk.kid, x: jwk.x, d: jwk.d };
    if (jwk.y !== undefined) clean.y = jwk.y;
    return clean;
  });
}
