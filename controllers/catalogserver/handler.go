package catalogserver

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/catalog"
	"github.com/entityhub/entityhub/controllers/metrics"
)

// Content types of the two bodies.
const (
	ContentTypeYAML = "application/yaml"
	ContentTypeJSON = "application/json"
)

// Bounds on what the Handler remembers, so that requests with made-up query strings or
// Host headers cannot make it grow without end. A body is about 600 bytes per entity,
// so 6 MB for 10,000 entities; a polling Backstage needs one or two variants.
const (
	maxRendered      = 8
	maxRenderedBytes = 32 << 20
	maxReported      = 10000
)

// Handler serves every CatalogEntity the Reader lists, in all namespaces, as Backstage
// descriptors (see catalog.Build) on any path:
//
//   - GET and HEAD only; 405 with an Allow header otherwise.
//   - Multi-document YAML (application/yaml), the format a Backstage `url` location
//     reads; a JSON array (application/json) when the Accept header prefers
//     application/json.
//   - ?namespace=<Backstage namespace> and ?kind=<kind> (case-insensitive) narrow the
//     body; each may be repeated or hold a comma-separated list. Other parameters are
//     refused with 400, so that a typo does not silently serve everything.
//   - A strong ETag over the body and 304 Not Modified on a matching If-None-Match, so
//     that a polling Backstage downloads only what changed; Cache-Control: no-cache
//     makes caches revalidate every time.
//   - When Authorizer is set, a request it does not allow gets its 401 or 403.
//
// A failed list answers 503, never an empty 200: Backstage would take an empty body for
// "all entities are gone" and delete them. The body is rebuilt only when an entity
// changed (their resourceVersions tell), so a 304 costs one list from the cache. Each
// build sets metrics.CatalogInvalidEntities to the number of entities left out.
//
// Set the fields before the first request and do not change them afterwards.
type Handler struct {
	// Reader lists CatalogEntities; the manager's cache, so that a request costs no
	// API call.
	Reader client.Reader
	// Options of the conversion. When Options.LocationURL is empty, the location
	// annotations carry the URL of the request itself.
	Options catalog.Options
	// Authorizer, when not nil, decides who may read the catalog.
	Authorizer Authorizer
	// Log receives left-out entities and fixed fields, each once while it lasts.
	Log logr.Logger

	mu sync.Mutex
	// rendered holds the last body of each variant (format, filters, location).
	rendered map[string]*rendered
	// reported holds the problems already logged; a problem is logged again only after
	// it went away and came back.
	reported map[string]bool
}

// rendered is one variant's body for one state of the entities.
type rendered struct {
	fingerprint string
	body        []byte
	etag        string
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "only GET and HEAD are allowed", http.StatusMethodNotAllowed)
		return
	}
	if h.Authorizer != nil {
		status, err := h.Authorizer.Authorize(r)
		if status != http.StatusOK || err != nil {
			h.refuse(w, status, err)
			return
		}
	}
	f, err := parseFilter(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	asJSON := prefersJSON(r.Header.Values("Accept"))

	var list catalogv1alpha1.CatalogEntityList
	if err := h.Reader.List(r.Context(), &list, client.UnsafeDisableDeepCopy); err != nil {
		h.Log.Error(err, "Cannot list CatalogEntities for the Backstage catalog endpoint")
		w.Header().Set("Retry-After", "10")
		http.Error(w, "cannot list CatalogEntities; try again later", http.StatusServiceUnavailable)
		return
	}

	location := h.location(r)
	variant := strconv.FormatBool(asJSON) + "\x00" + f.key() + "\x00" + location
	fp, cacheable := fingerprint(list.Items)
	out := h.lookup(variant, fp, cacheable)
	if out == nil {
		out, err = h.render(list.Items, f, asJSON, location)
		if err != nil {
			h.Log.Error(err, "Cannot encode the Backstage catalog")
			http.Error(w, "cannot encode the catalog", http.StatusInternalServerError)
			return
		}
		out.fingerprint = fp
		if cacheable {
			h.store(variant, out)
		}
	}

	hdr := w.Header()
	hdr.Set("ETag", out.etag)
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("Vary", "Accept")
	if etagMatches(r.Header.Values("If-None-Match"), out.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if asJSON {
		hdr.Set("Content-Type", ContentTypeJSON)
	} else {
		hdr.Set("Content-Type", ContentTypeYAML)
	}
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Length", strconv.Itoa(len(out.body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(out.body)
	}
}

