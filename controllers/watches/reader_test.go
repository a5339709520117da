package watches

import (
	"context"
	"fmt"
	"sort"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/entityhub/entityhub/controllers/sources"
)

var (
	appGVK = schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "Application"}
	mrGVK  = schema.GroupVersionKind{Group: "rds.aws.upbound.io", Version: "v1beta1", Kind: "Instance"}
)

// withCache adds to m a watch of gvk whose cache holds objs, put through the kind's
// transform as an informer would; the informer does not run.
func withCache(t *testing.T, m *Manager, gvk schema.GroupVersionKind, clusterScoped bool, own map[string]func(*unstructured.Unstructured) []string, objs ...string) {
	t.Helper()
	indexes := kindIndexes(own)
	inf := toolscache.NewSharedIndexInformerWithOptions(&toolscache.ListWatch{}, newObject(gvk),
		toolscache.SharedIndexInformerOptions{Indexers: indexers(indexes, !clusterScoped)})
	transform := compactor(keepAll, indexes)
	for _, js := range objs {
		item, _ := transform(apiDecode(t, []byte(js)))
		if err := inf.GetIndexer().Add(item); err != nil {
			t.Fatal(err)
		}
	}
	w := &watch{gvk: gvk, kind: sources.Kind{GVK: gvk}, informer: inf, clusterScoped: clusterScoped,
		resource: schema.GroupResource{Group: gvk.Group, Resource: "things"}}
	m.watches[gvk] = w
	m.byGK[gvk.GroupKind()] = w
}

func app(ns, name, entity string, extra ...string) string {
	labels := fmt.Sprintf(`{"backstage.io/kubernetes-id":%q}`, entity)
	if len(extra) == 2 {
		labels = fmt.Sprintf(`{"backstage.io/kubernetes-id":%q,%q:%q}`, entity, extra[0], extra[1])
	}
	return fmt.Sprintf(`{"apiVersion":"argoproj.io/v1alpha1","kind":"Application","metadata":{"namespace":%q,"name":%q,"resourceVersion":"7","labels":%s},"status":{"health":{"status":"Healthy"}}}`,
		ns, name, labels)
}

// fallback records the reads passed to the manager's cache.
type fallback struct{ calls []string }

func (f *fallback) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	f.calls = append(f.calls, fmt.Sprintf("get %T %s", obj, key))
	return nil
}

func (f *fallback) List(_ context.Context, list client.ObjectList, _ ...client.ListOption) error {
	f.calls = append(f.calls, fmt.Sprintf("list %T", list))
	return nil
}

func names(list *unstructured.UnstructuredList) []string {
	var out []string
	for _, u := range list.Items {
		out = append(out, u.GetNamespace()+"/"+u.GetName())
	}
	sort.Strings(out)
	return out
}

