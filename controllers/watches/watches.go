// Package watches keeps the watches of source kinds while the manager runs. Source
// kinds are not known in advance — Crossplane providers add CRDs at any time — so a
// watch starts when a kind's CRD becomes Established (package sourcekind asks for it)
// and stops, informer and all, when the CRD goes.
//
// The package holds the informers and what reads them; it enqueues nothing itself. For
// each watched kind, Source gives a controller an event source, to which the controller
// hands its own queue and a handler of its choosing (the CatalogEntity controller's maps
// a source event to the entities it concerns): data flows one way, from an informer
// through the handler into the controller's queue.
//
// The informers are the package's own, not the manager cache's: their cache keeps each
// object compact (see compact), which the manager cache cannot, since its readers hand
// out the very type it stores. Reader reads them.
package watches

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	apiwatch "k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	toolscache "k8s.io/client-go/tools/cache"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/entityhub/entityhub/controllers/cachetransform"
	"github.com/entityhub/entityhub/controllers/metrics"
	"github.com/entityhub/entityhub/controllers/sources"
)

// KubernetesIDIndex is the cache index of source objects by their
// backstage.io/kubernetes-id label, so that an entity finds its labelled sources without
// scanning every object of a kind.
const KubernetesIDIndex = "entityhub.kubernetes-id"

// Manager starts and stops watches of source kinds, keyed by GroupVersionKind.
type Manager struct {
	dynamic dynamic.Interface
	mapper  apimeta.RESTMapper
	// syncTimeout and errorGrace are how long a kind may take (see Options).
	syncTimeout, errorGrace time.Duration
	strip                   toolscache.TransformFunc
	// life ends when the manager stops (see Start), and with it every informer.
	life    context.Context
	endLife context.CancelFunc
	// primed is closed once the watches of every source CRD that existed at start are
	// set up; until then no kind is known to be missing, so no status may be computed.
	primed chan struct{}
	// started is closed once the kinds watched from the start have settled (Started).
	started   chan struct{}
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
	// gvk is the kind watched, for what reads the watch without the Manager's lock; kind
	// may be replaced under it (Ensure takes a new mapper), its GVK never changes.
	gvk      schema.GroupVersionKind
	kind     sources.Kind
	crd      string
	informer toolscache.SharedIndexInformer
	// resource names the kind in NotFound errors; clusterScoped makes reads ignore a
	// namespace, as the API server does.
	resource      schema.GroupResource
	clusterScoped bool
	// atStart: the watch was started before Prime, with the manager.
	atStart bool
	// feeds are the controllers fed by Source; their handlers are removed when the watch
	// stops.
	feeds  []feed
	cancel context.CancelFunc
	// syncTimeout and errorGrace are the Manager's (see Options).
	syncTimeout, errorGrace time.Duration
	// read is whether the kind can be read now; settled is closed once the first list is
	// in or late (see Started).
	read    readability
	settled chan struct{}
	stopped <-chan struct{} // closed when the watch is stopped
}

// Options are the Manager's collaborators.
type Options struct {
	// Dynamic lists and watches the source kinds.
	Dynamic dynamic.Interface
	// Mapper finds the resource of a kind.
	Mapper apimeta.RESTMapper
	// SyncTimeout is how long a kind's first list may take before the kind counts as
	// unreadable (DefaultSyncTimeout when zero).
	SyncTimeout time.Duration
	// ErrorGrace is how long a kind's watch may fail before the kind counts as
	// unreadable (DefaultErrorGrace when zero).
	ErrorGrace time.Duration
}

// New returns a Manager with no watches.
func New(opts Options) (*Manager, error) {
	if opts.Dynamic == nil || opts.Mapper == nil {
		return nil, errors.New("watches: a dynamic client and a REST mapper are required")
	}
	return newManager(opts), nil
}

