package catalogserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/yaml"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/catalog"
	"github.com/entityhub/entityhub/controllers/metrics"
)

// The handler tests use controller-runtime's fake client only as a source of a list for
// HTTP unit tests; the endpoint against a real API server is in the end-to-end suite.

func testScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := catalogv1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// newEntity is a CatalogEntity in Kubernetes namespace entityhub-system, changed by fns.
func newEntity(name string, fns ...func(*catalogv1alpha1.CatalogEntity)) catalogv1alpha1.CatalogEntity {
	e := catalogv1alpha1.CatalogEntity{ObjectMeta: metav1.ObjectMeta{Namespace: "entityhub-system", Name: name}}
	for _, fn := range fns {
		fn(&e)
	}
	return e
}

// fleet is a few entities of every kind, in two Backstage namespaces, and one that
// cannot be made valid.
func fleet() []client.Object {
	objs := []client.Object{}
	add := func(e catalogv1alpha1.CatalogEntity) { objs = append(objs, &e) }
	add(newEntity("payments", func(e *catalogv1alpha1.CatalogEntity) {
		e.Spec.Owner = "group:default/payments"
		e.Status.Relations = []string{"resource:default/payments-db"}
	}))
	add(newEntity("payments-db", func(e *catalogv1alpha1.CatalogEntity) { e.Spec.Kind = "Resource" }))
	add(newEntity("shop", func(e *catalogv1alpha1.CatalogEntity) { e.Spec.Kind = "System"; e.Spec.CatalogNamespace = "shop" }))
	add(newEntity("cart", func(e *catalogv1alpha1.CatalogEntity) { e.Spec.CatalogNamespace = "shop" }))
	add(newEntity("commerce", func(e *catalogv1alpha1.CatalogEntity) { e.Spec.Kind = "Domain" }))
	add(newEntity("cart-api", func(e *catalogv1alpha1.CatalogEntity) {
		e.Spec.Kind = "API"
		e.Spec.CatalogNamespace = "shop"
		e.Annotations = map[string]string{catalog.AnnotationAPIDefinitionURL: "https://git.example.com/cart.yaml"}
	}))
	add(newEntity("undefined-api", func(e *catalogv1alpha1.CatalogEntity) { e.Spec.Kind = "API" })) // left out
	return objs
}

// logCounter counts log lines by message.
type logCounter struct {
	mu    sync.Mutex
	lines []string
}

func (l *logCounter) logger() logr.Logger {
	return funcr.New(func(_, args string) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.lines = append(l.lines, args)
	}, funcr.Options{Verbosity: 1})
}

func (l *logCounter) count(substr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if strings.Contains(line, substr) {
			n++
		}
	}
	return n
}

type fixture struct {
	t       *testing.T
	client  client.WithWatch
	handler *Handler
	logs    *logCounter
}

func newFixture(t *testing.T, objs ...client.Object) *fixture {
	t.Helper()
	c := fake.NewClientBuilder().WithScheme(testScheme(t)).WithObjects(objs...).Build()
	logs := &logCounter{}
	return &fixture{t: t, client: c, logs: logs, handler: &Handler{
		Reader:  c,
		Options: catalog.Options{DefaultOwner: "group:default/platform-team"},
		Log:     logs.logger(),
	}}
}

// do sends a request to the handler; headers are name, value pairs.
func (f *fixture) do(method, target string, headers ...string) *httptest.ResponseRecorder {
	f.t.Helper()
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	f.handler.ServeHTTP(w, r)
	return w
}

// names returns "<kind>:<namespace>/<name>" of every document of a YAML body, read the
// way a YAML parser splits a multi-document stream.
func names(t *testing.T, body []byte) []string {
	t.Helper()
	var refs []string
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(body)))
	for {
		doc, err := r.Read()
		if err == io.EOF {
			return refs
		}
		if err != nil {
			t.Fatalf("reading the YAML stream: %v", err)
		}
		if len(bytes.TrimSpace(doc)) == 0 || string(bytes.TrimSpace(doc)) == "---" {
			continue
		}
		var e catalog.Entity
		if err := yaml.UnmarshalStrict(doc, &e); err != nil {
			t.Fatalf("%v\n%s", err, doc)
		}
		if err := catalog.Validate(e); err != nil {
			t.Errorf("served an invalid descriptor: %v", err)
		}
		refs = append(refs, catalog.Ref(e))
	}
}

var etagPattern = regexp.MustCompile(`^"[0-9a-f]{32}"$`)

