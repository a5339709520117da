// Package catalogentity holds the CatalogEntity reconciler: it keeps each entity's
// status true to its sources, creates the entities that sources name in their Backstage
// label, and deletes those it created once their sources are gone.
//
// Data flows one way. A source event reaches the controller's queue through the handler
// of this package (handler.go: which entities an event concerns); Reconcile then collects
// the entity's sources from the watches' cache (collect.go, with tree.go for Crossplane
// trees, runs.go for Workflow runs and relations.go for what they deploy), computes the
// status with the pure functions of package entitystatus, and writes it only when it
// changed (status.go), with an event on a health transition (events.go). lifecycle.go
// creates discovered entities and deletes orphaned ones.
package catalogentity

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/entitystatus"
	"github.com/entityhub/entityhub/controllers/metrics"
	"github.com/entityhub/entityhub/controllers/sources"
	"github.com/entityhub/entityhub/controllers/watches"
)

// FieldOwner is the field manager entityhub writes with, so that `kubectl get
// --show-managed-fields` and server-side apply tell its writes from a person's.
const FieldOwner = client.FieldOwner("entityhub")

// DefaultGracePeriod is how long an auto-created entity outlives its last source.
const DefaultGracePeriod = 10 * time.Minute

// DefaultMaxConcurrentReconciles is how many entities are reconciled at once unless
// Options say otherwise.
const DefaultMaxConcurrentReconciles = 4

// Watches is what the reconciler asks of the watches of source kinds
// (*watches.Manager): which kinds are watched, whether each can be read yet, and which
// objects of a kind carry an index value, without decoding them.
type Watches interface {
	// Kinds returns the watched kinds, sorted.
	Kinds() []sources.Kind
	// KindFor returns the watched kind of a group and kind, at whatever version.
	KindFor(gk schema.GroupKind) (sources.Kind, bool)
	// StateOf returns whether a watched kind can be read now and, if not, why.
	StateOf(gvk schema.GroupVersionKind) (state watches.State, why string, ok bool)
	// Started is closed once the kinds watched from the start have been listed, or
	// have taken too long.
	Started() <-chan struct{}
	// Delivered reports whether, past Started, the controller has been handed every
	// object of those first lists.
	Delivered() bool
	// Names returns the objects of a kind whose index holds value.
	Names(gvk schema.GroupVersionKind, index, value string) ([]types.NamespacedName, error)
}

// Options are the Reconciler's collaborators and settings; New checks them once.
type Options struct {
	// Client writes entities and their status; it reads typed objects from the cache.
	Client client.Client
	// Reader reads source objects (watched as unstructured objects, see
	// watches.Manager.Reader) and entities.
	Reader client.Reader
	// APIReader reads an entity from the API server itself, not the cache, after a
	// status write whose outcome is unknown; optional, the cache is read without it.
	APIReader client.Reader
	// Watches are the running watches of source kinds: which kinds exist and whether
	// they can be read.
	Watches Watches
	// Recorder emits events on health transitions and discoveries.
	Recorder events.EventRecorder
	// CatalogNamespace is where auto-created entities live. Its entities take sources
	// from every namespace.
	CatalogNamespace string
	// ClusterWideSourceNamespaces are other namespaces whose entities take sources from
	// every namespace; an entity anywhere else takes sources only from its own.
	ClusterWideSourceNamespaces []string
	// DefaultOwner owns auto-created entities without an owner annotation.
	DefaultOwner string
	// GracePeriod is how long an auto-created entity outlives its last source
	// (DefaultGracePeriod when zero).
	GracePeriod time.Duration
	// MaxConcurrentReconciles is the number of entities reconciled at once
	// (DefaultMaxConcurrentReconciles when zero).
	MaxConcurrentReconciles int
	// Upstream are asked whether each source's status is still kept current by the
	// controller that writes it (see sources.Upstream); optional.
	Upstream []sources.Upstream
	// Entities feeds the entity and source gauges; optional.
	Entities *metrics.Entities
	// Clock measures event-to-status latency; optional.
	Clock *metrics.EventClock
	// Now returns the time that stamps transitions; tests pin it. Defaults to time.Now.
	Now func() time.Time
}