// newManager returns a Manager without checking opts, for tests that start no watch.
func newManager(opts Options) *Manager {
	m := &Manager{
		dynamic:     opts.Dynamic,
		mapper:      opts.Mapper,
		syncTimeout: cmp.Or(opts.SyncTimeout, DefaultSyncTimeout),
		errorGrace:  cmp.Or(opts.ErrorGrace, DefaultErrorGrace),
		primed:      make(chan struct{}),
		started:     make(chan struct{}),
		watches:     map[schema.GroupVersionKind]*watch{},
		byGK:        map[schema.GroupKind]*watch{},
		byCRD:       map[string][]schema.GroupVersionKind{},
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

// Prime says that the watches of every source CRD present at start are set up. Until it
// is called and their first lists are in, Started stays open: a manager that just
// started, or just became leader, would otherwise publish every entity without the
// sources of kinds not yet watched or listed.
func (m *Manager) Prime() {
	m.primedOne.Do(func() {
		close(m.primed)
		go m.settle()
	})
}

// Change is what Ensure or StopCRD did: the kinds whose watches started, for the caller
// to feed to its controller (see Source), and those that stopped, whose sources are
// gone from every entity.
type Change struct {
	Started []sources.Kind
	Stopped []schema.GroupVersionKind
}

// Ensure makes the watched kinds of CRD crdName exactly kinds: it starts a watch for each
// kind not yet watched and stops those of the CRD that are no longer listed. Calling it
// again with the same kinds does nothing. The Change it returns holds what it did, also
// when some kind could not be started (the error says which).
func (m *Manager) Ensure(ctx context.Context, crdName string, kinds []sources.Kind) (Change, error) {
	m.mu.Lock()
	var started []sources.Kind
	var stopped []schema.GroupVersionKind
	want := map[schema.GroupVersionKind]bool{}
	for _, k := range kinds {
		want[k.GVK] = true
	}
	for _, gvk := range m.byCRD[crdName] {
		if !want[gvk] {
			m.stopLocked(gvk)
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
	}
	for _, gvk := range stopped {
		log.Info("Stopped watching source kind", "kind", gvk.String(), "crd", crdName)
	}
	change := Change{Started: started, Stopped: stopped}
	if len(errs) > 0 {
		return change, fmt.Errorf("starting watches for %s: %w", crdName, errors.Join(errs...))
	}
	return change, nil
}

// StopCRD stops every watch of CRD crdName and returns the kinds it stopped; none when
// the CRD had no watches.
func (m *Manager) StopCRD(ctx context.Context, crdName string) []schema.GroupVersionKind {
	m.mu.Lock()
	gvks := m.byCRD[crdName]
	for _, gvk := range gvks {
		m.stopLocked(gvk)
	}
	delete(m.byCRD, crdName)
	m.mu.Unlock()
	for _, gvk := range gvks {
		logf.FromContext(ctx).Info("Stopped watching source kind", "kind", gvk.String(), "crd", crdName)
	}
	return gvks
}

func newObject(gvk schema.GroupVersionKind) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	return u
}

// startLocked starts an informer of the kind, indexed by its Backstage label and the
// kind's own indexes; Source feeds its events to a controller.
func (m *Manager) startLocked(ctx context.Context, crdName string, k sources.Kind) error {
	mapping, err := m.mapper.RESTMapping(k.GVK.GroupKind(), k.GVK.Version)
	if err != nil {
		return fmt.Errorf("finding the resource of %s: %w", k.GVK, err)
	}
	// Known before the first object arrives, so that the cache strips every one of them.
	m.remember(k)
	resource := m.dynamic.Resource(mapping.Resource)
	// w is set below, before the informer runs; a list or watch that the API server
	// accepts tells it the kind is readable (see watch.worked).
	var w *watch
	changed := func() { m.changed(k.GVK) }
	lw := &toolscache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			list, err := resource.List(ctx, opts)
			if err == nil {
				w.worked(ctx, changed)
			}
			return list, err
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (apiwatch.Interface, error) {
			opts.Watch = true
			opts.AllowWatchBookmarks = true
			watcher, err := resource.Watch(ctx, opts)
			if err == nil {
				w.worked(ctx, changed)
			}
			return watcher, err
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
	w = &watch{
		gvk: k.GVK, kind: k, crd: crdName, informer: inf, cancel: cancel, stopped: wctx.Done(),
		resource: mapping.Resource.GroupResource(), clusterScoped: clusterScoped,
		settled: make(chan struct{}), syncTimeout: m.syncTimeout, errorGrace: m.errorGrace,
	}
	if err := inf.SetWatchErrorHandlerWithContext(func(ctx context.Context, r *toolscache.Reflector, err error) {
		w.watchFailed(ctx, r, err, changed)
	}); err != nil {
		cancel()
		m.forget(k.GVK)
		return fmt.Errorf("watching %s: %w", k.GVK, err)
	}
	select {
	case <-m.primed:
	default:
		w.atStart = true
	}
	m.watches[k.GVK] = w
	m.byGK[k.GVK.GroupKind()] = w
	metrics.SetSourceKindUnreadable(w.kindName(), false)
	go inf.RunWithContext(wctx)
	go w.waitForSync(wctx, changed)
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

// stopLocked removes the watch's handler and informer, so that a kind whose CRD is gone
// leaves no reflector retrying a list that can only fail.
func (m *Manager) stopLocked(gvk schema.GroupVersionKind) {
	w, ok := m.watches[gvk]
	if !ok {
		return
	}
	for _, f := range w.feeds {
		_ = w.informer.RemoveEventHandler(f.reg)
	}
	w.feeds = nil
	w.cancel() // stops the informer
	delete(m.watches, gvk)
	metrics.ForgetSourceKind(w.kindName())
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
