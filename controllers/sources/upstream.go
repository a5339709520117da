package sources

import (
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

// Upstream says whether the controller that writes a kind's status still vouches for
// it: an Argo CD application controller that still reconciles, a Crossplane provider
// that is up, a workflow controller that still holds its lease. A status nobody keeps
// current is not the truth, however green it reads.
type Upstream interface {
	// Vouch tells whether res, what obj of kind says, is current at now.
	Vouch(kind Kind, obj *unstructured.Unstructured, res Result, now time.Time) Verdict
}

// Verdict is what an Upstream says of one source.
type Verdict struct {
	// Why says why the source's status is not current; empty when it is.
	Why string
	// Recheck is when the verdict changes by itself if nothing else does (a threshold
	// crossed); zero when it does not.
	Recheck time.Time
	// Suspended: the status is frozen on purpose (reconciliation skipped), which Why
	// says; the source is Suspended rather than Unknown.
	Suspended bool
}

// LastKnownSep separates why a source's status is not current from what it last said.
const LastKnownSep = "; last known: "

// LastKnown names what a source last said: its health, and its sync state if it has one.
func LastKnown(h catalogv1alpha1.Health, s catalogv1alpha1.SyncStatus) string {
	if s == "" {
		return string(h)
	}
	return string(h) + ", " + string(s)
}

// Unvouched returns res as a source nobody keeps current: Unknown (or Suspended, when
// the verdict says so), with why and what it last said; its sync state, if it had one,
// is Unknown too. Cluster, revision and what it deploys stay: they are what was last
// known, and nothing better is.
func Unvouched(res Result, v Verdict) Result {
	if v.Why == "" {
		return res
	}
	out := res
	out.Message = v.Why + LastKnownSep + LastKnown(res.Health, res.Sync)
	if v.Suspended {
		out.Health = catalogv1alpha1.HealthSuspended
		return out
	}
	out.Health = catalogv1alpha1.HealthUnknown
	if out.Sync != "" {
		out.Sync = catalogv1alpha1.SyncUnknown
	}
	return out
}
