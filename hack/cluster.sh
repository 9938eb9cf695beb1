#!/usr/bin/env bash
# A real single-node Kubernetes for the end-to-end test, without Docker or kind: etcd,
# kube-apiserver, kube-controller-manager, kube-scheduler, kubelet and kube-proxy (the same
# version as the test control plane, built from the same wrapper module), containerd + runc and
# the CNI plugins from Debian. Everything runs inside a network namespace this script creates
# (a veth pair with both ends in it, the pod bridge in it) and a mount namespace of its own, so
# nothing is added to the host's network and no mount outlives `down`.
#
#   hack/cluster.sh deps           install the Debian packages it needs (apt-get; root)
#   hack/cluster.sh build          build (or reuse cached) binaries, the pause image and the
#                                  stand-in node:24-bookworm-slim base image
#   hack/cluster.sh image [TAG]    build the Dockerfile with buildah (--pull=never) into TAG
#                                  (default smpp-operator:e2e) and import it into containerd
#   hack/cluster.sh up             start the cluster; waits for the node to be Ready
#   hack/cluster.sh env            print the env lines of the running cluster
#   hack/cluster.sh exec CMD...    run CMD inside the cluster's network namespace, with
#                                  KUBECONFIG set (kubectl, helm, curl to pod/Service IPs)
#   hack/cluster.sh kill-container NS POD CONTAINER
#                                  SIGKILL the container's processes, as the OOM killer would
#                                  (the kubelet restarts it in place, under the same pod name)
#   hack/cluster.sh down           stop everything, remove the namespaces, cgroups and state
#
# Needs root, Go (first build only) and the packages of `deps`. State (certificates, logs, pid
# files, containerd's store) lives in ${SMPP_CLUSTER_STATE:-/tmp/smpp-cluster}; builds are
# cached in ${SMPP_CP_CACHE:-~/.cache/smpp-operator}.
set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-v1.34.4}"
NPM_VERSION="${NPM_VERSION:-11.19.0}" # the npm that Node 24.21 bundles
PAUSE_IMAGE="registry.k8s.io/pause:3.10.1"
BASE_IMAGE="docker.io/library/node:24-bookworm-slim"
# The scenario's shared receipt store: Debian bookworm's redis-server (a local image, as the
# official redis image is not reachable here).
REDIS_IMAGE="docker.io/library/smpp-e2e-redis:bookworm"
CACHE="${SMPP_CP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/smpp-operator}"
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
STATE="${SMPP_CLUSTER_STATE:-${TMPDIR:-/tmp}/smpp-cluster}"
NETNS="${SMPP_CLUSTER_NETNS:-smpp-cluster}"

# Addresses exist only inside $NETNS: the node's end of the veth pair, the pod bridge and the
# Service range (kube-proxy DNATs those before routing, so they need only a route to the veth).
NODE_IP=10.213.0.1
PEER_IP=10.213.0.2
POD_CIDR=10.213.1.0/24
SERVICE_CIDR=10.213.2.0/24
API_SERVICE_IP=10.213.2.1
NODE_NAME=smpp-node
CGROUP_ROOT=/smpp-cluster

KUBE_DIR="$CACHE/kube-$KUBE_VERSION"
NODE_BIN="$KUBE_DIR/node-bin"
KUBECTL="$KUBE_DIR/bin/kubectl"
KUBE_APISERVER="$KUBE_DIR/bin/kube-apiserver"
IMAGES="$CACHE/cluster-images"
BUILDAH_ROOT="$CACHE/buildah-storage"

