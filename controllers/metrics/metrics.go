// Package metrics defines entityhub's Prometheus metrics, served on the manager's
// metrics endpoint beside controller-runtime's own.
package metrics

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/apimachinery/pkg/types"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	// StatusWrites counts CatalogEntity status writes by result ("success" or "error").
	// Once status has settled it stays flat: a quiet fleet makes no writes.
	StatusWrites = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "entityhub_status_writes_total",
		Help: "CatalogEntity status writes, by result.",
	}, []string{"result"})

	// ReconcileErrors counts failed entity reconciles by the step that failed.
	ReconcileErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "entityhub_reconcile_errors_total",
		Help: "Failed CatalogEntity reconciles, by the step that failed.",
	}, []string{"step"})

	// EventToStatus is the time from a source event to the status write that reflects it.
	EventToStatus = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "entityhub_event_to_status_seconds",
		Help:    "Time from a source event to the CatalogEntity status write that reflects it.",
		Buckets: []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
	})

	// CatalogInvalidEntities is how many CatalogEntities the catalog endpoint's last body
	// left out because they cannot be made valid Backstage descriptors. A gauge, not a
	// counter: it says how many are broken now, which is what an alert should look at,
	// and it does not grow with every poll. Filters do not change it: it always counts
	// over all entities.
	CatalogInvalidEntities = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "entityhub_catalog_invalid_entities",
		Help: "CatalogEntities left out of the Backstage catalog endpoint because they cannot be made valid Backstage descriptors.",
	})

	// CatalogRendersInFlight is how many bodies the catalog endpoint is rendering now.
	// Identical requests share one render, and renders of filtered bodies are bounded
	// (--catalog-max-renders), so it stays small; at the bound, more are refused.
	CatalogRendersInFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "entityhub_catalog_renders_in_flight",
		Help: "Bodies the Backstage catalog endpoint is rendering now.",
	})

	// CatalogRendersRefused counts requests the catalog endpoint answered 503 with
	// Retry-After because as many renders as it allows were running. Backstage's own
	// request, with no filter, is never refused for this: a rise means many distinct
	// filtered queries at once.
	CatalogRendersRefused = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "entityhub_catalog_renders_refused_total",
		Help: "Requests to the Backstage catalog endpoint refused with 503 because as many renders as allowed were running.",
	})

	// CatalogRequests counts the catalog endpoint's answers by HTTP status code, so that an
	// alert can see it fail (5xx: it could not read the entities) and a dashboard how
	// often Backstage reads it. It counts the requests of a handler wrapped with
	// InstrumentCatalog: controllers/setup's addCatalogServer must wrap the
	// catalogserver.Handler it serves (`Handler: metrics.InstrumentCatalog(handler)`);
	// until it does, the series do not exist.
	CatalogRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "entityhub_catalog_requests_total",
		Help: "Requests to the Backstage catalog endpoint, by HTTP status code.",
	}, []string{"code"})

	// SourceKindUnreadable is 1 while a watched source kind cannot be read — its first
	// list late, its watch failing past the grace period, RBAC revoked — and 0 while it
	// can, by kind as `kubectl get` names it (Instance.rds.aws.upbound.io): the state the
	// README's "a kind cannot be read" describes, which makes the kind's sources Unknown.
	// controllers/watches must set it where a kind's readability changes (readable.go):
	// 0 when a watch starts; 1 in waitForSync when the first list is late and in
	// watchFailed's timer when it marks the kind; 0 when the late list arrives and in
	// worked when a marked kind recovers; ForgetSourceKind when the watch stops. Until it
	// does, the series do not exist.
	SourceKindUnreadable = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "entityhub_source_kind_unreadable",
		Help: "1 while a watched source kind cannot be read (first list late, watch failing, access revoked), 0 while it can; by kind.",
	}, []string{"kind"})
)

// catalogCodes are the answers of the catalog endpoint that exist from the start, so that
// a rate over them is 0 rather than empty before the first failure.
var catalogCodes = []string{"200", "304", "503"}

// InstrumentCatalog wraps the catalog endpoint's handler so that its answers are counted
// in CatalogRequests.
func InstrumentCatalog(h http.Handler) http.Handler {
	for _, code := range catalogCodes {
		CatalogRequests.WithLabelValues(code)
	}
	return promhttp.InstrumentHandlerCounter(CatalogRequests, h)
}

// SetSourceKindUnreadable records whether kind (Kind.group) can be read now.
func SetSourceKindUnreadable(kind string, unreadable bool) {
	v := 0.0
	if unreadable {
		v = 1
	}
	SourceKindUnreadable.WithLabelValues(kind).Set(v)
}

