package watches

import (
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/entityhub/entityhub/controllers/metrics"
	"github.com/entityhub/entityhub/controllers/sources"
)

// Kinds returns the watched kinds, sorted, for reading sources.
func (m *Manager) Kinds() []sources.Kind {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]sources.Kind, 0, len(m.watches))
	for _, w := range m.watches {
		out = append(out, w.kind)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GVK.String() < out[j].GVK.String() })
	return out
}

// KindFor returns the watched kind of group and kind at whatever version it is watched.
func (m *Manager) KindFor(gk schema.GroupKind) (sources.Kind, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if w, ok := m.byGK[gk]; ok {
		return w.kind, true
	}
	return sources.Kind{}, false
}

// State is whether a watched kind can be read now.
type State int

// The states of a watched kind.
const (
	// Syncing: the informer is still listing, within syncTimeout; reading it now would
	// see part of it.
	Syncing State = iota
	// Synced: the cache holds every object of the kind, and its watch works.
	Synced
	// Unavailable: its first list is late, or its watch has failed for a while (RBAC
	// revoked, CRD storage broken); the cache holds what was last known, if anything.
	// It becomes Synced by itself when the list or the watch works again.
	Unavailable
)

// StateOf returns the state of a watched kind and, unless Synced, why, as a sentence
// for status messages; ok is false when the kind is not watched.
func (m *Manager) StateOf(gvk schema.GroupVersionKind) (state State, why string, ok bool) {
	m.mu.RLock()
	w, ok := m.watches[gvk]
	m.mu.RUnlock()
	if !ok {
		return Syncing, "", false
	}
	state, why = w.state()
	return state, why, true
}

// Started is closed once the watches are primed (see Prime) and every kind watched from
// the start has been listed, or has taken longer than syncTimeout: from then on an
// entity's status can be computed without showing as gone what is only not listed yet.
// Kinds that come later are read as their objects arrive, each of which is an event.
func (m *Manager) Started() <-chan struct{} { return m.started }

// Delivered reports whether, past Started, the controllers the watches feed have been
// handed every object of the first lists of the kinds watched from the start: a list
// is in the store before each handler has seen all of it, and what a handler learns of
// the objects (the entities they name) is not known before. A kind whose first list
// came late counts as delivered: its objects come as they come.
func (m *Manager) Delivered() bool {
	select {
	case <-m.started:
	default:
		return false
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, w := range m.watches {
		if !w.atStart {
			continue
		}
		w.read.mu.Lock()
		listed := w.read.listed
		w.read.mu.Unlock()
		if !listed {
			continue
		}
		// Every kind feeds the entity controller; until it is fed, nothing was handed.
		if len(w.feeds) == 0 {
			return false
		}
		for _, f := range w.feeds {
			if !f.reg.HasSynced() {
				return false
			}
		}
	}
	return true
}

// settle closes started once the kinds watched from the start have settled.
func (m *Manager) settle() {
	<-m.primed
	m.mu.RLock()
	pending := make([]*watch, 0, len(m.watches))
	for _, w := range m.watches {
		pending = append(pending, w)
	}
	m.mu.RUnlock()
	for _, w := range pending {
		select {
		case <-w.settled:
		case <-w.stopped:
		}
	}
	close(m.started)
}

// changed tells the controllers a kind's watch feeds that its state changed, and the
// metric of unreadable kinds.
func (m *Manager) changed(gvk schema.GroupVersionKind) {
	m.mu.RLock()
	w, ok := m.watches[gvk]
	var feeds []feed
	if ok {
		feeds = append(feeds, w.feeds...)
	}
	m.mu.RUnlock()
	if ok {
		state, _ := w.state()
		metrics.SetSourceKindUnreadable(w.kindName(), state == Unavailable)
	}
	for _, f := range feeds {
		f.stateChanged()
	}
}

// Count returns the number of watched kinds per family, for metrics.
func (m *Manager) Count() map[string]int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := map[string]int{}
	for _, w := range m.watches {
		out[w.kind.Family]++
	}
	return out
}

// KeepSpec returns the spec fields the mapper of a watched kind reads; ok is false for
// any other kind. It is the cache transform's question, asked for every object.
func (m *Manager) KeepSpec(gvk schema.GroupVersionKind) ([][]string, bool) {
	v, ok := m.keep.Load(gvk)
	if !ok {
		return nil, false
	}
	return v.([][]string), true
}

// Trim drops from obj what the mapper of its watched kind never reads; the cache
// transform calls it for every object.
func (m *Manager) Trim(obj *unstructured.Unstructured) {
	if v, ok := m.trim.Load(obj.GroupVersionKind()); ok {
		v.(func(*unstructured.Unstructured))(obj)
	}
}

// remember makes the cache transform strip objects of k as k says.
func (m *Manager) remember(k sources.Kind) {
	m.keep.Store(k.GVK, k.KeepSpec)
	m.annotations.Store(k.GVK, k.Annotations)
	if k.Trim != nil {
		m.trim.Store(k.GVK, k.Trim)
	} else {
		m.trim.Delete(k.GVK)
	}
}

// forget stops stripping objects of gvk.
func (m *Manager) forget(gvk schema.GroupVersionKind) {
	m.keep.Delete(gvk)
	m.trim.Delete(gvk)
	m.annotations.Delete(gvk)
}
