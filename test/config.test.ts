import { describe, expect, it } from "vitest";
import { DEVELOPMENT_SECRET_KEY, parseConfig } from "../src/config/config";
import { SettingError } from "../src/config/parse";
import { TestClient } from "./helpers/client";

const DEV = { ENVIRONMENT: "development" };
const PRODUCTION = { ENVIRONMENT: "production", APP_BASE_URL: "https://app.example.com" };

function settingErrorOf(raw: Record<string, unknown>): SettingError {
  try {
    parseConfig(raw);
  } catch (error) {
    if (error instanceof SettingError) return error;
    throw error;
  }
  throw new Error("expected a SettingError");
}

describe("settings", () => {
  it("has the documented defaults", () => {
    const config = parseConfig(DEV);
    expect(config.sessions).toEqual({
      idleTimeoutMs: 30 * 60_000,
      absoluteLifetimeMs: 86_400_000,
      rememberMeLifetimeMs: 30 * 86_400_000,
      rememberMeIdleMs: null,
      maxPerUser: 5,
    });
    expect(config.cookies).toEqual({ secure: true, sameSite: "lax" });
    expect(config.csrfEnabled).toBe(true);
    expect(config.login).toEqual({ maxAttempts: 5, windowMs: 15 * 60_000 });
    expect(config.corsOrigins).toEqual([]);
  });

  it.each([
    [{ MAX_SESSIONS_PER_USER: "lots" }, "MAX_SESSIONS_PER_USER"],
    [{ SESSION_TIMEOUT_MINUTES: "0" }, "SESSION_TIMEOUT_MINUTES"],
    [{ CSRF_ENABLED: "maybe" }, "CSRF_ENABLED"],
    [{ ADMIN_CONSOLE: "maybe" }, "ADMIN_CONSOLE"],
    [{ OAUTH_OIDC_PROVIDERS: "providers", OAUTH_PROVIDERS_ISSUER: "https://idp.example.test" }, "OAUTH_OIDC_PROVIDERS"],
    [{ SESSION_COOKIE_SAMESITE: "loose" }, "SESSION_COOKIE_SAMESITE"],
    [{ CORS_ORIGINS: "*" }, "CORS_ORIGINS"],
    [{ CORS_ORIGINS: "https://ok.example, not a url" }, "CORS_ORIGINS"],
    [{ CORS_ORIGINS: "https://app.example/path" }, "CORS_ORIGINS"],
    [{ SESSION_COOKIE_SAMESITE: "none", SESSION_SECURE_COOKIES: "false" }, "SESSION_COOKIE_SAMESITE"],
    [{ ENVIRONMENT: "prod" }, "ENVIRONMENT"],
  ])("names the bad setting in %j", (raw, setting) => {
    const error = settingErrorOf({ ...DEV, ...raw });
    expect(error.setting).toBe(setting);
    expect(error.message).toContain(setting);
  });

  it("refuses a missing, default or short SECRET_KEY in production", () => {
    expect(settingErrorOf({ ENVIRONMENT: "production" }).setting).toBe("SECRET_KEY");
    expect(settingErrorOf({ ENVIRONMENT: "production", SECRET_KEY: DEVELOPMENT_SECRET_KEY }).setting).toBe("SECRET_KEY");
    expect(settingErrorOf({ ENVIRONMENT: "production", SECRET_KEY: "short" }).setting).toBe("SECRET_KEY");
    expect(parseConfig({ ...PRODUCTION, SECRET_KEY: "x".repeat(32) }).secretKey).toBe("x".repeat(32));
  });

  it("refuses a missing APP_BASE_URL outside development and test (mailed links and the RP ID would follow the request's host)", () => {
    for (const ENVIRONMENT of ["production", "staging"]) {
      const error = settingErrorOf({ ENVIRONMENT, SECRET_KEY: "x".repeat(32) });
      expect(error.setting).toBe("APP_BASE_URL");
      expect(error.message).toContain("APP_BASE_URL");
    }
    expect(parseConfig({ ...PRODUCTION, SECRET_KEY: "x".repeat(32) }).appBaseUrl).toBe("https://app.example.com");
    // Development and test keep the fallback to the request's origin.
    expect(parseConfig(DEV).appBaseUrl).toBeUndefined();
    expect(parseConfig({ ENVIRONMENT: "test" }).appBaseUrl).toBeUndefined();
  });

  it("refuses the OAuth server outside development and test without a fixed issuer (OAUTH_ISSUER or OAUTH_REDIRECT_BASE_URL)", () => {
    const key = JSON.stringify({ keys: [{ kty: "EC", crv: "P-256", x: "x", y: "y", d: "d", kid: "k" }] });
    const raw = { ...PRODUCTION, SECRET_KEY: "x".repeat(32), OAUTH_SERVER_ENABLED: "true", OAUTH_SERVER_SIGNING_KEYS: key };
    const error = settingErrorOf(raw);
    expect(error.setting).toBe("OAUTH_ISSUER");
    expect(error.message).toContain("production");
    expect(parseConfig({ ...raw, OAUTH_ISSUER: "https://auth.example.com/" }).oauthServer.issuer).toBe("https://auth.example.com");
    expect(parseConfig({ ...raw, OAUTH_REDIRECT_BASE_URL: "https://auth.example.com" }).oauthServer.issuer).toBeNull();
    expect(parseConfig({ ...raw, ENVIRONMENT: "test" }).oauthServer.enabled).toBe(true);
  });

  it("answers every request with configuration_error naming APP_BASE_URL when production lacks it", async () => {
    const client = new TestClient({ settings: { ENVIRONMENT: "production", SECRET_KEY: "x".repeat(32) } });
    const response = await client.post("/api/v1/auth/password-reset/request", { json: { email: "someone@example.com" } });
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ code: "configuration_error", detail: expect.stringContaining("APP_BASE_URL") });
  });

  it("treats an unset ENVIRONMENT as production", () => {
    expect(settingErrorOf({}).setting).toBe("SECRET_KEY");
  });

  it("normalizes CORS origins", () => {
    const config = parseConfig({ ...DEV, CORS_ORIGINS: "https://App.Example.com , http://localhost:5173" });
    expect(config.corsOrigins).toEqual(["https://app.example.com", "http://localhost:5173"]);
  });

  it("stops every request with one clear error naming a bad setting", async () => {
    const client = new TestClient({ settings: { MAX_SESSIONS_PER_USER: "lots" } });
    for (const path of ["/healthz", "/api/v1/auth/check-auth"]) {
      const response = await client.get(path);
      expect(response.status).toBe(500);
      const body = (await response.json()) as { code: string; detail: string };
      expect(body.code).toBe("configuration_error");
      expect(body.detail).toContain("MAX_SESSIONS_PER_USER");
      expect(response.headers.get("X-Request-Id")).not.toBeNull();
    }
  });
});

