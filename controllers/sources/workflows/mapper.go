// Package workflows reads Argo Workflows' Workflows and CronWorkflows (DESIGN.md §4).
// Like package argocd it reads them as unstructured objects rather than through Argo
// Workflows' Go types: importing its module would tie entityhub to one Argo Workflows
// release and pull in most of its dependencies, while the few fields read here keep
// their shape across releases.
//
// A Workflow is one run, and runs pile up: a CronWorkflow leaves one per schedule, a
// WorkflowTemplate one per submission. A run that failed last week must not keep an
// entity Degraded after the runs since have succeeded, so RunOf groups runs by
// CronWorkflow, template or name, and the engine counts the newest of each group
// (sources.Run.Newer). A CronWorkflow's own health says only whether it schedules; how
// its runs do is theirs to say.
package workflows

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/sources"
	"github.com/entityhub/entityhub/controllers/sources/fields"
)

// FamilyName labels Argo Workflows' kinds, in metrics and in sources.Kind.Family.
const FamilyName = sources.FamilyWorkflows

// Group is the API group of Argo Workflows' kinds. Argo CD shares it, so a
// CustomResourceDefinition is recognised as Argo Workflows' by its kind as well.
const Group = "argoproj.io"

// The kinds of Argo Workflows that entityhub knows. WorkflowTemplate is named because
// runs point at templates (LabelWorkflowTemplate); a template has no status and is no
// source of its own.
const (
	// KindWorkflow is one run; MapWorkflow reads it.
	KindWorkflow = "Workflow"
	// KindCronWorkflow creates runs on a schedule; MapCronWorkflow reads it.
	KindCronWorkflow = "CronWorkflow"
	// KindWorkflowTemplate is a reusable spec that runs are submitted from.
	KindWorkflowTemplate = "WorkflowTemplate"
)

// Labels the Argo Workflows controller sets on a run to say where it came from. They
// are what runs are grouped by, so that only the newest run of each source counts.
const (
	// LabelWorkflowTemplate names the WorkflowTemplate a run was submitted from.
	LabelWorkflowTemplate = "workflows.argoproj.io/workflow-template"
	// LabelCronWorkflow names the CronWorkflow that created a run.
	LabelCronWorkflow = "workflows.argoproj.io/cron-workflow"
	// LabelClusterWorkflowTemplate names the ClusterWorkflowTemplate a run was submitted
	// from.
	LabelClusterWorkflowTemplate = "workflows.argoproj.io/cluster-workflow-template"
)

// Phases of a CronWorkflow as MapCronWorkflow reports them. Argo Workflows 3.6 and later
// write Active or Stopped in status.phase; earlier releases write no phase, and Active is
// what they mean. Suspended is entityhub's word for spec.suspend, which Argo Workflows
// keeps out of status.
const (
	// CronPhaseActive is a CronWorkflow that schedules runs (or would, but for an
	// error condition).
	CronPhaseActive = "Active"
	// CronPhaseStopped is a CronWorkflow its stopStrategy stopped.
	CronPhaseStopped = "Stopped"
	// CronPhaseSuspended is a CronWorkflow whose spec.suspend is true.
	CronPhaseSuspended = "Suspended"
)

// Messages that MapWorkflow and MapCronWorkflow write themselves. They are constants
// because people and tests look for them.
const (
	// MessageNotStarted is the message of a Workflow the controller has not picked up
	// yet: it has no phase.
	MessageNotStarted = "not started yet"
	// MessageSuspended is the message of a Workflow suspended through spec.suspend
	// (argo suspend, or argo submit --hold): it waits for someone to resume it.
	MessageSuspended = "suspended: waiting to be resumed"
	// MessageCronSuspended is the message of a CronWorkflow whose spec.suspend is true.
	MessageCronSuspended = "suspended: no runs are scheduled until it is resumed"
	// MessageCronStopped is the message of a CronWorkflow its stopStrategy stopped.
	MessageCronStopped = "stopped by its stopStrategy: no more runs are scheduled"
	// MessageNotScheduled is part of the message of a CronWorkflow that has never
	// scheduled a run.
	MessageNotScheduled = "not scheduled yet"
)

// Run prefixes of Run.Group, one for each way a run is grouped (see RunOf).
const (
	groupCron            = "cron:"
	groupTemplate        = "template:"
	groupClusterTemplate = "clustertemplate:"
	groupGenerate        = "generate:"
	groupName            = "name:"
)

