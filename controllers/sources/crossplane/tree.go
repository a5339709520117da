package crossplane

import (
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/entityhub/entityhub/controllers/sources"
)

// maxRefs bounds how many objects Children returns: a composite rarely composes more
// than a few dozen resources, and a bound keeps a malformed or hostile object from
// making every reconcile of its entity follow millions of references.
const maxRefs = 1000

// The places a claim or composite names its parts and its claim, as paths of keys under
// the object. Crossplane v1 composites (and v2's LegacyCluster ones) keep their refs at
// the top of spec; Crossplane v2 moved everything it owns under spec.crossplane.
var (
	pathResourceRef            = []string{"spec", "resourceRef"}
	pathResourceRefs           = []string{"spec", "resourceRefs"}
	pathClaimRef               = []string{"spec", "claimRef"}
	pathCrossplaneResourceRefs = []string{"spec", "crossplane", "resourceRefs"}
	pathCrossplaneClaimRef     = []string{"spec", "crossplane", "claimRef"}
	pathOwnerReferences        = []string{"metadata", "ownerReferences"}
)

// valueAt returns the value at path in obj, and whether there is one: false when a key
// is missing or what holds it is not an object.
func valueAt(obj *unstructured.Unstructured, path []string) (any, bool) {
	v, found, err := unstructured.NestedFieldNoCopy(obj.Object, path...)
	return v, found && err == nil
}

// KeepSpec returns the fields under .spec that MapResource, Children and Parents read,
// for sources.Kind.KeepSpec: only the references that make up the Crossplane tree.
// MapResource reads no spec at all; a managed resource's forProvider and a composite's
// parameters are dropped from the cache, as they can be large and are never read. Each
// call returns new slices, so that a caller changing them changes nothing for others.
func KeepSpec() [][]string {
	return [][]string{
		{"resourceRef"},
		{"resourceRefs"},
		{"claimRef"},
		{"crossplane", "resourceRefs"},
		{"crossplane", "claimRef"},
	}
}

// Children returns what a claim or composite is made of, so that those objects belong
// to its entity even without the entity's label (DESIGN.md §2, item 3):
//
//   - a claim's spec.resourceRef, its composite. Crossplane v1 composites, and the
//     legacy ones v2 keeps for claims, are cluster-scoped: the namespace stays empty
//     unless the ref has one.
//   - a v1 composite's spec.resourceRefs, its composed resources, each with the
//     namespace its ref has (none: v1 composes cluster-scoped managed resources).
//   - a v2 composite's spec.crossplane.resourceRefs. A namespaced v2 composite composes
//     resources in its own namespace and leaves the namespace out of its refs, so a ref
//     without one gets obj's namespace.
//
// The group of each is derived from its ref's apiVersion. Entries without an
// apiVersion that parses, a kind or a name cannot be looked up and are skipped, as are
// duplicates (an object moving from one shape to the other may list a part twice, and
// it must count once toward how many parts are ready). Order is kept, and at most 1000
// refs are returned. Children never panics and never modifies obj.
func Children(obj *unstructured.Unstructured) []sources.ObjectRef {
	if obj == nil {
		return nil
	}
	var out refList
	if v, ok := valueAt(obj, pathResourceRef); ok {
		out.add(parseRef(v, ""))
	}
	for _, refs := range []struct {
		path      []string
		defaultNS string
	}{
		{pathResourceRefs, ""},
		{pathCrossplaneResourceRefs, namespaceOf(obj)},
	} {
		v, _ := valueAt(obj, refs.path)
		list, _ := v.([]any)
		for _, e := range list {
			if len(out.refs) == maxRefs {
				return out.refs
			}
			out.add(parseRef(e, refs.defaultNS))
		}
	}
	return out.refs
}

