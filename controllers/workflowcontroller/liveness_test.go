package workflowcontroller

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/sources"
	"github.com/entityhub/entityhub/controllers/sources/workflows"
)

var t0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func lease(renew, acquire *time.Time, seconds *int32) *coordinationv1.Lease {
	l := &coordinationv1.Lease{Spec: coordinationv1.LeaseSpec{LeaseDurationSeconds: seconds}}
	if renew != nil {
		l.Spec.RenewTime = ptr.To(metav1.NewMicroTime(*renew))
	}
	if acquire != nil {
		l.Spec.AcquireTime = ptr.To(metav1.NewMicroTime(*acquire))
	}
	return l
}

func TestDeadline(t *testing.T) {
	type want struct {
		renewed, deadline time.Time
		ok                bool
	}
	tests := map[string]struct {
		reason string
		lease  *coordinationv1.Lease
		want   want
	}{
		"Renewed":      {"Three lease durations after the last renewal.", lease(&t0, nil, ptr.To[int32](15)), want{t0, t0.Add(45 * time.Second), true}},
		"OnlyAcquired": {"Acquired and never renewed: from the acquisition.", lease(nil, &t0, ptr.To[int32](15)), want{t0, t0.Add(45 * time.Second), true}},
		"NoLease":      {"No Lease: nothing to judge by.", nil, want{}},
		"NoDuration":   {"A Lease without a duration: nothing to judge by.", lease(&t0, nil, nil), want{}},
		"ZeroDuration": {"A zero duration: nothing to judge by.", lease(&t0, nil, ptr.To[int32](0)), want{}},
		"NoTime":       {"Neither renewed nor acquired: nothing to judge by.", lease(nil, nil, ptr.To[int32](15)), want{}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var got want
			got.renewed, got.deadline, got.ok = Deadline(tc.lease)
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("\n%s\nDeadline: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestLiveness: the controller counts as gone three lease durations after its last
// renewal, which is when Pending and Running Workflows stop being vouched for; every
// change asks for one resync, and a renewal brings it back.
func TestLiveness(t *testing.T) {
	now := t0
	resyncs := 0
	l := &Liveness{key: types.NamespacedName{Namespace: "argo", Name: "workflow-controller"}, resync: func() { resyncs++ },
		now: func() time.Time { return now }}
	defer l.stop()
	wf := sources.Kind{Family: workflows.FamilyName}.WithGVK(workflows.Group, "v1alpha1", workflows.KindWorkflow)
	cron := sources.Kind{Family: workflows.FamilyName}.WithGVK(workflows.Group, "v1alpha1", workflows.KindCronWorkflow)
	running := sources.Result{Health: catalogv1alpha1.HealthProgressing, Phase: workflows.PhaseRunning}
	succeeded := sources.Result{Health: catalogv1alpha1.HealthHealthy, Phase: "Succeeded"}

	l.observe(lease(&t0, nil, ptr.To[int32](15)))
	if v := l.Vouch(wf, nil, running, now); v.Why != "" || resyncs != 0 {
		t.Fatalf("a renewed lease: verdict %+v, %d resyncs; want none", v, resyncs)
	}
	now = t0.Add(44 * time.Second)
	l.check()
	if v := l.Vouch(wf, nil, running, now); v.Why != "" {
		t.Fatalf("two renewals late: %+v, want no verdict yet", v)
	}
	now = t0.Add(45 * time.Second)
	l.check()
	want := "the workflow controller has not renewed its lease argo/workflow-controller for over 45s (since 2026-11-30T12:00:00Z)"
	if v := l.Vouch(wf, nil, running, now); v.Why != want || resyncs != 1 {
		t.Fatalf("three durations late: verdict %q, %d resyncs; want %q and 1", v.Why, resyncs, want)
	}
	if v := l.Vouch(wf, nil, succeeded, now); v.Why != "" {
		t.Errorf("a finished run is what it is; got %+v", v)
	}
	if v := l.Vouch(cron, nil, running, now); v.Why != "" {
		t.Errorf("a CronWorkflow is not a run; got %+v", v)
	}
	l.check()
	if resyncs != 1 {
		t.Errorf("no change, yet %d resyncs", resyncs)
	}
	renewed := now
	l.observe(lease(&renewed, nil, ptr.To[int32](15)))
	if v := l.Vouch(wf, nil, running, now); v.Why != "" || resyncs != 2 {
		t.Errorf("renewed again: verdict %+v, %d resyncs; want none and 2", v, resyncs)
	}
	l.observe(nil)
	now = now.Add(time.Hour)
	l.check()
	if v := l.Vouch(wf, nil, running, now); v.Why != "" || resyncs != 2 {
		t.Errorf("no Lease (leader election off): verdict %+v, %d resyncs; want none and 2", v, resyncs)
	}
}

func TestParseLease(t *testing.T) {
	if got, err := ParseLease("argo/workflow-controller"); err != nil || got != (types.NamespacedName{Namespace: "argo", Name: "workflow-controller"}) {
		t.Errorf("ParseLease: %v, %v", got, err)
	}
	for _, bad := range []string{"argo", "/x", "argo/", "a/b/c"} {
		if _, err := ParseLease(bad); err == nil {
			t.Errorf("ParseLease(%q) accepted", bad)
		}
	}
}
