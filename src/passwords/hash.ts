// Password hashing: PBKDF2-HMAC-SHA256 through WebCrypto, chained in rounds.
//
// OWASP asks for 600,000 iterations of PBKDF2-HMAC-SHA256, but production Workers
// refuse a single deriveBits call above 100,000 iterations. So the work is split into
// sequential rounds: each round's output is the next round's input key, which keeps
// the total work serial (an attacker cannot run the rounds in parallel).
//
// Stored format (self-describing, so parameters can change and old hashes are
// upgraded at the next successful login):
//   $pbkdf2-sha256$r=<rounds>,i=<iterations per round>,p=<0|1 peppered>$<salt>$<hash>
import { constantTimeEqual, hmacSha256, randomBytes } from "../lib/crypto";
import { fromBase64Url, toBase64Url, utf8 } from "../lib/encoding";

/** The most iterations production Workers accept in one PBKDF2 call. */
export const MAX_ITERATIONS_PER_CALL = 100_000;

export interface HashParams {
  rounds: number;
  iterations: number;
}

/** 6 x 100,000 = 600,000 iterations in total (OWASP 2023+ for PBKDF2-HMAC-SHA256). */
export const DEFAULT_HASH_PARAMS: HashParams = { rounds: 6, iterations: 100_000 };

const SALT_BYTES = 16;
const HASH_BITS = 256;

interface ParsedHash extends HashParams {
  peppered: boolean;
  salt: Uint8Array;
  hash: Uint8Array;
}

export interface HashOptions {
  pepper?: string;
  params?: HashParams;
}

export async function hashPassword(password: string, options: HashOptions = {}): Promise<string> {
  const params = options.params ?? DEFAULT_HASH_PARAMS;
  const salt = randomBytes(SALT_BYTES);
  const pepper = options.pepper ?? "";
  const hash = await derive(password, salt, params, pepper);
  const peppered = pepper === "" ? 0 : 1;
  return `$pbkdf2-sha256$r=${params.rounds},i=${params.iterations},p=${peppered}$${toBase64Url(salt)}$${toBase64Url(hash)}`;
}

/**
 * Checks a password against a stored hash. With no stored hash (unknown user, or an
 * account without a password) it still does the full work against a random hash,
 * so the answer takes as long as for a real account.
 */
export async function verifyPassword(password: string, stored: string | null, options: HashOptions = {}): Promise<boolean> {
  const parsed = stored === null ? null : parseHash(stored);
  const target = parsed ?? decoyHash(options);
  const pepper = target.peppered ? (options.pepper ?? "") : "";
  if (target.peppered && pepper === "") return false;
  const candidate = await derive(password, target.salt, target, pepper);
  return constantTimeEqual(candidate, target.hash) && parsed !== null;
}

/** True when a hash was made with weaker parameters than the current ones, or without the pepper now set. */
export function needsRehash(stored: string, options: HashOptions = {}): boolean {
  const parsed = parseHash(stored);
  if (parsed === null) return true;
  const params = options.params ?? DEFAULT_HASH_PARAMS;
  const wantPepper = (options.pepper ?? "") !== "";
  return parsed.rounds * parsed.iterations < params.rounds * params.iterations || parsed.peppered !== wantPepper;
}

function decoyHash(options: HashOptions): ParsedHash {
  const params = options.params ?? DEFAULT_HASH_PARAMS;
  return {
    ...params,
    peppered: (options.pepper ?? "") !== "",
    salt: randomBytes(SALT_BYTES),
    hash: randomBytes(HASH_BITS / 8),
  };
}

function parseHash(stored: string): ParsedHash | null {
  const match = /^\$pbkdf2-sha256\$r=(\d{1,3}),i=(\d{1,7}),p=([01])\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/.exec(stored);
  if (match === null) return null;
  const rounds = Number(match[1]);
  const iterations = Number(match[2]);
  const salt = fromBase64Url(match[4] ?? "");
  const hash = fromBase64Url(match[5] ?? "");
  if (rounds < 1 || iterations < 1 || iterations > MAX_ITERATIONS_PER_CALL) return null;
  if (salt === null || hash === null || hash.byteLength !== HASH_BITS / 8) return null;
  return { rounds, iterations, peppered: match[3] === "1", salt, hash };
}

async function derive(password: string, salt: Uint8Array, params: HashParams, pepper: string): Promise<Uint8Array> {
  if (params.iterations > MAX_ITERATIONS_PER_CALL) {
    throw new Error(`PBKDF2 iterations per call above ${MAX_ITERATIONS_PER_CALL} are refused in production`);
  }
  // The pepper (a server secret) keys an HMAC of the password, so a leaked database
  // alone is not enough to test guesses.
  let material: Uint8Array = pepper === "" ? utf8(password) : await hmacSha256(pepper, password);
  for (let round = 0; round < params.rounds; round++) {
    const key = await crypto.subtle.importKey("raw", material, "PBKDF2", false, ["deriveBits"]);
    const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations: params.iterations }, key, HASH_BITS);
    material = new Uint8Array(bits);
  }
  return material;
}
