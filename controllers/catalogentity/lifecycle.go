package catalogentity

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/membership"
	"github.com/entityhub/entityhub/controllers/metrics"
	"github.com/entityhub/entityhub/controllers/watches"
)

// OrphanedSinceAnnotation marks an auto-created entity whose sources are all gone, with
// the time they went; the entity is deleted once the grace period has passed since.
const OrphanedSinceAnnotation = "catalog.entityhub.dev/orphaned-since"

// maxCreationMembers bounds how many sources are read to fill a new entity's spec.
const maxCreationMembers = 50

// createIfDiscovered creates the entity key names when sources carry its name in their
// backstage.io/kubernetes-id label and no entity of that name exists yet, here or in
// any other namespace (a hand-written one elsewhere takes those sources). Once the
// first lists are in, a key it does not create has nothing to verify (see Verified); one
// it creates is verified by the reconcile its creation brings.
func (r *Reconciler) createIfDiscovered(ctx context.Context, key types.NamespacedName) error {
	if key.Namespace != r.catalogNamespace || !catalogv1alpha1.IsEntityName(key.Name) {
		return nil
	}
	named, err := r.entitiesNamed(ctx, key.Name)
	if err != nil {
		return err
	}
	if len(named) > 0 {
		if r.started(key) {
			r.verify.mark(key)
		}
		return nil
	}
	if !r.started(key) {
		return nil
	}
	members, err := r.labelledMembers(ctx, key.Name)
	if err != nil {
		return err
	}
	if len(members) == 0 {
		r.verify.mark(key)
		return nil
	}
	spec, ignored := membership.NewEntitySpec(members, r.defaultOwner)
	entity := &catalogv1alpha1.CatalogEntity{
		ObjectMeta: metav1.ObjectMeta{
			Name:      key.Name,
			Namespace: key.Namespace,
			Labels: map[string]string{
				catalogv1alpha1.ManagedByLabel:    catalogv1alpha1.ManagedByValue,
				catalogv1alpha1.KubernetesIDLabel: key.Name,
			},
		},
		Spec: spec,
	}
	if err := r.client.Create(ctx, entity, FieldOwner); err != nil {
		if apierrors.IsAlreadyExists(err) {
			// Another process made it: its own reconcile verifies it.
			return nil
		}
		metrics.ReconcileErrors.WithLabelValues("create").Inc()
		return fmt.Errorf("creating discovered entity: %w", err)
	}
	logf.FromContext(ctx).Info("Created entity for discovered sources", "kind", spec.Kind, "sources", len(members))
	r.recorder.Eventf(entity, nil, corev1.EventTypeNormal, ReasonDiscovered, ActionCreate,
		"Created for %d source(s) labelled %s=%s", len(members), catalogv1alpha1.KubernetesIDLabel, key.Name)
	if len(ignored) > 0 {
		r.recorder.Eventf(entity, nil, corev1.EventTypeWarning, ReasonInvalidAnnotation, ActionCreate,
			"Ignored invalid annotations: %s", strings.Join(ignored, "; "))
	}
	return nil
}

// labelledMembers returns up to maxCreationMembers sources labelled with name.
func (r *Reconciler) labelledMembers(ctx context.Context, name string) ([]membership.Member, error) {
	var members []membership.Member
	for _, kind := range r.watches.Kinds() {
		if !r.readable(kind.GVK) {
			continue
		}
		list, err := r.listKind(ctx, kind.GVK, client.MatchingFields{watches.KubernetesIDIndex: name})
		if err != nil {
			return nil, err
		}
		for i := range list.Items {
			o := &list.Items[i]
			members = append(members, membership.Member{
				ID:          membership.SourceID(kind.GVK, o.GetNamespace(), o.GetName()),
				Family:      kind.Family,
				Kind:        o.GetKind(),
				Annotations: o.GetAnnotations(),
			})
			if len(members) == maxCreationMembers {
				return members, nil
			}
		}
	}
	return members, nil
}

// deleteIfOrphaned deletes an auto-created entity once no source object has belonged to
// it for the grace period. The time its sources went is kept in an annotation, so that
// a restart of the manager does not restart the grace period. Entities that people or
// GitOps wrote are never deleted, nor any entity outside the catalog namespace.
func (r *Reconciler) deleteIfOrphaned(ctx context.Context, entity *catalogv1alpha1.CatalogEntity, objects int) (ctrl.Result, error) {
	// Only what the manager made, where it makes it: a label anyone can copy (a team
	// that applies its own copy of an entity keeps it) proves nothing elsewhere.
	if entity.Namespace != r.catalogNamespace || entity.Labels[catalogv1alpha1.ManagedByLabel] != catalogv1alpha1.ManagedByValue {
		return ctrl.Result{}, nil
	}
	since, marked := entity.Annotations[OrphanedSinceAnnotation]
	if objects > 0 {
		if !marked {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, r.patchMetadata(ctx, entity, "annotations", map[string]any{OrphanedSinceAnnotation: nil})
	}
	now := r.now()
	at, err := time.Parse(time.RFC3339, since)
	if !marked || err != nil {
		stamp := now.UTC().Format(time.RFC3339)
		if err := r.patchMetadata(ctx, entity, "annotations", map[string]any{OrphanedSinceAnnotation: stamp}); err != nil {
			return ctrl.Result{}, err
		}
		return ctrl.Result{RequeueAfter: r.gracePeriod}, nil
	}
	if left := r.gracePeriod - now.Sub(at); left > 0 {
		return ctrl.Result{RequeueAfter: left}, nil
	}
	// Exactly the entity judged: one changed since (relabelled, given sources) is judged
	// again, not deleted.
	uid, version := entity.UID, entity.ResourceVersion
	err = r.client.Delete(ctx, entity, client.Preconditions{UID: &uid, ResourceVersion: &version})
	switch {
	case apierrors.IsConflict(err):
		logf.FromContext(ctx).V(1).Info("Orphaned entity changed before its deletion; judging it again")
		return ctrl.Result{RequeueAfter: time.Second}, nil
	case err != nil && !apierrors.IsNotFound(err):
		return ctrl.Result{}, fmt.Errorf("deleting orphaned entity: %w", err)
	}
	logf.FromContext(ctx).Info("Deleted auto-created entity whose sources are gone", "orphanedSince", since)
	return ctrl.Result{}, nil
}
