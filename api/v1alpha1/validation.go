package v1alpha1

import "regexp"

// These mirror the CEL rules of the CRD, for values the controller writes itself (entities
// it creates from annotations, flags), so that it never sends what the API server refuses.
var (
	entityRefPattern     = regexp.MustCompile(`^([a-zA-Z][a-zA-Z0-9]*:)?([a-z0-9]+(-[a-z0-9]+)*/)?[a-zA-Z0-9]+([-_.][a-zA-Z0-9]+)*$`)
	entityRefPartsLength = regexp.MustCompile(`^([^:/]{1,63}:)?([^/]{1,63}/)?[^:/]{1,63}$`)
	entityNamePattern    = regexp.MustCompile(`^[a-z0-9]+([-.][a-z0-9]+)*$`)
)

// IsEntityRef reports whether s is a Backstage entity reference the CRD accepts, such as
// group:default/payments.
func IsEntityRef(s string) bool {
	return len(s) <= MaxEntityRefLength && entityRefPattern.MatchString(s) && entityRefPartsLength.MatchString(s)
}

// IsEntityName reports whether s can be the metadata.name of a CatalogEntity: a
// Backstage entity name that is also a Kubernetes name.
func IsEntityName(s string) bool {
	return len(s) <= MaxEntityNameLength && entityNamePattern.MatchString(s)
}

// IsEntityKind reports whether k is one of the Backstage kinds a CatalogEntity can be.
func IsEntityKind(k EntityKind) bool {
	switch k {
	case KindComponent, KindResource, KindSystem, KindAPI, KindDomain:
		return true
	}
	return false
}
