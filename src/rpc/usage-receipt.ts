// A receipt for one API-key use that AuthService.authenticate let through: what the
// consumer (edge-auth/hono) hands back with the status it finally answered, so the key's
// usage counts that status instead of the 200 recorded when the key was checked. Signed
// with SECRET_KEY: a Worker holding the binding can amend only a use it was told about,
// never another key's. Not secret (it grants nothing but that correction), so it is
// signed, not sealed.
import type { UsedAt } from "../api-keys/authority/api-key-authority";
import { constantTimeEqual, hmacSha256 } from "../lib/crypto";
import { fromBase64Url, toBase64Url, utf8 } from "../lib/encoding";

/** Separates these MACs from every other use of SECRET_KEY. */
const PURPOSE = "edge-auth usage receipt v1:";
/** Long enough for any handler to answer; a receipt older than this changes nothing. */
const VALID_MS = 60 * 60_000;

export interface UseReceipt {
  keyId: string;
  use: UsedAt;
}

export async function signUseReceipt(secretKey: string, receipt: UseReceipt): Promise<string> {
  const { keyId, use } = receipt;
  const payload = toBase64Url(utf8(JSON.stringify({ k: keyId, at: use.at, e: use.endpoint, m: use.method })));
  return `${payload}.${toBase64Url(await hmacSha256(secretKey, PURPOSE + payload))}`;
}

/** The use a receipt names; null when it is not one this service signed, or too old. */
export async function openUseReceipt(secretKey: string, receipt: unknown, now: number = Date.now()): Promise<UseReceipt | null> {
  if (typeof receipt !== "string" || receipt.length > 1024) return null;
  const [payload = "", mac = "", extra] = receipt.split(".");
  const presented = fromBase64Url(mac);
  if (extra !== undefined || presented === null) return null;
  if (!constantTimeEqual(presented, await hmacSha256(secretKey, PURPOSE + payload))) return null;
  const bytes = fromBase64Url(payload);
  if (bytes === null) return null;
  const fields = JSON.parse(new TextDecoder().decode(bytes)) as { k: string; at: number; e: string; m: string };
  if (now - fields.at > VALID_MS) return null;
  return { keyId: fields.k, use: { at: fields.at, endpoint: fields.e, method: fields.m } };
}
