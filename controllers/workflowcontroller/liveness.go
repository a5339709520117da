// Package workflowcontroller tells whether Argo Workflows' workflow controller is alive,
// from the Lease it renews while it leads: a Pending or Running Workflow whose controller
// has stopped renewing it is not progressing, whatever its status last said. Finished
// runs stay what they are: they are done.
package workflowcontroller

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/entityhub/entityhub/controllers/sources"
	"github.com/entityhub/entityhub/controllers/sources/workflows"
)

// The Role that lets the manager read the Lease is config/rbac/workflows_lease_role.yaml,
// not a marker: controller-gen names every Role manager-role, and two of them (this and
// Argo CD's) cannot be moved to their namespaces by config/default.

// DefaultLease is the Lease Argo Workflows' controller holds, in its default install.
const DefaultLease = "argo/workflow-controller"

// missedRenewals is how many lease durations may pass without a renewal before the
// controller counts as gone: one late renewal is a slow API server, three a stopped
// controller.
const missedRenewals = 3

// Liveness follows the workflow controller's Lease and is the sources.Upstream of
// Workflows: while the Lease has not been renewed for three lease durations, Pending
// and Running Workflows are not vouched for. It starts when Workflows are first
// watched (a sourcekind.Starter), reads only its Lease (the cache holds that one alone,
// see CacheConfig), and asks for every entity to be recomputed when the controller
// goes or comes back — at the moment of the crossing, by a timer, with no polling.
type Liveness struct {
	key    types.NamespacedName
	cache  cache.Cache
	resync func()
	now    func() time.Time
	once   sync.Once

	mu sync.Mutex
	// renewed and deadline are the Lease's last renewal and the moment the controller
	// counts as gone; seen is false while there is no Lease to judge by.
	renewed, deadline time.Time
	seen, dead        bool
	timer             *time.Timer
}

// ParseLease parses a --workflows-controller-lease value, <namespace>/<name>.
func ParseLease(s string) (types.NamespacedName, error) {
	ns, name, ok := strings.Cut(s, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return types.NamespacedName{}, fmt.Errorf("%q is not <namespace>/<name>", s)
	}
	return types.NamespacedName{Namespace: ns, Name: name}, nil
}

// CacheConfig restricts the manager cache's Leases to the workflow controller's one.
func CacheConfig(key types.NamespacedName) cache.ByObject {
	return cache.ByObject{Namespaces: map[string]cache.Config{
		key.Namespace: {FieldSelector: fields.OneTermEqualSelector("metadata.name", key.Name)},
	}}
}

// NewLiveness returns a Liveness of the Lease key, read from c (made with CacheConfig),
// that calls resync when the controller goes or comes back.
func NewLiveness(c cache.Cache, key types.NamespacedName, resync func()) *Liveness {
	return &Liveness{key: key, cache: c, resync: resync, now: time.Now}
}

// Start begins following the Lease, once.
func (l *Liveness) Start(ctx context.Context) {
	l.once.Do(func() {
		log := logf.FromContext(ctx).WithValues("lease", l.key.String())
		inf, err := l.cache.GetInformer(ctx, &coordinationv1.Lease{}, cache.BlockUntilSynced(false))
		if err != nil {
			log.Error(err, "Cannot watch the workflow controller's Lease; running Workflows are taken at their word")
			return
		}
		observe := func(obj any) {
			if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			if lease, ok := obj.(*coordinationv1.Lease); ok && lease.Namespace == l.key.Namespace && lease.Name == l.key.Name {
				l.observe(lease)
			}
		}
		_, err = inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc:    observe,
			UpdateFunc: func(_, obj any) { observe(obj) },
			DeleteFunc: func(any) { l.observe(nil) },
		})
		if err != nil {
			log.Error(err, "Cannot watch the workflow controller's Lease")
			return
		}
		context.AfterFunc(ctx, l.stop)
		log.Info("Following the workflow controller's Lease")
	})
}

// observe takes a new version of the Lease (nil: it is gone) and sets the timer for
// the moment the controller would count as gone.
func (l *Liveness) observe(lease *coordinationv1.Lease) {
	l.mu.Lock()
	l.renewed, l.deadline, l.seen = Deadline(lease)
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	if l.seen {
		l.timer = time.AfterFunc(l.deadline.Sub(l.now()), l.check)
	}
	l.mu.Unlock()
	l.check()
}

// check compares the controller's state now with the last one, and asks for a resync
// when it changed.
func (l *Liveness) check() {
	l.mu.Lock()
	dead := l.seen && !l.now().Before(l.deadline)
	changed := dead != l.dead
	l.dead = dead
	l.mu.Unlock()
	if changed {
		l.resync()
	}
}

func (l *Liveness) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.timer != nil {
		l.timer.Stop()
	}
}

// Deadline returns when lease was last renewed (or acquired) and the moment its holder
// counts as gone, three lease durations later; ok is false when there is nothing to
// judge by: no Lease, or one without a duration or a time, as when the controller runs
// without leader election.
func Deadline(lease *coordinationv1.Lease) (renewed, deadline time.Time, ok bool) {
	if lease == nil || lease.Spec.LeaseDurationSeconds == nil || *lease.Spec.LeaseDurationSeconds <= 0 {
		return time.Time{}, time.Time{}, false
	}
	switch {
	case lease.Spec.RenewTime != nil:
		renewed = lease.Spec.RenewTime.Time
	case lease.Spec.AcquireTime != nil:
		renewed = lease.Spec.AcquireTime.Time
	default:
		return time.Time{}, time.Time{}, false
	}
	d := time.Duration(*lease.Spec.LeaseDurationSeconds) * time.Second
	return renewed, renewed.Add(missedRenewals * d), true
}

// Vouch implements sources.Upstream: a Pending or Running Workflow is not vouched for
// while the controller counts as gone.
func (l *Liveness) Vouch(kind sources.Kind, _ *unstructured.Unstructured, res sources.Result, _ time.Time) sources.Verdict {
	if kind.Family != workflows.FamilyName || kind.GVK.Kind != workflows.KindWorkflow ||
		(res.Phase != workflows.PhasePending && res.Phase != workflows.PhaseRunning) {
		return sources.Verdict{}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.dead {
		return sources.Verdict{}
	}
	return sources.Verdict{Why: fmt.Sprintf("the workflow controller has not renewed its lease %s for over %s (since %s)",
		l.key, l.deadline.Sub(l.renewed), l.renewed.UTC().Format(time.RFC3339))}
}
