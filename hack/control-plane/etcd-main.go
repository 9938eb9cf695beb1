// Command etcd is a thin entry point over etcd's own etcdmain package, so the test control plane
// can build a pinned etcd from the Go module proxy (hack/control-plane.sh copies this file into a
// wrapper module in the build cache; it is not part of the TypeScript project).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
