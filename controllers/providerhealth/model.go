package providerhealth

import (
	"fmt"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/entityhub/entityhub/controllers/sources/fields"
)

// Group and Version are those of Crossplane's package manager API, where Providers and
// ProviderRevisions are read.
const (
	Group   = "pkg.crossplane.io"
	Version = "v1"
)

// Kinds of the package manager API the tracker reads.
const (
	KindProvider         = "Provider"
	KindProviderRevision = "ProviderRevision"
)

// The condition types, reasons and states below are those of
// github.com/crossplane/crossplane/apis/v2/pkg/v1 (TypeHealthy, TypeRuntimeHealthy,
// TypeRuntimeActive, ReasonAwaitingActivation, PackageRevisionActive). They are named
// here rather than imported: that package registers its types through
// controller-runtime's scheme builder and brings client-go with it, and RuntimeActive
// and AwaitingActivation are newer than the release of it in go.mod.
const (
	// conditionHealthy is the Provider's: True when its active revision and that
	// revision's runtime are healthy.
	conditionHealthy = "Healthy"
	// conditionRuntimeHealthy is a ProviderRevision's (Crossplane v2): True when the
	// provider's Deployment is available.
	conditionRuntimeHealthy = "RuntimeHealthy"
	// conditionRuntimeActive is a ProviderRevision's: False with reason
	// AwaitingActivation while its runtime is scaled to zero on purpose, until the
	// first of its ManagedResourceDefinitions is activated.
	conditionRuntimeActive = "RuntimeActive"
	// reasonAwaitingActivation says a runtime is scaled to zero on purpose: nothing is
	// down, nothing of it is in use yet.
	reasonAwaitingActivation = "AwaitingActivation"
	// desiredStateActive is spec.desiredState of the revision a Provider runs.
	desiredStateActive = "Active"
)

// What a revision's status.objectRefs may name as the definition of a kind it
// installed: a CRD, or in Crossplane v2 a ManagedResourceDefinition of the same name
// as the CRD it makes.
const (
	kindCRD = "CustomResourceDefinition"
	kindMRD = "ManagedResourceDefinition"
)

// managedCategory is the CRD category of the kinds providers install (Crossplane's
// managed resources); composites and claims, in other categories, have no provider.
const managedCategory = "managed"

// provider is what the tracker reads of a Provider.
type provider struct {
	// healthy is the Healthy condition; hasHealthy is false when there is none.
	healthy    fields.Condition
	hasHealthy bool
	// currentRevision names the revision the provider runs (status.currentRevision).
	currentRevision string
	// problem says what of the object could not be read, if anything.
	problem string
}

// revision is what the tracker reads of a ProviderRevision.
type revision struct {
	// provider is the Provider that owns the revision.
	provider string
	// active: spec.desiredState is Active.
	active bool
	// runtimeHealthy and runtimeActive are the conditions of those types; has* is false
	// when there is none (Crossplane 1.x writes neither).
	runtimeHealthy, runtimeActive       fields.Condition
	hasRuntimeHealthy, hasRuntimeActive bool
	// installed names the CRDs and ManagedResourceDefinitions of status.objectRefs.
	installed []string
	// problem says what of the object could not be read, if anything.
	problem string
}

// kindOwner is what a managed resource kind's CRD says of who installed it.
type kindOwner struct {
	// crd is the CRD's name, as a revision's objectRefs name it.
	crd string
	// revision is the ProviderRevision that controls the CRD, if any: the one that
	// installed it, directly or (Crossplane v2) through a ManagedResourceDefinition.
	revision string
	// provider is a Provider that owns the CRD directly, if any (Crossplane 1.x adds
	// the package as an owner of what its revisions install).
	provider string
}

// readProvider reads a Provider.
func readProvider(u *unstructured.Unstructured) provider {
	var r fields.Reader
	status, _ := r.Object(u.Object, "status", "status")
	var p provider
	p.currentRevision, _ = r.Str(status, "currentRevision", "status.currentRevision")
	p.healthy, p.hasHealthy = find(r.Conditions(status, true), conditionHealthy)
	p.problem = r.Problem()
	return p
}

