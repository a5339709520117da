package argocd

import (
	"sort"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Argo CD keeps each destination cluster in a Secret with this label; its data holds
// the cluster's name and server URL (and credentials, which entityhub never keeps).
const (
	SecretTypeLabel   = "argocd.argoproj.io/secret-type"
	SecretTypeCluster = "cluster"
	// InClusterServer is the server URL of the cluster Argo CD runs in.
	InClusterServer = "https://kubernetes.default.svc"
	// InClusterName is Argo CD's name for it when no Secret names it.
	InClusterName = "in-cluster"
)

// ClusterNames maps destination server URLs to cluster names, from Argo CD's cluster
// Secrets. It is safe for concurrent use: mappers read it while Secret events update it.
type ClusterNames struct {
	mu       sync.RWMutex
	bySecret map[types.NamespacedName]cluster
	byServer map[string]string
}

type cluster struct{ server, name string }

// NewClusterNames returns an empty map.
func NewClusterNames() *ClusterNames {
	return &ClusterNames{bySecret: map[types.NamespacedName]cluster{}, byServer: map[string]string{}}
}

// normalizeServer makes URLs that differ only by a trailing slash the same server.
func normalizeServer(s string) string { return strings.TrimRight(strings.TrimSpace(s), "/") }

// Update records a cluster Secret and reports whether any server's name changed.
func (c *ClusterNames) Update(secret *corev1.Secret) bool {
	key := types.NamespacedName{Namespace: secret.Namespace, Name: secret.Name}
	if secret.Labels[SecretTypeLabel] != SecretTypeCluster {
		return c.Remove(key)
	}
	next := cluster{server: normalizeServer(string(secret.Data["server"])), name: strings.TrimSpace(string(secret.Data["name"]))}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.bySecret[key]; ok && prev == next {
		return false
	}
	c.bySecret[key] = next
	return c.rebuildLocked()
}

// Remove forgets a cluster Secret and reports whether any server's name changed.
func (c *ClusterNames) Remove(key types.NamespacedName) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.bySecret[key]; !ok {
		return false
	}
	delete(c.bySecret, key)
	return c.rebuildLocked()
}

// rebuildLocked recomputes the server index; when two Secrets name one server, the
// first by namespace/name wins, so the answer does not depend on event order.
func (c *ClusterNames) rebuildLocked() bool {
	keys := make([]types.NamespacedName, 0, len(c.bySecret))
	for k := range c.bySecret {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	next := make(map[string]string, len(keys))
	for _, k := range keys {
		cl := c.bySecret[k]
		if _, taken := next[cl.server]; !taken && cl.server != "" && cl.name != "" {
			next[cl.server] = cl.name
		}
	}
	changed := len(next) != len(c.byServer)
	for s, n := range next {
		if c.byServer[s] != n {
			changed = true
		}
	}
	c.byServer = next
	return changed
}

// Name returns the name of the cluster at server, or "" when no Secret names it.
func (c *ClusterNames) Name(server string) string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.byServer[normalizeServer(server)]
}

// StripClusterSecret is the cache transform for Argo CD cluster Secrets: only the name
// and server are read, so credentials (the config key) never stay in the manager's memory.
func StripClusterSecret(obj any) (any, error) {
	secret, ok := obj.(*corev1.Secret)
	if !ok {
		return obj, nil
	}
	secret.ManagedFields = nil
	secret.Annotations = nil
	secret.StringData = nil
	kept := map[string][]byte{}
	for _, k := range []string{"name", "server"} {
		if v, ok := secret.Data[k]; ok {
			kept[k] = v
		}
	}
	secret.Data = kept
	return secret, nil
}
