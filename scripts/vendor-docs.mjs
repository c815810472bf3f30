#!/usr/bin/env node
// Copies Scalar's API reference (the standalone browser build of @scalar/api-reference,
// a pinned devDependency) to public/docs/scalar.js, so /docs serves it from the Worker's
// own origin. Run by `npm install` / `npm ci` (the prepare script) and again by
// `npm run dev`, `npm run build` and `npm run deploy`; the copy is not committed.
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export function vendorDocs() {
  // The package's exports do not name this file, so it is found by path.
  const source = path.join(root, "node_modules", "@scalar", "api-reference", "dist", "browser", "standalone.js");
  const target = path.join(root, "public", "docs", "scalar.js");
  const fresh = existsSync(target) && statSync(target).size === statSync(source).size && readFileSync(target).equals(readFileSync(source));
  if (!fresh) {
    mkdirSync(path.dirname(target), { recursive: true });
    copyFileSync(source, target);
  }
  return target;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) vendorDocs();
