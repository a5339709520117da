package catalog

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

const testLocation = "http://entityhub.entityhub-system.svc:8082/"

var testOptions = Options{LocationURL: testLocation, DefaultOwner: "group:default/platform-team", CatalogNamespace: "entityhub-system"}

// newEntity is a CatalogEntity in Kubernetes namespace entityhub-system, changed by fns.
func newEntity(name string, fns ...func(*catalogv1alpha1.CatalogEntity)) catalogv1alpha1.CatalogEntity {
	e := catalogv1alpha1.CatalogEntity{ObjectMeta: metav1.ObjectMeta{Namespace: "entityhub-system", Name: name}}
	for _, fn := range fns {
		fn(&e)
	}
	return e
}

// annotations are what every descriptor carries with testOptions.
func annotations(name string) map[string]string {
	return map[string]string{
		AnnotationKubernetesID:            name,
		AnnotationManagedByLocation:       "url:" + testLocation,
		AnnotationManagedByOriginLocation: "url:" + testLocation,
	}
}

// buildOne builds a catalog of e alone: its descriptor, or the *Problem that left it out.
func buildOne(t testing.TB, e catalogv1alpha1.CatalogEntity, o Options) (Entity, error) {
	t.Helper()
	c := Build([]catalogv1alpha1.CatalogEntity{e}, o)
	switch {
	case len(c.Entities) == 1 && len(c.LeftOut) == 0:
		return c.Entities[0], nil
	case len(c.Entities) == 0 && len(c.LeftOut) == 1:
		return Entity{}, c.LeftOut[0]
	}
	t.Fatalf("Build() of one entity = %d entities, left out %v; want one or the other", len(c.Entities), c.LeftOut)
	return Entity{}, nil
}

