// Package helm renders and lints the Helm chart in dist/chart with the Helm SDK, as
// `helm template` and `helm lint` do, for the chart's tests and the end-to-end suite.
package helm

import (
	"bytes"
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	"helm.sh/helm/v3/pkg/releaseutil"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/entityhub/entityhub/test/testenv"
)

// Release is how the tests install the chart: `helm install entityhub dist/chart -n
// entityhub-system`, the command README gives, which names every object as
// config/default does.
const (
	ReleaseName      = "entityhub"
	ReleaseNamespace = "entityhub-system"
)

// ChartDir is the chart's directory.
func ChartDir() string { return filepath.Join(testenv.RepoRoot(), "dist", "chart") }

// Options are a render's values and the API versions the cluster is taken to serve
// beyond the built-in ones (`helm template --api-versions`).
type Options struct {
	Values      map[string]any
	APIVersions []string
}

// Render renders the chart as `helm template --include-crds` does for release
// ReleaseName in ReleaseNamespace: the CRDs of crds/ first, then every template in
// Helm's install order, as one multi-document YAML stream.
func Render(opts Options) (string, error) {
	ch, err := loader.Load(ChartDir())
	if err != nil {
		return "", err
	}
	caps := chartutil.DefaultCapabilities.Copy()
	caps.APIVersions = append(caps.APIVersions, opts.APIVersions...)
	values, err := chartutil.ToRenderValues(ch, opts.Values, chartutil.ReleaseOptions{
		Name: ReleaseName, Namespace: ReleaseNamespace, Revision: 1, IsInstall: true,
	}, caps)
	if err != nil {
		return "", err
	}
	files, err := engine.Render(ch, values)
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	for _, crd := range ch.CRDObjects() {
		fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", crd.Filename, bytes.TrimSpace(crd.File.Data))
	}
	for _, name := range templateNames(files) {
		manifests := releaseutil.SplitManifests(files[name])
		keys := make([]string, 0, len(manifests))
		for k := range manifests {
			keys = append(keys, k)
		}
		sort.Sort(releaseutil.BySplitManifestsOrder(keys))
		for _, k := range keys {
			if doc := strings.TrimSpace(manifests[k]); doc != "" {
				fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", name, doc)
			}
		}
	}
	return out.String(), nil
}

// templateNames are the rendered templates that hold manifests, sorted: not NOTES.txt,
// not partials, not those that rendered to nothing.
func templateNames(files map[string]string) []string {
	var names []string
	for name, body := range files {
		base := path.Base(name)
		if strings.HasPrefix(base, "_") || base == "NOTES.txt" || strings.TrimSpace(body) == "" {
			continue
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Objects renders the chart and decodes every object.
func Objects(opts Options) ([]*unstructured.Unstructured, error) {
	stream, err := Render(opts)
	if err != nil {
		return nil, err
	}
	return Decode(stream)
}

// Decode splits a multi-document YAML stream into objects, leaving out empty documents.
func Decode(stream string) ([]*unstructured.Unstructured, error) {
	var objs []*unstructured.Unstructured
	for i, doc := range strings.Split("\n"+stream, "\n---") {
		obj := map[string]any{}
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if len(obj) == 0 {
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: obj})
	}
	return objs, nil
}

// Lint lints the chart with values as `helm lint --strict` does, and returns what it
// found at warning or error severity (information, such as a missing icon, is left out).
func Lint(values map[string]any) []support.Message {
	var found []support.Message
	for _, m := range lint.All(ChartDir(), values, ReleaseNamespace, false).Messages {
		if m.Severity >= support.WarningSev {
			found = append(found, m)
		}
	}
	return found
}

// Chart loads the chart, for its metadata.
func Chart() (*chart.Chart, error) { return loader.Load(ChartDir()) }