// KeepSpecWorkflow returns the fields under a Workflow's .spec that MapWorkflow reads,
// for sources.Kind.KeepSpec: only suspend. A Workflow's spec holds all its templates,
// scripts and arguments, and the cache keeps one copy per run, so everything else is
// dropped.
func KeepSpecWorkflow() [][]string {
	return [][]string{{"suspend"}}
}

// KeepSpecCronWorkflow returns the fields under a CronWorkflow's .spec that
// MapCronWorkflow reads: only suspend. Its workflowSpec is a whole Workflow's spec.
func KeepSpecCronWorkflow() [][]string {
	return [][]string{{"suspend"}}
}

// The phases of a Workflow that wait on the workflow controller to move on.
const (
	PhasePending = "Pending"
	PhaseRunning = "Running"
)

// workflowHealth maps a Workflow's status.phase to a health. These five are all the
// phases Argo Workflows writes; "" (not started) is handled apart.
var workflowHealth = map[string]catalogv1alpha1.Health{
	PhasePending: catalogv1alpha1.HealthProgressing,
	PhaseRunning: catalogv1alpha1.HealthProgressing,
	"Succeeded":  catalogv1alpha1.HealthHealthy,
	"Failed":     catalogv1alpha1.HealthDegraded,
	"Error":      catalogv1alpha1.HealthDegraded,
}

// MapWorkflow reads an Argo Workflows Workflow, that is one run; it is a
// sources.Mapper. Health comes from status.phase: Pending and Running are Progressing,
// Succeeded is Healthy, Failed and Error are Degraded, and a Workflow with no phase yet
// is Progressing with MessageNotStarted. An unfinished Workflow that waits for a person
// is Suspended, as Argo Workflows itself counts it (argo list shows "Running
// (Suspended)"): spec.suspend is true, or one of status.nodes is a Suspend step still
// Running, such as an approval. A finished Workflow is never Suspended: it no longer
// waits for anything. The phase is status.phase as written.
//
// The message is, with the parts that are not set left out:
//
//	<N>/<M> steps: <note>; <status.message>
//
// where N/M is status.progress (completed and total steps, which Argo Workflows counts
// in pods), the note says why the health was chosen (not started, suspended, a phase
// entityhub does not know) and status.message is Argo Workflows' own, which for Failed
// and Error says why, e.g. "child 'build' failed". A progress that is not N/M is left
// out, as Argo Workflows itself ignores it. Examples: "3/5 steps", "2/3 steps: child
// 'build' failed", "not started yet".
//
// A phase Argo Workflows does not have is Unknown, quoting it. A field that is not what
// Argo Workflows writes (a number for a string, a list for an object) makes the
// Workflow Unknown with a message naming the field; spec.suspend and status.nodes are
// read only while the Workflow is unfinished, since they cannot change a finished one's
// health. MapWorkflow never panics and never modifies obj, which comes from the
// informer cache.
func MapWorkflow(obj *unstructured.Unstructured) sources.Result {
	return sources.SafeMap(mapWorkflow, obj)
}

// mapWorkflow is MapWorkflow without the guard against panics.
func mapWorkflow(obj *unstructured.Unstructured) sources.Result {
	r := &reader{}
	status, _ := r.Object(obj.Object, "status", "status")
	phase, _ := r.Str(status, "phase", "status.phase")
	message, _ := r.Str(status, "message", "status.message")
	progress, _ := r.Str(status, "progress", "status.progress")
	if r.Problem() != "" {
		return sources.Unknown(r.Problem())
	}

	health, known := workflowHealth[phase]
	var note string
	switch {
	case phase == "":
		health, note = catalogv1alpha1.HealthProgressing, MessageNotStarted
	case !known:
		// A phase a later Argo Workflows might write: say which, rather than guess
		// where it ranks.
		return sources.Result{
			Health:  catalogv1alpha1.HealthUnknown,
			Phase:   fields.Printable(phase),
			Message: fields.Printable(withProgress(progress, fields.Join(fmt.Sprintf("Argo Workflows reports phase %q, which entityhub does not know", phase), message))),
		}
	}
	if health == catalogv1alpha1.HealthProgressing {
		suspended := r.suspended(obj.Object, status)
		if r.Problem() != "" {
			return sources.Unknown(r.Problem())
		}
		if suspended != "" {
			health, note = catalogv1alpha1.HealthSuspended, suspended
		}
	}
	return sources.Result{
		Health:  health,
		Phase:   fields.Printable(phase),
		Message: fields.Printable(withProgress(progress, fields.Join(note, message))),
	}
}