log() { printf 'cluster: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

need_root() { [[ "$(id -u)" -eq 0 ]] || die "needs root (network namespace, containerd, kubelet)"; }

# ---------------------------------------------------------------------------------------------
# deps
# ---------------------------------------------------------------------------------------------

DEB_PKGS=(
  containerd                  # CRI runtime (1.6)
  runc                        # crun fails on this cgroup v1 hybrid host
  containernetworking-plugins # bridge, host-local, portmap, loopback
  iptables conntrack          # kube-proxy
  buildah                     # builds the Dockerfile without a Docker engine
  mmdebstrap                  # the stand-in base image's root filesystem
  gcc libc6-dev               # the pause binary, statically linked
  openssl curl iproute2 util-linux
  prometheus                  # scrapes the gateway pods in the scenario
)

cmd_deps() {
  local missing=() p
  for p in "${DEB_PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  need_root
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts containerd as a service where it can; the cluster runs its own.
  service containerd stop >/dev/null 2>&1 || true
}

# ---------------------------------------------------------------------------------------------
# build
# ---------------------------------------------------------------------------------------------

# kubelet, kube-proxy, kube-scheduler and kube-controller-manager, from a module next to the one
# hack/control-plane.sh generates (its go.mod and replace list, other tools): the module cache
# and build cache are shared, and the two never build in the same directory.
build_node_binaries() {
  local tools=(kubelet kube-proxy kube-scheduler kube-controller-manager) t missing=0
  for t in "${tools[@]}"; do [[ -x "$NODE_BIN/$t" ]] || missing=1; done
  ((missing)) || return 0
  command -v go >/dev/null || die "go is not installed (needed once to build kubelet $KUBE_VERSION)"
  local src="$KUBE_DIR/src" nsrc="$KUBE_DIR/node-src"
  [[ -f "$src/go.mod" && -f "$src/go.sum" ]] || die "no $src/go.mod: run hack/control-plane.sh build first"
  mkdir -p "$nsrc"
  {
    echo "// Generated by hack/cluster.sh: builds the node components $KUBE_VERSION."
    sed -e '/^\/\/ /d' -e '/^tool (/,/^)/d' -e 's#control-plane/kube$#cluster/node#' "$src/go.mod"
    echo "tool ("
    for t in "${tools[@]}"; do echo "	k8s.io/kubernetes/cmd/$t"; done
    echo ")"
  } >"$nsrc/go.mod"
  cp "$src/go.sum" "$nsrc/go.sum"
  log "building ${tools[*]} $KUBE_VERSION in $nsrc (cold: ~10 min on 2 cores)"
  (cd "$nsrc" && nice go mod tidy)
  local date ld="-s -w" p minor
  minor="$(cut -d. -f2 <<<"$KUBE_VERSION")"
  date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  # The version stamps the release build sets (kubelet reports it to the API server).
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    ld+=" -X $p.gitTreeState=clean -X $p.buildDate=$date"
  done
  rm -rf "$NODE_BIN.tmp" && mkdir -p "$NODE_BIN.tmp"
  local pkgs=()
  for t in "${tools[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$t"); done
  (cd "$nsrc" && CGO_ENABLED=0 nice go build -trimpath -ldflags "$ld" -o "$NODE_BIN.tmp/" "${pkgs[@]}")
  rm -rf "$NODE_BIN" && mv "$NODE_BIN.tmp" "$NODE_BIN"
  log "built $("$NODE_BIN/kubelet" --version)"
}

# The pause image, from Kubernetes' own build/pause/linux/pause.c (no registry is reachable).
build_pause() {
  [[ -f "$IMAGES/pause.tar" ]] && return 0
  local dir src work
  dir="$(cd "${TMPDIR:-/tmp}" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  src="$dir/build/pause/linux/pause.c"
  [[ -f "$src" ]] || die "no build/pause/linux/pause.c in k8s.io/kubernetes@$KUBE_VERSION"
  work="$(mktemp -d)"
  gcc -Os -Wall -Werror -static -DVERSION="${PAUSE_IMAGE##*:}" -o "$work/pause" "$src"
  strip "$work/pause"
  mkdir -p "$IMAGES"
  buildah_ns bash -c '
    set -e
    c=$(buildah from scratch)
    buildah copy "$c" "$1/pause" /pause >/dev/null
    buildah config --entrypoint "[\"/pause\"]" --user 65535:65535 "$c"
    buildah commit -q --rm "$c" "$2" >/dev/null
    buildah push -q "$2" "docker-archive:$3.tmp:$2"
  ' pause "$work" "$PAUSE_IMAGE" "$IMAGES/pause.tar"
  mv "$IMAGES/pause.tar.tmp" "$IMAGES/pause.tar"
  rm -rf "$work"
  log "built $PAUSE_IMAGE from $src"
}

# buildah with the project's own storage, in a private mount namespace: its overlay mounts go
# away with the process, whatever happens.
buildah_ns() {
  local run
  run="$(mktemp -d)"
  mkdir -p "$BUILDAH_ROOT"
  # shellcheck disable=SC2016
  unshare --mount --propagation private env BUILDAH_ISOLATION=oci BR="$BUILDAH_ROOT" RR="$run" bash -c '
      buildah() { command buildah --root "$BR" --runroot "$RR" --storage-driver overlay "$@"; }
      export -f buildah
      "$@"
    ' buildah-ns "$@" ||
    {
      rm -rf "$run"
      return 1
    }
  rm -rf "$run"
}

