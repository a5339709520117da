package providerhealth

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/entityhub/entityhub/controllers/sources/sourcetest"
)

// rdsInstance is the managed resource kind most cases are about.
var rdsInstance = schema.GroupKind{Group: "rds.aws.upbound.io", Kind: "Instance"}

// owner returns an owner reference; controller sets controller: true.
func owner(apiVersion, kind, name string, controller bool) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: name, UID: "0f3c", Controller: &controller}
}

// revisionRef and providerRef are owner references to a ProviderRevision and a Provider.
func revisionRef(name string, controller bool) metav1.OwnerReference {
	return owner("pkg.crossplane.io/v1", KindProviderRevision, name, controller)
}

func providerRef(name string, controller bool) metav1.OwnerReference {
	return owner("pkg.crossplane.io/v1", KindProvider, name, controller)
}

// mrd is the owner a Crossplane v2 CRD has besides its revision: the
// ManagedResourceDefinition it was made from.
var mrd = owner("apiextensions.crossplane.io/v1alpha1", "ManagedResourceDefinition", "instances.rds.aws.upbound.io", false)

// crd returns the CRD of rds.aws.upbound.io's Instance in categories, with owners.
func crd(categories []string, owners ...metav1.OwnerReference) *apiextensionsv1.CustomResourceDefinition {
	return &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "instances.rds.aws.upbound.io", OwnerReferences: owners},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: rdsInstance.Group,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Kind: rdsInstance.Kind, Plural: "instances", Categories: categories},
		},
	}
}

var managed = []string{"crossplane", "managed", "aws"}

// providerObj returns a Provider with the given conditions (YAML flow mappings) and
// status.currentRevision when not "".
func providerObj(t *testing.T, name, current string, conds ...string) *unstructured.Unstructured {
	t.Helper()
	status := "status:\n  conditions: [" + strings.Join(conds, ", ") + "]\n"
	if current != "" {
		status += "  currentRevision: " + current + "\n"
	}
	return sourcetest.DecodeManifest(t, fmt.Sprintf(`
apiVersion: pkg.crossplane.io/v1
kind: Provider
metadata: {name: %s}
spec: {package: xpkg.example/upbound/%s:v1.20.0}
%s`, name, name, status))
}

// revisionObj returns a ProviderRevision of provider in desired state, with the given
// conditions and the objects it installed (kind/name).
func revisionObj(t *testing.T, name, provider, state string, installed []string, conds ...string) *unstructured.Unstructured {
	t.Helper()
	refs := make([]string, 0, len(installed))
	for _, r := range installed {
		kind, n, _ := strings.Cut(r, "/")
		refs = append(refs, fmt.Sprintf("{apiVersion: apiextensions.crossplane.io/v1alpha1, kind: %s, name: %s, uid: 0f3c}", kind, n))
	}
	return sourcetest.DecodeManifest(t, fmt.Sprintf(`
apiVersion: pkg.crossplane.io/v1
kind: ProviderRevision
metadata:
  name: %s
  ownerReferences: [{apiVersion: pkg.crossplane.io/v1, kind: Provider, name: %s, uid: 0f3c, controller: true}]
spec: {desiredState: %s, image: xpkg.example/upbound/%s:v1.20.0, revision: 1}
status:
  conditions: [%s]
  objectRefs: [%s]
`, name, provider, state, provider, strings.Join(conds, ", "), strings.Join(refs, ", ")))
}

// cond returns a condition as a YAML flow mapping; message is left out when empty.
func cond(typ, status, reason, message string) string {
	s := fmt.Sprintf(`{type: %s, status: %q, reason: %s, lastTransitionTime: "2026-01-12T09:00:05Z"`, typ, status, reason)
	if message != "" {
		s += fmt.Sprintf(", message: %q", message)
	}
	return s + "}"
}

var (
	healthy        = cond("Healthy", "True", "HealthyPackageRevision", "")
	runtimeHealthy = cond("RuntimeHealthy", "True", "HealthyPackageRevision", "")
)

// indexOf builds an index from CRDs, revisions and providers.
func indexOf(crds []*apiextensionsv1.CustomResourceDefinition, objs ...*unstructured.Unstructured) *index {
	x := newIndex()
	for _, c := range crds {
		if gk, o, ok := readCRD(c); ok {
			x.kinds[gk] = o
		}
	}
	for _, u := range objs {
		switch u.GetKind() {
		case KindProvider:
			x.providers[u.GetName()] = readProvider(u)
		case KindProviderRevision:
			x.setRevision(u.GetName(), readRevision(u))
		}
	}
	return x
}

