package cachetransform

import (
	"encoding/json"
	"reflect"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
)

// The transform is meant for the manager's cache; this fails to compile if its type
// stops fitting there.
var _ = cache.Options{DefaultTransform: New(nil)}

var (
	applicationGVK = schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "Application"}
	workflowGVK    = schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "Workflow"}
	compositeGVK   = schema.GroupVersionKind{Group: "example.org", Version: "v1", Kind: "XDatabase"}
	overlapGVK     = schema.GroupVersionKind{Group: "test.io", Version: "v1", Kind: "Overlap"}
	overlapRevGVK  = schema.GroupVersionKind{Group: "test.io", Version: "v1", Kind: "OverlapReversed"}
	wholeGVK       = schema.GroupVersionKind{Group: "test.io", Version: "v1", Kind: "Whole"}
	panicGVK       = schema.GroupVersionKind{Group: "test.io", Version: "v1", Kind: "Panic"}
)

// keepSpecs stands in for the source registry: what each known kind's mapper reads.
var keepSpecs = map[schema.GroupVersionKind][][]string{
	applicationGVK: {{"destination"}},
	workflowGVK:    nil, // known, reads no spec
	compositeGVK:   {{"crossplane", "resourceRefs"}, {"compositionRef", "name"}},
	overlapGVK:     {{"a", "b"}, {"a"}, {"c", "d"}, {"c", "e"}, {"c", "d"}},
	overlapRevGVK:  {{"a"}, {"a", "b"}},
	wholeGVK:       {{"x"}, {}},
}

func keepSpec(gvk schema.GroupVersionKind) ([][]string, bool) {
	if gvk == panicGVK {
		panic("keepSpec broke")
	}
	paths, ok := keepSpecs[gvk]
	return paths, ok
}

func managedFields() []metav1.ManagedFieldsEntry {
	return []metav1.ManagedFieldsEntry{{
		Manager:    "kubectl-client-side-apply",
		Operation:  metav1.ManagedFieldsOperationUpdate,
		APIVersion: "v1",
		FieldsType: "FieldsV1",
		FieldsV1:   metav1.NewFieldsV1(`{"f:data":{"f:key":{}}}`),
	}}
}

func managedFieldsJSON() []any {
	return []any{map[string]any{
		"manager":    "argocd-controller",
		"operation":  "Update",
		"apiVersion": "argoproj.io/v1alpha1",
		"fieldsType": "FieldsV1",
		"fieldsV1":   map[string]any{"f:status": map[string]any{".": map[string]any{}}},
	}}
}

func obj(gvk schema.GroupVersionKind, fields map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: fields}
	u.SetGroupVersionKind(gvk)
	return u
}