// suspended says why an unfinished Workflow waits for a person: spec.suspend, else the
// first Suspend step that is Running, by node ID so that the answer does not depend on
// the order Go walks the map in. It returns "" when nothing waits. A node that is not
// what Argo Workflows writes is a problem even when another node waits: the answer must
// not depend on which of them is looked at first. Workflows whose nodes Argo Workflows
// offloaded to its database or compressed have no status.nodes; for them only
// spec.suspend is seen.
func (r *reader) suspended(obj, status map[string]any) string {
	spec, _ := r.Object(obj, "spec", "spec")
	if suspend, _ := r.Boolean(spec, "suspend", "spec.suspend"); suspend {
		return MessageSuspended
	}
	nodes, _ := r.Object(status, "nodes", "status.nodes")
	var badID, badProblem, waitingID, waitingStep string
	for id, v := range nodes {
		if v == nil {
			continue
		}
		// Each node has a reader of its own, so that the problem kept is the one at
		// the first ID rather than at the first node visited.
		nr := &reader{}
		path := fmt.Sprintf("status.nodes[%q]", id)
		node, _ := nr.ObjectValue(v, path)
		typ, _ := nr.Str(node, "type", path+".type")
		phase, _ := nr.Str(node, "phase", path+".phase")
		displayName, _ := nr.Str(node, "displayName", path+".displayName")
		name, _ := nr.Str(node, "name", path+".name")
		if nr.Problem() != "" {
			if badProblem == "" || id < badID {
				badID, badProblem = id, nr.Problem()
			}
			continue
		}
		if typ == "Suspend" && phase == PhaseRunning && (waitingStep == "" || id < waitingID) {
			waitingID, waitingStep = id, fields.FirstNonEmpty(displayName, name, id)
		}
	}
	if badProblem != "" {
		r.Fail(badProblem)
		return ""
	}
	if waitingStep != "" {
		return fmt.Sprintf("suspended at step %q: waiting to be resumed", waitingStep)
	}
	return ""
}

// withProgress puts a Workflow's progress in front of text, in the format MapWorkflow
// documents.
func withProgress(progress, text string) string {
	p, ok := parseProgress(progress)
	switch {
	case !ok:
		return text
	case text == "":
		return p + " steps"
	}
	return p + " steps: " + text
}

// parseProgress reads a progress "N/M" with 0 <= N <= M, which is what Argo Workflows
// considers valid, and returns it rewritten in its plain form.
func parseProgress(s string) (string, bool) {
	done, total, ok := strings.Cut(s, "/")
	if !ok || !digits(done) || !digits(total) {
		return "", false
	}
	n, err1 := strconv.ParseUint(done, 10, 64)
	m, err2 := strconv.ParseUint(total, 10, 64)
	if err1 != nil || err2 != nil || n > m {
		return "", false
	}
	return strconv.FormatUint(n, 10) + "/" + strconv.FormatUint(m, 10), true
}

// digits reports whether s is one or more ASCII digits: ParseUint alone would also
// take a sign or underscores in some forms.
func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// cronErrors are the CronWorkflow conditions that mean it cannot schedule, most
// fundamental first: with an invalid spec (SpecError) nothing is submitted, so a
// SubmissionError left from before says less.
var cronErrors = []string{"SpecError", "SubmissionError"}

