package watches

import (
	"context"
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// TestSourceSparesTheFirstListAtStart: an object the first list of a kind watched from
// the start brings comes as a create event marked IsInInitialList with its metadata
// only, undecoded; any other event, and every event of a kind that appeared later,
// carries the decoded object.
func TestSourceSparesTheFirstListAtStart(t *testing.T) {
	ctx := context.Background()
	var calls []string
	describe := func(what string, u *unstructured.Unstructured) {
		_, hasStatus := u.Object["status"]
		calls = append(calls, fmt.Sprintf("%s %s/%s id=%s status=%v", what, u.GetNamespace(), u.GetName(),
			u.GetLabels()["backstage.io/kubernetes-id"], hasStatus))
	}
	h := handler.TypedFuncs[*unstructured.Unstructured, reconcile.Request]{
		CreateFunc: func(_ context.Context, e event.TypedCreateEvent[*unstructured.Unstructured], _ workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			describe(fmt.Sprintf("create(initial=%v)", e.IsInInitialList), e.Object)
		},
		UpdateFunc: func(_ context.Context, e event.TypedUpdateEvent[*unstructured.Unstructured], _ workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			describe("update-old", e.ObjectOld)
			describe("update-new", e.ObjectNew)
		},
		DeleteFunc: func(_ context.Context, e event.TypedDeleteEvent[*unstructured.Unstructured], _ workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			describe(fmt.Sprintf("delete(unknown=%v)", e.DeleteStateUnknown), e.Object)
		},
	}
	gvk := schema.GroupVersionKind{Version: "v1", Kind: "X"}
	src := &kindSource{gvk: gvk, handler: h}
	q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
	defer q.ShutDown()
	transform := compactor(keepAll, kindIndexes(nil))
	obj := func(name, rv string) any {
		item, _ := transform(apiDecode(t, []byte(fmt.Sprintf(
			`{"apiVersion":"v1","kind":"X","metadata":{"name":%q,"namespace":"shop","resourceVersion":%q,"labels":{"backstage.io/kubernetes-id":"shop"}},"status":{"phase":"Running"}}`, name, rv))))
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
		}, []string{"create(initial=true) shop/a id=shop status=false"}},
		{"added later, watched from the start", true, func(h toolscache.ResourceEventHandler) {
			h.OnAdd(obj("a", "1"), false)
		}, []string{"create(initial=false) shop/a id=shop status=true"}},
		{"first list of a kind that appeared later", false, func(h toolscache.ResourceEventHandler) {
			h.OnAdd(obj("a", "1"), true)
		}, []string{"create(initial=false) shop/a id=shop status=true"}},
		{"an update carries both versions", true, func(h toolscache.ResourceEventHandler) {
			h.OnUpdate(obj("a", "1"), obj("a", "2"))
		}, []string{"update-old shop/a id=shop status=true", "update-new shop/a id=shop status=true"}},
		{"a resync is no event", true, func(h toolscache.ResourceEventHandler) {
			h.OnUpdate(obj("a", "1"), obj("a", "1"))
		}, nil},
		{"a delete", true, func(h toolscache.ResourceEventHandler) {
			h.OnDelete(obj("a", "1"))
		}, []string{"delete(unknown=false) shop/a id=shop status=true"}},
		{"a delete seen late", true, func(h toolscache.ResourceEventHandler) {
			h.OnDelete(toolscache.DeletedFinalStateUnknown{Key: "shop/a", Obj: obj("a", "1")})
		}, []string{"delete(unknown=true) shop/a id=shop status=true"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls = nil
			tc.event(src.funcs(ctx, &watch{atStart: tc.atStart}, q))
			if fmt.Sprint(calls) != fmt.Sprint(tc.want) {
				t.Errorf("calls %v, want %v", calls, tc.want)
			}
		})
	}
}
