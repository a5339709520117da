package catalogentity

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

// verification is what readiness waits for: every entity reconciled once against
// complete lists of its sources since this replica began to lead. Until then, what an
// entity's status says was written by another process (the one before a restart, the
// leader before a hand-over) and nobody has checked it against the sources since: a
// replica that served it as current would vouch for what it does not know.
//
// Once every entity was verified it stays so: an entity created or changed later is a
// change like any other, not a reason to take the replica out of service.
type verification struct {
	mu sync.Mutex
	// verified holds the entities reconciled since the watches started; nil once
	// every entity was.
	verified map[types.NamespacedName]bool
	// wanted holds the entities the sources of the first lists name by their label,
	// which are verified once they exist and are reconciled, or once a reconcile finds
	// there is none to make (see createIfDiscovered): on a first install, until then,
	// the entities that exist are not yet all there are.
	wanted map[types.NamespacedName]bool
	done   bool
}

// want notes entities the first lists' sources name.
func (v *verification) want(reqs []reconcile.Request) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.done {
		return
	}
	if v.wanted == nil {
		v.wanted = map[types.NamespacedName]bool{}
	}
	for _, req := range reqs {
		v.wanted[req.NamespacedName] = true
	}
}

// errListsNotIn is readiness before the first lists of the source kinds are in.
var errListsNotIn = errors.New("the first lists of the source kinds are not in yet")

// mark notes that key's status was computed from complete lists and is on the server.
func (v *verification) mark(key types.NamespacedName) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.done {
		return
	}
	if v.verified == nil {
		v.verified = map[types.NamespacedName]bool{}
	}
	v.verified[key] = true
}

// pending counts the entities of keys not verified yet, and once none is, latches
// done and lets go of the set. It reports whether every entity is verified.
func (v *verification) pending(keys []types.NamespacedName) (int, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.done {
		return 0, true
	}
	n := 0
	exist := make(map[types.NamespacedName]bool, len(keys))
	for _, k := range keys {
		exist[k] = true
		if !v.verified[k] {
			n++
		}
	}
	for k := range v.wanted {
		if !v.verified[k] && !exist[k] {
			n++
		}
	}
	if n == 0 {
		v.done, v.verified, v.wanted = true, nil, nil
	}
	return n, v.done
}

// Verified reports, as a readiness check does, whether every entity has been reconciled
// once against complete lists of its sources since the watches started; its error says
// how many are left. It reads the entities from the cache without copying them, so a
// probe costs one pass over their keys until the answer is yes, and nothing after.
func (r *Reconciler) Verified(ctx context.Context) error {
	if r.verify.isDone() {
		return nil
	}
	// Past the lists, the handlers must have seen all of them too: they note the
	// entities the sources name (want), which are to be verified as well.
	if !r.watches.Delivered() {
		return errListsNotIn
	}
	var list catalogv1alpha1.CatalogEntityList
	if err := r.cache.List(ctx, &list, client.UnsafeDisableDeepCopy); err != nil {
		return fmt.Errorf("listing entities: %w", err)
	}
	keys := make([]types.NamespacedName, len(list.Items))
	for i := range list.Items {
		keys[i] = client.ObjectKeyFromObject(&list.Items[i])
	}
	n, done := r.verify.pending(keys)
	if !done {
		return fmt.Errorf("%d entities not verified against their sources yet (%d exist)", n, len(keys))
	}
	logf.FromContext(ctx).Info("Every entity verified against its sources", "entities", len(keys),
		"sinceStart", time.Since(r.began).Round(time.Millisecond).String())
	return nil
}

func (v *verification) isDone() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.done
}
