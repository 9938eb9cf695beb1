#!/usr/bin/env bash
# The cluster end-to-end test on this machine: a real single-node Kubernetes (hack/cluster.sh),
# the image built from the Dockerfile, then the scenario of hack/e2e/scenario.ts (the chart
# installed with helm, binds Ready, traffic, failover, upgrade, Pod Security, GitOps health,
# Prometheus and alerts, uninstall). The cluster is torn down at the end, whatever happened.
#
#   bash hack/cluster-e2e.sh        (npm run e2e:cluster)
#
# Needs root, Go (first run: builds the Kubernetes binaries, helm and the kstatus checker) and
# `npm ci` done (the image's npm cache and Node 24). SMPP_E2E_KEEP=1 leaves the cluster up.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

t0=$SECONDS
stamp() { printf 'cluster-e2e: %s (%ss)\n' "$*" "$((SECONDS - t0))" >&2; }

bash hack/cluster.sh deps
bash hack/deps.sh >/dev/null
HELM="$(bash hack/tools.sh helm)"
KSTATUS="$(bash hack/tools.sh kstatus)"
bash hack/tools.sh prom-crds >/dev/null
bash hack/cluster.sh build
stamp "binaries ready"
bash hack/cluster.sh image smpp-operator:e2e
stamp "image built"

# A cluster left by an interrupted run goes first.
bash hack/cluster.sh down >/dev/null 2>&1 || true
if [[ "${SMPP_E2E_KEEP:-0}" != 1 ]]; then trap 'bash hack/cluster.sh down' EXIT; fi
bash hack/cluster.sh up >/dev/null
stamp "node Ready"
eval "$(bash hack/cluster.sh env | sed 's/^/export /')"

# helm and kubectl run inside the cluster's network namespace, on PATH there by these names.
BIN="$SMPP_CLUSTER_STATE/bin"
mkdir -p "$BIN"
ln -sf "$HELM" "$BIN/helm"
ln -sf "$SMPP_CLUSTER_KUBECTL" "$BIN/kubectl"
export PATH="$BIN:$PATH"

E2E_EXEC="bash hack/cluster.sh exec" E2E_KSTATUS="$KSTATUS" E2E_PROMETHEUS=1 E2E_IMAGE=smpp-operator:e2e \
  node hack/e2e/scenario.ts
stamp "scenario passed"
