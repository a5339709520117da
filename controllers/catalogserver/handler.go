package catalogserver

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/go-logr/logr"
	"golang.org/x/sync/singleflight"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/entityhub/entityhub/controllers/catalog"
	"github.com/entityhub/entityhub/controllers/metrics"
)

// Content types of the two bodies.
const (
	ContentTypeYAML = "application/yaml"
	ContentTypeJSON = "application/json"
)

// maxReported bounds the problems the Handler remembers having logged.
const maxReported = 10000

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
//   - When Authorizer is set, a request it does not allow gets its 401 or 403 (or 503
//     with Retry-After when it cannot check so many now).
//
// A failed list answers 503, never an empty 200: Backstage would take an empty body for
// "all entities are gone" and delete them. Each build sets
// metrics.CatalogInvalidEntities to the number of entities left out.
//
// Rendering 10,000 entities takes seconds and tens of megabytes, so what a request can
// make the Handler render is bounded (render.go):
//
//   - A variant is the format and the filter, canonical (kinds and namespaces
//     case-folded, percent-decoded, sorted, duplicates merged): ?kind=component,
//     ?kind=Component and ?kind=%43omponent are one variant. Nothing else of the
//     request — not its Host header, not the spelling of its query — is part of it.
//   - The body is rebuilt only when an entity changed: the informer the Reader lists
//     from tells (Follow), so a request for a body already rendered costs no list at
//     all; without one, the resourceVersions of a list per request tell. The last body
//     of each variant is kept, bounded in bytes and number, and the unfiltered ones are
//     never pushed out.
//   - Concurrent requests for one variant share one render. Filtered variants render at
//     most MaxRenders at a time; a request beyond that gets 503 with Retry-After. The
//     unfiltered variants (YAML and JSON: two renders at most) are never refused, so
//     made-up queries cannot keep Backstage's own request from being answered.
//
// Set the fields before the first request and do not change them afterwards.
type Handler struct {
	// Reader lists CatalogEntities; the manager's cache, so that a request costs no
	// API call.
	Reader client.Reader
	// Options of the conversion. Options.LocationURL is the URL Backstage reads the
	// endpoint at; the location annotations carry it with the variant's canonical
	// query. When it is empty they are left out, as `entityhub export` leaves them out
	// without --location-url: Backstage writes its own when it ingests a location, and
	// a URL taken from the request would let each made-up Host header make a body of its
	// own.
	Options catalog.Options
	// Authorizer, when not nil, decides who may read the catalog.
	Authorizer Authorizer
	// MaxRenders bounds the filtered bodies rendered at once; DefaultMaxRenders when
	// zero.
	MaxRenders int
	// Log receives left-out entities and fixed fields, each once while it lasts.
	Log logr.Logger

	initOnce sync.Once
	// slots holds a token per filtered render in flight.
	slots chan struct{}
	// flights shares one render among concurrent requests for one variant.
	flights singleflight.Group
	// cache holds the last body of each variant.
	cache *bodyCache
	// following is set once Follow has registered; changes counts the events since.
	following atomic.Bool
	changes   atomic.Uint64
	// onRender, when set, is called as each render starts: tests hold renders with it.
	onRender func(variant)

	mu sync.Mutex
	// reported holds the problems already logged; a problem is logged again only after
	// it went away and came back.
	reported map[string]bool
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
	v := variant{filter: f, asJSON: prefersJSON(r.Header.Values("Accept"))}

	out, err := h.body(r.Context(), v)
	var listErr *listError
	switch {
	case errors.As(err, &listErr):
		h.Log.Error(listErr.err, "Cannot list CatalogEntities for the Backstage catalog endpoint")
		w.Header().Set("Retry-After", "10")
		http.Error(w, "cannot list CatalogEntities; try again later", http.StatusServiceUnavailable)
		return
	case errors.Is(err, errBusy):
		metrics.CatalogRendersRefused.Inc()
		w.Header().Set("Retry-After", strconv.Itoa(busyRetryAfter))
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	case err != nil:
		h.Log.Error(err, "Cannot encode the Backstage catalog")
		http.Error(w, "cannot encode the catalog", http.StatusInternalServerError)
		return
	}

	hdr := w.Header()
	hdr.Set("ETag", out.etag)
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("Vary", "Accept")
	if etagMatches(r.Header.Values("If-None-Match"), out.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if v.asJSON {
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
	case status >= 500 && status != http.StatusServiceUnavailable:
		h.Log.Error(err, "Cannot check a request to the Backstage catalog endpoint")
	default:
		// Including 503, too many requests to check at once: an Error line per refused
		// request would make a flood of them a flood of logs too.
		h.Log.V(1).Info("Refused a request to the Backstage catalog endpoint", "status", status, "reason", msg)
	}
	switch status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="entityhub"`)
	case http.StatusServiceUnavailable, http.StatusTooManyRequests:
		w.Header().Set("Retry-After", "1")
	}
	http.Error(w, msg, status)
}

// ETag is the strong entity tag of a body: the first 128 bits of its SHA-256, quoted.
func ETag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
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