// MapCronWorkflow reads an Argo Workflows CronWorkflow; it is a sources.Mapper. Its
// health says whether it schedules, not how its runs went: runs are Workflows labelled
// with LabelCronWorkflow, and the engine counts the newest of them (see
// sources.Run.Newer).
//
//   - spec.suspend true is Suspended, phase Suspended: no run starts until a person
//     resumes it.
//   - status.phase Stopped (Argo Workflows 3.6 and later, when spec.stopStrategy is met)
//     is Suspended too, phase Stopped: it no longer schedules either, and whether that
//     is bad shows in its newest run.
//   - a status.conditions entry of type SpecError or SubmissionError with status "True"
//     is Degraded, phase Active, with the condition as the message: runs are due but
//     are not created.
//   - otherwise it is Healthy, phase Active.
//
// A Healthy CronWorkflow's message is MessageNotScheduled until it first schedules a
// run, and empty after: its last schedule time and its counts of runs change with every
// run, and a message that changed with them would rewrite the entity's status on every
// schedule though nothing a person needs had changed. When it last ran, and how, its
// runs say: they are the entity's sources too. The message of one that is not Healthy
// (suspended, stopped, failing to schedule, or in a phase entityhub does not know) also
// says what it last did: when a run was last scheduled ("last scheduled
// 2026-11-20T02:00:00Z", or MessageNotScheduled) and, when Argo Workflows counts them
// (3.6 and later), how its runs ended ("12 succeeded, 1 failed"); the parts are joined
// with "; ". A status.lastScheduledTime that is not an RFC 3339 time is left out rather
// than reported: it only decorates the message. A status.phase Argo Workflows does not
// have is Unknown, quoting it; any other field that is not what Argo Workflows writes
// makes the CronWorkflow Unknown with a message naming the field. MapCronWorkflow never
// panics and never modifies obj.
func MapCronWorkflow(obj *unstructured.Unstructured) sources.Result {
	return sources.SafeMap(mapCronWorkflow, obj)
}

// mapCronWorkflow is MapCronWorkflow without the guard against panics.
func mapCronWorkflow(obj *unstructured.Unstructured) sources.Result {
	r := &reader{}
	spec, _ := r.Object(obj.Object, "spec", "spec")
	suspend, _ := r.Boolean(spec, "suspend", "spec.suspend")
	status, _ := r.Object(obj.Object, "status", "status")
	phase, _ := r.Str(status, "phase", "status.phase")
	conds := r.Conditions(status, false)
	succeeded, hasSucceeded := r.count(status, "succeeded", "status.succeeded")
	failed, hasFailed := r.count(status, "failed", "status.failed")
	if r.Problem() != "" {
		return sources.Unknown(r.Problem())
	}

	var errMessage string
	for _, typ := range cronErrors {
		if c, ok := fields.FirstTrue(conds, typ); ok {
			errMessage = c.Summary()
			break
		}
	}

	var history string
	last, scheduled, ok := fields.Timestamp(status["lastScheduledTime"])
	switch {
	case !scheduled:
		history = MessageNotScheduled
	case ok:
		history = "last scheduled " + last.Format(time.RFC3339)
	}
	var counts []string
	if hasSucceeded {
		counts = append(counts, succeeded+" succeeded")
	}
	if hasFailed {
		counts = append(counts, failed+" failed")
	}
	history = fields.Join(history, strings.Join(counts, ", "))

	res := sources.Result{Phase: CronPhaseActive}
	var note string
	switch {
	case suspend:
		// A person's decision outranks what the controller says: a SubmissionError
		// stays until the next submission, which a suspended CronWorkflow never makes.
		res.Health, res.Phase, note = catalogv1alpha1.HealthSuspended, CronPhaseSuspended, MessageCronSuspended
	case phase == CronPhaseStopped:
		res.Health, res.Phase, note = catalogv1alpha1.HealthSuspended, CronPhaseStopped, MessageCronStopped
	case phase != "" && phase != CronPhaseActive:
		res.Health, res.Phase = catalogv1alpha1.HealthUnknown, phase
		note = fmt.Sprintf("Argo Workflows reports phase %q, which entityhub does not know", phase)
	case errMessage != "":
		res.Health = catalogv1alpha1.HealthDegraded
	default:
		res.Health = catalogv1alpha1.HealthHealthy
		// Nothing that changes with every run: see above.
		history = ""
		if !scheduled {
			history = MessageNotScheduled
		}
	}
	res.Phase = fields.Printable(res.Phase)
	res.Message = fields.Printable(fields.Join(fields.Join(note, errMessage), history))
	return res
}

