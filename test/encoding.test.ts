import { describe, expect, it } from "vitest";
import { fromBase64Url, toBase64Url } from "../src/lib/encoding";

/** The portable encoding, to compare the runtime's native one with. */
function portable(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

describe("base64url", () => {
  it("encodes as the portable encoder does, without padding, and decodes back, for every length up to 100", () => {
    expect(typeof (Uint8Array.prototype as { toBase64?: unknown }).toBase64).toBe("function");
    for (let length = 0; length <= 100; length++) {
      const bytes = crypto.getRandomValues(new Uint8Array(length));
      const encoded = toBase64Url(bytes);
      expect(encoded).toBe(portable(bytes));
      expect(encoded).not.toMatch(/[+/=]/);
      expect(fromBase64Url(encoded)).toEqual(bytes);
    }
  });
});
