// Package crossplane reads Crossplane's managed resources, composite resources and
// claims (DESIGN.md §4), of Crossplane v1 and v2 alike, and follows the tree they form
// (DESIGN.md §2, item 3). Their kinds are not known in advance — every provider and
// every CompositeResourceDefinition adds its own — so they are read as unstructured
// objects, through the condition types Crossplane itself defines: Ready and Synced are
// the same on every one of them, whichever provider or composition made it.
package crossplane

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/sources"
)

// FamilyName labels Crossplane's kinds, in metrics and in sources.Kind.Family.
const FamilyName = "crossplane"

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
	MessagePausedByAnnotation = "reconciliation is paused by the annotation " + meta.AnnotationKeyReconciliationPaused + `: "true"`
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
	if obj == nil {
		return sources.Result{Health: catalogv1alpha1.HealthUnknown, Message: "no object"}
	}
	r := &reader{}
	md := r.object(obj.Object, "metadata", "metadata")
	generation := r.integer(md, "generation", "metadata.generation")
	deleting := r.str(md, "deletionTimestamp", "metadata.deletionTimestamp") != ""
	annotations := r.object(md, "annotations", "metadata.annotations")
	pausedByAnnotation := r.str(annotations, meta.AnnotationKeyReconciliationPaused,
		"metadata.annotations["+meta.AnnotationKeyReconciliationPaused+"]") == "true"
	status := r.object(obj.Object, "status", "status")
	all := r.conditions(status)
	if r.problem != "" {
		return sources.Result{Health: catalogv1alpha1.HealthUnknown, Message: printable(r.problem)}
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
			res.Message = join(res.Message, messageDeletionPaused)
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
	res.Phase = printable(res.Phase)
	res.Message = printable(res.Message)
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
	list := r.list(status, "conditions", "status.conditions")
	var out []xpv2.Condition
	for i, v := range list {
		if v == nil {
			continue
		}
		path := fmt.Sprintf("status.conditions[%d]", i)
		m, ok := v.(map[string]any)
		if !ok {
			r.fail(path, v, "an object")
			return nil
		}
		c := xpv2.Condition{
			Type:               xpv2.ConditionType(r.str(m, "type", path+".type")),
			Status:             corev1.ConditionStatus(r.str(m, "status", path+".status")),
			Reason:             xpv2.ConditionReason(r.str(m, "reason", path+".reason")),
			Message:            r.str(m, "message", path+".message"),
			ObservedGeneration: r.integer(m, "observedGeneration", path+".observedGeneration"),
		}
		if c.Type == "" && r.problem == "" {
			// Type is what a condition is looked up by; one without it cannot be
			// placed, and the schema Crossplane generates requires it.
			r.problem = path + ".type is missing"
		}
		if r.problem != "" {
			return nil
		}
		out = append(out, c)
	}
	return out
}

// reader reads fields of an unstructured object and remembers the first one that is
// not what Kubernetes or Crossplane writes, so that the mapping reads straight through
// and says at the end what was wrong. A missing or null field is never a problem:
// Crossplane omits empty fields.
//
// It reads the types a JSON decoder produces — which is all an object from the API
// server or the informer cache can hold (their deep copy panics on anything else) —
// and names anything else by its Go type.
type reader struct {
	problem string
}

// fail records that the field at path holds got where want was expected, unless an
// earlier field already failed: the first problem is the one reported.
func (r *reader) fail(path string, got any, want string) {
	if r.problem == "" {
		r.problem = path + " is " + kindOf(got) + ", not " + want
	}
}

// object returns the object at m[key], or nil when it is missing, null or not an
// object (which is a problem).
func (r *reader) object(m map[string]any, key, path string) map[string]any {
	v := m[key]
	if v == nil {
		return nil
	}
	o, ok := v.(map[string]any)
	if !ok {
		r.fail(path, v, "an object")
	}
	return o
}

// list returns the list at m[key], or nil when it is missing, null or not a list
// (which is a problem).
func (r *reader) list(m map[string]any, key, path string) []any {
	v := m[key]
	if v == nil {
		return nil
	}
	l, ok := v.([]any)
	if !ok {
		r.fail(path, v, "a list")
	}
	return l
}

// str returns the string at m[key], or "" when it is missing, null or not a string
// (which is a problem).
func (r *reader) str(m map[string]any, key, path string) string {
	v := m[key]
	if v == nil {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		r.fail(path, v, "a string")
	}
	return s
}

// integer returns the whole number at m[key], or 0 when it is missing, null or not a
// whole number (which is a problem). Generations arrive as int64 from a client, as
// float64 from encoding/json and as json.Number from decoders that keep numbers as
// written; all three are read, so that the answer does not depend on the decoder.
func (r *reader) integer(m map[string]any, key, path string) int64 {
	v := m[key]
	if v == nil {
		return 0
	}
	switch n := v.(type) {
	case int64:
		return n
	case int:
		return int64(n)
	case int32:
		return int64(n)
	case float64:
		return r.whole(n, path)
	case float32:
		return r.whole(float64(n), path)
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return i
		}
		if f, err := n.Float64(); err == nil {
			return r.whole(f, path) // 5.0, 5e2
		}
		if r.problem == "" {
			r.problem = fmt.Sprintf("%s is %s, not a whole number", path, printable(n.String()))
		}
		return 0
	}
	r.fail(path, v, "a number")
	return 0
}

// whole returns n as an int64 when it is a whole number in range; otherwise it records
// a problem and returns 0.
func (r *reader) whole(n float64, path string) int64 {
	// The range check keeps the conversion defined; 2^63 itself is out of range.
	if n == math.Trunc(n) && n >= math.MinInt64 && n < math.MaxInt64 {
		return int64(n)
	}
	if r.problem == "" {
		r.problem = fmt.Sprintf("%s is %v, not a whole number", path, n)
	}
	return 0
}

// kindOf names the kind of v the way a YAML or JSON author would, with an article. It
// agrees with reader's methods, so that a message never says that a number is not a
// number; what no JSON decoder produces is named by its Go type.
func kindOf(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case float64, float32, int64, int, int32, json.Number:
		return "a number"
	case nil:
		return "null"
	}
	return fmt.Sprintf("a %T", v)
}

// join joins the parts of a message that are set with "; ".
func join(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// printable replaces invalid UTF-8 in s: an object built in code, unlike one read from
// the API server, can carry any bytes, and what a mapper returns ends up in a status
// field and in logs.
func printable(s string) string {
	return strings.ToValidUTF8(s, "\uFFFD")
}
