// Package argoclusters names Argo CD's destination clusters from its cluster Secrets:
// it watches the Secrets labelled argocd.argoproj.io/secret-type=cluster in the Argo CD
// namespaces, keeping only their name and server, and feeds the lookup the Argo CD
// mapper reads (argocd.ClusterNames). With --argocd-cluster-names=none setup makes no
// Watcher, and Applications show their destination's server URL.
package argoclusters

import (
	"context"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/entityhub/entityhub/controllers/sources/argocd"
)

// The Role of this marker is the only grant of Secrets the manager has; config/default
// moves it to the --argocd-namespace, and config/argocd-names-none leaves it out.
// +kubebuilder:rbac:groups="",namespace=argocd,resources=secrets,verbs=get;list;watch

// Watcher feeds Argo CD's cluster names from its cluster Secrets. It starts only once
// Applications are watched (it is a sourcekind.Starter for the Argo CD family), so a hub
// without Argo CD never asks for Secrets, and it reads only Secrets labelled
// argocd.argoproj.io/secret-type=cluster in the Argo CD namespaces (the cache is
// restricted to them, see CacheConfig), keeping only their name and server.
type Watcher struct {
	cache  cache.Cache
	names  *argocd.ClusterNames
	resync func()
	once   sync.Once
}

// NewWatcher returns a Watcher that reads Secrets from c (made with CacheConfig), keeps
// names up to date, and calls resync when a cluster's name changed, since any entity
// may show it.
func NewWatcher(c cache.Cache, names *argocd.ClusterNames, resync func()) *Watcher {
	return &Watcher{cache: c, names: names, resync: resync}
}

// CacheConfig restricts the manager cache's Secrets to Argo CD's cluster Secrets in
// namespaces, stripped of their credentials.
func CacheConfig(namespaces []string) cache.ByObject {
	byNS := map[string]cache.Config{}
	for _, ns := range namespaces {
		byNS[ns] = cache.Config{}
	}
	return cache.ByObject{
		Namespaces: byNS,
		Label:      labels.SelectorFromSet(labels.Set{argocd.SecretTypeLabel: argocd.SecretTypeCluster}),
		Transform:  argocd.StripClusterSecret,
	}
}

// Start begins watching cluster Secrets, once; a renamed cluster recomputes every entity.
func (c *Watcher) Start(ctx context.Context) {
	c.once.Do(func() {
		log := logf.FromContext(ctx)
		inf, err := c.cache.GetInformer(ctx, &corev1.Secret{}, cache.BlockUntilSynced(false))
		if err != nil {
			log.Error(err, "Cannot watch Argo CD cluster Secrets; Applications show destination servers instead of cluster names")
			return
		}
		changed := func(did bool) {
			if did {
				c.resync()
			}
		}
		_, err = inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc: func(obj any) {
				if s, ok := obj.(*corev1.Secret); ok {
					changed(c.names.Update(s))
				}
			},
			UpdateFunc: func(_, obj any) {
				if s, ok := obj.(*corev1.Secret); ok {
					changed(c.names.Update(s))
				}
			},
			DeleteFunc: func(obj any) {
				if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
					obj = t.Obj
				}
				if s, ok := obj.(*corev1.Secret); ok {
					changed(c.names.Remove(types.NamespacedName{Namespace: s.Namespace, Name: s.Name}))
				}
			},
		})
		if err != nil {
			log.Error(err, "Cannot watch Argo CD cluster Secrets")
			return
		}
		log.Info("Watching Argo CD cluster Secrets", "labelKey", argocd.SecretTypeLabel, "labelValue", argocd.SecretTypeCluster)
	})
}
