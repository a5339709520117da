// Package membership decides which entity a source object belongs to (DESIGN.md §2): by
// the backstage.io/kubernetes-id label, by a CatalogEntity's spec.sources, and what an
// auto-created entity's spec is. The entity reconciler calls it as it collects an
// entity's sources and creates entities. Everything here is a pure function of its
// inputs; it knows source kinds only through package sources (their IDs and family
// names), never through the families themselves.
package membership

import (
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/sources"
)

// Annotations on sources that fill the spec of the entity created for them, each named
// for the spec field it fills. They are under catalogv1alpha1.AnnotationPrefix, which is
// what the cache keeps of a source's annotations (sources.KeepAnnotations).
const (
	AnnotationKind        = catalogv1alpha1.AnnotationPrefix + "kind"
	AnnotationType        = catalogv1alpha1.AnnotationPrefix + "type"
	AnnotationOwner       = catalogv1alpha1.AnnotationPrefix + "owner"
	AnnotationLifecycle   = catalogv1alpha1.AnnotationPrefix + "lifecycle"
	AnnotationSystem      = catalogv1alpha1.AnnotationPrefix + "system"
	AnnotationTitle       = catalogv1alpha1.AnnotationPrefix + "title"
	AnnotationDescription = catalogv1alpha1.AnnotationPrefix + "description"
)

// SourceID identifies a source as <group>/<Kind>/<namespace>/<name>, the key of
// status.sources: the Key of its sources.ObjectRef, so that a source's ID and the key it
// has in the index of what sources deploy (sources.IndexDeploys) are written alike.
func SourceID(gvk schema.GroupVersionKind, namespace, name string) string {
	return sources.ObjectRef{Group: gvk.Group, Kind: gvk.Kind, Namespace: namespace, Name: name}.Key()
}

// GroupKindKey is the index key of a kind: <group>/<Kind>.
func GroupKindKey(gk schema.GroupKind) string { return gk.Group + "/" + gk.Kind }

// SelectorGroupKind returns the group and kind a spec.sources entry names.
func SelectorGroupKind(sel catalogv1alpha1.SourceSelector) (schema.GroupKind, error) {
	gv, err := schema.ParseGroupVersion(sel.APIVersion)
	if err != nil {
		return schema.GroupKind{}, err
	}
	return schema.GroupKind{Group: gv.Group, Kind: sel.Kind}, nil
}

// LabelSelector parses the entry's selector; an entry that names one object has none.
func LabelSelector(sel catalogv1alpha1.SourceSelector) (labels.Selector, error) {
	if sel.Selector == nil {
		return nil, nil
	}
	return metav1.LabelSelectorAsSelector(sel.Selector)
}

// Selects reports whether entry sel of a CatalogEntity selects obj, of kind gk. The
// version is not compared: an entry names a kind, whatever version it is read at.
func Selects(sel catalogv1alpha1.SourceSelector, gk schema.GroupKind, obj metav1.Object) (bool, error) {
	want, err := SelectorGroupKind(sel)
	if err != nil || want != gk {
		return false, err
	}
	if sel.Namespace != "" && sel.Namespace != obj.GetNamespace() {
		return false, nil
	}
	if sel.Name != "" {
		// An entry that names one object names it in sel.Namespace; empty is a
		// cluster-scoped object (what collectSelected reads), not every namespace.
		return sel.Name == obj.GetName() && sel.Namespace == obj.GetNamespace(), nil
	}
	s, err := LabelSelector(sel)
	if err != nil || s == nil {
		return false, err
	}
	return s.Matches(labels.Set(obj.GetLabels())), nil
}

// Member is what auto-creation needs to know of one source of a new entity.
type Member struct {
	// ID is the source's SourceID; members are read in order of it.
	ID string
	// Family is the family of the source's kind (sources.Kind.Family), one of the
	// sources.Family* names.
	Family string
	// Kind is the source's kind, such as Bucket: a Resource's default type.
	Kind string
	// Annotations are the source's annotations; the catalog.entityhub.dev/ ones fill
	// the spec.
	Annotations map[string]string
}

// NewEntitySpec returns the spec of an entity created for members: each field from the
// catalog.entityhub.dev/* annotation of the first member (by ID) that has a valid one,
// else its default. It also returns the annotations it had to ignore, for an event.
func NewEntitySpec(members []Member, defaultOwner string) (catalogv1alpha1.CatalogEntitySpec, []string) {
	sorted := append([]Member(nil), members...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })

	var ignored []string
	// pick returns the first valid value of annotation key.
	pick := func(key string, valid func(string) bool) string {
		for _, m := range sorted {
			v, ok := m.Annotations[key]
			if !ok {
				continue
			}
			if valid(v) {
				return v
			}
			ignored = append(ignored, m.ID+": "+key+"="+catalogv1alpha1.Truncate(v, 64))
		}
		return ""
	}
	nonEmpty := func(maxLen int) func(string) bool {
		return func(v string) bool { return v != "" && len(v) <= maxLen }
	}

	spec := catalogv1alpha1.CatalogEntitySpec{
		Kind:        catalogv1alpha1.EntityKind(pick(AnnotationKind, func(v string) bool { return catalogv1alpha1.IsEntityKind(catalogv1alpha1.EntityKind(v)) })),
		Type:        pick(AnnotationType, nonEmpty(catalogv1alpha1.MaxTypeLength)),
		Lifecycle:   pick(AnnotationLifecycle, nonEmpty(catalogv1alpha1.MaxLifecycleLength)),
		Owner:       catalogv1alpha1.EntityRef(pick(AnnotationOwner, catalogv1alpha1.IsEntityRef)),
		System:      catalogv1alpha1.EntityRef(pick(AnnotationSystem, catalogv1alpha1.IsEntityRef)),
		Title:       catalogv1alpha1.Truncate(pick(AnnotationTitle, func(v string) bool { return v != "" }), catalogv1alpha1.MaxTitleLength),
		Description: catalogv1alpha1.Truncate(pick(AnnotationDescription, func(v string) bool { return v != "" }), catalogv1alpha1.MaxDescriptionLength),
	}
	if spec.Kind == "" {
		spec.Kind = defaultKind(sorted)
	}
	if spec.Type == "" && spec.Kind == catalogv1alpha1.KindResource && len(sorted) > 0 {
		spec.Type = catalogv1alpha1.Truncate(strings.ToLower(sorted[0].Kind), catalogv1alpha1.MaxTypeLength)
	}
	if spec.Owner == "" {
		spec.Owner = catalogv1alpha1.EntityRef(defaultOwner)
	}
	return spec, ignored
}

// defaultKind is Component when an Argo CD object is among the members, Resource when
// only Crossplane objects are, else Component.
func defaultKind(members []Member) catalogv1alpha1.EntityKind {
	allCrossplane := len(members) > 0
	for _, m := range members {
		if m.Family == sources.FamilyArgoCD {
			return catalogv1alpha1.KindComponent
		}
		if m.Family != sources.FamilyCrossplane {
			allCrossplane = false
		}
	}
	if allCrossplane {
		return catalogv1alpha1.KindResource
	}
	return catalogv1alpha1.KindComponent
}
