// Package watches starts and stops the watches of source kinds while the manager runs.
// Source kinds are not known in advance — Crossplane providers add CRDs at any time —
// so a watch starts when a kind's CRD becomes Established and stops, informer and all,
// when the CRD goes. Every watch feeds the one CatalogEntity controller's queue.
//
// The informers are the package's own, not the manager cache's: their cache keeps each
// object compact (see compact), which the manager cache cannot, since its readers hand
// out the very type it stores. Reader reads them.
package watches

import (
	"context"
	"fmt"
	"sync"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	apiwatch "k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/entityhub/entityhub/controllers/cachetransform"
	"github.com/entityhub/entityhub/controllers/sources"
)

// KubernetesIDIndex is the cache index of source objects by their
// backstage.io/kubernetes-id label, so that an entity finds its labelled sources without
// scanning every object of a kind.
const KubernetesIDIndex = "entityhub.kubernetes-id"

// syncTimeout is how long a new watch may take to list its kind before entities stop
// waiting for it; a kind that cannot be listed (most often for want of RBAC) must not
// hold every entity back.
const syncTimeout = time.Minute

// MapFunc returns the entities an event on a source concerns. For an update it gets the
// object before and after, so that a source moved from entity A to B updates both.
type MapFunc func(ctx context.Context, gvk schema.GroupVersionKind, objs ...*unstructured.Unstructured) []reconcile.Request

// Manager starts and stops watches of source kinds, keyed by GroupVersionKind.
type Manager struct {
	dynamic dynamic.Interface
	mapper  apimeta.RESTMapper
	strip   toolscache.TransformFunc
	// life ends when the manager stops (see Start), and with it every informer.
	life     context.Context
	endLife  context.CancelFunc
	mapFn    MapFunc
	listedFn func(labels.Labels) []reconcile.Request
	allFn    func(ctx context.Context) []reconcile.Request
	onEvent  func(reconcile.Request)
	onStart  func(context.Context, sources.Kind)
	queue    workqueue.TypedRateLimitingInterface[reconcile.Request]
	ready    chan struct{}
	readyOne sync.Once
	// primed is closed once the watches of every source CRD that existed at start are
	// set up; until then no kind is known to be missing, so no status may be computed.
	primed    chan struct{}
	primedOne sync.Once

	// keep holds each watched kind's KeepSpec, apart from mu, because the cache transform
	// reads it for every object, also while a watch is being started under mu.
	keep sync.Map // schema.GroupVersionKind → [][]string
	trim sync.Map // schema.GroupVersionKind → func(*unstructured.Unstructured)
	// annotations holds each watched kind's Annotations, for the same reason.
	annotations sync.Map // schema.GroupVersionKind → []string

	mu      sync.RWMutex
	watches map[schema.GroupVersionKind]*watch
	// byGK finds a watch by group and kind: KindFor is asked on every event and for every
	// part of a tree, and providers install hundreds of kinds.
	byGK  map[schema.GroupKind]*watch
	byCRD map[string][]schema.GroupVersionKind
}

// watch is one running watch of a source kind.
type watch struct {
	kind     sources.Kind
	crd      string
	informer toolscache.SharedIndexInformer
	// resource names the kind in NotFound errors; clusterScoped makes reads ignore a
	// namespace, as the API server does.
	resource      schema.GroupResource
	clusterScoped bool
	// atStart: the watch was started before Prime, with the manager.
	atStart bool
	reg     toolscache.ResourceEventHandlerRegistration
	cancel  context.CancelFunc
	synced  chan struct{}   // closed once the informer has listed the kind
	gaveUp  chan struct{}   // closed when it did not within syncTimeout
	stopped <-chan struct{} // closed when the watch is stopped
}

