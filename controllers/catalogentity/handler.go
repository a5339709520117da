package catalogentity

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/membership"
	"github.com/entityhub/entityhub/controllers/watches"
)

// SourceHandler returns what the controller does with an event on a source object:
// enqueue the entities the event concerns (see mapSource), noting when it saw each for
// the event-to-status latency metric; and when a kind's readability changes, every
// entity.
func (r *Reconciler) SourceHandler() watches.Handler {
	add := func(q workqueue.TypedRateLimitingInterface[reconcile.Request], reqs []reconcile.Request) {
		now := r.now()
		for _, req := range reqs {
			if r.clock != nil {
				r.clock.Saw(req.NamespacedName, now)
			}
			q.Add(req)
		}
	}
	type queue = workqueue.TypedRateLimitingInterface[reconcile.Request]
	return handler.TypedFuncs[*unstructured.Unstructured, reconcile.Request]{
		CreateFunc: func(ctx context.Context, e event.TypedCreateEvent[*unstructured.Unstructured], q queue) {
			if e.IsInInitialList {
				reqs := r.discovered(e.Object)
				r.verify.want(reqs)
				add(q, reqs)
				return
			}
			add(q, r.mapSource(ctx, e.Object.GroupVersionKind(), e.Object))
		},
		UpdateFunc: func(ctx context.Context, e event.TypedUpdateEvent[*unstructured.Unstructured], q queue) {
			add(q, r.mapSource(ctx, e.ObjectNew.GroupVersionKind(), e.ObjectOld, e.ObjectNew))
		},
		DeleteFunc: func(ctx context.Context, e event.TypedDeleteEvent[*unstructured.Unstructured], q queue) {
			add(q, r.mapSource(ctx, e.Object.GroupVersionKind(), e.Object))
		},
		// The kind's state changed (watches.Manager.Source): its list came late, its
		// watch failed or recovered. Any entity may have sources of it, by label.
		GenericFunc: func(context.Context, event.TypedGenericEvent[*unstructured.Unstructured], queue) {
			r.Resync()
		},
	}
}

// mapSource returns the entities an event on a source concerns: for each state of the
// object (before and after an update), the entities named by its Backstage label — and
// the one that would be created for it — and those whose spec.sources select it; and
// the same for every object it is part of (a composed resource's composite and claim),
// since parts belong to the entity of their root.
func (r *Reconciler) mapSource(ctx context.Context, gvk schema.GroupVersionKind, objs ...*unstructured.Unstructured) []reconcile.Request {
	m := &requestSet{seen: map[types.NamespacedName]bool{}}
	kind, watched := r.watches.KindFor(gvk.GroupKind())
	// What deploys obj relates its entity to obj's: that changes when obj comes, goes or
	// is labelled for another entity, not when its status changes.
	relabelled := len(objs) != 2 || objs[0].GetLabels()[catalogv1alpha1.KubernetesIDLabel] != objs[1].GetLabels()[catalogv1alpha1.KubernetesIDLabel]
	for _, obj := range objs {
		r.entitiesOf(ctx, gvk, obj, m)
		if relabelled {
			r.deployersOf(ctx, gvk, client.ObjectKeyFromObject(obj), m)
		}
		if !watched || kind.Parents == nil {
			continue
		}
		for _, a := range r.ancestors(ctx, kind, obj) {
			r.entitiesOf(ctx, a.kind.GVK, a.obj, m)
		}
	}
	return m.out
}

// discovered returns the entity to discover for a source the first list of its kind
// brought at start (see watches.Manager.Source): the one its Backstage label names in
// the catalog namespace, which is created if it does not exist. Every other entity it
// concerns exists, and is reconciled once the lists are in.
func (r *Reconciler) discovered(obj *unstructured.Unstructured) []reconcile.Request {
	if name := obj.GetLabels()[catalogv1alpha1.KubernetesIDLabel]; catalogv1alpha1.IsEntityName(name) {
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: r.catalogNamespace, Name: name}}}
	}
	return nil
}

// requestSet collects requests once each.
type requestSet struct {
	seen map[types.NamespacedName]bool
	out  []reconcile.Request
}

func (s *requestSet) add(key types.NamespacedName) {
	if !s.seen[key] {
		s.seen[key] = true
		s.out = append(s.out, reconcile.Request{NamespacedName: key})
	}
}

// entitiesOf adds the entities obj itself belongs to: by its label and by selectors.
func (r *Reconciler) entitiesOf(ctx context.Context, gvk schema.GroupVersionKind, obj *unstructured.Unstructured, m *requestSet) {
	log := logf.FromContext(ctx)
	if name := obj.GetLabels()[catalogv1alpha1.KubernetesIDLabel]; name != "" {
		if catalogv1alpha1.IsEntityName(name) {
			m.add(types.NamespacedName{Namespace: r.catalogNamespace, Name: name})
		}
		named, err := r.entitiesNamed(ctx, name)
		if err != nil {
			log.Error(err, "Listing entities by name", "name", name)
		}
		for i := range named {
			m.add(client.ObjectKeyFromObject(&named[i]))
		}
	}
	var selecting catalogv1alpha1.CatalogEntityList
	if err := r.cache.List(ctx, &selecting, client.MatchingFields{entitySourceKindIndex: membership.GroupKindKey(gvk.GroupKind())},
		client.UnsafeDisableDeepCopy); err != nil {
		log.Error(err, "Listing entities by source kind", "kind", gvk.String())
		return
	}
	for i := range selecting.Items {
		e := &selecting.Items[i]
		for _, sel := range e.Spec.Sources {
			// An invalid selector selects nothing; the entity reports it when reconciled.
			if ok, _ := membership.Selects(r.scoped(e, sel), gvk.GroupKind(), obj); ok {
				m.add(client.ObjectKeyFromObject(e))
			}
		}
	}
}

// allEntities returns a request for every entity (see Resync).
func (r *Reconciler) allEntities(ctx context.Context) []reconcile.Request {
	var list catalogv1alpha1.CatalogEntityList
	if err := r.cache.List(ctx, &list, client.UnsafeDisableDeepCopy); err != nil {
		logf.FromContext(ctx).Error(err, "Listing entities")
		return nil
	}
	out := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return out
}
