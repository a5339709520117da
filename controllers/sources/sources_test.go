package sources

import (
	"reflect"
	"testing"
)

func TestDeployKeys(t *testing.T) {
	for name, tc := range map[string]struct {
		refs []ObjectRef
		want []string
	}{
		"none": {nil, nil},
		"built-in kinds are never sources": {[]ObjectRef{
			{Kind: "Service", Namespace: "shop", Name: "web"},
			{Group: "apps", Kind: "Deployment", Namespace: "shop", Name: "web"},
		}, nil},
		"kinds of CRDs, namespaced or not": {[]ObjectRef{
			{Group: "apps", Kind: "Deployment", Namespace: "shop", Name: "web"},
			{Group: "database.example.org", Kind: "PostgreSQLInstance", Namespace: "shop", Name: "db"},
			{Group: "rds.aws.upbound.io", Kind: "Instance", Name: "db-1"},
		}, []string{"database.example.org/PostgreSQLInstance/shop/db", "rds.aws.upbound.io/Instance//db-1"}},
	} {
		t.Run(name, func(t *testing.T) {
			if got := DeployKeys(tc.refs); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("DeployKeys() = %v, want %v", got, tc.want)
			}
		})
	}
}
