package watches

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	toolscache "k8s.io/client-go/tools/cache"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

// How long a kind may take before it counts as unreadable, unless Options say otherwise.
// The first list of a kind that cannot be listed (most often for want of RBAC) must not
// hold every entity back; a watch that fails now and then (an API server restart, a
// timeout) must not make every entity of the kind Unknown for the moment it takes to
// reconnect.
const (
	DefaultSyncTimeout = time.Minute
	DefaultErrorGrace  = 5 * time.Second
)

// readability is what a watch knows of whether its kind can be read now. It changes in
// both directions: a first list that comes late, a watch that fails (RBAC revoked, CRD
// storage broken) and one that recovers.
type readability struct {
	mu sync.Mutex
	// listed: the informer has listed the kind once; late: it had not after syncTimeout.
	listed, late bool
	// problem says why the kind cannot be read, once a failure has lasted errorGrace;
	// empty while it can.
	problem string
	// lastErr is the watch's last failure since it last worked; failing is set from a
	// real failure until a list or watch works again, and failures counts the times it
	// was set, so that a late check of an earlier failure does nothing.
	lastErr  error
	failing  bool
	failures int
}

// state returns the kind's State and, unless Synced, why.
func (w *watch) state() (State, string) {
	w.read.mu.Lock()
	defer w.read.mu.Unlock()
	switch {
	case w.read.problem != "":
		return Unavailable, w.read.problem
	case !w.read.listed && w.read.late:
		why := fmt.Sprintf("cannot list %s: not listed after %s; is the manager allowed to list and watch it?", w.kindName(), w.syncTimeout)
		if w.read.lastErr != nil {
			why = fmt.Sprintf("cannot list %s: %v", w.kindName(), w.read.lastErr)
		}
		return Unavailable, why
	case !w.read.listed:
		return Syncing, fmt.Sprintf("%s is still being listed", w.kindName())
	}
	return Synced, ""
}

// kindName names the kind as `kubectl get` does: Kind.group.
func (w *watch) kindName() string {
	if w.gvk.Group == "" {
		return w.gvk.Kind
	}
	return w.gvk.Kind + "." + w.gvk.Group
}

// waitForSync follows the first list: after syncTimeout without it the kind is
// Unavailable, and it becomes Synced whenever the list does arrive. Each change is told
// to the controllers the watch feeds; the wait holds no worker of theirs.
func (w *watch) waitForSync(ctx context.Context, changed func()) {
	tctx, cancel := context.WithTimeout(ctx, w.syncTimeout)
	defer cancel()
	if !toolscache.WaitForCacheSync(tctx.Done(), w.informer.HasSynced) {
		if ctx.Err() != nil {
			return
		}
		w.read.mu.Lock()
		w.read.late = true
		w.read.mu.Unlock()
		close(w.settled)
		_, why := w.state()
		logf.FromContext(ctx).Error(nil, "Source kind not listed in time; its sources show Unknown until it is",
			"kind", w.gvk.String(), "after", w.syncTimeout, "why", why)
		changed()
		if !toolscache.WaitForCacheSync(ctx.Done(), w.informer.HasSynced) {
			return
		}
		logf.FromContext(ctx).Info("Source kind listed at last", "kind", w.gvk.String())
	}
	w.read.mu.Lock()
	w.read.listed = true
	late := w.read.late
	w.read.mu.Unlock()
	if !late {
		close(w.settled)
		return
	}
	changed()
}

// benign reports whether a watch error is part of a watch's normal life: a watch that
// ends, or whose resource version expired, is resumed or relisted at once.
func benign(err error) bool {
	return err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.Canceled) || apierrors.IsResourceExpired(err) || apierrors.IsGone(err)
}

// watchFailed is the informer's watch error handler: it logs as client-go would, and
// when the failure is real and the kind was readable, makes the kind Unavailable if no
// list or watch has worked again within errorGrace.
func (w *watch) watchFailed(ctx context.Context, r *toolscache.Reflector, err error, changed func()) {
	toolscache.DefaultWatchErrorHandler(ctx, r, err)
	if benign(err) {
		return
	}
	w.read.mu.Lock()
	w.read.lastErr = err
	start := w.read.listed && !w.read.failing
	if start {
		w.read.failing = true
		w.read.failures++
	}
	failure := w.read.failures
	w.read.mu.Unlock()
	if !start {
		return
	}
	timer := time.AfterFunc(w.errorGrace, func() {
		w.read.mu.Lock()
		mark := w.read.failing && w.read.failures == failure && w.read.problem == ""
		if mark {
			w.read.problem = fmt.Sprintf("cannot read %s: %v", w.kindName(), w.read.lastErr)
		}
		w.read.mu.Unlock()
		if mark && ctx.Err() == nil {
			logf.FromContext(ctx).Error(nil, "Source kind unreadable; its sources show Unknown until it recovers",
				"kind", w.gvk.String(), "after", w.errorGrace)
			changed()
		}
	})
	context.AfterFunc(ctx, func() { timer.Stop() })
}

// worked is told of every list and watch the API server accepted: a failing kind is
// readable again.
func (w *watch) worked(ctx context.Context, changed func()) {
	w.read.mu.Lock()
	if !w.read.failing {
		w.read.mu.Unlock()
		return
	}
	wasMarked := w.read.problem != ""
	w.read.problem, w.read.lastErr, w.read.failing = "", nil, false
	w.read.mu.Unlock()
	if wasMarked {
		logf.FromContext(ctx).Info("Source kind readable again", "kind", w.gvk.String())
		changed()
	}
}
