// Package kstatus reads the kinds named in configuration, such as a Terraform
// Workspace, whose controllers entityhub knows nothing about. It leans on
// sigs.k8s.io/cli-utils kstatus, whose generic rules (deletion, observedGeneration,
// the Reconciling, Stalled and Ready conditions) are what most controllers follow, so
// that any such kind gets a sensible health without a mapper of its own. To those it
// adds one rule of Crossplane's, whose providers (provider-terraform's Workspace among
// them) report a failed reconcile on a Synced condition that kstatus does not read.
package kstatus

import (
	"fmt"
	"reflect"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/sources"
	"github.com/entityhub/entityhub/controllers/sources/fields"
)

// FamilyName labels the kinds named in configuration, in metrics and in Kind.Family.
const FamilyName = sources.FamilyConfig

// PhaseTerminating is the phase of an object being deleted. kstatus calls it
// Terminating too; it is named here because it is the one phase chosen by this package
// rather than passed through.
const PhaseTerminating = "Terminating"

// healthOf turns a kstatus status into a health, in Argo CD's words (DESIGN.md §4).
// Terminating is Progressing, not Degraded: a deletion is a change under way, and the
// source will be Missing once it is gone.
var healthOf = map[status.Status]catalogv1alpha1.Health{
	status.CurrentStatus:     catalogv1alpha1.HealthHealthy,
	status.InProgressStatus:  catalogv1alpha1.HealthProgressing,
	status.FailedStatus:      catalogv1alpha1.HealthDegraded,
	status.TerminatingStatus: catalogv1alpha1.HealthProgressing,
	status.NotFoundStatus:    catalogv1alpha1.HealthMissing,
	status.UnknownStatus:     catalogv1alpha1.HealthUnknown,
}

// MessageSyncFailed is the message of a Synced condition that is False and says
// neither why nor how.
const MessageSyncFailed = "the Synced condition is False"

// Map is a sources.Mapper for kinds named in configuration: it reads obj with kstatus'
// status.Compute, with one rule before kstatus' own. A Synced condition that is False,
// as Crossplane and its providers write it when a reconcile fails, is Degraded with
// the condition's reason as phase and its message, as the crossplane package reads a
// managed resource: kstatus ignores Synced, and would call Current an object whose
// Ready condition is still True from before the error. A Synced False with reason
// ReconcilePaused is a pause, not an error, and is left to kstatus. An object being
// deleted stays Progressing (deletion outranks every condition), its message saying
// the Synced error too, as that is what keeps a deletion from finishing.
//
// It never panics: a nil object, or one whose fields kstatus cannot read (a string
// where conditions should be, a number as a condition's type), yields Unknown with a
// message that says what was wrong. It reports no sync state, because kstatus has none.
func Map(obj *unstructured.Unstructured) sources.Result {
	// SafeMap as well as the checks in compute: kstatus is third-party code, and a panic
	// in it must not stop the manager.
	return sources.SafeMap(compute, obj)
}

// compute is Map without the guard against panics.
func compute(obj *unstructured.Unstructured) sources.Result {
	res, err := status.Compute(obj)
	if err != nil {
		return cannotRead(obj.Object, err)
	}
	if res == nil {
		// Compute does not return nil without an error today; a later version might.
		return sources.Unknown("cannot read status: kstatus returned no result")
	}
	terminating := res.Status == status.TerminatingStatus
	synced, failed, err := syncFailed(obj.Object)
	switch {
	case err != nil && !terminating:
		// kstatus skips the conditions of an object whose status is for an older
		// generation; they are read here all the same.
		return cannotRead(obj.Object, err)
	case failed && !terminating:
		phase := synced.Reason
		if phase == "" {
			phase = string(status.FailedStatus)
		}
		return sources.Result{
			Health:  catalogv1alpha1.HealthDegraded,
			Phase:   fields.Printable(phase),
			Message: fields.Printable(syncMessage(synced)),
		}
	}
	health, ok := healthOf[res.Status]
	if !ok {
		// A status word added by a later kstatus: say which, rather than guess a health.
		return sources.Result{
			Health:  catalogv1alpha1.HealthUnknown,
			Phase:   fields.Printable(string(res.Status)),
			Message: fields.Printable("kstatus reported status " + string(res.Status) + ", which entityhub does not know: " + res.Message),
		}
	}
	phase := string(res.Status)
	message := res.Message
	if terminating {
		phase = PhaseTerminating
		if failed {
			message = fields.Join(message, syncMessage(synced))
		}
	}
	if message == "" && health != catalogv1alpha1.HealthHealthy {
		// A Stalled or Ready=False condition without a message leaves kstatus with
		// nothing to say; the condition's reason, such as ReconcileError, still says why.
		for _, c := range res.Conditions {
			if c.Reason != "" {
				message = c.Reason
				break
			}
		}
	}
	return sources.Result{Health: health, Phase: phase, Message: fields.Printable(message)}
}

