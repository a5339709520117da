package crossplane

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/entityhub/entityhub/controllers/sources"
	"github.com/entityhub/entityhub/controllers/sources/sourcetest"
)

// ref is shorthand for an ObjectRef in tables.
func ref(group, kind, namespace, name string) sources.ObjectRef {
	return sources.ObjectRef{Group: group, Kind: kind, Namespace: namespace, Name: name}
}

// composite returns a Crossplane v1 composite like testdata/xpostgresqlinstance.yaml
// with the given spec (a YAML block indented by two spaces).
func composite(t *testing.T, spec string) *unstructured.Unstructured {
	t.Helper()
	return sourcetest.DecodeManifest(t, `
apiVersion: database.example.org/v1alpha1
kind: XPostgreSQLInstance
metadata:
  name: payments-db-x7k2p
  generation: 2
  finalizers: [composite.apiextensions.crossplane.io]
spec:
  parameters: {storageGB: 20}
  compositionRef: {name: xpostgresqlinstances.aws.database.example.org}
`+spec+`
status:
  conditions:
  - {type: Ready, status: "True", reason: Available}
`)
}

// compositeV2 returns a Crossplane v2 composite like testdata/xdatabase-v2.yaml in
// namespace (none for a cluster-scoped one), with the given spec.crossplane fields (a
// YAML block indented by four spaces).
func compositeV2(t *testing.T, namespace, crossplane string) *unstructured.Unstructured {
	t.Helper()
	ns := ""
	if namespace != "" {
		ns = "\n  namespace: " + namespace
	}
	return sourcetest.DecodeManifest(t, `
apiVersion: platform.example.org/v1alpha1
kind: XDatabase
metadata:
  name: orders-db`+ns+`
  generation: 4
spec:
  engine: postgres
  crossplane:
    compositionRef: {name: xdatabases.aws.platform.example.org}
`+crossplane)
}

// payments are the composed resources of testdata/xpostgresqlinstance.yaml.
var payments = []sources.ObjectRef{
	ref("rds.aws.upbound.io", "SubnetGroup", "", "payments-db-x7k2p-subnets"),
	ref("rds.aws.upbound.io", "Instance", "", "payments-db-x7k2p-primary"),
	ref("rds.aws.upbound.io", "Instance", "", "payments-db-x7k2p-replica"),
}

