// Breached passwords (PWNED_PASSWORDS=true): a new password whose SHA-1 is in the Pwned
// Passwords range API is refused (422 password_breached). Only the hash's first 5 hex
// digits leave the Worker (k-anonymity), with `Add-Padding: true` so the answer's size
// tells an observer nothing; padding lines (count 0) never match. A range's answer is
// kept in KV for a day. When the range API cannot be reached, the built-in list of common
// passwords decides instead, and a warning is logged (never the password, its hash or prefix).
import type { PwnedSettings } from "../config/abuse-settings";
import { ApiError } from "../http/errors";
import { logWarning } from "../lib/log";
import { isCommonPassword } from "./policy";

const RANGE_TTL_SECONDS = 24 * 60 * 60;
const FETCH_TIMEOUT_MS = 5_000;
/** A padded range answer is about 30 KiB; anything far larger is not one. */
const MAX_RANGE_BYTES = 512 * 1024;

export interface PwnedDeps {
  settings: PwnedSettings;
  kv: KVNamespace;
  waitUntil(promise: Promise<unknown>): void;
}

/** Throws 422 password_breached when PWNED_PASSWORDS is on and the password is known to be breached. */
export async function refuseBreached(deps: PwnedDeps, password: string, path = "password"): Promise<void> {
  if (!deps.settings.enabled) return;
  if (await isBreached(deps, password)) {
    throw new ApiError("password_breached", "This password appears in a data breach; choose another", {
      errors: [{ path, message: "This password appears in a data breach" }],
    });
  }
}

async function isBreached(deps: PwnedDeps, password: string): Promise<boolean> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", new TextEncoder().encode(password)));
  const hex = Array.from(digest, (byte) => byte.toString(16).padStart(2, "0"))
    .join("")
    .toUpperCase();
  const prefix = hex.slice(0, 5);
  const suffix = hex.slice(5);
  const range = await cachedRange(deps, prefix);
  if (range === null) return isCommonPassword(password);
  for (const line of range.split("\n")) {
    const [candidate, count] = line.trim().split(":");
    if (candidate === suffix && Number(count) > 0) return true;
  }
  return false;
}

/** The range's lines, from KV or the API; null when the API cannot answer. */
async function cachedRange(deps: PwnedDeps, prefix: string): Promise<string | null> {
  const key = `pwned:${prefix}`;
  const cached = await deps.kv.get(key).catch(() => null);
  if (cached !== null) return cached;
  try {
    const response = await fetch(`${deps.settings.url}/${prefix}`, {
      headers: { "Add-Padding": "true" },
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
    if (!response.ok) throw new Error(`range API answered ${response.status}`);
    const text = await response.text();
    if (text.length > MAX_RANGE_BYTES) throw new Error("range answer too large");
    deps.waitUntil(deps.kv.put(key, text, { expirationTtl: RANGE_TTL_SECONDS }).catch(() => undefined));
    return text;
  } catch (error) {
    logWarning("pwned_passwords_unavailable", error, { fallback: "common_passwords" });
    return null;
  }
}
