package catalogentity

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

// TestCarried: a source of a kind that cannot be read is Unknown, says why, and keeps
// what was last known of it from the first time it was carried.
func TestCarried(t *testing.T) {
	const why = "cannot read Instance.rds.aws.upbound.io: forbidden"
	tests := map[string]struct {
		reason string
		prev   catalogv1alpha1.SourceStatus
		want   catalogv1alpha1.SourceStatus
	}{
		"Healthy": {
			reason: "A healthy source becomes Unknown and says it was last known Healthy.",
			prev:   catalogv1alpha1.SourceStatus{ID: "a", Health: catalogv1alpha1.HealthHealthy, Phase: "Available", Message: "fine"},
			want: catalogv1alpha1.SourceStatus{ID: "a", Health: catalogv1alpha1.HealthUnknown, Phase: "Available",
				Message: why + "; last known: Healthy"},
		},
		"WithSync": {
			reason: "A source with a sync state keeps it as Unknown, and names it among what was last known.",
			prev:   catalogv1alpha1.SourceStatus{ID: "a", Health: catalogv1alpha1.HealthDegraded, Sync: catalogv1alpha1.SyncSynced},
			want: catalogv1alpha1.SourceStatus{ID: "a", Health: catalogv1alpha1.HealthUnknown, Sync: catalogv1alpha1.SyncUnknown,
				Message: why + "; last known: Degraded, Synced"},
		},
		"CarriedAgain": {
			reason: "Carried again, it keeps what was known before it was first carried, under the new why.",
			prev: catalogv1alpha1.SourceStatus{ID: "a", Health: catalogv1alpha1.HealthUnknown,
				Message: "cannot list Instance.rds.aws.upbound.io: not listed after 1m0s; last known: Healthy"},
			want: catalogv1alpha1.SourceStatus{ID: "a", Health: catalogv1alpha1.HealthUnknown,
				Message: why + "; last known: Healthy"},
		},
		"UnknownBefore": {
			reason: "A source that was already Unknown for its own reasons was last known Unknown.",
			prev:   catalogv1alpha1.SourceStatus{ID: "a", Health: catalogv1alpha1.HealthUnknown, Message: "no status yet"},
			want:   catalogv1alpha1.SourceStatus{ID: "a", Health: catalogv1alpha1.HealthUnknown, Message: why + "; last known: Unknown"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, carried(tc.prev, why)); diff != "" {
				t.Errorf("\n%s\ncarried(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
