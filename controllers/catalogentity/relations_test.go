package catalogentity

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/sources"
	"github.com/entityhub/entityhub/controllers/sources/argocd"
	"github.com/entityhub/entityhub/controllers/watches"
)

// argoApplication is an Argo CD Application in namespace argocd, labelled for entity and
// deploying to the hub the claims named, as status.resources lists them.
func argoApplication(t *testing.T, kind sources.Kind, name, entity string, claims ...string) *unstructured.Unstructured {
	t.Helper()
	var resources []string
	for _, c := range claims {
		resources = append(resources, fmt.Sprintf("{group: database.example.org, kind: PostgreSQLInstance, namespace: payments, name: %s}", c))
	}
	return decodeSource(t, kind, fmt.Sprintf(`
metadata:
  name: %s
  namespace: argocd
  labels: {backstage.io/kubernetes-id: %s}
spec:
  destination: {server: %s}
status:
  resources: [%s]
`, name, entity, argocd.InClusterServer, strings.Join(resources, ", ")))
}

// labelledClaim is a claim in namespace payments labelled for entity, or unlabelled
// when entity is empty.
func (k crossplaneKinds) labelledClaim(t *testing.T, name, entity string) *unstructured.Unstructured {
	t.Helper()
	u := xpObject(t, k.claim, "payments", name, "  compositionRef: {name: aws}", readyTrue)
	if entity != "" {
		u.SetLabels(map[string]string{catalogv1alpha1.KubernetesIDLabel: entity})
	}
	return u
}

// namedEntity is an entity of name in namespace, with spec (YAML fields indented by two
// spaces).
func namedEntity(t *testing.T, namespace, name, spec string) *catalogv1alpha1.CatalogEntity {
	return decodeEntity(t, fmt.Sprintf("metadata: {name: %s, namespace: %s}\nspec:\n%s\n", name, namespace, spec))
}

// relationKinds are an Argo CD Application and the Crossplane kinds it deploys.
func relationKinds(t *testing.T) (sources.Kind, crossplaneKinds) {
	return fixtureKind(t, &argocd.Family{}, "argoproj.io_applications.yaml"), newCrossplaneKinds(t)
}

