package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
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
// cached without their schemas. Source kinds are not in the manager's cache: the
// watches keep them, compact (see package watches).
func (e *Engine) CacheOptions() cache.Options {
	byObject := map[client.Object]cache.ByObject{
		&apiextensionsv1.CustomResourceDefinition{}: {Transform: StripCRD},
		&catalogv1alpha1.CatalogEntity{}:            {Transform: cachetransform.Entity()},
	}
	if len(e.opts.ArgoCDNamespaces) > 0 {
		byObject[&corev1.Secret{}] = clusterSecretsCache(e.opts.ArgoCDNamespaces)
	}
	return cache.Options{
		DefaultTransform: cachetransform.New(nil),
		ByObject:         byObject,
	}
}

// SetupWithManager creates the watches and registers both controllers with mgr, whose
// cache must have been made with CacheOptions.
func (e *Engine) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	clock := metrics.NewEventClock()
	// The dynamic client picks its own serializer; the manager's is for typed objects.
	cfg := rest.CopyConfig(mgr.GetConfig())
	cfg.NegotiatedSerializer = nil
	dyn, err := dynamic.NewForConfigAndClient(cfg, mgr.GetHTTPClient())
	if err != nil {
		return fmt.Errorf("making a dynamic client: %w", err)
	}
	r := &CatalogEntityReconciler{
		Client:                  mgr.GetClient(),
		Recorder:                mgr.GetEventRecorderFor("entityhub"),
		CatalogNamespace:        e.opts.CatalogNamespace,
		DefaultOwner:            e.opts.DefaultOwner,
		GracePeriod:             e.opts.GracePeriod,
		MaxConcurrentReconciles: e.opts.MaxConcurrentReconciles,
		Clock:                   clock,
	}
	secrets := &clusterSecrets{cache: mgr.GetCache(), names: e.opts.ClusterNames}
	e.Watches = watches.New(watches.Options{
		Dynamic: dyn,
		Mapper:  mgr.GetRESTMapper(),
		Map:     r.MapSource,
		Listed:  r.MapListed,
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
	r.Cache = e.Watches.Reader(mgr.GetCache())
	if err := mgr.Add(e.Watches); err != nil {
		return fmt.Errorf("adding the watches to the manager: %w", err)
	}
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
