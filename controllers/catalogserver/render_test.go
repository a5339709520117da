package catalogserver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/catalog"
	"github.com/entityhub/entityhub/controllers/metrics"
)

// renderCounter counts the Handler's renders by variant.
type renderCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func countRenders(h *Handler) *renderCounter {
	c := &renderCounter{n: map[string]int{}}
	h.onRender = func(v variant) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.n[v.key()]++
	}
	return c
}

func (c *renderCounter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, k := range c.n {
		n += k
	}
	return n
}

func (c *renderCounter) of(v variant) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[v.key()]
}

// TestHandlerVariantsAreCanonical: spellings of one filter, and any Host header, share
// one body and one render.
func TestHandlerVariantsAreCanonical(t *testing.T) {
	f := newFixture(t, fleet()...)
	f.handler.Options.LocationURL = "https://entityhub.example.com/catalog"
	renders := countRenders(f.handler)
	var etag, body string
	for i, target := range []string{
		"http://a/?kind=Component",
		"http://b/?kind=component",
		"http://c/?kind=%43omponent",
		"http://d/?kind=COMPONENT,component",
		"http://e/?kind=+component+",
		"http://f:8090/other/path?kind=component&kind=Component",
		"http://" + strconv.Itoa(1e6) + "/?kind=c%6Fmponent,",
	} {
		w := f.do(http.MethodGet, target)
		if w.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", target, w.Code, w.Body)
		}
		if i == 0 {
			etag, body = w.Header().Get("ETag"), w.Body.String()
		} else if w.Header().Get("ETag") != etag || w.Body.String() != body {
			t.Errorf("%s: another body than ?kind=Component's", target)
		}
	}
	if n := renders.total(); n != 1 {
		t.Errorf("%d renders for one filter spelt seven ways, want 1", n)
	}
	f.do(http.MethodGet, "/?kind=Component&namespace=default")
	f.do(http.MethodGet, "/?namespace=DEFAULT&kind=component")
	if n := renders.total(); n != 2 {
		t.Errorf("%d renders after a second filter spelt two ways, want 2", n)
	}
	if n, _ := f.handler.cache.len(); n != 2 {
		t.Errorf("%d bodies cached, want 2", n)
	}
}

// TestHandlerKeepsTheUnfilteredBodyCached: many filtered queries do not push out the
// body Backstage polls for.
func TestHandlerKeepsTheUnfilteredBodyCached(t *testing.T) {
	f := newFixture(t, fleet()...)
	renders := countRenders(f.handler)
	etag := f.do(http.MethodGet, "/").Header().Get("ETag")
	for i := range 10 * maxRendered {
		if w := f.do(http.MethodGet, "/?namespace=ns-"+strconv.Itoa(i)); w.Code != http.StatusOK {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	}
	if w := f.do(http.MethodGet, "/", "If-None-Match", etag); w.Code != http.StatusNotModified {
		t.Errorf("unfiltered = %d, want 304", w.Code)
	}
	if n := renders.of(variant{}); n != 1 {
		t.Errorf("the unfiltered body was rendered %d times, want once", n)
	}
	if n, _ := f.handler.cache.len(); n > maxRendered {
		t.Errorf("%d bodies cached, want at most %d", n, maxRendered)
	}
}

// listCounter lists entities without resourceVersions, so that no body is cached and
// every request that does not share a render makes one, and counts its lists.
type listCounter struct {
	client.Reader
	items []catalogv1alpha1.CatalogEntity
	lists atomic.Int32
}

func (l *listCounter) List(_ context.Context, list client.ObjectList, _ ...client.ListOption) error {
	l.lists.Add(1)
	list.(*catalogv1alpha1.CatalogEntityList).Items = l.items
	return nil
}

// holdRenders makes h's renders wait until release is called; entered receives the
// variant of each as it starts.
func holdRenders(h *Handler) (entered <-chan variant, release func()) {
	in, gate := make(chan variant, 100), make(chan struct{})
	h.onRender = func(v variant) {
		in <- v
		<-gate
	}
	var once sync.Once
	return in, func() { once.Do(func() { close(gate) }) }
}

// get sends a GET for target to h in the background and returns where its response
// will come.
func get(h *Handler, target string) <-chan *httptest.ResponseRecorder {
	done := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
		done <- w
	}()
	return done
}

func TestHandlerSharesIdenticalRenders(t *testing.T) {
	reader := &listCounter{items: []catalogv1alpha1.CatalogEntity{newEntity("payments"), newEntity("cart")}}
	h := &Handler{Reader: reader, Options: catalog.Options{DefaultOwner: "group:default/platform-team"}, Log: logr.Discard()}
	entered, release := holdRenders(h)
	defer release()

	const n = 8
	var responses []<-chan *httptest.ResponseRecorder
	responses = append(responses, get(h, "/?kind=component"))
	started(t, entered)
	for range n - 1 {
		responses = append(responses, get(h, "/?kind=Component"))
	}
	waitFor(t, func() bool { return reader.lists.Load() == n })
	time.Sleep(50 * time.Millisecond) // from its list to joining the render, a request does no I/O
	release()
	var etag string
	for i, r := range responses {
		w := <-r
		if w.Code != http.StatusOK {
			t.Fatalf("request %d: %d %s", i, w.Code, w.Body)
		}
		if i == 0 {
			etag = w.Header().Get("ETag")
		} else if w.Header().Get("ETag") != etag {
			t.Errorf("request %d got another body", i)
		}
	}
	select {
	case v := <-entered:
		t.Errorf("a second render, of %q, for %d identical requests at once", v.key(), n)
	default:
	}
}

