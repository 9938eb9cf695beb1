#!/usr/bin/env bash
# Checks of charts/smpp-operator with the real tools (hack/tools.sh builds and caches them):
#   - the chart's crds/ are the generated CRDs (node dist/cli.js crds --check)
#   - helm lint --strict over the default and the full values file (charts/smpp-operator/ci/)
#   - helm template | kubeconform -strict against offline schemas: Kubernetes $KUBE_VERSION's
#     OpenAPI, our CRDs and the Prometheus Operator's (ServiceMonitor, PrometheusRule)
#   - promtool check rules over the rendered PrometheusRule, and promtool test rules
#     (charts/smpp-operator/ci/alerts-test.yaml) over the alerts as rendered by default
#   - values.schema.json and the templates refuse bad values with a message
#   - the rendered chart applied with server-side dry-run to a real kube-apiserver
#     (hack/control-plane.sh; CHART_CHECK_APISERVER=0 skips it), and the example binds applied
#   - the Argo CD health Lua of manifests/examples/gitops under lua5.1
#   - every query of the Grafana dashboard parses as PromQL (promtool, as recording rules)
# Needs `npm run build` first (dist/cli.js).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH" # the project's Node 24 (runs hack/*.ts)

CHART=charts/smpp-operator
TOOLS=hack/tools.sh
KUBE_VERSION="${KUBE_VERSION:-v1.34.4}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/chart-check.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

log() { printf 'chart-check: %s\n' "$*" >&2; }

node dist/cli.js crds --check --out "$CHART/crds"

HELM="$(bash "$TOOLS" helm)"
KUBECONFORM="$(bash "$TOOLS" kubeconform)"
PROMTOOL="$(bash "$TOOLS" promtool)"
SWAGGER="$(bash "$TOOLS" kube-openapi)"
PROM_CRDS="$(bash "$TOOLS" prom-crds)"

log "manifests/install.yaml: in sync with the chart"
bash hack/render-manifests.sh --check

