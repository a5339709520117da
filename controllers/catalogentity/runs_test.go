package catalogentity

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/membership"
	"github.com/entityhub/entityhub/controllers/sources"
	"github.com/entityhub/entityhub/controllers/sources/workflows"
)

// workflowKinds are the kinds the Workflows family makes of the fixture CRDs.
type workflowKinds struct {
	workflow, cron, template sources.Kind
}

func newWorkflowKinds(t *testing.T) workflowKinds {
	f := workflows.Family{}
	return workflowKinds{
		workflow: fixtureKind(t, f, "argoproj.io_workflows.yaml"),
		cron:     fixtureKind(t, f, "argoproj.io_cronworkflows.yaml"),
		template: fixtureKind(t, f, "argoproj.io_workflowtemplates.yaml"),
	}
}

func (k workflowKinds) all() []sources.Kind { return []sources.Kind{k.workflow, k.cron, k.template} }

// run is a Workflow in namespace jobs started by the starter label (label: value),
// created at minute past 10:00 of testNow's day, in phase.
func (k workflowKinds) run(t *testing.T, name, label, value string, minute int, phase string) *unstructured.Unstructured {
	return decodeSource(t, k.workflow, fmt.Sprintf(`
metadata:
  name: %s
  namespace: jobs
  creationTimestamp: %s
  labels: {%s: %s}
status: {phase: %s}
`, name, testNow.Add(time.Duration(minute)*time.Minute).Format(time.RFC3339), label, value, phase))
}

// cronRun is a run of the CronWorkflow nightly.
func (k workflowKinds) cronRun(t *testing.T, name string, minute int, phase string) *unstructured.Unstructured {
	return k.run(t, name, workflows.LabelCronWorkflow, "nightly", minute, phase)
}

// runStarter is a CronWorkflow or WorkflowTemplate of kind in namespace jobs.
func runStarter(t *testing.T, kind sources.Kind, name string) *unstructured.Unstructured {
	return decodeSource(t, kind, "metadata: {name: "+name+", namespace: jobs}")
}

// runHistory is the status.runs entry of each named run, in order, in phase.
func runHistory(phase string, names ...string) []catalogv1alpha1.RunStatus {
	out := make([]catalogv1alpha1.RunStatus, 0, len(names))
	for _, n := range names {
		out = append(out, catalogv1alpha1.RunStatus{Name: n, Namespace: "jobs", Phase: phase})
	}
	return out
}

