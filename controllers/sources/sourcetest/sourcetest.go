// Package sourcetest holds test helpers shared by the tests of the source packages
// under controllers/sources: decoding manifests and fixtures, deep copies, the cache
// pipeline, fuzz seeds and the API's health words. It is imported only by tests.
package sourcetest

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/sources"
	"github.com/entityhub/entityhub/controllers/watches"
)

// HealthWords are the API's six health words, written out here so that a change to the
// API's constants is caught.
var HealthWords = map[catalogv1alpha1.Health]bool{
	"Healthy": true, "Suspended": true, "Progressing": true, "Missing": true, "Degraded": true, "Unknown": true,
}

// DecodeManifest decodes YAML the way sigs.k8s.io/yaml does for any client: through
// JSON into map[string]any, so numbers are float64. A manifest that does not decode
// fails t.
func DecodeManifest(t testing.TB, manifest string) *unstructured.Unstructured {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(manifest), &m); err != nil {
		t.Fatalf("bad manifest in test: %v\n%s", err, manifest)
	}
	return &unstructured.Unstructured{Object: m}
}

// LoadManifest decodes the fixture name from the testdata directory of the package
// under test, as DecodeManifest does.
func LoadManifest(t testing.TB, name string) *unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return DecodeManifest(t, string(data))
}

// Fixtures decodes every YAML fixture in the testdata directory of the package under
// test, as LoadManifest does, by file name; it fails t when there is none.
func Fixtures(t testing.TB) map[string]*unstructured.Unstructured {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	out := make(map[string]*unstructured.Unstructured, len(files))
	for _, f := range files {
		out[filepath.Base(f)] = LoadManifest(t, filepath.Base(f))
	}
	return out
}

// CopyValue deep-copies v. Unlike Unstructured.DeepCopy it copies values a client
// never decodes, such as int, which some test objects hold on purpose.
func CopyValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		if v == nil {
			return v
		}
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = CopyValue(e)
		}
		return out
	case []any:
		if v == nil {
			return v
		}
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = CopyValue(e)
		}
		return out
	default:
		return v
	}
}

// CachedCopy returns obj as a watch of kind k keeps it and gives it back
// (watches.CachedCopy): through the cache transform, the kind's Trim, its annotations
// and the uids dropped, compacted to JSON and decoded again. k is the kind as the
// family's KindsFor makes it, so that a test checks what the cache really keeps. obj is
// not changed. It fails t when the pipeline does, or when obj holds a value no JSON
// decoder produces (see FromDecoder): the cache never receives such an object.
func CachedCopy(t testing.TB, k sources.Kind, obj *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	if obj == nil || !FromDecoder(obj.Object) {
		t.Fatalf("CachedCopy of %#v: the cache only ever holds objects decoded from JSON", obj)
	}
	cp, err := watches.CachedCopy(k, obj)
	if err != nil {
		t.Fatalf("caching %v: %v", obj.Object, err)
	}
	return cp
}

// FamilyKind returns the kind family f makes of the CRD of group and kind, in
// categories, as its KindsFor makes it for the manager; it fails t unless f makes
// exactly one. The CRD serves and stores v1 only: which version it is changes nothing
// of what the cache keeps.
func FamilyKind(t testing.TB, f sources.Family, group, kind string, categories ...string) sources.Kind {
	t.Helper()
	crd := &apiextensionsv1.CustomResourceDefinition{Spec: apiextensionsv1.CustomResourceDefinitionSpec{
		Group:    group,
		Names:    apiextensionsv1.CustomResourceDefinitionNames{Kind: kind, Categories: categories},
		Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{Name: "v1", Served: true, Storage: true}},
	}}
	kinds := f.KindsFor(crd)
	if len(kinds) != 1 {
		t.Fatalf("family %s makes %d kinds of the CRD of %s.%s", f.Name(), len(kinds), kind, group)
	}
	return kinds[0]
}

// FromDecoder reports whether v holds only what a JSON decoder produces — objects as
// map[string]any, arrays as []any, valid UTF-8 strings, bools, finite float64, int64
// and nil — so that it could come from the API server. Table tests build some objects
// of other Go types, or with invalid UTF-8, on purpose, to check that a mapper reads
// them; the cache never holds such an object.
func FromDecoder(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if !utf8.ValidString(k) || !FromDecoder(e) {
				return false
			}
		}
		return true
	case []any:
		for _, e := range v {
			if !FromDecoder(e) {
				return false
			}
		}
		return true
	case float64:
		return !math.IsNaN(v) && !math.IsInf(v, 0)
	case string:
		return utf8.ValidString(v)
	case nil, bool, int64:
		return true
	}
	return false
}

// AddFixtureSeeds adds the testdata fixtures whose names start with prefix (every
// fixture if prefix is ""), as JSON, so that the fuzzer starts from objects as the
// source's controllers write them. It fails f if there are none.
func AddFixtureSeeds(f *testing.F, prefix string) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", prefix+"*.yaml"))
	if err != nil || len(files) == 0 {
		if prefix == "" {
			f.Fatalf("no fixtures in testdata: %v", err)
		}
		f.Fatalf("no fixtures %s*.yaml in testdata: %v", prefix, err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		js, err := yaml.YAMLToJSON(data)
		if err != nil {
			f.Fatalf("%s: %v", file, err)
		}
		f.Add(js)
	}
}

// DecodeBoth decodes data as encoding/json does (numbers float64) and as a client
// decoding from the API server does (integers int64), or skips t for data that is not
// a JSON object.
func DecodeBoth(t testing.TB, data []byte) []map[string]any {
	var std map[string]any
	if err := json.Unmarshal(data, &std); err != nil || std == nil {
		t.Skip("not a JSON object")
	}
	out := []map[string]any{std}
	var client map[string]any
	// The client decoder rejects some of what encoding/json takes, e.g. numbers too
	// large for float64; then the std decoding is checked alone.
	if err := utiljson.Unmarshal(data, &client); err == nil && client != nil {
		out = append(out, client)
	}
	return out
}