// Parents returns what a composed resource or composite belongs to, so that an event on
// a part reaches the entity of the whole:
//
//   - its controller, the ownerReference with controller: true — the composite that
//     composed it. Owner references name no namespace: an owner is in the object's own
//     namespace, or cluster-scoped. A namespaced object's controller is taken to be in
//     its namespace (a v2 composite and what it composes share one); a cluster-scoped
//     object's has none.
//   - a composite's claim: spec.claimRef (Crossplane v1 and v2's legacy composites) or
//     spec.crossplane.claimRef, in the namespace the ref names. Claims are namespaced,
//     so a claim ref without a namespace cannot be followed and is skipped.
//
// Like Children it derives groups from apiVersions, skips malformed entries and
// duplicates, never panics and never modifies obj.
func Parents(obj *unstructured.Unstructured) []sources.ObjectRef {
	if obj == nil {
		return nil
	}
	var out refList
	if v, ok := valueAt(obj, pathOwnerReferences); ok {
		owners, _ := v.([]any)
		for _, o := range owners {
			m, _ := o.(map[string]any)
			// Only a real boolean: the API server accepts nothing else, and a
			// "true" string is not something it would have stored.
			if controller, _ := m["controller"].(bool); controller {
				out.add(refWithNamespace(m, namespaceOf(obj)))
				// The API server allows one controller per object.
				break
			}
		}
	}
	for _, path := range [][]string{pathClaimRef, pathCrossplaneClaimRef} {
		v, ok := valueAt(obj, path)
		if !ok {
			continue
		}
		ref, ok := parseRef(v, "")
		out.add(ref, ok && ref.Namespace != "")
	}
	return out.refs
}

// refList collects refs in order, without duplicates.
type refList struct {
	refs []sources.ObjectRef
	seen map[sources.ObjectRef]bool
}

// add appends ref when ok and it is not there yet. It takes parseRef's results as they
// are, so that reading a ref and adding it is one step.
func (l *refList) add(ref sources.ObjectRef, ok bool) {
	if !ok || l.seen[ref] {
		return
	}
	if l.seen == nil {
		l.seen = make(map[sources.ObjectRef]bool)
	}
	l.seen[ref] = true
	l.refs = append(l.refs, ref)
}

// refWithNamespace reads an owner reference, placing it in namespace.
func refWithNamespace(m map[string]any, namespace string) (sources.ObjectRef, bool) {
	ref, ok := parseRef(m, "")
	if !ok {
		return ref, false
	}
	ref.Namespace = namespace
	return ref, true
}

// parseRef reads a reference as Crossplane and Kubernetes write them (apiVersion, kind,
// name and an optional namespace), giving it defaultNS when it names no namespace. It
// reports false for anything that cannot name an object: not an object, a field of the
// wrong type, an apiVersion that does not parse, an empty kind or name, or text that is
// not UTF-8 (no object's name is).
func parseRef(v any, defaultNS string) (sources.ObjectRef, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return sources.ObjectRef{}, false
	}
	fields := [4]string{}
	for i, key := range [4]string{"apiVersion", "kind", "name", "namespace"} {
		f, present := m[key]
		if !present || f == nil {
			continue
		}
		s, ok := f.(string)
		if !ok || !utf8.ValidString(s) {
			return sources.ObjectRef{}, false
		}
		fields[i] = s
	}
	apiVersion, kind, name, namespace := fields[0], fields[1], fields[2], fields[3]
	if apiVersion == "" || kind == "" || name == "" {
		return sources.ObjectRef{}, false
	}
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil || gv.Version == "" {
		return sources.ObjectRef{}, false
	}
	if namespace == "" {
		namespace = defaultNS
	}
	return sources.ObjectRef{Group: gv.Group, Kind: kind, Namespace: namespace, Name: name}, true
}

// namespaceOf returns obj's namespace, or "" when it is cluster-scoped or the field is
// malformed. It reads the map directly: the refs it is used for are skipped, not
// reported, when something is wrong.
func namespaceOf(obj *unstructured.Unstructured) string {
	md, _ := obj.Object["metadata"].(map[string]any)
	ns, _ := md["namespace"].(string)
	if !utf8.ValidString(ns) {
		return ""
	}
	return ns
}
