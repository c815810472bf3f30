import { env } from "cloudflare:workers";
import { SignJWT, createLocalJWKSet, decodeJwt, exportJWK, generateKeyPair, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { type Config, loadConfig } from "../src/config/config";
import { utf8 } from "../src/lib/encoding";
import { signAccessToken } from "../src/tokens/access-token";
import { keySet } from "../src/tokens/keys";
import { type Settings, TestClient } from "./helpers/client";
import { TEST_SECRET_KEY, base64urlJson, forgeHs256, serviceKid, signingKeySet } from "./helpers/jwt";
import { type TestUser, type TokenPair as Pair, registerUser, tokensFor } from "./helpers/users";

async function me(token: string, settings: Settings = {}): Promise<Response> {
  return new TestClient({ settings }).get("/api/v1/users/me", { headers: { Authorization: `Bearer ${token}` } });
}

async function expectRejected(token: string, settings: Settings = {}): Promise<void> {
  for (const method of ["GET", "PATCH"]) {
    const response = await new TestClient({ settings }).request(method, "/api/v1/users/me", {
      headers: { Authorization: `Bearer ${token}` },
      json: method === "PATCH" ? { name: "attacker" } : undefined,
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ detail: expect.any(String), code: "invalid_token" });
  }
}

/** A real user with a live token family, so forged tokens only fail for their forgery. */
async function victim(settings: Settings = {}): Promise<{ user: TestUser; familyId: string; pair: Pair }> {
  const user = await registerUser(new TestClient());
  const pair = await tokensFor(user, settings);
  return { user, familyId: pair.refresh_token.split(".")[0]!, pair };
}

describe("access token verification refuses every known attack with 401 invalid_token", () => {
  it("accepts a correctly forged-by-us token (the baseline the other cases change one thing of)", async () => {
    const { user, familyId } = await victim();
    expect((await me(await forgeHs256(user.id, familyId))).status).toBe(200);
  });

  it("refuses alg none and None", async () => {
    const { user, familyId, pair } = await victim();
    const payload = pair.access_token.split(".")[1];
    for (const alg of ["none", "None", "NONE"]) {
      await expectRejected(`${base64urlJson({ alg, typ: "at+jwt", kid: await serviceKid() })}.${payload}.`);
    }
    await expectRejected(await forgeHs256(user.id, familyId, { header: { alg: "HS512" }, secret: TEST_SECRET_KEY }).catch(() => "x.y.z"));
  });

  it("refuses a wrong, tampered or stripped signature", async () => {
    const { user, familyId, pair } = await victim();
    await expectRejected(await forgeHs256(user.id, familyId, { secret: "another-secret-of-enough-length-123456" }));
    const [header, payload, signature] = pair.access_token.split(".");
    const otherSub = base64urlJson({ ...decodeJwt(pair.access_token), sub: crypto.randomUUID() });
    await expectRejected(`${header}.${otherSub}.${signature}`);
    await expectRejected(`${header}.${payload}.`);
    await expectRejected(`${header}.${payload}`);
  });

  it("refuses expired tokens and tokens whose nbf is in the future", async () => {
    const { user, familyId } = await victim();
    const now = Math.floor(Date.now() / 1000);
    await expectRejected(await forgeHs256(user.id, familyId, { claims: { iat: now - 7200, exp: now - 3600 } }));
    await expectRejected(await forgeHs256(user.id, familyId, { claims: { nbf: now + 3600 } }));
  });

  it("refuses a wrong iss or aud", async () => {
    const { user, familyId } = await victim();
    await expectRejected(await forgeHs256(user.id, familyId, { claims: { iss: "https://evil.example" } }));
    await expectRejected(await forgeHs256(user.id, familyId, { claims: { aud: "another-api" } }));
    await expectRejected(await forgeHs256(user.id, familyId, { claims: { iss: undefined } }));
  });

  it("refuses a missing or wrong typ", async () => {
    const { user, familyId } = await victim();
    await expectRejected(await forgeHs256(user.id, familyId, { header: { typ: undefined } }));
    await expectRejected(await forgeHs256(user.id, familyId, { header: { typ: "JWT" } }));
  });

  it("refuses a refresh token, an ID-token-like JWT and a foreign JWT used as an access token", async () => {
    const { user, familyId, pair } = await victim();
    await expectRejected(pair.refresh_token);
    await expectRejected(await forgeHs256(user.id, familyId, { claims: { token_type: "refresh" } }));
    await expectRejected(await forgeHs256(user.id, familyId, { claims: { token_type: undefined } }));
    await expectRejected(await forgeHs256(user.id, familyId, { claims: { sid: undefined } }));
    const foreign = await new SignJWT({ sub: user.id })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuedAt()
      .setExpirationTime("10m")
      .sign(utf8("someone-elses-secret-entirely-different"));
    await expectRejected(foreign);
  });

  it("refuses a kid carrying path traversal or SQL, and a missing kid", async () => {
    const { user, familyId } = await victim();
    for (const kid of ["../../../../etc/passwd", "' OR '1'='1", "hs256-x'; DROP TABLE users; --", undefined]) {
      await expectRejected(await forgeHs256(user.id, familyId, { header: { kid } }));
    }
  });

  it("never takes a key from jwk, jku or x5u headers", async () => {
    const { user, familyId } = await victim();
    const attacker = await generateKeyPair("ES256", { extractable: true });
    const publicJwk = await exportJWK(attacker.publicKey);
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: "edge-auth",
      aud: "edge-auth",
      sub: user.id,
      sid: familyId,
      token_type: "access",
      jti: "x",
      iat: now,
      exp: now + 600,
    };
    for (const extra of [{ jwk: publicJwk }, { jku: "https://evil.example/jwks.json" }, { x5u: "https://evil.example/cert.pem" }]) {
      const token = await new SignJWT(claims).setProtectedHeader({ alg: "ES256", typ: "at+jwt", ...extra }).sign(attacker.privateKey);
      await expectRejected(token);
    }
    // Even with the service's own valid signature, a key-bearing header is refused.
    await expectRejected(await forgeHs256(user.id, familyId, { header: { jku: "https://evil.example/jwks.json" } }));
  });

  it("refuses a malformed Authorization header", async () => {
    for (const value of ["Bearer", "Bearer a b", "Basic dXNlcjpwYXNz", "Token abc"]) {
      const response = await new TestClient().get("/api/v1/users/me", { headers: { Authorization: value } });
      expect(response.status).toBe(401);
    }
  });
});

