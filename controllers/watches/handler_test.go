package watches

import (
	"context"
	"fmt"
	"sort"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// TestHandlerSparesTheFirstListAtStart: an object the first list of a kind watched from
// the start brings goes to Listed, undecoded; any other event, and every event of a
// kind that appeared later, goes to Map.
func TestHandlerSparesTheFirstListAtStart(t *testing.T) {
	ctx := context.Background()
	var calls []string
	m := New(Options{
		Map: func(_ context.Context, _ schema.GroupVersionKind, objs ...*unstructured.Unstructured) []reconcile.Request {
			for _, o := range objs {
				calls = append(calls, "map "+o.GetName())
			}
			return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: "mapped"}}}
		},
		Listed: func(l labels.Labels) []reconcile.Request {
			calls = append(calls, "listed "+l.Get("backstage.io/kubernetes-id"))
			return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: "listed"}}}
		},
	})
	q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
	defer q.ShutDown()
	if err := m.Source().Start(ctx, q); err != nil {
		t.Fatal(err)
	}
	transform := compactor(keepAll, kindIndexes(nil))
	obj := func(name, rv string) any {
		item, _ := transform(apiDecode(t, []byte(fmt.Sprintf(
			`{"apiVersion":"v1","kind":"X","metadata":{"name":%q,"resourceVersion":%q,"labels":{"backstage.io/kubernetes-id":"shop"}}}`, name, rv))))
		return item
	}

	for _, tc := range []struct {
		name    string
		atStart bool
		event   func(h toolscache.ResourceEventHandler)
		want    []string
	}{
		{"first list, watched from the start", true, func(h toolscache.ResourceEventHandler) {
			h.OnAdd(obj("a", "1"), true)
		}, []string{"listed shop"}},
		{"added later, watched from the start", true, func(h toolscache.ResourceEventHandler) {
			h.OnAdd(obj("a", "1"), false)
		}, []string{"map a"}},
		{"first list of a kind that appeared later", false, func(h toolscache.ResourceEventHandler) {
			h.OnAdd(obj("a", "1"), true)
		}, []string{"map a"}},
		{"an update maps both versions", true, func(h toolscache.ResourceEventHandler) {
			h.OnUpdate(obj("a", "1"), obj("a", "2"))
		}, []string{"map a", "map a"}},
		{"a resync maps nothing", true, func(h toolscache.ResourceEventHandler) {
			h.OnUpdate(obj("a", "1"), obj("a", "1"))
		}, nil},
		{"a delete maps", true, func(h toolscache.ResourceEventHandler) {
			h.OnDelete(obj("a", "1"))
		}, []string{"map a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls = nil
			tc.event(m.handler(ctx, schema.GroupVersionKind{Version: "v1", Kind: "X"}, tc.atStart))
			sort.Strings(calls)
			if fmt.Sprint(calls) != fmt.Sprint(tc.want) {
				t.Errorf("calls %v, want %v", calls, tc.want)
			}
		})
	}
	if q.Len() != 2 {
		t.Errorf("queue holds %d requests, want 2 (listed and mapped)", q.Len())
	}
}