# A stand-in for node:24-bookworm-slim (no registry is reachable here): a Debian bookworm
# minbase root filesystem from Debian's packages, the Node 24 binary of the `node` npm package
# (node_modules/node, what `npm ci` installs) and npm, laid out as the official image does.
build_base() {
  local node="$ROOT/node_modules/node/bin/node" ver
  [[ -x "$node" ]] || die "no $node: run npm ci first"
  ver="$("$node" --version)"
  [[ "$ver" == v24.* ]] || die "$node is $ver, not Node 24"
  local key="node-$ver-npm-$NPM_VERSION"
  if [[ "$(buildah_q inspect --type image --format '{{index .OCIv1.Config.Labels "smpp.standin"}}' "$BASE_IMAGE" 2>/dev/null)" == "$key" ]]; then
    return 0
  fi
  local work
  work="$(mktemp -d)"
  log "assembling the stand-in $BASE_IMAGE ($key) in $work"
  local rootfs="$IMAGES/bookworm-minbase.tar"
  if [[ ! -f "$rootfs" ]]; then
    # mmdebstrap mounts /proc and /dev into its chroot: a private mount namespace keeps them off
    # the host.
    unshare --mount --propagation private mmdebstrap --quiet --variant=minbase --mode=root --format=tar \
      --include=ca-certificates bookworm "$rootfs.tmp" http://deb.debian.org/debian
    mv "$rootfs.tmp" "$rootfs"
  fi
  (cd "$work" && npm pack --silent "npm@$NPM_VERSION" >/dev/null)
  mkdir -p "$work/add/usr/local/bin" "$work/add/usr/local/lib/node_modules/npm"
  cp "$node" "$work/add/usr/local/bin/node"
  tar -xzf "$work/npm-$NPM_VERSION.tgz" -C "$work/add/usr/local/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/add/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/add/usr/local/bin/npx"
  buildah_ns bash -c '
    set -e
    c=$(buildah from scratch)
    buildah add "$c" "$5" / >/dev/null
    buildah copy "$c" "$1/add" / >/dev/null
    # The official image has a `node` user (1000); the Dockerfile runs as 65532 and needs none.
    buildah run --isolation oci --network none "$c" -- sh -c "groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node && node --version && npm --version" >/dev/null
    buildah config --env NODE_VERSION="$2" --cmd "[\"node\"]" --label smpp.standin="$3" "$c"
    buildah commit -q --rm "$c" "$4" >/dev/null
  ' base "$work" "${ver#v}" "$key" "$BASE_IMAGE" "$rootfs"
  rm -rf "$work"
  log "stand-in $BASE_IMAGE ready"
}

# A Redis for the scenario's shared receipt store: a bookworm minbase root filesystem with
# Debian's redis-server package.
build_redis() {
  [[ -f "$IMAGES/redis.tar" ]] && return 0
  local rootfs="$IMAGES/bookworm-redis.tar"
  mkdir -p "$IMAGES"
  if [[ ! -f "$rootfs" ]]; then
    log "assembling a bookworm root filesystem with redis-server"
    unshare --mount --propagation private mmdebstrap --quiet --variant=minbase --mode=root --format=tar \
      --include=redis-server bookworm "$rootfs.tmp" http://deb.debian.org/debian
    mv "$rootfs.tmp" "$rootfs"
  fi
  buildah_ns bash -c '
    set -e
    c=$(buildah from scratch)
    buildah add "$c" "$1" / >/dev/null
    buildah config --cmd "[\"redis-server\"]" --label smpp.standin=debian-redis-server "$c"
    buildah commit -q --rm "$c" "$2" >/dev/null
    rm -f "$3.tmp"
    buildah push -q "$2" "docker-archive:$3.tmp:$2"
  ' redis "$rootfs" "$REDIS_IMAGE" "$IMAGES/redis.tar"
  mv "$IMAGES/redis.tar.tmp" "$IMAGES/redis.tar"
  log "built $REDIS_IMAGE"
}

buildah_q() { buildah --root "$BUILDAH_ROOT" --runroot "${TMPDIR:-/tmp}/smpp-buildah-q" --storage-driver overlay "$@"; }

