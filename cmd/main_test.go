package main

import (
	"flag"
	"io"
	"slices"
	"strings"
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

// parse reads args as the manager's flags and validates them.
func parse(t *testing.T, args ...string) (options, error) {
	t.Helper()
	var o options
	fs := flag.NewFlagSet("entityhub", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o.bindFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return o, o.validate()
}

func TestCatalogFlags(t *testing.T) {
	tests := map[string]struct {
		args    []string
		wantErr string
	}{
		"defaults":                       {nil, ""},
		"auth over TLS":                  {[]string{"--catalog-auth", "--catalog-cert-dir=/certs"}, ""},
		"auth in clear, said explicitly": {[]string{"--catalog-auth", "--catalog-insecure"}, ""},
		"auth in clear, not said":        {[]string{"--catalog-auth"}, "--catalog-auth without --catalog-cert-dir would take bearer tokens in clear"},
		"insecure and TLS contradict":    {[]string{"--catalog-cert-dir=/certs", "--catalog-insecure"}, "drop one of them"},
		"TLS without auth":               {[]string{"--catalog-cert-dir=/certs"}, ""},
		"no renders":                     {[]string{"--catalog-max-renders=0"}, "--catalog-max-renders 0 must be at least 1"},
		"a certificate without a name":   {[]string{"--catalog-cert-dir=/certs", "--catalog-cert-name="}, "must not be empty"},
		"more renders":                   {[]string{"--catalog-max-renders=4"}, ""},
		"names of another layout":        {[]string{"--catalog-cert-dir=/certs", "--catalog-cert-name=cert.pem", "--catalog-key-name=key.pem"}, ""},
		"insecure without auth":          {[]string{"--catalog-insecure"}, ""},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := parse(t, tt.args...)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("validate() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("validate() = %v, want an error with %q", err, tt.wantErr)
			}
		})
	}
	o, _ := parse(t)
	if o.catalogCertName != "tls.crt" || o.catalogKeyName != "tls.key" || o.catalogRenders != 2 {
		t.Errorf("defaults: cert %q, key %q, renders %d; want tls.crt, tls.key, 2", o.catalogCertName, o.catalogKeyName, o.catalogRenders)
	}
}
