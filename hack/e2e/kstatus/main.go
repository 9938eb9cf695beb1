// Command kstatus prints the status Flux and kpt compute for Kubernetes objects, with the real
// library (sigs.k8s.io/cli-utils/pkg/kstatus/status): it reads `kubectl get -o json` (one object
// or a List) on stdin and writes one JSON line per object: {"kind","name","status","message"}.
// hack/tools.sh builds it into the tools cache; the cluster e2e uses it on live binds.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type result struct {
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

func main() {
	raw, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail(err)
	}
	var obj unstructured.Unstructured
	if err := obj.UnmarshalJSON(raw); err != nil {
		fail(err)
	}
	items := []unstructured.Unstructured{obj}
	if obj.IsList() {
		list, err := obj.ToList()
		if err != nil {
			fail(err)
		}
		items = list.Items
	}
	enc := json.NewEncoder(os.Stdout)
	for i := range items {
		res, err := status.Compute(&items[i])
		if err != nil {
			fail(fmt.Errorf("%s/%s: %w", items[i].GetKind(), items[i].GetName(), err))
		}
		if err := enc.Encode(result{items[i].GetKind(), items[i].GetName(), res.Status.String(), res.Message}); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "kstatus:", err)
	os.Exit(1)
}