// readRevision reads a ProviderRevision.
func readRevision(u *unstructured.Unstructured) revision {
	var r fields.Reader
	rev := revision{provider: ownerName(u.GetOwnerReferences(), KindProvider, false)}
	spec, _ := r.Object(u.Object, "spec", "spec")
	state, _ := r.Str(spec, "desiredState", "spec.desiredState")
	rev.active = state == desiredStateActive
	status, _ := r.Object(u.Object, "status", "status")
	conds := r.Conditions(status, true)
	rev.runtimeHealthy, rev.hasRuntimeHealthy = find(conds, conditionRuntimeHealthy)
	rev.runtimeActive, rev.hasRuntimeActive = find(conds, conditionRuntimeActive)
	for path, ref := range r.Objects(status, "objectRefs", "status.objectRefs") {
		kind, _ := r.Str(ref, "kind", path+".kind")
		name, _ := r.Str(ref, "name", path+".name")
		if (kind == kindCRD || kind == kindMRD) && name != "" {
			rev.installed = append(rev.installed, name)
		}
	}
	rev.problem = r.Problem()
	return rev
}

// readCRD returns the kind a CRD defines and who installed it; ok is false when it is
// not a managed resource kind.
func readCRD(crd *apiextensionsv1.CustomResourceDefinition) (gk schema.GroupKind, owner kindOwner, ok bool) {
	managed := false
	for _, c := range crd.Spec.Names.Categories {
		managed = managed || c == managedCategory
	}
	if !managed {
		return schema.GroupKind{}, kindOwner{}, false
	}
	return schema.GroupKind{Group: crd.Spec.Group, Kind: crd.Spec.Names.Kind}, kindOwner{
		crd:      crd.Name,
		revision: ownerName(crd.OwnerReferences, KindProviderRevision, true),
		provider: ownerName(crd.OwnerReferences, KindProvider, false),
	}, true
}

// ownerName returns the name of the first owner in refs of the package manager's kind,
// or "". With controller set, only the owner that controls the object counts: when a
// provider is upgraded, what it installed keeps its old revisions as owners that no
// longer control it.
func ownerName(refs []metav1.OwnerReference, kind string, controller bool) string {
	for _, ref := range refs {
		gv, err := schema.ParseGroupVersion(ref.APIVersion)
		if err != nil || gv.Group != Group || ref.Kind != kind {
			continue
		}
		if !controller || (ref.Controller != nil && *ref.Controller) {
			return ref.Name
		}
	}
	return ""
}

// find returns the condition of type typ.
func find(conds []fields.Condition, typ string) (fields.Condition, bool) {
	for _, c := range conds {
		if c.Type == typ {
			return c, true
		}
	}
	return fields.Condition{}, false
}

// whyDown says why provider name is down, or "" when it is up: its Healthy condition
// is not True, or its active revision's RuntimeHealthy is not True. A runtime scaled to
// zero until it is needed (reason AwaitingActivation) is not down. rev is the active
// revision, nil when unknown; a revision without RuntimeHealthy (Crossplane 1.x) leaves
// it to the Provider's Healthy, which 1.x computes from the revision's health.
func whyDown(name string, p provider, rev *revision) string {
	subject := "provider " + name
	switch {
	case p.problem != "":
		return subject + " health cannot be read: " + p.problem
	case !p.hasHealthy:
		return subject + " has not reported its health"
	case !up(p.healthy):
		return notUp(subject, p.healthy)
	case rev == nil:
		return ""
	case rev.problem != "":
		return subject + " runtime health cannot be read: " + rev.problem
	case !rev.hasRuntimeHealthy || up(rev.runtimeHealthy):
		return ""
	case rev.hasRuntimeActive && rev.runtimeActive.Reason == reasonAwaitingActivation:
		return ""
	}
	return notUp(subject+" runtime", rev.runtimeHealthy)
}

// up reports whether a health condition says up: True, or scaled to zero on purpose.
func up(c fields.Condition) bool {
	return c.Status == string(metav1.ConditionTrue) || c.Reason == reasonAwaitingActivation
}

// notUp says what a health condition that is not up says of subject: "<subject> is
// unhealthy (<reason>: <message>)" when False, "<subject> health is <status> (…)"
// otherwise.
func notUp(subject string, c fields.Condition) string {
	s := subject + " is unhealthy"
	if c.Status != string(metav1.ConditionFalse) {
		s = fmt.Sprintf("%s health is %s", subject, fields.FirstNonEmpty(c.Status, "not given"))
	}
	detail := c.Reason
	switch {
	case detail == "":
		detail = c.Message
	case c.Message != "":
		detail += ": " + c.Message
	}
	if detail == "" {
		return s
	}
	return fields.Printable(s + " (" + detail + ")")
}