SCHEMAS="$WORK/schemas"
node hack/kube-json-schemas.ts "$SCHEMAS" "$SWAGGER" crds/*.yaml \
  "$PROM_CRDS/monitoring.coreos.com_servicemonitors.yaml" "$PROM_CRDS/monitoring.coreos.com_prometheusrules.yaml"

# The groups of every PrometheusRule in a rendered manifest, as a Prometheus rules file.
extract_rules() { # rendered.yaml out.yaml
  node --input-type=module -e '
    import { readFileSync, writeFileSync } from "node:fs";
    import { parseAllDocuments, stringify } from "yaml";
    const docs = parseAllDocuments(readFileSync(process.argv[1], "utf8")).map((d) => d.toJS());
    const rules = docs.filter((d) => d && d.kind === "PrometheusRule");
    if (rules.length) writeFileSync(process.argv[2], stringify({ groups: rules.flatMap((r) => r.spec.groups) }));
  ' "$1" "$2"
}

for values in "$CHART"/ci/*-values.yaml; do
  name="$(basename "$values" -values.yaml)"
  log "$name: helm lint"
  "$HELM" lint --strict "$CHART" -f "$values" --kube-version "${KUBE_VERSION#v}"

  rendered="$WORK/$name.yaml"
  "$HELM" template smpp-operator "$CHART" -n smpp-system -f "$values" --include-crds \
    --kube-version "${KUBE_VERSION#v}" >"$rendered"

  log "$name: kubeconform -strict ($(grep -c '^kind:' "$rendered") objects)"
  "$KUBECONFORM" -strict -summary -kubernetes-version "${KUBE_VERSION#v}" \
    -schema-location "$SCHEMAS/{{ .ResourceKind }}-{{ .Group }}-{{ .ResourceAPIVersion }}.json" \
    "$rendered"

  # PrometheusRule spec is a Prometheus rules file: let promtool judge the expressions.
  rules="$WORK/$name-rules.yaml"
  extract_rules "$rendered" "$rules"
  if [[ -f "$rules" ]]; then
    log "$name: promtool check rules"
    "$PROMTOOL" check rules "$rules"
  fi
done
log "alerts: promtool test rules"
mkdir -p "$WORK/alerts"
"$HELM" template smpp-operator "$CHART" -n smpp-system -f "$CHART/ci/default-values.yaml" \
  --set prometheusRule.enabled=true >"$WORK/alerts/rendered.yaml"
extract_rules "$WORK/alerts/rendered.yaml" "$WORK/alerts/rules.yaml"
cp "$CHART/ci/alerts-test.yaml" "$WORK/alerts/"
"$PROMTOOL" test rules "$WORK/alerts/alerts-test.yaml"

# Bad values must be refused, each with a message naming the problem.
refuse() { # expected-message-regex helm-args...
  local want=$1 out
  shift
  if out="$("$HELM" template smpp-operator "$CHART" -f "$CHART/ci/default-values.yaml" "$@" 2>&1)"; then
    log "FAIL: helm template $* was accepted"
    exit 1
  fi
  if ! grep -Eq "$want" <<<"$out"; then
    log "FAIL: helm template $* failed without /$want/: $out"
    exit 1
  fi
}
log "values: bad values are refused"
refuse 'config.apiBaseUrl is required' --set config.apiBaseUrl=
refuse 'maxConnections' --set listener.maxConnections=0
refuse 'externalTrafficPolicy' --set listener.service.externalTrafficPolicy=Sometimes
refuse 'listener.tls.secretName is required' --set listener.tls.enabled=true
refuse 'apiBaseUrl' --set config.apiBaseUrl=ftp://core
refuse 'Additional property|additional properties' --set config.pollIntervall=5
refuse 'receiptStore.redis.url is required' --set receiptStore.type=redis
refuse 'receiptStore.redis.deploy needs' --set receiptStore.redis.deploy=true
refuse 'receiptStore' --set receiptStore.type=mysql
refuse 'url' --set receiptStore.type=redis --set receiptStore.redis.url=http://redis:6379
log "dashboard: PromQL of every panel"
node --input-type=module -e '
  import { readFileSync, writeFileSync } from "node:fs";
  import { stringify } from "yaml";
  const dash = JSON.parse(readFileSync(process.argv[1], "utf8"));
  const rules = dash.panels.flatMap((p) => (p.targets ?? []).map((t, i) => ({
    record: `dashboard:panel_${p.id}_${i}`,
    // Grafana substitutes template variables before Prometheus sees the query.
    expr: t.expr.replaceAll("$namespace", ".*"),
  })));
  if (rules.length === 0) throw new Error("dashboard has no queries");
  writeFileSync(process.argv[2], stringify({ groups: [{ name: "dashboard", rules }] }));
' "$CHART/dashboards/smpp-operator.json" "$WORK/dashboard-rules.yaml"
"$PROMTOOL" check rules "$WORK/dashboard-rules.yaml"

log "argocd: health checks"
node hack/argocd-health-check.ts

if [[ "${CHART_CHECK_APISERVER:-1}" != 0 ]]; then
  log "apiserver: server-side dry-run of the rendered chart"
  CP="$WORK/cp"
  # The watchdog stops the plane if this script dies; the trap stops it on normal exit.
  SMPP_CP_OWNER_PID=$$ bash hack/control-plane.sh start "$CP" >/dev/null
  trap 'bash hack/control-plane.sh stop "$CP" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
  eval "$(bash hack/control-plane.sh env "$CP" | grep -E '^(KUBECONFIG|SMPP_CP_KUBECTL)=')"
  kubectl() { "$SMPP_CP_KUBECTL" --kubeconfig "$KUBECONFIG" "$@"; }
  kubectl apply --server-side -f crds/ -f "$PROM_CRDS/monitoring.coreos.com_servicemonitors.yaml" \
    -f "$PROM_CRDS/monitoring.coreos.com_prometheusrules.yaml" >/dev/null
  # A CRD read before the API server has written its first status has no conditions, and
  # kubectl wait then fails at once instead of waiting: retry until every CRD is Established.
  for i in $(seq 60); do
    kubectl wait --for condition=established --timeout=60s crd --all >/dev/null 2>&1 && break
    [ "$i" -lt 60 ] || { log "FAIL: CRDs not Established"; exit 1; }
    sleep 1
  done
  for values in "$CHART"/ci/*-values.yaml; do
    name="$(basename "$values" -values.yaml)"
    # Namespaces the release writes into must exist for a dry-run.
    for ns in $(grep -E '^  namespace: ' "$WORK/$name.yaml" | awk '{print $2}' | sort -u); do
      kubectl create namespace "$ns" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
    done
    out="$("$HELM" template smpp-operator "$CHART" -n smpp-system -f "$values" | kubectl apply --server-side --dry-run=server -f - 2>&1)" ||
      { log "FAIL: $name rejected by kube-apiserver: $out"; exit 1; }
    log "$name: $(grep -c 'serverside-applied (server dry run)' <<<"$out") objects accepted"
  done
  kubectl create namespace smpp-system --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  out="$(kubectl apply --server-side --dry-run=server -f manifests/install.yaml 2>&1)" ||
    { log "FAIL: manifests/install.yaml rejected by kube-apiserver: $out"; exit 1; }
  log "install.yaml: $(grep -c 'serverside-applied (server dry run)' <<<"$out") objects accepted"
  kubectl apply -n default -f manifests/examples/ >/dev/null
  kubectl create namespace smpp --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  kubectl apply -f manifests/examples/reference/ >/dev/null
  log "apiserver: example binds accepted: $(kubectl get smpp -A --no-headers | wc -l)"
fi
log "ok"
