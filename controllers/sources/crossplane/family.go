package crossplane

import (
	"slices"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	"github.com/entityhub/entityhub/controllers/sources"
)

// Family is the source family of Crossplane: every kind whose CRD is in category
// managed, composite or claim — provider managed resources, composite resources and
// claims, of Crossplane v1 and v2 — whichever provider or XRD installed it, and
// whenever. Claims and composites are trees: what they are made of joins their entity.
type Family struct{}

// The manager reads Crossplane kinds it cannot name in advance. Rather than a wildcard
// rule (which would reach Secrets), config/rbac aggregates Crossplane's own
// rbac.crossplane.io/aggregate-to-browse ClusterRoles, which Crossplane keeps for every
// provider and XRD, into the manager's source-reader role.

// Name implements sources.Family.
func (Family) Name() string { return FamilyName }

// KindsFor implements sources.Family: the CRD's kind at its storage version when the
// CRD is in one of Crossplane's categories.
func (Family) KindsFor(crd *apiextensionsv1.CustomResourceDefinition) []sources.Kind {
	if !slices.ContainsFunc(crd.Spec.Names.Categories, func(c string) bool { return slices.Contains(Categories, c) }) {
		return nil
	}
	version, ok := sources.StorageVersion(crd)
	if !ok {
		return nil
	}
	k := sources.Kind{Family: FamilyName}.WithGVK(crd.Spec.Group, version, crd.Spec.Names.Kind)
	k.Map = MapResource
	k.Annotations = []string{AnnotationPaused}
	k.KeepSpec = KeepSpec()
	k.Trim = TrimResource
	k.Children = Children
	k.Parents = Parents
	return []sources.Kind{k}
}
