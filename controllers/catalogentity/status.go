package catalogentity

import (
	"context"
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/metrics"
)

// statusLedger remembers the status the manager last wrote to each entity until its
// cache shows that write; a nil ledger remembers nothing.
//
// The cache lags the API server by a watch hop, longer under load. An entity reconciled
// again inside that window would otherwise start from the status before its last write:
// a field that changed and changed back would compare equal to that old status, be left
// out of the patch (or the write skipped), and stay wrong on the server; and since the
// manager ignores its own status writes, nothing would come to correct it. The manager
// is the only writer of status, so the status it last wrote is what the server has.
type statusLedger struct {
	mu      sync.Mutex
	written map[types.NamespacedName]writtenStatus
	// unsure holds the entities whose last status write failed: it may have landed all
	// the same (an answer lost on the way back), so neither the ledger nor the cache can
	// say what the server has.
	unsure map[types.NamespacedName]bool
}

type writtenStatus struct {
	uid             types.UID
	resourceVersion string
	status          catalogv1alpha1.CatalogEntityStatus
}

// current returns the entity's status as the server has it, as far as the manager knows:
// what it last wrote, while the cached entity does not show that yet.
func (l *statusLedger) current(entity *catalogv1alpha1.CatalogEntity) catalogv1alpha1.CatalogEntityStatus {
	if l == nil {
		return entity.Status
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if w, ok := l.written[client.ObjectKeyFromObject(entity)]; ok && !l.caughtUp(w, entity) {
		return w.status
	}
	return entity.Status
}

// seen is told of every version of an entity the cache receives, status writes
// included, and drops the entity's entry once the cache shows the write: so the ledger
// holds only entities written in the last moments, not a second copy of every status.
func (l *statusLedger) seen(entity *catalogv1alpha1.CatalogEntity) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if w, ok := l.written[client.ObjectKeyFromObject(entity)]; ok && l.caughtUp(w, entity) {
		delete(l.written, client.ObjectKeyFromObject(entity))
	}
}

// caughtUp reports whether entity, as the cache has it, shows the write w: the same
// resourceVersion, or the same status under a later one; or it is another object of the
// same name.
func (*statusLedger) caughtUp(w writtenStatus, entity *catalogv1alpha1.CatalogEntity) bool {
	return w.uid != entity.UID || w.resourceVersion == entity.ResourceVersion ||
		equality.Semantic.DeepEqual(w.status, entity.Status)
}

// record notes the status the API server returned for a write.
func (l *statusLedger) record(entity *catalogv1alpha1.CatalogEntity) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.written == nil {
		l.written = map[types.NamespacedName]writtenStatus{}
	}
	delete(l.unsure, client.ObjectKeyFromObject(entity))
	l.written[client.ObjectKeyFromObject(entity)] = writtenStatus{
		uid:             entity.UID,
		resourceVersion: entity.ResourceVersion,
		status:          *entity.Status.DeepCopy(),
	}
}

// forget drops what the ledger knows of an entity, when it is gone.
func (l *statusLedger) forget(key types.NamespacedName) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.written, key)
	delete(l.unsure, key)
}

// failed notes a write whose outcome is unknown: until the server is read again, what
// the manager wrote last may or may not be there.
func (l *statusLedger) failed(key types.NamespacedName) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.written, key)
	if l.unsure == nil {
		l.unsure = map[types.NamespacedName]bool{}
	}
	l.unsure[key] = true
}

// isUnsure reports whether the entity's last write failed, and the server was neither
// read nor written since (record).
func (l *statusLedger) isUnsure(key types.NamespacedName) bool {
	if l == nil {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.unsure[key]
}

// patchStatus writes next when it differs from current, the status the server has (see
// statusLedger), so a quiet fleet makes no writes at all. The merge patch carries only
// what changed against current, with no resourceVersion precondition: the manager is
// the only writer of status, and a patch made against the server's status cannot undo
// someone else's change to spec or metadata. It reports whether it wrote.
func (r *Reconciler) patchStatus(ctx context.Context, entity *catalogv1alpha1.CatalogEntity, current, next catalogv1alpha1.CatalogEntityStatus) (bool, error) {
	if equality.Semantic.DeepEqual(current, next) {
		return false, nil
	}
	base := entity.DeepCopy()
	base.Status = current
	entity.Status = next
	if err := r.client.Status().Patch(ctx, entity, client.MergeFrom(base), FieldOwner); err != nil {
		r.ledger.failed(client.ObjectKeyFromObject(entity))
		metrics.StatusWrites.WithLabelValues("error").Inc()
		return false, fmt.Errorf("writing status: %w", err)
	}
	// The client decoded the server's answer into entity: its resourceVersion, and the
	// status as stored (times in whole seconds), which later reconciles compare with.
	r.ledger.record(entity)
	// Under load the watch can bring this write to the cache before its answer is read
	// here; then seen was told before there was an entry, no later event will tell it
	// again, and the entry would keep a copy of the status until the next write.
	// Read without a copy: seen only compares, and a deep copy of an entity of many
	// sources would be the largest allocation of the write.
	if r.cache != nil {
		var cached catalogv1alpha1.CatalogEntity
		if err := r.cache.Get(ctx, client.ObjectKeyFromObject(entity), &cached, client.UnsafeDisableDeepCopy); err == nil {
			r.ledger.seen(&cached)
		}
	}
	metrics.StatusWrites.WithLabelValues("success").Inc()
	logf.FromContext(ctx).V(1).Info("Wrote status", "health", next.Health, "ready", next.Ready)
	return true, nil
}

// currentStatus returns the entity's status as the server has it: as the ledger knows
// it, or, after a write whose outcome is unknown, as the API server itself says. A
// write that landed though its answer was lost would otherwise be diffed against a
// cache that does not show it yet; a status changed there and back would compare equal,
// be left unwritten, and — the manager ignoring its own status writes — stay wrong.
func (r *Reconciler) currentStatus(ctx context.Context, entity *catalogv1alpha1.CatalogEntity) (catalogv1alpha1.CatalogEntityStatus, error) {
	key := client.ObjectKeyFromObject(entity)
	if !r.ledger.isUnsure(key) {
		return r.ledger.current(entity), nil
	}
	live := &catalogv1alpha1.CatalogEntity{}
	if err := r.apiReader.Get(ctx, key, live); err != nil {
		return catalogv1alpha1.CatalogEntityStatus{}, fmt.Errorf("reading the entity after a status write that may have failed: %w", err)
	}
	// What the server has is what the ledger holds from now on, until the cache shows it.
	r.ledger.record(live)
	logf.FromContext(ctx).V(1).Info("Read the entity from the API server after a status write that may have failed")
	return live.Status, nil
}
