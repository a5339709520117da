package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/entityhub/entityhub/controllers/cachetransform"
	"github.com/entityhub/entityhub/controllers/metrics"
	"github.com/entityhub/entityhub/controllers/sources"
	"github.com/entityhub/entityhub/controllers/sources/argocd"
	"github.com/entityhub/entityhub/controllers/watches"
)

// EngineOptions configure the entity engine.
type EngineOptions struct {
	// CatalogNamespace is where auto-created entities live.
	CatalogNamespace string
	// DefaultOwner owns auto-created entities without an owner annotation.
	DefaultOwner string
	// GracePeriod is how long an auto-created entity outlives its last source.
	GracePeriod time.Duration
	// MaxConcurrentReconciles is the number of entities reconciled at once.
	MaxConcurrentReconciles int
	// ArgoCDNamespaces are where Argo CD keeps its cluster Secrets.
	ArgoCDNamespaces []string
	// ClusterNames resolves Argo CD destination servers to cluster names; the Argo CD
	// family in Registry reads it, the engine fills it from cluster Secrets.
	ClusterNames *argocd.ClusterNames
	// Registry decides which CRDs define source kinds.
	Registry *sources.Registry
	// RegisterMetrics adds the engine's metrics to the manager's registry; once per
	// process.
	RegisterMetrics bool
}

// Engine is entityhub's two controllers — one following CRDs, one keeping entities —
// and the watches of source kinds they share.
type Engine struct {
	opts EngineOptions

	// Watches are the running watches of source kinds; set by SetupWithManager.
	Watches *watches.Manager
	// Entities is the CatalogEntity reconciler; set by SetupWithManager.
	Entities *CatalogEntityReconciler
}

// NewEngine returns an engine to set up with a manager.
func NewEngine(opts EngineOptions) *Engine {
	return &Engine{opts: opts}
}

// CacheOptions returns the manager cache options the engine relies on: cached objects
// keep only what is read (memory follows use, not the size of sources), and CRDs are
// cached without their schemas.
func (e *Engine) CacheOptions() cache.Options {
	keepSpec := func(gvk schema.GroupVersionKind) ([][]string, bool) {
		if e.Watches == nil {
			return nil, false
		}
		return e.Watches.KeepSpec(gvk)
	}
	byObject := map[client.Object]cache.ByObject{
		&apiextensionsv1.CustomResourceDefinition{}: {Transform: StripCRD},
	}
	if len(e.opts.ArgoCDNamespaces) > 0 {
		byObject[&corev1.Secret{}] = clusterSecretsCache(e.opts.ArgoCDNamespaces)
	}
	strip := cachetransform.New(keepSpec)
	return cache.Options{
		DefaultTransform: func(obj any) (any, error) {
			obj, err := strip(obj)
			if u, ok := obj.(*unstructured.Unstructured); ok && e.Watches != nil {
				e.Watches.Trim(u)
			}
			return obj, err
		},
		ByObject: byObject,
	}
}

// SetupWithManager creates the watches and registers both controllers with mgr, whose
// cache must have been made with CacheOptions.
func (e *Engine) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	clock := metrics.NewEventClock()
	r := &CatalogEntityReconciler{
		Client:                  mgr.GetClient(),
		Cache:                   mgr.GetCache(),
		Recorder:                mgr.GetEventRecorderFor("entityhub"),
		CatalogNamespace:        e.opts.CatalogNamespace,
		DefaultOwner:            e.opts.DefaultOwner,
		GracePeriod:             e.opts.GracePeriod,
		MaxConcurrentReconciles: e.opts.MaxConcurrentReconciles,
		Clock:                   clock,
	}
	secrets := &clusterSecrets{cache: mgr.GetCache(), names: e.opts.ClusterNames}
	e.Watches = watches.New(watches.Options{
		Cache:   mgr.GetCache(),
		Map:     r.MapSource,
		All:     r.AllEntities,
		OnEvent: func(req reconcile.Request) { clock.Saw(req.NamespacedName, time.Now()) },
		OnStart: func(ctx context.Context, k sources.Kind) {
			if k.Family == argocd.FamilyName && len(e.opts.ArgoCDNamespaces) > 0 && e.opts.ClusterNames != nil {
				secrets.start(ctx)
			}
		},
	})
	secrets.watches = e.Watches
	r.Watches = e.Watches
	r.Entities = metrics.NewEntities(e.Watches.Count)
	if e.opts.RegisterMetrics {
		metrics.Register(r.Entities)
	}
	e.Entities = r
	if err := r.SetupWithManager(ctx, mgr); err != nil {
		return fmt.Errorf("setting up the CatalogEntity controller: %w", err)
	}
	if err := (&SourceKindReconciler{
		Client: mgr.GetClient(), Registry: e.opts.Registry, Watches: e.Watches,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the source kind controller: %w", err)
	}
	return nil
}
