package crossplane

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/entityhub/entityhub/controllers/sources"
)

// conditionFields are the fields of a condition MapResource reads.
var conditionFields = map[string]bool{"type": true, "status": true, "reason": true, "message": true, "observedGeneration": true}

// TrimResource drops, from a managed resource, composite or claim as it enters the
// cache, the metadata nothing reads (its creation time, finalizers; see
// sources.KeepMetadata) and the status fields nothing reads: all but status.conditions
// — a managed resource's status.atProvider mirrors the external resource and is often
// most of the object — and, in each condition, its lastTransitionTime. A status or
// conditions that is not of the expected shape is left as it is, for the mapper to
// report.
func TrimResource(obj *unstructured.Unstructured) {
	sources.KeepMetadata(obj, "generation", "deletionTimestamp", "ownerReferences")
	status, ok := obj.Object["status"].(map[string]any)
	if !ok {
		return
	}
	conditions, hasConditions := status["conditions"]
	for k := range status {
		if k != "conditions" {
			delete(status, k)
		}
	}
	if !hasConditions {
		return
	}
	list, ok := conditions.([]any)
	if !ok {
		return
	}
	for _, c := range list {
		if m, ok := c.(map[string]any); ok {
			sources.KeepKeys(m, conditionFields)
		}
	}
}
