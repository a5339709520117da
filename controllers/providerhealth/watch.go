package providerhealth

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic/dynamicinformer"
	toolscache "k8s.io/client-go/tools/cache"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

// follow starts or stops watching a package manager kind, so that it is watched while
// want holds: while its CRD is there and Established. What a stopped watch told is
// forgotten, since nobody keeps it current any more.
func (t *Tracker) follow(crdName string, gvr schema.GroupVersionResource, want bool) {
	t.mu.Lock()
	stop, watching := t.watching[crdName]
	switch {
	case want && !watching:
		t.watching[crdName] = t.watchLocked(gvr)
	case !want && watching:
		stop()
		delete(t.watching, crdName)
	}
	t.mu.Unlock()
	if watching && !want {
		t.update(func(x *index) { forget(x, gvr) })
		t.log.Info("Stopped watching Crossplane packages", "resource", gvr.String())
	}
}

// watchLocked starts an informer of gvr, of the tracker's own: it lives until the
// returned func is called or the manager stops, and its cache keeps only what
// Transform leaves.
func (t *Tracker) watchLocked(gvr schema.GroupVersionResource) context.CancelFunc {
	ctx, cancel := context.WithCancel(logf.IntoContext(t.life, t.log))
	inf := dynamicinformer.NewFilteredDynamicInformer(t.dynamic, gvr, metav1.NamespaceAll, 0, toolscache.Indexers{}, nil).Informer()
	err := inf.SetTransform(Transform)
	if err == nil {
		// A handler of a stopped watch may still be called; the index is then left alone
		// (see forget).
		_, err = inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { t.objectChanged(ctx, gvr, obj) },
			UpdateFunc: func(_, obj any) { t.objectChanged(ctx, gvr, obj) },
			DeleteFunc: func(obj any) { t.objectGone(ctx, gvr, obj) },
		})
	}
	if err != nil {
		t.log.Error(err, "Cannot watch Crossplane packages", "resource", gvr.String())
		return cancel
	}
	go inf.RunWithContext(ctx)
	t.log.Info("Watching Crossplane packages", "resource", gvr.String())
	return cancel
}

// objectChanged records a Provider or ProviderRevision as it is now.
func (t *Tracker) objectChanged(ctx context.Context, gvr schema.GroupVersionResource, obj any) {
	t.record(ctx, gvr, obj, false)
}

// objectGone forgets a Provider or ProviderRevision.
func (t *Tracker) objectGone(ctx context.Context, gvr schema.GroupVersionResource, obj any) {
	t.record(ctx, gvr, obj, true)
}

// record records a Provider or ProviderRevision as it is now, or forgets it when gone,
// unless the watch that told of it, whose context is ctx, was stopped.
func (t *Tracker) record(ctx context.Context, gvr schema.GroupVersionResource, obj any, gone bool) {
	if d, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return
	}
	t.update(func(x *index) {
		if ctx.Err() != nil {
			return
		}
		switch {
		case gvr.Resource == resourceProviders && gone:
			delete(x.providers, u.GetName())
		case gvr.Resource == resourceProviders:
			x.providers[u.GetName()] = readProvider(u)
		case gone:
			x.deleteRevision(u.GetName())
		default:
			x.setRevision(u.GetName(), readRevision(u))
		}
	})
}

// forget drops every object of gvr from the index.
func forget(x *index, gvr schema.GroupVersionResource) {
	switch gvr.Resource {
	case resourceProviders:
		clear(x.providers)
	case resourceRevisions:
		clear(x.revisions)
		clear(x.installedBy)
	}
}
