#!/usr/bin/env bash
# Installs the Debian packages the tests use as real peers and checkers. Idempotent: a rerun on a
# machine that has them costs one dpkg query.
set -euo pipefail
pkgs=(
  libnet-smpp-perl # third-party SMPP client/server (compatibility tests)
  openjdk-17-jdk-headless # java/javac for the jSMPP compatibility ESME (hack/jsmpp.sh)
  maven            # fetches jSMPP from Maven Central (hack/jsmpp.sh)
  kannel           # third-party SMS gateway (benchmark baseline)
  prometheus       # promtool for the PrometheusRule
  lua5.1           # runs the Argo CD health checks (hack/argocd-health-check.ts; Argo CD's Lua is 5.1)
  openssl          # throwaway CA and certificates for the TLS tests
  curl             # readiness probes of the test control plane (hack/control-plane.sh)
  iproute2         # ss: free loopback ports for the test control plane
  redis-server     # the Redis receipt store's tests start their own (temporary dir, free port)
  chromium         # headless browser for the console's tests (driven by playwright-core)
  fonts-dejavu-core # a font for chromium's rendering of the console (screenshots)
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts kannel's boxes as a service on install; the benchmark runs its own.
  $SUDO systemctl disable --now kannel >/dev/null 2>&1 || true
  $SUDO service kannel stop >/dev/null 2>&1 || true
  # Likewise redis-server: tests start their own on a free port.
  $SUDO systemctl disable --now redis-server >/dev/null 2>&1 || true
  $SUDO service redis-server stop >/dev/null 2>&1 || true
fi
