// RFC 8628 §6.1 user codes: 8 characters from an alphabet of 20 consonants (no vowels, so
// no words; no 0/O, 1/I/L confusion), about 34.6 bits, shown as XXXX-XXXX. What a user
// types is normalized before it is looked up: upper case, without dashes or spaces.
const ALPHABET = "BCDFGHJKMNPQRSTVWXZ2"; // 20 symbols; bytes are mapped without bias (256 % 20 rejected)
const LENGTH = 8;

export function newUserCode(): string {
  let code = "";
  while (code.length < LENGTH) {
    for (const byte of crypto.getRandomValues(new Uint8Array(16))) {
      if (byte >= 240) continue; // 240 = 12 * 20: no modulo bias
      code += ALPHABET[byte % 20];
      if (code.length === LENGTH) break;
    }
  }
  return code;
}

/** The code as shown to the user. */
export function displayUserCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** A typed code in its stored form, or null when it cannot be one. */
export function normalizeUserCode(typed: string): string | null {
  const code = typed.toUpperCase().replace(/[\s-]/g, "");
  if (code.length !== LENGTH) return null;
  for (const char of code) if (!ALPHABET.includes(char)) return null;
  return code;
}