describe("asymmetric signing: ES256 and EdDSA, JWKS and key rotation", () => {
  // These look at the service's own token keys alone: the OAuth server (on in the test
  // environment) publishes its keys in the same set, and is switched off here.
  it("publishes no keys with HS256", async () => {
    const response = await new TestClient({ settings: { OAUTH_SERVER_ENABLED: "false" } }).get("/.well-known/jwks.json");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ keys: [] });
  });

  it.each(["ES256", "EdDSA"] as const)("signs with %s and publishes only public keys", async (algorithm) => {
    const settings = {
      ALGORITHM: algorithm,
      JWT_SIGNING_KEYS: await signingKeySet(algorithm, ["k2", "k1"]),
      OAUTH_SERVER_ENABLED: "false",
    };
    const { pair } = await victim(settings);
    expect(JSON.parse(atob(pair.access_token.split(".")[0]!.replace(/-/g, "+").replace(/_/g, "/")))).toMatchObject({
      alg: algorithm,
      kid: "k2",
      typ: "at+jwt",
    });
    expect((await me(pair.access_token, settings)).status).toBe(200);
    const jwks = (await (await new TestClient({ settings }).get("/.well-known/jwks.json")).json()) as {
      keys: Array<Record<string, unknown>>;
    };
    expect(jwks.keys.map((key) => key.kid)).toEqual(["k2", "k1"]);
    for (const key of jwks.keys) {
      expect(key.d).toBeUndefined();
      expect(key).toMatchObject({ alg: algorithm, use: "sig" });
    }
  });

  it("keeps verifying a token signed by the previous key while that key is listed", async () => {
    const oldKeys = JSON.parse(await signingKeySet("ES256", ["old"])) as { keys: unknown[] };
    const newKeys = JSON.parse(await signingKeySet("ES256", ["new"])) as { keys: unknown[] };
    const before = { ALGORITHM: "ES256", JWT_SIGNING_KEYS: JSON.stringify(oldKeys) };
    const rotated = { ALGORITHM: "ES256", JWT_SIGNING_KEYS: JSON.stringify({ keys: [...newKeys.keys, ...oldKeys.keys] }) };
    const retired = { ALGORITHM: "ES256", JWT_SIGNING_KEYS: JSON.stringify(newKeys) };
    const { pair } = await victim(before);
    expect((await me(pair.access_token, rotated)).status).toBe(200);
    await expectRejected(pair.access_token, retired);
  });

  it("refuses an HS256 token signed with the published public key when the service is asymmetric", async () => {
    const settings = { ALGORITHM: "ES256", JWT_SIGNING_KEYS: await signingKeySet("ES256", ["k1"]), OAUTH_SERVER_ENABLED: "false" };
    const { user, familyId } = await victim(settings);
    const jwks = (await (await new TestClient({ settings }).get("/.well-known/jwks.json")).json()) as { keys: object[] };
    const published = JSON.stringify(jwks.keys[0]);
    const token = await forgeHs256(user.id, familyId, { header: { kid: "k1" }, secret: published });
    await expectRejected(token, settings);
  });

  it("refuses a token of another algorithm than the configured one", async () => {
    const settings = { ALGORITHM: "EdDSA", JWT_SIGNING_KEYS: await signingKeySet("EdDSA", ["ed"]) };
    const { user, familyId } = await victim(settings);
    await expectRejected(await forgeHs256(user.id, familyId), settings);
  });
});

