// `npm run dev`: the local development server in one command.
// 1. creates .dev.vars from .dev.vars.example (with a fresh random SECRET_KEY) if missing,
// 2. applies the D1 migrations to the local database (one line of output unless it fails),
// 3. puts the API reference's bundle in place (scripts/vendor-docs.mjs),
// 4. starts `wrangler dev` with any extra flags passed through (`npm run dev -- --port 9000`).
// 5. reloads the Worker when .dev.vars changes (wrangler dev alone watches src/ and
//    wrangler.toml, not .dev.vars).
// Local D1, KV and Durable Object state lives in .wrangler/state and survives restarts.
import { spawnSync, spawn } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, readFileSync, utimesSync, watch, writeFileSync } from "node:fs";
import { vendorDocs } from "./vendor-docs.mjs";

const args = process.argv.slice(2);
const env = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  // Miniflare otherwise fetches the machine's own Request.cf from workers.cloudflare.com
  // at every start (a stack trace when offline); without it every request gets its
  // placeholder, which the Worker reads as an unknown location (src/http/client-info.ts).
  CLOUDFLARE_CF_FETCH_ENABLED: process.env.CLOUDFLARE_CF_FETCH_ENABLED ?? "false",
};

if (!existsSync(".dev.vars")) {
  const secret = randomBytes(48).toString("base64url");
  const example = readFileSync(".dev.vars.example", "utf8");
  // The OAuth server's access tokens are signed with a public-key algorithm: a fresh ES256 key.
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const oauthKeys = JSON.stringify({ keys: [{ ...privateKey.export({ format: "jwk" }), kid: `dev-${randomBytes(4).toString("hex")}` }] });
  const vars = example
    .replace(/^SECRET_KEY=.*$/m, `SECRET_KEY=${secret}`)
    .replace(/^OAUTH_SERVER_SIGNING_KEYS=.*$/m, `OAUTH_SERVER_SIGNING_KEYS=${oauthKeys}`);
  writeFileSync(".dev.vars", vars, { mode: 0o600 });
  console.log("Created .dev.vars with a random SECRET_KEY and OAuth signing key (edit it to change local settings).");
}

// Migrations must land in the same local state directory the dev server will use.
const persistIndex = args.findIndex((arg) => arg === "--persist-to" || arg.startsWith("--persist-to="));
const persistArgs =
  persistIndex < 0 ? [] : args[persistIndex].includes("=") ? [args[persistIndex]] : args.slice(persistIndex, persistIndex + 2);

// wrangler prints a table per migration applied; its whole output is shown only on failure.
const migrate = spawnSync("wrangler", ["d1", "migrations", "apply", "DB", "--local", ...persistArgs], {
  encoding: "utf8",
  env: { ...env, CI: "true" }, // answer wrangler's confirmation prompt
  shell: process.platform === "win32",
});
if (migrate.status !== 0) {
  process.stdout.write(migrate.stdout ?? "");
  process.stderr.write(migrate.stderr ?? migrate.error?.message ?? "");
  process.exit(migrate.status ?? 1);
}
const applied = new Set(migrate.stdout.match(/\S+\.sql(?=\s+│ ✅)/g) ?? []);
console.log(applied.size === 0 ? "Local D1: migrations up to date." : `Local D1: applied ${applied.size} migration(s).`);

vendorDocs();
const dev = spawn("wrangler", ["dev", ...args], { stdio: "inherit", env, shell: process.platform === "win32" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));

// A change to wrangler.toml makes wrangler dev reload its configuration, .dev.vars included,
// so touching it carries a .dev.vars edit to the running Worker. The folder is watched, not
// the file: editors often save by replacing it.
let pending;
watch(".", (_event, file) => {
  if (file !== ".dev.vars") return;
  clearTimeout(pending);
  pending = setTimeout(() => {
    const now = new Date();
    utimesSync("wrangler.toml", now, now);
    console.log(".dev.vars changed: reloading the Worker.");
  }, 300);
});
dev.on("exit", (code) => process.exit(code ?? 0));
