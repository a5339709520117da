package cachetransform

import (
	"slices"
	"sync"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

// Entity returns the cache transform of CatalogEntities: New's, and then it keeps the
// entity's status in less memory without changing its value (see CompactEntity).
func Entity() func(obj any) (any, error) {
	strip := New(nil)
	return func(obj any) (any, error) {
		obj, err := strip(obj)
		if e, ok := obj.(*catalogv1alpha1.CatalogEntity); ok && e != nil {
			CompactEntity(e, shared)
		}
		return obj, err
	}
}

// CompactEntity makes e's status take less memory and leaves its value as it was. The
// manager caches every entity, each with a status entry per source, and a hub has
// thousands of entities with tens of sources each:
//   - the JSON decoder grows the list of sources by doubling, so a cached list may keep
//     as much again as its length in unused capacity; it gets a list of about its length;
//   - the words that recur in every entry — apiVersion, kind, namespace, cluster,
//     health, sync, phase, and the conditions' type, status and reason — are decoded as
//     a string each; they share one copy kept by words.
//
// It changes e in place, as a cache transform may, and running it twice changes nothing
// more.
func CompactEntity(e *catalogv1alpha1.CatalogEntity, words *Strings) {
	st := &e.Status
	st.Sources = fit(st.Sources)
	st.Conditions = fit(st.Conditions)
	st.Runs = fit(st.Runs)
	for i := range st.Sources {
		s := &st.Sources[i]
		s.APIVersion = intern(words, s.APIVersion)
		s.Kind = intern(words, s.Kind)
		s.Namespace = intern(words, s.Namespace)
		s.Cluster = intern(words, s.Cluster)
		s.Health = intern(words, s.Health)
		s.Sync = intern(words, s.Sync)
		s.Phase = intern(words, s.Phase)
	}
	for i := range st.Conditions {
		c := &st.Conditions[i]
		c.Type = intern(words, c.Type)
		c.Status = intern(words, c.Status)
		c.Reason = intern(words, c.Reason)
	}
}

// fit returns s, or a copy of it without spare capacity when it has much (a copy may
// still have some: allocations come in size classes).
func fit[S ~[]E, E any](s S) S {
	if cap(s)-len(s) <= len(s)/4 {
		return s
	}
	return slices.Clone(s)
}

// Strings keeps one copy of each short string it is given, up to a bound, so that the
// objects that hold it share it. A nil Strings keeps none.
type Strings struct {
	mu   sync.Mutex
	seen map[string]string
	max  int
}

// maxInternedLen and maxInterned bound what Strings keeps: the recurring words are
// short and few; a long or rare string is returned as it is.
const (
	maxInternedLen = 128
	maxInterned    = 8192
)

// shared is the Strings of the manager's cache.
var shared = NewStrings(maxInterned)

// NewStrings returns a Strings that keeps up to limit strings.
func NewStrings(limit int) *Strings {
	return &Strings{seen: map[string]string{}, max: limit}
}

// Intern returns the copy of s that t keeps, keeping s when t has none and room for it.
func (t *Strings) Intern(s string) string {
	if t == nil || s == "" || len(s) > maxInternedLen {
		return s
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if v, ok := t.seen[s]; ok {
		return v
	}
	if len(t.seen) < t.max {
		t.seen[s] = s
	}
	return s
}

// intern is Intern for the API's string types.
func intern[S ~string](t *Strings, s S) S { return S(t.Intern(string(s))) }
