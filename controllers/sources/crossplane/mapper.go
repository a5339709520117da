// Package crossplane reads Crossplane's managed resources, composite resources and
// claims (DESIGN.md §4), of Crossplane v1 and v2 alike, and follows the tree they form
// (DESIGN.md §2, item 3). Their kinds are not known in advance — every provider and
// every CompositeResourceDefinition adds its own — so they are read as unstructured
// objects, through the condition types Crossplane itself defines: Ready and Synced are
// the same on every one of them, whichever provider or composition made it.
package crossplane

import (
	"fmt"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/sources"
	"github.com/entityhub/entityhub/controllers/sources/fields"
)

// FamilyName labels Crossplane's kinds, in metrics and in sources.Kind.Family.
const FamilyName = sources.FamilyCrossplane

// AnnotationPaused is the annotation that pauses Crossplane's reconciliation of a
// resource when it is "true" (crossplane-runtime's meta.AnnotationKeyReconciliationPaused).
// It is named here rather than imported: crossplane-runtime's meta package brings in
// controller-runtime's client, which a mapper has no use for.
const AnnotationPaused = "crossplane.io/paused"

// Categories are the CRD categories that make a kind a Crossplane source: providers put
// their managed resources in "managed", and Crossplane puts the composites and claims it
// generates from CompositeResourceDefinitions in "composite" and "claim". Categories,
// not API groups, because every provider and every platform team picks its own groups.
var Categories = []string{"managed", "composite", "claim"}

// Messages for resources whose conditions say nothing yet. They are constants because
// people and tests look for them.
const (
	// MessageNoConditions is the message of a resource no Crossplane controller has
	// reconciled yet: just created, or its provider is not installed or not running.
	MessageNoConditions = "no conditions yet"
	// MessageNoReady is the message of a resource that has conditions, but no Ready
	// one: its controller has not yet observed what it manages.
	MessageNoReady = "no Ready condition yet"
	// MessagePausedByAnnotation is the message of a resource paused with the
	// crossplane.io/paused annotation, so that a person knows what to remove.
	MessagePausedByAnnotation = "reconciliation is paused by the annotation " + AnnotationPaused + `: "true"`
	// MessagePaused is the message of a resource Crossplane reports paused for another
	// reason, such as empty managementPolicies.
	MessagePaused = "reconciliation is paused"
	// messageDeletionPaused is added to a deleting resource's message when it is
	// paused: Crossplane does not delete what it does not reconcile, so the deletion
	// waits until someone unpauses it.
	messageDeletionPaused = "reconciliation is paused, so Crossplane will not finish deleting it"
)

// PhaseDeleting and PhasePaused are the phases MapResource gives a resource being
// deleted and a paused one; they are Crossplane's own reasons for those states.
const (
	PhaseDeleting = string(xpv2.ReasonDeleting)
	PhasePaused   = string(xpv2.ReasonReconcilePaused)
)

