package argocd

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/entityhub/entityhub/controllers/sources"
)

// The kinds of the family. Argo Workflows shares the argoproj.io group, so the family
// claims these two kinds only.
const (
	KindApplication    = "Application"
	KindApplicationSet = "ApplicationSet"
)

// +kubebuilder:rbac:groups=argoproj.io,resources=applications;applicationsets,verbs=get;list;watch

// Family is the source family of Argo CD: Applications, named by destination cluster
// through Clusters, and ApplicationSets.
type Family struct {
	// Clusters names destination servers; nil leaves servers as they are.
	Clusters *ClusterNames
}

// Name implements sources.Family.
func (f *Family) Name() string { return FamilyName }

// KindsFor implements sources.Family: Argo CD's Application and ApplicationSet CRDs,
// read at their storage version.
func (f *Family) KindsFor(crd *apiextensionsv1.CustomResourceDefinition) []sources.Kind {
	if crd.Spec.Group != Group {
		return nil
	}
	version, ok := sources.StorageVersion(crd)
	if !ok {
		return nil
	}
	gvk := func(kind string) sources.Kind {
		return sources.Kind{Family: FamilyName}.WithGVK(Group, version, kind)
	}
	switch crd.Spec.Names.Kind {
	case KindApplication:
		k := gvk(KindApplication)
		namer := f.namer()
		// What an Application deploys relates its entity to others only when it deploys
		// to the hub: the objects of another cluster are not the hub's sources.
		deploys := func(obj *unstructured.Unstructured) []sources.ObjectRef {
			if !DeploysToHub(obj, namer) {
				return nil
			}
			return DeployedObjects(obj)
		}
		k.Map = func(obj *unstructured.Unstructured) sources.Result {
			res := MapApplication(obj, namer)
			res.Deploys = deploys(obj)
			return res
		}
		k.KeepSpec = KeepSpecApplication()
		k.Trim = TrimApplication
		k.Annotations = []string{AnnotationSkipReconcile} // read by Freshness
		k.Indexes = map[string]func(*unstructured.Unstructured) []string{
			sources.IndexDeploys: func(obj *unstructured.Unstructured) []string { return sources.DeployKeys(deploys(obj)) },
		}
		return []sources.Kind{k}
	case KindApplicationSet:
		k := gvk(KindApplicationSet)
		k.Map = MapApplicationSet
		return []sources.Kind{k}
	}
	return nil
}

func (f *Family) namer() ClusterNamer {
	if f.Clusters == nil {
		return nil
	}
	return f.Clusters.Name
}