// RunOf reads a Workflow as a sources.Run, for sources.Kind.RunOf: its name, namespace
// and phase, metadata.creationTimestamp as Created, status.startedAt and
// status.finishedAt as Started and Finished. Its Group is, in this order of precedence:
//
//   - "cron:<namespace>/<name>" for a run a CronWorkflow created (LabelCronWorkflow);
//   - "template:<namespace>/<name>" for one submitted from a WorkflowTemplate
//     (LabelWorkflowTemplate);
//   - "clustertemplate:<namespace>/<name>" for one submitted from a
//     ClusterWorkflowTemplate (LabelClusterWorkflowTemplate);
//   - "generate:<namespace>/<generateName>" for one named by metadata.generateName, as
//     argo submit and CI pipelines do: runs of the same pipeline share the prefix;
//   - "name:<namespace>/<name>", its own name, for a Workflow made by hand, which is a
//     group of one.
//
// The Workflow's namespace is in every group because names are only unique within a
// namespace: a CronWorkflow nightly in payments-staging is not the one in payments-prod,
// and an entity may own both. A label whose value is empty does not count.
//
// Fields that are missing or not what Argo Workflows writes are left zero; timestamps
// that are not RFC 3339 times too. ok is false only when there is nothing to read: obj
// is nil, has no content, or its metadata is not an object. RunOf never panics and
// never modifies obj.
func RunOf(obj *unstructured.Unstructured) (run sources.Run, ok bool) {
	defer func() {
		// Nothing here should panic; a Workflow that makes it anyway is not read
		// rather than stopping the manager.
		if recover() != nil {
			run, ok = sources.Run{}, false
		}
	}()
	if obj == nil || obj.Object == nil {
		return sources.Run{}, false
	}
	md, ok := fields.AsMap(obj.Object["metadata"])
	if !ok {
		return sources.Run{}, false
	}
	run.Name = stringOf(md["name"])
	run.Namespace = stringOf(md["namespace"])
	run.Created, _, _ = fields.Timestamp(md["creationTimestamp"])
	if status, ok := fields.AsMap(obj.Object["status"]); ok {
		run.Phase = stringOf(status["phase"])
		run.Started, _, _ = fields.Timestamp(status["startedAt"])
		run.Finished, _, _ = fields.Timestamp(status["finishedAt"])
	}

	labels, _ := fields.AsMap(md["labels"])
	in := run.Namespace + "/"
	switch {
	case stringOf(labels[LabelCronWorkflow]) != "":
		run.Group = groupCron + in + stringOf(labels[LabelCronWorkflow])
	case stringOf(labels[LabelWorkflowTemplate]) != "":
		run.Group = groupTemplate + in + stringOf(labels[LabelWorkflowTemplate])
	case stringOf(labels[LabelClusterWorkflowTemplate]) != "":
		run.Group = groupClusterTemplate + in + stringOf(labels[LabelClusterWorkflowTemplate])
	case stringOf(md["generateName"]) != "":
		run.Group = groupGenerate + in + stringOf(md["generateName"])
	default:
		run.Group = groupName + in + run.Name
	}
	return run, true
}

// stringOf returns v as a printable string, or "" when it is not a string.
func stringOf(v any) string {
	s, _ := fields.AsString(v)
	return fields.Printable(s)
}

// reader reads a Workflow's or CronWorkflow's fields; its own methods read what only
// Argo Workflows writes. Argo Workflows omits empty fields, so a missing field is never
// a problem, and objects built in code are read leniently (see fields.Reader).
type reader struct {
	fields.Reader
}

// count returns the count at m[key], such as status.failed, written out in decimal; ok
// is false when it is missing, null, or not a whole number of at least zero (which is a
// problem). JSON decoders give float64 or int64; both are read.
func (r *reader) count(m map[string]any, key, path string) (string, bool) {
	v := m[key]
	if v == nil {
		return "", false
	}
	bad := func(n string) (string, bool) {
		r.Fail(path + " is " + n + ", not a count")
		return "", false
	}
	if n, ok := v.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			v = i
		} else if f, err := n.Float64(); err == nil {
			v = f
		} else {
			return bad(fields.Printable(n.String()))
		}
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if rv.Int() < 0 {
			return bad(strconv.FormatInt(rv.Int(), 10))
		}
		return strconv.FormatInt(rv.Int(), 10), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(rv.Uint(), 10), true
	case reflect.Float32, reflect.Float64:
		f := rv.Float()
		if f < 0 || f != math.Trunc(f) || math.IsInf(f, 0) || math.IsNaN(f) {
			return bad(strconv.FormatFloat(f, 'g', -1, 64))
		}
		return strconv.FormatFloat(f, 'f', -1, 64), true
	}
	r.FailKind(path, v, "a number")
	return "", false
}