// MapResource reads a Crossplane managed resource, composite resource or claim; it is a
// sources.Mapper. Crossplane v1 and v2 write the same two conditions on all three, so
// one mapper serves them all. In order of precedence:
//
//   - metadata.deletionTimestamp set: Progressing, phase Deleting, with the Ready
//     condition's message (else the Synced error's, which says why the deletion is
//     stuck). Deleting goes first because every other condition describes an object
//     that is about to be gone.
//   - Synced False, for any reason but ReconcilePaused: Degraded, phase = its reason
//     (ReconcileError, ...), message = its message. Crossplane could not make the
//     world match the spec; Ready may still say Available from before, which is
//     exactly what would hide the error.
//   - paused, by the crossplane.io/paused annotation or by a Synced condition with
//     reason ReconcilePaused: Suspended, phase ReconcilePaused. A Synced=False that
//     is not the pause itself outranks the annotation (DESIGN.md lists Synced False
//     first): an error that was there when the resource was paused is still there,
//     nobody is fixing it, and Degraded is what makes an entity show it.
//   - Ready True: Healthy; Ready False or Unknown: Progressing. Phase = Ready's reason
//     (Available, Creating, Unavailable, ...), message = Ready's message.
//   - no Ready condition: Progressing, phase "", with MessageNoConditions,
//     MessageNoReady, or a message saying the conditions are stale.
//
// A condition whose observedGeneration is set and older than metadata.generation
// describes a spec that is no longer there: it counts as absent, so a resource whose
// conditions are all stale is Progressing with a message saying so.
//
// Sync stays empty: Crossplane's Synced is not Argo CD's sync (it says whether the last
// reconcile worked, not whether the object matches Git) and is folded into health.
//
// MapResource reads metadata and status only, never spec, so the cache may drop all of
// a resource's spec but KeepSpec. It never panics and never modifies obj, which comes
// from the informer cache; a field that is not what Kubernetes or Crossplane writes
// makes the result Unknown with a message naming the field.
func MapResource(obj *unstructured.Unstructured) sources.Result {
	return sources.SafeMap(mapResource, obj)
}

// mapResource is MapResource without the guard against panics.
func mapResource(obj *unstructured.Unstructured) sources.Result {
	r := newReader()
	md, _ := r.Object(obj.Object, "metadata", "metadata")
	generation, _ := r.Integer(md, "generation", "metadata.generation")
	deletionTimestamp, _ := r.Str(md, "deletionTimestamp", "metadata.deletionTimestamp")
	deleting := deletionTimestamp != ""
	annotations, _ := r.Object(md, "annotations", "metadata.annotations")
	paused, _ := r.Str(annotations, AnnotationPaused,
		"metadata.annotations["+AnnotationPaused+"]")
	pausedByAnnotation := paused == "true"
	status, _ := r.Object(obj.Object, "status", "status")
	all := r.conditions(status)
	if r.Problem() != "" {
		return sources.Unknown(r.Problem())
	}

	conds := current(all, generation)
	ready, hasReady := find(conds, xpv2.TypeReady)
	synced, hasSynced := find(conds, xpv2.TypeSynced)
	// The pause is reported on Synced with status False; it is not an error.
	pausedByReason := hasSynced && synced.Reason == xpv2.ReasonReconcilePaused
	failed := hasSynced && synced.Status == corev1.ConditionFalse && !pausedByReason

	var res sources.Result
	switch {
	case deleting:
		res = sources.Result{Health: catalogv1alpha1.HealthProgressing, Phase: PhaseDeleting, Message: ready.Message}
		if res.Message == "" && failed {
			res.Message = synced.Message
		}
		if pausedByAnnotation || pausedByReason {
			res.Message = fields.Join(res.Message, messageDeletionPaused)
		}
	case failed:
		res = sources.Result{Health: catalogv1alpha1.HealthDegraded, Phase: string(synced.Reason), Message: synced.Message}
	case pausedByAnnotation || pausedByReason:
		res = sources.Result{Health: catalogv1alpha1.HealthSuspended, Phase: PhasePaused, Message: MessagePaused}
		switch {
		case pausedByAnnotation:
			res.Message = MessagePausedByAnnotation
		case synced.Message != "":
			res.Message = synced.Message
		}
	case hasReady && ready.Status == corev1.ConditionTrue:
		res = sources.Result{Health: catalogv1alpha1.HealthHealthy, Phase: string(ready.Reason), Message: ready.Message}
	case hasReady:
		// False, Unknown, or a status Crossplane does not write: not ready, either way.
		res = sources.Result{Health: catalogv1alpha1.HealthProgressing, Phase: string(ready.Reason), Message: ready.Message}
	default:
		res = sources.Result{Health: catalogv1alpha1.HealthProgressing, Message: noReadyMessage(all, conds, generation)}
	}
	res.Phase = fields.Printable(res.Phase)
	res.Message = fields.Printable(res.Message)
	return res
}