func TestRunSelection(t *testing.T) {
	k := newWorkflowKinds(t)
	// source is how a source shows in want: its ID and its health.
	source := func(kind sources.Kind, namespace, name string, h catalogv1alpha1.Health) string {
		return membership.SourceID(kind.GVK, namespace, name) + " " + string(h)
	}
	var twelve []*unstructured.Unstructured
	var twelveNames []string
	for i := range 12 {
		twelve = append(twelve, k.cronRun(t, fmt.Sprintf("nightly-%02d", i), i, "Succeeded"))
		twelveNames = append([]string{fmt.Sprintf("nightly-%02d", i)}, twelveNames...)
	}

	type args struct {
		// runs are in the cluster; roots are the entity's members, added in order.
		runs  []*unstructured.Unstructured
		roots []*unstructured.Unstructured
	}
	type want struct {
		sources []string
		lastRun string
		history []catalogv1alpha1.RunStatus
	}
	tests := map[string]struct {
		reason string
		args   args
		want   want
	}{
		"NewestOfEachGroup": {
			reason: "Only the newest run of each schedule or template is a source; the history holds every run, newest first.",
			args: args{
				runs: []*unstructured.Unstructured{
					k.cronRun(t, "nightly-1", 0, "Failed"),
					k.cronRun(t, "nightly-2", 60, "Succeeded"),
					k.run(t, "build-a", workflows.LabelWorkflowTemplate, "build", 30, "Failed"),
					k.run(t, "other-1", workflows.LabelCronWorkflow, "other", 90, "Failed"),
				},
				roots: []*unstructured.Unstructured{runStarter(t, k.cron, "nightly"), runStarter(t, k.template, "build")},
			},
			want: want{
				sources: []string{
					source(k.cron, "jobs", "nightly", catalogv1alpha1.HealthHealthy),
					source(k.workflow, "jobs", "nightly-2", catalogv1alpha1.HealthHealthy),
					source(k.workflow, "jobs", "build-a", catalogv1alpha1.HealthDegraded),
				},
				lastRun: "Succeeded",
				history: []catalogv1alpha1.RunStatus{
					{Name: "nightly-2", Namespace: "jobs", Phase: "Succeeded"},
					{Name: "build-a", Namespace: "jobs", Phase: "Failed"},
					{Name: "nightly-1", Namespace: "jobs", Phase: "Failed"},
				},
			},
		},
		"LastRunNewestOfAll": {
			reason: "lastRun is the phase of the newest run of all groups, not of the first group met.",
			args: args{
				runs: []*unstructured.Unstructured{
					k.cronRun(t, "nightly-1", 0, "Succeeded"),
					k.run(t, "build-a", workflows.LabelWorkflowTemplate, "build", 30, "Running"),
				},
				roots: []*unstructured.Unstructured{runStarter(t, k.cron, "nightly"), runStarter(t, k.template, "build")},
			},
			want: want{
				sources: []string{
					source(k.cron, "jobs", "nightly", catalogv1alpha1.HealthHealthy),
					source(k.workflow, "jobs", "build-a", catalogv1alpha1.HealthProgressing),
					source(k.workflow, "jobs", "nightly-1", catalogv1alpha1.HealthHealthy),
				},
				lastRun: "Running",
				history: []catalogv1alpha1.RunStatus{
					{Name: "build-a", Namespace: "jobs", Phase: "Running"},
					{Name: "nightly-1", Namespace: "jobs", Phase: "Succeeded"},
				},
			},
		},
		"HistoryBounded": {
			reason: "The history keeps the MaxStatusRuns newest runs.",
			args:   args{runs: twelve, roots: []*unstructured.Unstructured{runStarter(t, k.cron, "nightly")}},
			want: want{
				sources: []string{
					source(k.cron, "jobs", "nightly", catalogv1alpha1.HealthHealthy),
					source(k.workflow, "jobs", "nightly-11", catalogv1alpha1.HealthHealthy),
				},
				lastRun: "Succeeded",
				history: runHistory("Succeeded", twelveNames[:catalogv1alpha1.MaxStatusRuns]...),
			},
		},
		"TieBrokenByName": {
			reason: "Runs created in the same second are told apart by name, the later name being the later run (cron runs are named by time).",
			args: args{
				runs: []*unstructured.Unstructured{
					k.cronRun(t, "nightly-1772359260", 0, "Failed"),
					k.cronRun(t, "nightly-1772359200", 0, "Succeeded"),
				},
				roots: []*unstructured.Unstructured{runStarter(t, k.cron, "nightly")},
			},
			want: want{
				sources: []string{
					source(k.cron, "jobs", "nightly", catalogv1alpha1.HealthHealthy),
					source(k.workflow, "jobs", "nightly-1772359260", catalogv1alpha1.HealthDegraded),
				},
				lastRun: "Failed",
				history: []catalogv1alpha1.RunStatus{
					{Name: "nightly-1772359260", Namespace: "jobs", Phase: "Failed"},
					{Name: "nightly-1772359200", Namespace: "jobs", Phase: "Succeeded"},
				},
			},
		},
		"RunMetTwice": {
			reason: "A run labelled for the entity and started by its CronWorkflow is one run.",
			args: args{
				runs: []*unstructured.Unstructured{
					k.cronRun(t, "nightly-1", 0, "Failed"),
					k.cronRun(t, "nightly-2", 60, "Succeeded"),
				},
				roots: []*unstructured.Unstructured{k.cronRun(t, "nightly-2", 60, "Succeeded"), runStarter(t, k.cron, "nightly")},
			},
			want: want{
				sources: []string{
					source(k.cron, "jobs", "nightly", catalogv1alpha1.HealthHealthy),
					source(k.workflow, "jobs", "nightly-2", catalogv1alpha1.HealthHealthy),
				},
				lastRun: "Succeeded",
				history: []catalogv1alpha1.RunStatus{
					{Name: "nightly-2", Namespace: "jobs", Phase: "Succeeded"},
					{Name: "nightly-1", Namespace: "jobs", Phase: "Failed"},
				},
			},
		},
		"UnreadableRun": {
			reason: "A Workflow that cannot be read as a run is reported as it is, as a source, and is no run.",
			args: args{
				roots: []*unstructured.Unstructured{{Object: map[string]any{
					"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": "not an object",
					"status": map[string]any{"phase": "Failed"},
				}}},
			},
			want: want{sources: []string{source(k.workflow, "", "", catalogv1alpha1.HealthDegraded)}},
		},
		"NoRuns": {
			reason: "A CronWorkflow that has not run yet is a source; there is no last run and no history.",
			args:   args{roots: []*unstructured.Unstructured{runStarter(t, k.cron, "nightly")}},
			want:   want{sources: []string{source(k.cron, "jobs", "nightly", catalogv1alpha1.HealthHealthy)}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var objs []client.Object
			for _, o := range tc.args.runs {
				objs = append(objs, o.DeepCopy())
			}
			env := newUnitEnv(t, k.all(), nil, nil, objs...)
			c := newCollected()
			for _, root := range tc.args.roots {
				kind, _ := env.watches.KindFor(root.GroupVersionKind().GroupKind())
				if err := env.r.addRoot(context.Background(), c, kind, root); err != nil {
					t.Fatalf("addRoot(%s): %v", root.GetName(), err)
				}
			}
			var got want
			got.lastRun, got.history = c.finishRuns()
			for _, st := range c.statuses {
				got.sources = append(got.sources, st.ID+" "+string(st.Health))
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("\n%s\ncollectRuns, finishRuns: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestRunStatus checks that a run's times reach status, and that times it does not have
// stay unset.
func TestRunStatus(t *testing.T) {
	started, finished := testNow, testNow.Add(time.Minute)
	tests := map[string]struct {
		reason string
		run    sources.Run
		want   catalogv1alpha1.RunStatus
	}{
		"Finished": {
			reason: "A finished run has both times.",
			run:    sources.Run{Name: "a", Namespace: "jobs", Phase: "Succeeded", Started: started, Finished: finished},
			want: catalogv1alpha1.RunStatus{Name: "a", Namespace: "jobs", Phase: "Succeeded",
				StartedAt: &metav1.Time{Time: started}, FinishedAt: &metav1.Time{Time: finished}},
		},
		"Pending": {
			reason: "A run not started yet has neither.",
			run:    sources.Run{Name: "a", Namespace: "jobs", Phase: "Pending"},
			want:   catalogv1alpha1.RunStatus{Name: "a", Namespace: "jobs", Phase: "Pending"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, runStatus(tc.run)); diff != "" {
				t.Errorf("\n%s\nrunStatus(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