describe("token settings", () => {
  it("defaults to HS256 with the documented lifetimes", () => {
    const { tokens } = parseConfig(DEV);
    expect(tokens).toMatchObject({
      algorithm: "HS256",
      signingKeys: [],
      accessTtlSeconds: 1800,
      refreshTtlMs: 7 * 86_400_000,
      reuseGraceMs: 10_000,
    });
  });

  it.each([
    [{ ALGORITHM: "RS256" }, "ALGORITHM"],
    [{ ALGORITHM: "ES256" }, "JWT_SIGNING_KEYS"],
    [{ ALGORITHM: "ES256", JWT_SIGNING_KEYS: "not json" }, "JWT_SIGNING_KEYS"],
    [{ ALGORITHM: "ES256", JWT_SIGNING_KEYS: '{"keys": []}' }, "JWT_SIGNING_KEYS"],
    [{ ALGORITHM: "ES256", JWT_SIGNING_KEYS: '{"keys": [{"kty":"OKP","crv":"Ed25519","x":"a","d":"b","kid":"k"}]}' }, "JWT_SIGNING_KEYS"],
    [{ ALGORITHM: "EdDSA", JWT_SIGNING_KEYS: '{"keys": [{"kty":"OKP","crv":"Ed25519","x":"a","kid":"k"}]}' }, "JWT_SIGNING_KEYS"],
    [{ ALGORITHM: "EdDSA", JWT_SIGNING_KEYS: '{"keys": [{"kty":"OKP","crv":"Ed25519","x":"a","d":"b"}]}' }, "JWT_SIGNING_KEYS"],
    [{ ACCESS_TOKEN_EXPIRE_MINUTES: "2000" }, "ACCESS_TOKEN_EXPIRE_MINUTES"],
    [{ REFRESH_REUSE_GRACE_SECONDS: "-1" }, "REFRESH_REUSE_GRACE_SECONDS"],
  ])("names the bad setting in %j", (raw, setting) => {
    expect(settingErrorOf({ ...DEV, ...raw }).setting).toBe(setting);
  });

  it("refuses a key set listing one kid twice", () => {
    const key = { kty: "OKP", crv: "Ed25519", x: "a", d: "b", kid: "same" };
    const error = settingErrorOf({ ...DEV, ALGORITHM: "EdDSA", JWT_SIGNING_KEYS: JSON.stringify({ keys: [key, key] }) });
    expect(error.message).toContain("twice");
  });
});
