package workflows

import (
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/entityhub/entityhub/controllers/sources"
	"github.com/entityhub/entityhub/controllers/sources/sourcetest"
)

// MapWorkflow and MapCronWorkflow are used as sources.Mappers as they are.
var (
	_ sources.Mapper = MapWorkflow
	_ sources.Mapper = MapCronWorkflow
)

// workflow returns a Workflow like a run of the release-payments template, with the
// given spec and status (top-level YAML blocks, or "").
func workflow(t *testing.T, spec, status string) *unstructured.Unstructured {
	t.Helper()
	return sourcetest.DecodeManifest(t, `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: release-payments-m4v8d
  generateName: release-payments-
  namespace: payments-prod
  creationTimestamp: "2026-11-20T11:02:31Z"
  labels:
    backstage.io/kubernetes-id: payments
    workflows.argoproj.io/workflow-template: release-payments
`+spec+"\n"+status)
}

// wf is workflow with the spec a run of a WorkflowTemplate has.
func wf(t *testing.T, status string) *unstructured.Unstructured {
	t.Helper()
	return workflow(t, "spec: {workflowTemplateRef: {name: release-payments}, arguments: {parameters: [{name: version, value: 1.43.0}]}}", status)
}

// cronWorkflow returns a CronWorkflow like nightly-report in testdata, with the given
// spec.suspend (a YAML value, or "" to leave it out) and status (a top-level YAML block,
// or "").
func cronWorkflow(t *testing.T, suspend, status string) *unstructured.Unstructured {
	t.Helper()
	spec := `
spec:
  schedules: ["0 2 * * *"]
  timezone: UTC
  concurrencyPolicy: Forbid
  workflowSpec:
    entrypoint: main
    templates:
    - name: main
      container: {image: "ghcr.io/example/report-tools:2.4.1", command: [report, run]}
`
	if suspend != "" {
		spec += "  suspend: " + suspend + "\n"
	}
	return sourcetest.DecodeManifest(t, `
apiVersion: argoproj.io/v1alpha1
kind: CronWorkflow
metadata:
  name: nightly-report
  namespace: payments-prod
  labels: {backstage.io/kubernetes-id: payments}
`+spec+status)
}

// withStatus returns an object of kind whose status is st as given, for what YAML
// cannot carry: invalid UTF-8, Go types no decoder produces.
func withStatus(kind string, spec, st any) *unstructured.Unstructured {
	obj := map[string]any{
		"apiVersion": "argoproj.io/v1alpha1",
		"kind":       kind,
		"metadata":   map[string]any{"name": "nightly-report", "namespace": "payments-prod"},
		"status":     st,
	}
	if spec != nil {
		obj["spec"] = spec
	}
	return &unstructured.Unstructured{Object: obj}
}

// specIsObject reports whether obj's spec is absent or an object: the cache transform
// drops any other spec, which then no longer has a problem to report.
func specIsObject(obj map[string]any) bool {
	spec, ok := obj["spec"]
	if !ok || spec == nil {
		return true
	}
	_, ok = spec.(map[string]any)
	return ok
}

// familyKind is the kind Family makes of the CRD of an Argo Workflows kind.
func familyKind(t testing.TB, kind string) sources.Kind {
	t.Helper()
	return sourcetest.FamilyKind(t, Family{}, Group, kind)
}

// checkMapper checks what every table case of the mapper of kind promises beyond its
// result: the API's words, no change to its argument, and the same answer from the
// object as the cache keeps it.
func checkMapper(t *testing.T, name, kind string, obj *unstructured.Unstructured, before map[string]any, got sources.Result) {
	t.Helper()
	if !sourcetest.HealthWords[got.Health] || got.Sync != "" {
		t.Errorf("%s() = %+v: health is not one of the API's words, or there is a sync state", name, got)
	}
	if obj == nil {
		return
	}
	// Objects come from the informer cache, which must not be written to.
	if diff := cmp.Diff(before, obj.Object); diff != "" {
		t.Errorf("%s() modified its argument (-before +after):\n%s", name, diff)
	}
	if specIsObject(obj.Object) && sourcetest.FromDecoder(obj.Object) {
		k := familyKind(t, kind)
		if diff := cmp.Diff(got, k.Map(sourcetest.CachedCopy(t, k, obj))); diff != "" {
			t.Errorf("%s() reads what the cache drops (-full +cached):\n%s", name, diff)
		}
	}
}