cmd_build() {
  need_root
  mkdir -p "$CACHE"
  bash "$HERE/control-plane.sh" build
  exec 8>"$CACHE/.cluster-build.lock"
  flock 8
  build_node_binaries
  build_pause
  build_base
  build_redis
  flock -u 8
}

# ---------------------------------------------------------------------------------------------
# image
# ---------------------------------------------------------------------------------------------

# Builds the unchanged Dockerfile with no network: npm ci reads a copy of the host's npm cache
# (the one `npm ci` filled) in offline mode, mounted only while RUN steps run.
cmd_image() {
  need_root
  local tag="${1:-smpp-operator:e2e}" work ref
  [[ "$tag" == */* ]] && ref="$tag" || ref="docker.io/library/$tag"
  [[ -d "$HOME/.npm/_cacache" ]] || die "no npm cache in $HOME/.npm: run npm ci first"
  # The build context's content (what the Dockerfile copies) and the base: an unchanged tree
  # reuses the last image.
  local key
  key="$(cd "$ROOT" && { cat Dockerfile .dockerignore package.json package-lock.json tsconfig.json tsconfig.build.json; find src -type f | sort | xargs cat; echo "$ref"; buildah_q inspect --type image --format '{{.FromImageID}}' "$BASE_IMAGE" 2>/dev/null; } | sha256sum | cut -c1-16)"
  if [[ -f "$IMAGES/app.tar" && "$(cat "$IMAGES/app.key" 2>/dev/null)" == "$key" ]]; then
    log "$ref unchanged since the last build ($key)"
    import_app "$ref"
    return 0
  fi
  work="$(mktemp -d)"
  mkdir -p "$work/npm" "$IMAGES"
  cp -a "$HOME/.npm/_cacache" "$work/npm/_cacache"
  printf 'offline=true\naudit=false\nfund=false\nupdate-notifier=false\n' >"$work/npmrc"
  local t0=$SECONDS
  buildah_ns bash -c '
    set -e
    buildah bud --pull=never --network none --layers=false -q \
      -v "$1/npm:/root/.npm" -v "$1/npmrc:/root/.npmrc:ro" -t "$2" -f "$3/Dockerfile" "$3" >/dev/null
    rm -f "$4.tmp"
    buildah push -q "$2" "docker-archive:$4.tmp:$2"
  ' image "$work" "$ref" "$ROOT" "$IMAGES/app.tar"
  mv "$IMAGES/app.tar.tmp" "$IMAGES/app.tar"
  echo "$key" >"$IMAGES/app.key"
  rm -rf "$work"
  log "built $ref in $((SECONDS - t0))s"
  import_app "$ref"
}

import_app() {
  if [[ -S "$STATE/containerd/containerd.sock" ]]; then
    ctr_ -n k8s.io images import "$IMAGES/app.tar" >/dev/null
    log "imported $1 into the cluster's containerd"
  fi
}

ctr_() { ctr --address "$STATE/containerd/containerd.sock" "$@"; }

# ---------------------------------------------------------------------------------------------
# up
# ---------------------------------------------------------------------------------------------

ec_key() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "$@" 2>/dev/null; }

sign() { # name subject ext
  local n="$1"
  ec_key -keyout "$n.key" -out "$n.csr" -subj "$2"
  printf '%s\n' "$3" >"$n.ext"
  openssl x509 -req -in "$n.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 7 -extfile "$n.ext" -out "$n.crt" 2>/dev/null
  rm -f "$n.csr" "$n.ext"
}

gen_pki() {
  local pki="$STATE/pki" client='extendedKeyUsage=clientAuth
keyUsage=critical,digitalSignature,keyEncipherment'
  mkdir -p "$pki" && chmod 700 "$pki"
  (
    cd "$pki"
    ec_key -x509 -keyout ca.key -out ca.crt -days 7 -subj "/CN=smpp-cluster-ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    sign apiserver "/CN=kube-apiserver" "subjectAltName=IP:$NODE_IP,IP:$API_SERVICE_IP,IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
extendedKeyUsage=serverAuth
keyUsage=critical,digitalSignature,keyEncipherment"
    sign kubelet-serving "/CN=$NODE_NAME" "subjectAltName=IP:$NODE_IP,DNS:$NODE_NAME
extendedKeyUsage=serverAuth
keyUsage=critical,digitalSignature,keyEncipherment"
    sign admin "/O=system:masters/CN=smpp-cluster-admin" "$client"
    sign kubelet "/O=system:nodes/CN=system:node:$NODE_NAME" "$client"
    sign apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "$client"
    sign controller-manager "/CN=system:kube-controller-manager" "$client"
    sign scheduler "/CN=system:kube-scheduler" "$client"
    sign kube-proxy "/CN=system:kube-proxy" "$client"
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    rm -f ./*.srl
    chmod 600 ./*.key
  )
}

kubeconfig() { # name (cert name under pki)
  local pki="$STATE/pki" f="$STATE/$1.kubeconfig"
  cat >"$f" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: smpp-cluster
  cluster:
    server: https://$NODE_IP:6443
    certificate-authority-data: $(base64 -w0 <"$pki/ca.crt")
users:
- name: $1
  user:
    client-certificate-data: $(base64 -w0 <"$pki/$1.crt")
    client-key-data: $(base64 -w0 <"$pki/$1.key")
contexts:
- name: smpp-cluster
  context: {cluster: smpp-cluster, user: $1, namespace: default}
current-context: smpp-cluster
EOF
  chmod 600 "$f"
}

# Inside the cluster's network and mount namespaces (those of the holder process).
in_ns() { nsenter --target "$(cat "$STATE/holder.pid")" --mount --net -- "$@"; }

# Starts a component in the namespaces, in its own session, logging to STATE/logs/NAME.log.
spawn() { # name binary args...
  local name="$1"
  shift
  # shellcheck disable=SC2094
  setsid nsenter --target "$(cat "$STATE/holder.pid")" --mount --net -- "$@" \
    >>"$STATE/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$STATE/pids/$name"
}

wait_for() { # seconds what command...
  local secs="$1" what="$2" i
  shift 2
  for ((i = 0; i < secs * 2; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  die "$what not ready after ${secs}s (logs in $STATE/logs)"
}

kc() { in_ns "$KUBECTL" --kubeconfig "$STATE/admin.kubeconfig" "$@"; }

setup_netns() {
  ip netns add "$NETNS"
  echo "$NETNS" >"$STATE/netns"
  local x="ip netns exec $NETNS"
  $x ip link set lo up
  $x ip link add smpp-node type veth peer name smpp-peer
  $x ip addr add "$NODE_IP/24" dev smpp-node
  $x ip addr add "$PEER_IP/24" dev smpp-peer
  $x ip link set smpp-node up
  $x ip link set smpp-peer up
  $x ip route add "$SERVICE_CIDR" dev smpp-node
  $x sysctl -q -w net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1
}

holder_in_ns() {
  local pid
  pid="$(cat "$STATE/holder.pid")"
  [[ "$(readlink "/proc/$pid/ns/net" 2>/dev/null)" == "$(readlink "/run/netns/$NETNS" 2>/dev/null || stat -L -c 'net:[%i]' "/run/netns/$NETNS")" ]]
}

# The holder: a process that only sleeps, whose network namespace is $NETNS and whose mount
# namespace (private to the cluster, a slave of the host's) every component joins. When it and
# the components are gone, every mount made inside (volumes, container root filesystems,
# the tmpfs below) goes with them.
start_holder() {
  # Not `ip netns exec`: it remounts /sys, which hides the cgroup mounts the kubelet needs.
  setsid nsenter --net="/run/netns/$NETNS" unshare --mount --propagation slave sleep infinity </dev/null >/dev/null 2>&1 &
  echo $! >"$STATE/holder.pid"
  wait_for 10 "holder" holder_in_ns
  readlink "/proc/$(cat "$STATE/holder.pid")/ns/mnt" >"$STATE/holder.mntns"
  # Paths the kubelet, containerd and CNI hard-code: a tmpfs over each, inside the namespace only.
  local d
  for d in /var/lib/kubelet /var/log/containers /var/log/pods /var/lib/cni /run/containerd; do
    if [[ ! -e "$d" ]]; then
      mkdir -p "$d"
      echo "$d" >>"$STATE/created-dirs"
    fi
    in_ns mount -t tmpfs -o mode=0755 smpp-cluster "$d"
  done
  # containerd's content store and unpacked snapshots (~2 GB with the images) in memory: the
  # import is faster, and they go with the namespace at `down` instead of a long rm -rf of some
  # hundred thousand files (36 s here).
  mkdir -p "$STATE/containerd/root"
  in_ns mount -t tmpfs -o mode=0711,size=8g smpp-cluster "$STATE/containerd/root"
}

make_cgroups() {
  local c
  for c in /sys/fs/cgroup/*/; do
    [[ -d "$c" ]] || continue
    mkdir -p "$c${CGROUP_ROOT#/}"
  done
}

write_configs() {
  mkdir -p "$STATE/cni/net.d" "$STATE/containerd"
  cat >"$STATE/cni/net.d/10-smpp.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "smpp-cluster",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "smpp-br0",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$POD_CIDR"}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": "$STATE/cni/ipam"
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
  # restrict_oom_score_adj: the bounding set here lacks CAP_SYS_RESOURCE. No systemd: cgroupfs.
  cat >"$STATE/containerd/config.toml" <<EOF
version = 2
root = "$STATE/containerd/root"
state = "$STATE/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$STATE/containerd/containerd.sock"
[ttrpc]
  address = "$STATE/containerd/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$STATE/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "/usr/sbin/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE/cni/net.d"
EOF
  printf '# no DNS in this cluster: Services by ClusterIP\n' >"$STATE/resolv.conf"
  cat >"$STATE/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: $STATE/pki/kubelet-serving.crt
tlsPrivateKeyFile: $STATE/pki/kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $STATE/pki/ca.crt}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix://$STATE/containerd/containerd.sock
cgroupDriver: cgroupfs
cgroupRoot: $CGROUP_ROOT
failCgroupV1: false
failSwapOn: false
resolvConf: $STATE/resolv.conf
podLogsDir: $STATE/pod-logs
rotateCertificates: false
serializeImagePulls: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
evictionPressureTransitionPeriod: 10s
nodeStatusUpdateFrequency: 5s
syncFrequency: 10s
fileCheckFrequency: 10s
maxPods: 50
EOF
  cat >"$STATE/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $STATE/kube-proxy.kubeconfig}
hostnameOverride: $NODE_NAME
mode: iptables
clusterCIDR: $POD_CIDR
bindAddress: $NODE_IP
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# 0: leave nf_conntrack_max alone (it is not writable from a network namespace).
conntrack: {maxPerCore: 0}
EOF
}