// Options are the Manager's collaborators.
type Options struct {
	// Dynamic lists and watches the source kinds.
	Dynamic dynamic.Interface
	// Mapper finds the resource of a kind.
	Mapper apimeta.RESTMapper
	// Map turns a source event into entity requests.
	Map MapFunc
	// Listed, when set, is asked instead of Map for the objects that the first list of a
	// kind watched from the start brings, with their labels. Every entity is reconciled
	// once those lists are in, so it need only name the entities that do not exist yet
	// (those discovered from the Backstage label); not asking Map spares decoding every
	// object and walking every part up to its root while the manager starts.
	Listed func(labels.Labels) []reconcile.Request
	// All lists every entity, for when a kind appears or goes.
	All func(ctx context.Context) []reconcile.Request
	// OnEvent, when set, is told of every request an event enqueues (event-to-status
	// latency is measured from here).
	OnEvent func(reconcile.Request)
	// OnStart, when set, is called after a kind's watch started, for what a family needs
	// besides (Argo CD's cluster Secrets).
	OnStart func(ctx context.Context, kind sources.Kind)
}

// New returns a Manager with no watches.
func New(opts Options) *Manager {
	m := &Manager{
		dynamic:  opts.Dynamic,
		mapper:   opts.Mapper,
		mapFn:    opts.Map,
		listedFn: opts.Listed,
		allFn:    opts.All,
		onEvent:  opts.OnEvent,
		onStart:  opts.OnStart,
		ready:    make(chan struct{}),
		primed:   make(chan struct{}),
		watches:  map[schema.GroupVersionKind]*watch{},
		byGK:     map[schema.GroupKind]*watch{},
		byCRD:    map[string][]schema.GroupVersionKind{},
	}
	m.strip = cachetransform.New(m.KeepSpec)
	m.life, m.endLife = context.WithCancel(context.Background())
	return m
}

// Start implements manager.Runnable: it returns when the manager stops, and stops every
// informer then. Watches are started by reconcilers, whose contexts are not the
// manager's; without this an informer would outlive the manager, and its open watch
// would hold up the API server's shutdown.
func (m *Manager) Start(ctx context.Context) error {
	<-ctx.Done()
	m.endLife()
	return nil
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: a manager that stops
// before it leads must still stop what it started.
func (m *Manager) NeedLeaderElection() bool { return false }

// Source is the source to register with the CatalogEntity controller: it hands the
// controller's queue to the watches, which fill it from then on.
func (m *Manager) Source() source.Source {
	return source.Func(func(_ context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		m.readyOne.Do(func() {
			m.queue = q
			close(m.ready)
		})
		return nil
	})
}

// Prime says that the watches of every source CRD present at start are set up. Until it
// is called, WaitForSync waits: a manager that just started, or just became leader,
// would otherwise publish every entity without the sources of kinds not yet watched.
func (m *Manager) Prime() {
	m.primedOne.Do(func() { close(m.primed) })
}

// enqueue adds reqs to the controller's queue, waiting for the controller to start.
func (m *Manager) enqueue(ctx context.Context, reqs []reconcile.Request) {
	if len(reqs) == 0 {
		return
	}
	select {
	case <-m.ready:
	case <-ctx.Done():
		return
	}
	for _, r := range reqs {
		if m.onEvent != nil {
			m.onEvent(r)
		}
		m.queue.Add(r)
	}
}

// Ensure makes the watched kinds of CRD crdName exactly kinds: it starts a watch for each
// kind not yet watched and stops those of the CRD that are no longer listed. Calling it
// again with the same kinds does nothing.
func (m *Manager) Ensure(ctx context.Context, crdName string, kinds []sources.Kind) error {
	m.mu.Lock()
	var started []sources.Kind
	var stopped []schema.GroupVersionKind
	want := map[schema.GroupVersionKind]bool{}
	for _, k := range kinds {
		want[k.GVK] = true
	}
	for _, gvk := range m.byCRD[crdName] {
		if !want[gvk] {
			m.stopLocked(ctx, gvk)
			stopped = append(stopped, gvk)
		}
	}
	var errs []error
	var have []schema.GroupVersionKind
	for _, k := range kinds {
		if w, ok := m.watches[k.GVK]; ok {
			w.kind = k // a new mapper, KeepSpec or Trim takes effect from now on
			m.remember(k)
			have = append(have, k.GVK)
			continue
		}
		if err := m.startLocked(ctx, crdName, k); err != nil {
			errs = append(errs, err)
			continue
		}
		started = append(started, k)
		have = append(have, k.GVK)
	}
	m.byCRD[crdName] = have
	if len(have) == 0 {
		delete(m.byCRD, crdName)
	}
	m.mu.Unlock()

	log := logf.FromContext(ctx)
	for _, k := range started {
		log.Info("Watching source kind", "kind", k.GVK.String(), "family", k.Family, "crd", crdName)
		if m.onStart != nil {
			m.onStart(ctx, k)
		}
	}
	for _, gvk := range stopped {
		log.Info("Stopped watching source kind", "kind", gvk.String(), "crd", crdName)
	}
	if len(stopped) > 0 {
		m.EnqueueAll(ctx)
	}
	if len(errs) > 0 {
		return fmt.Errorf("starting watches for %s: %v", crdName, errs)
	}
	return nil
}

// StopCRD stops every watch of CRD crdName and has every entity recomputed without its
// sources. It does nothing when the CRD had no watches.
func (m *Manager) StopCRD(ctx context.Context, crdName string) {
	m.mu.Lock()
	gvks := m.byCRD[crdName]
	for _, gvk := range gvks {
		m.stopLocked(ctx, gvk)
	}
	delete(m.byCRD, crdName)
	m.mu.Unlock()
	if len(gvks) == 0 {
		return
	}
	for _, gvk := range gvks {
		logf.FromContext(ctx).Info("Stopped watching source kind", "kind", gvk.String(), "crd", crdName)
	}
	m.EnqueueAll(ctx)
}

// Offer adds reqs to the controller's queue if the controller runs, and otherwise drops
// them without waiting: a manager that does not lead has nothing to recompute, and one
// that starts leading recomputes every entity.
func (m *Manager) Offer(ctx context.Context, reqs []reconcile.Request) {
	select {
	case <-m.ready:
		m.enqueue(ctx, reqs)
	default:
	}
}

// EnqueueAll has every entity recomputed, for changes that may touch any of them: a kind
// that went, a cluster that was renamed.
func (m *Manager) EnqueueAll(ctx context.Context) {
	m.enqueue(ctx, m.allFn(ctx))
}

func newObject(gvk schema.GroupVersionKind) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	return u
}