func TestMapWorkflow(t *testing.T) {
	tests := map[string]struct {
		obj  *unstructured.Unstructured
		want sources.Result
	}{
		// Every phase.
		"Succeeded, with the progress of its steps": {
			obj:  sourcetest.LoadManifest(t, "workflow-succeeded.yaml"),
			want: sources.Result{Health: "Healthy", Phase: "Succeeded", Message: "3/3 steps"},
		},
		"Failed, saying which child failed": {
			obj:  sourcetest.LoadManifest(t, "workflow-failed.yaml"),
			want: sources.Result{Health: "Degraded", Phase: "Failed", Message: "2/3 steps: child 'ci-payments-x7k2p-2904174833' failed"},
		},
		"Failed after argo terminate": {
			obj: wf(t, `
status:
  phase: Failed
  message: Stopped with strategy 'Terminate'
  startedAt: "2026-11-20T11:02:31Z"
  finishedAt: "2026-11-20T11:20:00Z"
  progress: 1/2
`),
			want: sources.Result{Health: "Degraded", Phase: "Failed", Message: "1/2 steps: Stopped with strategy 'Terminate'"},
		},
		"Error when the spec cannot be resolved": {
			obj: wf(t, `
status:
  phase: Error
  message: 'invalid spec: templates.main.steps failed to resolve {{inputs.parameters.revision}}'
  startedAt: "2026-11-20T11:02:31Z"
  finishedAt: "2026-11-20T11:02:31Z"
  progress: 0/0
`),
			want: sources.Result{Health: "Degraded", Phase: "Error",
				Message: "0/0 steps: invalid spec: templates.main.steps failed to resolve {{inputs.parameters.revision}}"},
		},
		"Failed with nothing to say": {
			obj:  wf(t, "status: {phase: Failed, startedAt: '2026-11-20T11:02:31Z', finishedAt: '2026-11-20T11:05:00Z'}"),
			want: sources.Result{Health: "Degraded", Phase: "Failed"},
		},
		"Running halfway through its DAG": {
			obj:  sourcetest.LoadManifest(t, "workflow-running.yaml"),
			want: sources.Result{Health: "Progressing", Phase: "Running", Message: "2/5 steps"},
		},
		"Pending while parallelism holds it back": {
			obj: wf(t, `
status:
  phase: Pending
  message: Workflow processing has been postponed because too many workflows are already running
  startedAt: "2026-11-20T11:02:31Z"
  finishedAt: null
`),
			want: sources.Result{Health: "Progressing", Phase: "Pending",
				Message: "Workflow processing has been postponed because too many workflows are already running"},
		},

		// Not started.
		"no status: not started yet": {
			obj:  wf(t, ""),
			want: sources.Result{Health: "Progressing", Message: "not started yet"},
		},
		"an empty status": {
			obj:  wf(t, "status: {}"),
			want: sources.Result{Health: "Progressing", Message: "not started yet"},
		},
		"a null status": {
			obj:  wf(t, "status: null"),
			want: sources.Result{Health: "Progressing", Message: "not started yet"},
		},
		"no phase, but a message": {
			obj:  wf(t, "status: {phase: '', message: 'waiting for the workflow-controller'}"),
			want: sources.Result{Health: "Progressing", Message: "not started yet; waiting for the workflow-controller"},
		},

		// Suspended: waiting for a person.
		"Running at an approval step": {
			obj:  sourcetest.LoadManifest(t, "workflow-approval.yaml"),
			want: sources.Result{Health: "Suspended", Phase: "Running", Message: `1/2 steps: suspended at step "approve": waiting to be resumed`},
		},
		"Running, suspended with argo suspend": {
			obj: wf(t, `
spec: {suspend: true, workflowTemplateRef: {name: release-payments}}
status: {phase: Running, startedAt: "2026-11-20T11:02:31Z", progress: 2/5}
`),
			want: sources.Result{Health: "Suspended", Phase: "Running", Message: "2/5 steps: suspended: waiting to be resumed"},
		},
		"submitted with argo submit --hold, not picked up yet": {
			obj:  workflow(t, "spec: {suspend: true, workflowTemplateRef: {name: release-payments}}", ""),
			want: sources.Result{Health: "Suspended", Message: "suspended: waiting to be resumed"},
		},
		"Pending and suspended": {
			obj:  workflow(t, "spec: {suspend: true}", "status: {phase: Pending}"),
			want: sources.Result{Health: "Suspended", Phase: "Pending", Message: "suspended: waiting to be resumed"},
		},
		"suspend false is not suspended": {
			obj:  workflow(t, "spec: {suspend: false}", "status: {phase: Running, progress: 1/4}"),
			want: sources.Result{Health: "Progressing", Phase: "Running", Message: "1/4 steps"},
		},
		"a finished workflow is not suspended, whatever spec.suspend says": {
			obj:  workflow(t, "spec: {suspend: true}", "status: {phase: Succeeded, progress: 4/4}"),
			want: sources.Result{Health: "Healthy", Phase: "Succeeded", Message: "4/4 steps"},
		},
		"a failed workflow whose approval step was never answered": {
			obj: wf(t, `
status:
  phase: Failed
  message: Stopped with strategy 'Stop'
  nodes:
    release-payments-m4v8d-2571084125: {id: release-payments-m4v8d-2571084125, displayName: approve, type: Suspend, phase: Running}
`),
			want: sources.Result{Health: "Degraded", Phase: "Failed", Message: "Stopped with strategy 'Stop'"},
		},
		"an approval step that was answered": {
			obj: wf(t, `
status:
  phase: Running
  progress: 1/2
  nodes:
    release-payments-m4v8d-2571084125: {id: release-payments-m4v8d-2571084125, displayName: approve, type: Suspend, phase: Succeeded}
    release-payments-m4v8d-3994582146: {id: release-payments-m4v8d-3994582146, displayName: deploy, type: Pod, phase: Running}
`),
			want: sources.Result{Health: "Progressing", Phase: "Running", Message: "1/2 steps"},
		},
		"two steps waiting: the first by node ID": {
			obj: wf(t, `
status:
  phase: Running
  nodes:
    release-payments-m4v8d-4000000000: {displayName: approve-prod, type: Suspend, phase: Running}
    release-payments-m4v8d-1000000000: {displayName: approve-staging, type: Suspend, phase: Running}
    release-payments-m4v8d-2000000000: {displayName: approve-eu, type: Suspend, phase: Running}
`),
			want: sources.Result{Health: "Suspended", Phase: "Running", Message: `suspended at step "approve-staging": waiting to be resumed`},
		},
		"a waiting step without a display name is named by its name": {
			obj:  wf(t, "status: {phase: Running, nodes: {n1: {name: 'release-payments-m4v8d[1].approve', type: Suspend, phase: Running}}}"),
			want: sources.Result{Health: "Suspended", Phase: "Running", Message: `suspended at step "release-payments-m4v8d[1].approve": waiting to be resumed`},
		},
		"spec.suspend outranks a waiting step": {
			obj: workflow(t, "spec: {suspend: true}", `
status: {phase: Running, nodes: {n1: {displayName: approve, type: Suspend, phase: Running}}}`),
			want: sources.Result{Health: "Suspended", Phase: "Running", Message: "suspended: waiting to be resumed"},
		},
		"null nodes are skipped": {
			obj:  wf(t, "status: {phase: Running, nodes: {n0: null, n1: {displayName: approve, type: Suspend, phase: Running}}}"),
			want: sources.Result{Health: "Suspended", Phase: "Running", Message: `suspended at step "approve": waiting to be resumed`},
		},

		// Phases Argo Workflows does not have.
		"an unknown phase is Unknown, quoting it": {
			obj:  wf(t, "status: {phase: Skipped, progress: 1/2, message: from a fork}"),
			want: sources.Result{Health: "Unknown", Phase: "Skipped", Message: `1/2 steps: Argo Workflows reports phase "Skipped", which entityhub does not know; from a fork`},
		},
		"lower-case running is not Running": {
			obj:  wf(t, "status: {phase: running}"),
			want: sources.Result{Health: "Unknown", Phase: "running", Message: `Argo Workflows reports phase "running", which entityhub does not know`},
		},

		// Progress.
		"progress without a message": {
			obj:  wf(t, "status: {phase: Running, progress: 0/1}"),
			want: sources.Result{Health: "Progressing", Phase: "Running", Message: "0/1 steps"},
		},
		"a message without progress": {
			obj:  wf(t, "status: {phase: Failed, message: 'child ''build'' failed'}"),
			want: sources.Result{Health: "Degraded", Phase: "Failed", Message: "child 'build' failed"},
		},
		"progress written with leading zeros": {
			obj:  wf(t, "status: {phase: Running, progress: 03/10}"),
			want: sources.Result{Health: "Progressing", Phase: "Running", Message: "3/10 steps"},
		},
		"progress past its total is left out, as Argo Workflows ignores it": {
			obj:  wf(t, "status: {phase: Running, progress: 3/2, message: m}"),
			want: sources.Result{Health: "Progressing", Phase: "Running", Message: "m"},
		},
		"progress that is not N/M is left out": {
			obj:  wf(t, "status: {phase: Running, progress: 'half done'}"),
			want: sources.Result{Health: "Progressing", Phase: "Running"},
		},
		"progress with a sign is left out": {
			obj:  wf(t, "status: {phase: Running, progress: '-1/+2'}"),
			want: sources.Result{Health: "Progressing", Phase: "Running"},
		},
		"progress too large to count is left out": {
			obj:  wf(t, "status: {phase: Running, progress: '1/99999999999999999999999'}"),
			want: sources.Result{Health: "Progressing", Phase: "Running"},
		},
		"empty progress": {
			obj:  wf(t, "status: {phase: Succeeded, progress: ''}"),
			want: sources.Result{Health: "Healthy", Phase: "Succeeded"},
		},

		// Malformed objects.
		"phase a number": {
			obj:  wf(t, "status: {phase: 3, progress: 1/2}"),
			want: sources.Result{Health: "Unknown", Message: "status.phase is a number, not a string"},
		},
		"progress a number": {
			obj:  wf(t, "status: {phase: Running, progress: 0.5}"),
			want: sources.Result{Health: "Unknown", Message: "status.progress is a number, not a string"},
		},
		"progress an object": {
			obj:  wf(t, "status: {phase: Running, progress: {done: 2, total: 3}}"),
			want: sources.Result{Health: "Unknown", Message: "status.progress is an object, not a string"},
		},
		"message a list": {
			obj:  wf(t, "status: {phase: Failed, message: [child failed]}"),
			want: sources.Result{Health: "Unknown", Message: "status.message is a list, not a string"},
		},
		"status a string": {
			obj:  wf(t, "status: Succeeded"),
			want: sources.Result{Health: "Unknown", Message: "status is a string, not an object"},
		},
		"the first problem is the one reported": {
			obj:  wf(t, "status: {phase: true, message: 1, progress: [1, 2]}"),
			want: sources.Result{Health: "Unknown", Message: "status.phase is a boolean, not a string"},
		},
		"spec.suspend a string on a running workflow": {
			obj:  workflow(t, "spec: {suspend: 'true'}", "status: {phase: Running}"),
			want: sources.Result{Health: "Unknown", Message: "spec.suspend is a string, not a boolean"},
		},
		"spec.suspend a string on a finished workflow is not read": {
			obj:  workflow(t, "spec: {suspend: 'true'}", "status: {phase: Succeeded}"),
			want: sources.Result{Health: "Healthy", Phase: "Succeeded"},
		},
		"spec a string on a running workflow": {
			obj:  workflow(t, "spec: release-payments", "status: {phase: Running}"),
			want: sources.Result{Health: "Unknown", Message: "spec is a string, not an object"},
		},
		"nodes a list": {
			obj:  wf(t, "status: {phase: Running, nodes: [{type: Suspend, phase: Running}]}"),
			want: sources.Result{Health: "Unknown", Message: "status.nodes is a list, not an object"},
		},
		"a node that is a string": {
			obj:  wf(t, "status: {phase: Running, nodes: {n1: {type: Pod, phase: Running}, n2: Suspend}}"),
			want: sources.Result{Health: "Unknown", Message: `status.nodes["n2"] is a string, not an object`},
		},
		"a node's type a number": {
			obj:  wf(t, "status: {phase: Running, nodes: {n1: {type: 7, phase: Running}}}"),
			want: sources.Result{Health: "Unknown", Message: `status.nodes["n1"].type is a number, not a string`},
		},
		"a malformed node outranks a waiting one": {
			obj:  wf(t, "status: {phase: Running, nodes: {a: {type: Suspend, phase: Running}, b: {type: Pod, displayName: [x]}}}"),
			want: sources.Result{Health: "Unknown", Message: `status.nodes["b"].displayName is a list, not a string`},
		},
		"of several malformed nodes, the first by ID": {
			obj:  wf(t, "status: {phase: Running, nodes: {z: 1, m: {phase: 2}, c: {type: Suspend, phase: Running, name: {}}}}"),
			want: sources.Result{Health: "Unknown", Message: `status.nodes["c"].name is an object, not a string`},
		},
		"nodes are not read once the workflow has finished": {
			obj:  wf(t, "status: {phase: Succeeded, progress: 2/2, nodes: [broken]}"),
			want: sources.Result{Health: "Healthy", Phase: "Succeeded", Message: "2/2 steps"},
		},
		"malformed timestamps are not read by the mapper": {
			obj:  wf(t, "status: {phase: Running, startedAt: yesterday, finishedAt: 1795140000, progress: 1/2}"),
			want: sources.Result{Health: "Progressing", Phase: "Running", Message: "1/2 steps"},
		},
		"invalid UTF-8 is replaced": {
			obj: withStatus(KindWorkflow, nil, map[string]any{
				"phase": "Failed", "message": "child '\xffbuild' failed", "progress": "1/2",
			}),
			want: sources.Result{Health: "Degraded", Phase: "Failed", Message: "1/2 steps: child '\uFFFDbuild' failed"},
		},
		"an unknown phase with invalid UTF-8 is quoted safely": {
			obj:  withStatus(KindWorkflow, nil, map[string]any{"phase": "Runn\xffing"}),
			want: sources.Result{Health: "Unknown", Phase: "Runn\uFFFDing", Message: `Argo Workflows reports phase "Runn\xffing", which entityhub does not know`},
		},
		"a waiting step with invalid UTF-8 is quoted safely": {
			obj: withStatus(KindWorkflow, nil, map[string]any{
				"phase": "Running", "nodes": map[string]any{"n\xff": map[string]any{"type": "Suspend", "phase": "Running"}},
			}),
			want: sources.Result{Health: "Suspended", Phase: "Running", Message: `suspended at step "n\xff": waiting to be resumed`},
		},
		"Go types no decoder produces are read": {
			obj: withStatus(KindWorkflow, map[string]bool{"suspend": true}, map[string]string{
				"phase": "Running", "progress": "2/3",
			}),
			want: sources.Result{Health: "Suspended", Phase: "Running", Message: "2/3 steps: suspended: waiting to be resumed"},
		},
		"a map with other keys is not an object": {
			obj:  withStatus(KindWorkflow, nil, map[int]string{1: "Running"}),
			want: sources.Result{Health: "Unknown", Message: "status is a map[int]string, not an object"},
		},
		"an object with a nil map": {
			obj:  &unstructured.Unstructured{},
			want: sources.Result{Health: "Progressing", Message: "not started yet"},
		},
		"nil object": {
			obj:  nil,
			want: sources.Result{Health: "Unknown", Message: "no object"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var before map[string]any
			if tc.obj != nil {
				before, _ = sourcetest.CopyValue(tc.obj.Object).(map[string]any)
			}
			got := MapWorkflow(tc.obj)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("MapWorkflow() mismatch (-want +got):\n%s", diff)
			}
			checkMapper(t, "MapWorkflow", KindWorkflow, tc.obj, before, got)
		})
	}
}

