import { generateKeyPairSync } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { build } from "esbuild";
import { defineConfig } from "vitest/config";
import type {} from "./test/setup/global-servers";

/** The Worker under test runs as the plugin's runner, named after this project. */
const PROJECT = "workers";

/**
 * Wrangler also loads a developer's .dev.vars into the tests. Every setting found there
 * is blanked (empty means "default" to the config parser) unless the tests set it, so
 * tests see the same settings on every machine.
 */
function neutralizeDevVars<T extends Record<string, unknown>>(bindings: T): T {
  if (!existsSync(".dev.vars")) return bindings;
  const blanks: Record<string, string> = {};
  for (const line of readFileSync(".dev.vars", "utf8").split("\n")) {
    const name = /^\s*([A-Z0-9_]+)\s*=/.exec(line)?.[1];
    if (name !== undefined) blanks[name] = "";
  }
  return { ...blanks, ...bindings } as T;
}

// Two projects: "workers" runs inside workerd with the real local D1, KV and Durable
// Objects from wrangler.toml; "node" runs the few checks that need Node (the OpenAPI
// validator). The OAuth identity providers run in Node on loopback
// (test/setup/global-servers.ts).
/**
 * examples/consumer-worker, bundled as wrangler would (its `edge-auth/hono` import is this
 * checkout's src/hono.ts), inside the project: workerd resolves module paths below it.
 */
const EXAMPLE_CONSUMER = "test-results/consumer-worker/index.js";
/** examples/mcp-server, bundled the same way (the MCP SDK's server, edge-auth/hono's requireOAuth). */
const EXAMPLE_MCP = "test-results/mcp-server/index.js";
/** The example MCP server's resource identifier: the OAuth server issues tokens for it (OAUTH_SERVER_RESOURCES). */
const MCP_RESOURCE = "https://mcp.example.test/mcp";

/**
 * The OAuth server's signing key for this run (an ES256 private JWK; the RS256 key for ID
 * tokens is the one the service generates and seals in D1, so that path runs too).
 */
function oauthServerKeys(): string {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return JSON.stringify({ keys: [{ ...privateKey.export({ format: "jwk" }), kid: "test-es256" }] });
}

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  await build({
    entryPoints: ["examples/consumer-worker/src/index.ts"],
    outfile: EXAMPLE_CONSUMER,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    alias: { "edge-auth/hono": "./src/hono.ts" },
    logLevel: "error",
  });
  await build({
    entryPoints: ["examples/mcp-server/src/index.ts"],
    outfile: EXAMPLE_MCP,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    alias: { "edge-auth/hono": "./src/hono.ts" },
    logLevel: "error",
  });
  return {
    test: {
      globalSetup: ["./test/setup/global-servers.ts"],
      projects: [
        {
          plugins: [
            cloudflareTest(({ inject }) => {
              const oauth = inject("oauthServers");
              return {
                wrangler: { configPath: "./wrangler.toml" },
                miniflare: {
                  // Another Worker that calls AuthService over a real service binding.
                  workers: [
                    {
                      name: "consumer",
                      modules: true,
                      scriptPath: "./test/fixtures/consumer-worker.js",
                      compatibilityDate: "2026-11-01",
                      serviceBindings: { AUTH: { name: `vitest-plugin-runner-${PROJECT}`, entrypoint: "AuthService" } },
                    },
                    // examples/consumer-worker: Hono routes guarded by edge-auth/hono, over the same kind of binding.
                    {
                      name: "example-consumer",
                      modules: true,
                      scriptPath: EXAMPLE_CONSUMER,
                      compatibilityDate: "2026-11-01",
                      serviceBindings: { AUTH: { name: `vitest-plugin-runner-${PROJECT}`, entrypoint: "AuthService" } },
                    },
                    // examples/mcp-server: a remote MCP server whose /mcp requireOAuth guards, over the same kind of binding.
                    {
                      name: "mcp-example",
                      modules: true,
                      scriptPath: EXAMPLE_MCP,
                      compatibilityDate: "2026-11-01",
                      compatibilityFlags: ["nodejs_compat"],
                      bindings: { MCP_RESOURCE, AUTH_ISSUER: "http://auth.example.test" },
                      serviceBindings: { AUTH: { name: `vitest-plugin-runner-${PROJECT}`, entrypoint: "AuthService" } },
                    },
                  ],
                  serviceBindings: { CONSUMER: "consumer", EXAMPLE_CONSUMER: "example-consumer", MCP_EXAMPLE: "mcp-example" },
                  // MAIL_PROVIDER=cloudflare's binding (src/mail/cloudflare-email.ts), as an operator declares it.
                  email: { send_email: [{ name: "EMAIL" }] },
                  bindings: neutralizeDevVars({
                    ENVIRONMENT: "test",
                    SECRET_KEY: "test-secret-key-with-at-least-32-characters!",
                    SESSION_SECURE_COOKIES: "false",
                    CORS_ORIGINS: "http://app.example.test",
                    OAUTH_REDIRECT_BASE_URL: "http://auth.example.test",
                    OAUTH_ALLOWED_REDIRECTS: "https://partner.example.test,edgeauth://oauth/callback",
                    OAUTH_OIDC_PROVIDERS: "testidp,rogue",
                    OAUTH_TESTIDP_ISSUER: oauth.genericIssuer,
                    OAUTH_TESTIDP_CLIENT_ID: "edge-auth-test",
                    OAUTH_TESTIDP_CLIENT_SECRET: "generic-test-secret",
                    OAUTH_ROGUE_ISSUER: oauth.rogueIssuer,
                    OAUTH_ROGUE_CLIENT_ID: "rogue-client",
                    OAUTH_ROGUE_CLIENT_SECRET: "rogue-secret",
                    OAUTH_GOOGLE_ISSUER: oauth.googleIssuer,
                    OAUTH_GOOGLE_CLIENT_ID: "google-test-client.apps.googleusercontent.com",
                    OAUTH_GOOGLE_CLIENT_SECRET: "google-test-secret",
                    OAUTH_GITHUB_URL: oauth.githubUrl,
                    OAUTH_GITHUB_API_URL: oauth.githubUrl,
                    OAUTH_GITHUB_CLIENT_ID: oauth.githubClientId,
                    OAUTH_GITHUB_CLIENT_SECRET: oauth.githubClientSecret,
                    TEST_MIGRATIONS: migrations,
                    // The OAuth server is on (its RPC check serves examples/mcp-server); tests about the service alone switch it off.
                    OAUTH_SERVER_ENABLED: "true",
                    OAUTH_SERVER_RESOURCES: MCP_RESOURCE,
                    OAUTH_SERVER_SIGNING_KEYS: oauthServerKeys(),
                    // The loopback mail API (test/servers/mail-api.ts); the mail retry tests point MAIL_API_URL at it.
                    TEST_MAIL_API: oauth.mailApiUrl,
                    // The loopback Client ID Metadata Documents (test/servers/client-metadata.ts).
                    TEST_CLIENT_METADATA: oauth.clientMetadataUrl,
                    // The loopback siteverify and Pwned Passwords range API (test/servers/abuse-services.ts).
                    TEST_ABUSE: oauth.abuseUrl,
                  }),
                },
              };
            }),
          ],
          test: {
            name: PROJECT,
            include: ["test/**/*.test.ts"],
            exclude: ["test/node/**"],
            setupFiles: ["./test/setup/apply-migrations.ts"],
            testTimeout: 60_000,
            hookTimeout: 60_000,
          },
        },
        {
          test: { name: "node", include: ["test/node/**/*.test.ts"], environment: "node" },
        },
      ],
    },
  };
});