// startLocked starts an informer of the kind, indexed by its Backstage label and the
// kind's own indexes, and feeds its events to the controller.
func (m *Manager) startLocked(ctx context.Context, crdName string, k sources.Kind) error {
	mapping, err := m.mapper.RESTMapping(k.GVK.GroupKind(), k.GVK.Version)
	if err != nil {
		return fmt.Errorf("finding the resource of %s: %w", k.GVK, err)
	}
	// Known before the first object arrives, so that the cache strips every one of them.
	m.remember(k)
	resource := m.dynamic.Resource(mapping.Resource)
	lw := &toolscache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			return resource.List(ctx, opts)
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (apiwatch.Interface, error) {
			opts.Watch = true
			opts.AllowWatchBookmarks = true
			return resource.Watch(ctx, opts)
		},
	}
	indexes := kindIndexes(k.Indexes)
	clusterScoped := mapping.Scope.Name() == apimeta.RESTScopeNameRoot
	inf := toolscache.NewSharedIndexInformerWithOptions(toolscache.ToListWatcherWithWatchListSemantics(lw, m.dynamic),
		newObject(k.GVK), toolscache.SharedIndexInformerOptions{Indexers: indexers(indexes, !clusterScoped), ObjectDescription: k.GVK.String()})
	if err := inf.SetTransform(compactor(m.stripSource, indexes)); err != nil {
		m.forget(k.GVK)
		return fmt.Errorf("watching %s: %w", k.GVK, err)
	}
	// The informer keeps the values of ctx (its logger), and lives until the watch is
	// stopped or the manager is.
	wctx, cancelWatch := context.WithCancel(context.WithoutCancel(ctx))
	unlink := context.AfterFunc(m.life, cancelWatch)
	cancel := func() { unlink(); cancelWatch() }
	w := &watch{
		kind: k, crd: crdName, informer: inf, cancel: cancel, stopped: wctx.Done(),
		resource: mapping.Resource.GroupResource(), clusterScoped: clusterScoped,
		synced: make(chan struct{}), gaveUp: make(chan struct{}),
	}
	select {
	case <-m.primed:
	default:
		w.atStart = true
	}
	reg, err := inf.AddEventHandler(m.handler(wctx, k.GVK, w.atStart))
	if err != nil {
		cancel()
		m.forget(k.GVK)
		return fmt.Errorf("watching %s: %w", k.GVK, err)
	}
	w.reg = reg
	m.watches[k.GVK] = w
	m.byGK[k.GVK.GroupKind()] = w
	go inf.RunWithContext(wctx)
	go w.waitForSync(wctx)
	return nil
}

