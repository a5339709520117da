package catalog

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

// tenant is a CatalogEntity in Kubernetes namespace ns, owned by a group named after ns
// so that the published descriptor tells which one it came from.
func tenant(ns, name string, fns ...func(*catalogv1alpha1.CatalogEntity)) catalogv1alpha1.CatalogEntity {
	e := newEntity(name, fns...)
	e.Namespace = ns
	if e.Spec.Owner == "" {
		e.Spec.Owner = catalogv1alpha1.EntityRef("group:default/" + ns)
	}
	return e
}

func TestBuildDuplicates(t *testing.T) {
	resource := func(e *catalogv1alpha1.CatalogEntity) { e.Spec.Kind = catalogv1alpha1.KindResource }
	inShop := func(e *catalogv1alpha1.CatalogEntity) { e.Spec.CatalogNamespace = "shop" }
	api := func(e *catalogv1alpha1.CatalogEntity) { e.Spec.Kind = catalogv1alpha1.KindAPI }
	defined := func(e *catalogv1alpha1.CatalogEntity) {
		e.Annotations = map[string]string{AnnotationAPIDefinitionURL: "https://git.example.com/x.yaml"}
	}
	phishing := func(e *catalogv1alpha1.CatalogEntity) {
		e.Spec.Owner = "group:default/mallory"
		e.Spec.Links = []catalogv1alpha1.Link{{URL: "https://login.example.net/", Title: "Sign in"}}
	}
	tests := map[string]struct {
		in               []catalogv1alpha1.CatalogEntity
		catalogNamespace string // "-" for none
		// published are "<ref> <owner>"; leftOut are "<namespace>/<name>: <part of the reason>".
		published, leftOut []string
	}{
		"a tenant's entity that sorts first does not replace the catalog namespace's": {
			in: []catalogv1alpha1.CatalogEntity{
				tenant("dev", "payments-api", phishing),
				tenant("entityhub-system", "payments-api"),
			},
			published: []string{"component:default/payments-api group:default/entityhub-system"},
			leftOut:   []string{"dev/payments-api: as CatalogEntity entityhub-system/payments-api, which is published instead"},
		},
		"the catalog namespace's wins when it sorts last": {
			in: []catalogv1alpha1.CatalogEntity{
				tenant("a-team", "auth"), tenant("platform", "auth"), tenant("b-team", "auth"),
			},
			catalogNamespace: "platform",
			published:        []string{"component:default/auth group:default/platform"},
			leftOut: []string{
				"a-team/auth: as CatalogEntity platform/auth, which is published instead",
				"b-team/auth: as CatalogEntity platform/auth, which is published instead",
			},
		},
		"names are compared case-insensitively": {
			in:        []catalogv1alpha1.CatalogEntity{tenant("dev", "Auth"), tenant("entityhub-system", "auth")},
			published: []string{"component:default/auth group:default/entityhub-system"},
			leftOut:   []string{"dev/Auth: it is the same Backstage entity, component:default/Auth, as CatalogEntity entityhub-system/auth"},
		},
		"without one in the catalog namespace, none is published and each is reported": {
			in: []catalogv1alpha1.CatalogEntity{tenant("team-b", "auth"), tenant("team-a", "auth")},
			leftOut: []string{
				"team-a/auth: as CatalogEntity team-b/auth, and none of them is in the catalog namespace entityhub-system, so none is published",
				"team-b/auth: as CatalogEntity team-a/auth, and none of them is in the catalog namespace entityhub-system, so none is published",
			},
		},
		"many duplicates name a few of the others": {
			in: []catalogv1alpha1.CatalogEntity{
				tenant("t1", "x"), tenant("t2", "x"), tenant("t3", "x"), tenant("t4", "x"), tenant("t5", "x"),
			},
			leftOut: []string{
				"t1/x: as CatalogEntities t2/x, t3/x, t4/x and 1 more,",
				"t2/x: as CatalogEntities t1/x, t3/x, t4/x and 1 more,",
				"t3/x: as CatalogEntities t1/x, t2/x, t4/x and 1 more,",
				"t4/x: as CatalogEntities t1/x, t2/x, t3/x and 1 more,",
				"t5/x: as CatalogEntities t1/x, t2/x, t3/x and 1 more,",
			},
		},
		"without a catalog namespace set, none is published": {
			in:               []catalogv1alpha1.CatalogEntity{tenant("entityhub-system", "auth"), tenant("dev", "auth")},
			catalogNamespace: "-",
			leftOut: []string{
				"dev/auth: no catalog namespace is set to decide between them, so none is published",
				"entityhub-system/auth: no catalog namespace is set to decide between them, so none is published",
			},
		},
		"another kind is another entity": {
			in: []catalogv1alpha1.CatalogEntity{tenant("team-a", "auth"), tenant("team-b", "auth", resource)},
			published: []string{
				"component:default/auth group:default/team-a",
				"resource:default/auth group:default/team-b",
			},
		},
		"another Backstage namespace is another entity": {
			in: []catalogv1alpha1.CatalogEntity{tenant("team-a", "auth"), tenant("team-b", "auth", inShop)},
			published: []string{
				"component:default/auth group:default/team-a",
				"component:shop/auth group:default/team-b",
			},
		},
		"the catalog namespace's claim stands when it is invalid itself": {
			in: []catalogv1alpha1.CatalogEntity{
				tenant("entityhub-system", "orders", api), // no definition
				tenant("dev", "orders", api, defined),
			},
			leftOut: []string{
				"dev/orders: as CatalogEntity entityhub-system/orders, which is published instead",
				"entityhub-system/orders: Backstage requires spec.definition for kind API",
			},
		},
		"an entity that cannot be a Backstage entity claims no name": {
			in: []catalogv1alpha1.CatalogEntity{
				tenant("team-a", "auth", func(e *catalogv1alpha1.CatalogEntity) { e.Spec.Kind = "Template" }),
				tenant("team-b", "auth"),
			},
			published: []string{"component:default/auth group:default/team-b"},
			leftOut:   []string{`team-a/auth: spec.kind "Template" is not one of`},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			o := testOptions
			switch tt.catalogNamespace {
			case "":
			case "-":
				o.CatalogNamespace = ""
			default:
				o.CatalogNamespace = tt.catalogNamespace
			}
			c := Build(tt.in, o)
			var published []string
			for _, d := range c.Entities {
				published = append(published, Ref(d)+" "+d.Spec.Owner)
			}
			if diff := cmp.Diff(tt.published, published); diff != "" {
				t.Errorf("published (-want +got):\n%s", diff)
			}
			if len(c.LeftOut) != len(tt.leftOut) {
				t.Fatalf("left out %v, want %d", c.LeftOut, len(tt.leftOut))
			}
			for i, err := range c.LeftOut {
				p, ok := err.(*Problem)
				if !ok {
					t.Fatalf("left out %T, want a *Problem", err)
				}
				who, reason, _ := strings.Cut(tt.leftOut[i], ": ")
				if p.Namespace+"/"+p.Name != who || !strings.Contains(p.Reason, reason) {
					t.Errorf("left out[%d] = %v\nwant %s with %q", i, err, who, reason)
				}
			}
		})
	}
}
