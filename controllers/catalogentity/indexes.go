package catalogentity

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/membership"
)

// Indexes of CatalogEntities, so that an event on a source finds the entities it
// concerns without listing them all.
const (
	// entityNameIndex: an entity by its name, which is what the Backstage label names.
	entityNameIndex = "entityhub.name"
	// entitySourceKindIndex: an entity by each <group>/<Kind> its spec.sources name.
	entitySourceKindIndex = "entityhub.source-kind"
	// entityRefIndex: an entity by its own Backstage reference (RefKey).
	entityRefIndex = "entityhub.ref"
	// entityRollUpIndex: an entity by the reference of what it rolls up into: the System
	// its spec.system names, the Domain a System's spec.domain names (see rollup.go).
	entityRollUpIndex = "entityhub.rolls-up-into"
)

// entitiesNamed returns the entities called name, in every namespace, from the cache and
// without a copy: they are read, never changed.
func (r *Reconciler) entitiesNamed(ctx context.Context, name string) ([]catalogv1alpha1.CatalogEntity, error) {
	var named catalogv1alpha1.CatalogEntityList
	if err := r.cache.List(ctx, &named, client.MatchingFields{entityNameIndex: name}, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing entities called %s: %w", name, err)
	}
	return named.Items, nil
}

func indexEntities(ctx context.Context, indexer client.FieldIndexer) error {
	if err := indexer.IndexField(ctx, &catalogv1alpha1.CatalogEntity{}, entityNameIndex, func(o client.Object) []string {
		return []string{o.GetName()}
	}); err != nil {
		return fmt.Errorf("indexing entities by name: %w", err)
	}
	if err := indexer.IndexField(ctx, &catalogv1alpha1.CatalogEntity{}, entitySourceKindIndex, func(o client.Object) []string {
		var keys []string
		for _, s := range o.(*catalogv1alpha1.CatalogEntity).Spec.Sources {
			if gk, err := membership.SelectorGroupKind(s); err == nil {
				keys = append(keys, membership.GroupKindKey(gk))
			}
		}
		return keys
	}); err != nil {
		return fmt.Errorf("indexing entities by source kind: %w", err)
	}
	if err := indexer.IndexField(ctx, &catalogv1alpha1.CatalogEntity{}, entityRefIndex, func(o client.Object) []string {
		return []string{o.(*catalogv1alpha1.CatalogEntity).RefKey()}
	}); err != nil {
		return fmt.Errorf("indexing entities by reference: %w", err)
	}
	if err := indexer.IndexField(ctx, &catalogv1alpha1.CatalogEntity{}, entityRollUpIndex, func(o client.Object) []string {
		return rollsUpInto(o.(*catalogv1alpha1.CatalogEntity))
	}); err != nil {
		return fmt.Errorf("indexing entities by what they roll up into: %w", err)
	}
	return nil
}