func TestBuildEntity(t *testing.T) {
	tests := map[string]struct {
		in   catalogv1alpha1.CatalogEntity
		opts *Options
		want Entity
	}{
		"empty spec is a Component with every default": {
			in: newEntity("payments"),
			want: Entity{
				APIVersion: "backstage.io/v1alpha1", Kind: "Component",
				Metadata: Metadata{Name: "payments", Namespace: "default", Annotations: annotations("payments")},
				Spec:     Spec{Type: "service", Lifecycle: "unknown", Owner: "group:default/platform-team"},
			},
		},
		"full Component": {
			in: newEntity("payments", func(e *catalogv1alpha1.CatalogEntity) {
				e.Spec = catalogv1alpha1.CatalogEntitySpec{
					Kind: "Component", Type: "website", Lifecycle: "production", Owner: "group:default/payments",
					System: "system:default/shop", Title: "Payments", Description: "Takes the money.",
					Tags:             []catalogv1alpha1.Tag{"java", "team-payments"},
					Links:            []catalogv1alpha1.Link{{URL: "https://grafana.example.com/d/abc", Title: "Dashboard", Icon: "dashboard", Type: "dashboard"}},
					DependsOn:        []catalogv1alpha1.EntityRef{"resource:default/payments-db", "component:shop/ledger"},
					CatalogNamespace: "shop",
				}
				e.Status.Relations = []string{"resource:shop/queue", "resource:default/payments-db"}
			}),
			want: Entity{
				APIVersion: "backstage.io/v1alpha1", Kind: "Component",
				Metadata: Metadata{
					Name: "payments", Namespace: "shop", Title: "Payments", Description: "Takes the money.",
					Annotations: annotations("payments"), Tags: []string{"java", "team-payments"},
					Links: []Link{{URL: "https://grafana.example.com/d/abc", Title: "Dashboard", Icon: "dashboard", Type: "dashboard"}},
				},
				Spec: Spec{
					Type: "website", Lifecycle: "production", Owner: "group:default/payments", System: "system:default/shop",
					DependsOn: []string{"component:shop/ledger", "resource:default/payments-db", "resource:shop/queue"},
				},
			},
		},
		"Resource has no invented lifecycle": {
			in: newEntity("payments-db", func(e *catalogv1alpha1.CatalogEntity) {
				e.Spec.Kind = "Resource"
				e.Status.Relations = []string{"resource:default/vpc"}
			}),
			want: Entity{
				APIVersion: "backstage.io/v1alpha1", Kind: "Resource",
				Metadata: Metadata{Name: "payments-db", Namespace: "default", Annotations: annotations("payments-db")},
				Spec:     Spec{Type: "unknown", Owner: "group:default/platform-team", DependsOn: []string{"resource:default/vpc"}},
			},
		},
		"Resource keeps a lifecycle it has": {
			in: newEntity("payments-db", func(e *catalogv1alpha1.CatalogEntity) {
				e.Spec.Kind, e.Spec.Type, e.Spec.Lifecycle = "Resource", "database", "production"
			}),
			want: Entity{
				APIVersion: "backstage.io/v1alpha1", Kind: "Resource",
				Metadata: Metadata{Name: "payments-db", Namespace: "default", Annotations: annotations("payments-db")},
				Spec:     Spec{Type: "database", Lifecycle: "production", Owner: "group:default/platform-team"},
			},
		},
		"System: spec.system names its Domain": {
			in: newEntity("shop", func(e *catalogv1alpha1.CatalogEntity) {
				e.Spec.Kind, e.Spec.System, e.Spec.Owner = "System", "domain:default/commerce", "group:default/shop"
			}),
			want: Entity{
				APIVersion: "backstage.io/v1alpha1", Kind: "System",
				Metadata: Metadata{Name: "shop", Namespace: "default", Annotations: annotations("shop")},
				Spec:     Spec{Owner: "group:default/shop", Domain: "domain:default/commerce"},
			},
		},
		"Domain: spec.system names its parent Domain": {
			in: newEntity("commerce", func(e *catalogv1alpha1.CatalogEntity) {
				e.Spec.Kind, e.Spec.System, e.Spec.Type = "Domain", "business", "product-area"
			}),
			want: Entity{
				APIVersion: "backstage.io/v1alpha1", Kind: "Domain",
				Metadata: Metadata{Name: "commerce", Namespace: "default", Annotations: annotations("commerce")},
				Spec:     Spec{Type: "product-area", Owner: "group:default/platform-team", SubdomainOf: "business"},
			},
		},
		"API with a definition URL": {
			in: newEntity("payments-api", func(e *catalogv1alpha1.CatalogEntity) {
				e.Spec.Kind, e.Spec.Type, e.Spec.System = "API", "openapi", "shop"
				e.Annotations = map[string]string{AnnotationAPIDefinitionURL: "https://git.example.com/payments/openapi.yaml"}
			}),
			want: Entity{
				APIVersion: "backstage.io/v1alpha1", Kind: "API",
				Metadata: Metadata{Name: "payments-api", Namespace: "default", Annotations: annotations("payments-api")},
				Spec: Spec{
					Type: "openapi", Lifecycle: "unknown", Owner: "group:default/platform-team", System: "shop",
					Definition: &Definition{Text: "https://git.example.com/payments/openapi.yaml"},
				},
			},
		},
		"options' defaults win over the built-in ones, the spec over both": {
			in:   newEntity("payments", func(e *catalogv1alpha1.CatalogEntity) { e.Spec.Lifecycle = "experimental" }),
			opts: &Options{DefaultOwner: "platform", DefaultLifecycle: "production", DefaultType: "backend"},
			want: Entity{
				APIVersion: "backstage.io/v1alpha1", Kind: "Component",
				Metadata: Metadata{Name: "payments", Namespace: "default", Annotations: map[string]string{AnnotationKubernetesID: "payments"}},
				Spec:     Spec{Type: "backend", Lifecycle: "experimental", Owner: "platform"},
			},
		},
		"fixed: tags lowercased, trimmed and de-duplicated; bad tags, links and icons dropped": {
			in: newEntity("payments", func(e *catalogv1alpha1.CatalogEntity) {
				e.Spec.Tags = []catalogv1alpha1.Tag{"Java", " go ", "java", "c++", "no_underscores", "-lead", "a--b"}
				e.Spec.Links = []catalogv1alpha1.Link{
					{URL: "javascript:alert(1)"}, {URL: "/relative"}, {URL: "https://"}, {URL: "https://ok.example.com", Icon: "not an icon", Title: "  "},
					{URL: "mailto:team@example.com", Title: "Mail"},
				}
				e.Spec.Title = "   "
			}),
			want: Entity{
				APIVersion: "backstage.io/v1alpha1", Kind: "Component",
				Metadata: Metadata{
					Name: "payments", Namespace: "default", Annotations: annotations("payments"),
					Tags:  []string{"java", "go", "c++"},
					Links: []Link{{URL: "https://ok.example.com"}, {URL: "mailto:team@example.com", Title: "Mail"}},
				},
				Spec: Spec{Type: "service", Lifecycle: "unknown", Owner: "group:default/platform-team"},
			},
		},
		"dependsOn: full references, kindless and invalid ones dropped, duplicates across spelling merged": {
			in: newEntity("payments", func(e *catalogv1alpha1.CatalogEntity) {
				e.Spec.CatalogNamespace = "shop"
				e.Spec.DependsOn = []catalogv1alpha1.EntityRef{"Resource:db", "resource:shop/db", "ledger", "not a ref"}
				e.Status.Relations = []string{"resource:db", "component:default/auth", "component:default/auth"}
			}),
			want: Entity{
				APIVersion: "backstage.io/v1alpha1", Kind: "Component",
				Metadata: Metadata{Name: "payments", Namespace: "shop", Annotations: annotations("payments")},
				Spec: Spec{
					Type: "service", Lifecycle: "unknown", Owner: "group:default/platform-team",
					DependsOn: []string{"component:default/auth", "resource:shop/db"},
				},
			},
		},
		"dependsOn dropped on kinds that have none": {
			in: newEntity("shop", func(e *catalogv1alpha1.CatalogEntity) {
				e.Spec.Kind = "System"
				e.Status.Relations = []string{"component:default/auth"}
				e.Spec.System = "system:default/other" // a System is part of a Domain, not a System
			}),
			want: Entity{
				APIVersion: "backstage.io/v1alpha1", Kind: "System",
				Metadata: Metadata{Name: "shop", Namespace: "default", Annotations: annotations("shop")},
				Spec:     Spec{Owner: "group:default/platform-team"},
			},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			o := testOptions
			if tt.opts != nil {
				o = *tt.opts
			}
			got, err := buildOne(t, tt.in, o)
			if err != nil {
				t.Fatalf("Build() left it out: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Build() mismatch (-want +got):\n%s", diff)
			}
			if err := Validate(got); err != nil {
				t.Errorf("Validate(Build()) = %v", err)
			}
		})
	}
}

