#!/usr/bin/env bash
# End-to-end on kind: build the image, create a cluster, then the same scenario as the cluster
# e2e of this machine (hack/e2e/scenario.ts: helm install, binds Ready, traffic, failover,
# upgrade, Pod Security, GitOps health, uninstall). Prometheus is left out here (point 7 shows
# LEFT OUT in the summary): the scenario runs it where its commands reach pod IPs
# (hack/cluster-e2e.sh). The shared receipt store is the official redis image
# (E2E_REDIS_IMAGE, default redis:7-bookworm), which kind pulls.
# Needs docker, kind, kubectl, helm, Go (the kstatus checker) and `npm ci` done; hosted CI
# runners have them. It cannot run on the development machines of this project, which have no
# Docker engine: `npm run e2e:cluster` runs the scenario there.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

CLUSTER=${KIND_CLUSTER:-smpp-operator-e2e}
IMAGE=${IMAGE:-smpp-operator:e2e}

cleanup() {
  if [ "${KEEP_CLUSTER:-0}" != 1 ]; then kind delete cluster --name "$CLUSTER" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

docker build -t "$IMAGE" .
kind create cluster --name "$CLUSTER" --wait 120s
kind load docker-image "$IMAGE" --name "$CLUSTER"

E2E_IMAGE="$IMAGE" E2E_REDIS_IMAGE="${REDIS_IMAGE:-redis:7-bookworm}" E2E_NAMESPACE="${NAMESPACE:-smpp-e2e}" node hack/e2e/scenario.ts
