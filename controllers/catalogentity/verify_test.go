package catalogentity

import (
	"context"
	"errors"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/types"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

// TestVerified follows readiness through a start: not ready while the first lists are
// not in, then until each entity has been reconciled once, then ready for good.
func TestVerified(t *testing.T) {
	ctx := context.Background()
	orders := namedEntity(t, "team-a", "orders", "  owner: group:default/orders")
	billing := namedEntity(t, "team-a", "billing", "  owner: group:default/billing")
	env := newUnitEnv(t, nil, nil, func(b *fake.ClientBuilder) {
		b.WithStatusSubresource(&catalogv1alpha1.CatalogEntity{})
	}, orders, billing)
	env.watches.listing = make(chan struct{})
	reconcile := func(e *catalogv1alpha1.CatalogEntity) {
		t.Helper()
		if _, err := env.r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(e)}); err != nil {
			t.Fatalf("reconciling %s: %v", e.Name, err)
		}
	}
	wantPending := func(stage, want string) {
		t.Helper()
		err := env.r.Verified(ctx)
		switch {
		case want == "" && err != nil:
			t.Fatalf("%s: Verified() = %v, want ready", stage, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Fatalf("%s: Verified() = %v, want an error saying %q", stage, err, want)
		}
	}

	if err := env.r.Verified(ctx); !errors.Is(err, errListsNotIn) {
		t.Fatalf("before the first lists: Verified() = %v, want %v", err, errListsNotIn)
	}
	// A reconcile before the lists are in computes nothing, so it verifies nothing.
	reconcile(orders)
	close(env.watches.listing)
	wantPending("lists in, nothing reconciled since", "2 entities not verified")
	reconcile(orders)
	wantPending("one of two reconciled", "1 entities not verified")
	// A source of the first lists names an entity that does not exist yet: on a first
	// install the entities there are are not all there will be.
	ghost := types.NamespacedName{Namespace: testCatalogNamespace, Name: "ghost"}
	env.r.verify.want([]ctrl.Request{{NamespacedName: ghost}})
	reconcile(billing)
	wantPending("both reconciled, one named by sources to come", "1 entities not verified")
	// Its reconcile finds no source to make it of: nothing is left to verify.
	if _, err := env.r.Reconcile(ctx, ctrl.Request{NamespacedName: ghost}); err != nil {
		t.Fatal(err)
	}
	wantPending("all reconciled", "")

	// An entity that comes later is a change like any other: readiness stays.
	if err := env.c.Create(ctx, namedEntity(t, "team-a", "ledger", "  owner: group:default/ledger")); err != nil {
		t.Fatal(err)
	}
	wantPending("an entity created after", "")
}
