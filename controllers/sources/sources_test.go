package sources

import (
	"reflect"
	"sort"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestDeployKeys(t *testing.T) {
	for name, tc := range map[string]struct {
		refs []ObjectRef
		want []string
	}{
		"none": {nil, nil},
		"built-in kinds are never sources": {[]ObjectRef{
			{Kind: "Service", Namespace: "shop", Name: "web"},
			{Group: "apps", Kind: "Deployment", Namespace: "shop", Name: "web"},
		}, nil},
		"kinds of CRDs, namespaced or not": {[]ObjectRef{
			{Group: "apps", Kind: "Deployment", Namespace: "shop", Name: "web"},
			{Group: "database.example.org", Kind: "PostgreSQLInstance", Namespace: "shop", Name: "db"},
			{Group: "rds.aws.upbound.io", Kind: "Instance", Name: "db-1"},
		}, []string{"database.example.org/PostgreSQLInstance/shop/db", "rds.aws.upbound.io/Instance//db-1"}},
	} {
		t.Run(name, func(t *testing.T) {
			if got := DeployKeys(tc.refs); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("DeployKeys() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestKeepAnnotations(t *testing.T) {
	for name, tc := range map[string]struct {
		metadata map[string]any
		keep     []string
		want     map[string]any
	}{
		"no annotations": {
			metadata: map[string]any{"name": "a"},
			want:     map[string]any{"name": "a"},
		},
		"only ours and the kind's stay": {
			metadata: map[string]any{"name": "a", "annotations": map[string]any{
				"catalog.entityhub.dev/owner":          "group:default/payments",
				"crossplane.io/paused":                 "true",
				"crossplane.io/external-name":          "payments-db",
				"notified.notifications.argoproj.io":   `{"on-sync-succeeded:...":1732500000}`,
				"catalog.entityhub.dev.example/not-us": "x",
			}},
			keep: []string{"crossplane.io/paused"},
			want: map[string]any{"name": "a", "annotations": map[string]any{
				"catalog.entityhub.dev/owner": "group:default/payments",
				"crossplane.io/paused":        "true",
			}},
		},
		"none left: the map goes": {
			metadata: map[string]any{"name": "a", "annotations": map[string]any{"crossplane.io/external-name": "x"}},
			want:     map[string]any{"name": "a"},
		},
		"an annotation the kind reads, on another kind, goes": {
			metadata: map[string]any{"annotations": map[string]any{"crossplane.io/paused": "true"}},
			want:     map[string]any{},
		},
		"annotations of another shape stay, for the mapper to report": {
			metadata: map[string]any{"annotations": "garbled"},
			want:     map[string]any{"annotations": "garbled"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			u := &unstructured.Unstructured{Object: map[string]any{"metadata": tc.metadata}}
			KeepAnnotations(u, tc.keep)
			if !reflect.DeepEqual(u.Object["metadata"], tc.want) {
				t.Errorf("metadata = %v, want %v", u.Object["metadata"], tc.want)
			}
		})
	}
	// An object without metadata, or with metadata of another shape, is left alone.
	for _, obj := range []map[string]any{{}, {"metadata": "garbled"}} {
		KeepAnnotations(&unstructured.Unstructured{Object: obj}, nil)
	}
}

func TestKeepMetadata(t *testing.T) {
	full := func() map[string]any {
		return map[string]any{
			"name": "a", "namespace": "ns", "resourceVersion": "7", "labels": map[string]any{"l": "v"},
			"annotations": map[string]any{"a": "v"}, "generation": int64(3), "creationTimestamp": "2026-01-01T00:00:00Z",
			"finalizers": []any{"finalizer.managedresource.crossplane.io"}, "ownerReferences": []any{map[string]any{"name": "xr"}},
			"deletionTimestamp": "2026-01-02T00:00:00Z",
		}
	}
	for name, tc := range map[string]struct {
		read []string
		want []string
	}{
		"what the cache keeps, nothing more": {nil, []string{"annotations", "labels", "name", "namespace", "resourceVersion"}},
		"and what the kind reads": {[]string{"generation", "ownerReferences", "deletionTimestamp"},
			[]string{"annotations", "deletionTimestamp", "generation", "labels", "name", "namespace", "ownerReferences", "resourceVersion"}},
	} {
		t.Run(name, func(t *testing.T) {
			u := &unstructured.Unstructured{Object: map[string]any{"metadata": full()}}
			KeepMetadata(u, tc.read...)
			var got []string
			for k := range u.Object["metadata"].(map[string]any) {
				got = append(got, k)
			}
			sort.Strings(got)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("metadata keeps %v, want %v", got, tc.want)
			}
		})
	}
	// An object without metadata, or with metadata of another shape, is left alone.
	for _, obj := range []map[string]any{{}, {"metadata": "garbled"}} {
		KeepMetadata(&unstructured.Unstructured{Object: obj})
	}
}

func TestKeepKeys(t *testing.T) {
	m := map[string]any{"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}
	KeepKeys(m, map[string]bool{"type": true, "status": true, "reason": true})
	if want := map[string]any{"type": "Ready", "status": "True"}; !reflect.DeepEqual(m, want) {
		t.Errorf("KeepKeys left %v, want %v", m, want)
	}
	KeepKeys(nil, nil) // a missing map is left alone
}

func TestSafeMap(t *testing.T) {
	healthy := func(*unstructured.Unstructured) Result { return Result{Health: "Healthy"} }
	panics := func(*unstructured.Unstructured) Result { panic("bad \xff byte") }
	obj := &unstructured.Unstructured{Object: map[string]any{}}
	for name, tc := range map[string]struct {
		m    Mapper
		obj  *unstructured.Unstructured
		want Result
	}{
		"a mapper's result is passed on":        {m: healthy, obj: obj, want: Result{Health: "Healthy"}},
		"a nil object never reaches the mapper": {m: panics, obj: nil, want: Result{Health: "Unknown", Message: "no object"}},
		"a panic is Unknown, printably": {m: panics, obj: obj,
			want: Result{Health: "Unknown", Message: "cannot read this object: bad \uFFFD byte"}},
	} {
		t.Run(name, func(t *testing.T) {
			if got := SafeMap(tc.m, tc.obj); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("SafeMap() = %+v, want %+v", got, tc.want)
			}
		})
	}
}
