package watches

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/yaml"

	"github.com/entityhub/entityhub/controllers/sources"
)

// fixtures returns every source fixture of the source packages, decoded as an informer
// decodes what the API server sends: JSON into unstructured, integers as int64.
func fixtures(t testing.TB) map[string]*unstructured.Unstructured {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "sources", "*", "testdata", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	out := map[string]*unstructured.Unstructured{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		js, err := yaml.YAMLToJSON(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = apiDecode(t, js)
	}
	return out
}

func apiDecode(t testing.TB, js []byte) *unstructured.Unstructured {
	t.Helper()
	obj, _, err := unstructured.UnstructuredJSONScheme.Decode(js, nil, nil)
	if err != nil {
		t.Fatalf("decoding %s: %v", js, err)
	}
	return obj.(*unstructured.Unstructured)
}

func keepAll(obj any) any { return obj }

// deepCopy copies u, for comparing with what a transform that works in place left.
func deepCopy(u *unstructured.Unstructured) *unstructured.Unstructured { return u.DeepCopy() }

func TestCompactKeepsTheObject(t *testing.T) {
	transform := compactor(keepAll, kindIndexes(nil))
	for name, obj := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			want := deepCopy(obj)
			out, err := transform(obj)
			if err != nil {
				t.Fatal(err)
			}
			c, ok := out.(*compact)
			if !ok {
				t.Fatalf("transform returned %T, want *compact", out)
			}
			got, err := c.object()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Object, want.Object) {
				t.Errorf("decoded object differs from the one cached:\n got %v\nwant %v", got.Object, want.Object)
			}
			if c.namespace != want.GetNamespace() || c.name != want.GetName() || c.resourceVersion != want.GetResourceVersion() {
				t.Errorf("metadata %q/%q@%q, want %q/%q@%q", c.namespace, c.name, c.resourceVersion,
					want.GetNamespace(), want.GetName(), want.GetResourceVersion())
			}
			for k, v := range want.GetLabels() {
				if got, ok := c.labels.Lookup(k); !ok || got != v {
					t.Errorf("label %s = %q, %v; want %q", k, got, ok, v)
				}
			}
			if len(c.labels) != 2*len(want.GetLabels()) {
				t.Errorf("labels %v, want %v", c.labels, want.GetLabels())
			}
			// client-go asks transforms to be idempotent.
			again, _ := transform(c)
			if again != c {
				t.Errorf("a second pass returned %v, want the same compact object", again)
			}
		})
	}
}

func TestCompactStripsBeforeItEncodes(t *testing.T) {
	dropStatus := func(obj any) any {
		delete(obj.(*unstructured.Unstructured).Object, "status")
		return obj
	}
	obj := apiDecode(t, []byte(`{"apiVersion":"v1","kind":"X","metadata":{"name":"a"},"status":{"big":"yes"}}`))
	out, _ := compactor(dropStatus, nil)(obj)
	got, err := out.(*compact).object()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got.Object["status"]; ok {
		t.Errorf("status kept: %v", got.Object)
	}
}

func TestCompactPassesThroughWhatIsNotAnObject(t *testing.T) {
	tomb := toolscache.DeletedFinalStateUnknown{Key: "ns/a", Obj: &compact{name: "a"}}
	for _, in := range []any{tomb, &compact{name: "a"}, (*unstructured.Unstructured)(nil), &unstructured.Unstructured{}, "text"} {
		out, err := compactor(keepAll, nil)(in)
		if err != nil || !reflect.DeepEqual(out, in) {
			t.Errorf("transform(%#v) = %#v, %v; want it unchanged", in, out, err)
		}
	}
}

func TestCompactIndexes(t *testing.T) {
	owners := func(u *unstructured.Unstructured) []string {
		if v := u.GetLabels()["run-of"]; v != "" {
			return []string{"Cron/" + v, "Template/" + v}
		}
		return nil
	}
	panics := func(*unstructured.Unstructured) []string { panic("malformed") }
	indexes := kindIndexes(map[string]func(*unstructured.Unstructured) []string{"owner": owners, "broken": panics})
	obj := apiDecode(t, []byte(`{"apiVersion":"v1","kind":"X","metadata":{"name":"a","namespace":"ns",
		"labels":{"backstage.io/kubernetes-id":"shop","run-of":"nightly"}}}`))
	idx := indexers(indexes, true)

	out, _ := compactor(keepAll, indexes)(deepCopy(obj))
	for _, form := range []any{out, obj} { // compact, and an object the transform left as it was
		for name, want := range map[string][]string{
			KubernetesIDIndex:         {"shop"},
			"owner":                   {"Cron/nightly", "Template/nightly"},
			"broken":                  nil,
			toolscache.NamespaceIndex: {"ns"},
		} {
			got, err := idx[name](form)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%T: index %s = %v, want %v", form, name, got, want)
			}
		}
	}
}

func TestPairsMatchLikeALabelSet(t *testing.T) {
	sets := []map[string]string{
		nil,
		{"app": "shop"},
		{"app": "shop", "tier": "web", "a": "", "z.example.com/x": "1"},
	}
	selectors := []string{"", "app", "!app", "app=shop", "app!=shop", "app in (shop,cart)", "tier notin (web)", "a=", "z.example.com/x=1,app=shop", "missing"}
	for _, set := range sets {
		p := newPairs(set)
		for _, s := range selectors {
			sel, err := labels.Parse(s)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := sel.Matches(p), sel.Matches(labels.Set(set)); got != want {
				t.Errorf("%q on %v: pairs match %v, a label set %v", s, set, got, want)
			}
		}
		for k, v := range set {
			if !p.Has(k) || p.Get(k) != v {
				t.Errorf("pairs %v: %s = %q, %v; want %q", p, k, p.Get(k), p.Has(k), v)
			}
		}
		if p.Has("absent") || p.Get("absent") != "" {
			t.Errorf("pairs %v have a label they should not", p)
		}
	}
}