func TestHandlerServesYAML(t *testing.T) {
	f := newFixture(t, fleet()...)
	w := f.do(http.MethodGet, "http://entityhub.example.com:8082/catalog")
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d: %s", w.Code, w.Body)
	}
	h := w.Header()
	for k, want := range map[string]string{
		"Content-Type": "application/yaml", "Cache-Control": "no-cache", "Vary": "Accept",
		"Content-Length": fmt.Sprint(w.Body.Len()), "X-Content-Type-Options": "nosniff",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if !etagPattern.MatchString(h.Get("ETag")) {
		t.Errorf("ETag = %q, want a strong quoted hex tag", h.Get("ETag"))
	}
	want := []string{
		"component:default/payments", "domain:default/commerce", "resource:default/payments-db",
		"api:shop/cart-api", "component:shop/cart", "system:shop/shop",
	}
	if got := names(t, w.Body.Bytes()); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("served %v, want %v", got, want)
	}
	// Without Options.LocationURL there are no location annotations: nothing of the
	// request's URL or Host header goes into the body.
	if strings.Contains(w.Body.String(), "managed-by") || strings.Contains(w.Body.String(), "entityhub.example.com") {
		t.Errorf("the body has location annotations taken from the request:\n%s", w.Body)
	}
	if !strings.Contains(w.Body.String(), "  - resource:default/payments-db\n") {
		t.Errorf("status.relations are not in dependsOn:\n%s", w.Body)
	}
}

func TestHandlerServesJSON(t *testing.T) {
	f := newFixture(t, fleet()...)
	for accept, wantJSON := range map[string]bool{
		"application/json":                         true,
		"application/json, */*;q=0.1":              true,
		"text/html, application/json;q=0.9":        true,
		"application/yaml, application/json;q=0.5": false,
		"application/json;q=0":                     false,
		"*/*":                                      false,
		"":                                         false,
		"application/x-yaml, application/json":     false, // equal preference: the default
	} {
		w := f.do(http.MethodGet, "/", "Accept", accept)
		wantType := "application/yaml"
		if wantJSON {
			wantType = "application/json"
		}
		if got := w.Header().Get("Content-Type"); got != wantType {
			t.Errorf("Accept %q: Content-Type = %q, want %q", accept, got, wantType)
		}
		if wantJSON {
			var docs []catalog.Entity
			if err := json.Unmarshal(w.Body.Bytes(), &docs); err != nil || len(docs) != 6 {
				t.Errorf("Accept %q: %d entities, %v", accept, len(docs), err)
			}
		}
	}
	yamlTag := f.do(http.MethodGet, "/").Header().Get("ETag")
	jsonTag := f.do(http.MethodGet, "/", "Accept", "application/json").Header().Get("ETag")
	if yamlTag == jsonTag {
		t.Error("the YAML and JSON bodies have the same ETag")
	}
}

func TestHandlerETag(t *testing.T) {
	f := newFixture(t, fleet()...)
	first := f.do(http.MethodGet, "/")
	etag := first.Header().Get("ETag")
	if again := f.do(http.MethodGet, "/"); again.Header().Get("ETag") != etag || again.Body.String() != first.Body.String() {
		t.Fatal("a second GET gave another ETag or body")
	}

	// A status change that the descriptor does not show keeps the ETag: Backstage has
	// nothing to read again.
	var e catalogv1alpha1.CatalogEntity
	ctx := context.Background()
	if err := f.client.Get(ctx, client.ObjectKey{Namespace: "entityhub-system", Name: "payments"}, &e); err != nil {
		t.Fatal(err)
	}
	e.Status.Health = catalogv1alpha1.HealthDegraded
	if err := f.client.Update(ctx, &e); err != nil {
		t.Fatal(err)
	}
	if got := f.do(http.MethodGet, "/").Header().Get("ETag"); got != etag {
		t.Errorf("ETag changed from %s to %s with health only", etag, got)
	}

	// A change Backstage shows changes it.
	e.Spec.Title = "Payments"
	if err := f.client.Update(ctx, &e); err != nil {
		t.Fatal(err)
	}
	changed := f.do(http.MethodGet, "/")
	if changed.Header().Get("ETag") == etag {
		t.Error("ETag did not change with the title")
	}
	if !strings.Contains(changed.Body.String(), "title: Payments") {
		t.Errorf("the body does not show the new title:\n%s", changed.Body)
	}

	// So do a new relation and a deleted entity.
	etag = changed.Header().Get("ETag")
	e.Status.Relations = append(e.Status.Relations, "component:default/auth")
	if err := f.client.Update(ctx, &e); err != nil {
		t.Fatal(err)
	}
	if got := f.do(http.MethodGet, "/").Header().Get("ETag"); got == etag {
		t.Error("ETag did not change with a new relation")
	}
	etag = f.do(http.MethodGet, "/").Header().Get("ETag")
	if err := f.client.Delete(ctx, &e); err != nil {
		t.Fatal(err)
	}
	if got := f.do(http.MethodGet, "/").Header().Get("ETag"); got == etag {
		t.Error("ETag did not change when an entity was deleted")
	}
}

