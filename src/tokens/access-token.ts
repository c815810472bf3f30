// Access tokens: short-lived JWTs. Verification (jose) accepts exactly the configured
// algorithm and checks typ, iss, aud, exp (and nbf when present). The key comes only from
// our own key set by kid: jwk, jku, x5u and x5c headers never choose one.
// Signing is a compact JWS made here with WebCrypto: the header and claims are this
// module's own (nothing to validate), and jose's SignJWT cost about 45 µs of CPU per
// token in the benchmark, 7% of a refresh (README, "Performance"). For HS256 the token
// is byte for byte the one SignJWT makes (tested).
import { jwtVerify } from "jose";
import type { Config } from "../config/config";
import { randomToken } from "../lib/crypto";
import { toBase64Url, utf8 } from "../lib/encoding";
import type { Assurance, AuthMethod } from "../user-authority/session-policy";
import { type KeySet, keySet } from "./keys";

export const ACCESS_TOKEN_TYPE = "at+jwt";

export interface AccessClaims {
  userId: string;
  /** The token family (a session of kind "token"). */
  familyId: string;
  /** Seconds since the epoch. */
  issuedAt: number;
  expiresAt: number;
  aal: 1 | 2;
  amr: AuthMethod[];
  /** Seconds: when the family signed in. */
  authTime: number;
  /** The organization the family acts in, as it stood when the token was signed (claims org_id, org_role, org_permissions). */
  org?: OrgClaims;
}

export interface OrgClaims {
  id: string;
  role: string;
  permissions: string[];
}

/** Who the token is for, and when and how its family signed in. `issuedAt` and `jti` fixed make the token reproducible (a refresh replay). */
export interface AccessSubject {
  userId: string;
  familyId: string;
  assurance: Pick<Assurance, "aal" | "amr" | "authTime">;
  issuedAt?: number;
  jti?: string;
  org?: OrgClaims | null;
}

export interface SignedAccessToken {
  token: string;
  expiresIn: number;
}

/** WebCrypto's signature for each JWS algorithm; ECDSA and Ed25519 already give JWS's raw form (r || s, 64 bytes). */
const SIGNATURE: Record<Config["tokens"]["algorithm"], SubtleCryptoSignAlgorithm> = {
  HS256: { name: "HMAC" },
  ES256: { name: "ECDSA", hash: "SHA-256" },
  EdDSA: { name: "Ed25519" },
};

/** The encoded protected header of a key set's tokens: the same for every token it signs. */
const encodedHeaders = new WeakMap<KeySet, string>();

function encodedHeader(keys: KeySet): string {
  let header = encodedHeaders.get(keys);
  if (header === undefined) {
    header = toBase64Url(utf8(JSON.stringify({ alg: keys.algorithm, typ: ACCESS_TOKEN_TYPE, kid: keys.signingKid })));
    encodedHeaders.set(keys, header);
  }
  return header;
}

export async function signAccessToken(config: Config, subject: AccessSubject): Promise<SignedAccessToken> {
  const keys = await keySet(config);
  if (!(keys.signingKey instanceof CryptoKey)) throw new Error("the signing key is not a CryptoKey");
  const now = subject.issuedAt ?? Math.floor(Date.now() / 1000);
  const ttl = config.tokens.accessTtlSeconds;
  const { aal, amr, authTime } = subject.assurance;
  // The claims in the order SignJWT wrote them (its payload, then iss, aud, sub, iat, exp, jti).
  const claims = {
    sid: subject.familyId,
    token_type: "access",
    aal,
    amr,
    auth_time: Math.floor(authTime / 1000),
    iss: config.tokens.issuer,
    aud: config.tokens.audience,
    sub: subject.userId,
    iat: now,
    exp: now + ttl,
    jti: subject.jti ?? randomToken(16),
    ...(subject.org ? { org_id: subject.org.id, org_role: subject.org.role, org_permissions: subject.org.permissions } : {}),
  };
  const input = `${encodedHeader(keys)}.${toBase64Url(utf8(JSON.stringify(claims)))}`;
  const signature = await crypto.subtle.sign(SIGNATURE[keys.algorithm], keys.signingKey, utf8(input));
  return { token: `${input}.${toBase64Url(new Uint8Array(signature))}`, expiresIn: ttl };
}

