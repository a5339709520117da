package watches

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"sort"
	"sync"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	toolscache "k8s.io/client-go/tools/cache"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/sources"
)

// compact is how the cache keeps one source object: the object, stripped of what no
// mapper reads, as JSON, beside the few fields the informer and the indexes need.
//
// A hub holds tens of thousands of sources for the life of the manager. Decoded into
// unstructured maps, a stripped managed resource takes about 4 KB of heap, most of it
// map headers and buckets (every nested object is a map of its own) that the garbage
// collector must also scan; kept this way, with its share of the store and indexes,
// about 850 bytes, most of it one allocation with no pointers in it
// (BenchmarkCacheMemory). An object is decoded again only when it is read — for an
// event, or when an entity it belongs to is reconciled — which costs a few
// microseconds. Encoding and decoding JSON is what the API server does to store it, so
// what a reader gets is what a LIST would return: integers as int64, other numbers as
// float64.
type compact struct {
	// typ is the object's apiVersion and kind, shared by the objects of its kind.
	typ                              *typeMeta
	namespace, name, resourceVersion string
	// labels are the object's labels as key, value pairs sorted by key, so that a label
	// selector is matched without decoding the object.
	labels pairs
	// keys are the object's index values.
	keys []indexValue
	// body is the stripped object as JSON, without what the fields above hold.
	body []byte
}

// typeMeta is the apiVersion and kind of a compact object; empty when it had none.
type typeMeta struct{ apiVersion, kind string }

// GetObjectMeta makes compact an object the informer can key and index
// (meta.Accessor): namespace, name and resource version are all it asks for.
func (c *compact) GetObjectMeta() metav1.Object {
	return &metav1.ObjectMeta{Namespace: c.namespace, Name: c.name, ResourceVersion: c.resourceVersion}
}

// object decodes the object c keeps, as the API machinery decodes JSON, and puts back
// what the body was encoded without.
func (c *compact) object() (*unstructured.Unstructured, error) {
	var m map[string]any
	if err := utiljson.Unmarshal(c.body, &m); err != nil || m == nil {
		return nil, fmt.Errorf("decoding the cached %s/%s: %v", c.namespace, c.name, err)
	}
	if c.typ != nil {
		setIf(m, "apiVersion", c.typ.apiVersion)
		setIf(m, "kind", c.typ.kind)
	}
	if c.name != "" || c.namespace != "" || c.resourceVersion != "" || len(c.labels) > 0 {
		md, ok := m["metadata"].(map[string]any)
		if !ok {
			md = map[string]any{}
			m["metadata"] = md
		}
		setIf(md, "name", c.name)
		setIf(md, "namespace", c.namespace)
		setIf(md, "resourceVersion", c.resourceVersion)
		if len(c.labels) > 0 {
			labels := make(map[string]any, len(c.labels)/2)
			for i := 0; i+1 < len(c.labels); i += 2 {
				labels[c.labels[i]] = c.labels[i+1]
			}
			md["labels"] = labels
		}
	}
	return &unstructured.Unstructured{Object: m}, nil
}

// setIf sets m[key] to v when v is not empty.
func setIf(m map[string]any, key, v string) {
	if v != "" {
		m[key] = v
	}
}

// bodyOf returns the object c keeps without what c's fields hold: an apiVersion, kind,
// name, namespace and resourceVersion that are non-empty strings, and labels when they
// are all strings (then c.labels holds them). object puts them back as they were. It
// changes none of u's maps.
func (c *compact) bodyOf(u *unstructured.Unstructured) map[string]any {
	top := maps.Clone(u.Object)
	var typ typeMeta
	if s, ok := top["apiVersion"].(string); ok && s != "" {
		typ.apiVersion = s
		delete(top, "apiVersion")
	}
	if s, ok := top["kind"].(string); ok && s != "" {
		typ.kind = s
		delete(top, "kind")
	}
	if typ != (typeMeta{}) {
		c.typ = &typ
	}
	md, ok := top["metadata"].(map[string]any)
	if !ok {
		return top
	}
	md = maps.Clone(md)
	// Each field is non-empty only when it was read from a string there (unstructured's
	// getters return "" for anything else), so it is put back as it was.
	for key, v := range map[string]string{"name": c.name, "namespace": c.namespace, "resourceVersion": c.resourceVersion} {
		if v != "" {
			delete(md, key)
		}
	}
	if len(c.labels) > 0 {
		delete(md, "labels")
	}
	top["metadata"] = md
	return top
}

