package main

import (
	"flag"
	"io"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/entityhub/entityhub/controllers/setup"
)

// With --argocd-cluster-names=none no Secret is cached, so that none can be read and no
// Secret informer can start: the manager then needs no access to Secrets.
func TestArgoCDClusterNames(t *testing.T) {
	tests := map[string]struct {
		args           []string
		wantNamespaces []string
		wantErr        bool
	}{
		"secrets, as config/manager runs it": {
			args:           []string{"--argocd-namespace=argocd"},
			wantNamespaces: []string{"argocd"},
		},
		"none": {
			args: []string{"--argocd-cluster-names=none"},
		},
		"none ignores the Argo CD namespace": {
			args: []string{"--argocd-namespace=argocd", "--argocd-cluster-names=none"},
		},
		"anything else is refused": {
			args:    []string{"--argocd-cluster-names=labels"},
			wantErr: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var o options
			fs := flag.NewFlagSet("entityhub", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			o.bindFlags(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			if err := o.validate(); (err != nil) != tc.wantErr {
				t.Fatalf("validate() = %v, want an error: %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			got := o.clusterSecretNamespaces()
			if !slices.Equal(got, tc.wantNamespaces) {
				t.Errorf("Secret namespaces = %q, want %q", got, tc.wantNamespaces)
			}
			cached := false
			for obj, by := range setup.CacheOptions(setup.Options{ArgoCDNamespaces: got}).ByObject {
				if _, ok := obj.(*corev1.Secret); ok {
					cached = true
					if len(by.Namespaces) != len(tc.wantNamespaces) || by.Label == nil || by.Label.Empty() {
						t.Errorf("Secrets are cached in %v with label %v; want only cluster Secrets of %q", by.Namespaces, by.Label, tc.wantNamespaces)
					}
				}
			}
			if want := len(tc.wantNamespaces) > 0; cached != want {
				t.Errorf("the cache holds Secrets: %v, want %v", cached, want)
			}
		})
	}
}