func TestChildren(t *testing.T) {
	tests := map[string]struct {
		obj  *unstructured.Unstructured
		want []sources.ObjectRef
	}{
		// Real objects.
		"a claim is made of its composite, which is cluster-scoped": {
			obj:  sourcetest.LoadManifest(t, "postgresqlinstance.yaml"),
			want: []sources.ObjectRef{ref("database.example.org", "XPostgreSQLInstance", "", "payments-db-x7k2p")},
		},
		"a v1 composite is made of its resourceRefs, in order": {
			obj:  sourcetest.LoadManifest(t, "xpostgresqlinstance.yaml"),
			want: payments,
		},
		"a v2 composite's parts are in its namespace": {
			obj: sourcetest.LoadManifest(t, "xdatabase-v2.yaml"),
			want: []sources.ObjectRef{
				ref("rds.aws.m.upbound.io", "SubnetGroup", "orders", "orders-db-subnets"),
				ref("rds.aws.m.upbound.io", "Instance", "orders", "orders-db-main"),
				ref("", "ConfigMap", "orders", "orders-db-endpoint"),
			},
		},
		"a managed resource is made of nothing": {
			obj: sourcetest.LoadManifest(t, "rds-instance.yaml"),
		},
		"a v2 managed resource is made of nothing": {
			obj: sourcetest.LoadManifest(t, "rds-instance-v2.yaml"),
		},

		// Namespaces.
		"a claim's resourceRef with a namespace keeps it": {
			obj: sourcetest.DecodeManifest(t, `
apiVersion: database.example.org/v1alpha1
kind: PostgreSQLInstance
metadata: {name: payments-db, namespace: payments}
spec:
  resourceRef: {apiVersion: database.example.org/v1alpha1, kind: XPostgreSQLInstance, name: payments-db-x7k2p, namespace: payments}
`),
			want: []sources.ObjectRef{ref("database.example.org", "XPostgreSQLInstance", "payments", "payments-db-x7k2p")},
		},
		"a claim's resourceRef without a namespace does not get the claim's": {
			obj: sourcetest.DecodeManifest(t, `
apiVersion: database.example.org/v1alpha1
kind: PostgreSQLInstance
metadata: {name: payments-db, namespace: payments}
spec:
  resourceRef: {apiVersion: database.example.org/v1alpha1, kind: XPostgreSQLInstance, name: payments-db-x7k2p}
`),
			want: []sources.ObjectRef{ref("database.example.org", "XPostgreSQLInstance", "", "payments-db-x7k2p")},
		},
		"a v2 ref that names a namespace keeps it": {
			obj: compositeV2(t, "orders", `    resourceRefs:
    - {apiVersion: rds.aws.m.upbound.io/v1beta1, kind: Instance, name: orders-db-main}
    - {apiVersion: v1, kind: Secret, name: orders-db-ca, namespace: certs}
`),
			want: []sources.ObjectRef{
				ref("rds.aws.m.upbound.io", "Instance", "orders", "orders-db-main"),
				ref("", "Secret", "certs", "orders-db-ca"),
			},
		},
		"a cluster-scoped v2 composite's refs keep what they name": {
			obj: compositeV2(t, "", `    resourceRefs:
    - {apiVersion: rds.aws.upbound.io/v1beta1, kind: Instance, name: orders-db-main}
    - {apiVersion: kubernetes.crossplane.io/v1alpha2, kind: Object, name: orders-db-ns}
    - {apiVersion: v1, kind: ConfigMap, name: orders-db-endpoint, namespace: orders}
`),
			want: []sources.ObjectRef{
				ref("rds.aws.upbound.io", "Instance", "", "orders-db-main"),
				ref("kubernetes.crossplane.io", "Object", "", "orders-db-ns"),
				ref("", "ConfigMap", "orders", "orders-db-endpoint"),
			},
		},
		"a namespaced object's v1 resourceRefs do not get its namespace": {
			obj: sourcetest.DecodeManifest(t, `
apiVersion: database.example.org/v1alpha1
kind: XPostgreSQLInstance
metadata: {name: payments-db-x7k2p, namespace: payments}
spec:
  resourceRefs:
  - {apiVersion: rds.aws.upbound.io/v1beta1, kind: Instance, name: payments-db-x7k2p-primary}
`),
			want: []sources.ObjectRef{ref("rds.aws.upbound.io", "Instance", "", "payments-db-x7k2p-primary")},
		},
		"a malformed namespace gives none": {
			obj: sourcetest.DecodeManifest(t, `
apiVersion: platform.example.org/v1alpha1
kind: XDatabase
metadata: {name: orders-db, namespace: 7}
spec: {crossplane: {resourceRefs: [{apiVersion: rds.aws.m.upbound.io/v1beta1, kind: Instance, name: orders-db-main}]}}
`),
			want: []sources.ObjectRef{ref("rds.aws.m.upbound.io", "Instance", "", "orders-db-main")},
		},

		// Both shapes, duplicates and bounds.
		"both shapes: v1 refs first, each part once": {
			obj: sourcetest.DecodeManifest(t, `
apiVersion: platform.example.org/v1alpha1
kind: XDatabase
metadata: {name: orders-db}
spec:
  resourceRefs:
  - {apiVersion: rds.aws.upbound.io/v1beta1, kind: Instance, name: orders-db-main}
  - {apiVersion: rds.aws.upbound.io/v1beta1, kind: Instance, name: orders-db-main}
  crossplane:
    resourceRefs:
    - {apiVersion: rds.aws.upbound.io/v1beta1, kind: SubnetGroup, name: orders-db-subnets}
    - {apiVersion: rds.aws.upbound.io/v1beta1, kind: Instance, name: orders-db-main}
`),
			want: []sources.ObjectRef{
				ref("rds.aws.upbound.io", "Instance", "", "orders-db-main"),
				ref("rds.aws.upbound.io", "SubnetGroup", "", "orders-db-subnets"),
			},
		},
		"the same name in another version is the same object": {
			obj: composite(t, `  resourceRefs:
  - {apiVersion: rds.aws.upbound.io/v1beta1, kind: Instance, name: payments-db-x7k2p-primary}
  - {apiVersion: rds.aws.upbound.io/v1beta2, kind: Instance, name: payments-db-x7k2p-primary}
`),
			want: []sources.ObjectRef{ref("rds.aws.upbound.io", "Instance", "", "payments-db-x7k2p-primary")},
		},
		"at most 1000 refs": {
			obj:  manyRefs(1500),
			want: manyRefsWant(1000),
		},
		"exactly 1000 refs": {
			obj:  manyRefs(1000),
			want: manyRefsWant(1000),
		},

		// Malformed refs are skipped.
		"malformed entries are skipped, the others kept in order": {
			obj: composite(t, `  resourceRefs:
  - {apiVersion: rds.aws.upbound.io/v1beta1, kind: SubnetGroup, name: payments-db-x7k2p-subnets}
  - payments-db-x7k2p-primary
  - null
  - [rds.aws.upbound.io/v1beta1, Instance, payments-db-x7k2p-primary]
  - {apiVersion: rds.aws.upbound.io/v1beta1, name: no-kind}
  - {apiVersion: rds.aws.upbound.io/v1beta1, kind: Instance}
  - {apiVersion: rds.aws.upbound.io/v1beta1, kind: Instance, name: ""}
  - {kind: Instance, name: no-api-version}
  - {apiVersion: "", kind: Instance, name: empty-api-version}
  - {apiVersion: 1, kind: Instance, name: numeric-api-version}
  - {apiVersion: rds.aws.upbound.io/v1beta1/extra, kind: Instance, name: bad-api-version}
  - {apiVersion: rds.aws.upbound.io/, kind: Instance, name: no-version}
  - {apiVersion: rds.aws.upbound.io/v1beta1, kind: [Instance], name: list-kind}
  - {apiVersion: rds.aws.upbound.io/v1beta1, kind: Instance, name: 42}
  - {apiVersion: rds.aws.upbound.io/v1beta1, kind: Instance, name: numeric-namespace, namespace: 3}
  - {apiVersion: rds.aws.upbound.io/v1beta1, kind: Instance, name: payments-db-x7k2p-primary, namespace: null, uid: 12}
  - {apiVersion: rds.aws.upbound.io/v1beta1, kind: Instance, name: payments-db-x7k2p-replica}
`),
			want: []sources.ObjectRef{
				ref("rds.aws.upbound.io", "SubnetGroup", "", "payments-db-x7k2p-subnets"),
				ref("rds.aws.upbound.io", "Instance", "", "payments-db-x7k2p-primary"),
				ref("rds.aws.upbound.io", "Instance", "", "payments-db-x7k2p-replica"),
			},
		},
		"resourceRefs not a list": {
			obj: composite(t, "  resourceRefs: {apiVersion: rds.aws.upbound.io/v1beta1, kind: Instance, name: payments-db-x7k2p-primary}\n"),
		},
		"resourceRef not an object": {
			obj: sourcetest.DecodeManifest(t, `
apiVersion: database.example.org/v1alpha1
kind: PostgreSQLInstance
metadata: {name: payments-db, namespace: payments}
spec: {resourceRef: payments-db-x7k2p}
`),
		},
		"resourceRef a list": {
			obj: sourcetest.DecodeManifest(t, `
apiVersion: database.example.org/v1alpha1
kind: PostgreSQLInstance
metadata: {name: payments-db, namespace: payments}
spec: {resourceRef: [{apiVersion: database.example.org/v1alpha1, kind: XPostgreSQLInstance, name: payments-db-x7k2p}]}
`),
		},
		"spec.crossplane a string": {
			obj: sourcetest.DecodeManifest(t, "{apiVersion: platform.example.org/v1alpha1, kind: XDatabase, metadata: {name: orders-db, namespace: orders}, spec: {crossplane: auto}}"),
		},
		"spec a list": {
			obj: sourcetest.DecodeManifest(t, "{apiVersion: platform.example.org/v1alpha1, kind: XDatabase, metadata: {name: orders-db}, spec: [resourceRefs]}"),
		},
		"invalid UTF-8 cannot name an object": {
			obj: &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"resourceRefs": []any{
				map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "name": "bad\xff"},
				map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "name": "good"},
			}}}},
			want: []sources.ObjectRef{ref("", "ConfigMap", "", "good")},
		},
		"an object with a nil map": {obj: &unstructured.Unstructured{}},
		"nil object":               {obj: nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			checkRefs(t, "Children", Children, tc.obj, tc.want)
		})
	}
}

