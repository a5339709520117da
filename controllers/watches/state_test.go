package watches

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
	toolscache "k8s.io/client-go/tools/cache"
)

// syncedReg is a handler registration whose HasSynced the test sets.
type syncedReg struct {
	toolscache.ResourceEventHandlerRegistration // nil: only HasSynced is called
	synced                                      *bool
}

func (r syncedReg) HasSynced() bool { return *r.synced }

// TestDelivered: the first lists count as handed to the controllers only once the
// watches started and every handler of every kind listed from the start has seen its
// kind's list; a kind whose list came late does not hold that up.
func TestDelivered(t *testing.T) {
	m := newManager(Options{})
	handled, other := false, true
	listed := &watch{atStart: true, feeds: []feed{{reg: syncedReg{synced: &handled}}, {reg: syncedReg{synced: &other}}}}
	listed.read.listed = true
	late := &watch{atStart: true, feeds: []feed{{reg: syncedReg{synced: new(bool)}}}}
	later := &watch{feeds: []feed{{reg: syncedReg{synced: new(bool)}}}}
	later.read.listed = true
	m.watches[schema.GroupVersionKind{Kind: "Listed"}] = listed
	m.watches[schema.GroupVersionKind{Kind: "Late"}] = late
	m.watches[schema.GroupVersionKind{Kind: "Later"}] = later

	if m.Delivered() {
		t.Fatal("Delivered before Started")
	}
	close(m.started)
	if m.Delivered() {
		t.Fatal("Delivered while a handler has not seen its kind's first list")
	}
	handled = true
	if !m.Delivered() {
		t.Fatal("not Delivered once every handler of every kind listed from the start has seen it")
	}
	listed.feeds = nil
	if m.Delivered() {
		t.Fatal("Delivered while a kind listed from the start feeds no controller yet")
	}
}
