#!/usr/bin/env bash
# End-to-end on kind: build the image, create a cluster, helm install the chart, run the SMSC
# simulator in the cluster, apply the example binds and wait until they report Ready.
# Needs docker, kind, kubectl and helm on PATH (hosted CI runners have them). It cannot run on the
# development machines of this project, which have no Docker engine.
set -euo pipefail
cd "$(dirname "$0")/.."

CLUSTER=${KIND_CLUSTER:-smpp-operator-e2e}
IMAGE=${IMAGE:-smpp-operator:e2e}
NS=${NAMESPACE:-smpp-system}
TIMEOUT=${TIMEOUT:-180s}

cleanup() {
  if [ "${KEEP_CLUSTER:-0}" != 1 ]; then kind delete cluster --name "$CLUSTER" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

docker build -t "$IMAGE" .
kind create cluster --name "$CLUSTER" --wait 120s
kind load docker-image "$IMAGE" --name "$CLUSTER"

kubectl create namespace "$NS" --dry-run=client -o yaml | kubectl apply -f -

# The simulator stands in for a carrier inside the cluster; the same image carries it.
kubectl -n "$NS" apply -f - <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: smsc-sim}
spec:
  replicas: 1
  selector: {matchLabels: {app: smsc-sim}}
  template:
    metadata: {labels: {app: smsc-sim}}
    spec:
      containers:
      - name: sim
        image: $IMAGE
        imagePullPolicy: Never
        args: [smsc-sim, --host, 0.0.0.0, --port, "2775", --http-port, "2776", --user, "demo_carrier:carpass1"]
        ports: [{containerPort: 2775}, {containerPort: 2776}]
---
apiVersion: v1
kind: Service
metadata: {name: smsc-sim}
spec:
  selector: {app: smsc-sim}
  ports: [{name: smpp, port: 2775}, {name: http, port: 2776}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: devcore}
spec:
  replicas: 1
  selector: {matchLabels: {app: devcore}}
  template:
    metadata: {labels: {app: devcore}}
    spec:
      containers:
      - name: devcore
        image: $IMAGE
        imagePullPolicy: Never
        args: [devcore, --host, 0.0.0.0, --port, "8080"]
        ports: [{containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: devcore}
spec:
  selector: {app: devcore}
  ports: [{name: http, port: 8080}]
YAML

helm upgrade --install smpp-operator charts/smpp-operator -n "$NS" \
  --set image.repository="${IMAGE%:*}" --set image.tag="${IMAGE##*:}" --set image.pullPolicy=Never \
  --set config.apiBaseUrl="http://devcore.$NS.svc:8080" --set config.verifySslPeer=false \
  --set replicaCount=2 --wait --timeout "$TIMEOUT"

# The example carrier bind points at 127.0.0.1 for the local demo; in the cluster it is the
# simulator's Service.
sed "s/host: 127.0.0.1/host: smsc-sim.$NS.svc/" manifests/examples/client-bind.yaml | kubectl -n "$NS" apply -f -
kubectl -n "$NS" apply -f manifests/examples/server-bind.yaml

kubectl -n "$NS" wait --for=condition=Ready smppclientbinds --all --timeout "$TIMEOUT"
kubectl -n "$NS" wait --for=condition=Ready smppserverbinds --all --timeout "$TIMEOUT"
kubectl -n "$NS" get smppclientbinds,smppserverbinds -o wide
echo "kind e2e: binds Ready"
