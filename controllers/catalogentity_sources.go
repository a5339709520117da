package controllers

import (
	"context"
	"fmt"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/entitystatus"
	"github.com/entityhub/entityhub/controllers/membership"
	"github.com/entityhub/entityhub/controllers/sources"
	"github.com/entityhub/entityhub/controllers/watches"
)

// Indexes of CatalogEntities, so that an event on a source finds the entities it
// concerns without listing them all.
const (
	// entityNameIndex: an entity by its name, which is what the Backstage label names.
	entityNameIndex = "entityhub.name"
	// entitySourceKindIndex: an entity by each <group>/<Kind> its spec.sources name.
	entitySourceKindIndex = "entityhub.source-kind"
)

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
	return nil
}

// collected is what an entity's sources say.
type collected struct {
	statuses  []catalogv1alpha1.SourceStatus
	revisions []string
	perKind   map[string]int // sources per <group>/<Kind>, for metrics
	objects   int            // source objects that exist, for clean-up of auto-created entities
	deploys   []sources.ObjectRef
	relations []string
	index     map[string]int  // entry of each source id, so that nothing is read twice
	leaf      map[string]bool // whether a tree part is a composed resource, not a composite
	runs      []runCandidate  // runs, of which only the newest of each group is a source
	heldRuns  map[string]bool
	lastRun   string
	history   []catalogv1alpha1.RunStatus
	// unresolved are the spec.sources entries that could not be read, and why.
	unresolved []entitystatus.Unresolved
}

// append adds an entry and returns its index.
func (c *collected) append(st catalogv1alpha1.SourceStatus) int {
	c.statuses = append(c.statuses, st)
	c.index[st.ID] = len(c.statuses) - 1
	return len(c.statuses) - 1
}

// addRoot adds a member of the entity, and what it is made of; one already added (a
// part of an earlier member's tree, or selected twice) is not read again.
func (r *CatalogEntityReconciler) addRoot(ctx context.Context, c *collected, kind sources.Kind, obj *unstructured.Unstructured) error {
	if _, ok := c.index[membership.SourceID(kind.GVK, obj.GetNamespace(), obj.GetName())]; ok {
		return nil
	}
	if kind.RunOf != nil {
		c.holdRun(kind, obj)
		return nil
	}
	if kind.Runs != nil {
		if err := r.collectRuns(ctx, c, kind, obj); err != nil {
			return err
		}
	}
	if kind.Carrier {
		c.objects++ // it has no status to show, but it is there: the entity is not orphaned
		return nil
	}
	i := c.add(kind, obj)
	if kind.Children == nil {
		return nil
	}
	c.leaf[c.statuses[i].ID] = len(kind.Children(obj)) == 0
	return r.addTree(ctx, c, kind, obj, i)
}

// add records obj as a source and returns the index of its entry.
func (c *collected) add(kind sources.Kind, obj *unstructured.Unstructured) int {
	res := sources.SafeMap(kind.Map, obj)
	i := c.append(catalogv1alpha1.SourceStatus{
		ID:         membership.SourceID(kind.GVK, obj.GetNamespace(), obj.GetName()),
		APIVersion: obj.GetAPIVersion(),
		Kind:       obj.GetKind(),
		Namespace:  obj.GetNamespace(),
		Name:       obj.GetName(),
		Cluster:    res.Cluster,
		Health:     res.Health,
		Sync:       res.Sync,
		Phase:      res.Phase,
		Message:    res.Message,
	})
	if res.Revision != "" {
		c.revisions = append(c.revisions, res.Revision)
	}
	c.deploys = append(c.deploys, res.Deploys...)
	c.perKind[membership.GroupKindKey(kind.GVK.GroupKind())]++
	c.objects++
	return i
}