func TestMapCronWorkflow(t *testing.T) {
	tests := map[string]struct {
		obj  *unstructured.Unstructured
		want sources.Result
	}{
		"scheduling normally, with Argo Workflows 3.6's counts, says nothing that ticks": {
			obj:  sourcetest.LoadManifest(t, "cronworkflow-active.yaml"),
			want: sources.Result{Health: "Healthy", Phase: "Active"},
		},
		"a SubmissionError: runs are due but not created": {
			obj: sourcetest.LoadManifest(t, "cronworkflow-submission-error.yaml"),
			want: sources.Result{Health: "Degraded", Phase: "Active",
				Message: `SubmissionError: Failed to submit Workflow: workflowtemplates.argoproj.io "ledger-reconcile" not found; ` +
					"last scheduled 2026-11-20T10:30:00Z; 2093 succeeded, 7 failed"},
		},
		"suspended with argo cron suspend": {
			obj: sourcetest.LoadManifest(t, "cronworkflow-suspended.yaml"),
			want: sources.Result{Health: "Suspended", Phase: "Suspended",
				Message: "suspended: no runs are scheduled until it is resumed; last scheduled 2026-11-18T16:45:00Z"},
		},
		"Argo Workflows 3.5: no phase, no counts": {
			obj:  cronWorkflow(t, "false", "status: {lastScheduledTime: '2026-11-20T02:00:00Z', active: [], conditions: []}"),
			want: sources.Result{Health: "Healthy", Phase: "Active"},
		},
		"just created, never scheduled": {
			obj:  cronWorkflow(t, "", ""),
			want: sources.Result{Health: "Healthy", Phase: "Active", Message: "not scheduled yet"},
		},
		"an empty status": {
			obj:  cronWorkflow(t, "", "status: {}"),
			want: sources.Result{Health: "Healthy", Phase: "Active", Message: "not scheduled yet"},
		},
		"stopped with no runs finished": {
			obj: cronWorkflow(t, "", "status: {phase: Stopped, lastScheduledTime: '2026-11-20T02:00:00Z', succeeded: 0, failed: 0}"),
			want: sources.Result{Health: "Suspended", Phase: "Stopped",
				Message: "stopped by its stopStrategy: no more runs are scheduled; last scheduled 2026-11-20T02:00:00Z; 0 succeeded, 0 failed"},
		},
		"only failures counted": {
			obj: cronWorkflow(t, "", "status: {phase: Stopped, lastScheduledTime: '2026-11-20T02:00:00Z', failed: 3}"),
			want: sources.Result{Health: "Suspended", Phase: "Stopped",
				Message: "stopped by its stopStrategy: no more runs are scheduled; last scheduled 2026-11-20T02:00:00Z; 3 failed"},
		},
		"a last schedule time with an offset is given in UTC": {
			obj: cronWorkflow(t, "true", "status: {lastScheduledTime: '2026-11-20T03:00:00+01:00'}"),
			want: sources.Result{Health: "Suspended", Phase: "Suspended",
				Message: "suspended: no runs are scheduled until it is resumed; last scheduled 2026-11-20T02:00:00Z"},
		},

		// Errors.
		"a SpecError: an invalid schedule": {
			obj: cronWorkflow(t, "", `
status:
  phase: Active
  lastScheduledTime: "2026-11-19T02:00:00Z"
  conditions:
  - type: SpecError
    status: "True"
    message: 'cron schedule 0 2 * * * * is malformed: expected exactly 5 fields, found 6: [0 2 * * * *]'
`),
			want: sources.Result{Health: "Degraded", Phase: "Active",
				Message: "SpecError: cron schedule 0 2 * * * * is malformed: expected exactly 5 fields, found 6: [0 2 * * * *]; last scheduled 2026-11-19T02:00:00Z"},
		},
		"a SpecError outranks a SubmissionError left from before": {
			obj: cronWorkflow(t, "", `
status:
  conditions:
  - {type: SubmissionError, status: "True", message: "Failed to submit Workflow: admission webhook denied the request"}
  - {type: SpecError, status: "True", message: "spec.workflowSpec.entrypoint main not found"}
`),
			want: sources.Result{Health: "Degraded", Phase: "Active",
				Message: "SpecError: spec.workflowSpec.entrypoint main not found; not scheduled yet"},
		},
		"a run policy error is a SubmissionError": {
			obj: cronWorkflow(t, "", `
status:
  lastScheduledTime: "2026-11-20T02:00:00Z"
  conditions:
  - {type: SubmissionError, status: "True", message: "run policy error: error stopping workflow nightly-report-1795053600: the server could not find the requested resource"}
`),
			want: sources.Result{Health: "Degraded", Phase: "Active",
				Message: "SubmissionError: run policy error: error stopping workflow nightly-report-1795053600: the server could not find the requested resource; last scheduled 2026-11-20T02:00:00Z"},
		},
		"an error condition without a message is named": {
			obj:  cronWorkflow(t, "", "status: {conditions: [{type: SubmissionError, status: 'True'}]}"),
			want: sources.Result{Health: "Degraded", Phase: "Active", Message: "SubmissionError; not scheduled yet"},
		},
		"an error condition that is False": {
			obj:  cronWorkflow(t, "", "status: {lastScheduledTime: '2026-11-20T02:00:00Z', conditions: [{type: SubmissionError, status: 'False', message: old}]}"),
			want: sources.Result{Health: "Healthy", Phase: "Active"},
		},
		"condition status in lower case does not count": {
			obj:  cronWorkflow(t, "", "status: {conditions: [{type: SpecError, status: 'true', message: boom}]}"),
			want: sources.Result{Health: "Healthy", Phase: "Active", Message: "not scheduled yet"},
		},
		"other conditions are not errors": {
			obj:  cronWorkflow(t, "", "status: {conditions: [{type: SpecWarning, status: 'True', message: 'schedule runs every minute'}]}"),
			want: sources.Result{Health: "Healthy", Phase: "Active", Message: "not scheduled yet"},
		},
		"null conditions are skipped": {
			obj:  cronWorkflow(t, "", "status: {conditions: [null, {type: SubmissionError, status: 'True', message: boom}]}"),
			want: sources.Result{Health: "Degraded", Phase: "Active", Message: "SubmissionError: boom; not scheduled yet"},
		},

		// Not scheduling.
		"suspended, with the error that made someone suspend it": {
			obj: cronWorkflow(t, "true", `
status:
  lastScheduledTime: "2026-11-20T02:00:00Z"
  conditions:
  - {type: SubmissionError, status: "True", message: "Failed to submit Workflow: quota exceeded"}
`),
			want: sources.Result{Health: "Suspended", Phase: "Suspended",
				Message: "suspended: no runs are scheduled until it is resumed; SubmissionError: Failed to submit Workflow: quota exceeded; last scheduled 2026-11-20T02:00:00Z"},
		},
		"stopped by its stopStrategy": {
			obj: cronWorkflow(t, "", `
status:
  phase: Stopped
  lastScheduledTime: "2026-11-20T02:00:00Z"
  succeeded: 9
  failed: 3
`),
			want: sources.Result{Health: "Suspended", Phase: "Stopped",
				Message: "stopped by its stopStrategy: no more runs are scheduled; last scheduled 2026-11-20T02:00:00Z; 9 succeeded, 3 failed"},
		},
		"suspended outranks stopped": {
			obj:  cronWorkflow(t, "true", "status: {phase: Stopped}"),
			want: sources.Result{Health: "Suspended", Phase: "Suspended", Message: "suspended: no runs are scheduled until it is resumed; not scheduled yet"},
		},
		"an unknown phase is Unknown, quoting it": {
			obj:  cronWorkflow(t, "", "status: {phase: Paused, lastScheduledTime: '2026-11-20T02:00:00Z'}"),
			want: sources.Result{Health: "Unknown", Phase: "Paused", Message: `Argo Workflows reports phase "Paused", which entityhub does not know; last scheduled 2026-11-20T02:00:00Z`},
		},

		// Malformed objects.
		"suspend a string": {
			obj:  cronWorkflow(t, "'true'", "status: {phase: Active}"),
			want: sources.Result{Health: "Unknown", Message: "spec.suspend is a string, not a boolean"},
		},
		"conditions not a list": {
			obj:  cronWorkflow(t, "", "status: {conditions: {type: SubmissionError, status: 'True'}}"),
			want: sources.Result{Health: "Unknown", Message: "status.conditions is an object, not a list"},
		},
		"a condition that is a string": {
			obj:  cronWorkflow(t, "", "status: {conditions: [SubmissionError]}"),
			want: sources.Result{Health: "Unknown", Message: "status.conditions[0] is a string, not an object"},
		},
		"an unquoted True is a boolean": {
			obj:  cronWorkflow(t, "", "status: {conditions: [{type: SpecWarning, status: 'True'}, {type: SubmissionError, status: True}]}"),
			want: sources.Result{Health: "Unknown", Message: "status.conditions[1].status is a boolean, not a string"},
		},
		"a condition's message a number": {
			obj:  cronWorkflow(t, "", "status: {conditions: [{type: SubmissionError, status: 'True', message: 500}]}"),
			want: sources.Result{Health: "Unknown", Message: "status.conditions[0].message is a number, not a string"},
		},
		"phase a number": {
			obj:  cronWorkflow(t, "", "status: {phase: 1}"),
			want: sources.Result{Health: "Unknown", Message: "status.phase is a number, not a string"},
		},
		"failed a string": {
			obj:  cronWorkflow(t, "", "status: {succeeded: 12, failed: '1'}"),
			want: sources.Result{Health: "Unknown", Message: "status.failed is a string, not a number"},
		},
		"failed negative": {
			obj:  cronWorkflow(t, "", "status: {failed: -1}"),
			want: sources.Result{Health: "Unknown", Message: "status.failed is -1, not a count"},
		},
		"succeeded a fraction": {
			obj:  cronWorkflow(t, "", "status: {succeeded: 1.5}"),
			want: sources.Result{Health: "Unknown", Message: "status.succeeded is 1.5, not a count"},
		},
		"status a list": {
			obj:  cronWorkflow(t, "", "status: [Active]"),
			want: sources.Result{Health: "Unknown", Message: "status is a list, not an object"},
		},
		"spec a string": {
			obj: sourcetest.DecodeManifest(t, `
apiVersion: argoproj.io/v1alpha1
kind: CronWorkflow
metadata: {name: nightly-report, namespace: payments-prod}
spec: "0 2 * * *"
status: {phase: Active}
`),
			want: sources.Result{Health: "Unknown", Message: "spec is a string, not an object"},
		},
		"a malformed last schedule time is left out, not a failure": {
			obj:  cronWorkflow(t, "true", "status: {phase: Active, lastScheduledTime: yesterday, succeeded: 12, failed: 1}"),
			want: sources.Result{Health: "Suspended", Phase: "Suspended", Message: "suspended: no runs are scheduled until it is resumed; 12 succeeded, 1 failed"},
		},
		"a last schedule time that is a number is left out": {
			obj:  cronWorkflow(t, "true", "status: {lastScheduledTime: 1795140000}"),
			want: sources.Result{Health: "Suspended", Phase: "Suspended", Message: "suspended: no runs are scheduled until it is resumed"},
		},
		"a null last schedule time is not set": {
			obj:  cronWorkflow(t, "", "status: {lastScheduledTime: null}"),
			want: sources.Result{Health: "Healthy", Phase: "Active", Message: "not scheduled yet"},
		},
		"counts as a client decodes them, int64": {
			obj: withStatus(KindCronWorkflow, nil, map[string]any{"phase": "Stopped", "succeeded": int64(12), "failed": int64(1)}),
			want: sources.Result{Health: "Suspended", Phase: "Stopped",
				Message: "stopped by its stopStrategy: no more runs are scheduled; not scheduled yet; 12 succeeded, 1 failed"},
		},
		"a negative int64 count": {
			obj:  withStatus(KindCronWorkflow, nil, map[string]any{"failed": int64(-2)}),
			want: sources.Result{Health: "Unknown", Message: "status.failed is -2, not a count"},
		},
		"invalid UTF-8 is replaced": {
			obj: withStatus(KindCronWorkflow, nil, map[string]any{"conditions": []any{
				map[string]any{"type": "SubmissionError", "status": "True", "message": "bad \xff byte"},
			}}),
			want: sources.Result{Health: "Degraded", Phase: "Active", Message: "SubmissionError: bad \uFFFD byte; not scheduled yet"},
		},
		"an unknown phase with invalid UTF-8": {
			obj:  withStatus(KindCronWorkflow, nil, map[string]any{"phase": "Stop\xffped"}),
			want: sources.Result{Health: "Unknown", Phase: "Stop\uFFFDped", Message: `Argo Workflows reports phase "Stop\xffped", which entityhub does not know; not scheduled yet`},
		},
		"Go types no decoder produces are read": {
			obj: withStatus(KindCronWorkflow, map[string]any{"suspend": true}, map[string]any{
				"conditions": []map[string]string{{"type": "SpecError", "status": "True", "message": "x"}},
				"succeeded":  uint32(4),
			}),
			want: sources.Result{Health: "Suspended", Phase: "Suspended", Message: "suspended: no runs are scheduled until it is resumed; SpecError: x; not scheduled yet; 4 succeeded"},
		},
		"an object with a nil map": {
			obj:  &unstructured.Unstructured{},
			want: sources.Result{Health: "Healthy", Phase: "Active", Message: "not scheduled yet"},
		},
		"nil object": {
			obj:  nil,
			want: sources.Result{Health: "Unknown", Message: "no object"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var before map[string]any
			if tc.obj != nil {
				before, _ = sourcetest.CopyValue(tc.obj.Object).(map[string]any)
			}
			got := MapCronWorkflow(tc.obj)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("MapCronWorkflow() mismatch (-want +got):\n%s", diff)
			}
			checkMapper(t, "MapCronWorkflow", KindCronWorkflow, tc.obj, before, got)
		})
	}
}

