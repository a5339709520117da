// This file holds the descriptor's shape — the part of Backstage's catalog-model that
// entityhub fills — and what a build returns: the descriptors, and the Problems that
// say what was left out or changed.

package catalog

import (
	"fmt"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

// APIVersion is the apiVersion of every descriptor: the one Backstage's built-in kinds
// have used since the catalog's first release, so that every Backstage version reads it.
const APIVersion = "backstage.io/v1alpha1"

// Annotations the descriptors carry.
const (
	// AnnotationKubernetesID is what Backstage's Kubernetes plugin selects the entity's
	// objects by; it carries the CatalogEntity's name, the value of the label its
	// sources have (DESIGN.md §2).
	AnnotationKubernetesID = "backstage.io/kubernetes-id"
	// AnnotationManagedByLocation is the location that manages the entity.
	AnnotationManagedByLocation = "backstage.io/managed-by-location"
	// AnnotationManagedByOriginLocation is the location that first introduced the entity.
	AnnotationManagedByOriginLocation = "backstage.io/managed-by-origin-location"
	// AnnotationAPIDefinitionURL, set on a CatalogEntity of kind API, names the URL of
	// its definition (an OpenAPI document, say). A CatalogEntity has no field for a
	// definition and Backstage refuses an API without one, so without this annotation
	// an API entity is left out. With it, spec.definition is {$text: <url>}, which
	// Backstage's placeholder processor replaces with the document it reads there (the
	// URL's host must be readable by Backstage: an integration or backend.reading.allow).
	AnnotationAPIDefinitionURL = "catalog.entityhub.dev/api-definition-url"
)

// Built-in defaults for the spec fields Backstage requires, used when neither the
// CatalogEntity nor Options set them. They say "not known" rather than guess, except
// for a Component's type: a Component is what an Argo CD Application deploys
// (DESIGN.md §2), which in Backstage's vocabulary is a service.
const (
	DefaultComponentType = "service"
	DefaultType          = "unknown"
	DefaultLifecycle     = "unknown"
)

// Options are the settings of a conversion.
type Options struct {
	// LocationURL is the URL the descriptors are served at. It is written, as
	// "url:<LocationURL>", into backstage.io/managed-by-location and
	// backstage.io/managed-by-origin-location; when empty those annotations are left out
	// (Backstage writes its own when it ingests a location anyway).
	LocationURL string

	// DefaultOwner is the owner, an entity reference such as group:default/platform,
	// of entities whose spec has none. Backstage requires an owner for every kind, so
	// when both are empty the entity is left out. The manager passes --default-owner.
	DefaultOwner string

	// DefaultLifecycle is the lifecycle of Components and APIs whose spec has none;
	// empty means DefaultLifecycle ("unknown").
	DefaultLifecycle string

	// DefaultType is the type of Components, Resources and APIs whose spec has none;
	// empty means DefaultComponentType ("service") for a Component and DefaultType
	// ("unknown") for the others.
	DefaultType string

	// CatalogNamespace is the Kubernetes namespace only the platform team may write
	// (DESIGN.md §2, Tenancy); the manager passes --catalog-namespace. Of several
	// CatalogEntities that are one Backstage entity, the one in this namespace is
	// published; when none is there (or this is empty), none of them is.
	CatalogNamespace string
}

// Entity is a Backstage catalog entity descriptor, as Backstage's catalog-model defines
// it; only the fields entityhub fills are modelled.
type Entity struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   Metadata `json:"metadata"`
	Spec       Spec     `json:"spec"`
}

// Metadata is a descriptor's metadata.
type Metadata struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Title       string            `json:"title,omitempty"`
	Description string            `json:"description,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Tags        []string          `json:"tags,omitempty"`
	Links       []Link            `json:"links,omitempty"`
}

// Link is one of metadata.links.
type Link struct {
	URL   string `json:"url"`
	Title string `json:"title,omitempty"`
	Icon  string `json:"icon,omitempty"`
	Type  string `json:"type,omitempty"`
}

// Spec is a descriptor's spec: the union of the fields of the kinds entityhub publishes.
// Which ones a descriptor sets depends on its kind (see Build).
type Spec struct {
	Type      string `json:"type,omitempty"`
	Lifecycle string `json:"lifecycle,omitempty"`
	Owner     string `json:"owner,omitempty"`
	// System is the System a Component, Resource or API is part of.
	System string `json:"system,omitempty"`
	// Domain is the Domain a System is part of.
	Domain string `json:"domain,omitempty"`
	// SubdomainOf is the Domain a Domain is part of.
	SubdomainOf string `json:"subdomainOf,omitempty"`
	// DependsOn are full entity references, <kind>:<namespace>/<name>, sorted.
	DependsOn []string `json:"dependsOn,omitempty"`
	// Definition of an API: a {"$text": <url>} placeholder (see AnnotationAPIDefinitionURL).
	Definition *Definition `json:"definition,omitempty"`
}

// Definition is a Backstage placeholder that its catalog replaces with the text read at
// the URL before it validates the entity.
type Definition struct {
	Text string `json:"$text"`
}

// Problem is a reason, tied to one CatalogEntity, why it is left out of the catalog or
// why part of its descriptor was fixed or dropped.
type Problem struct {
	// Namespace and Name of the CatalogEntity.
	Namespace, Name string
	// Reason says what is wrong and, where it helps, what to change.
	Reason string
}

// Error implements error.
func (p *Problem) Error() string {
	return fmt.Sprintf("CatalogEntity %s/%s: %s", p.Namespace, p.Name, p.Reason)
}

// Catalog is the result of converting a set of CatalogEntities.
type Catalog struct {
	// Entities are the valid descriptors, sorted by namespace, kind and name.
	Entities []Entity
	// LeftOut has one *Problem per CatalogEntity that could not be made valid.
	LeftOut []error
	// Fixed has one *Problem per part of a published descriptor that was changed or
	// dropped to make it valid, such as a tag in capitals or a dependency without a kind.
	Fixed []error
}

// problem is a *Problem tied to e.
func problem(e *catalogv1alpha1.CatalogEntity, reason string) *Problem {
	return &Problem{Namespace: e.Namespace, Name: e.Name, Reason: reason}
}