func TestTransform(t *testing.T) {
	appStatus := func() map[string]any {
		return map[string]any{
			"health": map[string]any{"status": "Healthy"},
			"sync":   map[string]any{"status": "Synced", "revision": "abc123"},
		}
	}
	tombstone := func() toolscache.DeletedFinalStateUnknown {
		return toolscache.DeletedFinalStateUnknown{Key: "ns/app", Obj: obj(applicationGVK, map[string]any{
			"metadata": map[string]any{"name": "app", "managedFields": managedFieldsJSON()},
			"spec":     map[string]any{"project": "default"},
		})}
	}

	tests := []struct {
		name string
		in   func() any
		want any
	}{
		{
			name: "typed ConfigMap loses managedFields and last-applied, keeps the rest",
			in: func() any {
				return &corev1.ConfigMap{
					ObjectMeta: metav1.ObjectMeta{
						Name: "cm", Namespace: "ns",
						ManagedFields: managedFields(),
						Annotations:   map[string]string{lastApplied: `{"big":"copy"}`, "team": "a"},
					},
					Data: map[string]string{"key": "value"},
				}
			},
			want: &corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{Name: "cm", Namespace: "ns", Annotations: map[string]string{"team": "a"}},
				Data:       map[string]string{"key": "value"},
			},
		},
		{
			name: "typed Deployment keeps its spec; annotations left empty become nil",
			in: func() any {
				return &appsv1.Deployment{
					ObjectMeta: metav1.ObjectMeta{
						Name: "web", ManagedFields: managedFields(),
						Annotations: map[string]string{lastApplied: `{}`},
					},
					Spec: appsv1.DeploymentSpec{
						Replicas: ptrTo[int32](3),
						Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
							Containers: []corev1.Container{{Name: "web", Image: "nginx"}},
						}},
					},
				}
			},
			want: &appsv1.Deployment{
				ObjectMeta: metav1.ObjectMeta{Name: "web"},
				Spec: appsv1.DeploymentSpec{
					Replicas: ptrTo[int32](3),
					Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
						Containers: []corev1.Container{{Name: "web", Image: "nginx"}},
					}},
				},
			},
		},
		{
			name: "typed object with nothing to strip is unchanged",
			in: func() any {
				return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm", Annotations: map[string]string{"a": "b"}}}
			},
			want: &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm", Annotations: map[string]string{"a": "b"}}},
		},
		{
			name: "metadata-only object is stripped",
			in: func() any {
				return &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{
					Name: "p", ManagedFields: managedFields(), Annotations: map[string]string{lastApplied: "{}", "x": "y"},
				}}
			},
			want: &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: "p", Annotations: map[string]string{"x": "y"}}},
		},
		{
			name: "Application keeps only spec.destination, and all of status",
			in: func() any {
				return obj(applicationGVK, map[string]any{
					"metadata": map[string]any{
						"name": "app", "namespace": "argocd",
						"managedFields": managedFieldsJSON(),
						"annotations":   map[string]any{lastApplied: `{"spec":{}}`, "notified": "yes"},
					},
					"spec": map[string]any{
						"project":     "default",
						"source":      map[string]any{"repoURL": "https://git.example.com/x", "helm": map[string]any{"values": "a: 1"}},
						"destination": map[string]any{"name": "prod", "namespace": "web"},
						"syncPolicy":  map[string]any{"automated": map[string]any{"prune": true}},
					},
					"status": appStatus(),
				})
			},
			want: obj(applicationGVK, map[string]any{
				"metadata": map[string]any{
					"name": "app", "namespace": "argocd",
					"annotations": map[string]any{"notified": "yes"},
				},
				"spec":   map[string]any{"destination": map[string]any{"name": "prod", "namespace": "web"}},
				"status": appStatus(),
			}),
		},
		{
			name: "nested paths keep only the named leaves",
			in: func() any {
				return obj(compositeGVK, map[string]any{
					"metadata": map[string]any{"name": "db", "annotations": map[string]any{lastApplied: "{}"}},
					"spec": map[string]any{
						"parameters": map[string]any{"size": "large"},
						"crossplane": map[string]any{
							"resourceRefs":          []any{map[string]any{"kind": "Instance", "name": "db-1"}},
							"compositionRef":        map[string]any{"name": "aws"},
							"compositeDeletePolicy": "Background",
						},
						"compositionRef": map[string]any{"name": "aws", "uid": "1234"},
					},
				})
			},
			want: obj(compositeGVK, map[string]any{
				"metadata": map[string]any{"name": "db"},
				"spec": map[string]any{
					"crossplane":     map[string]any{"resourceRefs": []any{map[string]any{"kind": "Instance", "name": "db-1"}}},
					"compositionRef": map[string]any{"name": "aws"},
				},
			}),
		},
		{
			name: "only the paths that exist are kept",
			in: func() any {
				return obj(compositeGVK, map[string]any{
					"metadata": map[string]any{"name": "db"},
					"spec": map[string]any{
						"crossplane":     map[string]any{"compositionRef": map[string]any{"name": "aws"}},
						"compositionRef": map[string]any{"name": "aws", "uid": "1234"},
					},
				})
			},
			want: obj(compositeGVK, map[string]any{
				"metadata": map[string]any{"name": "db"},
				"spec":     map[string]any{"compositionRef": map[string]any{"name": "aws"}},
			}),
		},
		{
			name: "no listed path exists: spec is dropped",
			in: func() any {
				return obj(applicationGVK, map[string]any{
					"metadata": map[string]any{"name": "app"},
					"spec":     map[string]any{"project": "default", "source": map[string]any{"path": "."}},
					"status":   appStatus(),
				})
			},
			want: obj(applicationGVK, map[string]any{"metadata": map[string]any{"name": "app"}, "status": appStatus()}),
		},
		{
			name: "known kind that reads no spec: spec is dropped",
			in: func() any {
				return obj(workflowGVK, map[string]any{
					"metadata": map[string]any{"name": "wf"},
					"spec":     map[string]any{"templates": []any{map[string]any{"name": "main"}}},
					"status":   map[string]any{"phase": "Running"},
				})
			},
			want: obj(workflowGVK, map[string]any{
				"metadata": map[string]any{"name": "wf"},
				"status":   map[string]any{"phase": "Running"},
			}),
		},
		{
			name: "unknown kind keeps its spec; metadata is still stripped",
			in: func() any {
				return obj(schema.GroupVersionKind{Group: "tf.example.org", Version: "v1", Kind: "Workspace"}, map[string]any{
					"metadata": map[string]any{
						"name": "ws", "managedFields": managedFieldsJSON(),
						"annotations": map[string]any{lastApplied: "{}"},
					},
					"spec": map[string]any{"module": "vpc", "vars": []any{"a", "b"}},
				})
			},
			want: obj(schema.GroupVersionKind{Group: "tf.example.org", Version: "v1", Kind: "Workspace"}, map[string]any{
				"metadata": map[string]any{"name": "ws"},
				"spec":     map[string]any{"module": "vpc", "vars": []any{"a", "b"}},
			}),
		},
		{
			name: "a shorter path keeps the whole subtree, whatever the order",
			in: func() any {
				return obj(overlapGVK, map[string]any{"spec": map[string]any{
					"a": map[string]any{"b": 1, "z": 2},
					"c": map[string]any{"d": 3, "e": 4, "f": 5},
					"g": 6,
				}})
			},
			want: obj(overlapGVK, map[string]any{"spec": map[string]any{
				"a": map[string]any{"b": 1, "z": 2},
				"c": map[string]any{"d": 3, "e": 4},
			}}),
		},
		{
			name: "a shorter path listed first keeps the whole subtree too",
			in: func() any {
				return obj(overlapRevGVK, map[string]any{"spec": map[string]any{
					"a": map[string]any{"b": 1, "z": 2}, "g": 6,
				}})
			},
			want: obj(overlapRevGVK, map[string]any{"spec": map[string]any{
				"a": map[string]any{"b": 1, "z": 2},
			}}),
		},
		{
			name: "an empty path keeps the whole spec",
			in: func() any {
				return obj(wholeGVK, map[string]any{"spec": map[string]any{"x": 1, "y": 2}})
			},
			want: obj(wholeGVK, map[string]any{"spec": map[string]any{"x": 1, "y": 2}}),
		},
		{
			name: "a null value at a kept path is kept",
			in: func() any {
				return obj(applicationGVK, map[string]any{"spec": map[string]any{"destination": nil, "project": "p"}})
			},
			want: obj(applicationGVK, map[string]any{"spec": map[string]any{"destination": nil}}),
		},
		{
			name: "malformed: spec is a string",
			in: func() any {
				return obj(applicationGVK, map[string]any{"metadata": map[string]any{"name": "app"}, "spec": "oops"})
			},
			want: obj(applicationGVK, map[string]any{"metadata": map[string]any{"name": "app"}}),
		},
		{
			name: "malformed: spec is a list",
			in: func() any {
				return obj(applicationGVK, map[string]any{"spec": []any{map[string]any{"destination": "x"}}})
			},
			want: obj(applicationGVK, map[string]any{}),
		},
		{
			name: "malformed: spec is null",
			in: func() any {
				return obj(applicationGVK, map[string]any{"spec": nil})
			},
			want: obj(applicationGVK, map[string]any{}),
		},
		{
			name: "malformed: spec is a nil map",
			in: func() any {
				return obj(applicationGVK, map[string]any{"spec": map[string]any(nil)})
			},
			want: obj(applicationGVK, map[string]any{}),
		},
		{
			name: "malformed: a path runs through a value that is not an object",
			in: func() any {
				return obj(compositeGVK, map[string]any{"spec": map[string]any{
					"crossplane":     "oops",
					"compositionRef": []any{"name"},
				}})
			},
			want: obj(compositeGVK, map[string]any{}),
		},
		{
			name: "malformed: a path runs through a nil map",
			in: func() any {
				return obj(compositeGVK, map[string]any{"spec": map[string]any{
					"crossplane":     map[string]any(nil),
					"compositionRef": map[string]any{"name": "aws"},
				}})
			},
			want: obj(compositeGVK, map[string]any{"spec": map[string]any{
				"compositionRef": map[string]any{"name": "aws"},
			}}),
		},
		{
			name: "malformed metadata is left alone; spec is still cut",
			in: func() any {
				return obj(applicationGVK, map[string]any{"metadata": "oops", "spec": map[string]any{"project": "p"}})
			},
			want: obj(applicationGVK, map[string]any{"metadata": "oops"}),
		},
		{
			name: "malformed annotations and managedFields",
			in: func() any {
				return obj(applicationGVK, map[string]any{"metadata": map[string]any{
					"annotations": []any{lastApplied}, "managedFields": "oops",
				}})
			},
			want: obj(applicationGVK, map[string]any{"metadata": map[string]any{"annotations": []any{lastApplied}}}),
		},
		{
			name: "nil metadata and annotation maps",
			in: func() any {
				return obj(applicationGVK, map[string]any{
					"metadata": map[string]any{"annotations": map[string]any(nil)},
				})
			},
			want: obj(applicationGVK, map[string]any{"metadata": map[string]any{"annotations": map[string]any(nil)}}),
		},
		{
			name: "apiVersion that is not a string reads as an unknown kind",
			in: func() any {
				return &unstructured.Unstructured{Object: map[string]any{
					"apiVersion": 7, "kind": "Application", "spec": map[string]any{"a": 1},
				}}
			},
			want: &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": 7, "kind": "Application", "spec": map[string]any{"a": 1},
			}},
		},
		{
			name: "unstructured without a map",
			in:   func() any { return &unstructured.Unstructured{} },
			want: &unstructured.Unstructured{},
		},
		{
			name: "nil unstructured",
			in:   func() any { return (*unstructured.Unstructured)(nil) },
			want: (*unstructured.Unstructured)(nil),
		},
		{
			name: "nil typed object",
			in:   func() any { return (*corev1.ConfigMap)(nil) },
			want: (*corev1.ConfigMap)(nil),
		},
		{
			name: "keepSpec panics: object passes through with its metadata stripped",
			in: func() any {
				return obj(panicGVK, map[string]any{
					"metadata": map[string]any{"name": "p", "managedFields": managedFieldsJSON()},
					"spec":     map[string]any{"a": 1},
				})
			},
			want: obj(panicGVK, map[string]any{"metadata": map[string]any{"name": "p"}, "spec": map[string]any{"a": 1}}),
		},
		{
			name: "tombstone passes through, object inside untouched",
			in:   func() any { return tombstone() },
			want: tombstone(),
		},
		{
			name: "tombstone pointer passes through",
			in:   func() any { t := tombstone(); return &t },
			want: ptrTo(tombstone()),
		},
		{
			name: "object without object metadata passes through",
			in:   func() any { return &metav1.Status{Status: metav1.StatusFailure, Message: "gone"} },
			want: &metav1.Status{Status: metav1.StatusFailure, Message: "gone"},
		},
		{
			name: "unstructured list passes through",
			in: func() any {
				return &unstructured.UnstructuredList{Items: []unstructured.Unstructured{*obj(applicationGVK, map[string]any{
					"metadata": map[string]any{"managedFields": managedFieldsJSON()},
				})}}
			},
			want: &unstructured.UnstructuredList{Items: []unstructured.Unstructured{*obj(applicationGVK, map[string]any{
				"metadata": map[string]any{"managedFields": managedFieldsJSON()},
			})}},
		},
		{
			name: "a plain value passes through",
			in:   func() any { return "ns/name" },
			want: "ns/name",
		},
		{
			name: "nil passes through",
			in:   func() any { return nil },
			want: nil,
		},
	}

	transform := New(keepSpec)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in()
			got, err := transform(in)
			if err != nil {
				t.Fatalf("transform returned error %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("transform mismatch (-want +got):\n%s", diff)
			}
			// Informers store what the transform returns: it must be the object given,
			// not a copy.
			if v := reflect.ValueOf(in); v.Kind() == reflect.Pointer && got != in {
				t.Errorf("transform returned %p, want the object it was given, %p", got, in)
			}

			// A second pass must find nothing to do (client-go asks for idempotent
			// transforms) and must not replace the spec it already cut.
			u, ok := got.(*unstructured.Unstructured)
			if !ok || u == nil {
				return
			}
			specBefore := mapPointer(u.Object["spec"])
			again, _ := transform(got)
			if diff := cmp.Diff(tt.want, again); diff != "" {
				t.Errorf("second pass changed the object (-want +got):\n%s", diff)
			}
			if mapPointer(u.Object["spec"]) != specBefore {
				t.Errorf("second pass replaced .spec")
			}
		})
	}
}

