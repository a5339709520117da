package controllers

import (
	"context"
	"fmt"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/entityhub/entityhub/controllers/sources"
	"github.com/entityhub/entityhub/controllers/watches"
)

// SourceKindReconciler follows CustomResourceDefinitions: when one that defines source
// kinds becomes Established — at start or any time later — it starts their watches;
// when it is deleted, or stops defining them, it stops them.
type SourceKindReconciler struct {
	client.Client
	Registry *sources.Registry
	Watches  *watches.Manager
}

// +kubebuilder:rbac:groups=apiextensions.k8s.io,resources=customresourcedefinitions,verbs=get;list;watch

// Reconcile makes the watches of one CRD's kinds match what the CRD defines now.
func (r *SourceKindReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := r.Get(ctx, req.NamespacedName, crd); err != nil {
		if apierrors.IsNotFound(err) {
			r.Watches.StopCRD(ctx, req.Name)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	if !crd.DeletionTimestamp.IsZero() || !established(crd) {
		r.Watches.StopCRD(ctx, req.Name)
		return ctrl.Result{}, nil
	}
	kinds := r.Registry.KindsFor(crd)
	if len(kinds) == 0 {
		r.Watches.StopCRD(ctx, req.Name)
		return ctrl.Result{}, nil
	}
	return ctrl.Result{}, r.Watches.Ensure(ctx, req.Name, kinds)
}

// Prime sets up the watches of every source CRD that exists when the manager starts,
// or becomes leader, and then primes the watches, so that entities are first computed
// with every kind that is there. The reconciler follows the CRDs from then on; Ensure
// makes doing the same CRD twice harmless.
func (r *SourceKindReconciler) Prime(ctx context.Context) error {
	log := logf.FromContext(ctx).WithName("sourcekind")
	var crds apiextensionsv1.CustomResourceDefinitionList
	if err := r.List(ctx, &crds); err != nil {
		return fmt.Errorf("listing CRDs to start watches: %w", err)
	}
	for i := range crds.Items {
		crd := &crds.Items[i]
		if !crd.DeletionTimestamp.IsZero() || !established(crd) {
			continue
		}
		if kinds := r.Registry.KindsFor(crd); len(kinds) > 0 {
			if err := r.Watches.Ensure(ctx, crd.Name, kinds); err != nil {
				// The reconciler retries this CRD; one kind must not hold all back.
				log.Error(err, "Starting watches at start", "crd", crd.Name)
			}
		}
	}
	r.Watches.Prime()
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
func (r *SourceKindReconciler) SetupWithManager(mgr ctrl.Manager) error {
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