// Reconciler keeps each CatalogEntity labelled for Backstage and its status true to its
// sources; it creates an entity for every backstage.io/kubernetes-id seen on a source,
// and deletes such an entity once its sources have been gone for the grace period. It
// writes only metadata and status of entities people wrote, never spec.
type Reconciler struct {
	client           client.Client
	cache            client.Reader
	apiReader        client.Reader
	watches          Watches
	recorder         events.EventRecorder
	catalogNamespace string
	clusterWide      map[string]bool
	defaultOwner     string
	gracePeriod      time.Duration
	workers          int
	upstream         []sources.Upstream
	entities         *metrics.Entities
	clock            *metrics.EventClock
	now              func() time.Time

	// ledger and events are pointers, so that a copy of the reconciler (as tests make)
	// shares them.
	ledger *statusLedger
	events *eventLimiter
	// resync holds one pending request to recompute every entity (see Resync).
	resync chan struct{}
	// waiting holds the entities asked for before the watches started, to be
	// reconciled once they have (see started).
	waiting *waitList
	// verify is what readiness waits for (see Verified); began is when New made the
	// reconciler, for the log line that says how long verification took.
	verify *verification
	began  time.Time
}

// waitList is the entities asked for before the watches started; nil keys once they
// have.
type waitList struct {
	mu   sync.Mutex
	keys map[types.NamespacedName]bool
}

// New returns a Reconciler, or an error naming what opts lack.
func New(opts Options) (*Reconciler, error) {
	var missing []string
	if opts.Client == nil {
		missing = append(missing, "Client")
	}
	if opts.Reader == nil {
		missing = append(missing, "Reader")
	}
	if opts.Watches == nil {
		missing = append(missing, "Watches")
	}
	if opts.Recorder == nil {
		missing = append(missing, "Recorder")
	}
	if !catalogv1alpha1.IsEntityName(opts.CatalogNamespace) {
		missing = append(missing, "CatalogNamespace")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("catalogentity: options lack %s", strings.Join(missing, ", "))
	}
	r := &Reconciler{
		client:           opts.Client,
		cache:            opts.Reader,
		apiReader:        cmp.Or[client.Reader](opts.APIReader, opts.Reader),
		watches:          opts.Watches,
		recorder:         opts.Recorder,
		catalogNamespace: opts.CatalogNamespace,
		clusterWide:      map[string]bool{opts.CatalogNamespace: true},
		defaultOwner:     opts.DefaultOwner,
		gracePeriod:      cmp.Or(opts.GracePeriod, DefaultGracePeriod),
		workers:          cmp.Or(opts.MaxConcurrentReconciles, DefaultMaxConcurrentReconciles),
		upstream:         opts.Upstream,
		entities:         opts.Entities,
		clock:            opts.Clock,
		now:              opts.Now,
		ledger:           &statusLedger{},
		events:           &eventLimiter{},
		resync:           make(chan struct{}, 1),
		waiting:          &waitList{keys: map[types.NamespacedName]bool{}},
		verify:           &verification{},
		began:            time.Now(),
	}
	for _, ns := range opts.ClusterWideSourceNamespaces {
		r.clusterWide[ns] = true
	}
	return r, nil
}

// In every namespace the manager reads entities, labels them (ensureKubernetesID) and
// writes their status. It creates and deletes entities, and records events, in the
// catalog namespace only: config/rbac/catalog_namespace_role.yaml grants that there.
// +kubebuilder:rbac:groups=catalog.entityhub.dev,resources=catalogentities,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=catalog.entityhub.dev,resources=catalogentities/status,verbs=patch

