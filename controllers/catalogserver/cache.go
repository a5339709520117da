// This file keeps rendered bodies: a few variants, least recently used first out,
// bounded in bytes and in number, so that made-up queries cannot grow memory — and
// cannot push out the body Backstage polls for.

package catalogserver

import (
	"container/list"
	"sync"
)

// Bounds of the cache of rendered bodies. A body is about 600 bytes per entity, so
// 6 MB for 10,000 entities: the unfiltered YAML and JSON bodies (which are kept
// whatever their size, see bodyCache) and a few filtered ones fit.
const (
	maxRendered      = 16
	maxRenderedBytes = 32 << 20
)

// rendered is one variant's body for one state of the entities. It is never changed
// once made: requests that share a render, or a cached body, share it.
type rendered struct {
	state string
	body  []byte
	etag  string
}

// bodyCache holds the last body of each variant. Pinned variants — the unfiltered
// bodies, what Backstage's location reads every time — are never evicted; the others go
// least recently used first when the bytes or the number of bodies would pass their
// bounds. A body is never evicted to make room for itself, and a filtered body that does
// not fit beside the pinned ones is not kept.
type bodyCache struct {
	maxBytes, maxEntries int

	mu      sync.Mutex
	bytes   int
	lru     *list.List // of *cacheEntry, most recently used first
	entries map[string]*list.Element
}

// cacheEntry is one variant's body in a bodyCache.
type cacheEntry struct {
	key    string
	pinned bool
	out    *rendered
}

// newBodyCache returns an empty cache with the given bounds.
func newBodyCache(maxBytes, maxEntries int) *bodyCache {
	return &bodyCache{maxBytes: maxBytes, maxEntries: maxEntries, lru: list.New(), entries: map[string]*list.Element{}}
}

// get returns the body of variant key for the given state of the entities, or nil.
func (c *bodyCache) get(key, state string) *rendered {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok || el.Value.(*cacheEntry).out.state != state {
		return nil
	}
	c.lru.MoveToFront(el)
	return el.Value.(*cacheEntry).out
}

// put keeps out as the body of variant key, replacing the one it had, then evicts the
// least recently used unpinned bodies of other variants until the bounds hold.
func (c *bodyCache) put(key string, pinned bool, out *rendered) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		c.remove(el)
	}
	c.entries[key] = c.lru.PushFront(&cacheEntry{key: key, pinned: pinned, out: out})
	c.bytes += len(out.body)

	for el := c.lru.Back(); el != nil && c.over(); {
		prev := el.Prev()
		if e := el.Value.(*cacheEntry); !e.pinned && e.key != key {
			c.remove(el)
		}
		el = prev
	}
	if c.over() && !pinned {
		c.remove(c.entries[key]) // too big to keep beside the pinned bodies
	}
}

// over reports whether the cache is past one of its bounds.
func (c *bodyCache) over() bool {
	return c.bytes > c.maxBytes || c.lru.Len() > c.maxEntries
}

// remove drops one body.
func (c *bodyCache) remove(el *list.Element) {
	e := c.lru.Remove(el).(*cacheEntry)
	delete(c.entries, e.key)
	c.bytes -= len(e.out.body)
}

// len is how many bodies the cache holds, and their bytes.
func (c *bodyCache) len() (int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len(), c.bytes
}
