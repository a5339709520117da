package argocd

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/entityhub/entityhub/controllers/sources"
)

func TestDeployedObjects(t *testing.T) {
	many := make([]any, 0, maxDeployed+5)
	for range maxDeployed + 5 {
		many = append(many, map[string]any{"group": "database.example.org", "kind": "PostgreSQLInstance", "namespace": "a", "name": "b"})
	}
	tests := map[string]struct {
		obj  *unstructured.Unstructured
		want []sources.ObjectRef
		n    int
	}{
		"nil object":           {},
		"no status":            {obj: &unstructured.Unstructured{Object: map[string]any{}}},
		"status not an object": {obj: &unstructured.Unstructured{Object: map[string]any{"status": "x"}}},
		"resources not a list": {obj: &unstructured.Unstructured{Object: map[string]any{"status": map[string]any{"resources": 3}}}},
		"entries, malformed ones skipped": {
			obj: &unstructured.Unstructured{Object: map[string]any{"status": map[string]any{"resources": []any{
				map[string]any{"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "pay", "name": "api", "status": "Synced"},
				map[string]any{"version": "v1", "kind": "Namespace", "name": "pay"},
				"not an object",
				map[string]any{"kind": "Service", "name": 7},
				map[string]any{"kind": "", "name": "x"},
				map[string]any{"group": "database.example.org", "kind": "PostgreSQLInstance", "namespace": "pay", "name": "db"},
			}}}},
			want: []sources.ObjectRef{
				{Group: "database.example.org", Kind: "PostgreSQLInstance", Namespace: "pay", Name: "db"},
			},
		},
		"built-in kinds, which are never sources, left out": {
			obj: &unstructured.Unstructured{Object: map[string]any{"status": map[string]any{"resources": []any{
				map[string]any{"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "pay", "name": "api", "status": "Synced"},
				map[string]any{"version": "v1", "kind": "Namespace", "name": "pay"},
				map[string]any{"group": "platform.example.org", "kind": "XDatabase", "name": "orders-db"},
			}}}},
			want: []sources.ObjectRef{{Group: "platform.example.org", Kind: "XDatabase", Name: "orders-db"}},
		},
		"bounded": {obj: &unstructured.Unstructured{Object: map[string]any{"status": map[string]any{"resources": many}}}, n: maxDeployed},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := DeployedObjects(tc.obj)
			if tc.n > 0 {
				if len(got) != tc.n {
					t.Fatalf("got %d objects, want %d", len(got), tc.n)
				}
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("DeployedObjects mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDeploysToHub(t *testing.T) {
	app := func(dest map[string]any) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"destination": dest}}}
	}
	renamed := func(server string) string {
		if server == InClusterServer {
			return "hub"
		}
		return ""
	}
	for name, tc := range map[string]struct {
		obj      *unstructured.Unstructured
		clusters ClusterNamer
		want     bool
	}{
		"the in-cluster server":                 {app(map[string]any{"server": "https://kubernetes.default.svc"}), nil, true},
		"the in-cluster server, trailing slash": {app(map[string]any{"server": "https://kubernetes.default.svc/"}), nil, true},
		"the in-cluster name":                   {app(map[string]any{"name": "in-cluster"}), nil, true},
		"the in-cluster, renamed by its Secret": {app(map[string]any{"name": "hub"}), renamed, true},
		"the old name once a Secret renamed it": {app(map[string]any{"name": "in-cluster"}), renamed, false},
		"the name wins over the server":         {app(map[string]any{"name": "prod-eu", "server": "https://kubernetes.default.svc"}), nil, false},
		"another cluster, by server":            {app(map[string]any{"server": "https://prod-eu.example.com"}), nil, false},
		"another cluster, by name":              {app(map[string]any{"name": "prod-eu"}), renamed, false},
		"no destination":                        {app(nil), nil, false},
		"a destination of another shape":        {&unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"destination": "in-cluster"}}}, nil, false},
		"no object":                             {nil, nil, false},
	} {
		t.Run(name, func(t *testing.T) {
			if got := DeploysToHub(tc.obj, tc.clusters); got != tc.want {
				t.Errorf("DeploysToHub = %v, want %v", got, tc.want)
			}
		})
	}
}
