// Package controllers holds entityhub's reconcilers. Everything that is not a
// reconciler lives in sub-packages named for what it does.
package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/entitystatus"
	"github.com/entityhub/entityhub/controllers/metrics"
	"github.com/entityhub/entityhub/controllers/watches"
)

// FieldOwner is the field manager entityhub writes with, so that `kubectl get
// --show-managed-fields` and server-side apply tell its writes from a person's.
const FieldOwner = client.FieldOwner("entityhub")

// DefaultGracePeriod is how long an auto-created entity outlives its last source.
const DefaultGracePeriod = 10 * time.Minute

// CatalogEntityReconciler keeps each CatalogEntity labelled for Backstage and its status
// true to its sources; it creates an entity for every backstage.io/kubernetes-id seen on
// a source, and deletes such an entity once its sources have been gone for the grace
// period. It writes only metadata and status of entities people wrote, never spec.
type CatalogEntityReconciler struct {
	client.Client

	// Cache reads source objects, which are watched as unstructured objects.
	Cache client.Reader
	// Watches are the running watches of source kinds.
	Watches *watches.Manager
	// Recorder emits events on health transitions.
	Recorder record.EventRecorder
	// CatalogNamespace is where auto-created entities live.
	CatalogNamespace string
	// DefaultOwner owns auto-created entities without an owner annotation.
	DefaultOwner string
	// GracePeriod is how long an auto-created entity outlives its last source.
	GracePeriod time.Duration
	// Entities feeds the entity and source gauges; optional.
	Entities *metrics.Entities
	// Clock measures event-to-status latency; optional.
	Clock *metrics.EventClock
	// MaxConcurrentReconciles is the number of entities reconciled at once (default 4).
	MaxConcurrentReconciles int
	// Now returns the time that stamps transitions; tests pin it. Defaults to time.Now.
	Now func() time.Time

	// ledger and events are set up by SetupWithManager; pointers, so that a copy of the
	// reconciler (as tests make) shares them.
	ledger *statusLedger
	events *eventLimiter
}

// +kubebuilder:rbac:groups=catalog.entityhub.dev,resources=catalogentities,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=catalog.entityhub.dev,resources=catalogentities/status,verbs=get;patch
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch

// Reconcile brings one entity up to date: create or delete it when it is auto-created,
// label it for Backstage, read its sources and write its status when it changed.
func (r *CatalogEntityReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	entity := &catalogv1alpha1.CatalogEntity{}
	if err := r.Get(ctx, req.NamespacedName, entity); err != nil {
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
	// Never compute status from a half-listed kind: it would show sources as gone.
	if !r.Watches.WaitForSync(ctx) {
		return ctrl.Result{}, ctx.Err()
	}
	found, err := r.collectSources(ctx, entity)
	if err != nil {
		metrics.ReconcileErrors.WithLabelValues("sources").Inc()
		return ctrl.Result{}, err
	}
	current := r.ledger.current(entity)
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
	before := current.Health
	wrote, err := r.patchStatus(ctx, entity, current, next)
	if r.Clock != nil {
		r.Clock.Handled(req.NamespacedName, wrote, r.now())
	}
	if err != nil {
		metrics.ReconcileErrors.WithLabelValues("status").Inc()
		return ctrl.Result{}, err
	}
	r.recordHealthTransition(entity, before, next)
	if r.Entities != nil {
		r.Entities.Set(req.NamespacedName, string(next.Health), found.perKind)
	}
	return r.deleteIfOrphaned(ctx, entity, found.objects)
}

// ensureKubernetesID labels the entity backstage.io/kubernetes-id=<name>, the label the
// Backstage Kubernetes plugin selects on, and puts it back when someone changes it. It
// patches only that label, so GitOps tools that own the rest of the object see no drift.
func (r *CatalogEntityReconciler) ensureKubernetesID(ctx context.Context, entity *catalogv1alpha1.CatalogEntity) error {
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
func (r *CatalogEntityReconciler) patchMetadata(ctx context.Context, entity *catalogv1alpha1.CatalogEntity, field string, values map[string]any) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{field: values}})
	if err != nil {
		return err
	}
	return r.Patch(ctx, entity, client.RawPatch(types.MergePatchType, patch), FieldOwner)
}

func (r *CatalogEntityReconciler) forget(key types.NamespacedName) {
	r.ledger.forget(key)
	r.events.forget(key)
	if r.Entities != nil {
		r.Entities.Forget(key)
	}
	if r.Clock != nil {
		r.Clock.Handled(key, false, r.now())
	}
}

func (r *CatalogEntityReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// SetupWithManager registers the reconciler, its indexes and the source watches' feed
// with the manager.
func (r *CatalogEntityReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if r.GracePeriod == 0 {
		r.GracePeriod = DefaultGracePeriod
	}
	if r.MaxConcurrentReconciles == 0 {
		r.MaxConcurrentReconciles = 4
	}
	r.ledger, r.events = &statusLedger{}, &eventLimiter{}
	if err := indexEntities(ctx, mgr.GetFieldIndexer()); err != nil {
		return err
	}
	// The ledger learns from every version of an entity the cache receives, including
	// the status writes the controller's predicates leave out.
	inf, err := mgr.GetCache().GetInformer(ctx, &catalogv1alpha1.CatalogEntity{})
	if err != nil {
		return fmt.Errorf("getting the CatalogEntity informer: %w", err)
	}
	// And the entities that relate to an entity are recomputed when it comes, goes or is
	// named anew; those that exist at start are all computed after the cache is in.
	entityOf := func(obj any) *catalogv1alpha1.CatalogEntity {
		if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
			obj = t.Obj
		}
		e, _ := obj.(*catalogv1alpha1.CatalogEntity)
		return e
	}
	relate := func(e *catalogv1alpha1.CatalogEntity) {
		if e != nil && r.Watches != nil {
			r.Watches.Offer(ctx, r.relatedTo(ctx, e.Name))
		}
	}
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerDetailedFuncs{
		AddFunc: func(obj any, isInInitialList bool) {
			if !isInInitialList {
				relate(entityOf(obj))
			}
		},
		UpdateFunc: func(oldObj, obj any) {
			e, old := entityOf(obj), entityOf(oldObj)
			if e == nil {
				return
			}
			r.ledger.seen(e)
			if old != nil && old.BackstageRef() != e.BackstageRef() {
				relate(e)
			}
		},
		DeleteFunc: func(obj any) { relate(entityOf(obj)) },
	}); err != nil {
		return fmt.Errorf("watching CatalogEntities for the status ledger and relations: %w", err)
	}
	return ctrl.NewControllerManagedBy(mgr).
		// Its own status writes need no reconcile: status is computed from sources, and a
		// write is an event like any other, which would double the work under load.
		For(&catalogv1alpha1.CatalogEntity{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, predicate.LabelChangedPredicate{}, predicate.AnnotationChangedPredicate{},
		))).
		WatchesRawSource(r.Watches.Source()).
		Named("catalogentity").
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Complete(r)
}
