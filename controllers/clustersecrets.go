package controllers

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
	"github.com/entityhub/entityhub/controllers/watches"
)

// +kubebuilder:rbac:groups="",namespace=argocd,resources=secrets,verbs=get;list;watch

// clusterSecrets feeds Argo CD's cluster names from its cluster Secrets. It starts only
// once Applications are watched, so a hub without Argo CD never asks for Secrets, and it
// reads only Secrets labelled argocd.argoproj.io/secret-type=cluster in the Argo CD
// namespaces (the cache is restricted to them), keeping only their name and server.
type clusterSecrets struct {
	cache   cache.Cache
	names   *argocd.ClusterNames
	watches *watches.Manager
	once    sync.Once
}

// clusterSecretsCache restricts the cache's Secrets to Argo CD's cluster Secrets.
func clusterSecretsCache(namespaces []string) cache.ByObject {
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

// start begins watching cluster Secrets, once; a renamed cluster recomputes every entity.
func (c *clusterSecrets) start(ctx context.Context) {
	c.once.Do(func() {
		log := logf.FromContext(ctx)
		inf, err := c.cache.GetInformer(ctx, &corev1.Secret{}, cache.BlockUntilSynced(false))
		if err != nil {
			log.Error(err, "Cannot watch Argo CD cluster Secrets; Applications show destination servers instead of cluster names")
			return
		}
		changed := func(did bool) {
			if did {
				c.watches.EnqueueAll(ctx)
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
