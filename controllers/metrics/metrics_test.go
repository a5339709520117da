package metrics

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
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

// TestCatalogRequestsAndUnreadableKinds checks the two metrics the README's alerts
// propose: answers of a wrapped catalog handler counted by code, and a kind's
// readability set, changed and forgotten.
func TestCatalogRequestsAndUnreadableKinds(t *testing.T) {
	Register(nil)
	h := InstrumentCatalog(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/broken" {
			http.Error(w, "cannot list CatalogEntities; try again later", http.StatusServiceUnavailable)
		}
	}))
	for _, path := range []string{"/entities", "/broken", "/broken"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	if got := value(t, CatalogRequests.WithLabelValues("503")); got != 2 {
		t.Errorf("503 answers = %v, want 2", got)
	}
	if got := value(t, CatalogRequests.WithLabelValues("304")); got != 0 {
		t.Errorf("304 answers = %v, want 0 (present before the first)", got)
	}

	SetSourceKindUnreadable("Instance.rds.aws.upbound.io", true)
	if got := value(t, SourceKindUnreadable.WithLabelValues("Instance.rds.aws.upbound.io")); got != 1 {
		t.Errorf("unreadable = %v, want 1", got)
	}
	SetSourceKindUnreadable("Instance.rds.aws.upbound.io", false)
	if got := value(t, SourceKindUnreadable.WithLabelValues("Instance.rds.aws.upbound.io")); got != 0 {
		t.Errorf("readable again = %v, want 0", got)
	}
	ForgetSourceKind("Instance.rds.aws.upbound.io")
	if n := count(SourceKindUnreadable); n != 0 {
		t.Errorf("%d series left after the kind was forgotten, want 0", n)
	}
}

// value reads a counter's or gauge's value.
func value(t *testing.T, m prometheus.Metric) float64 {
	t.Helper()
	var out dto.Metric
	if err := m.Write(&out); err != nil {
		t.Fatal(err)
	}
	if out.Counter != nil {
		return out.Counter.GetValue()
	}
	return out.Gauge.GetValue()
}

// count is how many series c has.
func count(c prometheus.Collector) int {
	ch := make(chan prometheus.Metric, 64)
	c.Collect(ch)
	close(ch)
	return len(ch)
}
