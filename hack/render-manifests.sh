#!/usr/bin/env bash
# Renders manifests/install.yaml from the Helm chart (default values, CRDs included) for people who
# install with `kubectl apply -f`. `--check` fails when the committed file differs from a fresh render.
set -euo pipefail
cd "$(dirname "$0")/.."
HELM="$(bash hack/tools.sh helm)"
OUT=manifests/install.yaml
render() {
  printf '# Rendered from charts/smpp-operator by hack/render-manifests.sh; do not edit by hand.\n'
  printf '# Install: kubectl create namespace smpp-system && kubectl apply --server-side -f install.yaml\n'
  printf '# The core URL below is a placeholder (API_BASE_URL in the Deployment): edit it, or use helm.\n'
  "$HELM" template smpp-operator charts/smpp-operator --namespace smpp-system --include-crds \
    --set config.apiBaseUrl=https://smsc-core.smsc.svc:8443
}
fresh="$(mktemp)"
trap 'rm -f "$fresh"' EXIT
render >"$fresh"
if [[ "${1:-}" == --check ]]; then
  if ! diff -u "$OUT" "$fresh" >/dev/null 2>&1; then
    echo "render-manifests: $OUT is stale; run: bash hack/render-manifests.sh" >&2
    diff -u "$OUT" "$fresh" | head -40 >&2 || true
    exit 1
  fi
  echo "render-manifests: $OUT is up to date" >&2
else
  cp "$fresh" "$OUT"
  echo "render-manifests: wrote $OUT" >&2
fi