// placeholder reports a spec.sources entry that cannot be read as one source entry.
func (c *collected) placeholder(at int, sel catalogv1alpha1.SourceSelector, h catalogv1alpha1.Health, reason, msg string) {
	gv, _ := schema.ParseGroupVersion(sel.APIVersion)
	name := sel.Name
	if name == "" {
		name = "selector:" + metav1.FormatLabelSelector(sel.Selector)
	}
	if len(name) > 253 {
		name = name[:253]
	}
	c.append(catalogv1alpha1.SourceStatus{
		ID:         membership.SourceID(gv.WithKind(sel.Kind), sel.Namespace, name),
		APIVersion: sel.APIVersion,
		Kind:       sel.Kind,
		Namespace:  sel.Namespace,
		Name:       name,
		Health:     h,
		Message:    msg,
	})
	c.unresolved = append(c.unresolved, entitystatus.Unresolved{Reason: reason, Message: fmt.Sprintf("spec.sources[%d]: %s", at, msg)})
}

// collectSources reads every source of the entity from the cache: objects labelled
// with its name, of every watched kind, and what its spec.sources select.
func (r *CatalogEntityReconciler) collectSources(ctx context.Context, entity *catalogv1alpha1.CatalogEntity) (*collected, error) {
	c := &collected{perKind: map[string]int{}, index: map[string]int{}, leaf: map[string]bool{}, heldRuns: map[string]bool{}}
	for _, kind := range r.Watches.Kinds() {
		if state, _ := r.Watches.StateOf(kind.GVK); state != watches.Synced {
			continue
		}
		list, err := r.listKind(ctx, kind.GVK, client.MatchingFields{watches.KubernetesIDIndex: entity.Name})
		if err != nil {
			return nil, err
		}
		for i := range list.Items {
			if err := r.addRoot(ctx, c, kind, &list.Items[i]); err != nil {
				return nil, err
			}
		}
	}
	for i, sel := range entity.Spec.Sources {
		if err := r.collectSelected(ctx, c, i, sel); err != nil {
			return nil, err
		}
	}
	c.lastRun, c.history = c.finishRuns()
	sort.Strings(c.revisions)
	c.relations = r.relations(ctx, entity, c.deploys)
	return c, nil
}

// relations returns the entities whose sources this entity's sources deploy — an Argo
// CD Application of A that deploys a claim labelled for B makes A depend on B — as
// Backstage entity references, for status.relations.
func (r *CatalogEntityReconciler) relations(ctx context.Context, entity *catalogv1alpha1.CatalogEntity, deploys []sources.ObjectRef) []string {
	seen := map[string]bool{}
	var refs []string
	for _, d := range deploys {
		kind, ok := r.Watches.KindFor(schema.GroupKind{Group: d.Group, Kind: d.Kind})
		if !ok {
			continue
		}
		obj := &unstructured.Unstructured{}
		obj.SetGroupVersionKind(kind.GVK)
		if err := r.Cache.Get(ctx, types.NamespacedName{Namespace: d.Namespace, Name: d.Name}, obj); err != nil {
			continue // not there (yet): no relation to report
		}
		other := obj.GetLabels()[catalogv1alpha1.KubernetesIDLabel]
		if other == "" || other == entity.Name || seen[other] {
			continue
		}
		seen[other] = true
		var named catalogv1alpha1.CatalogEntityList
		if err := r.Cache.List(ctx, &named, client.MatchingFields{entityNameIndex: other}, client.UnsafeDisableDeepCopy); err != nil || len(named.Items) == 0 {
			continue
		}
		refs = append(refs, named.Items[0].BackstageRef())
	}
	sort.Strings(refs)
	return refs
}