// TestMapCronWorkflowSameEverySchedule checks that a healthy CronWorkflow maps the same
// before and after it schedules a run. Its last schedule time, its active runs and its
// counts move with every run; a result that moved with them would have the entity's
// status written on every schedule, though nothing a person needs had changed.
func TestMapCronWorkflowSameEverySchedule(t *testing.T) {
	next := map[string][]any{
		"the next schedule time": {"2026-11-21T02:00:00Z", "status", "lastScheduledTime"},
		"another run active": {[]any{map[string]any{
			"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "name": "nightly-report-1795226400",
			"namespace": "payments-prod", "uid": "5d1c7a2e-8b4f-4c3a-9e60-1f2b3c4d5e6f", "resourceVersion": "91904417",
		}}, "status", "active"},
		"no run active":         {[]any{}, "status", "active"},
		"one more run finished": {int64(13), "status", "succeeded"},
		"one more run failed":   {int64(2), "status", "failed"},
		"a new resourceVersion": {"91904420", "metadata", "resourceVersion"},
	}
	before := sourcetest.LoadManifest(t, "cronworkflow-active.yaml")
	want := MapCronWorkflow(before)
	if want.Health != "Healthy" {
		t.Fatalf("MapCronWorkflow(cronworkflow-active.yaml) = %+v, want Healthy", want)
	}
	all := before.DeepCopy()
	for name, change := range next {
		t.Run(name, func(t *testing.T) {
			after := before.DeepCopy()
			for _, u := range []*unstructured.Unstructured{after, all} {
				if err := unstructured.SetNestedField(u.Object, change[0], stringsOf(change[1:])...); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(want, MapCronWorkflow(after)); diff != "" {
				t.Errorf("MapCronWorkflow() changed with %s (-before +after):\n%s", name, diff)
			}
		})
	}
	if diff := cmp.Diff(want, MapCronWorkflow(all)); diff != "" {
		t.Errorf("MapCronWorkflow() changed with all of them (-before +after):\n%s", diff)
	}
}

// stringsOf returns vs, which are all strings, as strings.
func stringsOf(vs []any) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.(string)
	}
	return out
}