func TestRelations(t *testing.T) {
	app, k := relationKinds(t)
	shop := namedEntity(t, testCatalogNamespace, "shop", "  owner: group:default/shop")

	type args struct {
		objects []client.Object
	}
	tests := map[string]struct {
		reason string
		args   args
		want   []string
	}{
		"DeploysAnotherEntity": {
			reason: "An Application of shop deploying a claim labelled for orders makes shop depend on orders.",
			args: args{objects: []client.Object{
				argoApplication(t, app, "shop", "shop", "orders-db"),
				k.labelledClaim(t, "orders-db", "orders"),
				namedEntity(t, testCatalogNamespace, "orders", "  owner: group:default/orders"),
			}},
			want: []string{"component:default/orders"},
		},
		"RefOfTheEntity": {
			reason: "The relation is the reference of the entity of that name, wherever it lives: its kind and catalog namespace.",
			args: args{objects: []client.Object{
				argoApplication(t, app, "shop", "shop", "orders-db"),
				k.labelledClaim(t, "orders-db", "orders"),
				namedEntity(t, "team-orders", "orders", "  kind: Resource\n  catalogNamespace: payments"),
			}},
			want: []string{"resource:payments/orders"},
		},
		"LabelledForItself": {
			reason: "What an entity deploys of its own is no relation.",
			args: args{objects: []client.Object{
				argoApplication(t, app, "shop", "shop", "shop-db"),
				k.labelledClaim(t, "shop-db", "shop"),
			}},
		},
		"NoEntityOfThatName": {
			reason: "A label that names no entity relates to nothing.",
			args: args{objects: []client.Object{
				argoApplication(t, app, "shop", "shop", "ghost-db"),
				k.labelledClaim(t, "ghost-db", "ghost"),
			}},
		},
		"Unlabelled": {
			reason: "An object deployed without a Backstage label relates to nothing.",
			args: args{objects: []client.Object{
				argoApplication(t, app, "shop", "shop", "plain-db"),
				k.labelledClaim(t, "plain-db", ""),
			}},
		},
		"NotThere": {
			reason: "An object deployed but not (yet) in the cluster relates to nothing.",
			args: args{objects: []client.Object{
				argoApplication(t, app, "shop", "shop", "orders-db"),
				namedEntity(t, testCatalogNamespace, "orders", "  owner: group:default/orders"),
			}},
		},
		"DeduplicatedAndSorted": {
			reason: "Two objects of one entity make one relation, and relations are sorted.",
			args: args{objects: []client.Object{
				argoApplication(t, app, "shop", "shop", "zeta-db", "alpha-db", "zeta-cache"),
				k.labelledClaim(t, "zeta-db", "zeta"),
				k.labelledClaim(t, "alpha-db", "alpha"),
				k.labelledClaim(t, "zeta-cache", "zeta"),
				namedEntity(t, testCatalogNamespace, "zeta", "  owner: group:default/zeta"),
				namedEntity(t, testCatalogNamespace, "alpha", "  owner: group:default/alpha"),
			}},
			want: []string{"component:default/alpha", "component:default/zeta"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			env := newUnitEnv(t, append(k.all(), app), nil, nil, append(tc.args.objects, shop.DeepCopy())...)
			c, err := env.r.collectSources(context.Background(), shop.DeepCopy())
			if err != nil {
				t.Fatalf("collectSources: %v", err)
			}
			if diff := cmp.Diff(tc.want, c.relations); diff != "" {
				t.Errorf("\n%s\nrelations(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestRelatedTo(t *testing.T) {
	app, k := relationKinds(t)
	objects := func() []client.Object {
		return []client.Object{
			argoApplication(t, app, "shop", "shop", "orders-db"),
			argoApplication(t, app, "billing", "billing", "orders-db", "ledger-db"),
			argoApplication(t, app, "tools", "tools"),
			k.labelledClaim(t, "orders-db", "orders"),
			k.labelledClaim(t, "ledger-db", "ledger"),
			namedEntity(t, "team-shop", "shop", "  owner: group:default/shop"),
		}
	}
	req := func(namespace, name string) reconcile.Request {
		return reconcile.Request{NamespacedName: types.NamespacedName{Namespace: namespace, Name: name}}
	}

	tests := map[string]struct {
		reason string
		name   string
		states map[schema.GroupVersionKind]watches.State
		want   []reconcile.Request
	}{
		"Deployers": {
			reason: "The entities of every Application that deploys an object labelled orders: the catalog-namespace one of its label, and any of that name elsewhere.",
			name:   "orders",
			want:   []reconcile.Request{req(testCatalogNamespace, "shop"), req("team-shop", "shop"), req(testCatalogNamespace, "billing")},
		},
		"OneDeployer": {
			reason: "Only what deploys an object labelled ledger.",
			name:   "ledger",
			want:   []reconcile.Request{req(testCatalogNamespace, "billing")},
		},
		"NothingLabelled": {
			reason: "No object labelled with the name: no entity to recompute.",
			name:   "ghost",
		},
		"DeployerKindUnavailable": {
			reason: "Applications are not read while their kind cannot be read.",
			name:   "orders",
			states: map[schema.GroupVersionKind]watches.State{app.GVK: watches.Unavailable},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			env := newUnitEnv(t, append(k.all(), app), tc.states, nil, objects()...)
			got := env.r.relatedTo(context.Background(), tc.name)
			if diff := cmp.Diff(tc.want, got, sortRequests); diff != "" {
				t.Errorf("\n%s\nrelatedTo(%q): -want, +got:\n%s", tc.reason, tc.name, diff)
			}
		})
	}
}
