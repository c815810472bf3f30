// What a new password must satisfy (NIST SP 800-63B): 8 to 128 characters, any
// characters, no composition rules, and not a commonly used password.
import { COMMON_PASSWORDS } from "./common-passwords";

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 128;

let common: Set<string> | undefined;

/** Built on first use, then kept for the life of the isolate. */
function commonPasswords(): Set<string> {
  common ??= new Set(COMMON_PASSWORDS.split("\n"));
  return common;
}

/** Lengths count characters (code points), not UTF-16 units, so emoji count once. */
export function passwordLength(password: string): number {
  return [...password].length;
}

/** Case-insensitive, so "Password1" is caught along with "password1". */
export function isCommonPassword(password: string): boolean {
  const set = commonPasswords();
  return set.has(password) || set.has(password.toLowerCase());
}
