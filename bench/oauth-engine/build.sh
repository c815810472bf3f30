#!/bin/sh
# Bundles worker.js (the provider, a counting KV proxy) with this folder's esbuild.
set -e
cd "$(dirname "$0")"
npx esbuild worker.js --bundle --format=esm --platform=neutral --main-fields=module,main \
  --external:cloudflare:workers --outfile=dist/worker.js
