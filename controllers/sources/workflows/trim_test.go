package workflows

import (
	"reflect"
	"testing"

	"github.com/entityhub/entityhub/controllers/sources/sourcetest"
)

// TestTrimKeepsWhatIsRead maps every fixture before and after TrimWorkflow: the cache
// may only drop what the mapper and RunOf never read.
func TestTrimKeepsWhatIsRead(t *testing.T) {
	trimmedSome := false
	for f, u := range sourcetest.Fixtures(t) {
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
