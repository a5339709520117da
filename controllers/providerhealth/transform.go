package providerhealth

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/entityhub/entityhub/controllers/sources"
)

// What Transform keeps of a Provider or ProviderRevision: what the tracker reads, and
// what the informer needs (resourceVersion).
var (
	keepTop        = map[string]bool{"apiVersion": true, "kind": true, "metadata": true, "spec": true, "status": true}
	keepMetadata   = map[string]bool{"name": true, "resourceVersion": true, "ownerReferences": true}
	keepOwnerRef   = map[string]bool{"apiVersion": true, "kind": true, "name": true, "controller": true}
	keepSpec       = map[string]bool{"desiredState": true}
	keepStatus     = map[string]bool{"conditions": true, "currentRevision": true, "objectRefs": true}
	keepCondition  = map[string]bool{"type": true, "status": true, "reason": true, "message": true}
	keepObjectRefs = map[string]bool{"kind": true, "name": true}
)

// Transform strips a Provider or ProviderRevision, as it enters the tracker's cache, to
// what the tracker reads: its name and owners, spec.desiredState, and of its status the
// conditions (type, status, reason, message), currentRevision and objectRefs (kind and
// name). Providers are few, but a revision of a large provider lists hundreds of
// objects it installed, and keeps the previous revisions around. It changes obj in
// place, removes only what is there (a second pass only reads), and passes anything but
// an unstructured object through.
func Transform(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok || u == nil {
		return obj, nil
	}
	sources.KeepKeys(u.Object, keepTop)
	if md, ok := u.Object["metadata"].(map[string]any); ok {
		sources.KeepKeys(md, keepMetadata)
		keepEach(md["ownerReferences"], keepOwnerRef)
	}
	if spec, ok := u.Object["spec"].(map[string]any); ok {
		sources.KeepKeys(spec, keepSpec)
	}
	if status, ok := u.Object["status"].(map[string]any); ok {
		sources.KeepKeys(status, keepStatus)
		keepEach(status["conditions"], keepCondition)
		keepEach(status["objectRefs"], keepObjectRefs)
	}
	return obj, nil
}

// keepEach keeps only the keys of keep in each object of list, if it is a list.
func keepEach(list any, keep map[string]bool) {
	l, _ := list.([]any)
	for _, v := range l {
		if m, ok := v.(map[string]any); ok {
			sources.KeepKeys(m, keep)
		}
	}
}
