package workflows

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// TestTrimKeepsWhatIsRead maps every fixture before and after TrimWorkflow: the cache
// may only drop what the mapper and RunOf never read.
func TestTrimKeepsWhatIsRead(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	trimmedSome := false
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
		if u.GetKind() != KindWorkflow {
			continue
		}
		trimmed := u.DeepCopy()
		TrimWorkflow(trimmed)
		if !reflect.DeepEqual(MapWorkflow(u), MapWorkflow(trimmed)) {
			t.Errorf("%s: MapWorkflow differs after trimming:\n%+v\n%+v", f, MapWorkflow(u), MapWorkflow(trimmed))
		}
		before, _ := RunOf(u)
		after, _ := RunOf(trimmed)
		if before != after {
			t.Errorf("%s: RunOf differs after trimming: %+v, %+v", f, before, after)
		}
		if !reflect.DeepEqual(u.Object["status"], trimmed.Object["status"]) {
			trimmedSome = true
			again := trimmed.DeepCopy()
			TrimWorkflow(again)
			if !reflect.DeepEqual(again, trimmed) {
				t.Errorf("%s: trimming twice differs from trimming once", f)
			}
		}
	}
	if !trimmedSome {
		t.Error("no fixture had anything to trim; the test proves nothing")
	}
}
