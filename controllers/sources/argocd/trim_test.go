package argocd

import (
	"reflect"
	"testing"

	"github.com/entityhub/entityhub/controllers/sources"
	"github.com/entityhub/entityhub/controllers/sources/sourcetest"
)

// TestTrimKeepsWhatIsRead maps every Application fixture before and after
// TrimApplication: the cache may only drop what the mapper and relations never read.
func TestTrimKeepsWhatIsRead(t *testing.T) {
	checked := 0
	for f, u := range sourcetest.Fixtures(t) {
		if u.GetKind() != KindApplication {
			continue
		}
		// Give every fixture the fields trimming drops, so that each case trims something.
		status, _ := u.Object["status"].(map[string]any)
		if status == nil {
			status = map[string]any{}
			u.Object["status"] = status
		}
		status["history"] = []any{map[string]any{"id": int64(1), "revision": "abc"}}
		status["summary"] = map[string]any{"images": []any{"nginx:1.27"}}
		resources, _ := status["resources"].([]any)
		status["resources"] = append(resources,
			map[string]any{"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "pay", "name": "api",
				"status": "Synced", "health": map[string]any{"status": "Healthy"}},
			map[string]any{"group": "database.example.org", "version": "v1alpha1", "kind": "PostgreSQLInstance",
				"namespace": "pay", "name": "db", "status": "Synced", "health": map[string]any{"status": "Progressing"}})
		trimmed := u.DeepCopy()
		TrimApplication(trimmed)
		if _, ok := trimmed.Object["status"].(map[string]any)["history"]; ok {
			t.Errorf("%s: history kept", f)
		}
		status["reconciledAt"] = "2026-01-03T00:10:00Z"
		md := u.Object["metadata"].(map[string]any)
		md["creationTimestamp"], md["generation"] = "2026-01-01T00:00:00Z", int64(4)
		md["finalizers"] = []any{"resources-finalizer.argocd.argoproj.io"}
		if sync, ok := status["sync"].(map[string]any); ok {
			sync["comparedTo"] = map[string]any{"source": map[string]any{"repoURL": "https://git.example.com/x.git"}}
		}
		trimmed = u.DeepCopy()
		TrimApplication(trimmed)
		for _, k := range []string{"creationTimestamp", "generation", "finalizers"} {
			if _, ok := trimmed.Object["metadata"].(map[string]any)[k]; ok {
				t.Errorf("%s: metadata.%s kept", f, k)
			}
		}
		kept := trimmed.Object["status"].(map[string]any)
		for k, v := range kept {
			if _, ok := readStatus[k]; !ok {
				t.Errorf("%s: status.%s kept", f, k)
			}
			if m, ok := v.(map[string]any); ok {
				for sub := range m {
					if !readStatus[k][sub] {
						t.Errorf("%s: status.%s.%s kept", f, k, sub)
					}
				}
			}
		}
		for _, r := range kept["resources"].([]any) {
			if entry := r.(map[string]any); len(entry) > 4 || !sources.CouldBeSource(entry["group"].(string)) {
				t.Errorf("%s: status.resources keeps %v", f, entry)
			}
		}
		again := trimmed.DeepCopy()
		TrimApplication(again)
		if !reflect.DeepEqual(again.Object, trimmed.Object) {
			t.Errorf("%s: trimming twice differs from once", f)
		}
		if got, want := MapApplication(trimmed, nil), MapApplication(u, nil); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: MapApplication differs after trimming:\n%+v\n%+v", f, want, got)
		}
		if !reflect.DeepEqual(DeployedObjects(trimmed), DeployedObjects(u)) {
			t.Errorf("%s: DeployedObjects differs after trimming", f)
		}
		checked++
	}
	if checked == 0 {
		t.Error("no Application fixture")
	}
}
