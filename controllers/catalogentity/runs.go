package catalogentity

import (
	"context"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/membership"
	"github.com/entityhub/entityhub/controllers/sources"
)

// runCandidate is a run of the entity, held back until all its runs are known: only the
// newest of each group becomes a source.
type runCandidate struct {
	kind sources.Kind
	obj  *unstructured.Unstructured
	run  sources.Run
}

// holdRun keeps obj, a run, for finishRuns; a run met twice is kept once.
func (c *collected) holdRun(kind sources.Kind, obj *unstructured.Unstructured) {
	id := membership.SourceID(kind.GVK, obj.GetNamespace(), obj.GetName())
	if c.heldRuns[id] {
		return
	}
	run, ok := kind.RunOf(obj)
	if !ok {
		c.add(kind, obj) // not readable as a run: report it as it is
		return
	}
	c.heldRuns[id] = true
	c.runs = append(c.runs, runCandidate{kind: kind, obj: obj, run: run})
}

// collectRuns holds the runs obj started (a CronWorkflow's or WorkflowTemplate's).
func (r *Reconciler) collectRuns(ctx context.Context, c *collected, kind sources.Kind, obj *unstructured.Unstructured) error {
	runKind, ok := r.watches.KindFor(kind.Runs.RunKind)
	if !ok || runKind.RunOf == nil {
		return nil
	}
	if !r.readable(runKind.GVK) {
		return nil
	}
	list, err := r.listKind(ctx, runKind.GVK, client.InNamespace(obj.GetNamespace()),
		client.MatchingFields{kind.Runs.RunIndex: kind.Runs.RunKey(obj)})
	if err != nil {
		return err
	}
	for i := range list.Items {
		c.holdRun(runKind, &list.Items[i])
	}
	return nil
}

// finishRuns makes the newest run of each group a source, and returns the phase of the
// newest run of all and the most recent runs, newest first, for status.
func (c *collected) finishRuns() (lastRun string, history []catalogv1alpha1.RunStatus) {
	if len(c.runs) == 0 {
		return "", nil
	}
	// Newest first, by the one rule of which run counts (sources.Run.Newer).
	sort.Slice(c.runs, func(i, j int) bool { return c.runs[i].run.Newer(c.runs[j].run) })
	seenGroup := map[string]bool{}
	for _, rc := range c.runs {
		if !seenGroup[rc.run.Group] {
			seenGroup[rc.run.Group] = true
			c.add(rc.kind, rc.obj)
		}
		if len(history) < catalogv1alpha1.MaxStatusRuns {
			history = append(history, runStatus(rc.run))
		}
	}
	return c.runs[0].run.Phase, history
}

func runStatus(r sources.Run) catalogv1alpha1.RunStatus {
	st := catalogv1alpha1.RunStatus{Name: r.Name, Namespace: r.Namespace, Phase: r.Phase}
	if !r.Started.IsZero() {
		t := metav1.NewTime(r.Started)
		st.StartedAt = &t
	}
	if !r.Finished.IsZero() {
		t := metav1.NewTime(r.Finished)
		st.FinishedAt = &t
	}
	return st
}