const FORBIDDEN_HEADERS = ["jwk", "jku", "x5u", "x5c"];

/**
 * Tokens this isolate has already verified, by their exact text: a signature check is
 * a pure function of the token and the key set (fixed for the isolate's config), so
 * the answer can be reused until the token expires. Revocation is checked separately
 * on every request. Bounded; the oldest entries go first.
 */
const verified = new WeakMap<Config, Map<string, AccessClaims>>();
const MAX_REMEMBERED = 10_000;

/** The token's claims, or null when it is not a valid access token of this service. */
export async function verifyAccessToken(config: Config, token: string): Promise<AccessClaims | null> {
  if (token.length > 4096 || token.split(".").length !== 3) return null;
  let remembered = verified.get(config);
  if (remembered === undefined) {
    remembered = new Map();
    verified.set(config, remembered);
  }
  const hit = remembered.get(token);
  if (hit !== undefined) return unexpired(remembered, token, hit);
  const claims = await verifySignedToken(config, token);
  if (claims !== null) {
    if (remembered.size >= MAX_REMEMBERED) remembered.delete(remembered.keys().next().value as string);
    remembered.set(token, claims);
  }
  return claims;
}

/** The claims of a token this isolate has verified and that has not expired; null otherwise (not a refusal: verify it). */
export function rememberedClaims(config: Config, token: string): AccessClaims | null {
  const remembered = verified.get(config);
  const hit = remembered?.get(token);
  return remembered === undefined || hit === undefined ? null : unexpired(remembered, token, hit);
}

function unexpired(remembered: Map<string, AccessClaims>, token: string, claims: AccessClaims): AccessClaims | null {
  if (Date.now() / 1000 < claims.expiresAt) return claims;
  remembered.delete(token);
  return null;
}

async function verifySignedToken(config: Config, token: string): Promise<AccessClaims | null> {
  const keys = await keySet(config);
  try {
    const { payload } = await jwtVerify(
      token,
      (header) => {
        if (FORBIDDEN_HEADERS.some((name) => name in header)) throw new Error("key-bearing header");
        const key = typeof header.kid === "string" ? keys.verificationKeys.get(header.kid) : undefined;
        if (key === undefined) throw new Error("unknown kid");
        return key;
      },
      {
        algorithms: [config.tokens.algorithm],
        issuer: config.tokens.issuer,
        audience: config.tokens.audience,
        typ: ACCESS_TOKEN_TYPE,
        requiredClaims: ["sub", "exp", "iat", "jti", "sid"],
      },
    );
    if (payload.token_type !== "access" || typeof payload.sid !== "string" || typeof payload.sub !== "string") {
      return null;
    }
    const issuedAt = payload.iat ?? 0;
    return {
      userId: payload.sub,
      familyId: payload.sid,
      issuedAt,
      expiresAt: payload.exp ?? 0,
      // Tokens signed before assurance levels existed were one-factor sign-ins.
      aal: payload.aal === 2 ? 2 : 1,
      amr: Array.isArray(payload.amr) ? (payload.amr.filter((m) => typeof m === "string") as AuthMethod[]) : ["pwd"],
      authTime: typeof payload.auth_time === "number" ? payload.auth_time : issuedAt,
      ...orgClaims(payload),
    };
  } catch {
    // jose's messages can quote the token; never pass them on or log them.
    return null;
  }
}

function orgClaims(payload: Record<string, unknown>): { org?: OrgClaims } {
  const { org_id: id, org_role: role, org_permissions: permissions } = payload;
  if (typeof id !== "string" || typeof role !== "string" || !Array.isArray(permissions)) return {};
  return { org: { id, role, permissions: permissions.filter((item): item is string => typeof item === "string") } };
}