start_etcd() {
  local etcd
  etcd="$CACHE/etcd-${ETCD_VERSION:-v3.6.4}/bin/etcd"
  spawn etcd "$etcd" --name smpp-cluster --data-dir "$STATE/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster smpp-cluster=http://127.0.0.1:2380 --unsafe-no-fsync --log-level warn
  wait_for 30 etcd in_ns curl -fsS -m 2 http://127.0.0.1:2379/health
}

start_apiserver() {
  local pki="$STATE/pki"
  spawn kube-apiserver "$KUBE_APISERVER" \
    --advertise-address="$NODE_IP" --bind-address=0.0.0.0 --secure-port=6443 \
    --cert-dir="$STATE/apiserver-certs" --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
    --client-ca-file="$pki/ca.crt" --etcd-servers=http://127.0.0.1:2379 \
    --service-cluster-ip-range="$SERVICE_CIDR" --allow-privileged=true \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
    --kubelet-client-certificate="$pki/apiserver-kubelet-client.crt" --kubelet-client-key="$pki/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="$pki/ca.crt" --kubelet-preferred-address-types=InternalIP \
    --profiling=false
  wait_for 120 kube-apiserver kc get --raw /readyz
}

start_control() {
  spawn kube-controller-manager "$NODE_BIN/kube-controller-manager" \
    --kubeconfig="$STATE/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$STATE/controller-manager.kubeconfig" \
    --authorization-kubeconfig="$STATE/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --leader-elect=false --use-service-account-credentials=true \
    --service-account-private-key-file="$STATE/pki/sa.key" --root-ca-file="$STATE/pki/ca.crt" \
    --cluster-signing-cert-file="$STATE/pki/ca.crt" --cluster-signing-key-file="$STATE/pki/ca.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" --controllers='*,-bootstrapsigner,-tokencleaner'
  spawn kube-scheduler "$NODE_BIN/kube-scheduler" \
    --kubeconfig="$STATE/scheduler.kubeconfig" \
    --authentication-kubeconfig="$STATE/scheduler.kubeconfig" \
    --authorization-kubeconfig="$STATE/scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --leader-elect=false
}

