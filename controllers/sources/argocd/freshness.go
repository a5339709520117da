package argocd

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/entityhub/entityhub/controllers/sources"
	"github.com/entityhub/entityhub/controllers/sources/fields"
)

// AnnotationSkipReconcile on an Application stops Argo CD's application controller from
// reconciling it: its status stays as it was, on purpose.
const AnnotationSkipReconcile = "argocd.argoproj.io/skip-reconcile"

// DefaultStaleAfter is how old an Application's status.reconciledAt may grow before its
// status is taken to be no longer current. Argo CD refreshes every Application at least
// every timeout.reconciliation (120 s by default, plus up to 60 s of jitter), so ten
// minutes without one means its application controller has stopped.
const DefaultStaleAfter = 10 * time.Minute

// Freshness is the sources.Upstream of Argo CD Applications: an Application whose
// status.reconciledAt is older than StaleAfter is not vouched for — its application
// controller has stopped — and one annotated skip-reconcile is frozen on purpose.
// StaleAfter zero turns the age check off, for installations that set
// timeout.reconciliation to 0.
type Freshness struct {
	StaleAfter time.Duration
}

// Vouch implements sources.Upstream.
func (f Freshness) Vouch(kind sources.Kind, obj *unstructured.Unstructured, _ sources.Result, now time.Time) sources.Verdict {
	if kind.Family != FamilyName || kind.GVK.Kind != KindApplication || obj == nil {
		return sources.Verdict{}
	}
	if obj.GetAnnotations()[AnnotationSkipReconcile] == "true" {
		return sources.Verdict{Suspended: true, Why: fmt.Sprintf(
			"Argo CD skips reconciling Application %s/%s (%s: \"true\"); its status is frozen",
			obj.GetNamespace(), obj.GetName(), AnnotationSkipReconcile)}
	}
	if f.StaleAfter <= 0 {
		return sources.Verdict{}
	}
	status, _ := obj.Object["status"].(map[string]any)
	at, _, ok := fields.Timestamp(status["reconciledAt"])
	if !ok {
		return sources.Verdict{} // never reconciled yet, or unreadable: the mapper says what it can
	}
	deadline := at.Add(f.StaleAfter)
	if now.Before(deadline) {
		return sources.Verdict{Recheck: deadline}
	}
	// The threshold, not the age: a message that grows every second would be written
	// on every reconcile.
	return sources.Verdict{Why: fmt.Sprintf("Argo CD has not reconciled Application %s/%s for over %s (since %s)",
		obj.GetNamespace(), obj.GetName(), f.StaleAfter, at.Format(time.RFC3339))}
}