// collectSelected reads what spec.sources[at] names or selects.
func (r *CatalogEntityReconciler) collectSelected(ctx context.Context, c *collected, at int, sel catalogv1alpha1.SourceSelector) error {
	gk, err := membership.SelectorGroupKind(sel)
	if err != nil {
		c.placeholder(at, sel, catalogv1alpha1.HealthUnknown, catalogv1alpha1.ReasonInvalidAPIVersion, fmt.Sprintf("invalid apiVersion %q: %v", sel.APIVersion, err))
		return nil
	}
	kind, ok := r.Watches.KindFor(gk)
	if !ok {
		c.placeholder(at, sel, catalogv1alpha1.HealthUnknown, catalogv1alpha1.ReasonKindNotWatched, fmt.Sprintf(
			"%s is not watched: its CRD is not installed, or it is not a source kind (see --source-kind)", gk.String()))
		return nil
	}
	if state, _ := r.Watches.StateOf(kind.GVK); state == watches.Unavailable {
		c.placeholder(at, sel, catalogv1alpha1.HealthUnknown, catalogv1alpha1.ReasonKindNotListable, fmt.Sprintf(
			"cannot list %s: is the manager allowed to list and watch it?", gk.String()))
		return nil
	}
	if sel.Name != "" {
		obj := &unstructured.Unstructured{}
		obj.SetGroupVersionKind(kind.GVK)
		err := r.Cache.Get(ctx, types.NamespacedName{Namespace: sel.Namespace, Name: sel.Name}, obj)
		switch {
		case apierrors.IsNotFound(err):
			c.placeholder(at, sel, catalogv1alpha1.HealthMissing, catalogv1alpha1.ReasonSourceNotFound, "not found")
		case err != nil:
			return fmt.Errorf("reading %s %s: %w", gk, sel.Name, err)
		default:
			return r.addRoot(ctx, c, kind, obj)
		}
		return nil
	}
	selector, err := membership.LabelSelector(sel)
	if err != nil {
		c.placeholder(at, sel, catalogv1alpha1.HealthUnknown, catalogv1alpha1.ReasonInvalidSelector, fmt.Sprintf("invalid selector: %v", err))
		return nil
	}
	opts := []client.ListOption{client.MatchingLabelsSelector{Selector: selector}}
	if sel.Namespace != "" {
		opts = append(opts, client.InNamespace(sel.Namespace))
	}
	list, err := r.listKind(ctx, kind.GVK, opts...)
	if err != nil {
		return err
	}
	for i := range list.Items {
		if err := r.addRoot(ctx, c, kind, &list.Items[i]); err != nil {
			return err
		}
	}
	return nil
}

// listKind lists objects of a watched kind from the cache. The cache's objects are read,
// never changed, so they are not copied.
func (r *CatalogEntityReconciler) listKind(ctx context.Context, gvk schema.GroupVersionKind, opts ...client.ListOption) (*unstructured.UnstructuredList, error) {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	if err := r.Cache.List(ctx, list, append(opts, client.UnsafeDisableDeepCopy)...); err != nil {
		return nil, fmt.Errorf("listing %s: %w", gvk.Kind, err)
	}
	return list, nil
}

// MapSource returns the entities an event on a source concerns: for each state of the
// object (before and after an update), the entities named by its Backstage label — and
// the one that would be created for it — and those whose spec.sources select it; and
// the same for every object it is part of (a composed resource's composite and claim),
// since parts belong to the entity of their root.
func (r *CatalogEntityReconciler) MapSource(ctx context.Context, gvk schema.GroupVersionKind, objs ...*unstructured.Unstructured) []reconcile.Request {
	m := &requestSet{seen: map[types.NamespacedName]bool{}}
	kind, watched := r.Watches.KindFor(gvk.GroupKind())
	// What deploys obj relates its entity to obj's: that changes when obj comes, goes or
	// is labelled for another entity, not when its status changes.
	relabelled := len(objs) != 2 || objs[0].GetLabels()[catalogv1alpha1.KubernetesIDLabel] != objs[1].GetLabels()[catalogv1alpha1.KubernetesIDLabel]
	for _, obj := range objs {
		r.entitiesOf(ctx, gvk, obj, m)
		if relabelled {
			r.deployersOf(ctx, gvk, client.ObjectKeyFromObject(obj), m)
		}
		if !watched || kind.Parents == nil {
			continue
		}
		for _, a := range r.ancestors(ctx, kind, obj) {
			r.entitiesOf(ctx, a.kind.GVK, a.obj, m)
		}
	}
	return m.out
}