start_node() {
  spawn containerd containerd --config "$STATE/containerd/config.toml"
  wait_for 30 containerd ctr_ version
  ctr_ -n k8s.io images import "$IMAGES/pause.tar" >/dev/null
  ctr_ -n k8s.io images import "$IMAGES/redis.tar" >/dev/null
  if [[ -f "$IMAGES/app.tar" ]]; then ctr_ -n k8s.io images import "$IMAGES/app.tar" >/dev/null; fi
  spawn kubelet "$NODE_BIN/kubelet" --config="$STATE/kubelet.yaml" \
    --kubeconfig="$STATE/kubelet.kubeconfig" --node-ip="$NODE_IP" --hostname-override="$NODE_NAME" \
    --root-dir="$STATE/kubelet" --cert-dir="$STATE/kubelet-certs"
  spawn kube-proxy "$NODE_BIN/kube-proxy" --config="$STATE/kube-proxy.yaml"
}

write_env() {
  {
    echo "KUBECONFIG=$STATE/admin.kubeconfig"
    echo "SMPP_CLUSTER_STATE=$STATE"
    echo "SMPP_CLUSTER_NETNS=$NETNS"
    echo "SMPP_CLUSTER_KUBECTL=$KUBECTL"
    echo "SMPP_CLUSTER_SERVER=https://$NODE_IP:6443"
    echo "SMPP_CLUSTER_KUBE_VERSION=$KUBE_VERSION"
    echo "SMPP_CLUSTER_REDIS_IMAGE=$REDIS_IMAGE"
  } >"$STATE/env"
}