// manyRefs returns a v1 composite with n resourceRefs.
func manyRefs(n int) *unstructured.Unstructured {
	refs := make([]any, n)
	for i := range refs {
		refs[i] = map[string]any{"apiVersion": "s3.aws.upbound.io/v1beta1", "kind": "Bucket", "name": fmt.Sprintf("logs-%04d", i)}
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "storage.example.org/v1alpha1",
		"kind":       "XBucketSet",
		"metadata":   map[string]any{"name": "logs"},
		"spec":       map[string]any{"resourceRefs": refs},
	}}
}

// manyRefsWant returns the first n refs of manyRefs.
func manyRefsWant(n int) []sources.ObjectRef {
	out := make([]sources.ObjectRef, n)
	for i := range out {
		out[i] = ref("s3.aws.upbound.io", "Bucket", "", fmt.Sprintf("logs-%04d", i))
	}
	return out
}

func TestParents(t *testing.T) {
	owner := func(apiVersion, kind, name, controller string) string {
		return fmt.Sprintf("  - {apiVersion: %s, kind: %s, name: %s, uid: 5a9d2c17-3e84-4f60-b1a7-9c0e6d2f4b88, controller: %s, blockOwnerDeletion: true}\n",
			apiVersion, kind, name, controller)
	}
	managed := func(t *testing.T, namespace, owners string) *unstructured.Unstructured {
		t.Helper()
		ns := ""
		if namespace != "" {
			ns = "\n  namespace: " + namespace
		}
		return sourcetest.DecodeManifest(t, `
apiVersion: rds.aws.upbound.io/v1beta1
kind: Instance
metadata:
  name: payments-db-x7k2p-primary`+ns+`
  ownerReferences:
`+owners+`
spec: {forProvider: {region: eu-west-1}}
`)
	}
	xpg := ref("database.example.org", "XPostgreSQLInstance", "", "payments-db-x7k2p")
	claim := ref("database.example.org", "PostgreSQLInstance", "payments", "payments-db")
	tests := map[string]struct {
		obj  *unstructured.Unstructured
		want []sources.ObjectRef
	}{
		// Real objects.
		"a managed resource belongs to its composite": {
			obj:  sourcetest.LoadManifest(t, "rds-instance.yaml"),
			want: []sources.ObjectRef{xpg},
		},
		"a v2 managed resource belongs to its composite, in its namespace": {
			obj:  sourcetest.LoadManifest(t, "rds-instance-v2.yaml"),
			want: []sources.ObjectRef{ref("platform.example.org", "XDatabase", "orders", "orders-db")},
		},
		"a v1 composite belongs to its claim": {
			obj:  sourcetest.LoadManifest(t, "xpostgresqlinstance.yaml"),
			want: []sources.ObjectRef{claim},
		},
		"a claim belongs to nothing": {
			obj: sourcetest.LoadManifest(t, "postgresqlinstance.yaml"),
		},
		"a v2 composite without an owner belongs to nothing": {
			obj: sourcetest.LoadManifest(t, "xdatabase-v2.yaml"),
		},

		// Owner references.
		"only the controller counts": {
			obj: managed(t, "", owner("argoproj.io/v1alpha1", "Application", "payments", "false")+
				owner("database.example.org/v1alpha1", "XPostgreSQLInstance", "payments-db-x7k2p", "true")),
			want: []sources.ObjectRef{xpg},
		},
		"an owner without controller is not followed": {
			obj: managed(t, "", "  - {apiVersion: database.example.org/v1alpha1, kind: XPostgreSQLInstance, name: payments-db-x7k2p, uid: x}\n"),
		},
		"a controller written as a string is not one": {
			obj: managed(t, "", owner("database.example.org/v1alpha1", "XPostgreSQLInstance", "payments-db-x7k2p", `"true"`)),
		},
		"the first of two controllers": {
			obj: managed(t, "", owner("database.example.org/v1alpha1", "XPostgreSQLInstance", "payments-db-x7k2p", "true")+
				owner("database.example.org/v1alpha1", "XPostgreSQLInstance", "other", "true")),
			want: []sources.ObjectRef{xpg},
		},
		"a malformed controller is skipped, and nothing else is taken": {
			obj: managed(t, "", "  - {apiVersion: 7, kind: XPostgreSQLInstance, name: payments-db-x7k2p, controller: true}\n"+
				owner("database.example.org/v1alpha1", "XPostgreSQLInstance", "other", "true")),
		},
		"a namespaced object's controller is in its namespace": {
			obj:  managed(t, "payments", owner("database.example.org/v1alpha1", "XPostgreSQLInstance", "payments-db-x7k2p", "true")),
			want: []sources.ObjectRef{ref("database.example.org", "XPostgreSQLInstance", "payments", "payments-db-x7k2p")},
		},
		"an owner reference's namespace field is not Kubernetes' and is ignored": {
			obj:  managed(t, "", "  - {apiVersion: database.example.org/v1alpha1, kind: XPostgreSQLInstance, name: payments-db-x7k2p, namespace: elsewhere, controller: true}\n"),
			want: []sources.ObjectRef{xpg},
		},
		"a nested composite belongs to the composite that composed it": {
			obj: sourcetest.DecodeManifest(t, `
apiVersion: network.example.org/v1alpha1
kind: XNetwork
metadata:
  name: payments-db-x7k2p-net
  ownerReferences:
  - {apiVersion: database.example.org/v1alpha1, kind: XPostgreSQLInstance, name: payments-db-x7k2p, uid: u, controller: true}
spec:
  resourceRefs: [{apiVersion: ec2.aws.upbound.io/v1beta1, kind: VPC, name: payments-db-x7k2p-vpc}]
`),
			want: []sources.ObjectRef{xpg},
		},

		// Claim refs.
		"a composite with an owner and a claim: the owner first": {
			obj: sourcetest.DecodeManifest(t, `
apiVersion: database.example.org/v1alpha1
kind: XPostgreSQLInstance
metadata:
  name: payments-db-x7k2p
  ownerReferences:
  - {apiVersion: platform.example.org/v1alpha1, kind: XPlatform, name: payments, uid: u, controller: true}
spec:
  claimRef: {apiVersion: database.example.org/v1alpha1, kind: PostgreSQLInstance, name: payments-db, namespace: payments}
`),
			want: []sources.ObjectRef{ref("platform.example.org", "XPlatform", "", "payments"), claim},
		},
		"spec.crossplane.claimRef": {
			obj: compositeV2(t, "", `    claimRef: {apiVersion: platform.example.org/v1alpha1, kind: Database, name: orders-db, namespace: orders}
`),
			want: []sources.ObjectRef{ref("platform.example.org", "Database", "orders", "orders-db")},
		},
		"both claim refs, the same claim once": {
			obj: sourcetest.DecodeManifest(t, `
apiVersion: database.example.org/v1alpha1
kind: XPostgreSQLInstance
metadata: {name: payments-db-x7k2p}
spec:
  claimRef: {apiVersion: database.example.org/v1alpha1, kind: PostgreSQLInstance, name: payments-db, namespace: payments}
  crossplane:
    claimRef: {apiVersion: database.example.org/v1alpha1, kind: PostgreSQLInstance, name: payments-db, namespace: payments}
`),
			want: []sources.ObjectRef{claim},
		},
		"a claim ref without a namespace cannot be followed": {
			obj: composite(t, "  claimRef: {apiVersion: database.example.org/v1alpha1, kind: PostgreSQLInstance, name: payments-db}\n"),
		},
		"a malformed claim ref is skipped": {
			obj: composite(t, "  claimRef: {apiVersion: database.example.org/v1alpha1, kind: PostgreSQLInstance, name: [payments-db], namespace: payments}\n"),
		},

		// Malformed metadata.
		"ownerReferences not a list": {
			obj: sourcetest.DecodeManifest(t, `
apiVersion: rds.aws.upbound.io/v1beta1
kind: Instance
metadata:
  name: payments-db-x7k2p-primary
  ownerReferences: {apiVersion: database.example.org/v1alpha1, kind: XPostgreSQLInstance, name: payments-db-x7k2p, controller: true}
`),
		},
		"an owner reference that is a string": {
			obj:  managed(t, "", "  - payments-db-x7k2p\n"+owner("database.example.org/v1alpha1", "XPostgreSQLInstance", "payments-db-x7k2p", "true")),
			want: []sources.ObjectRef{xpg},
		},
		"metadata a string": {
			obj: sourcetest.DecodeManifest(t, "{apiVersion: rds.aws.upbound.io/v1beta1, kind: Instance, metadata: payments}"),
		},
		"an object with a nil map": {obj: &unstructured.Unstructured{}},
		"nil object":               {obj: nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			checkRefs(t, "Parents", Parents, tc.obj, tc.want)
		})
	}
}