// cannotRead is the result of an object whose status kstatus cannot read, err being
// what it said. kstatus' own errors about conditions come from the unstructured
// converter and name neither the field nor the value ("unrecognized type: string"), so
// the message says which.
func cannotRead(obj map[string]any, err error) sources.Result {
	why := conditionsProblem(obj)
	if why == "" {
		why = err.Error()
	}
	return sources.Unknown("cannot read status: " + why)
}

// syncFailed returns the first Synced condition of obj, and whether it says that a
// reconcile failed: False, for any reason but ReconcilePaused. It reads the conditions
// as kstatus does, and fails where kstatus would.
func syncFailed(obj map[string]any) (status.BasicCondition, bool, error) {
	o, err := status.GetObjectWithConditions(obj)
	if err != nil {
		return status.BasicCondition{}, false, err
	}
	for _, c := range o.Status.Conditions {
		if c.Type == string(xpv2.TypeSynced) {
			return c, c.Status == corev1.ConditionFalse && c.Reason != string(xpv2.ReasonReconcilePaused), nil
		}
	}
	return status.BasicCondition{}, false, nil
}

// syncMessage is what a Synced condition that is False says: its message, else its
// reason, else MessageSyncFailed.
func syncMessage(c status.BasicCondition) string {
	switch {
	case c.Message != "":
		return c.Message
	case c.Reason != "":
		return c.Reason
	}
	return MessageSyncFailed
}

// conditionFields are the fields of a condition kstatus reads, each as a string.
var conditionFields = []string{"type", "status", "reason", "message"}

// conditionsProblem says what in obj keeps kstatus from reading status.conditions, or
// returns "" when nothing does. It accepts exactly what the unstructured converter
// behind status.GetObjectWithConditions accepts: a missing or null field is fine, and
// so is a string of any named string type, but nothing else. What it refuses it names
// as the converter takes values (fields.Converter), so that it never says that an
// object is not an object.
func conditionsProblem(obj map[string]any) string {
	st, ok := obj["status"]
	if !ok || st == nil {
		return ""
	}
	stv := reflect.ValueOf(st)
	if stv.Kind() != reflect.Map || stv.Type().Key().Kind() != reflect.String {
		return "status is " + fields.KindOf(st, fields.Converter) + ", not an object"
	}
	conds := stv.MapIndex(reflect.ValueOf("conditions").Convert(stv.Type().Key()))
	if !conds.IsValid() {
		return ""
	}
	conds = unwrap(conds)
	if !conds.IsValid() {
		return ""
	}
	if conds.Kind() != reflect.Slice {
		return "status.conditions is " + fields.KindOf(conds.Interface(), fields.Converter) + ", not a list"
	}
	for i := 0; i < conds.Len(); i++ {
		c := unwrap(conds.Index(i))
		if !c.IsValid() {
			continue
		}
		if c.Kind() != reflect.Map || c.Type().Key().Kind() != reflect.String {
			return fmt.Sprintf("status.conditions[%d] is %s, not an object", i, fields.KindOf(c.Interface(), fields.Converter))
		}
		for _, f := range conditionFields {
			v := c.MapIndex(reflect.ValueOf(f).Convert(c.Type().Key()))
			if !v.IsValid() {
				continue
			}
			v = unwrap(v)
			if v.IsValid() && v.Kind() != reflect.String {
				return fmt.Sprintf("status.conditions[%d].%s is %s, not a string", i, f, fields.KindOf(v.Interface(), fields.Converter))
			}
		}
	}
	return ""
}

// unwrap returns what v holds when it is an interface, and v otherwise; it is not
// valid when v holds nil.
func unwrap(v reflect.Value) reflect.Value {
	for v.Kind() == reflect.Interface {
		v = v.Elem()
	}
	return v
}

// Kinds returns the family of the kinds named in configuration (such as the
// --source-kind flag), each read with Map. It keeps no spec (KeepSpec nil): kstatus'
// generic rules read only metadata and status. Only the built-in kinds kstatus has
// special rules for (Deployment, StatefulSet, ...) read spec, and those are never
// defined by a CustomResourceDefinition, so the family never claims them.
func Kinds(gvks []schema.GroupVersionKind) *sources.Static {
	kinds := make([]sources.Kind, 0, len(gvks))
	for _, gvk := range gvks {
		kinds = append(kinds, sources.Kind{GVK: gvk, Family: FamilyName, Map: Map})
	}
	return &sources.Static{FamilyName: FamilyName, Kinds: kinds}
}
