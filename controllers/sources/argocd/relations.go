package argocd

import (
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/entityhub/entityhub/controllers/sources"
)

// maxDeployed bounds how many of an Application's resources are followed for relations;
// an Application can manage thousands of objects, but entities depend on few.
const maxDeployed = 1000

// DeployedObjects returns the objects an Application manages that could be sources
// (sources.CouldBeSource), from status.resources, so that an entity deploying another
// entity's object (e.g. a Crossplane claim) is related to it. Malformed entries are
// skipped: relations are a hint, the health and message of the Application already say
// what is wrong with it.
func DeployedObjects(obj *unstructured.Unstructured) []sources.ObjectRef {
	if obj == nil {
		return nil
	}
	// Read in place: NestedSlice would deep-copy every entry on every reconcile.
	status, _ := obj.Object["status"].(map[string]any)
	resources, _ := status["resources"].([]any)
	return deployedObjects(resources)
}

// deployedObjects returns the first maxDeployed entries of resources, an Application's
// status.resources, that name objects that could be sources.
func deployedObjects(resources []any) []sources.ObjectRef {
	var out []sources.ObjectRef
	for _, r := range resources {
		ref, ok := deployedObject(r)
		if !ok {
			continue
		}
		out = append(out, ref)
		if len(out) == maxDeployed {
			break
		}
	}
	return out
}

// deployedObject reads one entry of status.resources, if it names an object that could
// be a source.
func deployedObject(entry any) (sources.ObjectRef, bool) {
	m, ok := entry.(map[string]any)
	if !ok {
		return sources.ObjectRef{}, false
	}
	str := func(key string) string { s, _ := m[key].(string); return s }
	ref := sources.ObjectRef{Group: str("group"), Kind: str("kind"), Namespace: str("namespace"), Name: str("name")}
	return ref, ref.Kind != "" && ref.Name != "" && sources.CouldBeSource(ref.Group)
}

// DeploysToHub reports whether an Application deploys to the cluster Argo CD runs in —
// the hub, whose objects are the sources entityhub reads. Only then can the objects it
// manages be sources: an object of the same kind and name on the hub, when the
// Application deploys to another cluster, is another object, and relating the two
// entities would be false. The destination is resolved as MapApplication resolves it:
// by name, else by server through Argo CD's cluster Secrets (which may rename the
// in-cluster destination).
func DeploysToHub(obj *unstructured.Unstructured, clusters ClusterNamer) bool {
	if obj == nil {
		return false
	}
	spec, _ := obj.Object["spec"].(map[string]any)
	dest, _ := spec["destination"].(map[string]any)
	name, _ := dest["name"].(string)
	server, _ := dest["server"].(string)
	if name == "" {
		return strings.TrimRight(server, "/") == InClusterServer
	}
	hub := InClusterName
	if clusters != nil {
		if n := clusters(InClusterServer); n != "" {
			hub = n
		}
	}
	return name == hub
}
