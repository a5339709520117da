package argocd

import "k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

// TrimApplication drops, from an Application as it enters the cache, the status fields
// nothing reads: its sync history (up to ten past syncs, each with its sources), the
// per-resource results of the last sync operation, and the summary of images and URLs.
// Health, sync, conditions, the operation's phase and message, and status.resources
// (for relations) stay.
func TrimApplication(obj *unstructured.Unstructured) {
	status, ok := obj.Object["status"].(map[string]any)
	if !ok {
		return
	}
	delete(status, "history")
	delete(status, "summary")
	if op, ok := status["operationState"].(map[string]any); ok {
		delete(op, "syncResult")
		delete(op, "operation")
	}
}