func TestReader(t *testing.T) {
	ctx := context.Background()
	m := newManager(Options{})
	byOwner := map[string]func(*unstructured.Unstructured) []string{
		"owner": func(u *unstructured.Unstructured) []string {
			if v := u.GetLabels()["owner"]; v != "" {
				return []string{v}
			}
			return nil
		},
	}
	withCache(t, m, appGVK, false, byOwner,
		app("argocd", "shop-web", "shop", "owner", "team-a"),
		app("argocd", "shop-db", "shop"),
		app("other", "shop-web", "shop", "owner", "team-a"),
		app("argocd", "cart", "cart", "tier", "web"),
	)
	withCache(t, m, mrGVK, true, nil,
		`{"apiVersion":"rds.aws.upbound.io/v1beta1","kind":"Instance","metadata":{"name":"db-1"},"status":{"conditions":[{"type":"Ready","status":"True"}]}}`)
	fb := &fallback{}
	r := m.Reader(fb)

	list := func(gvk schema.GroupVersionKind, opts ...client.ListOption) ([]string, error) {
		l := &unstructured.UnstructuredList{}
		l.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		err := r.List(ctx, l, opts...)
		return names(l), err
	}
	for _, tc := range []struct {
		name string
		opts []client.ListOption
		want []string
	}{
		{"all", nil, []string{"argocd/cart", "argocd/shop-db", "argocd/shop-web", "other/shop-web"}},
		{"in a namespace", []client.ListOption{client.InNamespace("other")}, []string{"other/shop-web"}},
		{"by the Backstage label index", []client.ListOption{client.MatchingFields{KubernetesIDIndex: "shop"}},
			[]string{"argocd/shop-db", "argocd/shop-web", "other/shop-web"}},
		{"by an index of the kind, in a namespace", []client.ListOption{client.MatchingFields{"owner": "team-a"}, client.InNamespace("argocd")},
			[]string{"argocd/shop-web"}},
		{"by labels", []client.ListOption{client.MatchingLabels{"tier": "web"}}, []string{"argocd/cart"}},
		{"by labels in a namespace", []client.ListOption{client.MatchingLabels{"owner": "team-a"}, client.InNamespace("other")},
			[]string{"other/shop-web"}},
		{"nothing matches", []client.ListOption{client.MatchingFields{KubernetesIDIndex: "none"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := list(appGVK, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}

	t.Run("a limit keeps the first by namespace and name and counts the rest, whatever the store's order", func(t *testing.T) {
		for range 5 {
			l := &unstructured.UnstructuredList{}
			l.SetGroupVersionKind(appGVK.GroupVersion().WithKind("ApplicationList"))
			if err := r.List(ctx, l, client.Limit(2)); err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(names(l)); got != "[argocd/cart argocd/shop-db]" {
				t.Fatalf("got %v", got)
			}
			if more := l.GetRemainingItemCount(); more == nil || *more != 2 {
				t.Fatalf("remaining %v, want 2", more)
			}
		}
		l := &unstructured.UnstructuredList{}
		l.SetGroupVersionKind(appGVK.GroupVersion().WithKind("ApplicationList"))
		if err := r.List(ctx, l, client.Limit(10), client.InNamespace("argocd")); err != nil || len(l.Items) != 3 || l.GetRemainingItemCount() != nil {
			t.Errorf("a limit above the matches: %d items, remaining %v, %v", len(l.Items), l.GetRemainingItemCount(), err)
		}
	})

	t.Run("a cluster-scoped kind ignores the namespace", func(t *testing.T) {
		got, err := list(mrGVK, client.InNamespace("anything"))
		if err != nil || fmt.Sprint(got) != "[/db-1]" {
			t.Errorf("got %v, %v; want [/db-1]", got, err)
		}
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(mrGVK)
		if err := r.Get(ctx, client.ObjectKey{Namespace: "anything", Name: "db-1"}, u); err != nil {
			t.Fatal(err)
		}
		if c, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions"); len(c) != 1 {
			t.Errorf("got %v", u.Object)
		}
	})

	t.Run("get decodes a copy of its own", func(t *testing.T) {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(appGVK)
		if err := r.Get(ctx, client.ObjectKey{Namespace: "argocd", Name: "shop-web"}, u); err != nil {
			t.Fatal(err)
		}
		if h, _, _ := unstructured.NestedString(u.Object, "status", "health", "status"); h != "Healthy" || u.GetLabels()["owner"] != "team-a" {
			t.Errorf("got %v", u.Object)
		}
		u.Object["status"] = "changed"
		again := &unstructured.Unstructured{}
		again.SetGroupVersionKind(appGVK)
		_ = r.Get(ctx, client.ObjectKey{Namespace: "argocd", Name: "shop-web"}, again)
		if h, _, _ := unstructured.NestedString(again.Object, "status", "health", "status"); h != "Healthy" {
			t.Errorf("a change to a read object reached the cache: %v", again.Object)
		}
	})

	t.Run("a missing object is NotFound", func(t *testing.T) {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(appGVK)
		if err := r.Get(ctx, client.ObjectKey{Namespace: "argocd", Name: "gone"}, u); !apierrors.IsNotFound(err) {
			t.Errorf("got %v, want NotFound", err)
		}
	})

	t.Run("a kind that is not watched is an error, not a new informer", func(t *testing.T) {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(schema.GroupVersionKind{Group: "x", Version: "v1", Kind: "Y"})
		if err := r.Get(ctx, client.ObjectKey{Name: "a"}, u); err == nil {
			t.Error("got no error")
		}
		if _, err := list(schema.GroupVersionKind{Group: "x", Version: "v1", Kind: "Y"}); err == nil {
			t.Error("got no error")
		}
	})

	t.Run("field selectors other than one exact match are refused", func(t *testing.T) {
		if _, err := list(appGVK, client.MatchingFields{KubernetesIDIndex: "shop", "owner": "team-a"}); err == nil {
			t.Error("got no error")
		}
		if _, err := list(appGVK, client.MatchingFields{"no-such-index": "x"}); err == nil {
			t.Error("got no error")
		}
	})

	t.Run("names by an index, undecoded", func(t *testing.T) {
		got, err := m.Names(appGVK, KubernetesIDIndex, "shop")
		if err != nil {
			t.Fatal(err)
		}
		sort.Slice(got, func(i, j int) bool { return got[i].String() < got[j].String() })
		if fmt.Sprint(got) != "[argocd/shop-db argocd/shop-web other/shop-web]" {
			t.Errorf("got %v", got)
		}
		if _, err := m.Names(schema.GroupVersionKind{Group: "x", Version: "v1", Kind: "Y"}, KubernetesIDIndex, "shop"); err == nil {
			t.Error("a kind that is not watched gave no error")
		}
	})

	t.Run("typed objects go to the manager's cache", func(t *testing.T) {
		fb.calls = nil
		_ = r.Get(ctx, client.ObjectKey{Namespace: "a", Name: "b"}, &corev1.Secret{})
		_ = r.List(ctx, &corev1.SecretList{})
		if fmt.Sprint(fb.calls) != "[get *v1.Secret a/b list *v1.SecretList]" {
			t.Errorf("fallback saw %v", fb.calls)
		}
	})
}
