#!/usr/bin/env bash
# Chart checking tools, built from their Go modules (helm is not packaged in Debian) and cached
# outside the repository, keyed by version:
#   ${SMPP_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/smpp-operator/tools}/<tool>-<version>[-k8s<minor>]/bin/<tool>
#
#   hack/tools.sh helm          print the path of helm (building it on first use)
#   hack/tools.sh kubeconform   print the path of kubeconform
#   hack/tools.sh promtool      print the path of promtool (Debian package prometheus, see hack/deps.sh)
#   hack/tools.sh kube-openapi  print the path of the Kubernetes OpenAPI (swagger.json) of KUBE_VERSION
#   hack/tools.sh prom-crds     print the folder of the prometheus-operator CRDs (ServiceMonitor, PrometheusRule)
#   hack/tools.sh kstatus       print the path of hack/e2e/kstatus (Flux's kstatus library) built
#   hack/tools.sh all           all of the above
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v3.21.4}"
KUBECONFORM_VERSION="${KUBECONFORM_VERSION:-v0.8.0}"
CLI_UTILS_VERSION="${CLI_UTILS_VERSION:-v0.37.2}"
KUBE_VERSION="${KUBE_VERSION:-v1.34.4}"
PROM_OPERATOR_VERSION="${PROM_OPERATOR_VERSION:-v0.85.0}"
CACHE="${SMPP_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/smpp-operator/tools}"

log() { printf 'tools: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

need_go() { command -v go >/dev/null || die "go is not installed (needed once to build $1)"; }

# go install into a temporary bin, then rename: an interrupted build never leaves a half binary.
go_install() { # name cache-key package@version ldflags
  local name=$1 pkg=$3 ldflags=$4 dir="$CACHE/$1-$2"
  if [[ ! -x "$dir/bin/$name" ]]; then
    need_go "$name"
    log "building $pkg (first use; cached in $dir)"
    rm -rf "$dir/bin.tmp"
    mkdir -p "$dir/bin.tmp"
    GOBIN="$dir/bin.tmp" CGO_ENABLED=0 GOFLAGS=-mod=mod go install -trimpath -ldflags "-s -w $ldflags" "$pkg" >&2
    rm -rf "$dir/bin"
    mv "$dir/bin.tmp" "$dir/bin"
  fi
  echo "$dir/bin/$name"
}

helm_path() {
  # helm's default Kubernetes version (Capabilities.KubeVersion, lint deprecations) is set at link
  # time from the client-go it is built with, as its Makefile does; without it helm says v1.20.
  local gomod minor
  need_go helm
  gomod="$(cd "${TMPDIR:-/tmp}" && GOFLAGS=-mod=mod go mod download -json "helm.sh/helm/v3@$HELM_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  minor="$(sed -n 's#^[[:space:]]*k8s.io/client-go v0\.\([0-9]*\)\..*#\1#p' "$gomod" | head -1)"
  [[ -n "$minor" ]] || die "cannot find the client-go version of helm $HELM_VERSION"
  local p=helm.sh/helm/v3
  go_install helm "$HELM_VERSION-k8s1.$minor" "$p/cmd/helm@$HELM_VERSION" \
    "-X $p/internal/version.version=$HELM_VERSION -X $p/pkg/lint/rules.k8sVersionMajor=1 -X $p/pkg/lint/rules.k8sVersionMinor=$minor -X $p/pkg/chartutil.k8sVersionMajor=1 -X $p/pkg/chartutil.k8sVersionMinor=$minor"
}

kubeconform_path() {
  go_install kubeconform "$KUBECONFORM_VERSION" "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION" ""
}

promtool_path() {
  command -v promtool >/dev/null || die "promtool is missing: install the Debian package prometheus (bash hack/deps.sh)"
  command -v promtool
}

# Module source through the Go module proxy (read-only, in GOMODCACHE); prints its directory.
module_dir() { # module@version
  need_go "$1"
  local dir
  dir="$(cd "${TMPDIR:-/tmp}" && GOFLAGS=-mod=mod go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [[ -n "$dir" && -d "$dir" ]] || die "could not download $1"
  echo "$dir"
}

kube_openapi_path() {
  local f
  f="$(module_dir "k8s.io/kubernetes@$KUBE_VERSION")/api/openapi-spec/swagger.json"
  [[ -f "$f" ]] || die "no api/openapi-spec/swagger.json in k8s.io/kubernetes@$KUBE_VERSION"
  echo "$f"
}

prom_crds_path() {
  local d
  d="$(module_dir "github.com/prometheus-operator/prometheus-operator@$PROM_OPERATOR_VERSION")/example/prometheus-operator-crd"
  [[ -f "$d/monitoring.coreos.com_servicemonitors.yaml" ]] || die "no ServiceMonitor CRD in $d"
  echo "$d"
}

# The kstatus checker of the cluster e2e: hack/e2e/kstatus/main.go in a module that requires
# sigs.k8s.io/cli-utils, keyed by that version and the source's hash.
kstatus_path() {
  local main="$(cd "$(dirname "$0")" && pwd)/e2e/kstatus/main.go" sum dir
  sum="$(sha256sum "$main" | cut -c1-12)"
  dir="$CACHE/kstatus-$CLI_UTILS_VERSION-$sum"
  if [[ ! -x "$dir/bin/kstatus" ]]; then
    need_go kstatus
    log "building the kstatus checker with sigs.k8s.io/cli-utils $CLI_UTILS_VERSION (cached in $dir)"
    rm -rf "$dir/src" "$dir/bin.tmp"
    mkdir -p "$dir/src" "$dir/bin.tmp"
    cp "$main" "$dir/src/main.go"
    printf 'module smpp-operator.local/kstatus\n\ngo 1.24.0\n\nrequire sigs.k8s.io/cli-utils %s\n' "$CLI_UTILS_VERSION" >"$dir/src/go.mod"
    (cd "$dir/src" && go mod tidy >&2 && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$dir/bin.tmp/kstatus" . >&2)
    rm -rf "$dir/bin"
    mv "$dir/bin.tmp" "$dir/bin"
  fi
  echo "$dir/bin/kstatus"
}

case "${1:-}" in
  helm) helm_path ;;
  kstatus) kstatus_path ;;
  kubeconform) kubeconform_path ;;
  promtool) promtool_path ;;
  kube-openapi) kube_openapi_path ;;
  prom-crds) prom_crds_path ;;
  all)
    helm_path
    kubeconform_path
    promtool_path
    kube_openapi_path
    prom_crds_path
    kstatus_path
    ;;
  *)
    sed -n '2,12p' "$0" >&2
    exit 2
    ;;
esac
