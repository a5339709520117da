// Package setup wires entityhub's manager: the caches, the watches of source kinds, the
// CatalogEntity controller and the CRD controller that feeds it, and the metrics. The
// command, the envtest suites, the demo and the bench all start the manager through it,
// so that what is tested is what runs.
package setup

import (
	"context"
	"errors"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/dynamic"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/argoclusters"
	"github.com/entityhub/entityhub/controllers/cachetransform"
	"github.com/entityhub/entityhub/controllers/catalogentity"
	"github.com/entityhub/entityhub/controllers/metrics"
	"github.com/entityhub/entityhub/controllers/providerhealth"
	"github.com/entityhub/entityhub/controllers/sourcekind"
	"github.com/entityhub/entityhub/controllers/sources"
	"github.com/entityhub/entityhub/controllers/sources/argocd"
	"github.com/entityhub/entityhub/controllers/sources/crossplane"
	"github.com/entityhub/entityhub/controllers/sources/kstatus"
	"github.com/entityhub/entityhub/controllers/sources/workflows"
	"github.com/entityhub/entityhub/controllers/watches"
	"github.com/entityhub/entityhub/controllers/workflowcontroller"
)

// Options are the manager's settings that the engine uses, one per flag of cmd.
type Options struct {
	// CatalogNamespace is where auto-created entities live.
	CatalogNamespace string
	// ClusterWideSourceNamespaces are namespaces besides CatalogNamespace whose entities
	// take sources from every namespace (--cluster-wide-source-namespaces).
	ClusterWideSourceNamespaces []string
	// DefaultOwner owns auto-created entities without an owner annotation.
	DefaultOwner string
	// GracePeriod is how long an auto-created entity outlives its last source.
	GracePeriod time.Duration
	// MaxConcurrentReconciles is the number of entities reconciled at once.
	MaxConcurrentReconciles int
	// ArgoCDNamespaces are where Argo CD keeps its cluster Secrets, read to name
	// Applications' destination clusters. Empty reads no Secret: nothing caches or
	// watches Secrets, and a cluster is named by its server URL
	// (--argocd-cluster-names=none).
	ArgoCDNamespaces []string
	// ArgoCDStaleAfter is how old an Application's status.reconciledAt may grow before
	// it shows Unknown; zero turns the check off (--argocd-stale-after).
	ArgoCDStaleAfter time.Duration
	// WorkflowsControllerLease is the Lease Argo Workflows' controller renews; while it
	// is not renewed, running Workflows show Unknown. Zero turns the check off
	// (--workflows-controller-lease).
	WorkflowsControllerLease types.NamespacedName
	// ExtraKinds are source kinds read with kstatus (--source-kind).
	ExtraKinds []schema.GroupVersionKind
	// KindSyncTimeout and KindErrorGrace are how long a source kind's first list, and a
	// failure of its watch, may last before its sources show Unknown; zero means the
	// watches' defaults. Tests shorten them.
	KindSyncTimeout, KindErrorGrace time.Duration
	// RegisterMetrics adds the engine's metrics to the manager's registry; once per
	// process.
	RegisterMetrics bool
}

// Engine is what Setup wired: entityhub's two controllers — one following CRDs, one
// keeping entities — and the watches of source kinds between them.
type Engine struct {
	// Watches are the running watches of source kinds.
	Watches *watches.Manager
	// Entities is the CatalogEntity reconciler.
	Entities *catalogentity.Reconciler
	// Sources reads source objects from the watches' compact caches and every other
	// object from the manager's cache.
	Sources client.Reader
	// Registry decides which CRDs define source kinds.
	Registry *sources.Registry
}

// Scheme returns the types the manager reads as typed objects. Third-party kinds (Argo
// CD, Crossplane, Argo Workflows) are read as unstructured and need no scheme.
func Scheme() *runtime.Scheme {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(apiextensionsv1.AddToScheme(scheme))
	utilruntime.Must(catalogv1alpha1.AddToScheme(scheme))
	return scheme
}

// CacheOptions returns the manager cache options the engine relies on: cached objects
// keep only what is read (memory follows use, not the size of sources), CRDs are cached
// without their schemas, and Secrets only as Argo CD's cluster Secrets — with no
// ArgoCDNamespaces, not at all: a Secret read would then go to the whole cluster, so
// nothing may ask for one. Source kinds are not in the manager's cache: the watches
// keep them, compact (see package watches).
func CacheOptions(opts Options) cache.Options {
	byObject := map[client.Object]cache.ByObject{
		&apiextensionsv1.CustomResourceDefinition{}: {Transform: sourcekind.StripCRD},
		&catalogv1alpha1.CatalogEntity{}:            {Transform: cachetransform.Entity()},
	}
	if len(opts.ArgoCDNamespaces) > 0 {
		byObject[&corev1.Secret{}] = argoclusters.CacheConfig(opts.ArgoCDNamespaces)
	}
	if opts.WorkflowsControllerLease.Name != "" {
		byObject[&coordinationv1.Lease{}] = workflowcontroller.CacheConfig(opts.WorkflowsControllerLease)
	}
	return cache.Options{
		DefaultTransform: cachetransform.New(nil),
		ByObject:         byObject,
	}
}

