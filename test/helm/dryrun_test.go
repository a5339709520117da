package helm

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/entityhub/entityhub/test/testenv"
)

// Every object the chart renders, at default values and with every value changed, is
// accepted by a real API server (server-side apply, dry run): a field misspelt or of
// the wrong type, an invalid name or label fails here, not at a user's helm install.
func TestServerSideDryRun(t *testing.T) {
	env, err := testenv.New(filepath.Join("testdata", "monitoring.coreos.com.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := env.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Error(err)
		}
	})
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// The namespaces the two renders put objects in; helm install --create-namespace
	// makes the release's, the others must exist before an install.
	for _, ns := range []string{ReleaseNamespace, "argocd", "argo", "catalog", "leases", "workflows", "argocd-two"} {
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
	}

	for name, opts := range map[string]Options{
		"default values":      {},
		"every value changed": {Values: everything},
		"where the cluster serves ServiceMonitors": {
			APIVersions: []string{"monitoring.coreos.com/v1/ServiceMonitor"},
			Values:      map[string]any{"metrics": map[string]any{"secure": false}},
		},
	} {
		t.Run(name, func(t *testing.T) {
			objs := render(t, opts)
			for _, o := range objs {
				err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(o),
					client.FieldOwner("helm"), client.ForceOwnership, client.DryRunAll)
				if err != nil {
					t.Errorf("%s: %v", key(o), err)
				}
			}
		})
	}
}
