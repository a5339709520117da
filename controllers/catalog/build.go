// This file is the way in: Build turns a set of CatalogEntities into a Catalog, deciding
// what only the whole set can tell — the kind of a dependsOn reference that has none
// (here), and which of several CatalogEntities naming one Backstage entity is published
// (duplicates.go).

package catalog

import (
	"sort"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

// Build converts CatalogEntities into Backstage descriptors, one per entity:
//
//   - apiVersion backstage.io/v1alpha1; kind from spec.kind (Component when empty);
//     metadata.name from metadata.name; metadata.namespace from spec.catalogNamespace
//     (default when empty); title, description, tags and links from the spec.
//   - annotations backstage.io/kubernetes-id (metadata.name) and, with o.LocationURL,
//     backstage.io/managed-by-location and backstage.io/managed-by-origin-location.
//   - spec by kind, as Backstage's schemas require: Component type, lifecycle, owner,
//     system, dependsOn; Resource type, owner, system, dependsOn; API type, lifecycle,
//     owner, system, definition; System owner and domain (from spec.system); Domain
//     owner and subdomainOf (from spec.system). Required fields missing from the spec
//     come from o, then from the built-in defaults above; only an owner has no
//     built-in default.
//   - dependsOn is the union of spec.dependsOn and status.relations, written as full
//     references (<kind>:<namespace>/<name>, the namespace defaulting to the entity's),
//     sorted and without duplicates. Backstage gives dependsOn no default kind, so a
//     reference without one gets the kind of the one entity of that namespace and name,
//     and is dropped when there is none or more than one.
//
// Tags are trimmed and lowercased when that makes them valid, else dropped; a link whose
// URL is not absolute, or whose scheme can run script (javascript:, data:, vbscript:),
// is dropped; an invalid link icon is dropped. Each such change is reported in Fixed.
// An entity that cannot be made valid is left out with a *Problem saying why: a name,
// namespace or owner Backstage refuses, a kind it does not know, an API without a
// definition. Of several CatalogEntities (in different Kubernetes namespaces) that would
// be the same Backstage entity — kind, namespace and name compared case-insensitively —
// only the one in o.CatalogNamespace is published; when none is there, none is, and each
// is left out with a *Problem naming the others (DESIGN.md §2, Tenancy: a tenant must
// not replace, nor race, the platform team's entity).
//
// The descriptors are sorted by namespace, kind and name, so that the same entities
// always give the same body.
func Build(entities []catalogv1alpha1.CatalogEntity, o Options) Catalog {
	order := byKubernetesName(entities)
	kinds := indexKinds(order)
	dups := duplicates(order, o.CatalogNamespace)

	var c Catalog
	for _, e := range order {
		if p, dup := dups[e]; dup {
			c.LeftOut = append(c.LeftOut, p)
			continue
		}
		d, fixed, err := convert(e, o, kinds)
		if err != nil {
			c.LeftOut = append(c.LeftOut, err)
			continue
		}
		c.Entities = append(c.Entities, d)
		c.Fixed = append(c.Fixed, fixed...)
	}
	sortDescriptors(c.Entities)
	return c
}

// byKubernetesName orders the entities by Kubernetes namespace and name, so that the
// problems come in the same order whatever order the list came in.
func byKubernetesName(entities []catalogv1alpha1.CatalogEntity) []*catalogv1alpha1.CatalogEntity {
	order := make([]*catalogv1alpha1.CatalogEntity, len(entities))
	for i := range entities {
		order[i] = &entities[i]
	}
	sort.SliceStable(order, func(i, j int) bool {
		if order[i].Namespace != order[j].Namespace {
			return order[i].Namespace < order[j].Namespace
		}
		return order[i].Name < order[j].Name
	})
	return order
}

// indexKinds records the kinds of the entities by Backstage namespace and name, for
// dependsOn references that leave the kind out. Entities whose namespace or kind
// Backstage refuses are not in it: no reference can name them.
func indexKinds(order []*catalogv1alpha1.CatalogEntity) refKinds {
	kinds := refKinds{}
	for _, e := range order {
		ns, kind := e.EffectiveCatalogNamespace(), e.EffectiveKind()
		if ns == "" || !IsNamespace(ns) || !catalogv1alpha1.IsEntityKind(kind) {
			continue
		}
		kinds.add(ns, e.Name, string(kind))
	}
	return kinds
}

// sortDescriptors orders descriptors by Backstage namespace, kind and name, so that the
// same entities always give the same body, and so the same ETag.
func sortDescriptors(docs []Entity) {
	sort.Slice(docs, func(i, j int) bool {
		a, b := docs[i], docs[j]
		if a.Metadata.Namespace != b.Metadata.Namespace {
			return a.Metadata.Namespace < b.Metadata.Namespace
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Metadata.Name < b.Metadata.Name
	})
}
