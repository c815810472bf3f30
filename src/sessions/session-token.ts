// Session tokens are `<id>.<secret>` (Lucia's scheme). Only SHA-256(secret) is stored,
// so a leaked KV or Durable Object storage cannot be replayed as cookies.
//
// The id starts with the owner's user id (32 hex digits) followed by 16 random hex
// digits. Carrying the user id lets any request find the user's Durable Object, the
// session authority, even when the KV cache has not seen the session yet.
import { randomToken, sha256 } from "../lib/crypto";
import type { MfaTicket, SignInAnswer } from "../user-authority/types";

const SECRET_BYTES = 32; // 256 bits; the contract asks for at least 128.
const ID_PATTERN = /^[0-9a-f]{48}$/;
const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface SessionToken {
  id: string;
  secret: string;
}

export interface NewSessionToken extends SessionToken {
  token: string;
  secretHash: string;
}

export async function createSessionToken(userId: string): Promise<NewSessionToken> {
  const random = crypto.getRandomValues(new Uint8Array(8));
  const id = userId.replace(/-/g, "") + Array.from(random, (byte) => byte.toString(16).padStart(2, "0")).join("");
  const secret = randomToken(SECRET_BYTES);
  return { id, secret, token: `${id}.${secret}`, secretHash: await sha256(secret) };
}

/** Splits a presented token; null when it cannot be one of ours (no storage is touched). */
export function parseSessionToken(token: string): SessionToken | null {
  const dot = token.indexOf(".");
  if (dot < 0) return null;
  const id = token.slice(0, dot);
  const secret = token.slice(dot + 1);
  if (!ID_PATTERN.test(id) || !SECRET_PATTERN.test(secret)) return null;
  return { id, secret };
}

export function isSessionId(id: string): boolean {
  return ID_PATTERN.test(id);
}

/** The owner's user id (a UUID) from a session id. */
export function userIdOfSession(sessionId: string): string {
  const hex = sessionId.slice(0, 32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/**
 * An mfa_token and its place in the user's authority: the same shape as a session token
 * (it names the user's authority), but its id is never a session's.
 */
export async function newMfaTicket(userId: string, answer: SignInAnswer): Promise<{ token: string; ticket: MfaTicket }> {
  const token = await createSessionToken(userId);
  return { token: token.token, ticket: { id: token.id, tokenHash: token.secretHash, answer } };
}