cmd_up() {
  need_root
  [[ -e "$STATE/holder.pid" ]] && die "a cluster state exists in $STATE: run down first"
  ip netns list 2>/dev/null | grep -qw "$NETNS" && die "network namespace $NETNS exists: run down first"
  for b in kubelet kube-proxy kube-scheduler kube-controller-manager; do
    [[ -x "$NODE_BIN/$b" ]] || die "no $NODE_BIN/$b: run hack/cluster.sh build first"
  done
  [[ -f "$IMAGES/pause.tar" && -f "$IMAGES/redis.tar" ]] || die "no pause or redis image: run hack/cluster.sh build first"
  local t0=$SECONDS
  mkdir -p "$STATE/logs" "$STATE/pids"
  STATE="$(cd "$STATE" && pwd)"
  trap 'if [[ $? -ne 0 ]]; then keep_logs; log "up failed; tearing down"; cmd_down >/dev/null 2>&1 || true; fi' EXIT
  gen_pki
  local n
  for n in admin kubelet controller-manager scheduler kube-proxy; do kubeconfig "$n"; done
  setup_netns
  start_holder
  make_cgroups
  write_configs
  start_etcd
  start_apiserver
  start_control
  start_node
  # The node is Ready once the kubelet registered and the CNI config is in place.
  wait_for 180 "node $NODE_NAME" node_ready
  # Pods need the default ServiceAccount of their namespace (the controller-manager makes it).
  wait_for 60 "default ServiceAccount" kc -n default get serviceaccount default
  write_env
  trap - EXIT
  log "cluster $KUBE_VERSION up in $((SECONDS - t0))s: node $NODE_NAME Ready; state in $STATE"
  cat "$STATE/env"
}