func TestBuildLeftOut(t *testing.T) {
	tests := map[string]struct {
		in   catalogv1alpha1.CatalogEntity
		opts *Options
		want string // in the reason
	}{
		"unknown kind": {
			in:   newEntity("x", func(e *catalogv1alpha1.CatalogEntity) { e.Spec.Kind = "Template" }),
			want: `spec.kind "Template" is not one of`,
		},
		"name Backstage refuses": {
			in:   newEntity("a--b"),
			want: `metadata.name "a--b" is not a Backstage entity name`,
		},
		"name too long": {
			in:   newEntity(strings.Repeat("a", 64)),
			want: "is not a Backstage entity name",
		},
		"namespace with a double hyphen, which the CRD accepts but Backstage refuses": {
			in:   newEntity("x", func(e *catalogv1alpha1.CatalogEntity) { e.Spec.CatalogNamespace = "my--ns" }),
			want: `spec.catalogNamespace "my--ns" is not a Backstage namespace`,
		},
		"uppercase namespace": {
			in:   newEntity("x", func(e *catalogv1alpha1.CatalogEntity) { e.Spec.CatalogNamespace = "Shop" }),
			want: "is not a Backstage namespace",
		},
		"no owner anywhere": {
			in:   newEntity("x"),
			opts: &Options{},
			want: "Backstage requires an owner",
		},
		"invalid default owner": {
			in:   newEntity("x"),
			opts: &Options{DefaultOwner: "group:default/"},
			want: `the default owner "group:default/" is not an entity reference`,
		},
		"invalid owner": {
			in:   newEntity("x", func(e *catalogv1alpha1.CatalogEntity) { e.Spec.Owner = "group:Default/payments" }),
			want: `spec.owner "group:Default/payments" is not an entity reference`,
		},
		"API without a definition": {
			in:   newEntity("x", func(e *catalogv1alpha1.CatalogEntity) { e.Spec.Kind = "API" }),
			want: "Backstage requires spec.definition for kind API",
		},
		"API with a definition that is not an http URL": {
			in: newEntity("x", func(e *catalogv1alpha1.CatalogEntity) {
				e.Spec.Kind = "API"
				e.Annotations = map[string]string{AnnotationAPIDefinitionURL: "file:///etc/passwd"}
			}),
			want: "is not an absolute http(s) URL",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			o := testOptions
			if tt.opts != nil {
				o = *tt.opts
			}
			_, err := buildOne(t, tt.in, o)
			if err == nil {
				t.Fatal("Build() published it, want it left out")
			}
			var p *Problem
			if !errors.As(err, &p) || p.Name != tt.in.Name || p.Namespace != tt.in.Namespace {
				t.Errorf("error %v is not a *Problem naming the entity", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestBuildFixed checks that every change made to publish an entity is reported.
func TestBuildFixed(t *testing.T) {
	e := newEntity("payments", func(e *catalogv1alpha1.CatalogEntity) {
		e.Spec.Tags = []catalogv1alpha1.Tag{"Java", "no_underscores"}
		e.Spec.Links = []catalogv1alpha1.Link{{URL: "javascript:alert(1)"}, {URL: "https://a.example.com", Icon: "bad icon"}}
		e.Spec.DependsOn = []catalogv1alpha1.EntityRef{"nowhere"}
		e.Status.Relations = []string{"bad ref"}
	})
	c := Build([]catalogv1alpha1.CatalogEntity{e}, testOptions)
	if len(c.LeftOut) != 0 || len(c.Entities) != 1 {
		t.Fatalf("Build() = %d entities, left out %v; want 1, none", len(c.Entities), c.LeftOut)
	}
	var got []string
	for _, f := range c.Fixed {
		got = append(got, f.Error())
	}
	for _, want := range []string{
		`tag "Java" published as "java"`,
		`tag "no_underscores" dropped`,
		`links[0] dropped: url "javascript:alert(1)" has scheme javascript:`,
		`links[1].icon "bad icon" dropped`,
		`spec.dependsOn "nowhere" dropped: Backstage needs the kind in a dependsOn reference and no entity of that name is published`,
		`status.relations "bad ref" dropped`,
	} {
		found := false
		for _, g := range got {
			found = found || strings.Contains(g, want)
		}
		if !found {
			t.Errorf("Fixed = %q, want one containing %q", got, want)
		}
	}
	for _, g := range got {
		if !strings.HasPrefix(g, "CatalogEntity entityhub-system/payments: ") {
			t.Errorf("Fixed entry %q does not name its CatalogEntity", g)
		}
	}
}

func TestBuild(t *testing.T) {
	kind := func(k catalogv1alpha1.EntityKind) func(*catalogv1alpha1.CatalogEntity) {
		return func(e *catalogv1alpha1.CatalogEntity) { e.Spec.Kind = k }
	}
	entities := []catalogv1alpha1.CatalogEntity{
		newEntity("web", func(e *catalogv1alpha1.CatalogEntity) {
			e.Spec.DependsOn = []catalogv1alpha1.EntityRef{"db", "auth", "twin", "shop/cart", "missing"}
		}),
		newEntity("db", kind("Resource")),
		newEntity("auth"),
		newEntity("cart", func(e *catalogv1alpha1.CatalogEntity) { e.Spec.CatalogNamespace = "shop" }),
		// twin is both a Component and a Resource in namespace default: ambiguous.
		newEntity("twin"),
		func() catalogv1alpha1.CatalogEntity {
			e := newEntity("twin", kind("Resource"))
			e.Namespace = "team-a"
			return e
		}(),
		// Two CatalogEntities that are the same Backstage entity: the one in the
		// catalog namespace wins (more in TestBuildDuplicates).
		func() catalogv1alpha1.CatalogEntity {
			e := newEntity("auth")
			e.Namespace = "team-b"
			return e
		}(),
		newEntity("broken", kind("Template")),
	}
	c := Build(entities, testOptions)

	var refs []string
	for _, d := range c.Entities {
		refs = append(refs, Ref(d))
	}
	wantRefs := []string{"component:default/auth", "component:default/twin", "component:default/web", "resource:default/db", "resource:default/twin", "component:shop/cart"}
	if diff := cmp.Diff(wantRefs, refs); diff != "" {
		t.Errorf("published entities, in order (-want +got):\n%s", diff)
	}
	var web Entity
	for _, d := range c.Entities {
		if d.Metadata.Name == "web" {
			web = d
		}
	}
	if diff := cmp.Diff([]string{"component:default/auth", "component:shop/cart", "resource:default/db"}, web.Spec.DependsOn); diff != "" {
		t.Errorf("web's dependsOn, kinds resolved (-want +got):\n%s", diff)
	}
	var leftOut []string
	for _, err := range c.LeftOut {
		leftOut = append(leftOut, err.Error())
	}
	wantLeftOut := []string{
		`CatalogEntity entityhub-system/broken: spec.kind "Template" is not one of Component, Resource, System, API or Domain`,
		"CatalogEntity team-b/auth: it is the same Backstage entity, component:default/auth, as CatalogEntity entityhub-system/auth, which is published instead: of CatalogEntities naming one Backstage entity, the one in the catalog namespace entityhub-system wins; give this one another name, kind or spec.catalogNamespace",
	}
	if diff := cmp.Diff(wantLeftOut, leftOut); diff != "" {
		t.Errorf("left out (-want +got):\n%s", diff)
	}
	fixedText := ""
	for _, f := range c.Fixed {
		fixedText += f.Error() + "\n"
	}
	for _, want := range []string{
		`"twin" dropped: Backstage needs the kind in a dependsOn reference and entities of several kinds have that name: Component, Resource`,
		`"missing" dropped: Backstage needs the kind in a dependsOn reference and no entity of that name is published`,
	} {
		if !strings.Contains(fixedText, want) {
			t.Errorf("Fixed = %s\nwant one containing %q", fixedText, want)
		}
	}

	// The same entities in another order give the same result.
	reversed := make([]catalogv1alpha1.CatalogEntity, len(entities))
	for i := range entities {
		reversed[len(entities)-1-i] = entities[i]
	}
	if diff := cmp.Diff(c, Build(reversed, testOptions), cmp.Comparer(func(a, b error) bool { return a.Error() == b.Error() })); diff != "" {
		t.Errorf("Build depends on the input order (-first +reversed):\n%s", diff)
	}
}

func TestBuildDoesNotChangeItsInput(t *testing.T) {
	e := newEntity("payments", func(e *catalogv1alpha1.CatalogEntity) {
		e.Spec.Tags = []catalogv1alpha1.Tag{"Java"}
		e.Spec.DependsOn = []catalogv1alpha1.EntityRef{"resource:b", "resource:a"}
		e.Status.Relations = []string{"resource:c"}
	})
	in := []catalogv1alpha1.CatalogEntity{e}
	before := in[0].DeepCopy()
	Build(in, testOptions)
	if diff := cmp.Diff(before, &in[0]); diff != "" {
		t.Errorf("Build changed its input (-before +after):\n%s", diff)
	}
}