// ForgetSourceKind drops a kind that is no longer watched (its CRD was deleted).
func ForgetSourceKind(kind string) {
	SourceKindUnreadable.DeleteLabelValues(kind)
}

// Entities tracks each entity's health and sources per kind, and reports them at
// scrape time as entityhub_entities{health} and entityhub_sources{kind}.
type Entities struct {
	mu      sync.Mutex
	health  map[types.NamespacedName]string
	sources map[types.NamespacedName]map[string]int
	kinds   func() map[string]int

	entitiesDesc, sourcesDesc, kindsDesc *prometheus.Desc
}

// NewEntities returns a tracker; kinds, when set, reports watched kinds per family.
func NewEntities(kinds func() map[string]int) *Entities {
	return &Entities{
		health:       map[types.NamespacedName]string{},
		sources:      map[types.NamespacedName]map[string]int{},
		kinds:        kinds,
		entitiesDesc: prometheus.NewDesc("entityhub_entities", "CatalogEntities, by health.", []string{"health"}, nil),
		sourcesDesc:  prometheus.NewDesc("entityhub_sources", "Sources of CatalogEntities, by kind (<group>/<Kind>).", []string{"kind"}, nil),
		kindsDesc:    prometheus.NewDesc("entityhub_watched_kinds", "Source kinds being watched, by family.", []string{"family"}, nil),
	}
}

// Set records the entity's health and its number of sources per kind.
func (e *Entities) Set(key types.NamespacedName, health string, perKind map[string]int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.health[key] = health
	e.sources[key] = perKind
}

// Forget drops a deleted entity.
func (e *Entities) Forget(key types.NamespacedName) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.health, key)
	delete(e.sources, key)
}

// Describe implements prometheus.Collector.
func (e *Entities) Describe(ch chan<- *prometheus.Desc) {
	ch <- e.entitiesDesc
	ch <- e.sourcesDesc
	ch <- e.kindsDesc
}

// Collect implements prometheus.Collector.
func (e *Entities) Collect(ch chan<- prometheus.Metric) {
	e.mu.Lock()
	byHealth := map[string]int{}
	for _, h := range e.health {
		byHealth[h]++
	}
	byKind := map[string]int{}
	for _, per := range e.sources {
		for k, n := range per {
			byKind[k] += n
		}
	}
	e.mu.Unlock()
	for h, n := range byHealth {
		ch <- prometheus.MustNewConstMetric(e.entitiesDesc, prometheus.GaugeValue, float64(n), h)
	}
	for k, n := range byKind {
		ch <- prometheus.MustNewConstMetric(e.sourcesDesc, prometheus.GaugeValue, float64(n), k)
	}
	if e.kinds != nil {
		for f, n := range e.kinds() {
			ch <- prometheus.MustNewConstMetric(e.kindsDesc, prometheus.GaugeValue, float64(n), f)
		}
	}
}

// EventClock remembers when the oldest unhandled event for each entity arrived, so the
// status write that handles it can observe EventToStatus.
type EventClock struct {
	mu      sync.Mutex
	pending map[types.NamespacedName]time.Time
}

// NewEventClock returns an empty clock.
func NewEventClock() *EventClock {
	return &EventClock{pending: map[types.NamespacedName]time.Time{}}
}

// Saw records an event for key; an earlier unhandled one keeps its time.
func (c *EventClock) Saw(key types.NamespacedName, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.pending[key]; !ok {
		c.pending[key] = at
	}
}

// Handled forgets key's events and, when wrote is true and there were any, observes the
// time since the oldest.
func (c *EventClock) Handled(key types.NamespacedName, wrote bool, now time.Time) {
	c.mu.Lock()
	at, ok := c.pending[key]
	delete(c.pending, key)
	c.mu.Unlock()
	if ok && wrote {
		EventToStatus.Observe(now.Sub(at).Seconds())
	}
}

var registerOnce sync.Once

// Register adds the metrics to controller-runtime's registry, which the manager serves.
// The package's own metrics are registered once however often it is called, so that
// tests and the manager may each call it; entities, when not nil, every time.
func Register(entities *Entities) {
	registerOnce.Do(func() {
		ctrlmetrics.Registry.MustRegister(StatusWrites, ReconcileErrors, EventToStatus, CatalogInvalidEntities,
			CatalogRendersInFlight, CatalogRendersRefused, CatalogRequests, SourceKindUnreadable)
	})
	if entities != nil {
		ctrlmetrics.Registry.MustRegister(entities)
	}
}
