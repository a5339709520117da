package v1alpha1

import "strings"

// DefaultCatalogNamespace is the Backstage namespace of an entity whose
// spec.catalogNamespace is empty, as in Backstage itself.
const DefaultCatalogNamespace = "default"

// EffectiveKind is the entity's Backstage kind: spec.kind, or Component when it is empty.
func (e *CatalogEntity) EffectiveKind() EntityKind {
	if e.Spec.Kind == "" {
		return KindComponent
	}
	return e.Spec.Kind
}

// EffectiveCatalogNamespace is the entity's Backstage namespace: spec.catalogNamespace,
// or "default" when it is empty.
func (e *CatalogEntity) EffectiveCatalogNamespace() string {
	if e.Spec.CatalogNamespace == "" {
		return DefaultCatalogNamespace
	}
	return e.Spec.CatalogNamespace
}

// BackstageRef is the entity's full Backstage reference, <kind>:<namespace>/<name>, as
// status.relations and spec.dependsOn name it.
func (e *CatalogEntity) BackstageRef() string {
	return FormatEntityRef(string(e.EffectiveKind()), e.EffectiveCatalogNamespace(), e.Name)
}

// FormatEntityRef writes a full reference the way Backstage's stringifyEntityRef does:
// the kind in lower case, the namespace and name as given.
func FormatEntityRef(kind, namespace, name string) string {
	return strings.ToLower(kind) + ":" + namespace + "/" + name
}
