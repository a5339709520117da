package trace

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/sources"
	"github.com/entityhub/entityhub/controllers/sources/argocd"
	"github.com/entityhub/entityhub/controllers/sources/crossplane"
	"github.com/entityhub/entityhub/controllers/sources/kstatus"
	"github.com/entityhub/entityhub/controllers/sources/workflows"
)

// liveWorkers is how many objects --live reads at once.
const liveWorkers = 8

// ObjectReader reads one source object for --live.
type ObjectReader interface {
	// Read returns the object apiVersion, kind, namespace and name name, and whether its
	// kind is Crossplane's (its CRD is in category managed, composite or claim).
	Read(ctx context.Context, apiVersion, kind, namespace, name string) (*unstructured.Unstructured, bool, error)
}

// liveResult is what --live found of every source: what each says now, the tree their
// references make, and what could not be read, said once per kind.
type liveResult struct {
	live  map[string]*Live
	links Links
	notes []string
}

// readLive reads every source of st with r, at most liveWorkers at a time.
func readLive(ctx context.Context, r ObjectReader, st *catalogv1alpha1.CatalogEntityStatus) liveResult {
	res := liveResult{live: map[string]*Live{}, links: Links{Parent: map[string]string{}, Crossplane: map[string]bool{}}}
	var mu sync.Mutex
	noted := map[string]bool{}
	sem := make(chan struct{}, liveWorkers)
	var wg sync.WaitGroup
	for _, s := range st.Sources {
		key := objectKey(groupOf(s.APIVersion), s.Kind, s.Namespace, s.Name)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			obj, isCrossplane, err := r.Read(ctx, s.APIVersion, s.Kind, s.Namespace, s.Name)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				l, note := liveError(err, s)
				res.live[key] = l
				if note != "" && !noted[note] {
					noted[note] = true
					res.notes = append(res.notes, note)
				}
				return
			}
			res.live[key] = mapLive(obj, isCrossplane)
			if isCrossplane {
				res.links.Crossplane[key] = true
				for _, ref := range crossplane.Children(obj) {
					res.links.Parent[objectKey(ref.Group, ref.Kind, ref.Namespace, ref.Name)] = key
				}
			}
		}()
	}
	wg.Wait()
	slices.Sort(res.notes)
	return res
}

// liveError is what the LIVE column says of an object that could not be read, and a
// note for under the table, when there is more to say.
func liveError(err error, s catalogv1alpha1.SourceStatus) (*Live, string) {
	switch {
	case apierrors.IsNotFound(err):
		return &Live{Error: "not found"}, ""
	case apierrors.IsForbidden(err):
		return &Live{Error: "forbidden"}, "--live: " + Forbidden(err, "get", s.Namespace).Error()
	}
	return &Live{Error: "unreadable"}, fmt.Sprintf("--live: reading %s %s: %v", s.Kind, s.Name, err)
}

// attachLive gives each node what --live found of it.
func attachLive(nodes []*Node, live map[string]*Live) {
	for _, n := range nodes {
		if l, ok := live[n.key]; ok {
			n.Live = l
		}
		attachLive(n.Children, live)
	}
}

// mapLive reads an object with the mapper the manager would use for its kind.
func mapLive(obj *unstructured.Unstructured, isCrossplane bool) *Live {
	gvk := obj.GroupVersionKind()
	var m sources.Mapper
	switch {
	case gvk.Group == "argoproj.io" && gvk.Kind == "Application":
		m = func(o *unstructured.Unstructured) sources.Result { return argocd.MapApplication(o, nil) }
	case gvk.Group == "argoproj.io" && gvk.Kind == "ApplicationSet":
		m = argocd.MapApplicationSet
	case gvk.Group == "argoproj.io" && gvk.Kind == "Workflow":
		m = workflows.MapWorkflow
	case gvk.Group == "argoproj.io" && gvk.Kind == "CronWorkflow":
		m = workflows.MapCronWorkflow
	case gvk.Group == catalogv1alpha1.Group && gvk.Kind == "CatalogEntity":
		m = mapMember
	case isCrossplane:
		m = crossplane.MapResource
	default:
		m = kstatus.Map
	}
	r := sources.SafeMap(m, obj)
	return &Live{Health: string(r.Health), Sync: string(r.Sync), Phase: r.Phase, Message: r.Message}
}

// mapMember reads a member entity (of a System or Domain) by its own status.
func mapMember(obj *unstructured.Unstructured) sources.Result {
	health, _, _ := unstructured.NestedString(obj.Object, "status", "health")
	msg, _, _ := unstructured.NestedString(obj.Object, "status", "message")
	if health == "" {
		return sources.Result{Health: catalogv1alpha1.HealthUnknown, Message: "no status yet"}
	}
	return sources.Result{Health: catalogv1alpha1.Health(health), Message: msg}
}

// ClusterObjects reads source objects from the API server: discovery finds each kind's
// resource and categories, a dynamic client gets the object.
type ClusterObjects struct {
	Discovery discovery.DiscoveryInterface
	Dynamic   dynamic.Interface

	mu        sync.Mutex
	resources map[string]*metav1.APIResourceList
}

// Read implements ObjectReader.
func (c *ClusterObjects) Read(ctx context.Context, apiVersion, kind, namespace, name string) (*unstructured.Unstructured, bool, error) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil, false, err
	}
	res, err := c.resource(gv, kind)
	if err != nil {
		return nil, false, err
	}
	ri := c.Dynamic.Resource(gv.WithResource(res.Name))
	var obj *unstructured.Unstructured
	if res.Namespaced {
		obj, err = ri.Namespace(namespace).Get(ctx, name, metav1.GetOptions{})
	} else {
		obj, err = ri.Get(ctx, name, metav1.GetOptions{})
	}
	if err != nil {
		return nil, false, err
	}
	isCrossplane := slices.ContainsFunc(res.Categories, func(c string) bool {
		return c == "managed" || c == "composite" || c == "claim"
	})
	return obj, isCrossplane, nil
}

// resource finds kind in gv by discovery, once per group version.
func (c *ClusterObjects) resource(gv schema.GroupVersion, kind string) (metav1.APIResource, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.resources == nil {
		c.resources = map[string]*metav1.APIResourceList{}
	}
	list, ok := c.resources[gv.String()]
	if !ok {
		var err error
		list, err = c.Discovery.ServerResourcesForGroupVersion(gv.String())
		if err != nil && !apierrors.IsNotFound(err) {
			return metav1.APIResource{}, err
		}
		c.resources[gv.String()] = list
	}
	if list != nil {
		for _, r := range list.APIResources {
			if r.Kind == kind && !strings.Contains(r.Name, "/") {
				return r, nil
			}
		}
	}
	return metav1.APIResource{}, fmt.Errorf("the API server does not serve %s in %s", kind, gv)
}
