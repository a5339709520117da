package watches

import (
	"context"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Reader returns a client.Reader that reads unstructured objects of watched kinds from
// the watches' caches, each decoded afresh (so it is the caller's to keep or change),
// and passes every other read to fallback (the manager's cache).
//
// It answers what the engine asks: Get by namespace and name; List in a namespace or
// all, by label selector, and by one exact field match on an index of the kind
// (KubernetesIDIndex, or one of sources.Kind.Indexes), with a Limit that keeps the first
// objects by namespace and name and counts the rest in remainingItemCount (there is no
// continue token: the rest are not for reading). An unstructured object of a kind
// that is not watched is an error: starting an informer for it on a read, as the
// manager's cache would, would hold objects nothing strips.
func (m *Manager) Reader(fallback client.Reader) client.Reader {
	return &reader{m: m, fallback: fallback}
}

type reader struct {
	m        *Manager
	fallback client.Reader
}

// watchOf returns the watch of gvk.
func (m *Manager) watchOf(gvk schema.GroupVersionKind) (*watch, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if w, ok := m.watches[gvk]; ok {
		return w, nil
	}
	return nil, fmt.Errorf("%s is not a watched source kind", gvk)
}

// Get implements client.Reader.
func (r *reader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return r.fallback.Get(ctx, key, obj, opts...)
	}
	w, err := r.m.watchOf(u.GroupVersionKind())
	if err != nil {
		return err
	}
	if w.clusterScoped {
		key.Namespace = ""
	}
	item, exists, err := w.informer.GetIndexer().GetByKey(toolscache.ObjectName{Namespace: key.Namespace, Name: key.Name}.String())
	if err != nil {
		return err
	}
	if !exists {
		return apierrors.NewNotFound(w.resource, key.Name)
	}
	got, ok, err := cachedObject(item)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("the cache of %s holds a %T", w.gvk, item)
	}
	u.Object = got.Object
	return nil
}

// List implements client.Reader.
func (r *reader) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	ul, ok := list.(*unstructured.UnstructuredList)
	if !ok {
		return r.fallback.List(ctx, list, opts...)
	}
	gvk := ul.GroupVersionKind()
	gvk.Kind = strings.TrimSuffix(gvk.Kind, "List")
	w, err := r.m.watchOf(gvk)
	if err != nil {
		return err
	}
	lo := (&client.ListOptions{}).ApplyOptions(opts)
	ns := lo.Namespace
	if w.clusterScoped {
		ns = ""
	}
	indexer := w.informer.GetIndexer()
	var items []any
	switch {
	case lo.FieldSelector != nil && !lo.FieldSelector.Empty():
		reqs := lo.FieldSelector.Requirements()
		if len(reqs) != 1 || (reqs[0].Operator != selection.Equals && reqs[0].Operator != selection.DoubleEquals) {
			return fmt.Errorf("listing %s: only one exact field match on an index is supported, not %q", gvk.Kind, lo.FieldSelector)
		}
		items, err = indexer.ByIndex(reqs[0].Field, reqs[0].Value)
	case ns != "":
		items, err = indexer.ByIndex(toolscache.NamespaceIndex, ns)
	default:
		items = indexer.List()
	}
	if err != nil {
		return fmt.Errorf("listing %s: %w", gvk.Kind, err)
	}
	matched := items[:0:0]
	for _, item := range items {
		if itemNS, _ := cachedMeta(item); ns != "" && itemNS != ns {
			continue
		}
		if lo.LabelSelector != nil && !lo.LabelSelector.Empty() && !lo.LabelSelector.Matches(cachedLabels(item)) {
			continue
		}
		matched = append(matched, item)
	}
	matched = limit(ul, matched, lo.Limit)
	ul.Items = make([]unstructured.Unstructured, 0, len(matched))
	for _, item := range matched {
		u, ok, err := cachedObject(item)
		if err != nil {
			return fmt.Errorf("listing %s: %w", gvk.Kind, err)
		}
		if ok {
			ul.Items = append(ul.Items, *u)
		}
	}
	return nil
}

// limit keeps, of a List's matches, the first n by namespace and name when n > 0 and
// there are more, so that the answer does not depend on the store's order, and counts
// the others in the list's remainingItemCount; they are never decoded.
func limit(ul *unstructured.UnstructuredList, matched []any, n int64) []any {
	if n <= 0 || int64(len(matched)) <= n {
		return matched
	}
	key := func(item any) string {
		k, _ := toolscache.MetaNamespaceKeyFunc(item)
		return k
	}
	sort.Slice(matched, func(i, j int) bool { return key(matched[i]) < key(matched[j]) })
	rest := int64(len(matched)) - n
	ul.SetRemainingItemCount(&rest)
	return matched[:n]
}

// Names returns the namespace and name of each cached object of the watched kind gvk
// whose index holds value, from the store's keys: no object is decoded.
func (m *Manager) Names(gvk schema.GroupVersionKind, index, value string) ([]types.NamespacedName, error) {
	w, err := m.watchOf(gvk)
	if err != nil {
		return nil, err
	}
	keys, err := w.informer.GetIndexer().IndexKeys(index, value)
	if err != nil {
		return nil, fmt.Errorf("listing %s by %s: %w", gvk.Kind, index, err)
	}
	out := make([]types.NamespacedName, 0, len(keys))
	for _, key := range keys {
		if ns, name, err := toolscache.SplitMetaNamespaceKey(key); err == nil {
			out = append(out, types.NamespacedName{Namespace: ns, Name: name})
		}
	}
	return out, nil
}
