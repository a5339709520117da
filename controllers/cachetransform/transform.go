// Package cachetransform strips what the controller never reads from the objects the
// manager caches, so that memory grows with what is read, not with the size of the
// sources (DESIGN.md §4). Source objects such as Argo CD Applications carry large specs
// (Helm values, manifests), managedFields and a copy of themselves in the
// last-applied annotation; none of that is read, yet an informer keeps every object of a
// watched kind for the life of the manager.
package cachetransform

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	toolscache "k8s.io/client-go/tools/cache"
)

// New returns a transform for controller-runtime's cache.Options.DefaultTransform.
//
// From every object that has object metadata it removes metadata.managedFields and the
// kubectl.kubernetes.io/last-applied-configuration annotation: nothing reads them, and
// together they are often larger than the rest of the object.
//
// For an *unstructured.Unstructured whose kind keepSpec knows (ok is true), it also
// replaces .spec with only the listed paths, each a path of keys under .spec as in
// sources.Kind.KeepSpec: ["destination"] keeps all of spec.destination,
// ["crossplane", "resourceRefs"] keeps spec.crossplane.resourceRefs and nothing else of
// spec.crossplane, and an empty path keeps the whole spec. When none of the paths exists,
// or .spec is not an object, .spec is removed. Kinds keepSpec does not know keep their
// spec, because something other than a source mapper may read it. Typed objects keep
// their spec too: they are the controller's own or core kinds, and are read as a whole.
// Status is never touched: it is what the mappers read. A nil keepSpec knows no kind.
//
// Anything else — tombstones (toolscache.DeletedFinalStateUnknown), lists, values without
// object metadata — passes through unchanged. The transform never fails and never
// panics: it always returns the object it was given and a nil error, because an error or
// a panic here would stall or crash the informer for a whole kind.
//
// The object is changed in place, which client-go allows since v1.27 (the transform sees
// a freshly decoded object before anything else). It only writes when there is something
// to remove, so running it again on an object it already stripped — client-go asks
// transforms to be idempotent — reads the object and never writes to it, and cannot race
// with readers of the cache.
func New(keepSpec func(gvk schema.GroupVersionKind) ([][]string, bool)) toolscache.TransformFunc {
	return func(obj any) (out any, err error) {
		out = obj
		defer func() {
			// A panic here would kill the informer's goroutine and with it the manager;
			// an object cached unstripped only costs memory.
			if r := recover(); r != nil {
				utilruntime.HandleErrorWithContext(context.Background(), fmt.Errorf("panic: %v", r),
					"Cache transform failed; caching it as it is", "type", fmt.Sprintf("%T", obj))
			}
		}()
		switch o := obj.(type) {
		case toolscache.DeletedFinalStateUnknown, *toolscache.DeletedFinalStateUnknown:
			// The object inside was transformed when it was first cached.
		case *unstructured.Unstructured:
			if o != nil && o.Object != nil {
				stripUnstructured(o, keepSpec)
			}
		case metav1.Object:
			stripTyped(o)
		}
		return out, nil
	}
}

// lastApplied is the annotation kubectl apply keeps a full copy of the object in.
const lastApplied = corev1.LastAppliedConfigAnnotation

// stripTyped strips the metadata of a typed object. It goes through the accessors, which
// for ObjectMeta are plain field reads, and checks before it writes (see New).
func stripTyped(o metav1.Object) {
	if o.GetManagedFields() != nil {
		o.SetManagedFields(nil)
	}
	if a := o.GetAnnotations(); a != nil {
		if _, ok := a[lastApplied]; ok {
			delete(a, lastApplied)
			if len(a) == 0 {
				a = nil
			}
			o.SetAnnotations(a)
		}
	}
}

// stripUnstructured works on u's maps directly rather than through its accessors:
// Unstructured.GetManagedFields and GetAnnotations convert or copy what they return,
// which would cost allocations on every event just to find out there is nothing to do.
func stripUnstructured(u *unstructured.Unstructured, keepSpec func(schema.GroupVersionKind) ([][]string, bool)) {
	if md, ok := u.Object["metadata"].(map[string]any); ok {
		// The guard is the point: delete writes to the map even when the key is absent,
		// and a second pass over a cached object must only read (TestSecondPassDoesNotRace).
		if _, ok := md["managedFields"]; ok { //nolint:staticcheck // S1033: see above
			delete(md, "managedFields")
		}
		if a, ok := md["annotations"].(map[string]any); ok {
			if _, ok := a[lastApplied]; ok {
				delete(a, lastApplied)
				if len(a) == 0 {
					delete(md, "annotations")
				}
			}
		}
	}
	if keepSpec == nil {
		return
	}
	paths, known := keepSpec(u.GroupVersionKind())
	if !known {
		return
	}
	raw, present := u.Object["spec"]
	if !present {
		return
	}
	spec, _ := raw.(map[string]any)
	kept := keep(spec, paths)
	switch {
	case kept == nil:
		delete(u.Object, "spec")
	case !same(kept, spec, paths):
		u.Object["spec"] = kept
	}
}

// keep returns spec cut down to paths, or nil when none of them exists. It never writes
// to spec: subtrees kept whole are shared with it, and the maps leading to a deeper path
// are new.
func keep(spec map[string]any, paths [][]string) map[string]any {
	var out map[string]any
	for i, p := range paths {
		if len(p) == 0 {
			return spec
		}
		if covered(paths, i) {
			// A shorter path keeps this one's whole subtree; descending into it would
			// write into spec's own maps.
			continue
		}
		v, ok := lookup(spec, p)
		if !ok {
			continue
		}
		if out == nil {
			out = make(map[string]any, len(paths))
		}
		m := out
		for _, k := range p[:len(p)-1] {
			next, ok := m[k].(map[string]any)
			if !ok {
				next = make(map[string]any, 1)
				m[k] = next
			}
			m = next
		}
		m[p[len(p)-1]] = v
	}
	return out
}

// same reports whether kept, made by keep from spec, holds all of spec. Every key of kept
// is one of spec's, so that is so when each new map has as many keys as the map of spec
// it was cut from. It lets a second pass over a stripped object leave it alone.
func same(kept, spec map[string]any, paths [][]string) bool {
	if len(kept) != len(spec) {
		return false
	}
	for i, p := range paths {
		if covered(paths, i) {
			continue
		}
		for j := 1; j < len(p); j++ {
			k, ok := lookup(kept, p[:j])
			if !ok {
				break
			}
			s, _ := lookup(spec, p[:j])
			km, _ := k.(map[string]any)
			sm, _ := s.(map[string]any)
			if len(km) != len(sm) {
				return false
			}
		}
	}
	return true
}

// covered reports whether another of paths is a proper prefix of paths[i].
func covered(paths [][]string, i int) bool {
	p := paths[i]
	for j, q := range paths {
		if j == i || len(q) >= len(p) {
			continue
		}
		prefix := true
		for n := range q {
			if q[n] != p[n] {
				prefix = false
				break
			}
		}
		if prefix {
			return true
		}
	}
	return false
}

// lookup returns the value at path under m; ok is false when a key is missing or a value
// on the way is not an object.
func lookup(m map[string]any, path []string) (v any, ok bool) {
	v = m
	for _, k := range path {
		mm, isMap := v.(map[string]any)
		if !isMap {
			return nil, false
		}
		if v, ok = mm[k]; !ok {
			return nil, false
		}
	}
	return v, true
}
