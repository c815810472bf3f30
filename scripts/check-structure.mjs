#!/usr/bin/env node
// Keeps the shape of src/ as docs/architecture.md describes it:
//   1. a folder imports only folders in lower layers (or earlier in its own layer), so
//      there is no folder-level import cycle;
//   2. no source file is over MAX_LINES lines (generated data excepted);
//   3. every package that bench/, scripts/ and test/ import is declared in package.json
//      (a folder with a package.json of its own, like bench/oauth-engine/, declares its own).
// Usage: node scripts/check-structure.mjs [root]   (exit 1 and a list on any breach)
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";

/** Lowest first. A folder may import folders of lower layers, and earlier ones of its own. */
export const LAYERS = [
  ["lib"],
  ["config", "db", "http"],
  ["passwords", "users", "mail", "services", "events"],
  ["user-authority", "sessions", "api-keys", "orgs", "tokens", "throttle", "oauth", "mfa"],
  ["auth", "account", "admin", "oauth-server"],
  ["openapi", "routes", "rpc"],
  ["(root)"],
];
const MAX_LINES = 250;
const GENERATED = new Set(["src/passwords/common-passwords.ts"]);

const root = path.resolve(process.argv[2] ?? ".");
const problems = [];

function filesUnder(dir, pattern) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(full, pattern));
    else if (pattern.test(entry.name)) out.push(full);
  }
  return out;
}

const importPattern =
  /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|(?:^|\n)\s*import\s*["']([^"']+)["']/g;
function specifiers(file) {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(importPattern)].map((match) => match[1] ?? match[2] ?? match[3]);
}

// 1. Layers.
const position = new Map();
LAYERS.forEach((folders, layer) => folders.forEach((folder, order) => position.set(folder, { layer, order })));
const src = path.join(root, "src");
const folderOf = (file) => {
  const parts = path.relative(src, file).split(path.sep);
  return parts.length > 1 ? parts[0] : "(root)";
};
for (const file of filesUnder(src, /\.ts$/)) {
  const from = folderOf(file);
  const here = position.get(from);
  if (here === undefined) {
    problems.push(`src/${from}/ is in no layer: add it to LAYERS (scripts/check-structure.mjs) and docs/architecture.md`);
    continue;
  }
  for (const spec of specifiers(file)) {
    if (!spec.startsWith(".")) continue;
    const to = folderOf(path.resolve(path.dirname(file), spec));
    if (to === from) continue;
    const there = position.get(to);
    const allowed = there !== undefined && (there.layer < here.layer || (there.layer === here.layer && there.order < here.order));
    if (!allowed) problems.push(`${path.relative(root, file)} imports ${spec}: ${from} may not depend on ${to}`);
  }
}

// 2. File size.
for (const file of filesUnder(src, /\.ts$/)) {
  const relative = path.relative(root, file).split(path.sep).join("/");
  if (GENERATED.has(relative)) continue;
  const lines = readFileSync(file, "utf8").split("\n").length;
  if (lines > MAX_LINES) problems.push(`${relative} has ${lines} lines (at most ${MAX_LINES}): split it by concern`);
}

// 3. Declared packages.
function declaredBy(manifestPath) {
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
  return new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.devDependencies ?? {})]);
}
const rootDeclared = declaredBy(path.join(root, "package.json"));
/** The packages a file may import: its nearest package.json's below the root, else the root's. */
function declaredFor(file) {
  for (let dir = path.dirname(file); dir.startsWith(root) && dir !== root; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "package.json"))) return declaredBy(path.join(dir, "package.json"));
  }
  return rootDeclared;
}
const builtins = new Set(builtinModules);
for (const dir of ["bench", "scripts", "test"]) {
  for (const file of filesUnder(path.join(root, dir), /\.(m?[jt]s)$/)) {
    const declared = declaredFor(file);
    for (const spec of specifiers(file)) {
      if (spec.startsWith(".") || spec.startsWith("node:") || spec.startsWith("cloudflare:") || builtins.has(spec)) continue;
      const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
      if (!declared.has(name)) problems.push(`${path.relative(root, file)} imports ${name}, which package.json does not declare`);
    }
  }
}

if (problems.length > 0) {
  console.error(`structure: ${problems.length} problem(s)\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log("structure: layers, file sizes and declared packages are in order");
