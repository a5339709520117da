package argocd

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/entityhub/entityhub/controllers/sources"
)

// readStatus is what MapApplication and DeployedObjects read of an Application's status:
// each field kept, with the keys kept inside it (nil: the field as it is).
var readStatus = map[string]map[string]bool{
	"health":         {"status": true, "message": true},
	"sync":           {"status": true, "revision": true, "revisions": true},
	"operationState": {"phase": true, "message": true},
	"conditions":     nil, // a list: see trimConditions
	"resources":      nil, // a list: see trimResources
	"reconciledAt":   nil, // a time: read by Freshness
}

// TrimApplication drops, from an Application as it enters the cache, all metadata but
// what the cache keeps (see sources.KeepMetadata), and the status fields nothing reads:
// its sync history (up to ten past syncs, each with its sources), the last sync
// operation and its per-object results, what the sync was compared to (the whole source
// again, Helm values and all), the summary of images and URLs, the times but
// reconciledAt (see Freshness), and of
// status.resources — one entry per object it manages, most of them Deployments, Services
// and the like — all but the group, kind, namespace and name of those that could be
// sources, which relations read. A field of another shape than expected is left as it
// is, for the mapper to report.
func TrimApplication(obj *unstructured.Unstructured) {
	sources.KeepMetadata(obj)
	status, ok := obj.Object["status"].(map[string]any)
	if !ok {
		return
	}
	for field, v := range status {
		keys, read := readStatus[field]
		switch {
		case !read:
			delete(status, field)
		case field == "conditions":
			trimConditions(v)
		case field == "resources":
			if resources, ok := v.([]any); ok {
				if kept := trimResources(resources); len(kept) > 0 {
					status[field] = kept
				} else {
					delete(status, field)
				}
			}
		default:
			if m, ok := v.(map[string]any); ok {
				sources.KeepKeys(m, keys)
			}
		}
	}
}

// conditionFields are the fields of a condition the mapper reads.
var conditionFields = map[string]bool{"type": true, "status": true, "reason": true, "message": true}

// trimConditions keeps, of each condition, what the mapper reads.
func trimConditions(v any) {
	list, _ := v.([]any)
	for _, c := range list {
		if m, ok := c.(map[string]any); ok {
			sources.KeepKeys(m, conditionFields)
		}
	}
}

// trimResources keeps, of status.resources, the names of the objects DeployedObjects
// returns.
func trimResources(resources []any) []any {
	var kept []any
	for _, ref := range deployedObjects(resources) {
		entry := map[string]any{"group": ref.Group, "kind": ref.Kind, "name": ref.Name}
		if ref.Namespace != "" {
			entry["namespace"] = ref.Namespace
		}
		kept = append(kept, entry)
	}
	return kept
}
