// Package v1alpha1 contains the CatalogEntity API of entityhub: one object per software
// entity, whose status is the health of everything that makes that entity up
// (DESIGN.md §3). The types and their kubebuilder markers are in
// catalogentity_types.go, from which controller-gen writes the CRD under config/crd;
// bounds.go is the table of the bounds of status, which a test checks against the CRD;
// validation.go checks, before the controller writes them, the values the CRD's CEL
// rules would refuse. It depends on no other package of
// entityhub.
//
// +kubebuilder:object:generate=true
// +groupName=catalog.entityhub.dev
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

// Group is the API group of every type in this package.
const Group = "catalog.entityhub.dev"

var (
	// GroupVersion is the group and version of every type in this package.
	GroupVersion = schema.GroupVersion{Group: Group, Version: "v1alpha1"}

	// SchemeBuilder registers the types of this package with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the types of this package to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
