package catalog

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

// FuzzDescriptor feeds random spec fields to Build — far more than the CRD would let
// through, since the endpoint must hold even for objects the API server never checked.
// Build must not panic; a left-out entity's error must be a *Problem; a descriptor it
// publishes must pass Validate and come back unchanged from its YAML document, which is
// what Backstage reads.
func FuzzDescriptor(f *testing.F) {
	f.Add("payments", "Component", "service", "production", "group:default/payments", "system:default/shop",
		"Payments", "Takes the money.", "java", "Team-A", "https://grafana.example.com/d/1", "Dashboard", "dashboard",
		"resource:default/db", "component:shop/ledger", "default", "group:default/platform", "")
	f.Add("db", "Resource", "", "", "", "", "", "", "c++", "#", "/relative", " ", "bad icon", "db", "x", "shop", "", "")
	f.Add("shop", "System", "", "", "team", "domain:default/commerce", " ", "\xff\xfe", "", "", "javascript:alert(1)", "", "", "", "", "a--b", "team", "")
	f.Add("api", "API", "openapi", "", "", "", "", "", "", "", "mailto:a@b", "", "", "", "", "", "team", "https://git.example.com/api.yaml")
	f.Add("commerce", "Domain", "", "", "", "parent", "", "", "", "", "https://[::1]:99999/", "", "", "", "", "", "team", "")
	f.Add("a--b", "Template", "\x00", "\n", "group:Default/x", "system:", "yes", "---\n...", "UPPER", "a b", "HTTP://EXAMPLE.COM", "~", "a_b", "Component:x", "group:a/b/c", "Shop", "x:y:z", "ftp://")
	f.Fuzz(func(t *testing.T, name, kind, typ, lifecycle, owner, system, title, description, tag1, tag2,
		linkURL, linkTitle, linkIcon, dep, relation, catalogNamespace, defaultOwner, apiDefinition string) {
		e := newEntity(name, func(e *catalogv1alpha1.CatalogEntity) {
			e.Spec = catalogv1alpha1.CatalogEntitySpec{
				Kind: catalogv1alpha1.EntityKind(kind), Type: typ, Lifecycle: lifecycle,
				Owner: catalogv1alpha1.EntityRef(owner), System: catalogv1alpha1.EntityRef(system),
				Title: title, Description: description,
				Tags:             []catalogv1alpha1.Tag{catalogv1alpha1.Tag(tag1), catalogv1alpha1.Tag(tag2)},
				Links:            []catalogv1alpha1.Link{{URL: linkURL, Title: linkTitle, Icon: linkIcon, Type: linkTitle}},
				DependsOn:        []catalogv1alpha1.EntityRef{catalogv1alpha1.EntityRef(dep)},
				CatalogNamespace: catalogNamespace,
			}
			e.Status.Relations = []string{relation}
			if apiDefinition != "" {
				e.Annotations = map[string]string{AnnotationAPIDefinitionURL: apiDefinition}
			}
		})
		o := Options{LocationURL: "http://entityhub:8082/" + title, DefaultOwner: defaultOwner, DefaultType: tag1, DefaultLifecycle: tag2}

		d, err := buildOne(t, e, o)
		if err != nil {
			var p *Problem
			if !errors.As(err, &p) {
				t.Fatalf("Build() left-out error %v is not a *Problem", err)
			}
			if strings.Contains(p.Reason, "the descriptor would not be valid") {
				t.Fatalf("Build() built an invalid descriptor instead of fixing or refusing it: %v", err)
			}
			return
		}
		if err := Validate(d); err != nil {
			t.Fatalf("Validate(Build()) = %v\n%+v", err, d)
		}
		body, err := EncodeYAML([]Entity{d})
		if err != nil {
			t.Fatalf("EncodeYAML() = %v", err)
		}
		docs := splitYAML(t, body)
		if len(docs) != 1 {
			t.Fatalf("one descriptor gave %d YAML documents:\n%s", len(docs), body)
		}
		var back Entity
		if err := yaml.UnmarshalStrict(docs[0], &back); err != nil {
			t.Fatalf("parsing our own YAML: %v\n%s", err, body)
		}
		if diff := cmp.Diff(d, back); diff != "" {
			t.Fatalf("the YAML document reads back differently (-sent +read):\n%s\n%s", diff, body)
		}
	})
}
