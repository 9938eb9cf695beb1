#!/usr/bin/env bash
# `npm start`: from a fresh checkout, installs dependencies (when node_modules is missing),
# builds, and runs the demo: devcore + SMSC simulator + a standalone gateway with
# manifests/examples/, messages end to end, then the metrics and status URLs. Ctrl-C stops it.
# Extra arguments go to `smpp-operator demo` (e.g. `npm start -- --exit`).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x node_modules/.bin/node ] || [ ! -x node_modules/.bin/tsc ]; then
  echo "installing dependencies (npm ci)..."
  npm ci --no-audit --no-fund
fi
# The project's Node 24 comes from node_modules (the machine's node may be older).
export PATH="$PWD/node_modules/.bin:$PATH"
echo "building..."
npm run -s build
exec node dist/cli.js demo "$@"