// FuzzCompact: whatever object the API server sends, the cache gives back what the API
// server itself would after storing it (a JSON round trip), with the same namespace,
// name, resource version and labels, and the transform never panics.
func FuzzCompact(f *testing.F) {
	for _, obj := range fixtures(f) {
		js, err := json.Marshal(obj.Object)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(js)
	}
	for _, s := range []string{
		`{}`, `{"metadata":null}`, `{"metadata":{"labels":{"a":1}}}`, `{"metadata":{"name":7,"labels":"x"}}`,
		`{"spec":{"n":1.5,"m":3,"big":1e30,"neg":-0}}`, `{"metadata":{"labels":{"":""}}}`,
	} {
		f.Add([]byte(s))
	}
	indexes := kindIndexes(nil)
	transform := compactor(keepAll, indexes)
	f.Fuzz(func(t *testing.T, data []byte) {
		var m map[string]any
		if err := utiljson.Unmarshal(data, &m); err != nil || m == nil {
			return
		}
		obj := &unstructured.Unstructured{Object: m}
		stored, err := json.Marshal(m)
		if err != nil {
			return
		}
		var want map[string]any
		if err := utiljson.Unmarshal(stored, &want); err != nil {
			t.Fatalf("the API server's round trip fails: %v", err)
		}
		ns, name, rv, lbls := obj.GetNamespace(), obj.GetName(), obj.GetResourceVersion(), obj.GetLabels()
		out, err := transform(obj)
		if err != nil {
			t.Fatal(err)
		}
		c, ok := out.(*compact)
		if !ok {
			t.Fatalf("transform returned %T", out)
		}
		got, err := c.object()
		if err != nil {
			t.Fatalf("decoding what was cached: %v", err)
		}
		if !reflect.DeepEqual(got.Object, want) {
			t.Errorf("cached %v, want %v", got.Object, want)
		}
		if c.namespace != ns || c.name != name || c.resourceVersion != rv {
			t.Errorf("metadata %q/%q@%q, want %q/%q@%q", c.namespace, c.name, c.resourceVersion, ns, name, rv)
		}
		if !reflect.DeepEqual(labelsOf(c.labels), lbls) && len(lbls)+len(c.labels) > 0 {
			t.Errorf("labels %v, want %v", c.labels, lbls)
		}
	})
}

// labelsOf turns pairs back into a map.
func labelsOf(p pairs) map[string]string {
	if len(p) == 0 {
		return nil
	}
	out := map[string]string{}
	for i := 0; i+1 < len(p); i += 2 {
		out[p[i]] = p[i+1]
	}
	return out
}

func TestStripSourceDropsUIDs(t *testing.T) {
	m := newManager(Options{})
	obj := apiDecode(t, []byte(`{"apiVersion":"rds.aws.upbound.io/v1beta1","kind":"Instance","metadata":{"name":"a","uid":"1b0e",
		"ownerReferences":[{"apiVersion":"x/v1","kind":"XR","name":"xr","uid":"0b0e","controller":true},"not a reference"]}}`))
	out := m.stripSource(obj).(*unstructured.Unstructured)
	want := apiDecode(t, []byte(`{"apiVersion":"rds.aws.upbound.io/v1beta1","kind":"Instance","metadata":{"name":"a",
		"ownerReferences":[{"apiVersion":"x/v1","kind":"XR","name":"xr","controller":true},"not a reference"]}}`))
	if !reflect.DeepEqual(out.Object, want.Object) {
		t.Errorf("got %v, want %v", out.Object, want.Object)
	}
}

// TestStripSourceKeepsTheAnnotationsRead: a watched kind keeps the annotations it
// declares and ours; a kind forgotten keeps only ours.
func TestStripSourceKeepsTheAnnotationsRead(t *testing.T) {
	m := newManager(Options{})
	m.remember(sources.Kind{GVK: mrGVK, Annotations: []string{"crossplane.io/paused"}})
	in := []byte(`{"apiVersion":"rds.aws.upbound.io/v1beta1","kind":"Instance","metadata":{"name":"a","annotations":{
		"crossplane.io/paused":"true","crossplane.io/external-name":"db-1","catalog.entityhub.dev/owner":"group:default/payments"}}}`)
	for _, tc := range []struct {
		name string
		want string
	}{
		{"watched", `{"crossplane.io/paused":"true","catalog.entityhub.dev/owner":"group:default/payments"}`},
		{"forgotten", `{"catalog.entityhub.dev/owner":"group:default/payments"}`},
	} {
		if tc.name == "forgotten" {
			m.forget(mrGVK)
		}
		out := m.stripSource(apiDecode(t, in)).(*unstructured.Unstructured)
		var want map[string]any
		if err := json.Unmarshal([]byte(tc.want), &want); err != nil {
			t.Fatal(err)
		}
		if got, _, _ := unstructured.NestedMap(out.Object, "metadata", "annotations"); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: annotations %v, want %v", tc.name, got, want)
		}
	}
}

func TestCompactSurvivesAPanickingStrip(t *testing.T) {
	obj := apiDecode(t, []byte(`{"apiVersion":"v1","kind":"X","metadata":{"name":"a"}}`))
	out, err := compactor(func(any) any { panic("a Trim that did not expect this shape") }, nil)(obj)
	if err != nil || out != any(obj) {
		t.Errorf("got %v, %v; want the object as it came", out, err)
	}
	if u, ok, err := cachedObject(out); !ok || err != nil || u.GetName() != "a" {
		t.Errorf("readers cannot read it: %v, %v, %v", u, ok, err)
	}
}