// Reconcile brings one entity up to date: create or delete it when it is auto-created,
// label it for Backstage, read its sources and write its status when it changed.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	entity := &catalogv1alpha1.CatalogEntity{}
	if err := r.client.Get(ctx, req.NamespacedName, entity); err != nil {
		if !apierrors.IsNotFound(err) {
			return ctrl.Result{}, err
		}
		r.forget(req.NamespacedName)
		return ctrl.Result{}, r.createIfDiscovered(ctx, req.NamespacedName)
	}
	if !entity.DeletionTimestamp.IsZero() {
		r.forget(req.NamespacedName)
		return ctrl.Result{}, nil
	}
	if err := r.ensureKubernetesID(ctx, entity); err != nil {
		metrics.ReconcileErrors.WithLabelValues("label").Inc()
		return ctrl.Result{}, err
	}
	// Never compute status from half-listed kinds: it would show sources as gone.
	if !r.started(req.NamespacedName) {
		return ctrl.Result{}, nil
	}
	found, err := r.collectSources(ctx, entity)
	if err != nil {
		metrics.ReconcileErrors.WithLabelValues("sources").Inc()
		return ctrl.Result{}, err
	}
	current, err := r.currentStatus(ctx, entity)
	if err != nil {
		metrics.ReconcileErrors.WithLabelValues("status").Inc()
		return ctrl.Result{}, err
	}
	next := entitystatus.Status(current, entitystatus.Input{
		Generation: entity.Generation,
		Sources:    found.statuses,
		Revisions:  found.revisions,
		Relations:  found.relations,
		LastRun:    found.lastRun,
		Runs:       found.history,
		Unresolved: found.unresolved,
		Now:        metav1.NewTime(r.now()),
	})
	r.notePublication(ctx, entity, &next)
	noteRollUp(entity, found.members, &next, r.now())
	before := current.Health
	wrote, err := r.patchStatus(ctx, entity, current, next)
	if r.clock != nil {
		r.clock.Handled(req.NamespacedName, wrote, r.now())
	}
	if err != nil {
		metrics.ReconcileErrors.WithLabelValues("status").Inc()
		return ctrl.Result{}, err
	}
	r.verify.mark(req.NamespacedName)
	r.recordHealthTransition(entity, before, next)
	if r.entities != nil {
		r.entities.Set(req.NamespacedName, string(next.Health), found.perKind)
	}
	result, err := r.deleteIfOrphaned(ctx, entity, found.objects+found.carried)
	return recheckAt(result, found.recheck, r.now()), err
}

// recheckAt returns result, asked to come back by at if that is sooner: a verdict of an
// upstream changes then by itself (a threshold crossed), with no event to say so.
func recheckAt(result ctrl.Result, at, now time.Time) ctrl.Result {
	if at.IsZero() {
		return result
	}
	// A second past the moment, so that the verdict has surely changed.
	after := at.Sub(now) + time.Second
	if after < time.Second {
		after = time.Second
	}
	if result.RequeueAfter == 0 || after < result.RequeueAfter {
		result.RequeueAfter = after
	}
	return result
}

// ensureKubernetesID labels the entity backstage.io/kubernetes-id=<name>, the label the
// Backstage Kubernetes plugin selects on, and puts it back when someone changes it. It
// patches only that label, so GitOps tools that own the rest of the object see no drift.
func (r *Reconciler) ensureKubernetesID(ctx context.Context, entity *catalogv1alpha1.CatalogEntity) error {
	if entity.Labels[catalogv1alpha1.KubernetesIDLabel] == entity.Name {
		return nil
	}
	if err := r.patchMetadata(ctx, entity, "labels", map[string]any{catalogv1alpha1.KubernetesIDLabel: entity.Name}); err != nil {
		return fmt.Errorf("labelling %s for Backstage: %w", catalogv1alpha1.KubernetesIDLabel, err)
	}
	logf.FromContext(ctx).V(1).Info("Labelled entity for Backstage", "label", catalogv1alpha1.KubernetesIDLabel)
	return nil
}

// patchMetadata merge-patches metadata.<field> (labels or annotations) with values; a
// nil value removes the key.
func (r *Reconciler) patchMetadata(ctx context.Context, entity *catalogv1alpha1.CatalogEntity, field string, values map[string]any) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{field: values}})
	if err != nil {
		return err
	}
	return r.client.Patch(ctx, entity, client.RawPatch(types.MergePatchType, patch), FieldOwner)
}

// forget drops what the reconciler keeps of an entity that is gone.
func (r *Reconciler) forget(key types.NamespacedName) {
	r.ledger.forget(key)
	r.events.forget(key)
	if r.entities != nil {
		r.entities.Forget(key)
	}
	if r.clock != nil {
		r.clock.Handled(key, false, r.now())
	}
}

