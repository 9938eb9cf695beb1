#!/usr/bin/env bash
# The whole test job: system dependencies, static checks, then every test layer.
# npm runs this, so `node` is the project's Node 24 from node_modules/.bin.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run -s check:node
bash hack/deps.sh
npm run -s typecheck
npm run -s lint
npm run -s build
node dist/cli.js crds --check  # crds/ must match src/api (regenerate: node dist/cli.js crds --out crds)
# helm lint/template, kubeconform -strict (offline schemas) and promtool over charts/smpp-operator;
# helm and kubeconform are built from Go modules on first use (hack/tools.sh).
bash hack/chart-check.sh
# etcd + kube-apiserver + kubectl from Go modules, for the `kube` test project (cached after the
# first build: ~10 min and ~180 MB of module downloads on a 2-core machine).
bash hack/control-plane.sh build
mkdir -p .cache
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=.cache/vitest-report.json || status=$?
[ -f .cache/vitest-report.json ] && node hack/test-summary.mjs .cache/vitest-report.json
exit $status
