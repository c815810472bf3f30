// Crafting tokens the way an attacker (or a buggy client) would, for the attack tests.
import { SignJWT, exportJWK, generateKeyPair } from "jose";
import { sha256 } from "../../src/lib/crypto";
import { utf8 } from "../../src/lib/encoding";

/** The SECRET_KEY vitest.config.ts gives the Worker. */
export const TEST_SECRET_KEY = "test-secret-key-with-at-least-32-characters!";

export async function serviceKid(): Promise<string> {
  return `hs256-${(await sha256(TEST_SECRET_KEY)).slice(0, 12)}`;
}

export interface Forged {
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
  secret?: string | Uint8Array;
}

/** An HS256 token with the service's shape unless overridden. */
export async function forgeHs256(userId: string, familyId: string, forged: Forged = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: "edge-auth",
    aud: "edge-auth",
    sub: userId,
    iat: now,
    exp: now + 600,
    jti: crypto.randomUUID(),
    sid: familyId,
    token_type: "access",
    ...forged.claims,
  };
  for (const [key, value] of Object.entries(claims)) if (value === undefined) delete (claims as Record<string, unknown>)[key];
  const header = { alg: "HS256", typ: "at+jwt", kid: await serviceKid(), ...forged.header };
  for (const [key, value] of Object.entries(header)) if (value === undefined) delete (header as Record<string, unknown>)[key];
  const secret = forged.secret ?? TEST_SECRET_KEY;
  return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(typeof secret === "string" ? utf8(secret) : secret);
}

export function base64urlJson(value: unknown): string {
  return btoa(JSON.stringify(value)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A private JWK set for ES256 or EdDSA, as JWT_SIGNING_KEYS takes it. */
export async function signingKeySet(algorithm: "ES256" | "EdDSA", kids: string[]): Promise<string> {
  const keys = [];
  for (const kid of kids) {
    const { privateKey } = await generateKeyPair(algorithm, { extractable: true, crv: algorithm === "EdDSA" ? "Ed25519" : undefined });
    keys.push({ ...(await exportJWK(privateKey)), kid });
  }
  return JSON.stringify({ keys });
}