// at parses an RFC 3339 time for a test's expectations.
func at(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm.UTC()
}

func TestRunOf(t *testing.T) {
	// run returns a Workflow with the given metadata and status (YAML flow mappings).
	run := func(t *testing.T, metadata, status string) *unstructured.Unstructured {
		t.Helper()
		return sourcetest.DecodeManifest(t, "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: "+metadata+"\nstatus: "+status+"\n")
	}
	tests := map[string]struct {
		obj    *unstructured.Unstructured
		want   sources.Run
		wantOK bool
	}{
		// Grouping, from the fixtures.
		"a CronWorkflow's run": {
			obj: sourcetest.LoadManifest(t, "workflow-succeeded.yaml"),
			want: sources.Run{Name: "nightly-report-1795140000", Namespace: "payments-prod", Phase: "Succeeded",
				Group:   "cron:payments-prod/nightly-report",
				Created: at(t, "2026-11-20T02:00:00Z"), Started: at(t, "2026-11-20T02:00:00Z"), Finished: at(t, "2026-11-20T02:03:41Z")},
			wantOK: true,
		},
		"a WorkflowTemplate's run outranks its generateName": {
			obj: sourcetest.LoadManifest(t, "workflow-failed.yaml"),
			want: sources.Run{Name: "ci-payments-x7k2p", Namespace: "payments-ci", Phase: "Failed",
				Group:   "template:payments-ci/ci-payments",
				Created: at(t, "2026-11-20T09:41:17Z"), Started: at(t, "2026-11-20T09:41:17Z"), Finished: at(t, "2026-11-20T09:44:02Z")},
			wantOK: true,
		},
		"a run named by generateName, not finished": {
			obj: sourcetest.LoadManifest(t, "workflow-running.yaml"),
			want: sources.Run{Name: "ledger-backfill-q9zrt", Namespace: "payments-prod", Phase: "Running",
				Group:   "generate:payments-prod/ledger-backfill-",
				Created: at(t, "2026-11-20T10:05:44Z"), Started: at(t, "2026-11-20T10:05:44Z")},
			wantOK: true,
		},

		// Grouping precedence.
		"the CronWorkflow label outranks the template labels": {
			obj: run(t, `{name: nightly-report-1795140000, namespace: payments-prod, labels: {
  workflows.argoproj.io/cron-workflow: nightly-report,
  workflows.argoproj.io/workflow-template: report,
  workflows.argoproj.io/cluster-workflow-template: report-base}}`, "{phase: Running}"),
			want:   sources.Run{Name: "nightly-report-1795140000", Namespace: "payments-prod", Phase: "Running", Group: "cron:payments-prod/nightly-report"},
			wantOK: true,
		},
		"the WorkflowTemplate label outranks the ClusterWorkflowTemplate label": {
			obj: run(t, `{name: report-abcde, generateName: report-, namespace: payments-prod, labels: {
  workflows.argoproj.io/workflow-template: report,
  workflows.argoproj.io/cluster-workflow-template: report-base}}`, "{}"),
			want:   sources.Run{Name: "report-abcde", Namespace: "payments-prod", Group: "template:payments-prod/report"},
			wantOK: true,
		},
		"a ClusterWorkflowTemplate's run": {
			obj: run(t, `{name: db-backup-k2j4h, generateName: db-backup-, namespace: payments-prod, labels: {
  workflows.argoproj.io/cluster-workflow-template: db-backup}}`, "{phase: Succeeded}"),
			want:   sources.Run{Name: "db-backup-k2j4h", Namespace: "payments-prod", Phase: "Succeeded", Group: "clustertemplate:payments-prod/db-backup"},
			wantOK: true,
		},
		"an empty label does not count": {
			obj: run(t, `{name: report-abcde, generateName: report-, namespace: payments-prod, labels: {
  workflows.argoproj.io/cron-workflow: "", workflows.argoproj.io/workflow-template: report}}`, "{}"),
			want:   sources.Run{Name: "report-abcde", Namespace: "payments-prod", Group: "template:payments-prod/report"},
			wantOK: true,
		},
		"a Workflow made by hand is a group of its own": {
			obj:    run(t, "{name: migrate-ledger-v42, namespace: payments-prod, creationTimestamp: '2026-11-20T08:00:00Z'}", "{phase: Error}"),
			want:   sources.Run{Name: "migrate-ledger-v42", Namespace: "payments-prod", Phase: "Error", Group: "name:payments-prod/migrate-ledger-v42", Created: at(t, "2026-11-20T08:00:00Z")},
			wantOK: true,
		},
		"the same CronWorkflow name in two namespaces is two groups": {
			obj:    run(t, "{name: nightly-report-1795140000, namespace: payments-staging, labels: {workflows.argoproj.io/cron-workflow: nightly-report}}", "{}"),
			want:   sources.Run{Name: "nightly-report-1795140000", Namespace: "payments-staging", Group: "cron:payments-staging/nightly-report"},
			wantOK: true,
		},

		// Timestamps.
		"no timestamps at all": {
			obj:    run(t, "{name: w, namespace: ns}", "{phase: Pending}"),
			want:   sources.Run{Name: "w", Namespace: "ns", Phase: "Pending", Group: "name:ns/w"},
			wantOK: true,
		},
		"malformed timestamps are zero, not a failure": {
			obj:    run(t, "{name: w, namespace: ns, creationTimestamp: yesterday}", "{phase: Succeeded, startedAt: 1795140000, finishedAt: '2026-13-40T99:00:00Z'}"),
			want:   sources.Run{Name: "w", Namespace: "ns", Phase: "Succeeded", Group: "name:ns/w"},
			wantOK: true,
		},
		"timestamps with offsets and fractions are read, in UTC": {
			obj: run(t, "{name: w, namespace: ns, creationTimestamp: '2026-11-20T03:00:00+01:00'}",
				"{startedAt: '2026-11-20T02:00:01.250Z', finishedAt: null}"),
			want:   sources.Run{Name: "w", Namespace: "ns", Group: "name:ns/w", Created: at(t, "2026-11-20T02:00:00Z"), Started: at(t, "2026-11-20T02:00:01.25Z")},
			wantOK: true,
		},

		// Malformed objects.
		"labels not an object": {
			obj:    run(t, "{name: report-abcde, generateName: report-, namespace: ns, labels: [workflows.argoproj.io/cron-workflow]}", "{}"),
			want:   sources.Run{Name: "report-abcde", Namespace: "ns", Group: "generate:ns/report-"},
			wantOK: true,
		},
		"a label that is a number": {
			obj:    run(t, "{name: w, namespace: ns, labels: {workflows.argoproj.io/cron-workflow: 7}}", "{}"),
			want:   sources.Run{Name: "w", Namespace: "ns", Group: "name:ns/w"},
			wantOK: true,
		},
		"phase a number": {
			obj:    run(t, "{name: w, namespace: ns}", "{phase: 3, startedAt: '2026-11-20T02:00:00Z'}"),
			want:   sources.Run{Name: "w", Namespace: "ns", Group: "name:ns/w", Started: at(t, "2026-11-20T02:00:00Z")},
			wantOK: true,
		},
		"status a string": {
			obj:    run(t, "{name: w, namespace: ns}", "Succeeded"),
			want:   sources.Run{Name: "w", Namespace: "ns", Group: "name:ns/w"},
			wantOK: true,
		},
		"name a number": {
			obj:    run(t, "{name: 42, namespace: ns}", "{}"),
			want:   sources.Run{Namespace: "ns", Group: "name:ns/"},
			wantOK: true,
		},
		"invalid UTF-8 is replaced": {
			obj: &unstructured.Unstructured{Object: map[string]any{
				"metadata": map[string]any{"name": "w\xff", "namespace": "ns", "labels": map[string]string{LabelCronWorkflow: "c\xff"}},
				"status":   map[string]any{"phase": "Run\xffning"},
			}},
			want:   sources.Run{Name: "w\uFFFD", Namespace: "ns", Phase: "Run\uFFFDning", Group: "cron:ns/c\uFFFD"},
			wantOK: true,
		},
		"metadata missing": {
			obj: sourcetest.DecodeManifest(t, "kind: Workflow\nstatus: {phase: Running}"),
		},
		"metadata a string": {
			obj: sourcetest.DecodeManifest(t, "kind: Workflow\nmetadata: w\nstatus: {phase: Running}"),
		},
		"an object with a nil map": {
			obj: &unstructured.Unstructured{},
		},
		"nil object": {
			obj: nil,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var before map[string]any
			if tc.obj != nil {
				before, _ = sourcetest.CopyValue(tc.obj.Object).(map[string]any)
			}
			got, ok := RunOf(tc.obj)
			if diff := cmp.Diff(tc.want, got); diff != "" || ok != tc.wantOK {
				t.Errorf("RunOf() ok = %v, want %v; mismatch (-want +got):\n%s", ok, tc.wantOK, diff)
			}
			if tc.obj == nil {
				return
			}
			if diff := cmp.Diff(before, tc.obj.Object); diff != "" {
				t.Errorf("RunOf() modified its argument (-before +after):\n%s", diff)
			}
			// RunOf reads nothing the cache drops: its copy reads the same.
			if tc.obj.Object != nil && sourcetest.FromDecoder(tc.obj.Object) {
				cached, cachedOK := RunOf(sourcetest.CachedCopy(t, familyKind(t, KindWorkflow), tc.obj))
				if diff := cmp.Diff(got, cached); diff != "" || cachedOK != ok {
					t.Errorf("RunOf() of the cached copy differs (-full +cached):\n%s", diff)
				}
			}
		})
	}
}