func TestProviderOf(t *testing.T) {
	cases := map[string]struct {
		reason string
		crd    *apiextensionsv1.CustomResourceDefinition
		revs   func(t *testing.T) []*unstructured.Unstructured
		want   string
	}{
		"V2ThroughMRD": {
			reason: "A Crossplane v2 CRD is owned by its MRD and controlled by the revision that controls the MRD.",
			crd:    crd(managed, mrd, revisionRef("provider-aws-rds-5e8f", true)),
			revs: func(t *testing.T) []*unstructured.Unstructured {
				return []*unstructured.Unstructured{revisionObj(t, "provider-aws-rds-5e8f", "provider-aws-rds", "Active", nil)}
			},
			want: "provider-aws-rds",
		},
		"V1WithPackageOwner": {
			reason: "A Crossplane 1.x CRD is controlled by its revision and owned by the Provider too.",
			crd:    crd(managed, revisionRef("provider-aws-rds-5e8f", true), providerRef("provider-aws-rds", false)),
			revs: func(t *testing.T) []*unstructured.Unstructured {
				return []*unstructured.Unstructured{revisionObj(t, "provider-aws-rds-5e8f", "provider-aws-rds", "Active", nil)}
			},
			want: "provider-aws-rds",
		},
		"OnlyTheControllingRevision": {
			reason: "After an upgrade the old revision stays an owner, without control; the new one decides.",
			crd:    crd(managed, revisionRef("provider-aws-old", false), revisionRef("provider-aws-rds-5e8f", true)),
			revs: func(t *testing.T) []*unstructured.Unstructured {
				return []*unstructured.Unstructured{
					revisionObj(t, "provider-aws-old", "provider-aws-legacy", "Inactive", nil),
					revisionObj(t, "provider-aws-rds-5e8f", "provider-aws-rds", "Active", nil),
				}
			},
			want: "provider-aws-rds",
		},
		"RevisionNotSeenYetButProviderOwns": {
			reason: "The Provider owning the CRD answers while its revision is not known.",
			crd:    crd(managed, revisionRef("provider-aws-rds-5e8f", true), providerRef("provider-aws-rds", false)),
			want:   "provider-aws-rds",
		},
		"ObjectRefsOfActiveRevisionNameMRD": {
			reason: "A CRD whose owners do not say is found among what the active revision installed.",
			crd:    crd(managed),
			revs: func(t *testing.T) []*unstructured.Unstructured {
				return []*unstructured.Unstructured{revisionObj(t, "provider-aws-rds-5e8f", "provider-aws-rds", "Active",
					[]string{"ManagedResourceDefinition/subnetgroups.rds.aws.upbound.io", "ManagedResourceDefinition/instances.rds.aws.upbound.io"})}
			},
			want: "provider-aws-rds",
		},
		"ObjectRefsNameCRD": {
			reason: "Crossplane 1.x lists the CRDs themselves.",
			crd:    crd(managed),
			revs: func(t *testing.T) []*unstructured.Unstructured {
				return []*unstructured.Unstructured{revisionObj(t, "provider-aws-rds-5e8f", "provider-aws-rds", "Active",
					[]string{"CustomResourceDefinition/instances.rds.aws.upbound.io"})}
			},
			want: "provider-aws-rds",
		},
		"ObjectRefsOfInactiveRevisionDoNotCount": {
			reason: "An old revision lists what it once installed.",
			crd:    crd(managed),
			revs: func(t *testing.T) []*unstructured.Unstructured {
				return []*unstructured.Unstructured{revisionObj(t, "provider-aws-old", "provider-aws-rds", "Inactive",
					[]string{"CustomResourceDefinition/instances.rds.aws.upbound.io"})}
			},
			want: "",
		},
		"NoOwner": {
			reason: "A managed kind nobody is known to have installed has no provider.",
			crd:    crd(managed),
			want:   "",
		},
		"Composite": {
			reason: "Composites and claims are Crossplane's own, of no provider.",
			crd: crd([]string{"crossplane", "composite"},
				owner("apiextensions.crossplane.io/v1", "CompositeResourceDefinition", "xpostgresqlinstances.database.example.org", true)),
			want: "",
		},
		"OwnerOfAnotherGroup": {
			reason: "Only the package manager's kinds count as owners.",
			crd:    crd(managed, owner("example.org/v1", KindProviderRevision, "provider-aws-rds-5e8f", true)),
			want:   "",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var revs []*unstructured.Unstructured
			if tc.revs != nil {
				revs = tc.revs(t)
			}
			x := indexOf([]*apiextensionsv1.CustomResourceDefinition{tc.crd}, revs...)
			if diff := cmp.Diff(tc.want, x.providerOf(rdsInstance)); diff != "" {
				t.Errorf("%s\nproviderOf(): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestDown(t *testing.T) {
	const (
		p   = "provider-aws-rds"
		rev = "provider-aws-rds-5e8f"
	)
	active := func(t *testing.T, conds ...string) *unstructured.Unstructured {
		return revisionObj(t, rev, p, "Active", nil, conds...)
	}
	cases := map[string]struct {
		reason string
		objs   func(t *testing.T) []*unstructured.Unstructured
		want   string
	}{
		"Healthy": {
			reason: "A healthy provider whose runtime is healthy is up.",
			objs: func(t *testing.T) []*unstructured.Unstructured {
				return []*unstructured.Unstructured{providerObj(t, p, rev, healthy), active(t, runtimeHealthy)}
			},
		},
		"ProviderUnhealthy": {
			reason: "The Provider's Healthy False says why, in Crossplane's words.",
			objs: func(t *testing.T) []*unstructured.Unstructured {
				return []*unstructured.Unstructured{
					providerObj(t, p, rev, cond("Healthy", "False", "UnhealthyPackageRevision",
						`Package runtime health is "False" with message: Deployment has no minimum availability`)),
					active(t, runtimeHealthy),
				}
			},
			want: `provider provider-aws-rds is unhealthy (UnhealthyPackageRevision: Package runtime health is "False" with message: Deployment has no minimum availability)`,
		},
		"ProviderUnhealthyWithoutMessage": {
			reason: "Without a message the reason is all there is.",
			objs: func(t *testing.T) []*unstructured.Unstructured {
				return []*unstructured.Unstructured{providerObj(t, p, "", cond("Healthy", "False", "UnhealthyPackageRevision", ""))}
			},
			want: "provider provider-aws-rds is unhealthy (UnhealthyPackageRevision)",
		},
		"ProviderHealthUnknown": {
			reason: "Healthy Unknown is not True: the provider is not known to be up.",
			objs: func(t *testing.T) []*unstructured.Unstructured {
				return []*unstructured.Unstructured{providerObj(t, p, "", cond("Healthy", "Unknown", "UnknownPackageRevisionHealth", ""))}
			},
			want: "provider provider-aws-rds health is Unknown (UnknownPackageRevisionHealth)",
		},
		"ProviderWithoutHealthy": {
			reason: "A Provider that has not said it is healthy is not known to be.",
			objs: func(t *testing.T) []*unstructured.Unstructured {
				return []*unstructured.Unstructured{providerObj(t, p, "", cond("Installed", "True", "ActivePackageRevision", ""))}
			},
			want: "provider provider-aws-rds has not reported its health",
		},
		"ProviderConditionsMalformed": {
			reason: "Conditions that cannot be read say nothing good.",
			objs: func(t *testing.T) []*unstructured.Unstructured {
				u := providerObj(t, p, "")
				u.Object["status"] = map[string]any{"conditions": "Healthy"}
				return []*unstructured.Unstructured{u}
			},
			want: "provider provider-aws-rds health cannot be read: status.conditions is a string, not a list",
		},
		"RuntimeUnhealthy": {
			reason: "The active revision's RuntimeHealthy False is down although the Provider still says Healthy.",
			objs: func(t *testing.T) []*unstructured.Unstructured {
				return []*unstructured.Unstructured{providerObj(t, p, rev, healthy),
					active(t, cond("RuntimeHealthy", "False", "UnhealthyPackageRevision", "Deployment has no minimum availability"))}
			},
			want: "provider provider-aws-rds runtime is unhealthy (UnhealthyPackageRevision: Deployment has no minimum availability)",
		},
		"RuntimeUnhealthyFoundByDesiredState": {
			reason: "Without status.currentRevision, the revision whose desired state is Active is the active one.",
			objs: func(t *testing.T) []*unstructured.Unstructured {
				return []*unstructured.Unstructured{providerObj(t, p, "", healthy),
					active(t, cond("RuntimeHealthy", "Unknown", "UnknownPackageRevisionHealth", ""))}
			},
			want: "provider provider-aws-rds runtime health is Unknown (UnknownPackageRevisionHealth)",
		},
		"InactiveRevisionUnhealthy": {
			reason: "An old revision's runtime is scaled down; only the active revision's counts.",
			objs: func(t *testing.T) []*unstructured.Unstructured {
				return []*unstructured.Unstructured{providerObj(t, p, rev, healthy), active(t, runtimeHealthy),
					revisionObj(t, "provider-aws-rds-old", p, "Inactive", nil, cond("RuntimeHealthy", "False", "UnhealthyPackageRevision", ""))}
			},
		},
		"V1RevisionWithoutRuntimeHealthy": {
			reason: "Crossplane 1.x revisions have no RuntimeHealthy; the Provider's Healthy covers them.",
			objs: func(t *testing.T) []*unstructured.Unstructured {
				return []*unstructured.Unstructured{providerObj(t, p, rev, healthy),
					active(t, cond("Healthy", "True", "HealthyPackageRevision", ""))}
			},
		},
		"AwaitingActivation": {
			reason: "A runtime scaled to zero until its first MRD is activated is not down (as Crossplane writes it).",
			objs: func(t *testing.T) []*unstructured.Unstructured {
				return []*unstructured.Unstructured{
					providerObj(t, p, rev, cond("Healthy", "True", "AwaitingActivation", "Package runtime is scaled to zero")),
					active(t, runtimeHealthy, cond("RuntimeActive", "False", "AwaitingActivation", "Package runtime is scaled to zero")),
				}
			},
		},
		"AwaitingActivationRuntimeNotHealthy": {
			reason: "A runtime scaled to zero on purpose is not down whatever RuntimeHealthy says of it.",
			objs: func(t *testing.T) []*unstructured.Unstructured {
				return []*unstructured.Unstructured{providerObj(t, p, rev, healthy),
					active(t, cond("RuntimeHealthy", "Unknown", "UnknownPackageRevisionHealth", ""),
						cond("RuntimeActive", "False", "AwaitingActivation", ""))}
			},
		},
		"AwaitingActivationAsReason": {
			reason: "Healthy or RuntimeHealthy not True with reason AwaitingActivation is not down either.",
			objs: func(t *testing.T) []*unstructured.Unstructured {
				return []*unstructured.Unstructured{providerObj(t, p, rev, cond("Healthy", "False", "AwaitingActivation", "")),
					active(t, cond("RuntimeHealthy", "False", "AwaitingActivation", ""))}
			},
		},
		"RuntimeActiveFalseOtherwise": {
			reason: "RuntimeActive alone decides nothing; RuntimeHealthy False still counts.",
			objs: func(t *testing.T) []*unstructured.Unstructured {
				return []*unstructured.Unstructured{providerObj(t, p, rev, healthy),
					active(t, cond("RuntimeHealthy", "False", "UnhealthyPackageRevision", ""), cond("RuntimeActive", "False", "SomethingElse", ""))}
			},
			want: "provider provider-aws-rds runtime is unhealthy (UnhealthyPackageRevision)",
		},
		"ProviderFirst": {
			reason: "When both are down the Provider's condition is the one shown.",
			objs: func(t *testing.T) []*unstructured.Unstructured {
				return []*unstructured.Unstructured{providerObj(t, p, rev, cond("Healthy", "False", "UnhealthyPackageRevision", "crash")),
					active(t, cond("RuntimeHealthy", "False", "UnhealthyPackageRevision", "no pods"))}
			},
			want: "provider provider-aws-rds is unhealthy (UnhealthyPackageRevision: crash)",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			x := indexOf(nil, tc.objs(t)...)
			if diff := cmp.Diff(tc.want, x.down()[p]); diff != "" {
				t.Errorf("%s\ndown()[%q]: -want, +got:\n%s", tc.reason, p, diff)
			}
		})
	}
}