// refuse answers a request the Authorizer did not allow.
func (h *Handler) refuse(w http.ResponseWriter, status int, err error) {
	if status == http.StatusOK || status < 400 || status > 599 {
		status = http.StatusInternalServerError // an Authorizer that allowed with an error, or said nothing useful
	}
	msg := http.StatusText(status)
	if err != nil {
		msg = err.Error()
	}
	switch {
	case status >= 500:
		h.Log.Error(err, "Cannot check a request to the Backstage catalog endpoint")
	default:
		h.Log.V(1).Info("Refused a request to the Backstage catalog endpoint", "status", status, "reason", msg)
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="entityhub"`)
	}
	http.Error(w, msg, status)
}

// render builds one variant's body; problems are counted and logged over all entities.
func (h *Handler) render(items []catalogv1alpha1.CatalogEntity, f filter, asJSON bool, location string) (*rendered, error) {
	o := h.Options
	o.LocationURL = location
	c := catalog.Build(items, o)
	metrics.CatalogInvalidEntities.Set(float64(len(c.LeftOut)))
	h.report(c)

	docs := c.Entities[:0:0]
	for _, d := range c.Entities {
		if f.matches(d) {
			docs = append(docs, d)
		}
	}
	var body []byte
	var err error
	if asJSON {
		body, err = catalog.EncodeJSON(docs)
	} else {
		body, err = catalog.EncodeYAML(docs)
	}
	if err != nil {
		return nil, err
	}
	return &rendered{body: body, etag: ETag(body)}, nil
}

// report logs each problem of c that was not there at the last build.
func (h *Handler) report(c catalog.Catalog) {
	current := make(map[string]bool, len(c.LeftOut)+len(c.Fixed))
	h.mu.Lock()
	defer h.mu.Unlock()
	log := func(errs []error, msg string) {
		for _, err := range errs {
			key := msg + "\x00" + err.Error()
			if len(current) < maxReported {
				current[key] = true
			}
			if h.reported[key] {
				continue
			}
			kv := []any{"reason", err.Error()}
			if p, ok := err.(*catalog.Problem); ok {
				kv = []any{"catalogEntity", p.Namespace + "/" + p.Name, "reason", p.Reason}
			}
			h.Log.Info(msg, kv...)
		}
	}
	log(c.LeftOut, "CatalogEntity left out of the Backstage catalog")
	log(c.Fixed, "Changed a Backstage descriptor to make it valid")
	h.reported = current
}

func (h *Handler) lookup(variant, fp string, cacheable bool) *rendered {
	if !cacheable {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if out, ok := h.rendered[variant]; ok && out.fingerprint == fp {
		return out
	}
	return nil
}

func (h *Handler) store(variant string, out *rendered) {
	h.mu.Lock()
	defer h.mu.Unlock()
	size := len(out.body)
	for v, r := range h.rendered {
		if v != variant {
			size += len(r.body)
		}
	}
	if h.rendered == nil || size > maxRenderedBytes || (len(h.rendered) >= maxRendered && h.rendered[variant] == nil) {
		// Start over rather than track ages: a full cache means unusual traffic, and
		// the next request of each variant simply renders again.
		h.rendered = map[string]*rendered{}
	}
	h.rendered[variant] = out
}

// location is the URL the request was made to, unless Options.LocationURL names it (a
// Service or Ingress URL that the request cannot tell; set it in production, so that the
// Host header a client sends does not make a variant of its own). The query is part of
// it: a filtered URL is its own Backstage location.
func (h *Handler) location(r *http.Request) string {
	if base := h.Options.LocationURL; base != "" {
		if r.URL.RawQuery != "" && !strings.Contains(base, "?") {
			return base + "?" + r.URL.RawQuery
		}
		return base
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.RequestURI()
}

// ETag is the strong entity tag of a body: the first 128 bits of its SHA-256, quoted.
func ETag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// fingerprint identifies the state of the listed entities by their identity and
// resourceVersion, in an order that does not depend on the list's. It is not usable
// when an entity has no resourceVersion.
func fingerprint(items []catalogv1alpha1.CatalogEntity) (string, bool) {
	keys := make([]string, 0, len(items))
	for i := range items {
		m := &items[i].ObjectMeta
		if m.ResourceVersion == "" {
			return "", false
		}
		keys = append(keys, m.Namespace+"\x00"+m.Name+"\x00"+string(m.UID)+"\x00"+m.ResourceVersion)
	}
	sort.Strings(keys)
	sum := sha256.New()
	for _, k := range keys {
		sum.Write([]byte(k))
		sum.Write([]byte{0xff})
	}
	return string(sum.Sum(nil)), true
}

// etagMatches reports whether an If-None-Match header matches etag, by the weak
// comparison RFC 9110 §13.1.2 prescribes for it: W/ prefixes are ignored, "*" matches
// any current representation.
func etagMatches(headers []string, etag string) bool {
	opaque := strings.TrimPrefix(etag, "W/")
	for _, h := range headers {
		for s := h; ; {
			s = strings.TrimLeft(s, " \t,")
			if s == "" {
				break
			}
			if s[0] == '*' {
				return true
			}
			s = strings.TrimPrefix(s, "W/")
			if s == "" || s[0] != '"' {
				break // malformed: ignore the rest of this header
			}
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				break
			}
			if s[:end+2] == opaque {
				return true
			}
			s = s[end+2:]
		}
	}
	return false
}

// prefersJSON reports whether the Accept headers rank application/json above every
// YAML type; wildcards express no preference, so */* gets the YAML default.
func prefersJSON(accept []string) bool {
	var qJSON, qYAML float64
	for _, h := range accept {
		for _, rng := range strings.Split(h, ",") {
			params := strings.Split(rng, ";")
			media := strings.ToLower(strings.TrimSpace(params[0]))
			q := 1.0
			for _, p := range params[1:] {
				k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(strings.TrimSpace(k), "q") {
					if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && f >= 0 && f <= 1 {
						q = f
					} else {
						q = 0
					}
				}
			}
			switch media {
			case ContentTypeJSON:
				qJSON = max(qJSON, q)
			case ContentTypeYAML, "application/x-yaml", "text/yaml", "text/x-yaml":
				qYAML = max(qYAML, q)
			}
		}
	}
	return qJSON > 0 && qJSON > qYAML
}

// filter is what the query string selects; empty sets select everything.
type filter struct {
	namespaces map[string]bool
	kinds      map[string]bool
}

func parseFilter(r *http.Request) (filter, error) {
	f := filter{namespaces: map[string]bool{}, kinds: map[string]bool{}}
	for key, values := range r.URL.Query() {
		for _, v := range values {
			for _, item := range strings.Split(v, ",") {
				item = strings.TrimSpace(item)
				if item == "" {
					continue
				}
				switch key {
				case "namespace":
					ns := strings.ToLower(item)
					if !catalog.IsNamespace(ns) {
						return f, &badRequest{"namespace " + strconv.Quote(item) + " is not a Backstage namespace"}
					}
					f.namespaces[ns] = true
				case "kind":
					k, ok := canonicalKind(item)
					if !ok {
						return f, &badRequest{"kind " + strconv.Quote(item) + " is not one of Component, Resource, System, API or Domain"}
					}
					f.kinds[k] = true
				default:
					return f, &badRequest{"unknown query parameter " + strconv.Quote(key) + ": use namespace or kind"}
				}
			}
		}
	}
	return f, nil
}

func (f filter) matches(d catalog.Entity) bool {
	return (len(f.namespaces) == 0 || f.namespaces[d.Metadata.Namespace]) &&
		(len(f.kinds) == 0 || f.kinds[d.Kind])
}

// key identifies the filter, whatever order the query named things in.
func (f filter) key() string {
	return strings.Join(sortedKeys(f.namespaces), ",") + "\x00" + strings.Join(sortedKeys(f.kinds), ",")
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func canonicalKind(s string) (string, bool) {
	for _, k := range []catalogv1alpha1.EntityKind{
		catalogv1alpha1.KindComponent, catalogv1alpha1.KindResource, catalogv1alpha1.KindSystem,
		catalogv1alpha1.KindAPI, catalogv1alpha1.KindDomain,
	} {
		if strings.EqualFold(s, string(k)) {
			return string(k), true
		}
	}
	return "", false
}

// badRequest is a query the handler refuses with 400; its message says what to fix.
type badRequest struct{ msg string }

// Error implements error.
func (e *badRequest) Error() string { return e.msg }
