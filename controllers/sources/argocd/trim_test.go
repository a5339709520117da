package argocd

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// TestTrimKeepsWhatIsRead maps every Application fixture before and after
// TrimApplication: the cache may only drop what the mapper and relations never read.
func TestTrimKeepsWhatIsRead(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	checked := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		obj := map[string]any{}
		if err := yaml.Unmarshal(data, &obj); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		u := &unstructured.Unstructured{Object: obj}
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