// Setup creates the watches and registers both controllers with mgr, whose cache must
// have been made with CacheOptions(opts).
func Setup(ctx context.Context, mgr ctrl.Manager, opts Options) (*Engine, error) {
	if mgr == nil {
		return nil, errors.New("setup: no manager")
	}
	// The dynamic client picks its own serializer; the manager's is for typed objects.
	cfg := rest.CopyConfig(mgr.GetConfig())
	cfg.NegotiatedSerializer = nil
	dyn, err := dynamic.NewForConfigAndClient(cfg, mgr.GetHTTPClient())
	if err != nil {
		return nil, fmt.Errorf("making a dynamic client: %w", err)
	}
	w, err := watches.New(watches.Options{
		Dynamic: dyn, Mapper: mgr.GetRESTMapper(), SyncTimeout: opts.KindSyncTimeout, ErrorGrace: opts.KindErrorGrace,
	})
	if err != nil {
		return nil, err
	}
	if err := mgr.Add(w); err != nil {
		return nil, fmt.Errorf("adding the watches to the manager: %w", err)
	}
	var clusterNames *argocd.ClusterNames // nil: clusters are named by their server URL
	if len(opts.ArgoCDNamespaces) > 0 {
		clusterNames = argocd.NewClusterNames()
	}
	e := &Engine{
		Watches: w,
		Sources: w.Reader(mgr.GetCache()),
		Registry: sources.NewRegistry(&argocd.Family{Clusters: clusterNames}, crossplane.Family{}, workflows.Family{},
			kstatus.Kinds(opts.ExtraKinds)),
	}
	// The upstream trackers and Argo CD's cluster names ask for a resync through the
	// reconciler, made below.
	resync := func() { e.Entities.Resync() }
	up, err := upstreams(mgr, dyn, opts, resync)
	if err != nil {
		return nil, err
	}
	if len(opts.ArgoCDNamespaces) > 0 {
		up.starters[argocd.FamilyName] = argoclusters.NewWatcher(mgr.GetCache(), clusterNames, resync)
	}
	entities := metrics.NewEntities(w.Count)
	if opts.RegisterMetrics {
		metrics.Register(entities)
	}
	e.Entities, err = catalogentity.New(catalogentity.Options{
		Client:                      mgr.GetClient(),
		Reader:                      e.Sources,
		APIReader:                   mgr.GetAPIReader(),
		Watches:                     w,
		Recorder:                    mgr.GetEventRecorder("entityhub"),
		CatalogNamespace:            opts.CatalogNamespace,
		ClusterWideSourceNamespaces: opts.ClusterWideSourceNamespaces,
		DefaultOwner:                opts.DefaultOwner,
		GracePeriod:                 opts.GracePeriod,
		MaxConcurrentReconciles:     opts.MaxConcurrentReconciles,
		Upstream:                    up.upstream,
		Entities:                    entities,
		Clock:                       metrics.NewEventClock(),
	})
	if err != nil {
		return nil, err
	}
	return e, setupControllers(ctx, mgr, e, up.starters)
}

// upstreamSet is what says whether sources are current (see sources.Upstream), and what
// must start with a family's first kind for it.
type upstreamSet struct {
	upstream []sources.Upstream
	starters map[string]sourcekind.Starter
}

// upstreams makes the trackers of the controllers upstream of sources: Argo CD's
// freshness, the Crossplane providers' health and the workflow controller's lease.
func upstreams(mgr ctrl.Manager, dyn dynamic.Interface, opts Options, resync func()) (upstreamSet, error) {
	// Managed resources of a Crossplane provider that is down show Unknown; the tracker
	// has every entity recomputed when one goes down or comes back.
	providers, err := providerhealth.New(providerhealth.Options{CRDs: mgr.GetCache(), Dynamic: dyn, Resync: resync})
	if err != nil {
		return upstreamSet{}, err
	}
	if err := mgr.Add(providers); err != nil {
		return upstreamSet{}, fmt.Errorf("adding the provider tracker to the manager: %w", err)
	}
	set := upstreamSet{
		upstream: []sources.Upstream{argocd.Freshness{StaleAfter: opts.ArgoCDStaleAfter}, providers},
		starters: map[string]sourcekind.Starter{crossplane.FamilyName: providers.Starter()},
	}
	if opts.WorkflowsControllerLease.Name != "" {
		liveness := workflowcontroller.NewLiveness(mgr.GetCache(), opts.WorkflowsControllerLease, resync)
		set.upstream = append(set.upstream, liveness)
		set.starters[workflows.FamilyName] = liveness
	}
	return set, nil
}

// setupControllers registers the entity controller, and the CRD controller that feeds it
// a source per watched kind and starts what families need besides.
func setupControllers(ctx context.Context, mgr ctrl.Manager, e *Engine, starters map[string]sourcekind.Starter) error {
	entityController, err := e.Entities.SetupWithManager(ctx, mgr)
	if err != nil {
		return fmt.Errorf("setting up the CatalogEntity controller: %w", err)
	}
	kinds, err := sourcekind.New(sourcekind.Options{
		Client:   mgr.GetClient(),
		Registry: e.Registry,
		Watches:  e.Watches,
		Feed:     sourcekind.Feed{Controller: entityController, Handler: e.Entities.SourceHandler(), Resync: e.Entities.Resync},
		Starters: starters,
	})
	if err != nil {
		return err
	}
	if err := kinds.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the source kind controller: %w", err)
	}
	return nil
}
