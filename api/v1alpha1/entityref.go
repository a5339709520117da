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

// Resolve returns the full reference r stands for, in lower case as Backstage compares
// them: <kind>:<namespace>/<name>, with defaultKind and defaultNamespace where r leaves
// them out (Backstage's rule: a reference in an entity's spec is in that entity's
// namespace unless it names another).
func (r EntityRef) Resolve(defaultKind, defaultNamespace string) string {
	kind, namespace, name := defaultKind, defaultNamespace, string(r)
	if k, rest, ok := strings.Cut(name, ":"); ok {
		kind, name = k, rest
	}
	if ns, rest, ok := strings.Cut(name, "/"); ok {
		namespace, name = ns, rest
	}
	return strings.ToLower(FormatEntityRef(kind, namespace, name))
}

// RefKey is the entity's own reference as Resolve writes them, for comparing with
// what other entities' specs name.
func (e *CatalogEntity) RefKey() string {
	return strings.ToLower(e.BackstageRef())
}
