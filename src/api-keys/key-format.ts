// API keys look like `<API_KEY_PREFIX>_<8-char key id>_<secret>`: the prefix tells a
// human (and secret scanners) what it is, the key id finds the key without a search,
// and only SHA-256 of the 256-bit secret is stored.
import { randomToken, sha256 } from "../lib/crypto";

const ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
const ID_LENGTH = 8;
const SECRET_BYTES = 32;
const KEY_PATTERN = /^([a-z0-9]{1,16})_([a-z0-9]{8})_([A-Za-z0-9_-]{43})$/;

export interface NewApiKey {
  id: string;
  key: string;
  secretHash: string;
  /** `<prefix>_<id>`: what lists show. */
  displayPrefix: string;
}

export function newKeyId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(ID_LENGTH));
  // The slight modulo bias (256 is not a multiple of 36) does not matter for an id.
  return Array.from(bytes, (byte) => ID_ALPHABET[byte % ID_ALPHABET.length]).join("");
}

export async function createApiKey(prefix: string, id: string = newKeyId()): Promise<NewApiKey> {
  const secret = randomToken(SECRET_BYTES);
  return { id, key: `${prefix}_${id}_${secret}`, secretHash: await sha256(secret), displayPrefix: `${prefix}_${id}` };
}

export interface ParsedApiKey {
  id: string;
  secret: string;
}

/** Null when the text cannot be a key with this prefix (no storage is touched). */
export function parseApiKey(prefix: string, key: string): ParsedApiKey | null {
  const match = KEY_PATTERN.exec(key);
  if (match === null || match[1] !== prefix || match[2] === undefined || match[3] === undefined) return null;
  return { id: match[2], secret: match[3] };
}

export function looksLikeApiKey(prefix: string, text: string): boolean {
  return text.startsWith(`${prefix}_`);
}