// indexValue is one value of an object under one index. The index name is shared by
// every object; the value shares the bytes of the label or field it came from.
type indexValue struct{ index, value string }

// values returns c's values for index.
func (c *compact) values(index string) []string {
	var out []string
	for _, k := range c.keys {
		if k.index == index {
			out = append(out, k.value)
		}
	}
	return out
}

// pairs are labels as key, value pairs sorted by key. It implements labels.Labels.
type pairs []string

func newPairs(m map[string]string) pairs {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(pairs, 0, 2*len(keys))
	for _, k := range keys {
		out = append(out, k, m[k])
	}
	return out
}

func (p pairs) find(key string) (int, bool) {
	n := len(p) / 2
	i := sort.Search(n, func(i int) bool { return p[2*i] >= key })
	return i, i < n && p[2*i] == key
}

// Has implements labels.Labels.
func (p pairs) Has(key string) bool { _, ok := p.find(key); return ok }

// Get implements labels.Labels.
func (p pairs) Get(key string) string {
	v, _ := p.Lookup(key)
	return v
}

// Lookup implements labels.Labels.
func (p pairs) Lookup(key string) (string, bool) {
	if i, ok := p.find(key); ok {
		return p[2*i+1], true
	}
	return "", false
}

var _ labels.Labels = pairs(nil)

// indexFunc is an index of a kind's informer, computed from the decoded object when it
// enters the cache.
type indexFunc func(*unstructured.Unstructured) []string

// compactor returns the informer transform of a kind: it strips each object with strip
// (the cache transform and the kind's Trim), computes its index values, and keeps it as
// compact. It is idempotent — an object already compact passes through — and never
// fails: an object that cannot be encoded (none that came from the API server as JSON)
// is cached as it is, and every reader of the cache takes either form.
func compactor(strip func(any) any, indexes map[string]indexFunc) toolscache.TransformFunc {
	types := &typeMetas{}
	return func(obj any) (out any, _ error) {
		defer func() {
			// A panic here (in a kind's Trim, say, on an object of a shape nobody
			// expected) would stop the informer and the manager with it; cached as it
			// came, the object costs memory and its mapper reports what is wrong.
			if r := recover(); r != nil {
				utilruntime.HandleErrorWithContext(context.Background(), fmt.Errorf("panic: %v", r),
					"Compacting a cached source failed; caching it as it came")
				out = obj
			}
		}()
		u, ok := obj.(*unstructured.Unstructured)
		if !ok || u == nil || u.Object == nil {
			return obj, nil // already compact, or a tombstone of what was cached
		}
		if s, ok := strip(u).(*unstructured.Unstructured); ok && s != nil && s.Object != nil {
			u = s
		}
		c := &compact{
			namespace:       u.GetNamespace(),
			name:            u.GetName(),
			resourceVersion: u.GetResourceVersion(),
			labels:          newPairs(u.GetLabels()),
		}
		body, err := json.Marshal(c.bodyOf(u))
		if err != nil {
			return u, nil
		}
		c.body = body
		if c.typ != nil {
			c.typ = types.share(*c.typ)
		}
		for name, fn := range indexes {
			for _, v := range fn(u) {
				c.keys = append(c.keys, indexValue{name, v})
			}
		}
		return c, nil
	}
}

// typeMetas keeps one typeMeta for the objects of a kind (a malformed object may bring
// others; a few are kept for them too).
type typeMetas struct {
	mu   sync.Mutex
	kept []*typeMeta
}

func (t *typeMetas) share(tm typeMeta) *typeMeta {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range t.kept {
		if *k == tm {
			return k
		}
	}
	if len(t.kept) >= 8 {
		return &tm
	}
	t.kept = append(t.kept, &tm)
	return &tm
}

// cachedObject returns the object an informer of a source kind holds as item, decoded;
// item may be compact, an object the transform left as it was, or a tombstone of
// either. ok is false for anything else.
func cachedObject(item any) (u *unstructured.Unstructured, ok bool, err error) {
	if t, isTomb := item.(toolscache.DeletedFinalStateUnknown); isTomb {
		item = t.Obj
	}
	switch o := item.(type) {
	case *compact:
		u, err := o.object()
		return u, true, err
	case *unstructured.Unstructured:
		return o, o != nil, nil
	}
	return nil, false, nil
}

