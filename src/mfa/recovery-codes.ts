// Recovery codes: 10 per set, each single use. Each code is 120 random bits written as
// 24 base32 characters in four groups (`abcdef-ghijkl-mnopqr-stuvwx`). At 112 bits or
// more, ASVS 6.5.2 allows an approved one-way hash instead of a password hash, so the
// authority keeps SHA-256 of each code: a stolen store reveals nothing, and checking a
// code costs one digest rather than ten slow password hashes.
import { toBase32 } from "../lib/base32";
import { randomBytes, sha256 } from "../lib/crypto";

export const RECOVERY_CODE_COUNT = 10;
const CODE_BYTES = 15; // 120 bits

export async function newRecoveryCodes(): Promise<{ codes: string[]; hashes: string[] }> {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () =>
    toBase32(randomBytes(CODE_BYTES)).toLowerCase().match(/.{6}/g)!.join("-"),
  );
  return { codes, hashes: await Promise.all(codes.map(hashRecoveryCode)) };
}

/** Case, spaces and dashes do not matter: people copy codes by hand. */
export function hashRecoveryCode(code: string): Promise<string> {
  return sha256(`recovery:${code.replace(/[\s-]/g, "").toLowerCase()}`);
}