func TestHandlerBoundsConcurrentRenders(t *testing.T) {
	f := newFixture(t, fleet()...)
	f.handler.MaxRenders = 2
	entered, release := holdRenders(f.handler)
	defer release()
	refusedBefore := valueOf(t, metrics.CatalogRendersRefused)

	first, second := get(f.handler, "/?kind=component"), get(f.handler, "/?kind=resource")
	started(t, entered)
	started(t, entered)
	if got := valueOf(t, metrics.CatalogRendersInFlight); got != 2 {
		t.Errorf("renders in flight = %v, want 2", got)
	}

	// A third filtered body is refused at once, with a Retry-After...
	var w *httptest.ResponseRecorder
	select {
	case w = <-get(f.handler, "/?kind=system"):
	case v := <-entered:
		t.Fatalf("a third filtered render, of %q, started beyond the bound", v.key())
	case <-time.After(5 * time.Second):
		t.Fatal("a third filtered request was not answered")
	}
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != strconv.Itoa(busyRetryAfter) {
		t.Errorf("a third filtered render: %d, Retry-After %q; want 503 and %d", w.Code, w.Header().Get("Retry-After"), busyRetryAfter)
	}
	if got := valueOf(t, metrics.CatalogRendersRefused) - refusedBefore; got != 1 {
		t.Errorf("refused renders counted %v, want 1", got)
	}
	// ...but one that is already rendering is shared, not refused, and Backstage's
	// unfiltered body always renders.
	joined := get(f.handler, "/?kind=COMPONENT")
	unfiltered := get(f.handler, "/")
	if v := started(t, entered); !v.filter.empty() {
		t.Errorf("a render of %q started, want the unfiltered one", v.key())
	}
	release()
	for name, r := range map[string]<-chan *httptest.ResponseRecorder{
		"first": first, "second": second, "joined": joined, "unfiltered": unfiltered,
	} {
		if w := <-r; w.Code != http.StatusOK {
			t.Errorf("%s: %d %s", name, w.Code, w.Body)
		}
	}
	if got := valueOf(t, metrics.CatalogRendersInFlight); got != 0 {
		t.Errorf("renders in flight = %v once all ended, want 0", got)
	}
	if w := f.do(http.MethodGet, "/?kind=system"); w.Code != http.StatusOK {
		t.Errorf("the refused body, asked again once renders ended: %d", w.Code)
	}
}

// started waits for a held render to start and returns its variant.
func started(t *testing.T, entered <-chan variant) variant {
	t.Helper()
	select {
	case v := <-entered:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("no render started")
		return variant{}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}

// valueOf reads a gauge's or a counter's value.
func valueOf(t *testing.T, c prometheus.Metric) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	if m.Counter != nil {
		return m.GetCounter().GetValue()
	}
	return m.GetGauge().GetValue()
}

// fakeInformer hands its event handler to the test.
type fakeInformer struct {
	handler toolscache.ResourceEventHandler
}

func (i *fakeInformer) AddEventHandler(h toolscache.ResourceEventHandler) (toolscache.ResourceEventHandlerRegistration, error) {
	i.handler = h
	return nil, nil
}

// countingReader counts the lists of the Reader it wraps.
type countingReader struct {
	client.Reader
	lists atomic.Int32
}

func (r *countingReader) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	r.lists.Add(1)
	return r.Reader.List(ctx, list, opts...)
}

// TestHandlerFollowsChanges: following the informer, a request for a body already
// rendered of the current entities lists nothing; an event makes the next one list and
// render again.
func TestHandlerFollowsChanges(t *testing.T) {
	f := newFixture(t, fleet()...)
	reader := &countingReader{Reader: f.client}
	f.handler.Reader = reader
	inf := &fakeInformer{}
	if err := f.handler.Follow(inf); err != nil {
		t.Fatal(err)
	}
	renders := countRenders(f.handler)
	etag := f.do(http.MethodGet, "/").Header().Get("ETag")
	for range 5 {
		if w := f.do(http.MethodGet, "/", "If-None-Match", etag); w.Code != http.StatusNotModified {
			t.Fatalf("%d, want 304", w.Code)
		}
	}
	if n := reader.lists.Load(); n != 1 || renders.total() != 1 {
		t.Errorf("%d lists and %d renders for six requests of unchanged entities, want 1 and 1", n, renders.total())
	}

	var e catalogv1alpha1.CatalogEntity
	ctx := context.Background()
	if err := f.client.Get(ctx, client.ObjectKey{Namespace: "entityhub-system", Name: "payments"}, &e); err != nil {
		t.Fatal(err)
	}
	old := e.DeepCopy()
	e.Spec.Title = "Payments"
	if err := f.client.Update(ctx, &e); err != nil {
		t.Fatal(err)
	}
	inf.handler.OnUpdate(old, &e)
	w := f.do(http.MethodGet, "/", "If-None-Match", etag)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "title: Payments") {
		t.Errorf("after a change: %d, want 200 with the new title:\n%s", w.Code, w.Body)
	}
	if n := reader.lists.Load(); n != 2 {
		t.Errorf("%d lists after a change, want 2", n)
	}
}
