// Email addresses as the contract (v1.2) takes them: trimmed, in Unicode NFC, the domain
// lower-cased (IDNA A-labels kept as given). Invisible and control characters are
// refused, so no two spellings that look alike can hold two accounts, and no mail ever
// goes to a lookalike spelling ("\u212Aate@" with a Kelvin sign is NFC "Kate@").

/** RFC 5321: a local part of at most 64 octets, a path of 256 (an address of 254). */
const MAX_LOCAL_OCTETS = 64;
const MAX_ADDRESS_OCTETS = 254;

/**
 * Control characters (NUL included), format characters (zero-width U+200B-U+200F, bidi
 * overrides and isolates U+202A-U+202E and U+2066-U+2069, U+2060, U+FEFF, soft hyphen),
 * line and paragraph separators, and lone surrogates: none is visible in an address.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;

const SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/u;

/** Edge whitespace, but not U+FEFF (JS trim() drops it; here it is refused instead). */
const EDGE_SPACE = /^[^\S\uFEFF]+|[^\S\uFEFF]+$/gu;

const UTF8 = new TextEncoder();

export type EmailCheck = { ok: true; email: string } | { ok: false; message: string };

/** The address as stored and mailed, or why it is refused. */
export function checkEmail(input: string): EmailCheck {
  const trimmed = input.replace(EDGE_SPACE, "");
  if (INVISIBLE.test(trimmed)) return { ok: false, message: "Email must not contain control or invisible characters" };
  const email = canonicalEmail(trimmed);
  if (!SHAPE.test(email)) return { ok: false, message: "Enter a valid email address" };
  if (octets(email.slice(0, email.lastIndexOf("@"))) > MAX_LOCAL_OCTETS) {
    return { ok: false, message: `The part before @ must be at most ${MAX_LOCAL_OCTETS} bytes` };
  }
  if (octets(email) > MAX_ADDRESS_OCTETS) return { ok: false, message: `Email must be at most ${MAX_ADDRESS_OCTETS} bytes` };
  return { ok: true, email };
}

/** Whether text holds a character no address may hold (login identifiers are checked with it). */
export function hasInvisibleCharacters(text: string): boolean {
  return INVISIBLE.test(text);
}

/** Trimmed, NFC, the domain lower-cased; the local part keeps its case (what is stored and mailed). */
export function canonicalEmail(email: string): string {
  const nfc = email.replace(EDGE_SPACE, "").normalize("NFC");
  const at = nfc.lastIndexOf("@");
  if (at < 0) return nfc;
  return (
    nfc.slice(0, at + 1) +
    nfc
      .slice(at + 1)
      .toLowerCase()
      .normalize("NFC")
  );
}

/**
 * The unique key of an address (users.email_normalized): the canonical form, lower-cased
 * and NFC again (lower-casing can undo NFC), so case variants and NFC/NFD spellings are
 * one account. For ASCII addresses it is what the key always was: trimmed, lower-cased.
 */
export function emailKey(email: string): string {
  return canonicalEmail(email).toLowerCase().normalize("NFC");
}

function octets(text: string): number {
  return UTF8.encode(text).byteLength;
}