// cachedMeta returns the namespace and resource version of an item of a source
// informer without decoding it.
func cachedMeta(item any) (namespace, resourceVersion string) {
	if c, ok := item.(*compact); ok {
		return c.namespace, c.resourceVersion
	}
	if o, err := apimeta.Accessor(item); err == nil {
		return o.GetNamespace(), o.GetResourceVersion()
	}
	return "", ""
}

// cachedLabels returns the labels of an item of an informer of a source kind without
// decoding it.
func cachedLabels(item any) labels.Labels {
	switch o := item.(type) {
	case *compact:
		return o.labels
	case *unstructured.Unstructured:
		return labels.Set(o.GetLabels())
	}
	return labels.Set(nil)
}

// cachedSkeleton returns the metadata of an item of an informer of kind gvk — its
// apiVersion, kind, namespace, name and labels — without decoding its body.
func cachedSkeleton(item any, gvk schema.GroupVersionKind) *unstructured.Unstructured {
	if t, isTomb := item.(toolscache.DeletedFinalStateUnknown); isTomb {
		item = t.Obj
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	switch o := item.(type) {
	case *compact:
		u.SetNamespace(o.namespace)
		u.SetName(o.name)
		if len(o.labels) > 0 {
			l := make(map[string]string, len(o.labels)/2)
			for i := 0; i+1 < len(o.labels); i += 2 {
				l[o.labels[i]] = o.labels[i+1]
			}
			u.SetLabels(l)
		}
	case *unstructured.Unstructured:
		u.SetNamespace(o.GetNamespace())
		u.SetName(o.GetName())
		u.SetLabels(o.GetLabels())
	}
	return u
}

// indexers returns the informer indexers of a kind with indexes: by namespace for a
// namespaced kind (a cluster-scoped kind's would hold every object under "", and reads
// of such a kind never ask for a namespace), by the Backstage label, and the kind's own,
// each reading the values the transform computed.
func indexers(indexes map[string]indexFunc, namespaced bool) toolscache.Indexers {
	out := toolscache.Indexers{}
	if namespaced {
		out[toolscache.NamespaceIndex] = toolscache.MetaNamespaceIndexFunc
	}
	for name, fn := range indexes {
		out[name] = func(item any) ([]string, error) {
			switch o := item.(type) {
			case *compact:
				return o.values(name), nil
			case *unstructured.Unstructured:
				return fn(o), nil
			}
			return nil, nil
		}
	}
	return out
}

// kindIndexes returns the indexes of a kind: KubernetesIDIndex and the kind's own. A
// kind's index that panics on a malformed object indexes it under no value: a panic in
// the informer's goroutine would stop the manager.
func kindIndexes(own map[string]func(*unstructured.Unstructured) []string) map[string]indexFunc {
	out := map[string]indexFunc{KubernetesIDIndex: kubernetesID}
	for name, fn := range own {
		out[name] = func(u *unstructured.Unstructured) (values []string) {
			defer func() {
				if r := recover(); r != nil {
					values = nil
				}
			}()
			return fn(u)
		}
	}
	return out
}

// kubernetesID extracts the index value: the source's Backstage label.
func kubernetesID(obj *unstructured.Unstructured) []string {
	if v := obj.GetLabels()[catalogv1alpha1.KubernetesIDLabel]; v != "" {
		return []string{v}
	}
	return nil
}

// CachedCopy returns obj as a watch of kind k keeps it and its reader gives it back:
// stripped as the kind says (the cache transform's spec paths, the kind's Trim, the
// annotations it reads, the uids), compacted and decoded again. obj is not changed; it
// is read as kind k whatever apiVersion and kind it says. Tests of the mappers check
// with it that a mapper reads nothing the cache drops, through the very pipeline the
// cache runs.
func CachedCopy(k sources.Kind, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	m := newManager(Options{})
	k.GVK = obj.GroupVersionKind() // the cache looks a kind up by the object's own
	m.remember(k)
	cp := obj.DeepCopy()
	item, err := compactor(m.stripSource, kindIndexes(k.Indexes))(cp)
	if err != nil {
		return nil, err
	}
	u, ok, err := cachedObject(item)
	if err == nil && !ok {
		err = fmt.Errorf("the cache kept %T, not an object", item)
	}
	return u, err
}
