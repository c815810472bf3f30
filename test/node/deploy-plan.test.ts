// What `npm run deploy` decides from wrangler.toml alone: the vars of the target, the
// secrets they require, and the refusal that names the command to set each one.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain ES module without types (scripts/)
import { deployedVars, missingSecretsMessage, missingSettingsMessage, requiredSecrets, unsetSettings } from "../../scripts/deploy-plan.mjs";

type Vars = Record<string, string>;
const vars = deployedVars as (toml: string, envName: string | null) => Vars | null;
const secrets = requiredSecrets as (vars: Vars) => Array<[string, string]>;
const refusal = missingSecretsMessage as (missing: Array<[string, string]>, envName: string | null, target: string) => string;
const unset = unsetSettings as (vars: Vars) => Array<[string, string]>;
const unsetRefusal = missingSettingsMessage as (missing: Array<[string, string]>, envName: string | null, target: string) => string;

describe("the deploy plan", () => {
  const toml = readFileSync("wrangler.toml", "utf8");

  it("reads the top-level vars and the staging environment's own (not merged)", () => {
    expect(vars(toml, null)).toMatchObject({ ENVIRONMENT: "production", SESSION_SECURE_COOKIES: "true" });
    expect(vars(toml, "staging")).toEqual({ ENVIRONMENT: "staging", SESSION_SECURE_COOKIES: "true" });
    expect(vars(toml, "nowhere")).toBeNull();
  });

  it("always requires SECRET_KEY, and the secrets the settings ask for", () => {
    expect(secrets({}).map(([name]) => name)).toEqual(["SECRET_KEY"]);
    const all = secrets({
      MAIL_PROVIDER: "resend",
      ALGORITHM: "ES256",
      OAUTH_OIDC_PROVIDERS: "okta, entra",
      OAUTH_GITHUB_CLIENT_ID: "abc",
    }).map(([name]) => name);
    expect(all).toEqual([
      "SECRET_KEY",
      "MAIL_API_KEY",
      "JWT_SIGNING_KEYS",
      "OAUTH_OKTA_CLIENT_SECRET",
      "OAUTH_ENTRA_CLIENT_SECRET",
      "OAUTH_GITHUB_CLIENT_SECRET",
    ]);
    expect(secrets({ ALGORITHM: "HS256" }).map(([name]) => name)).toEqual(["SECRET_KEY"]);
  });

  it("refuses with the exact command for each missing secret, for the environment deployed", () => {
    const message = refusal(secrets({ MAIL_PROVIDER: "resend" }), "staging", "the staging environment");
    expect(message).toContain("refusing to deploy to the staging environment: required secrets are missing.");
    expect(message).toContain("openssl rand -base64 48 | npx wrangler secret put SECRET_KEY --env staging");
    expect(message).toContain("npx wrangler secret put MAIL_API_KEY --env staging");
    expect(refusal(secrets({}), null, "production")).toContain("| npx wrangler secret put SECRET_KEY\n".trimEnd());
  });

  it("requires APP_BASE_URL outside development and test (the service refuses to start without it), in the vars or as a secret", () => {
    for (const envName of [null, "staging"]) expect(unset(vars(toml, envName) ?? {}).map(([name]) => name)).toEqual(["APP_BASE_URL"]);
    expect(unset({}).map(([name]) => name)).toEqual(["APP_BASE_URL"]);
    expect(unset({ ENVIRONMENT: "production", APP_BASE_URL: "https://app.example.com" })).toEqual([]);
    expect(unset({ ENVIRONMENT: "development" })).toEqual([]);
    expect(unset({ ENVIRONMENT: "test" })).toEqual([]);
    // The OAuth server needs its one issuer as well.
    const oauth = { ENVIRONMENT: "production", APP_BASE_URL: "https://app.example.com", OAUTH_SERVER_ENABLED: "true" };
    expect(unset(oauth).map(([name]) => name)).toEqual(["OAUTH_ISSUER"]);
    expect(unset({ ...oauth, OAUTH_ISSUER: "https://auth.example.com" })).toEqual([]);
    expect(unset({ ...oauth, OAUTH_REDIRECT_BASE_URL: "https://auth.example.com" })).toEqual([]);
    const message = unsetRefusal(unset({ ENVIRONMENT: "staging" }), "staging", "the staging environment");
    expect(message).toContain("refusing to deploy to the staging environment: a required setting is missing.");
    expect(message).toContain('add APP_BASE_URL = "https://..." under [env.staging.vars] in wrangler.toml');
  });
});