func mapPointer(v any) uintptr {
	if m, ok := v.(map[string]any); ok {
		return reflect.ValueOf(m).Pointer()
	}
	return 0
}

// TestNilKeepSpec checks that without a keepSpec the transform still strips metadata and
// keeps every spec.
func TestNilKeepSpec(t *testing.T) {
	in := obj(applicationGVK, map[string]any{
		"metadata": map[string]any{"name": "app", "managedFields": managedFieldsJSON()},
		"spec":     map[string]any{"project": "default"},
	})
	got, err := New(nil)(in)
	if err != nil {
		t.Fatal(err)
	}
	want := obj(applicationGVK, map[string]any{
		"metadata": map[string]any{"name": "app"},
		"spec":     map[string]any{"project": "default"},
	})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

// TestSecondPassDoesNotRace runs the transform again on objects other goroutines are
// reading, as a cache would if the same objects were handed to it twice. Under -race it
// fails if the second pass writes anything.
func TestSecondPassDoesNotRace(t *testing.T) {
	transform := New(keepSpec)
	objs := []any{
		obj(applicationGVK, map[string]any{
			"metadata": map[string]any{"name": "app", "managedFields": managedFieldsJSON(),
				"annotations": map[string]any{lastApplied: "{}", "a": "b"}},
			"spec": map[string]any{"destination": map[string]any{"name": "prod"}, "project": "p"},
		}),
		obj(overlapGVK, map[string]any{"spec": map[string]any{
			"a": map[string]any{"b": 1, "z": 2}, "c": map[string]any{"d": 3, "f": 5},
		}}),
		obj(overlapRevGVK, map[string]any{"spec": map[string]any{
			"a": map[string]any{"b": 1, "z": 2}, "g": 6,
		}}),
		obj(compositeGVK, map[string]any{"spec": map[string]any{
			"crossplane": map[string]any{"resourceRefs": []any{}, "x": 1},
		}}),
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
			Name: "cm", ManagedFields: managedFields(), Annotations: map[string]string{lastApplied: "{}", "a": "b"},
		}},
	}
	for _, o := range objs {
		if _, err := transform(o); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for _, o := range objs {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range 50 {
				if _, err := json.Marshal(o); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range 50 {
				_, _ = transform(o)
			}
		}()
	}
	wg.Wait()
}

func ptrTo[T any](v T) *T { return &v }
