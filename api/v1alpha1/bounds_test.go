package v1alpha1

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
)

// statusBounds names, for each bounded field of status, the constant of bounds.go that
// bounds it: its maxLength for a string, its maxItems for a list. A path names a list's
// entries with "[]".
var statusBounds = map[string]int64{
	"status.ready":                MaxReadyLength,
	"status.message":              MaxMessageLength,
	"status.revision":             MaxRevisionLength,
	"status.clusters":             MaxClustersLength,
	"status.lastRun":              MaxRunPhaseLength,
	"status.relations":            MaxRelations,
	"status.relations[]":          MaxRelationLength,
	"status.conditions":           MaxStatusConditions,
	"status.conditions[].type":    MaxConditionTypeLength,
	"status.conditions[].reason":  MaxConditionReasonLength,
	"status.conditions[].message": MaxConditionMessageLength,
	"status.runs":                 MaxStatusRuns,
	"status.runs[].name":          MaxNameLength,
	"status.runs[].namespace":     MaxNamespaceLength,
	"status.runs[].phase":         MaxRunPhaseLength,
	"status.sources":              MaxStatusSources,
	"status.sources[].id":         MaxSourceIDLength,
	"status.sources[].apiVersion": MaxAPIVersionLength,
	"status.sources[].kind":       MaxKindLength,
	"status.sources[].namespace":  MaxNamespaceLength,
	"status.sources[].name":       MaxNameLength,
	"status.sources[].cluster":    MaxClusterLength,
	"status.sources[].phase":      MaxPhaseLength,
	"status.sources[].ready":      MaxReadyLength,
	"status.sources[].message":    MaxMessageLength,
}

// specBounds are the bounds of the spec fields the controller writes itself.
var specBounds = map[string]int64{
	"spec.type":        MaxTypeLength,
	"spec.lifecycle":   MaxLifecycleLength,
	"spec.title":       MaxTitleLength,
	"spec.description": MaxDescriptionLength,
	"spec.owner":       MaxEntityRefLength,
	"spec.system":      MaxEntityRefLength,
	"spec.dependsOn[]": MaxEntityRefLength,
}

// TestStatusBounds checks bounds.go against the generated CRD: every string and list
// field of status has a bound, every maxLength and maxItems of status is the constant
// statusBounds names for it, and the spec fields the controller writes are bounded as
// their constants say. A status field added without a bound, or a marker changed
// without its constant, fails here.
func TestStatusBounds(t *testing.T) {
	root := readCRDSchema(t)

	got := map[string]int64{}
	var unbounded []string
	walkSchema(root.Properties["status"], "status", got, &unbounded)
	sort.Strings(unbounded)
	for _, path := range unbounded {
		t.Errorf("%s has no bound in the CRD: give it a maxLength (a string) or maxItems (a list), and a constant in bounds.go", path)
	}
	compareBounds(t, got, statusBounds)

	spec := map[string]int64{}
	walkSchema(root.Properties["spec"], "spec", spec, new([]string))
	for path := range spec {
		if _, ok := specBounds[path]; !ok {
			delete(spec, path) // the spec is people's; only what the controller writes is listed
		}
	}
	compareBounds(t, spec, specBounds)
}

// compareBounds reports every path whose bound in the CRD (got) differs from its
// constant (want), is not in want, or is in want but not bounded in the CRD.
func compareBounds(t *testing.T, got, want map[string]int64) {
	t.Helper()
	for path, crd := range got {
		c, ok := want[path]
		switch {
		case !ok:
			t.Errorf("%s is bounded to %d in the CRD but has no constant in bounds.go", path, crd)
		case c != crd:
			t.Errorf("%s: the CRD bounds it to %d, its constant in bounds.go is %d", path, crd, c)
		}
	}
	for path := range want {
		if _, ok := got[path]; !ok {
			t.Errorf("%s has a constant in bounds.go, but no maxLength or maxItems in the CRD", path)
		}
	}
}

// walkSchema records, under path, the maxLength of every string and the maxItems of
// every list in s, and the strings and lists that have none. A string restricted to an
// enum or to a date-time is bounded by that.
func walkSchema(s apiextensionsv1.JSONSchemaProps, path string, bounds map[string]int64, unbounded *[]string) {
	switch s.Type {
	case "string":
		switch {
		case s.MaxLength != nil:
			bounds[path] = *s.MaxLength
		case len(s.Enum) > 0, s.Format == "date-time":
		default:
			*unbounded = append(*unbounded, path)
		}
	case "array":
		if s.MaxItems != nil {
			bounds[path] = *s.MaxItems
		} else {
			*unbounded = append(*unbounded, path)
		}
		if s.Items != nil && s.Items.Schema != nil {
			walkSchema(*s.Items.Schema, path+"[]", bounds, unbounded)
		}
	case "object":
		for name, p := range s.Properties {
			walkSchema(p, path+"."+name, bounds, unbounded)
		}
		if s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil {
			walkSchema(*s.AdditionalProperties.Schema, path+"[*]", bounds, unbounded)
		}
	}
}

// readCRDSchema returns the schema of the CatalogEntity CRD that controller-gen wrote,
// at the version of this package.
func readCRDSchema(t *testing.T) apiextensionsv1.JSONSchemaProps {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "config", "crd", "bases", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var crd apiextensionsv1.CustomResourceDefinition
		if err := yaml.Unmarshal(b, &crd); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if crd.Spec.Group != GroupVersion.Group || crd.Spec.Names.Kind != "CatalogEntity" {
			continue
		}
		for _, v := range crd.Spec.Versions {
			if v.Name == GroupVersion.Version && v.Schema != nil && v.Schema.OpenAPIV3Schema != nil {
				return *v.Schema.OpenAPIV3Schema
			}
		}
		t.Fatalf("%s has no schema for version %s", f, GroupVersion.Version)
	}
	t.Fatalf("no CatalogEntity CRD among %v; run make manifests", files)
	return apiextensionsv1.JSONSchemaProps{}
}