func TestHandlerNotModified(t *testing.T) {
	f := newFixture(t, fleet()...)
	etag := f.do(http.MethodGet, "/").Header().Get("ETag")
	opaque := strings.Trim(etag, `"`)
	tests := map[string]struct {
		header []string
		want   int
	}{
		"exact":                          {[]string{etag}, http.StatusNotModified},
		"in a list":                      {[]string{`"other", ` + etag + `, "more"`}, http.StatusNotModified},
		"in a list without spaces":       {[]string{`"other",` + etag}, http.StatusNotModified},
		"weak":                           {[]string{"W/" + etag}, http.StatusNotModified},
		"star":                           {[]string{"*"}, http.StatusNotModified},
		"in a second header":             {[]string{`"other"`, etag}, http.StatusNotModified},
		"another tag":                    {[]string{`"0123"`}, http.StatusOK},
		"unquoted is malformed":          {[]string{opaque}, http.StatusOK},
		"a prefix of the tag":            {[]string{`"` + opaque[:8] + `"`}, http.StatusOK},
		"malformed then a matching tag":  {[]string{`garbage, ` + etag}, http.StatusOK},
		"comma inside another tag first": {[]string{`"a,b", ` + etag}, http.StatusNotModified},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			var h []string
			for _, v := range tt.header {
				h = append(h, "If-None-Match", v)
			}
			w := f.do(http.MethodGet, "/", h...)
			if w.Code != tt.want {
				t.Fatalf("status = %d, want %d", w.Code, tt.want)
			}
			if w.Header().Get("ETag") != etag {
				t.Errorf("ETag = %q, want %q", w.Header().Get("ETag"), etag)
			}
			if tt.want == http.StatusNotModified {
				if w.Body.Len() != 0 || w.Header().Get("Content-Type") != "" {
					t.Errorf("304 with a body (%d bytes) or Content-Type %q", w.Body.Len(), w.Header().Get("Content-Type"))
				}
				if w.Header().Get("Cache-Control") != "no-cache" {
					t.Error("304 without Cache-Control")
				}
			}
		})
	}
	// HEAD honours it too.
	if w := f.do(http.MethodHead, "/", "If-None-Match", etag); w.Code != http.StatusNotModified {
		t.Errorf("HEAD with a matching If-None-Match: %d", w.Code)
	}
}

func TestHandlerMethods(t *testing.T) {
	f := newFixture(t, fleet()...)
	get := f.do(http.MethodGet, "/")
	head := f.do(http.MethodHead, "/")
	if head.Code != http.StatusOK || head.Body.Len() != 0 {
		t.Errorf("HEAD = %d with %d bytes, want 200 without a body", head.Code, head.Body.Len())
	}
	for _, k := range []string{"ETag", "Content-Length", "Content-Type"} {
		if head.Header().Get(k) != get.Header().Get(k) {
			t.Errorf("HEAD %s = %q, GET has %q", k, head.Header().Get(k), get.Header().Get(k))
		}
	}
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
		w := f.do(m, "/")
		if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s = %d, Allow %q; want 405, GET, HEAD", m, w.Code, w.Header().Get("Allow"))
		}
	}
}

