package catalogentity

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/entitystatus"
	"github.com/entityhub/entityhub/controllers/membership"
	"github.com/entityhub/entityhub/controllers/sources"
)

// Bounds on following trees, so that a cycle or a runaway composition cannot make one
// reconcile unbounded; real Crossplane trees are a few levels and tens of resources.
const (
	maxTreeDepth = 8
	maxTreeNodes = 2000
)

// tree is what a walk below one root found.
type tree struct {
	// total and ready count the composed resources: the leaves of the tree, not the
	// composites in between, which are ready when their resources are.
	total, ready int
	failing      *catalogv1alpha1.SourceStatus // worst part, first of equals in reference order
}

// note counts a part; the part to name is the worst one, the first of equals in
// reference order: a resource waiting on a broken one is not the cause.
func (t *tree) note(st catalogv1alpha1.SourceStatus, leaf bool) {
	if leaf {
		t.total++
		if st.Health == catalogv1alpha1.HealthHealthy {
			t.ready++
		}
	}
	if st.Health == catalogv1alpha1.HealthHealthy {
		return
	}
	if t.failing == nil || entitystatus.Rank(st.Health) > entitystatus.Rank(t.failing.Health) {
		t.failing = &st
	}
}

// addTree adds what root is made of — a claim's composite, a composite's composed
// resources, nested composites — as sources of the entity, following references
// through the cache: the cost is the size of the tree, whatever else the cluster holds.
// The root's own entry then reports "<ready>/<total>" of its tree and names the first
// failing part, as `crossplane beta trace` would point at it.
func (r *Reconciler) addTree(ctx context.Context, c *collected, kind sources.Kind, root *unstructured.Unstructured, rootIndex int) error {
	t := &tree{}
	if err := r.walk(ctx, c, kind, root, 1, t); err != nil {
		return err
	}
	if t.total == 0 {
		return nil
	}
	entry := &c.statuses[rootIndex]
	entry.Ready = fmt.Sprintf("%d/%d", t.ready, t.total)
	if t.failing != nil {
		f := t.failing
		why := string(f.Health)
		if f.Phase != "" {
			why += " (" + f.Phase + ")"
		}
		if f.Message != "" {
			why += ": " + f.Message
		}
		own := entry.Message
		entry.Message = fmt.Sprintf("%s ready; %s %s is %s", entry.Ready, f.Kind, f.Name, why)
		if own != "" {
			entry.Message = own + "; " + entry.Message
		}
	}
	return nil
}

// walk visits the parts of obj, depth first in reference order.
func (r *Reconciler) walk(ctx context.Context, c *collected, kind sources.Kind, obj *unstructured.Unstructured, depth int, t *tree) error {
	if kind.Children == nil || depth > maxTreeDepth {
		return nil
	}
	for _, ref := range kind.Children(obj) {
		if len(c.index) >= maxTreeNodes {
			return nil
		}
		partKind, ok := r.watches.KindFor(schema.GroupKind{Group: ref.Group, Kind: ref.Kind})
		if !ok {
			continue // not a kind entityhub reads: nothing true to say about it
		}
		if !r.readable(partKind.GVK) {
			continue
		}
		id := membership.SourceID(partKind.GVK, ref.Namespace, ref.Name)
		if i, ok := c.index[id]; ok {
			// Already a source (a labelled part, or shared by two roots): count it, once read.
			t.note(c.statuses[i], c.leaf[id])
			continue
		}
		part := &unstructured.Unstructured{}
		part.SetGroupVersionKind(partKind.GVK)
		err := r.cache.Get(ctx, types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}, part)
		switch {
		case apierrors.IsNotFound(err):
			t.note(c.statuses[c.append(catalogv1alpha1.SourceStatus{
				ID: id, APIVersion: partKind.GVK.GroupVersion().String(), Kind: ref.Kind,
				Namespace: ref.Namespace, Name: ref.Name, Health: catalogv1alpha1.HealthMissing,
				Message: fmt.Sprintf("referenced by %s %s but not found", obj.GetKind(), obj.GetName()),
			})], true)
			continue
		case err != nil:
			return fmt.Errorf("reading %s %s: %w", ref.Kind, ref.Name, err)
		}
		if c.confined != "" && part.GetNamespace() != c.confined && !partOf(partKind, part, kind, obj) {
			// A tenant's claim may reference any composite; only one that names the claim
			// back (Crossplane's claimRef, owner references) is the claim's.
			t.note(c.statuses[c.append(catalogv1alpha1.SourceStatus{
				ID: id, APIVersion: partKind.GVK.GroupVersion().String(), Kind: ref.Kind,
				Namespace: ref.Namespace, Name: ref.Name, Health: catalogv1alpha1.HealthUnknown,
				Message: fmt.Sprintf("not read: it is outside namespace %s and is not part of %s %s", c.confined, obj.GetKind(), obj.GetName()),
			})], true)
			continue
		}
		i := c.add(partKind, part)
		leaf := partKind.Children == nil || len(partKind.Children(part)) == 0
		c.leaf[id] = leaf
		t.note(c.statuses[i], leaf)
		if err := r.walk(ctx, c, partKind, part, depth+1, t); err != nil {
			return err
		}
	}
	return nil
}

// ancestors returns what obj is part of, up to its root, read from the cache.
func (r *Reconciler) ancestors(ctx context.Context, kind sources.Kind, obj *unstructured.Unstructured) []ancestor {
	var out []ancestor
	seen := map[string]bool{}
	for depth := 0; depth < maxTreeDepth && kind.Parents != nil; depth++ {
		var next *ancestor
		for _, ref := range kind.Parents(obj) {
			pk, ok := r.watches.KindFor(schema.GroupKind{Group: ref.Group, Kind: ref.Kind})
			if !ok {
				continue
			}
			id := membership.SourceID(pk.GVK, ref.Namespace, ref.Name)
			if seen[id] {
				continue
			}
			seen[id] = true
			parent := &unstructured.Unstructured{}
			parent.SetGroupVersionKind(pk.GVK)
			if err := r.cache.Get(ctx, types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}, parent); err != nil {
				continue
			}
			out = append(out, ancestor{kind: pk, obj: parent})
			if next == nil {
				next = &out[len(out)-1]
			}
		}
		if next == nil {
			break
		}
		kind, obj = next.kind, next.obj
	}
	return out
}

// ancestor is one object a source is part of.
type ancestor struct {
	kind sources.Kind
	obj  *unstructured.Unstructured
}

// partOf reports whether part, of partKind, names whole (of kind) among what it is part
// of: the reference back that Crossplane writes (a composite's claimRef, a composed
// resource's owner), which a reference from whole alone does not prove.
func partOf(partKind sources.Kind, part *unstructured.Unstructured, kind sources.Kind, whole *unstructured.Unstructured) bool {
	if partKind.Parents == nil {
		return false
	}
	want := sources.ObjectRef{Group: kind.GVK.Group, Kind: kind.GVK.Kind, Namespace: whole.GetNamespace(), Name: whole.GetName()}
	for _, ref := range partKind.Parents(part) {
		if ref == want {
			return true
		}
	}
	return false
}