// deployersOf adds the entities of the sources that deploy obj (see
// sources.IndexDeploys).
func (r *CatalogEntityReconciler) deployersOf(ctx context.Context, gvk schema.GroupVersionKind, obj types.NamespacedName, m *requestSet) {
	key := sources.ObjectRef{Group: gvk.Group, Kind: gvk.Kind, Namespace: obj.Namespace, Name: obj.Name}.Key()
	for _, kind := range r.Watches.Kinds() {
		if _, ok := kind.Indexes[sources.IndexDeploys]; !ok {
			continue
		}
		if state, _ := r.Watches.StateOf(kind.GVK); state != watches.Synced {
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

// relatedTo returns the entities whose relations may name the entity called name: those
// of the sources that deploy a source labelled with it. They are recomputed when an
// entity of that name comes or goes, or is named anew (its kind or catalog namespace).
func (r *CatalogEntityReconciler) relatedTo(ctx context.Context, name string) []reconcile.Request {
	m := &requestSet{seen: map[types.NamespacedName]bool{}}
	for _, kind := range r.Watches.Kinds() {
		if state, _ := r.Watches.StateOf(kind.GVK); state != watches.Synced {
			continue
		}
		labelled, err := r.Watches.Names(kind.GVK, watches.KubernetesIDIndex, name)
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

// MapListed returns the entity to discover for a source the first list of its kind
// brought at start (see watches.Options.Listed): the one its Backstage label names in
// the catalog namespace, which is created if it does not exist. Every other entity it
// concerns exists, and is reconciled once the lists are in.
func (r *CatalogEntityReconciler) MapListed(l labels.Labels) []reconcile.Request {
	if name := l.Get(catalogv1alpha1.KubernetesIDLabel); catalogv1alpha1.IsEntityName(name) {
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: r.CatalogNamespace, Name: name}}}
	}
	return nil
}

// requestSet collects requests once each.
type requestSet struct {
	seen map[types.NamespacedName]bool
	out  []reconcile.Request
}

func (s *requestSet) add(key types.NamespacedName) {
	if !s.seen[key] {
		s.seen[key] = true
		s.out = append(s.out, reconcile.Request{NamespacedName: key})
	}
}

// entitiesOf adds the entities obj itself belongs to: by its label and by selectors.
func (r *CatalogEntityReconciler) entitiesOf(ctx context.Context, gvk schema.GroupVersionKind, obj *unstructured.Unstructured, m *requestSet) {
	log := logf.FromContext(ctx)
	if name := obj.GetLabels()[catalogv1alpha1.KubernetesIDLabel]; name != "" {
		if catalogv1alpha1.IsEntityName(name) {
			m.add(types.NamespacedName{Namespace: r.CatalogNamespace, Name: name})
		}
		var named catalogv1alpha1.CatalogEntityList
		if err := r.Cache.List(ctx, &named, client.MatchingFields{entityNameIndex: name}, client.UnsafeDisableDeepCopy); err != nil {
			log.Error(err, "Listing entities by name", "name", name)
		}
		for i := range named.Items {
			m.add(client.ObjectKeyFromObject(&named.Items[i]))
		}
	}
	var selecting catalogv1alpha1.CatalogEntityList
	if err := r.Cache.List(ctx, &selecting, client.MatchingFields{entitySourceKindIndex: membership.GroupKindKey(gvk.GroupKind())},
		client.UnsafeDisableDeepCopy); err != nil {
		log.Error(err, "Listing entities by source kind", "kind", gvk.String())
		return
	}
	for i := range selecting.Items {
		e := &selecting.Items[i]
		for _, sel := range e.Spec.Sources {
			// An invalid selector selects nothing; the entity reports it when reconciled.
			if ok, _ := membership.Selects(sel, gvk.GroupKind(), obj); ok {
				m.add(client.ObjectKeyFromObject(e))
			}
		}
	}
}

// AllEntities returns a request for every entity, for when a source kind appears or goes.
func (r *CatalogEntityReconciler) AllEntities(ctx context.Context) []reconcile.Request {
	var list catalogv1alpha1.CatalogEntityList
	if err := r.Cache.List(ctx, &list, client.UnsafeDisableDeepCopy); err != nil {
		logf.FromContext(ctx).Error(err, "Listing entities")
		return nil
	}
	out := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return out
}
