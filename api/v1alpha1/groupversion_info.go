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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Group is the API group of every type in this package.
const Group = "catalog.entityhub.dev"

var (
	// GroupVersion is the group and version of every type in this package.
	GroupVersion = schema.GroupVersion{Group: Group, Version: "v1alpha1"}

	// SchemeBuilder registers the types of this package with a runtime.Scheme. It is
	// apimachinery's, not controller-runtime's (deprecated for API packages), so that
	// importing the API pulls in no controller library.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the types of this package to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

// addKnownTypes registers CatalogEntity and its list at GroupVersion.
func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &CatalogEntity{}, &CatalogEntityList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