// noReadyMessage says why a resource without a current Ready condition has none: no
// conditions at all, only stale ones, or a stale Ready.
func noReadyMessage(all, conds []xpv2.Condition, generation int64) string {
	switch {
	case len(all) == 0:
		return MessageNoConditions
	case len(conds) == 0:
		return fmt.Sprintf("conditions are for generation %d, the spec is at generation %d", newest(all), generation)
	}
	for _, c := range all {
		if c.Type == xpv2.TypeReady {
			return fmt.Sprintf("the Ready condition is for generation %d, the spec is at generation %d", c.ObservedGeneration, generation)
		}
	}
	return MessageNoReady
}

// stale reports whether c was written for an older spec than generation. A condition
// without an observedGeneration (Crossplane before 1.16, many providers) is taken as
// current: nothing says otherwise.
func stale(c xpv2.Condition, generation int64) bool {
	return c.ObservedGeneration > 0 && c.ObservedGeneration < generation
}

// current returns the conditions of conds that are not stale.
func current(conds []xpv2.Condition, generation int64) []xpv2.Condition {
	out := make([]xpv2.Condition, 0, len(conds))
	for _, c := range conds {
		if !stale(c, generation) {
			out = append(out, c)
		}
	}
	return out
}

// newest returns the highest observedGeneration of conds, to say how old a stale
// status is.
func newest(conds []xpv2.Condition) int64 {
	var g int64
	for _, c := range conds {
		g = max(g, c.ObservedGeneration)
	}
	return g
}

// find returns the first condition of type t, as xpv2.ConditionedStatus.GetCondition
// does; unlike it, it says whether there is one, because a missing Ready means "not
// reconciled yet" and a Ready that is Unknown means "reconciled, state unknown".
func find(conds []xpv2.Condition, t xpv2.ConditionType) (xpv2.Condition, bool) {
	for _, c := range conds {
		if c.Type == t {
			return c, true
		}
	}
	return xpv2.Condition{}, false
}

// conditions reads status.conditions into Crossplane's own condition type. Each field
// is checked by hand rather than decoded as JSON, so that a wrong one is named (JSON
// decoding only says a Condition could not be decoded) and a field entityhub does not
// read, such as a malformed lastTransitionTime, does not hide the health. Null entries
// are skipped, as the API server's decoder would.
func (r *reader) conditions(status map[string]any) []xpv2.Condition {
	var out []xpv2.Condition
	for path, m := range r.Objects(status, "conditions", "status.conditions") {
		typ, _ := r.Str(m, "type", path+".type")
		st, _ := r.Str(m, "status", path+".status")
		reason, _ := r.Str(m, "reason", path+".reason")
		message, _ := r.Str(m, "message", path+".message")
		observed, _ := r.Integer(m, "observedGeneration", path+".observedGeneration")
		if typ == "" {
			// Type is what a condition is looked up by; one without it cannot be
			// placed, and the schema Crossplane generates requires it.
			r.Fail(path + ".type is missing")
		}
		out = append(out, xpv2.Condition{
			Type:               xpv2.ConditionType(typ),
			Status:             corev1.ConditionStatus(st),
			Reason:             xpv2.ConditionReason(reason),
			Message:            message,
			ObservedGeneration: observed,
		})
	}
	if r.Problem() != "" {
		return nil
	}
	return out
}

// reader reads a Crossplane resource's fields. It is JSONOnly: Crossplane's objects
// only ever come from the API server or the informer cache, whose deep copy panics on
// anything but the types a JSON decoder produces, so another type means the object is
// not what it seems, and it is named by its Go type rather than read. Crossplane omits
// empty fields, so a missing field is never a problem.
type reader struct {
	fields.Reader
}

// newReader returns a reader that has read nothing yet.
func newReader() *reader {
	return &reader{fields.Reader{JSONOnly: true}}
}
