// WebAuthn challenges. A challenge is 16 random bytes, its expiry (5 minutes) and an
// HMAC over both, its purpose and the user it is for: the Worker can tell it issued a
// challenge without storing it, and the user's authority takes each one at most once
// (it stores the hash of every answered challenge until it would have expired). So a
// challenge is single use, expires, and cannot be moved to another user or ceremony.
import { fromBase64Url, toBase64Url, utf8 } from "../lib/encoding";
import { constantTimeEqual, randomBytes, sha256 } from "../lib/crypto";
import type { Challenge } from "../user-authority/types";

export const CHALLENGE_TTL_MS = 5 * 60_000;
export type ChallengePurpose = "register" | "mfa" | "reauth" | "login";

const RANDOM = 16;
const EXPIRY = 8;
const MAC = 16;

async function mac(secret: string, purpose: ChallengePurpose, userId: string, body: Uint8Array): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", utf8(`webauthn-challenge:${secret}`), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const message = new Uint8Array([...utf8(`${purpose}\u0000${userId}\u0000`), ...body]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, message)).slice(0, MAC);
}

/** A new challenge for `purpose` and `userId` ("" when the user is not known yet: passwordless sign-in). */
export async function issueChallenge(secret: string, purpose: ChallengePurpose, userId: string): Promise<Uint8Array> {
  const body = new Uint8Array(RANDOM + EXPIRY);
  body.set(randomBytes(RANDOM));
  new DataView(body.buffer).setBigUint64(RANDOM, BigInt(Date.now() + CHALLENGE_TTL_MS));
  return new Uint8Array([...body, ...(await mac(secret, purpose, userId, body))]);
}

/** The challenge a client answered (base64url, from its clientDataJSON), if this service issued it for this purpose and user and it has not expired. */
export async function checkChallenge(
  secret: string,
  purpose: ChallengePurpose,
  userId: string,
  encoded: string,
): Promise<Challenge | null> {
  const bytes = fromBase64Url(encoded);
  if (bytes === null || bytes.length !== RANDOM + EXPIRY + MAC) return null;
  const body = bytes.slice(0, RANDOM + EXPIRY);
  if (!constantTimeEqual(bytes.slice(RANDOM + EXPIRY), await mac(secret, purpose, userId, body))) return null;
  const expiresAt = Number(new DataView(body.buffer).getBigUint64(RANDOM));
  if (expiresAt <= Date.now()) return null;
  return { hash: await sha256(toBase64Url(bytes)), expiresAt };
}

/** The challenge inside a response's clientDataJSON (null when it cannot be read). */
export function challengeOf(clientDataJSON: unknown): string | null {
  if (typeof clientDataJSON !== "string") return null;
  const bytes = fromBase64Url(clientDataJSON);
  if (bytes === null) return null;
  try {
    const data: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof data !== "object" || data === null || !Object.hasOwn(data, "challenge")) return null;
    const challenge = (data as { challenge: unknown }).challenge;
    return typeof challenge === "string" ? challenge : null;
  } catch {
    return null;
  }
}