func TestHandlerFilters(t *testing.T) {
	f := newFixture(t, fleet()...)
	tests := map[string][]string{
		"/?namespace=shop":                    {"api:shop/cart-api", "component:shop/cart", "system:shop/shop"},
		"/?namespace=SHOP":                    {"api:shop/cart-api", "component:shop/cart", "system:shop/shop"},
		"/?kind=component":                    {"component:default/payments", "component:shop/cart"},
		"/?kind=Component&kind=API":           {"component:default/payments", "api:shop/cart-api", "component:shop/cart"},
		"/?kind=resource,domain":              {"domain:default/commerce", "resource:default/payments-db"},
		"/?kind=component&namespace=default":  {"component:default/payments"},
		"/?namespace=default&namespace=shop&": {"component:default/payments", "domain:default/commerce", "resource:default/payments-db", "api:shop/cart-api", "component:shop/cart", "system:shop/shop"},
		"/?namespace=nowhere":                 nil,
		"/?kind=":                             {"component:default/payments", "domain:default/commerce", "resource:default/payments-db", "api:shop/cart-api", "component:shop/cart", "system:shop/shop"},
	}
	for target, want := range tests {
		w := f.do(http.MethodGet, target)
		if w.Code != http.StatusOK {
			t.Errorf("%s: status %d: %s", target, w.Code, w.Body)
			continue
		}
		if got := names(t, w.Body.Bytes()); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s served %v, want %v", target, got, want)
		}
	}
	for target, want := range map[string]string{
		"/?kind=Template":     `kind "Template" is not one of`,
		"/?namespace=a_b":     `namespace "a_b" is not a Backstage namespace`,
		"/?kinds=Component":   `unknown query parameter "kinds"`,
		"/?kind=component,x1": `kind "x1"`,
	} {
		w := f.do(http.MethodGet, target)
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), want) {
			t.Errorf("%s = %d %q, want 400 with %q", target, w.Code, w.Body, want)
		}
	}
	// Filters change the body, so the ETag.
	filtered := f.do(http.MethodGet, "/?kind=component,api").Header().Get("ETag")
	if all := f.do(http.MethodGet, "/").Header().Get("ETag"); filtered == all {
		t.Error("a filtered body has the ETag of the whole catalog")
	}
}

func TestHandlerLocation(t *testing.T) {
	f := newFixture(t, fleet()...)
	f.handler.Options.LocationURL = "https://entityhub.example.com/catalog"
	for target, want := range map[string]string{
		"http://10.0.0.1:8082/?namespace=shop":                         "url:https://entityhub.example.com/catalog?namespace=shop\n",
		"http://evil.example.net/?namespace=SHOP&kind=api,%63omponent": "url:https://entityhub.example.com/catalog?kind=API&kind=Component&namespace=shop\n",
		"http://evil.example.net/?kind=":                               "url:https://entityhub.example.com/catalog\n",
	} {
		w := f.do(http.MethodGet, target)
		if !strings.Contains(w.Body.String(), "backstage.io/managed-by-origin-location: "+want) {
			t.Errorf("%s: the location annotation is not Options.LocationURL and the canonical query %q:\n%s", target, want, w.Body)
		}
	}
}

func TestHandlerLeftOutCountedAndLoggedOnce(t *testing.T) {
	f := newFixture(t, fleet()...)
	metrics.CatalogInvalidEntities.Set(0)
	for range 3 {
		f.do(http.MethodGet, "/")
		f.do(http.MethodGet, "/?kind=component") // filters do not change the count
	}
	if got := valueOf(t, metrics.CatalogInvalidEntities); got != 1 {
		t.Errorf("%s = %v, want 1", "entityhub_catalog_invalid_entities", got)
	}
	const msg = "CatalogEntity left out of the Backstage catalog"
	if n := f.logs.count(msg); n != 1 {
		t.Errorf("logged %q %d times, want once:\n%s", msg, n, strings.Join(f.logs.lines, "\n"))
	}
	if n := f.logs.count("entityhub-system/undefined-api"); n != 1 {
		t.Errorf("the log does not name the entity once: %q", f.logs.lines)
	}

	// Fixed, it is served and the gauge drops; broken again, it is logged again.
	ctx := context.Background()
	var e catalogv1alpha1.CatalogEntity
	if err := f.client.Get(ctx, client.ObjectKey{Namespace: "entityhub-system", Name: "undefined-api"}, &e); err != nil {
		t.Fatal(err)
	}
	e.Annotations = map[string]string{catalog.AnnotationAPIDefinitionURL: "https://git.example.com/api.yaml"}
	if err := f.client.Update(ctx, &e); err != nil {
		t.Fatal(err)
	}
	if w := f.do(http.MethodGet, "/?kind=api"); !strings.Contains(w.Body.String(), "name: undefined-api") {
		t.Errorf("the fixed entity is not served:\n%s", w.Body)
	}
	if got := valueOf(t, metrics.CatalogInvalidEntities); got != 0 {
		t.Errorf("gauge = %v after the fix, want 0", got)
	}
	e.Annotations = nil
	if err := f.client.Update(ctx, &e); err != nil {
		t.Fatal(err)
	}
	f.do(http.MethodGet, "/")
	if n := f.logs.count(msg); n != 2 {
		t.Errorf("logged %d times after it broke again, want 2", n)
	}
}

