package catalogentity

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

// The manager may write events in the catalog namespace only; a tenant's entity carries
// its health in its status alone.
func TestHealthEventsOnlyInCatalogNamespace(t *testing.T) {
	tests := map[string]struct {
		namespace string
		want      int
	}{
		"catalog namespace":  {namespace: testCatalogNamespace, want: 1},
		"a tenant namespace": {namespace: "team-a", want: 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			recorder := events.NewFakeRecorder(10)
			r := &Reconciler{recorder: recorder, catalogNamespace: testCatalogNamespace, events: &eventLimiter{}, now: func() time.Time { return testNow }}
			entity := &catalogv1alpha1.CatalogEntity{ObjectMeta: metav1.ObjectMeta{Namespace: tc.namespace, Name: "web"}}
			r.recordHealthTransition(entity, catalogv1alpha1.HealthHealthy, catalogv1alpha1.CatalogEntityStatus{Health: catalogv1alpha1.HealthDegraded})
			if got := len(recorder.Events); got != tc.want {
				t.Errorf("events recorded on an entity in %s: %d, want %d", tc.namespace, got, tc.want)
			}
		})
	}
}