// TestNewestOfFixtures groups the fixtures' runs as the engine would for one entity, and
// keeps the newest of each group (sources.Run.Newer).
func TestNewestOfFixtures(t *testing.T) {
	got := map[string]string{}
	newest := map[string]sources.Run{}
	for _, f := range []string{"workflow-succeeded.yaml", "workflow-failed.yaml", "workflow-running.yaml", "workflow-approval.yaml"} {
		r, ok := RunOf(sourcetest.LoadManifest(t, f))
		if !ok {
			t.Fatalf("RunOf(%s) not ok", f)
		}
		if cur, seen := newest[r.Group]; !seen || r.Newer(cur) {
			newest[r.Group] = r
			got[r.Group] = r.Name
		}
	}
	want := map[string]string{
		"cron:payments-prod/nightly-report":       "nightly-report-1795140000",
		"template:payments-ci/ci-payments":        "ci-payments-x7k2p",
		"generate:payments-prod/ledger-backfill-": "ledger-backfill-q9zrt",
		"template:payments-prod/release-payments": "release-payments-m4v8d",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("newest run of each group of the fixtures mismatch (-want +got):\n%s", diff)
	}
}

func TestKeepSpec(t *testing.T) {
	for name, keep := range map[string]func() [][]string{
		"KeepSpecWorkflow":     KeepSpecWorkflow,
		"KeepSpecCronWorkflow": KeepSpecCronWorkflow,
	} {
		if diff := cmp.Diff([][]string{{"suspend"}}, keep()); diff != "" {
			t.Errorf("%s() mismatch (-want +got):\n%s", name, diff)
		}
		// Each call returns its own slice, so that a caller changing it changes
		// nothing for others.
		a := keep()
		a[0][0] = "templates"
		if got := keep()[0][0]; got != "suspend" {
			t.Errorf("%s() shares its slice: changed to %q", name, got)
		}
	}

	// What the cache keeps of a real Workflow and CronWorkflow is only spec.suspend.
	cached := sourcetest.CachedCopy(t, familyKind(t, KindWorkflow), sourcetest.LoadManifest(t, "workflow-succeeded.yaml"))
	if got := cached.Object["spec"]; got != nil {
		t.Errorf("cached Workflow spec = %v, want none: it has no suspend", got)
	}
	for file, want := range map[string]any{
		"cronworkflow-active.yaml":    map[string]any{"suspend": false},
		"cronworkflow-suspended.yaml": map[string]any{"suspend": true},
	} {
		cached := sourcetest.CachedCopy(t, familyKind(t, KindCronWorkflow), sourcetest.LoadManifest(t, file))
		if diff := cmp.Diff(want, cached.Object["spec"]); diff != "" {
			t.Errorf("cached spec of %s mismatch (-want +got):\n%s", file, diff)
		}
	}
}

func TestNames(t *testing.T) {
	got := []string{FamilyName, Group, KindWorkflow, KindCronWorkflow, KindWorkflowTemplate,
		LabelWorkflowTemplate, LabelCronWorkflow, LabelClusterWorkflowTemplate}
	want := []string{"workflows", "argoproj.io", "Workflow", "CronWorkflow", "WorkflowTemplate",
		"workflows.argoproj.io/workflow-template", "workflows.argoproj.io/cron-workflow",
		"workflows.argoproj.io/cluster-workflow-template"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("names = %q, want %q", got, want)
	}
}
