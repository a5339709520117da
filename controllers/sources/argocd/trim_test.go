package argocd

import (
	"reflect"
	"testing"

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
		trimmed := u.DeepCopy()
		TrimApplication(trimmed)
		if _, ok := trimmed.Object["status"].(map[string]any)["history"]; ok {
			t.Errorf("%s: history kept", f)
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
