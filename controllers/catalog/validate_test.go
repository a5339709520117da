package catalog

import (
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	valid := Entity{
		APIVersion: APIVersion, Kind: "Component",
		Metadata: Metadata{Name: "a", Namespace: "default", Annotations: map[string]string{"example.com/x": "any value"}},
		Spec:     Spec{Type: "service", Lifecycle: "production", Owner: "team"},
	}
	if err := Validate(valid); err != nil {
		t.Fatalf("Validate(valid) = %v", err)
	}
	tests := map[string]struct {
		change func(*Entity)
		want   string
	}{
		"apiVersion":          {func(d *Entity) { d.APIVersion = "backstage.io/v1beta1" }, "apiVersion"},
		"kind":                {func(d *Entity) { d.Kind = "Group" }, "kind"},
		"empty name":          {func(d *Entity) { d.Metadata.Name = "" }, "metadata.name"},
		"name ending in dash": {func(d *Entity) { d.Metadata.Name = "a-" }, "metadata.name"},
		"namespace":           {func(d *Entity) { d.Metadata.Namespace = "a_b" }, "metadata.namespace"},
		"annotation key with two slashes": {
			func(d *Entity) { d.Metadata.Annotations["a/b/c"] = "" }, "annotation key",
		},
		"annotation key with a bad prefix": {
			func(d *Entity) { d.Metadata.Annotations["Example.com/x"] = "" }, "annotation key",
		},
		"annotation name too long": {
			func(d *Entity) { d.Metadata.Annotations["example.com/"+strings.Repeat("x", 64)] = "" }, "annotation key",
		},
		"tag":                       {func(d *Entity) { d.Metadata.Tags = []string{"Java"} }, "tags[0]"},
		"link url":                  {func(d *Entity) { d.Metadata.Links = []Link{{URL: "example.com"}} }, "links[0].url"},
		"blank link title":          {func(d *Entity) { d.Metadata.Links = []Link{{URL: "https://a.b", Title: " "}} }, "links[0].title"},
		"link icon":                 {func(d *Entity) { d.Metadata.Links = []Link{{URL: "https://a.b", Icon: "-x"}} }, "links[0].icon"},
		"no owner":                  {func(d *Entity) { d.Spec.Owner = "" }, "spec.owner is required"},
		"component without type":    {func(d *Entity) { d.Spec.Type = "" }, "spec.type is required"},
		"component blank lifecycle": {func(d *Entity) { d.Spec.Lifecycle = " " }, "spec.lifecycle is required"},
		"resource without type": {
			func(d *Entity) { d.Kind, d.Spec.Type, d.Spec.Lifecycle = "Resource", "", "" }, "spec.type is required",
		},
		"api without definition": {func(d *Entity) { d.Kind = "API" }, "spec.definition is required"},
		"definition on a component": {
			func(d *Entity) { d.Spec.Definition = &Definition{Text: "https://a.b"} }, "spec.definition is only for kind API",
		},
		"kindless dependsOn": {func(d *Entity) { d.Spec.DependsOn = []string{"default/db"} }, "has no kind"},
		"invalid system":     {func(d *Entity) { d.Spec.System = "system:" }, "spec.system"},
		"invalid UTF-8":      {func(d *Entity) { d.Metadata.Description = "\xff" }, "UTF-8"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			d := valid
			d.Metadata.Annotations = map[string]string{"example.com/x": "any value"}
			tt.change(&d)
			err := Validate(d)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want an error about %q", err, tt.want)
			}
		})
	}
	// What Backstage accepts and the validator must not refuse.
	for name, change := range map[string]func(*Entity){
		"System without type":     func(d *Entity) { d.Kind, d.Spec.Type, d.Spec.Lifecycle = "System", "", "" },
		"Domain without type":     func(d *Entity) { d.Kind, d.Spec.Type, d.Spec.Lifecycle = "Domain", "", "" },
		"Resource, no lifecycle":  func(d *Entity) { d.Kind, d.Spec.Lifecycle = "Resource", "" },
		"no namespace":            func(d *Entity) { d.Metadata.Namespace = "" },
		"underscores in the name": func(d *Entity) { d.Metadata.Name = "My_Service.v2" },
		"tags with + and #":       func(d *Entity) { d.Metadata.Tags = []string{"c++", "c#", "a-b"} },
		"custom link scheme":      func(d *Entity) { d.Metadata.Links = []Link{{URL: "slack://channel?id=1"}} },
		"kindless owner":          func(d *Entity) { d.Spec.Owner = "payments" },
	} {
		d := valid
		change(&d)
		if err := Validate(d); err != nil {
			t.Errorf("%s: Validate() = %v, want nil", name, err)
		}
	}
}
