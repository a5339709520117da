// Package sourcetest holds test helpers shared by the tests of the source packages
// under controllers/sources: decoding manifests and fixtures, deep copies, the cache
// transform, fuzz seeds and the API's health words. It is imported only by tests.
package sourcetest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/cachetransform"
	"github.com/entityhub/entityhub/controllers/sources"
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

// StripForCache returns a copy of obj as the manager's cache holds it: through the
// project's cache transform, with .spec cut down to keep and the annotations cut down
// to those named and the catalog.entityhub.dev/ ones (sources.KeepAnnotations). It panics if the transform
// fails, which the transform promises never to do.
func StripForCache(obj map[string]any, keep [][]string, annotations []string) map[string]any {
	cp := &unstructured.Unstructured{Object: CopyValue(obj).(map[string]any)}
	transform := cachetransform.New(func(schema.GroupVersionKind) ([][]string, bool) {
		return keep, true
	})
	if _, err := transform(cp); err != nil {
		panic(err) // the transform promises never to fail
	}
	sources.KeepAnnotations(cp, annotations)
	return cp.Object
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
