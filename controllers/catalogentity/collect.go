package catalogentity

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/entitystatus"
	"github.com/entityhub/entityhub/controllers/membership"
	"github.com/entityhub/entityhub/controllers/sources"
	"github.com/entityhub/entityhub/controllers/watches"
)

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
	// carried counts the sources kept from the last status because their kind cannot be
	// read now: while there are any, the entity is not orphaned.
	carried int
	// upstream are asked whether each source's status is current at now; recheck is the
	// earliest moment one of their verdicts changes by itself.
	upstream []sources.Upstream
	now      time.Time
	recheck  time.Time
	// members are the references of the entity's members, for rollUpCycle.
	members []string
	// confined is the entity's namespace when it may take sources only from it (see
	// Reconciler.confinedTo); empty when it may take them from every namespace.
	confined string
}

// append adds an entry and returns its index.
func (c *collected) append(st catalogv1alpha1.SourceStatus) int {
	c.statuses = append(c.statuses, st)
	c.index[st.ID] = len(c.statuses) - 1
	return len(c.statuses) - 1
}

// addRoot adds a member of the entity, and what it is made of; one already added (a
// part of an earlier member's tree, or selected twice) is not read again.
func (r *Reconciler) addRoot(ctx context.Context, c *collected, kind sources.Kind, obj *unstructured.Unstructured) error {
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
	for _, u := range c.upstream {
		v := u.Vouch(kind, obj, res, c.now)
		if !v.Recheck.IsZero() && (c.recheck.IsZero() || v.Recheck.Before(c.recheck)) {
			c.recheck = v.Recheck
		}
		if v.Why != "" {
			res = sources.Unvouched(res, v)
			break
		}
	}
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
	// entitystatus cuts every field to its bound, the name and id of this entry too.
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
func (r *Reconciler) collectSources(ctx context.Context, entity *catalogv1alpha1.CatalogEntity) (*collected, error) {
	c := &collected{perKind: map[string]int{}, index: map[string]int{}, leaf: map[string]bool{}, heldRuns: map[string]bool{},
		upstream: r.upstream, now: r.now(), confined: r.confinedTo(entity)}
	for _, kind := range r.watches.Kinds() {
		if !r.readable(kind.GVK) {
			continue // its sources are carried from the last status below
		}
		opts := []client.ListOption{client.MatchingFields{watches.KubernetesIDIndex: entity.Name}}
		if c.confined != "" {
			opts = append(opts, client.InNamespace(c.confined))
		}
		list, err := r.listKind(ctx, kind.GVK, opts...)
		if err != nil {
			return nil, err
		}
		for i := range list.Items {
			if c.confined != "" && list.Items[i].GetNamespace() != c.confined {
				continue // a cluster-scoped object, or one of another namespace
			}
			if err := r.addRoot(ctx, c, kind, &list.Items[i]); err != nil {
				return nil, err
			}
		}
	}
	for i, sel := range entity.Spec.Sources {
		if err := r.collectSelected(ctx, c, i, r.scoped(entity, sel)); err != nil {
			return nil, err
		}
	}
	if err := r.collectMembers(ctx, c, entity); err != nil {
		return nil, err
	}
	c.lastRun, c.history = c.finishRuns()
	r.carryUnreadable(c, entity.Status.Sources)
	sort.Strings(c.revisions)
	c.relations = r.relations(ctx, entity, c.deploys)
	return c, nil
}

// collectSelected reads what spec.sources[at] names or selects.
func (r *Reconciler) collectSelected(ctx context.Context, c *collected, at int, sel catalogv1alpha1.SourceSelector) error {
	gk, err := membership.SelectorGroupKind(sel)
	if err != nil {
		c.placeholder(at, sel, catalogv1alpha1.HealthUnknown, catalogv1alpha1.ReasonInvalidAPIVersion, fmt.Sprintf("invalid apiVersion %q: %v", sel.APIVersion, err))
		return nil
	}
	kind, ok := r.watches.KindFor(gk)
	if !ok {
		c.placeholder(at, sel, catalogv1alpha1.HealthUnknown, catalogv1alpha1.ReasonKindNotWatched, fmt.Sprintf(
			"%s is not watched: its CRD is not installed, or it is not a source kind (see --source-kind)", gk.String()))
		return nil
	}
	if state, why, _ := r.watches.StateOf(kind.GVK); state == watches.Unavailable {
		c.placeholder(at, sel, catalogv1alpha1.HealthUnknown, catalogv1alpha1.ReasonKindNotListable, why)
		return nil
	}
	if c.confined != "" && sel.Namespace != "" && sel.Namespace != c.confined {
		c.placeholder(at, sel, catalogv1alpha1.HealthUnknown, catalogv1alpha1.ReasonNamespaceNotAllowed, fmt.Sprintf(
			"namespace %s is not the entity's: an entity in %s takes sources only from %s", sel.Namespace, c.confined, c.confined))
		return nil
	}
	if sel.Name != "" {
		return r.collectNamed(ctx, c, at, sel, kind)
	}
	return r.collectLabelled(ctx, c, at, sel, kind)
}

// collectNamed reads the one object spec.sources[at] names.
func (r *Reconciler) collectNamed(ctx context.Context, c *collected, at int, sel catalogv1alpha1.SourceSelector, kind sources.Kind) error {
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(kind.GVK)
	err := r.cache.Get(ctx, types.NamespacedName{Namespace: sel.Namespace, Name: sel.Name}, obj)
	switch {
	case apierrors.IsNotFound(err):
		// Not there, unless the kind is still being listed: then nobody knows yet.
		if state, why, _ := r.watches.StateOf(kind.GVK); state == watches.Syncing {
			c.placeholder(at, sel, catalogv1alpha1.HealthUnknown, catalogv1alpha1.ReasonKindNotListable, why)
			return nil
		}
		c.placeholder(at, sel, catalogv1alpha1.HealthMissing, catalogv1alpha1.ReasonSourceNotFound, "not found")
	case err != nil:
		return fmt.Errorf("reading %s %s: %w", kind.GVK.GroupKind(), sel.Name, err)
	case c.confined != "" && obj.GetNamespace() != c.confined:
		c.placeholder(at, sel, catalogv1alpha1.HealthUnknown, catalogv1alpha1.ReasonNamespaceNotAllowed, fmt.Sprintf(
			"%s is cluster-scoped: an entity in %s takes sources only from %s", kind.GVK.GroupKind(), c.confined, c.confined))
	default:
		return r.addRoot(ctx, c, kind, obj)
	}
	return nil
}

// collectLabelled reads what the selector of spec.sources[at] selects: the first
// MaxSelectedObjects by namespace and name; the rest are only counted.
func (r *Reconciler) collectLabelled(ctx context.Context, c *collected, at int, sel catalogv1alpha1.SourceSelector, kind sources.Kind) error {
	selector, err := membership.LabelSelector(sel)
	if err != nil {
		c.placeholder(at, sel, catalogv1alpha1.HealthUnknown, catalogv1alpha1.ReasonInvalidSelector, fmt.Sprintf("invalid selector: %v", err))
		return nil
	}
	opts := []client.ListOption{client.MatchingLabelsSelector{Selector: selector}, client.Limit(catalogv1alpha1.MaxSelectedObjects)}
	if sel.Namespace != "" {
		opts = append(opts, client.InNamespace(sel.Namespace))
	}
	list, err := r.listKind(ctx, kind.GVK, opts...)
	if err != nil {
		return err
	}
	for i := range list.Items {
		if c.confined != "" && list.Items[i].GetNamespace() != c.confined {
			continue // a cluster-scoped object
		}
		if err := r.addRoot(ctx, c, kind, &list.Items[i]); err != nil {
			return err
		}
	}
	if more := list.GetRemainingItemCount(); more != nil && *more > 0 {
		c.unresolved = append(c.unresolved, entitystatus.Unresolved{Reason: catalogv1alpha1.ReasonTooManyObjects, Message: fmt.Sprintf(
			"spec.sources[%d]: the selector matches %d objects; only the first %d, by namespace and name, are read",
			at, int64(len(list.Items))+*more, len(list.Items))})
	}
	return nil
}

// listKind lists objects of a watched kind from the cache. The cache's objects are read,
// never changed, so they are not copied.
func (r *Reconciler) listKind(ctx context.Context, gvk schema.GroupVersionKind, opts ...client.ListOption) (*unstructured.UnstructuredList, error) {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	if err := r.cache.List(ctx, list, append(opts, client.UnsafeDisableDeepCopy)...); err != nil {
		return nil, fmt.Errorf("listing %s: %w", gvk.Kind, err)
	}
	return list, nil
}

// readable reports whether objects of a watched kind can be read now: Synced, or Syncing
// after the start (a kind that came later is read as its objects arrive, each an event).
func (r *Reconciler) readable(gvk schema.GroupVersionKind) bool {
	state, _, ok := r.watches.StateOf(gvk)
	return ok && state != watches.Unavailable
}

// carryUnreadable keeps, from the entity's last status, each source of a kind that is
// watched but cannot be read now, as Unknown saying why and what was last known: a kind
// whose list is late or whose watch fails must not make its sources silently vanish
// (nor the entity look orphaned), and the cache's copy of them is not current.
func (r *Reconciler) carryUnreadable(c *collected, last []catalogv1alpha1.SourceStatus) {
	for _, prev := range last {
		if _, ok := c.index[prev.ID]; ok {
			continue
		}
		gv, err := schema.ParseGroupVersion(prev.APIVersion)
		if err != nil {
			continue
		}
		kind, ok := r.watches.KindFor(gv.WithKind(prev.Kind).GroupKind())
		if !ok {
			continue // not watched any more: its CRD is gone, and its sources with it
		}
		state, why, _ := r.watches.StateOf(kind.GVK)
		if state != watches.Unavailable {
			continue
		}
		c.append(carried(prev, why))
		c.carried++
	}
}

// carried is prev, a source of a kind that cannot be read now, as Unknown: why, then
// what was last known of it, kept from the first time it was carried.
func carried(prev catalogv1alpha1.SourceStatus, why string) catalogv1alpha1.SourceStatus {
	known := sources.LastKnown(prev.Health, prev.Sync)
	if prev.Health == catalogv1alpha1.HealthUnknown {
		known = string(prev.Health)
		if _, after, ok := strings.Cut(prev.Message, sources.LastKnownSep); ok {
			known = after
		}
	}
	st := prev
	st.Health = catalogv1alpha1.HealthUnknown
	if st.Sync != "" {
		st.Sync = catalogv1alpha1.SyncUnknown
	}
	st.Message = why + sources.LastKnownSep + known
	return st
}

// scoped returns sel as it applies to entity: an entry without a namespace, of an entity
// confined to its namespace, is in that namespace.
func (r *Reconciler) scoped(entity *catalogv1alpha1.CatalogEntity, sel catalogv1alpha1.SourceSelector) catalogv1alpha1.SourceSelector {
	if ns := r.confinedTo(entity); ns != "" && sel.Namespace == "" {
		sel.Namespace = ns
	}
	return sel
}

// confinedTo returns the namespace the entity may take sources from, or "" when it may
// take them from every namespace: an entity in a namespace allowed cluster-wide sources
// (the catalog namespace, which only the platform team should be able to write). A
// tenant's entity reads only its own namespace, so it can neither list other teams'
// objects in its status nor claim their labelled sources.
func (r *Reconciler) confinedTo(entity *catalogv1alpha1.CatalogEntity) string {
	if r.clusterWide[entity.Namespace] {
		return ""
	}
	return entity.Namespace
}
