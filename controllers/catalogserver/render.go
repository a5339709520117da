// This file renders bodies: which variant a request asks for, whether a body of it is
// cached for the entities' state, one render shared among the requests that want it, and
// a bound on how many run at once.

package catalogserver

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/catalog"
	"github.com/entityhub/entityhub/controllers/metrics"
)

// DefaultMaxRenders bounds the filtered bodies a Handler renders at once. A render of
// 10,000 entities keeps one core busy for seconds and holds tens of megabytes while it
// runs; the manager's Deployment has one core, and its memory limit (512 Mi, with
// GOMEMLIMIT) is shared with the informer caches. Two keep a second request from waiting
// behind a slow one; more only add memory. The unfiltered bodies render besides these.
const DefaultMaxRenders = 2

// busyRetryAfter is the Retry-After, in seconds, of a request refused because as many
// renders as allowed are running: about the time one takes at 10,000 entities.
const busyRetryAfter = 5

// errBusy refuses a render when as many as allowed are running.
var errBusy = errors.New("the catalog endpoint is rendering as many filtered bodies as it may at once; try again shortly")

// variant is what a request asks for, besides the state of the entities: everything
// that makes one body differ from another.
type variant struct {
	filter filter
	asJSON bool
}

// key identifies the variant in the cache and among renders in flight.
func (v variant) key() string {
	return strconv.FormatBool(v.asJSON) + "?" + v.filter.query()
}

// location is the URL the variant's descriptors are served at, for their location
// annotations: Options.LocationURL with the canonical query, or nothing (see Handler).
func (h *Handler) location(v variant) string {
	base := h.Options.LocationURL
	if q := v.filter.query(); base != "" && q != "" && !strings.Contains(base, "?") {
		return base + "?" + q
	}
	return base
}

// init makes the Handler's render slots and cache on its first request.
func (h *Handler) init() {
	h.initOnce.Do(func() {
		n := h.MaxRenders
		if n <= 0 {
			n = DefaultMaxRenders
		}
		h.slots = make(chan struct{}, n)
		h.cache = newBodyCache(maxRenderedBytes, maxRendered)
	})
}

// listTimeout bounds a list inside a render, which is not cut short when the request
// that started it goes away: others may share it.
const listTimeout = 30 * time.Second

// listError is a list of CatalogEntities that failed.
type listError struct{ err error }

// Error implements error.
func (e *listError) Error() string { return "listing CatalogEntities: " + e.err.Error() }

// EventSource is what Follow needs of an informer; controller-runtime's cache.Informer
// has it.
type EventSource interface {
	AddEventHandler(handler toolscache.ResourceEventHandler) (toolscache.ResourceEventHandlerRegistration, error)
}

// Follow makes h learn that CatalogEntities changed from events of src, the informer
// its Reader lists from, rather than from a list per request: a request for a body
// already rendered of the current entities then costs no list (a list of 10,000
// entities is megabytes, which many concurrent requests would each hold). Call it
// before the first request.
func (h *Handler) Follow(src EventSource) error {
	changed := func() { h.changes.Add(1) }
	if _, err := src.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { changed() },
		UpdateFunc: func(any, any) { changed() },
		DeleteFunc: func(any) { changed() },
	}); err != nil {
		return fmt.Errorf("following CatalogEntities for the catalog endpoint: %w", err)
	}
	h.following.Store(true)
	return nil
}

// state tells which state of the entities a request sees: the count of changes when h
// follows an informer — read before any list, so that a body rendered from a later list
// is at least as new as the state it is kept for — else the fingerprint of a list,
// returned too to render from. The state is "" when it cannot be told.
func (h *Handler) state(ctx context.Context) (string, []catalogv1alpha1.CatalogEntity, error) {
	if h.following.Load() {
		return "changes:" + strconv.FormatUint(h.changes.Load(), 10), nil, nil
	}
	items, err := h.list(ctx)
	if err != nil {
		return "", nil, err
	}
	fp, _ := fingerprint(items)
	return fp, items, nil
}

// list lists every CatalogEntity, without copies: the descriptors are built from them
// and nothing is changed.
func (h *Handler) list(ctx context.Context) ([]catalogv1alpha1.CatalogEntity, error) {
	var list catalogv1alpha1.CatalogEntityList
	if err := h.Reader.List(ctx, &list, client.UnsafeDisableDeepCopy); err != nil {
		return nil, &listError{err}
	}
	return list.Items, nil
}

// body returns the body of v: the cached one when the entities have not changed since
// it was rendered, else a render — shared with the concurrent requests for v, and
// refused with errBusy when v is filtered and the render slots are taken. When h
// follows an informer, the list a render needs is made inside it, within those bounds.
func (h *Handler) body(ctx context.Context, v variant) (*rendered, error) {
	h.init()
	key := v.key()
	state, items, err := h.state(ctx)
	if err != nil {
		return nil, err
	}
	if state != "" {
		if out := h.cache.get(key, state); out != nil {
			return out, nil
		}
	}
	// Requests that join a render in flight get the body of the entities as the first
	// of them saw them: at most one render old, as if they had come a moment sooner.
	out, err, _ := h.flights.Do(key, func() (any, error) {
		if !v.filter.empty() {
			select {
			case h.slots <- struct{}{}:
				defer func() { <-h.slots }()
			default:
				return nil, errBusy
			}
		}
		metrics.CatalogRendersInFlight.Inc()
		defer metrics.CatalogRendersInFlight.Dec()
		listed := items
		if listed == nil {
			lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), listTimeout)
			defer cancel()
			var err error
			if listed, err = h.list(lctx); err != nil {
				return nil, err
			}
		}
		out, err := h.render(listed, v)
		if err != nil {
			return nil, err
		}
		out.state = state
		if state != "" {
			h.cache.put(key, v.filter.empty(), out)
		}
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	return out.(*rendered), nil
}

// render builds one variant's body; problems are counted and logged over all entities.
func (h *Handler) render(items []catalogv1alpha1.CatalogEntity, v variant) (*rendered, error) {
	if h.onRender != nil {
		h.onRender(v)
	}
	o := h.Options
	o.LocationURL = h.location(v)
	c := catalog.Build(items, o)
	metrics.CatalogInvalidEntities.Set(float64(len(c.LeftOut)))
	h.report(c)

	docs := c.Entities[:0:0]
	for _, d := range c.Entities {
		if v.filter.matches(d) {
			docs = append(docs, d)
		}
	}
	var body []byte
	var err error
	if v.asJSON {
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

// fingerprint identifies the state of the listed entities by their identity and
// resourceVersion, in an order that does not depend on the list's. It is not usable
// (false, and "") when an entity has no resourceVersion.
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
