package main

import (
	"flag"
	"io"
	"strings"
	"testing"
)

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
