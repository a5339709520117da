// Package controllers holds entityhub's reconcilers. Everything that is not a
// reconciler lives in sub-packages named for what it does.
package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/health"
)

// FieldOwner is the field manager entityhub writes with, so that `kubectl get
// --show-managed-fields` and server-side apply tell its writes from a person's.
const FieldOwner = client.FieldOwner("entityhub")

// CatalogEntityReconciler keeps each CatalogEntity labelled for Backstage and its status
// true to its sources. It writes only metadata labels and status, never spec.
type CatalogEntityReconciler struct {
	client.Client

	// Now returns the time that stamps transitions; tests pin it. Defaults to time.Now.
	Now func() time.Time
}

// +kubebuilder:rbac:groups=catalog.entityhub.dev,resources=catalogentities,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=catalog.entityhub.dev,resources=catalogentities/status,verbs=get;patch

// Reconcile labels the entity for Backstage and writes its status when it changed.
func (r *CatalogEntityReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	entity := &catalogv1alpha1.CatalogEntity{}
	if err := r.Get(ctx, req.NamespacedName, entity); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !entity.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	if err := r.ensureKubernetesID(ctx, entity); err != nil {
		return ctrl.Result{}, err
	}
	next := health.Status(entity.Status, health.Input{
		Generation: entity.Generation,
		Sources:    nil, // Source kinds plug in here (issue: entity engine).
		Now:        metav1.NewTime(r.now()),
	})
	return ctrl.Result{}, r.patchStatus(ctx, entity, next)
}

// ensureKubernetesID labels the entity backstage.io/kubernetes-id=<name>, the label the
// Backstage Kubernetes plugin selects on, and puts it back when someone changes it. It
// patches only that label, so GitOps tools that own the rest of the object see no drift.
func (r *CatalogEntityReconciler) ensureKubernetesID(ctx context.Context, entity *catalogv1alpha1.CatalogEntity) error {
	if entity.Labels[catalogv1alpha1.KubernetesIDLabel] == entity.Name {
		return nil
	}
	patch, err := json.Marshal(map[string]any{
		"metadata": map[string]any{
			"labels": map[string]string{catalogv1alpha1.KubernetesIDLabel: entity.Name},
		},
	})
	if err != nil {
		return err
	}
	if err := r.Patch(ctx, entity, client.RawPatch(types.MergePatchType, patch), FieldOwner); err != nil {
		return fmt.Errorf("labelling %s for Backstage: %w", catalogv1alpha1.KubernetesIDLabel, err)
	}
	logf.FromContext(ctx).V(1).Info("Labelled entity for Backstage", "label", catalogv1alpha1.KubernetesIDLabel)
	return nil
}

// patchStatus writes next only when it differs from what the entity has, so a quiet
// fleet makes no writes at all.
func (r *CatalogEntityReconciler) patchStatus(ctx context.Context, entity *catalogv1alpha1.CatalogEntity, next catalogv1alpha1.CatalogEntityStatus) error {
	if equality.Semantic.DeepEqual(entity.Status, next) {
		return nil
	}
	base := entity.DeepCopy()
	entity.Status = next
	if err := r.Status().Patch(ctx, entity, client.MergeFrom(base), FieldOwner); err != nil {
		return fmt.Errorf("writing status: %w", err)
	}
	logf.FromContext(ctx).V(1).Info("Wrote status", "health", next.Health, "ready", next.Ready)
	return nil
}

func (r *CatalogEntityReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// SetupWithManager registers the reconciler with the manager.
func (r *CatalogEntityReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&catalogv1alpha1.CatalogEntity{}).
		Named("catalogentity").
		Complete(r)
}