func TestHandlerListError(t *testing.T) {
	c := interceptor.NewClient(fake.NewClientBuilder().WithScheme(testScheme(t)).Build(), interceptor.Funcs{
		List: func(context.Context, client.WithWatch, client.ObjectList, ...client.ListOption) error {
			return errors.New("cache not synced")
		},
	})
	h := &Handler{Reader: c, Log: logr.Discard()}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Errorf("status = %d, Retry-After %q; want 503 and a Retry-After — never an empty 200", w.Code, w.Header().Get("Retry-After"))
	}
}

func TestHandlerEmptyCatalog(t *testing.T) {
	f := newFixture(t)
	w := f.do(http.MethodGet, "/")
	if w.Code != http.StatusOK || w.Body.Len() != 0 || !etagPattern.MatchString(w.Header().Get("ETag")) {
		t.Errorf("empty catalog: %d, %q, ETag %q", w.Code, w.Body, w.Header().Get("ETag"))
	}
	if w := f.do(http.MethodGet, "/", "Accept", "application/json"); w.Body.String() != "[]\n" {
		t.Errorf("empty JSON catalog = %q", w.Body)
	}
}

// fakeAuthorizer answers every request the same.
type fakeAuthorizer struct {
	status int
	err    error
	calls  int
}

func (a *fakeAuthorizer) Authorize(*http.Request) (int, error) {
	a.calls++
	return a.status, a.err
}

func TestHandlerAuthorizer(t *testing.T) {
	tests := map[string]struct {
		auth       fakeAuthorizer
		wantStatus int
		wantBody   string
	}{
		"allowed":                              {fakeAuthorizer{status: http.StatusOK}, http.StatusOK, "kind: Component"},
		"unauthenticated":                      {fakeAuthorizer{status: http.StatusUnauthorized, err: errors.New("the bearer token is not valid")}, http.StatusUnauthorized, "the bearer token is not valid"},
		"forbidden":                            {fakeAuthorizer{status: http.StatusForbidden, err: errors.New("x may not list")}, http.StatusForbidden, "x may not list"},
		"review failed":                        {fakeAuthorizer{status: http.StatusInternalServerError, err: errors.New("cannot review")}, http.StatusInternalServerError, "cannot review"},
		"allowed with an error is not allowed": {fakeAuthorizer{status: http.StatusOK, err: errors.New("odd")}, http.StatusInternalServerError, "odd"},
		"no status":                            {fakeAuthorizer{}, http.StatusInternalServerError, ""},
		"too many to check":                    {fakeAuthorizer{status: http.StatusServiceUnavailable, err: errTooManyReviews}, http.StatusServiceUnavailable, "too many unknown tokens"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, fleet()...)
			auth := tt.auth
			f.handler.Authorizer = &auth
			w := f.do(http.MethodGet, "/")
			if w.Code != tt.wantStatus || !strings.Contains(w.Body.String(), tt.wantBody) {
				t.Errorf("= %d %q, want %d with %q", w.Code, w.Body, tt.wantStatus, tt.wantBody)
			}
			if tt.wantStatus != http.StatusOK && w.Header().Get("ETag") != "" {
				t.Error("a refused request got an ETag")
			}
			if got := w.Header().Get("WWW-Authenticate"); (tt.wantStatus == http.StatusUnauthorized) != (got != "") {
				t.Errorf("WWW-Authenticate = %q with status %d", got, w.Code)
			}
			if got := w.Header().Get("Retry-After"); (tt.wantStatus == http.StatusServiceUnavailable) != (got != "") {
				t.Errorf("Retry-After = %q with status %d", got, w.Code)
			}
			if auth.calls != 1 {
				t.Errorf("Authorize called %d times", auth.calls)
			}
		})
	}
	// A refused request learns nothing from If-None-Match either.
	f := newFixture(t, fleet()...)
	etag := f.do(http.MethodGet, "/").Header().Get("ETag")
	f.handler.Authorizer = &fakeAuthorizer{status: http.StatusUnauthorized}
	if w := f.do(http.MethodGet, "/", "If-None-Match", etag); w.Code != http.StatusUnauthorized {
		t.Errorf("unauthenticated conditional request = %d, want 401", w.Code)
	}
}