// SetupWithManager registers the entity indexes and the controller with mgr, and
// returns the controller, to which sourcekind hands a source per watched kind (see
// SourceHandler). The controller owns its queue; everything that feeds it is a source:
//   - CatalogEntities themselves, when their spec, labels or annotations change (its own
//     status writes need no reconcile: status is computed from sources, and a write is
//     an event like any other, which would double the work under load);
//   - every version of an entity, status writes included, for the status ledger, and
//     for the entities whose relations name an entity that comes, goes or is renamed;
//   - Resync, for changes that may touch any entity;
//   - the source kinds, added as they are watched.
func (r *Reconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) (controller.Controller, error) {
	if err := indexEntities(ctx, mgr.GetFieldIndexer()); err != nil {
		return nil, err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&catalogv1alpha1.CatalogEntity{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, predicate.LabelChangedPredicate{}, predicate.AnnotationChangedPredicate{},
		))).
		Watches(&catalogv1alpha1.CatalogEntity{}, r.entityHandler()).
		WatchesRawSource(source.Func(r.startResync)).
		Named("catalogentity").
		WithOptions(controller.Options{MaxConcurrentReconciles: r.workers}).
		Build(r)
}

// Resync has every entity recomputed, for changes that may touch any of them: a source
// kind that went, an Argo CD cluster renamed. Requests made before the controller runs,
// or while one is pending, fold into one.
func (r *Reconciler) Resync() {
	select {
	case r.resync <- struct{}{}:
	default:
	}
}

// started reports whether the watches have started (see watches.Manager.Started); until
// they have, it keeps key for the resync source to enqueue then, so that no worker waits
// and no request is lost.
func (r *Reconciler) started(key types.NamespacedName) bool {
	select {
	case <-r.watches.Started():
		return true
	default:
	}
	r.waiting.mu.Lock()
	defer r.waiting.mu.Unlock()
	if r.waiting.keys == nil {
		return true // the watches started, and the waiting were enqueued
	}
	r.waiting.keys[key] = true
	return false
}

// startResync is the source behind Resync: once the watches have started it enqueues
// every entity asked for before, then every entity once per Resync, until ctx ends.
func (r *Reconciler) startResync(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
	go func() {
		select {
		case <-ctx.Done():
			return
		case <-r.watches.Started():
		}
		r.waiting.mu.Lock()
		waiting := r.waiting.keys
		r.waiting.keys = nil
		r.waiting.mu.Unlock()
		for key := range waiting {
			q.Add(reconcile.Request{NamespacedName: key})
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-r.resync:
				for _, req := range r.allEntities(ctx) {
					q.Add(req)
				}
			}
		}
	}()
	return nil
}

// entityHandler keeps the status ledger told of every version of an entity the cache
// receives (status writes included, which the For predicates leave out), has the
// entities whose relations may name an entity recomputed when it comes, goes or is named
// anew, and the Systems and Domains it rolls up into when its status or what it names
// changes. Those that exist at start are all computed after the cache is in.
func (r *Reconciler) entityHandler() handler.TypedEventHandler[client.Object, reconcile.Request] {
	related := func(ctx context.Context, e client.Object, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		for _, req := range r.relatedTo(ctx, e.GetName()) {
			q.Add(req)
		}
		// Entities of the same name may name the same Backstage entity (publication.go).
		for _, key := range r.sameName(ctx, e.GetName()) {
			q.Add(reconcile.Request{NamespacedName: key})
		}
	}
	// A member's change reaches the Systems and Domains it rolls up into (rollup.go).
	rollUp := func(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request], es ...*catalogv1alpha1.CatalogEntity) {
		for _, key := range r.rollUpTargets(ctx, es...) {
			q.Add(reconcile.Request{NamespacedName: key})
		}
	}
	return handler.TypedFuncs[client.Object, reconcile.Request]{
		CreateFunc: func(ctx context.Context, e event.TypedCreateEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			if !e.IsInInitialList {
				related(ctx, e.Object, q)
				if entity, ok := e.Object.(*catalogv1alpha1.CatalogEntity); ok {
					rollUp(ctx, q, entity)
				}
			}
		},
		UpdateFunc: func(ctx context.Context, e event.TypedUpdateEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			entity, ok := e.ObjectNew.(*catalogv1alpha1.CatalogEntity)
			if !ok {
				return
			}
			r.ledger.seen(entity)
			old, ok := e.ObjectOld.(*catalogv1alpha1.CatalogEntity)
			if !ok {
				return
			}
			if old.BackstageRef() != entity.BackstageRef() {
				related(ctx, entity, q)
			}
			if memberChanged(old, entity) {
				rollUp(ctx, q, old, entity)
			}
		},
		DeleteFunc: func(ctx context.Context, e event.TypedDeleteEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			related(ctx, e.Object, q)
			if entity, ok := e.Object.(*catalogv1alpha1.CatalogEntity); ok {
				rollUp(ctx, q, entity)
			}
		},
	}
}
