#!/usr/bin/env bash
# The cluster end-to-end test on this machine: a real single-node Kubernetes (hack/cluster.sh),
# the image built from the Dockerfile, then the scenario of hack/e2e/scenario.ts (the chart
# installed with helm, binds Ready, traffic, failover, upgrade, Pod Security, GitOps health,
# Prometheus and alerts, uninstall). The cluster is torn down at the end, whatever happened
# (failure, Ctrl-C, SIGTERM), unless SMPP_E2E_KEEP=1.
#
#   bash hack/cluster-e2e.sh        (npm run e2e:cluster)
#
# Needs root, Go (first run: builds the Kubernetes binaries, helm and the kstatus checker) and
# `npm ci` done (the image's npm cache and Node 24). SMPP_E2E_KEEP=1 leaves the cluster up
# (then `bash hack/cluster.sh down`). One run at a time per machine: a second one waits for the
# first (flock on ${SMPP_CLUSTER_STATE:-/tmp/smpp-cluster}.lock, up to SMPP_E2E_LOCK_WAIT
# seconds, default 1800). Nothing is written into the checkout: state and logs in /tmp, builds
# in ~/.cache/smpp-operator.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

STATE="${SMPP_CLUSTER_STATE:-${TMPDIR:-/tmp}/smpp-cluster}"
KEEP="${SMPP_E2E_KEEP:-0}"
t0=$SECONDS
phases=()
phase_t=$SECONDS
stamp() {
  local d=$((SECONDS - phase_t))
  phases+=("$(printf '%6ss  %s' "$d" "$1")")
  printf 'cluster-e2e: %s (%ss, %ss in all)\n' "$1" "$d" "$((SECONDS - t0))" >&2
  phase_t=$SECONDS
}

[[ "$(id -u)" -eq 0 ]] || {
  echo "cluster-e2e: needs root (network namespace, containerd, kubelet)" >&2
  exit 1
}

exec 9>"$STATE.lock"
if ! flock -n 9; then
  echo "cluster-e2e: another run holds $STATE.lock; waiting (up to ${SMPP_E2E_LOCK_WAIT:-1800}s)" >&2
  flock -w "${SMPP_E2E_LOCK_WAIT:-1800}" 9 || {
    echo "cluster-e2e: $STATE.lock still held; giving up" >&2
    exit 1
  }
fi

summary_file="$(mktemp "${TMPDIR:-/tmp}/smpp-e2e-summary.XXXXXX")"
finish() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ "$KEEP" == 1 ]]; then
    echo "cluster-e2e: SMPP_E2E_KEEP=1: the cluster stays up (bash hack/cluster.sh down; env: bash hack/cluster.sh env)" >&2
  elif [[ -e "$STATE" ]] || ip netns list 2>/dev/null | grep -qw "${SMPP_CLUSTER_NETNS:-smpp-cluster}"; then
    bash hack/cluster.sh down >&2 || rc=1
    stamp "cluster down"
  fi
  echo
  echo "cluster e2e phases:"
  printf '  %s\n' "${phases[@]}"
  [[ -s "$summary_file" ]] && cat "$summary_file"
  rm -f "$summary_file"
  if ((rc == 0)); then
    echo "cluster e2e: PASS in $((SECONDS - t0))s"
  else
    echo "cluster e2e: FAIL (exit $rc) after $((SECONDS - t0))s; component logs in $STATE-logs"
  fi
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bash hack/cluster.sh deps
bash hack/deps.sh >/dev/null
HELM="$(bash hack/tools.sh helm)"
KSTATUS="$(bash hack/tools.sh kstatus)"
bash hack/tools.sh prom-crds >/dev/null
stamp "Debian packages, helm, kstatus"
bash hack/cluster.sh build
stamp "Kubernetes binaries, pause, base and Redis images"
bash hack/cluster.sh image smpp-operator:e2e
stamp "image built from the Dockerfile"

# A cluster left by an interrupted run goes first.
bash hack/cluster.sh down >/dev/null 2>&1 || true
bash hack/cluster.sh up >/dev/null
stamp "cluster up, node Ready"
eval "$(bash hack/cluster.sh env | sed 's/^/export /')"

# helm and kubectl run inside the cluster's network namespace, on PATH there by these names.
BIN="$SMPP_CLUSTER_STATE/bin"
mkdir -p "$BIN"
ln -sf "$HELM" "$BIN/helm"
ln -sf "$SMPP_CLUSTER_KUBECTL" "$BIN/kubectl"
export PATH="$BIN:$PATH"

E2E_EXEC="bash hack/cluster.sh exec" E2E_KILL_CONTAINER="bash hack/cluster.sh kill-container" \
  E2E_KSTATUS="$KSTATUS" E2E_PROMETHEUS=1 E2E_IMAGE=smpp-operator:e2e \
  E2E_REDIS_IMAGE="$SMPP_CLUSTER_REDIS_IMAGE" E2E_SUMMARY="$summary_file" \
  node hack/e2e/scenario.ts || {
  rc=$?
  stamp "scenario (failed)"
  exit "$rc"
}
stamp "scenario"
