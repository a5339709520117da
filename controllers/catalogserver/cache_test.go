package catalogserver

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// body is a rendered body of n bytes for state fp.
func body(n int, fp string) *rendered {
	return &rendered{state: fp, body: []byte(strings.Repeat("x", n))}
}

// keys lists the cache's variants, most recently used first.
func (c *bodyCache) keys() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var keys []string
	for el := c.lru.Front(); el != nil; el = el.Next() {
		keys = append(keys, el.Value.(*cacheEntry).key)
	}
	return keys
}

func TestBodyCache(t *testing.T) {
	type put struct {
		key    string
		pinned bool
		size   int
	}
	tests := map[string]struct {
		puts []put
		want []string
	}{
		"least recently used goes first when the bytes would pass the bound": {
			puts: []put{{"a", false, 40}, {"b", false, 40}, {"c", false, 40}},
			want: []string{"c", "b"},
		},
		"least recently used goes first when the number would pass the bound": {
			puts: []put{{"a", false, 1}, {"b", false, 1}, {"c", false, 1}, {"d", false, 1}, {"e", false, 1}},
			want: []string{"e", "d", "c", "b"},
		},
		"a pinned body stays, however many others come": {
			puts: []put{{"all", true, 60}, {"a", false, 30}, {"b", false, 30}, {"c", false, 30}},
			want: []string{"c", "all"},
		},
		"a pinned body stays even when it alone passes the bound": {
			puts: []put{{"a", false, 10}, {"all", true, 150}},
			want: []string{"all"},
		},
		"an unpinned body too big to keep beside the pinned ones is not kept": {
			puts: []put{{"all", true, 60}, {"a", false, 10}, {"big", false, 50}},
			want: []string{"all"},
		},
		"a body replaced by itself does not evict itself": {
			puts: []put{{"a", false, 90}, {"a", false, 90}, {"a", false, 100}},
			want: []string{"a"},
		},
		"a body replaced by a larger one of itself evicts others, not itself": {
			puts: []put{{"a", false, 50}, {"b", false, 40}, {"a", false, 70}},
			want: []string{"a"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			c := newBodyCache(100, 4)
			for _, p := range tt.puts {
				c.put(p.key, p.pinned, body(p.size, "fp"))
			}
			if diff := cmp.Diff(tt.want, c.keys()); diff != "" {
				t.Errorf("kept (-want +got):\n%s", diff)
			}
			n, size := c.len()
			total := 0
			for _, k := range c.keys() {
				total += len(c.get(k, "fp").body)
			}
			if n != len(tt.want) || size != total {
				t.Errorf("len() = %d, %d bytes; holds %d, %d bytes", n, size, len(tt.want), total)
			}
		})
	}
}

func TestBodyCacheGet(t *testing.T) {
	c := newBodyCache(100, 2)
	c.put("a", false, body(1, "v1"))
	c.put("b", false, body(1, "v1"))
	if c.get("a", "v2") != nil {
		t.Error("a body of another state of the entities was returned")
	}
	if c.get("a", "v1") == nil {
		t.Fatal("a is not cached")
	}
	// a was used last: c pushes b out.
	c.put("c", false, body(1, "v1"))
	if diff := cmp.Diff([]string{"c", "a"}, c.keys()); diff != "" {
		t.Errorf("kept (-want +got):\n%s", diff)
	}
}
