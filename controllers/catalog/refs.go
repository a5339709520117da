// This file holds entity references: a descriptor's own, the parts of a reference, the
// case-insensitive key that identifies a Backstage entity, and the index Build uses to
// give a kindless dependsOn reference its kind.

package catalog

import (
	"slices"
	"strings"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

// Ref is d's Backstage entity reference, <kind>:<namespace>/<name>, kind in lowercase.
func Ref(d Entity) string {
	return catalogv1alpha1.FormatEntityRef(d.Kind, namespaceOf(d), d.Metadata.Name)
}

// namespaceOf is d's Backstage namespace; Backstage reads a descriptor without one as in
// the default namespace.
func namespaceOf(d Entity) string {
	if d.Metadata.Namespace == "" {
		return catalogv1alpha1.DefaultCatalogNamespace
	}
	return d.Metadata.Namespace
}

// splitRef splits a reference IsEntityRef accepts into its parts; kind and namespace
// are empty when the reference leaves them out.
func splitRef(r string) (kind, namespace, name string) {
	if k, rest, ok := strings.Cut(r, ":"); ok {
		kind, r = k, rest
	}
	if ns, rest, ok := strings.Cut(r, "/"); ok {
		namespace, r = ns, rest
	}
	return kind, namespace, r
}

// refKind is the kind part of a reference, empty when it has none.
func refKind(r string) string {
	k, _, _ := splitRef(r)
	return k
}

// refKey identifies a Backstage entity: its kind, namespace and name are case-insensitive.
func refKey(kind, namespace, name string) string {
	return strings.ToLower(catalogv1alpha1.FormatEntityRef(kind, namespace, name))
}

// refKinds maps "<namespace>/<lowercase name>" to the kinds of the entities so named, so
// that a dependsOn reference without a kind can take the kind of the one entity it can
// mean.
type refKinds map[string][]string

// add records that an entity of kind is named name in namespace ns.
func (k refKinds) add(ns, name, kind string) {
	key := kindsKey(ns, name)
	if !slices.Contains(k[key], kind) {
		k[key] = append(k[key], kind)
	}
}

// of returns the kinds of the entities named name in namespace ns.
func (k refKinds) of(ns, name string) []string {
	return k[kindsKey(ns, name)]
}

// kindsKey is a refKinds key: Backstage compares names case-insensitively, and the
// namespaces of entities and references are lowercase already.
func kindsKey(ns, name string) string {
	return ns + "/" + strings.ToLower(name)
}