// checkRefs checks fn(obj) against want, and the promises Children and Parents make on
// every object: obj unchanged, and the same answer from the object as the cache keeps
// it.
func checkRefs(t *testing.T, name string, fn func(*unstructured.Unstructured) []sources.ObjectRef, obj *unstructured.Unstructured, want []sources.ObjectRef) {
	t.Helper()
	var before map[string]any
	if obj != nil {
		before, _ = sourcetest.CopyValue(obj.Object).(map[string]any)
	}
	got := fn(obj)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s() mismatch (-want +got):\n%s", name, diff)
	}
	if obj == nil {
		return
	}
	if diff := cmp.Diff(before, obj.Object); diff != "" {
		t.Errorf("%s() modified its argument (-before +after):\n%s", name, diff)
	}
	if obj.Object != nil && sourcetest.FromDecoder(obj.Object) {
		cached := fn(sourcetest.CachedCopy(t, familyKind(t), obj))
		if diff := cmp.Diff(got, cached); diff != "" {
			t.Errorf("%s() reads what the cache drops (-full +cached):\n%s", name, diff)
		}
	}
}

func TestKeepSpec(t *testing.T) {
	want := [][]string{{"resourceRef"}, {"resourceRefs"}, {"claimRef"}, {"crossplane", "resourceRefs"}, {"crossplane", "claimRef"}}
	if diff := cmp.Diff(want, KeepSpec()); diff != "" {
		t.Errorf("KeepSpec() mismatch (-want +got):\n%s", diff)
	}
	// Each call returns its own slices, so that a caller changing them changes nothing
	// for others.
	a := KeepSpec()
	a[0][0] = "forProvider"
	if got := KeepSpec()[0][0]; got != "resourceRef" {
		t.Errorf("KeepSpec() shares its slices: changed to %q", got)
	}

	// What the cache keeps of real objects: the tree's refs and nothing else.
	tests := map[string]struct {
		fixture string
		want    any
	}{
		"a managed resource keeps no spec": {fixture: "rds-instance.yaml", want: nil},
		"a claim keeps its resourceRef": {fixture: "postgresqlinstance.yaml", want: map[string]any{
			"resourceRef": map[string]any{"apiVersion": "database.example.org/v1alpha1", "kind": "XPostgreSQLInstance", "name": "payments-db-x7k2p"},
		}},
		"a v1 composite keeps its resourceRefs and claimRef": {fixture: "xpostgresqlinstance.yaml", want: map[string]any{
			"claimRef": map[string]any{"apiVersion": "database.example.org/v1alpha1", "kind": "PostgreSQLInstance", "name": "payments-db", "namespace": "payments"},
			"resourceRefs": []any{
				map[string]any{"apiVersion": "rds.aws.upbound.io/v1beta1", "kind": "SubnetGroup", "name": "payments-db-x7k2p-subnets"},
				map[string]any{"apiVersion": "rds.aws.upbound.io/v1beta1", "kind": "Instance", "name": "payments-db-x7k2p-primary"},
				map[string]any{"apiVersion": "rds.aws.upbound.io/v1beta1", "kind": "Instance", "name": "payments-db-x7k2p-replica"},
			},
		}},
		"a v2 composite keeps only spec.crossplane.resourceRefs": {fixture: "xdatabase-v2.yaml", want: map[string]any{
			"crossplane": map[string]any{"resourceRefs": []any{
				map[string]any{"apiVersion": "rds.aws.m.upbound.io/v1beta1", "kind": "SubnetGroup", "name": "orders-db-subnets"},
				map[string]any{"apiVersion": "rds.aws.m.upbound.io/v1beta1", "kind": "Instance", "name": "orders-db-main"},
				map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "name": "orders-db-endpoint"},
			}},
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			full := sourcetest.LoadManifest(t, tc.fixture)
			if diff := cmp.Diff(tc.want, sourcetest.CachedCopy(t, familyKind(t), full).Object["spec"]); diff != "" {
				t.Errorf("cached spec mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