describe("the access-token signer (WebCrypto, not jose's SignJWT)", () => {
  function config(settings: Record<string, string> = {}): Config {
    const loaded = loadConfig({ ...env, ...settings });
    if (!("tokens" in loaded)) throw new Error(`bad test settings: ${loaded.message}`);
    return loaded;
  }
  const subject = {
    userId: "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b",
    familyId: "6f1c2a3b4d5e4f608a7b9c0d1e2f3a4b0011223344556677",
    assurance: { aal: 2 as const, amr: ["pwd", "otp"] as Array<"pwd" | "otp">, authTime: 1_790_000_000_000 },
    issuedAt: 1_790_000_100,
    jti: "fixed-jti-for-the-test",
  };

  it("makes with HS256 exactly the token jose's SignJWT makes from the same key and claims", async () => {
    const settings = config();
    const keys = await keySet(settings);
    const { token, expiresIn } = await signAccessToken(settings, subject);
    const expected = await new SignJWT({
      sid: subject.familyId,
      token_type: "access",
      aal: 2,
      amr: ["pwd", "otp"],
      auth_time: 1_790_000_000,
    })
      .setProtectedHeader({ alg: "HS256", typ: "at+jwt", kid: keys.signingKid })
      .setIssuer(settings.tokens.issuer)
      .setAudience(settings.tokens.audience)
      .setSubject(subject.userId)
      .setIssuedAt(subject.issuedAt)
      .setExpirationTime(subject.issuedAt + settings.tokens.accessTtlSeconds)
      .setJti(subject.jti)
      .sign(keys.signingKey);
    expect(token).toBe(expected);
    expect(expiresIn).toBe(settings.tokens.accessTtlSeconds);
  });

  it.each(["ES256", "EdDSA"] as const)("signs with %s a token jose verifies against the published public key", async (algorithm) => {
    const settings = config({ ALGORITHM: algorithm, JWT_SIGNING_KEYS: await signingKeySet(algorithm, ["first", "second"]) });
    const { token } = await signAccessToken(settings, { ...subject, issuedAt: Math.floor(Date.now() / 1000) });
    const published = createLocalJWKSet({ keys: (await keySet(settings)).publicJwks });
    const { payload, protectedHeader } = await jwtVerify(token, published, {
      algorithms: [algorithm],
      issuer: settings.tokens.issuer,
      audience: settings.tokens.audience,
      typ: "at+jwt",
    });
    expect(protectedHeader).toEqual({ alg: algorithm, typ: "at+jwt", kid: "first" });
    expect(payload).toMatchObject({ sub: subject.userId, sid: subject.familyId, aal: 2, amr: ["pwd", "otp"], jti: subject.jti });
    // One changed byte of the signed part, and the signature no longer holds.
    const [header, claims, signature] = token.split(".");
    const tampered = `${header}.${claims!.slice(0, -2)}${claims!.endsWith("A") ? "B" : "A"}${claims!.slice(-1)}.${signature}`;
    await expect(jwtVerify(tampered, published, { algorithms: [algorithm] })).rejects.toThrow();
  });
});
