package catalogentity

import (
	"context"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

// This file lends the package's specs (package catalogentity_test, which starts the
// whole manager through package setup) what they check from inside.

// With returns a copy of r that writes with c, reads with reader and takes the time
// from now, each when not nil; it shares r's ledger and event budgets.
func (r *Reconciler) With(c client.Client, reader client.Reader, now func() time.Time) *Reconciler {
	cp := *r
	if c != nil {
		cp.client = c
	}
	if reader != nil {
		cp.cache = reader
	}
	if now != nil {
		cp.now = now
	}
	return &cp
}

// NewForStatusWrites returns a reconciler that only writes status, through c, and reads
// its entities back through reader when not nil, with a ledger of its own.
func NewForStatusWrites(c client.Client, reader client.Reader) *Reconciler {
	return &Reconciler{client: c, cache: reader, ledger: &statusLedger{}, events: &eventLimiter{}, now: time.Now, waiting: &waitList{}}
}

// CurrentStatus is the entity's status as the server has it, as far as r knows.
func (r *Reconciler) CurrentStatus(e *catalogv1alpha1.CatalogEntity) catalogv1alpha1.CatalogEntityStatus {
	return r.ledger.current(e)
}

// PatchStatus writes next when it differs from current.
func (r *Reconciler) PatchStatus(ctx context.Context, e *catalogv1alpha1.CatalogEntity, current, next catalogv1alpha1.CatalogEntityStatus) (bool, error) {
	return r.patchStatus(ctx, e, current, next)
}

// SeenByCache tells r's ledger the cache has this version of the entity.
func (r *Reconciler) SeenByCache(e *catalogv1alpha1.CatalogEntity) { r.ledger.seen(e) }

// LedgerHolds reports whether r's ledger remembers a write to the entity key.
func (r *Reconciler) LedgerHolds(key client.ObjectKey) bool {
	r.ledger.mu.Lock()
	defer r.ledger.mu.Unlock()
	_, ok := r.ledger.written[key]
	return ok
}
