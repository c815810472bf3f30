// The isolate's memory of verified provider access tokens (provider-tokens.ts): a
// remembered signature check never skips the issuer, the audience or the expiry, and a
// token the key set cannot verify is never remembered.
import { describe, expect, it } from "vitest";
import type { ProviderKeys, SigningKey } from "../../src/oauth-server/keys";
import { signProviderAccessToken, verifyProviderAccessToken } from "../../src/oauth-server/provider-tokens";

const ISSUER = "https://auth.example.test";
const MCP = "https://mcp.example.test/mcp";

async function keySet(kid: string): Promise<ProviderKeys> {
  const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"])) as CryptoKeyPair;
  const access: SigningKey = { kid, alg: "ES256", key: pair.privateKey };
  return {
    access,
    idToken: new Map(),
    publicJwks: [],
    verification: new Map([[kid, { alg: "ES256", key: pair.publicKey }]]),
  };
}

function tokenFor(keys: ProviderKeys, ttlSeconds = 600): Promise<string> {
  return signProviderAccessToken(keys, {
    issuer: ISSUER,
    subject: "user-1",
    clientId: "client-1",
    grantId: "grant-1",
    scopes: ["email"],
    audience: MCP,
    assurance: null,
    ttlSeconds,
  });
}

describe("the memory of verified provider tokens", () => {
  it("checks the issuer and the audience on every use, the first and the remembered ones alike", async () => {
    const keys = await keySet("k1");
    const token = await tokenFor(keys);
    // Remembered by a check that names no audience (introspection, revocation).
    expect((await verifyProviderAccessToken(keys, token, { issuer: ISSUER, audience: null }))?.subject).toBe("user-1");
    for (let use = 0; use < 2; use++) {
      expect(await verifyProviderAccessToken(keys, token, { issuer: ISSUER, audience: ["https://other.example.test/"] })).toBeNull();
      expect(await verifyProviderAccessToken(keys, token, { issuer: "https://evil.example.test", audience: [MCP] })).toBeNull();
      expect((await verifyProviderAccessToken(keys, token, { issuer: ISSUER, audience: [MCP] }))?.clientId).toBe("client-1");
    }
  });

  it("forgets a token once it expires", async () => {
    const keys = await keySet("k2");
    const token = await tokenFor(keys, 1);
    expect(await verifyProviderAccessToken(keys, token, { issuer: ISSUER, audience: [MCP] })).not.toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await verifyProviderAccessToken(keys, token, { issuer: ISSUER, audience: [MCP] })).toBeNull();
  });

  it("remembers per key set: a token of a key no longer in the set is refused, even after it was accepted", async () => {
    const keys = await keySet("k3");
    const token = await tokenFor(keys);
    expect(await verifyProviderAccessToken(keys, token, { issuer: ISSUER, audience: [MCP] })).not.toBeNull();
    // The next key set (a rotation that dropped k3) has its own memory, and no k3.
    const rotated = await keySet("k4");
    expect(await verifyProviderAccessToken(rotated, token, { issuer: ISSUER, audience: [MCP] })).toBeNull();
    // A token signed by another key under the same kid is refused, and not remembered over the real one.
    const impostor = await tokenFor({ ...(await keySet("k3")), verification: keys.verification });
    expect(await verifyProviderAccessToken(keys, impostor, { issuer: ISSUER, audience: [MCP] })).toBeNull();
    expect(await verifyProviderAccessToken(keys, token, { issuer: ISSUER, audience: [MCP] })).not.toBeNull();
  });
});
