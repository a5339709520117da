package catalogentity

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

// entityRequest is the request of the entity namespace/name.
func entityRequest(namespace, name string) reconcile.Request {
	return reconcile.Request{NamespacedName: types.NamespacedName{Namespace: namespace, Name: name}}
}

// relabel returns a copy of obj labelled for entity.
func relabel(obj *unstructured.Unstructured, entity string) *unstructured.Unstructured {
	cp := obj.DeepCopy()
	cp.SetLabels(map[string]string{catalogv1alpha1.KubernetesIDLabel: entity})
	return cp
}

func TestMapSource(t *testing.T) {
	app, k := relationKinds(t)
	const x = "payments-db-x7k2p"
	ordersDB := k.labelledClaim(t, "orders-db", "orders")
	// A v1 composite of the claim payments/payments-db, and a resource it composed.
	composite := xpObject(t, k.composite, "", x, "  claimRef: {apiVersion: database.example.org/v1alpha1, kind: PostgreSQLInstance, namespace: payments, name: payments-db}", readyTrue)
	composed := managedResource(t, k.instance, x+"-primary", readyTrue)
	controller := true
	composed.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: "database.example.org/v1alpha1", Kind: "XPostgreSQLInstance", Name: x, UID: "x7k2p", Controller: &controller}})
	// selecting is an entity whose spec.sources select the claims labelled tier.
	selecting := func(namespace, name, tier string) *catalogv1alpha1.CatalogEntity {
		return namedEntity(t, namespace, name, `  sources:
  - apiVersion: database.example.org/v1alpha1
    kind: PostgreSQLInstance
    selector: {matchLabels: {tier: `+tier+`}}`)
	}
	tiered := k.labelledClaim(t, "tiered-db", "")
	tiered.SetLabels(map[string]string{"tier": "db"})

	type args struct {
		// objects are in the cluster; event is the object of the event, or its old and
		// new states for an update.
		objects []client.Object
		event   []*unstructured.Unstructured
	}
	tests := map[string]struct {
		reason string
		args   args
		want   []reconcile.Request
	}{
		"Labelled": {
			reason: "A labelled source concerns the catalog-namespace entity of its label, which may not exist yet, and any entity of that name elsewhere.",
			args: args{
				objects: []client.Object{namedEntity(t, "team-orders", "orders", "  owner: group:default/orders")},
				event:   []*unstructured.Unstructured{ordersDB},
			},
			want: []reconcile.Request{entityRequest(testCatalogNamespace, "orders"), entityRequest("team-orders", "orders")},
		},
		"Relabelled": {
			reason: "An update that moves the label concerns the entities of the old label and of the new.",
			args:   args{event: []*unstructured.Unstructured{ordersDB, relabel(ordersDB, "billing")}},
			want:   []reconcile.Request{entityRequest(testCatalogNamespace, "orders"), entityRequest(testCatalogNamespace, "billing")},
		},
		"Selected": {
			reason: "An entity whose spec.sources selects the object is concerned; one whose selector does not match is not.",
			args: args{
				objects: []client.Object{selecting(testCatalogNamespace, "db-owners", "db"), selecting(testCatalogNamespace, "cache-owners", "cache")},
				event:   []*unstructured.Unstructured{tiered},
			},
			want: []reconcile.Request{entityRequest(testCatalogNamespace, "db-owners")},
		},
		"SelectedOnlyInItsNamespace": {
			reason: "A tenant's entity selects only in its own namespace: an object of another does not concern it.",
			args: args{
				objects: []client.Object{selecting("team-db", "db-owners", "db")},
				event:   []*unstructured.Unstructured{tiered},
			},
		},
		"ComposedToRootClaim": {
			reason: "A composed resource concerns the entity of its root claim, found through its composite.",
			args: args{
				objects: []client.Object{composite.DeepCopy(), k.labelledClaim(t, "payments-db", "payments")},
				event:   []*unstructured.Unstructured{composed},
			},
			want: []reconcile.Request{entityRequest(testCatalogNamespace, "payments")},
		},
		"InvalidEntityName": {
			reason: "A label that is no valid entity name concerns no catalog-namespace entity: none could be created for it.",
			args:   args{event: []*unstructured.Unstructured{relabel(ordersDB, "Orders_DB")}},
		},
		"Deployers": {
			reason: "A source that comes or goes concerns the entities of what deploys it, whose relations name its entity.",
			args: args{
				objects: []client.Object{argoApplication(t, app, "shop", "shop", "orders-db")},
				event:   []*unstructured.Unstructured{ordersDB},
			},
			want: []reconcile.Request{entityRequest(testCatalogNamespace, "orders"), entityRequest(testCatalogNamespace, "shop")},
		},
		"NoDeployersOnStatusChange": {
			reason: "An update that keeps the label does not change what deploys it relates to.",
			args: args{
				objects: []client.Object{argoApplication(t, app, "shop", "shop", "orders-db")},
				event:   []*unstructured.Unstructured{ordersDB, ordersDB},
			},
			want: []reconcile.Request{entityRequest(testCatalogNamespace, "orders")},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			env := newUnitEnv(t, append(k.all(), app), nil, nil, tc.args.objects...)
			gvk := tc.args.event[0].GroupVersionKind()
			got := env.r.mapSource(context.Background(), gvk, tc.args.event...)
			if diff := cmp.Diff(tc.want, got, sortRequests); diff != "" {
				t.Errorf("\n%s\nmapSource(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// recordingQueue records what a handler adds.
type recordingQueue struct {
	workqueue.TypedRateLimitingInterface[reconcile.Request]
	added []reconcile.Request
}

func (q *recordingQueue) Add(r reconcile.Request) { q.added = append(q.added, r) }

func TestSourceHandler(t *testing.T) {
	k := newCrossplaneKinds(t)
	ordersDB := k.labelledClaim(t, "orders-db", "orders")
	elsewhere := namedEntity(t, "team-orders", "orders", "  owner: group:default/orders")

	type sourceEvent struct {
		create         *unstructured.Unstructured
		initialList    bool
		oldObj, newObj *unstructured.Unstructured
		delete         *unstructured.Unstructured
	}
	tests := map[string]struct {
		reason string
		event  sourceEvent
		want   []reconcile.Request
	}{
		"InitialList": {
			reason: "A create of the first list at start concerns only the entity to discover: every other entity is reconciled once the lists are in.",
			event:  sourceEvent{create: ordersDB, initialList: true},
			want:   []reconcile.Request{entityRequest(testCatalogNamespace, "orders")},
		},
		"InitialListInvalidName": {
			reason: "Nothing is discovered for a label that is no valid entity name.",
			event:  sourceEvent{create: relabel(ordersDB, "Orders_DB"), initialList: true},
		},
		"InitialListUnlabelled": {
			reason: "Nothing is discovered for an object without the label.",
			event:  sourceEvent{create: k.labelledClaim(t, "plain-db", ""), initialList: true},
		},
		"Create": {
			reason: "A create after start concerns every entity of the object.",
			event:  sourceEvent{create: ordersDB},
			want:   []reconcile.Request{entityRequest(testCatalogNamespace, "orders"), entityRequest("team-orders", "orders")},
		},
		"Update": {
			reason: "An update that moves the label concerns the entities of both labels.",
			event:  sourceEvent{oldObj: ordersDB, newObj: relabel(ordersDB, "billing")},
			want: []reconcile.Request{
				entityRequest(testCatalogNamespace, "orders"), entityRequest("team-orders", "orders"), entityRequest(testCatalogNamespace, "billing"),
			},
		},
		"Delete": {
			reason: "A delete concerns every entity of the object.",
			event:  sourceEvent{delete: ordersDB},
			want:   []reconcile.Request{entityRequest(testCatalogNamespace, "orders"), entityRequest("team-orders", "orders")},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			env := newUnitEnv(t, k.all(), nil, nil, elsewhere.DeepCopy())
			h := env.r.SourceHandler()
			q := &recordingQueue{}
			ctx := context.Background()
			switch e := tc.event; {
			case e.create != nil:
				h.Create(ctx, event.TypedCreateEvent[*unstructured.Unstructured]{Object: e.create, IsInInitialList: e.initialList}, q)
			case e.newObj != nil:
				h.Update(ctx, event.TypedUpdateEvent[*unstructured.Unstructured]{ObjectOld: e.oldObj, ObjectNew: e.newObj}, q)
			case e.delete != nil:
				h.Delete(ctx, event.TypedDeleteEvent[*unstructured.Unstructured]{Object: e.delete}, q)
			}
			if diff := cmp.Diff(tc.want, q.added, sortRequests); diff != "" {
				t.Errorf("\n%s\nSourceHandler: -want added, +got added:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestAllEntities(t *testing.T) {
	env := newUnitEnv(t, nil, nil, nil,
		namedEntity(t, testCatalogNamespace, "orders", "  owner: group:default/orders"),
		namedEntity(t, "team-shop", "shop", "  owner: group:default/shop"),
	)
	want := []reconcile.Request{entityRequest(testCatalogNamespace, "orders"), entityRequest("team-shop", "shop")}
	if diff := cmp.Diff(want, env.r.allEntities(context.Background()), sortRequests); diff != "" {
		t.Errorf("allEntities: a request for every entity: -want, +got:\n%s", diff)
	}
}
