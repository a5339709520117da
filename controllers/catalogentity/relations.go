package catalogentity

import (
	"context"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/sources"
	"github.com/entityhub/entityhub/controllers/watches"
)

// relations returns the entities whose sources this entity's sources deploy — an Argo
// CD Application of A that deploys a claim labelled for B makes A depend on B — as
// Backstage entity references, for status.relations.
func (r *Reconciler) relations(ctx context.Context, entity *catalogv1alpha1.CatalogEntity, deploys []sources.ObjectRef) []string {
	seen := map[string]bool{}
	var refs []string
	for _, d := range deploys {
		kind, ok := r.watches.KindFor(schema.GroupKind{Group: d.Group, Kind: d.Kind})
		if !ok {
			continue
		}
		obj := &unstructured.Unstructured{}
		obj.SetGroupVersionKind(kind.GVK)
		if err := r.cache.Get(ctx, types.NamespacedName{Namespace: d.Namespace, Name: d.Name}, obj); err != nil {
			continue // not there (yet): no relation to report
		}
		other := obj.GetLabels()[catalogv1alpha1.KubernetesIDLabel]
		if other == "" || other == entity.Name || seen[other] {
			continue
		}
		seen[other] = true
		named, err := r.entitiesNamed(ctx, other)
		if err != nil || len(named) == 0 {
			continue
		}
		refs = append(refs, named[0].BackstageRef())
	}
	sort.Strings(refs)
	return refs
}

// relatedTo returns the entities whose relations may name the entity called name: those
// of the sources that deploy a source labelled with it. They are recomputed when an
// entity of that name comes or goes, or is named anew (its kind or catalog namespace).
func (r *Reconciler) relatedTo(ctx context.Context, name string) []reconcile.Request {
	m := &requestSet{seen: map[types.NamespacedName]bool{}}
	for _, kind := range r.watches.Kinds() {
		if !r.readable(kind.GVK) {
			continue
		}
		labelled, err := r.watches.Names(kind.GVK, watches.KubernetesIDIndex, name)
		if err != nil {
			logf.FromContext(ctx).Error(err, "Listing an entity's sources", "kind", kind.GVK.String(), "entity", name)
			continue
		}
		for _, obj := range labelled {
			r.deployersOf(ctx, kind.GVK, obj, m)
		}
	}
	return m.out
}

// deployersOf adds the entities of the sources that deploy obj (see
// sources.IndexDeploys).
func (r *Reconciler) deployersOf(ctx context.Context, gvk schema.GroupVersionKind, obj types.NamespacedName, m *requestSet) {
	key := sources.ObjectRef{Group: gvk.Group, Kind: gvk.Kind, Namespace: obj.Namespace, Name: obj.Name}.Key()
	for _, kind := range r.watches.Kinds() {
		if _, ok := kind.Indexes[sources.IndexDeploys]; !ok {
			continue
		}
		if !r.readable(kind.GVK) {
			continue
		}
		list, err := r.listKind(ctx, kind.GVK, client.MatchingFields{sources.IndexDeploys: key})
		if err != nil {
			logf.FromContext(ctx).Error(err, "Listing what deploys a source", "kind", kind.GVK.String(), "source", key)
			continue
		}
		for i := range list.Items {
			r.entitiesOf(ctx, kind.GVK, &list.Items[i], m)
		}
	}
}