node_ready() {
  [[ "$(kc get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
}

# ---------------------------------------------------------------------------------------------
# down
# ---------------------------------------------------------------------------------------------

pid_alive() { [[ -n "$1" ]] && kill -0 "$1" 2>/dev/null; }

# SIGTERM to each named component at once, SIGKILL to any still there 10 s later.
stop_pid() { # name...
  local n f pid pids=() i left
  for n in "$@"; do
    f="$STATE/pids/$n"
    [[ -f "$f" ]] || continue
    pid="$(cat "$f")"
    if pid_alive "$pid"; then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
    rm -f "$f"
  done
  for ((i = 0; i < 100; i++)); do
    left=0
    for pid in "${pids[@]}"; do pid_alive "$pid" && left=1; done
    ((left)) || return 0
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
}

# Every pid in the cluster's cgroups (the pods' containers), killed until none is left.
kill_cgroups() {
  local i pids
  for ((i = 0; i < 50; i++)); do
    pids="$(find /sys/fs/cgroup/*/"${CGROUP_ROOT#/}" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u || true)"
    [[ -z "$pids" ]] && break
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    sleep 0.2
  done
  local c
  for c in /sys/fs/cgroup/*/; do
    [[ -d "$c${CGROUP_ROOT#/}" ]] || continue
    find "$c${CGROUP_ROOT#/}" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
}

# Any process left in the cluster's mount namespace (containerd shims, a stray exec).
kill_ns_members() {
  local ns="$1" pat i pids
  [[ -n "$ns" ]] || return 0
  # One find over /proc (not a readlink per process): the link's target, brackets escaped.
  pat="${ns//[/\\[}"
  pat="${pat//]/\\]}"
  for ((i = 0; i < 50; i++)); do
    pids="$(find /proc/[0-9]*/ns/mnt -maxdepth 0 -lname "$pat" 2>/dev/null | cut -d/ -f3 | grep -vx "$$" || true)"
    [[ -z "$pids" ]] && break
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    sleep 0.2
  done
}

# The components' logs outlive the state dir: ${STATE}-logs (the last run's).
keep_logs() {
  [[ -d "$STATE/logs" ]] || return 0
  rm -rf "$STATE-logs" && cp -a "$STATE/logs" "$STATE-logs"
  # The pods' own logs too (a deleted pod's are gone by then; the survivors' say what they saw).
  if [[ -d "$STATE/pod-logs" ]]; then
    cp -a "$STATE/pod-logs" "$STATE-logs/pods" 2>/dev/null || true
  fi
  log "logs kept in $STATE-logs"
}

cmd_down() {
  need_root
  if [[ ! -d "$STATE" ]]; then
    log "nothing to tear down in $STATE"
    ip netns del "$NETNS" 2>/dev/null || true
    return 0
  fi
  STATE="$(cd "$STATE" && pwd)"
  local mntns=""
  [[ -f "$STATE/holder.mntns" ]] && mntns="$(cat "$STATE/holder.mntns")"
  keep_logs
  # Order: no kubelet to restart containers, then the containers, then the rest.
  stop_pid kubelet
  stop_pid prometheus
  kill_cgroups
  stop_pid kube-proxy containerd kube-scheduler kube-controller-manager kube-apiserver
  stop_pid etcd
  kill_ns_members "$mntns"
  if [[ -f "$STATE/holder.pid" ]]; then
    kill -KILL "$(cat "$STATE/holder.pid")" 2>/dev/null || true
    rm -f "$STATE/holder.pid"
  fi
  kill_cgroups
  ip netns del "$NETNS" 2>/dev/null || true
  if [[ -f "$STATE/created-dirs" ]]; then
    while read -r d; do rmdir "$d" 2>/dev/null || true; done <"$STATE/created-dirs"
  fi
  # Only a directory this script populated; nothing is mounted in it outside the dead namespace.
  if [[ -d "$STATE/pki" || -f "$STATE/netns" ]]; then rm -rf "$STATE"; fi
  log "down"
}

cmd_env() { cat "$STATE/env" 2>/dev/null || die "no cluster running (no $STATE/env)"; }

cmd_exec() {
  [[ -f "$STATE/holder.pid" ]] || die "no cluster running"
  KUBECONFIG="$STATE/admin.kubeconfig" exec nsenter --target "$(cat "$STATE/holder.pid")" --net -- "$@"
}

# containerd's task of a pod's container, killed from outside its PID namespace (a SIGKILL sent
# from inside would not reach its PID 1).
cmd_kill_container() {
  need_root
  local ns="${1:?namespace}" pod="${2:?pod}" name="${3:?container}" id killed=0
  for id in $(ctr_ -n k8s.io containers ls -q \
    "labels.\"io.kubernetes.pod.namespace\"==$ns,labels.\"io.kubernetes.pod.name\"==$pod,labels.\"io.kubernetes.container.name\"==$name"); do
    ctr_ -n k8s.io tasks ls | awk -v id="$id" '$1 == id && $3 == "RUNNING" { found = 1 } END { exit !found }' || continue
    ctr_ -n k8s.io tasks kill --all --signal SIGKILL "$id"
    killed=$((killed + 1))
  done
  ((killed > 0)) || die "no running container $name in pod $ns/$pod"
  log "SIGKILLed container $name of $ns/$pod"
}

case "${1:-}" in
  deps) cmd_deps ;;
  build) cmd_build ;;
  build-images) # the pause and stand-in base images only (no Go build)
    need_root
    build_pause
    build_base
    build_redis
    ;;
  image) cmd_image "${2:-}" ;;
  up) cmd_up ;;
  down) cmd_down ;;
  env) cmd_env ;;
  exec)
    shift
    cmd_exec "$@"
    ;;
  kill-container)
    shift
    cmd_kill_container "$@"
    ;;
  *)
    sed -n '2,20p' "$0" >&2
    exit 2
    ;;
esac
