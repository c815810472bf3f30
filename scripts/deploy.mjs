#!/usr/bin/env node
// npm run deploy [-- --env NAME] [-- --dry-run]: from a logged-in wrangler to a running
// service in one command.
//   1. Refuses, naming the exact `wrangler secret put` command, when a secret the
//      settings require is missing (SECRET_KEY always; MAIL_API_KEY with MAIL_PROVIDER =
//      resend; JWT_SIGNING_KEYS with ES256/EdDSA; each configured OAuth provider's secret),
//      and, naming where to set it, when a setting the service refuses to start without
//      is in neither the vars nor the secrets (APP_BASE_URL outside development and test).
//   2. Applies the D1 migrations to the remote database before the new code runs (every
//      migration only adds, so the running version keeps working on the new schema). On
//      a first deploy the database does not exist yet: the deploy creates it, and the
//      migrations run right after, before anyone can sign in.
//   3. `wrangler deploy`, which creates the KV namespace and the D1 database on first use
//      (wrangler's automatic provisioning: wrangler.toml holds no resource ids).
// --dry-run needs no account: it builds the bundle exactly as a deploy would, checks the
// bindings, and prints what the real run would do.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { deployedVars as readVars, missingSecretsMessage, missingSettingsMessage, requiredSecrets, unsetSettings } from "./deploy-plan.mjs";
import { vendorDocs } from "./vendor-docs.mjs";

const args = process.argv.slice(2);
const dryRun = args.includes("--dry-run");
const envIndex = args.indexOf("--env");
const envName = envIndex === -1 ? null : args[envIndex + 1];
if (envIndex !== -1 && (envName === undefined || envName.startsWith("--")))
  fail("--env takes an environment name (see [env.*] in wrangler.toml)");
// The top level is named explicitly (an empty name), as wrangler asks when environments exist.
const envArgs = envName === null ? ["--env", ""] : ["--env", envName];
const ENV = { ...process.env, WRANGLER_SEND_METRICS: "false" };

function fail(message) {
  process.stderr.write(`deploy: ${message}\n`);
  process.exit(1);
}

function wrangler(commandArgs, options = {}) {
  return spawnSync("npx", ["wrangler", ...commandArgs, ...envArgs], { encoding: "utf8", env: ENV, ...options });
}

function migrations() {
  return readdirSync("migrations")
    .filter((name) => name.endsWith(".sql"))
    .sort();
}

// The API reference's bundle (public/docs/scalar.js) ships with the static assets.
vendorDocs();

const vars = readVars(readFileSync("wrangler.toml", "utf8"), envName);
if (vars === null) fail(`no [env.${envName}] in wrangler.toml`);
const secrets = requiredSecrets(vars);
const settings = unsetSettings(vars);
const target = envName === null ? "production (top level of wrangler.toml)" : `the ${envName} environment`;

if (dryRun) {
  const outdir = mkdtempSync(path.join(tmpdir(), "edge-auth-deploy-"));
  const built = wrangler(["deploy", "--dry-run", "--outdir", outdir], { stdio: ["ignore", "inherit", "inherit"] });
  rmSync(outdir, { recursive: true, force: true });
  if (built.status !== 0) fail("the bundle or its bindings are broken (wrangler deploy --dry-run failed above)");
  process.stdout.write(
    [
      `deploy (dry run) to ${target}: the bundle builds and its bindings check out. A real run would:`,
      `  1. check these secrets are set (wrangler secret list${envName === null ? "" : ` --env ${envName}`}):`,
      ...secrets.map(([name, why]) => `       ${name}: ${why}`),
      ...(settings.length === 0
        ? []
        : [
            "     and these settings, not in wrangler.toml's vars, are set as secrets (else it refuses, naming where to add them):",
            ...settings.map(([name, why]) => `       ${name}: ${why}`),
          ]),
      `  2. apply ${migrations().length} D1 migrations to the remote database DB (${migrations().join(", ")}), the ones not applied yet`,
      "  3. wrangler deploy: create the KV namespace SESSIONS and the D1 database on first use (automatic provisioning), the Durable Object classes from [[migrations]], the cron triggers",
      "  (a first deploy: 2 runs right after 3, when the database exists)",
      "",
    ].join("\n"),
  );
  process.exit(0);
}

const whoami = wrangler(["whoami"]);
if (whoami.status !== 0 || /not authenticated|You are not logged in/i.test(`${whoami.stdout}${whoami.stderr}`)) {
  fail("wrangler is not logged in: run `npx wrangler login` (or set CLOUDFLARE_API_TOKEN), then `npm run deploy` again");
}

const listed = wrangler(["secret", "list", "--format", "json"]);
const present = new Set();
if (listed.status === 0) {
  for (const entry of JSON.parse(listed.stdout || "[]")) present.add(entry.name);
} else if (!/not found|does not exist|10007/i.test(`${listed.stdout}${listed.stderr}`)) {
  fail(`could not list the Worker's secrets:\n${listed.stderr}`);
}
const missing = secrets.filter(([name]) => !present.has(name));
if (missing.length > 0) fail(missingSecretsMessage(missing, envName, target));
const unset = settings.filter(([name]) => !present.has(name));
if (unset.length > 0) fail(missingSettingsMessage(unset, envName, target));

const migrate = () => wrangler(["d1", "migrations", "apply", "DB", "--remote"], { stdio: ["ignore", "inherit", "pipe"] });
let migrated = migrate();
const firstDeploy = migrated.status !== 0 && /not found|could not find|does not exist|7404/i.test(migrated.stderr ?? "");
if (migrated.status !== 0 && !firstDeploy) fail(`the remote migrations failed:\n${migrated.stderr}`);

execFileSync("npx", ["wrangler", "deploy", ...envArgs], { stdio: "inherit", env: ENV });

if (firstDeploy) {
  migrated = migrate();
  if (migrated.status !== 0) fail(`deployed, but the remote migrations failed (run npm run deploy again):\n${migrated.stderr}`);
}
process.stdout.write(`deployed to ${target}\n`);
