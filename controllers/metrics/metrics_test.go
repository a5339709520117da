package metrics

import (
	"testing"

	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// TestRegister checks that the metrics reach the registry the manager serves, under the
// names the README, dashboards and the end-to-end suite use, and that registering twice
// does not panic.
func TestRegister(t *testing.T) {
	Register(nil)
	Register(nil) // idempotent
	CatalogInvalidEntities.Set(2)
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, mf := range families {
		found[mf.GetName()] = true
		if mf.GetName() == "entityhub_catalog_invalid_entities" {
			if v := mf.GetMetric()[0].GetGauge().GetValue(); v != 2 {
				t.Errorf("entityhub_catalog_invalid_entities = %v, want 2", v)
			}
		}
	}
	// Vectors without a child yet are not gathered; gauges, counters and histograms
	// always are.
	for _, name := range []string{
		"entityhub_catalog_invalid_entities", "entityhub_event_to_status_seconds",
		"entityhub_catalog_renders_in_flight", "entityhub_catalog_renders_refused_total",
	} {
		if !found[name] {
			t.Errorf("%s is not in controller-runtime's registry", name)
		}
	}
}
