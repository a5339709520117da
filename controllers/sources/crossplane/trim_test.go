package crossplane

import (
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/entityhub/entityhub/controllers/sources/sourcetest"
)

func TestTrimResource(t *testing.T) {
	tests := map[string]struct {
		status any
		want   any
	}{
		"atProvider and other status dropped, conditions kept without lastTransitionTime": {
			status: map[string]any{
				"atProvider":        map[string]any{"arn": "arn:aws:rds:eu-west-1:1:db:x", "endpoint": map[string]any{"address": "x"}},
				"connectionDetails": map[string]any{"lastPublishedTime": "2026-01-01T00:00:00Z"},
				"conditions": []any{map[string]any{
					"type": "Ready", "status": "False", "reason": "Creating", "message": "m",
					"observedGeneration": int64(3), "lastTransitionTime": "2026-01-01T00:00:00Z",
				}},
			},
			want: map[string]any{"conditions": []any{map[string]any{
				"type": "Ready", "status": "False", "reason": "Creating", "message": "m", "observedGeneration": int64(3),
			}}},
		},
		"no conditions: an empty status": {
			status: map[string]any{"atProvider": map[string]any{"id": "x"}},
			want:   map[string]any{},
		},
		"malformed conditions are kept for the mapper to report": {
			status: map[string]any{"conditions": "all good", "atProvider": map[string]any{}},
			want:   map[string]any{"conditions": "all good"},
		},
		"a status that is not an object is left alone": {
			status: "ready",
			want:   "ready",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			u := &unstructured.Unstructured{Object: map[string]any{"status": tc.status}}
			TrimResource(u)
			if diff := cmp.Diff(tc.want, u.Object["status"]); diff != "" {
				t.Errorf("status after TrimResource (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTrimKeepsWhatIsRead maps every fixture before and after TrimResource, with an
// atProvider added so that each trims something: the cache may only drop what the mapper
// and the tree never read.
func TestTrimKeepsWhatIsRead(t *testing.T) {
	for f, u := range sourcetest.Fixtures(t) {
		if status, ok := u.Object["status"].(map[string]any); ok {
			status["atProvider"] = map[string]any{"id": "external-id", "tags": map[string]any{"team": "payments"}}
		}
		md := u.Object["metadata"].(map[string]any)
		md["creationTimestamp"] = "2026-01-01T00:00:00Z"
		md["finalizers"] = []any{"finalizer.managedresource.crossplane.io"}
		trimmed := u.DeepCopy()
		TrimResource(trimmed)
		if _, ok := trimmed.Object["status"].(map[string]any)["atProvider"]; ok {
			t.Errorf("%s: atProvider kept", f)
		}
		for _, k := range []string{"creationTimestamp", "finalizers"} {
			if _, ok := trimmed.Object["metadata"].(map[string]any)[k]; ok {
				t.Errorf("%s: metadata.%s kept", f, k)
			}
		}
		if got, want := MapResource(trimmed), MapResource(u); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: MapResource differs after trimming:\n%+v\n%+v", f, want, got)
		}
		if got, want := Children(trimmed), Children(u); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Children differs after trimming", f)
		}
		if got, want := Parents(trimmed), Parents(u); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Parents differs after trimming", f)
		}
	}
}