// stripSource drops from a source object what its kind's mapper never reads: the cache
// transform's metadata and spec, then the kind's Trim, the annotations neither the kind
// nor new entities read, and the uids of the object and of its owners (parts are found
// by kind and name; a uid is a tenth of a small object).
func (m *Manager) stripSource(obj any) any {
	obj, _ = m.strip(obj)
	if u, ok := obj.(*unstructured.Unstructured); ok {
		m.Trim(u)
		var keep []string
		if v, ok := m.annotations.Load(u.GroupVersionKind()); ok {
			keep = v.([]string)
		}
		sources.KeepAnnotations(u, keep)
		dropUIDs(u)
	}
	return obj
}

// dropUIDs removes metadata.uid and each metadata.ownerReferences[].uid.
func dropUIDs(u *unstructured.Unstructured) {
	md, ok := u.Object["metadata"].(map[string]any)
	if !ok {
		return
	}
	delete(md, "uid")
	refs, _ := md["ownerReferences"].([]any)
	for _, r := range refs {
		if ref, ok := r.(map[string]any); ok {
			delete(ref, "uid")
		}
	}
}

// waitForSync closes synced once the kind is listed, or gaveUp after syncTimeout.
func (w *watch) waitForSync(ctx context.Context) {
	tctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	if toolscache.WaitForCacheSync(tctx.Done(), w.reg.HasSynced) {
		close(w.synced)
		return
	}
	if ctx.Err() == nil {
		logf.FromContext(ctx).Error(nil, "Source kind did not sync; is the manager allowed to list and watch it?",
			"kind", w.kind.GVK.String(), "after", syncTimeout)
		close(w.gaveUp)
	}
}

// stopLocked removes the watch's handler and informer, so that a kind whose CRD is gone
// leaves no reflector retrying a list that can only fail.
func (m *Manager) stopLocked(ctx context.Context, gvk schema.GroupVersionKind) {
	w, ok := m.watches[gvk]
	if !ok {
		return
	}
	_ = w.informer.RemoveEventHandler(w.reg)
	w.cancel() // stops the informer
	delete(m.watches, gvk)
	// A kind may be watched at two versions (both named with --source-kind); the other
	// one, if any, answers KindFor from now on.
	delete(m.byGK, gvk.GroupKind())
	for other, ow := range m.watches {
		if other.GroupKind() == gvk.GroupKind() {
			m.byGK[other.GroupKind()] = ow
			break
		}
	}
	m.forget(gvk)
}

// handler maps the informer's events to entity requests.
func (m *Manager) handler(ctx context.Context, gvk schema.GroupVersionKind, atStart bool) toolscache.ResourceEventHandler {
	asU := func(obj any) *unstructured.Unstructured {
		u, _, err := cachedObject(obj)
		if err != nil {
			logf.FromContext(ctx).Error(err, "Reading a cached source", "kind", gvk.String())
		}
		return u
	}
	return toolscache.ResourceEventHandlerDetailedFuncs{
		AddFunc: func(obj any, isInInitialList bool) {
			if isInInitialList && atStart && m.listedFn != nil {
				m.enqueue(ctx, m.listedFn(cachedLabels(obj)))
				return
			}
			if u := asU(obj); u != nil {
				m.enqueue(ctx, m.mapFn(ctx, gvk, u))
			}
		},
		UpdateFunc: func(oldObj, newObj any) {
			_, oldRV := cachedMeta(oldObj)
			if _, newRV := cachedMeta(newObj); oldRV == newRV {
				return // a resync: nothing changed
			}
			oldU, newU := asU(oldObj), asU(newObj)
			if oldU == nil || newU == nil {
				return
			}
			m.enqueue(ctx, m.mapFn(ctx, gvk, oldU, newU))
		},
		DeleteFunc: func(obj any) {
			if u := asU(obj); u != nil {
				m.enqueue(ctx, m.mapFn(ctx, gvk, u))
			}
		},
	}
}
