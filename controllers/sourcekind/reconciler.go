// Package sourcekind follows CustomResourceDefinitions and keeps a watch running for
// every kind that is a source — Argo CD, Crossplane and Argo Workflows kinds as their
// CRDs become Established, and the --source-kind kinds — feeding each to the entity
// controller as an event source. It decides which watches exist; package watches runs
// them.
package sourcekind

import (
	"context"
	"errors"
	"fmt"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/entityhub/entityhub/controllers/sources"
	"github.com/entityhub/entityhub/controllers/watches"
)

// Feed is what the source kinds are fed to: the controller, which owns its queue, and the
// handler it gives each kind's events to.
type Feed struct {
	// Controller gets one source per watched kind (see watches.Manager.Source).
	Controller interface {
		Watch(src source.TypedSource[reconcile.Request]) error
	}
	// Handler maps a source event to the requests to enqueue.
	Handler watches.Handler
	// Resync has every entity recomputed, when kinds stop being watched.
	Resync func()
}

// Starter is started once, when a kind of its family is first watched; Argo CD's cluster
// Secrets are read only where Applications are.
type Starter interface {
	Start(ctx context.Context)
}

// Options are the Reconciler's collaborators; New checks them once.
type Options struct {
	// Client reads CRDs (from the manager's cache).
	Client client.Client
	// Registry decides which CRDs define source kinds.
	Registry *sources.Registry
	// Watches start and stop the informers of source kinds.
	Watches *watches.Manager
	// Feed receives the events of every watched kind.
	Feed Feed
	// Starters are started when a kind of the family they are keyed by is watched.
	Starters map[string]Starter
}

// Reconciler follows CustomResourceDefinitions: when one that defines source kinds
// becomes Established — at start or any time later — it starts their watches and feeds
// them to the entity controller; when it is deleted, or stops defining them, it stops
// them and has every entity recomputed without their sources.
type Reconciler struct {
	client   client.Client
	registry *sources.Registry
	watches  *watches.Manager
	feed     Feed
	starters map[string]Starter
}

// New returns a Reconciler, or an error naming what opts lack.
func New(opts Options) (*Reconciler, error) {
	if opts.Client == nil || opts.Registry == nil || opts.Watches == nil ||
		opts.Feed.Controller == nil || opts.Feed.Handler == nil || opts.Feed.Resync == nil {
		return nil, errors.New("sourcekind: Client, Registry, Watches and a whole Feed are required")
	}
	return &Reconciler{client: opts.Client, registry: opts.Registry, watches: opts.Watches, feed: opts.Feed, starters: opts.Starters}, nil
}

// +kubebuilder:rbac:groups=apiextensions.k8s.io,resources=customresourcedefinitions,verbs=get;list;watch

// Reconcile makes the watches of one CRD's kinds match what the CRD defines now.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := r.client.Get(ctx, req.NamespacedName, crd); err != nil {
		if apierrors.IsNotFound(err) {
			r.stop(ctx, req.Name)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	if !crd.DeletionTimestamp.IsZero() || !established(crd) {
		r.stop(ctx, req.Name)
		return ctrl.Result{}, nil
	}
	kinds := r.registry.KindsFor(crd)
	if len(kinds) == 0 {
		r.stop(ctx, req.Name)
		return ctrl.Result{}, nil
	}
	return ctrl.Result{}, r.ensure(ctx, req.Name, kinds)
}

// ensure makes the watches of crdName's kinds exactly kinds, feeds each new one to the
// controller, starts what its family needs besides, and has every entity recomputed
// when a kind went.
func (r *Reconciler) ensure(ctx context.Context, crdName string, kinds []sources.Kind) error {
	change, err := r.watches.Ensure(ctx, crdName, kinds)
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	for _, k := range change.Started {
		src, err := r.watches.Source(k.GVK, r.feed.Handler)
		if err == nil {
			err = r.feed.Controller.Watch(src)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("feeding %s to the entity controller: %w", k.GVK, err))
			continue
		}
		if s, ok := r.starters[k.Family]; ok {
			s.Start(ctx)
		}
	}
	if len(change.Stopped) > 0 {
		r.feed.Resync()
	}
	return errors.Join(errs...)
}

// stop stops the watches of crdName's kinds, and has every entity recomputed without
// their sources.
func (r *Reconciler) stop(ctx context.Context, crdName string) {
	if len(r.watches.StopCRD(ctx, crdName)) > 0 {
		r.feed.Resync()
	}
}

// Prime sets up the watches of every source CRD that exists when the manager starts,
// or becomes leader, and then primes the watches, so that entities are first computed
// with every kind that is there. The reconciler follows the CRDs from then on; Ensure
// makes doing the same CRD twice harmless.
func (r *Reconciler) Prime(ctx context.Context) error {
	log := logf.FromContext(ctx).WithName("sourcekind")
	var crds apiextensionsv1.CustomResourceDefinitionList
	if err := r.client.List(ctx, &crds); err != nil {
		return fmt.Errorf("listing CRDs to start watches: %w", err)
	}
	for i := range crds.Items {
		crd := &crds.Items[i]
		if !crd.DeletionTimestamp.IsZero() || !established(crd) {
			continue
		}
		if kinds := r.registry.KindsFor(crd); len(kinds) > 0 {
			if err := r.ensure(ctx, crd.Name, kinds); err != nil {
				// The reconciler retries this CRD; one kind must not hold all back.
				log.Error(err, "Starting watches at start", "crd", crd.Name)
			}
		}
	}
	r.watches.Prime()
	log.Info("Watches of existing source kinds set up", "crds", len(crds.Items))
	return nil
}

// established reports whether the API server serves the CRD's kinds yet.
func established(crd *apiextensionsv1.CustomResourceDefinition) bool {
	for _, c := range crd.Status.Conditions {
		if c.Type == apiextensionsv1.Established {
			return c.Status == apiextensionsv1.ConditionTrue
		}
	}
	return false
}

// StripCRD is the cache transform for CRDs: only names, versions, categories and
// conditions are read, while schemas can weigh hundreds of kilobytes per CRD and
// providers install hundreds of CRDs.
func StripCRD(obj any) (any, error) {
	crd, ok := obj.(*apiextensionsv1.CustomResourceDefinition)
	if !ok {
		return obj, nil
	}
	crd.ManagedFields = nil
	delete(crd.Annotations, "kubectl.kubernetes.io/last-applied-configuration")
	for i := range crd.Spec.Versions {
		v := &crd.Spec.Versions[i]
		v.Schema, v.Subresources, v.AdditionalPrinterColumns, v.SelectableFields = nil, nil, nil, nil
	}
	crd.Spec.Conversion = nil
	return crd, nil
}

// SetupWithManager registers the reconciler with the manager. Status changes matter
// (Established), so every change of a CRD is reconciled; it is cheap.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	// Prime runs when the manager leads, like the controllers, and before entities are
	// computed: they wait for it.
	if err := mgr.Add(manager.RunnableFunc(r.Prime)); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&apiextensionsv1.CustomResourceDefinition{}, builder.WithPredicates(predicate.ResourceVersionChangedPredicate{})).
		Named("sourcekind").
		Complete(r)
}
