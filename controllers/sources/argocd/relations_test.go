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
