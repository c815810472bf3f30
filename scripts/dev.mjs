// `npm run dev`: the local development server in one command.
// 1. creates .dev.vars from .dev.vars.example (with a fresh random SECRET_KEY) if missing,
// 2. applies the D1 migrations to the local database,
// 3. puts the API reference's bundle in place (scripts/vendor-docs.mjs),
// 4. starts `wrangler dev` with any extra flags passed through (`npm run dev -- --port 9000`).
// Local D1, KV and Durable Object state lives in .wrangler/state and survives restarts.
import { spawnSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { vendorDocs } from "./vendor-docs.mjs";

const args = process.argv.slice(2);
const env = { ...process.env, WRANGLER_SEND_METRICS: "false" };

if (!existsSync(".dev.vars")) {
  const secret = randomBytes(48).toString("base64url");
  const example = readFileSync(".dev.vars.example", "utf8");
  writeFileSync(".dev.vars", example.replace(/^SECRET_KEY=.*$/m, `SECRET_KEY=${secret}`), { mode: 0o600 });
  console.log("Created .dev.vars with a random SECRET_KEY (edit it to change local settings).");
}

// Migrations must land in the same local state directory the dev server will use.
const persistIndex = args.findIndex((arg) => arg === "--persist-to" || arg.startsWith("--persist-to="));
const persistArgs =
  persistIndex < 0 ? [] : args[persistIndex].includes("=") ? [args[persistIndex]] : args.slice(persistIndex, persistIndex + 2);

const migrate = spawnSync("wrangler", ["d1", "migrations", "apply", "DB", "--local", ...persistArgs], {
  stdio: "inherit",
  env: { ...env, CI: "true" }, // answer wrangler's confirmation prompt
  shell: process.platform === "win32",
});
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

vendorDocs();
const dev = spawn("wrangler", ["dev", ...args], { stdio: "inherit", env, shell: process.platform === "win32" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
dev.on("exit", (code) => process.exit(code ?? 0));
