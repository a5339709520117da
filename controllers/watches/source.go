package watches

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
)

// Handler is what a controller does with the events of a source kind.
type Handler = handler.TypedEventHandler[*unstructured.Unstructured, reconcile.Request]

// Source returns an event source of the watched kind gvk, to hand to a controller
// (controller.Watch): when the controller starts it, h gets an event for every object
// of the kind that comes, changes or goes, with the controller's own queue. The
// controller owns its queue; the watch only tells it what happened.
//
// Objects come decoded afresh from the compact cache, so they are the handler's to keep.
// One exception spares the manager's start: the create events of the first list of a
// kind watched since before Prime carry IsInInitialList and the object's metadata only
// (apiVersion, kind, namespace, name, labels), not decoded. Every entity is reconciled
// once those lists are in, so such an event need only name entities that do not exist
// yet; decoding tens of thousands of objects for that would double the cold start's work.
//
// When the kind's State changes (see StateOf) — its first list came late, its watch
// failed or works again — h gets a generic event whose object is the kind with no name:
// the entities that read the kind must be computed again, since no object event comes
// for what did not change.
//
// The source stops delivering when the kind's watch stops.
func (m *Manager) Source(gvk schema.GroupVersionKind, h Handler) (source.TypedSource[reconcile.Request], error) {
	if h == nil {
		return nil, fmt.Errorf("a source of %s needs a handler", gvk)
	}
	if _, err := m.watchOf(gvk); err != nil {
		return nil, err
	}
	return &kindSource{m: m, gvk: gvk, handler: h}, nil
}

// kindSource is a source.TypedSource of one watched kind. It does not implement
// source.SyncingSource on purpose: the controller would wait for a kind's first list
// when it starts, and stop the whole manager when a kind cannot be listed. The watches
// track sync themselves (StateOf, WaitForSync).
type kindSource struct {
	m       *Manager
	gvk     schema.GroupVersionKind
	handler Handler
}

// String names the source in the controller's log.
func (s *kindSource) String() string { return "source kind " + s.gvk.String() }

// Start implements source.TypedSource: it registers a handler on the kind's informer
// that feeds q until the watch stops. A watch stopped before the controller started the
// source has nothing to deliver.
func (s *kindSource) Start(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	w, ok := s.m.watches[s.gvk]
	if !ok {
		return nil
	}
	reg, err := w.informer.AddEventHandler(s.funcs(ctx, w, q))
	if err != nil {
		if w.informer.IsStopped() {
			return nil
		}
		return fmt.Errorf("feeding %s: %w", s.gvk, err)
	}
	w.feeds = append(w.feeds, feed{reg: reg, stateChanged: func() {
		s.handler.Generic(ctx, event.TypedGenericEvent[*unstructured.Unstructured]{Object: kindMarker(s.gvk)}, q)
	}})
	return nil
}

// feed is a controller a watch feeds.
type feed struct {
	reg toolscache.ResourceEventHandlerRegistration
	// stateChanged tells the controller the kind's State changed.
	stateChanged func()
}

// kindMarker is the object of the generic event that says a kind's State changed: the
// kind, with no name.
func kindMarker(gvk schema.GroupVersionKind) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	return u
}

// funcs turns the informer's notifications into the handler's typed events.
func (s *kindSource) funcs(ctx context.Context, w *watch, q workqueue.TypedRateLimitingInterface[reconcile.Request]) toolscache.ResourceEventHandler {
	log := logf.FromContext(ctx)
	decode := func(item any) *unstructured.Unstructured {
		u, _, err := cachedObject(item)
		if err != nil {
			log.Error(err, "Reading a cached source", "kind", s.gvk.String())
		}
		return u
	}
	atStart := w.atStart
	return toolscache.ResourceEventHandlerDetailedFuncs{
		AddFunc: func(obj any, isInInitialList bool) {
			if isInInitialList && atStart {
				s.handler.Create(ctx, event.TypedCreateEvent[*unstructured.Unstructured]{
					Object: cachedSkeleton(obj, s.gvk), IsInInitialList: true,
				}, q)
				return
			}
			if u := decode(obj); u != nil {
				s.handler.Create(ctx, event.TypedCreateEvent[*unstructured.Unstructured]{Object: u}, q)
			}
		},
		UpdateFunc: func(oldObj, newObj any) {
			_, oldRV := cachedMeta(oldObj)
			if _, newRV := cachedMeta(newObj); oldRV == newRV {
				return // a resync: nothing changed
			}
			oldU, newU := decode(oldObj), decode(newObj)
			if oldU == nil || newU == nil {
				return
			}
			s.handler.Update(ctx, event.TypedUpdateEvent[*unstructured.Unstructured]{ObjectOld: oldU, ObjectNew: newU}, q)
		},
		DeleteFunc: func(obj any) {
			_, unknown := obj.(toolscache.DeletedFinalStateUnknown)
			if u := decode(obj); u != nil {
				s.handler.Delete(ctx, event.TypedDeleteEvent[*unstructured.Unstructured]{Object: u, DeleteStateUnknown: unknown}, q)
			}
		},
	}
}
