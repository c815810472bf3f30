// The second-factor building blocks, on their own: RFC 6238 test vectors, base32, the
// secret box (key rotation, context binding) and the MFA settings.
import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/config/config";
import { SettingError } from "../src/config/parse";
import { fromBase32, toBase32 } from "../src/lib/base32";
import { utf8 } from "../src/lib/encoding";
import { open, seal } from "../src/lib/secret-box";
import { matchTotpStep, otpauthUri, totpCode } from "../src/lib/totp";

describe("TOTP (RFC 6238, SHA-1)", () => {
  it("matches the RFC's test vectors (last 6 digits)", async () => {
    const secret = utf8("12345678901234567890");
    // RFC 6238 appendix B: T = 59, 1111111109, 1234567890, 2000000000 seconds.
    for (const [seconds, code] of [
      [59, "287082"],
      [1111111109, "081804"],
      [1234567890, "005924"],
      [2000000000, "279037"],
    ] as const) {
      expect(await totpCode(secret, Math.floor(seconds / 30))).toBe(code);
    }
  });

  it("matches within one step either way, and nothing else", async () => {
    const secret = utf8("12345678901234567890");
    const now = 1111111109_000;
    const step = Math.floor(now / 30_000);
    for (const offset of [-1, 0, 1]) expect(await matchTotpStep(secret, await totpCode(secret, step + offset), now)).toBe(step + offset);
    for (const offset of [-2, 2]) expect(await matchTotpStep(secret, await totpCode(secret, step + offset), now)).toBeNull();
    expect(await matchTotpStep(secret, "12345", now)).toBeNull();
    expect(await matchTotpStep(secret, "abcdef", now)).toBeNull();
  });

  it("builds the Key URI Format authenticator apps read", () => {
    const uri = otpauthUri({ issuer: "Edge Auth", account: "ada@example.com", secret: "JBSWY3DPEHPK3PXP" });
    expect(uri).toBe(
      "otpauth://totp/Edge%20Auth:ada%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Edge+Auth&algorithm=SHA1&digits=6&period=30",
    );
  });
});

describe("base32", () => {
  it("round-trips and refuses what is not base32", () => {
    const bytes = crypto.getRandomValues(new Uint8Array(20));
    expect(fromBase32(toBase32(bytes))).toEqual(bytes);
    expect(toBase32(utf8("foobar"))).toBe("MZXW6YTBOI");
    expect(fromBase32("mzxw 6ytb oi==")).toEqual(utf8("foobar"));
    expect(fromBase32("MZXW1")).toBeNull();
  });
});

describe("the secret box", () => {
  const old = { id: "k1", secret: "an-old-key-with-at-least-32-characters!" };
  const fresh = { id: "k2", secret: "a-new-key-with-at-least-32-characters!!" };

  it("opens what the first key sealed, with the same context only", async () => {
    const box = await seal([fresh, old], utf8("secret"), "totp:u:f");
    expect(box.startsWith("v1.k2.")).toBe(true);
    expect(await open([fresh, old], box, "totp:u:f")).toEqual(utf8("secret"));
    expect(await open([fresh, old], box, "totp:other:f")).toBeNull();
    expect(await open([old], box, "totp:u:f")).toBeNull();
    const parts = box.split(".");
    const tampered = [...parts.slice(0, 3), (parts[3]![0] === "A" ? "B" : "A") + parts[3]!.slice(1)].join(".");
    expect(await open([fresh], tampered, "totp:u:f")).toBeNull();
    expect(await open([fresh], "garbage", "totp:u:f")).toBeNull();
  });

  it("keeps opening boxes of an older key while it stays listed (rotation)", async () => {
    const box = await seal([old], utf8("secret"), "ctx");
    expect(await open([fresh, old], box, "ctx")).toEqual(utf8("secret"));
  });
});

describe("MFA settings", () => {
  it("derives the defaults and refuses bad values by name", () => {
    const config = parseConfig({ ENVIRONMENT: "test" });
    expect(config.mfa.reauthMaxAgeMs).toBe(10 * 60_000);
    expect(config.mfa.encryptionKeys).toEqual([{ id: "sk", secret: config.secretKey }]);
    expect(config.mfa.webauthn).toEqual({ rpId: null, rpName: "Edge Auth", origins: null });
    const keys = parseConfig({
      ENVIRONMENT: "test",
      MFA_ENCRYPTION_KEYS: "b:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb, a:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    });
    expect(keys.mfa.encryptionKeys.map((key) => key.id)).toEqual(["b", "a"]);
    for (const [name, value] of [
      ["MFA_ENCRYPTION_KEYS", "short:abc"],
      ["MFA_ENCRYPTION_KEYS", "no-colon"],
      ["WEBAUTHN_RP_ID", "https://example.com"],
      ["WEBAUTHN_ORIGINS", "not an origin"],
      ["REAUTH_MAX_AGE_MINUTES", "0"],
    ] as const) {
      expect(() => parseConfig({ ENVIRONMENT: "test", [name]: value }), name).toThrow(SettingError);
    }
  });
});
