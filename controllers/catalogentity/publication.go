// This file tells an entity when the catalog endpoint leaves it out because another
// CatalogEntity names the same Backstage entity: a tenant's entity must not replace the
// platform team's, and the one left out should say so where its owners look.

package catalogentity

import (
	"context"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/catalog"
)

// notePublication sets the Published condition of next to False when the catalog leaves
// the entity out as a duplicate, by the catalog's own rule (catalog.DuplicateOf), and
// removes it otherwise. A Backstage entity is named by kind, namespace and name, so only
// entities of the same name can clash.
func (r *Reconciler) notePublication(ctx context.Context, entity *catalogv1alpha1.CatalogEntity, next *catalogv1alpha1.CatalogEntityStatus) {
	named, err := r.entitiesNamed(ctx, entity.Name)
	if err != nil {
		logf.FromContext(ctx).Error(err, "Listing entities of the same name")
		return
	}
	why, dup := "", false
	if len(named) > 1 {
		why, dup = catalog.DuplicateOf(entity, named, r.catalogNamespace)
	}
	if !dup {
		meta.RemoveStatusCondition(&next.Conditions, catalogv1alpha1.ConditionPublished)
		return
	}
	meta.SetStatusCondition(&next.Conditions, metav1.Condition{
		Type: catalogv1alpha1.ConditionPublished, Status: metav1.ConditionFalse, ObservedGeneration: entity.Generation,
		Reason: catalogv1alpha1.ReasonDuplicateEntity, Message: catalogv1alpha1.Truncate(why, catalogv1alpha1.MaxMessageLength),
	})
}

// sameName returns the entities called name, in every namespace.
func (r *Reconciler) sameName(ctx context.Context, name string) []client.ObjectKey {
	named, err := r.entitiesNamed(ctx, name)
	if err != nil {
		return nil
	}
	out := make([]client.ObjectKey, 0, len(named))
	for i := range named {
		out = append(out, client.ObjectKeyFromObject(&named[i]))
	}
	return out
}
