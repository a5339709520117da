package argocd

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/sources"
)

func TestFreshness(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	app := sources.Kind{Family: FamilyName}.WithGVK(Group, "v1alpha1", KindApplication)
	appSet := sources.Kind{Family: FamilyName}.WithGVK(Group, "v1alpha1", KindApplicationSet)
	application := func(reconciledAt any, annotations map[string]string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{"status": map[string]any{"reconciledAt": reconciledAt}}}
		u.SetNamespace("argocd")
		u.SetName("payments-prod")
		u.SetAnnotations(annotations)
		return u
	}
	tests := map[string]struct {
		reason string
		f      Freshness
		kind   sources.Kind
		obj    *unstructured.Unstructured
		want   sources.Verdict
	}{
		"Fresh": {
			reason: "Reconciled 3 minutes ago: current, and to be looked at again when it would cross the threshold.",
			f:      Freshness{StaleAfter: 10 * time.Minute}, kind: app,
			obj:  application("2026-11-30T11:57:00Z", nil),
			want: sources.Verdict{Recheck: time.Date(2026, 11, 30, 12, 7, 0, 0, time.UTC)},
		},
		"Stale": {
			reason: "Reconciled two hours ago: not current, saying since when, with a message that does not tick.",
			f:      Freshness{StaleAfter: 10 * time.Minute}, kind: app,
			obj:  application("2026-11-30T09:56:00Z", nil),
			want: sources.Verdict{Why: "Argo CD has not reconciled Application argocd/payments-prod for over 10m0s (since 2026-11-30T09:56:00Z)"},
		},
		"AtTheThreshold": {
			reason: "Exactly at the threshold counts as stale.",
			f:      Freshness{StaleAfter: 10 * time.Minute}, kind: app,
			obj:  application("2026-11-30T11:50:00Z", nil),
			want: sources.Verdict{Why: "Argo CD has not reconciled Application argocd/payments-prod for over 10m0s (since 2026-11-30T11:50:00Z)"},
		},
		"Off": {
			reason: "StaleAfter 0 turns the check off (timeout.reconciliation: 0).",
			f:      Freshness{}, kind: app,
			obj: application("2026-11-30T09:56:00Z", nil),
		},
		"NeverReconciled": {
			reason: "No reconciledAt yet: nothing to judge.",
			f:      Freshness{StaleAfter: 10 * time.Minute}, kind: app,
			obj: application(nil, nil),
		},
		"Malformed": {
			reason: "A reconciledAt that is not a time is left to the mapper.",
			f:      Freshness{StaleAfter: 10 * time.Minute}, kind: app,
			obj: application(int64(5), nil),
		},
		"SkipReconcile": {
			reason: "Reconciliation skipped on purpose: Suspended, saying so, whatever the age.",
			f:      Freshness{StaleAfter: 10 * time.Minute}, kind: app,
			obj: application("2026-11-30T09:56:00Z", map[string]string{AnnotationSkipReconcile: "true"}),
			want: sources.Verdict{Suspended: true,
				Why: `Argo CD skips reconciling Application argocd/payments-prod (argocd.argoproj.io/skip-reconcile: "true"); its status is frozen`},
		},
		"SkipReconcileFalse": {
			reason: "Only \"true\" skips reconciliation, as in Argo CD.",
			f:      Freshness{StaleAfter: 10 * time.Minute}, kind: app,
			obj:  application("2026-11-30T11:57:00Z", map[string]string{AnnotationSkipReconcile: "false"}),
			want: sources.Verdict{Recheck: time.Date(2026, 11, 30, 12, 7, 0, 0, time.UTC)},
		},
		"ApplicationSet": {
			reason: "ApplicationSets have no reconciledAt: not judged.",
			f:      Freshness{StaleAfter: 10 * time.Minute}, kind: appSet,
			obj: application("2026-11-30T09:56:00Z", nil),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := tc.f.Vouch(tc.kind, tc.obj, sources.Result{}, now)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("\n%s\nVouch(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestUnvouchedApplication: what an entity shows of a stale Application.
func TestUnvouchedApplication(t *testing.T) {
	res := sources.Result{Health: catalogv1alpha1.HealthHealthy, Sync: catalogv1alpha1.SyncSynced, Cluster: "prod-us"}
	got := sources.Unvouched(res, sources.Verdict{Why: "Argo CD has not reconciled Application argocd/payments-prod for over 10m0s (since 2026-11-30T09:56:00Z)"})
	want := sources.Result{Health: catalogv1alpha1.HealthUnknown, Sync: catalogv1alpha1.SyncUnknown, Cluster: "prod-us",
		Message: "Argo CD has not reconciled Application argocd/payments-prod for over 10m0s (since 2026-11-30T09:56:00Z); last known: Healthy, Synced"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Unvouched: -want, +got:\n%s", diff)
	}
}
