package kstatus

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/sources"
	"github.com/entityhub/entityhub/controllers/sources/sourcetest"
)

// fromYAML decodes a manifest the way a client reading from the API server does:
// integers become int64, which kstatus' generation check insists on.
func fromYAML(t *testing.T, manifest string) *unstructured.Unstructured {
	t.Helper()
	data, err := yaml.YAMLToJSON([]byte(manifest))
	if err != nil {
		t.Fatalf("bad manifest in test: %v", err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		t.Fatalf("bad manifest in test: %v", err)
	}
	return u
}

// workspace returns a provider-terraform Workspace at generation 1 whose
// status.conditions are the given YAML flow mappings, in order.
func workspace(t *testing.T, conditions ...string) *unstructured.Unstructured {
	t.Helper()
	return fromYAML(t, "apiVersion: tf.upbound.io/v1beta1\nkind: Workspace\nmetadata: {name: vpc, generation: 1}\n"+
		"status:\n  conditions:\n  - "+strings.Join(conditions, "\n  - ")+"\n")
}

// withStatus returns a Terraform-like object with status as given, for the malformed
// cases: a manifest could not carry a status that does not decode.
func withStatus(st any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "tf.upbound.io/v1beta1",
		"kind":       "Workspace",
		"metadata":   map[string]any{"name": "vpc", "generation": int64(1)},
		"status":     st,
	}}
}

func TestMap(t *testing.T) {
	tests := map[string]struct {
		obj  *unstructured.Unstructured
		want sources.Result
	}{
		"deployment whose controller has not seen the newest generation": {
			obj: fromYAML(t, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, generation: 5}
spec: {replicas: 3}
status:
  observedGeneration: 4
  replicas: 3
  readyReplicas: 3
  availableReplicas: 3
  updatedReplicas: 3
  conditions:
  - {type: Available, status: "True", reason: MinimumReplicasAvailable}
  - {type: Progressing, status: "True", reason: NewReplicaSetAvailable}
`),
			want: sources.Result{Health: "Progressing", Phase: "InProgress",
				Message: "Deployment generation is 5, but latest observed generation is 4"},
		},
		"Ready=True": {
			obj: fromYAML(t, `
apiVersion: db.example.com/v1
kind: Database
metadata: {name: orders, namespace: shop, generation: 2}
status:
  observedGeneration: 2
  conditions:
  - {type: Ready, status: "True", reason: Available, message: "database is up"}
`),
			want: sources.Result{Health: "Healthy", Phase: "Current", Message: "Resource is Ready"},
		},
		"Ready=False with a reason and a message": {
			obj: fromYAML(t, `
apiVersion: db.example.com/v1
kind: Database
metadata: {name: orders, namespace: shop, generation: 2}
status:
  observedGeneration: 2
  conditions:
  - {type: Ready, status: "False", reason: BackupFailed, message: "backup bucket orders-bak not found"}
`),
			// kstatus cannot tell a Ready=False that is still moving from one that is
			// stuck, so it is InProgress, never Failed.
			want: sources.Result{Health: "Progressing", Phase: "InProgress", Message: "backup bucket orders-bak not found"},
		},
		"Ready=False without a message says its reason": {
			obj: fromYAML(t, `
apiVersion: db.example.com/v1
kind: Database
metadata: {name: orders, generation: 1}
status:
  conditions:
  - {type: Ready, status: "False", reason: Provisioning}
`),
			want: sources.Result{Health: "Progressing", Phase: "InProgress", Message: "Provisioning"},
		},
		"Ready=Unknown": {
			obj: fromYAML(t, `
apiVersion: db.example.com/v1
kind: Database
metadata: {name: orders}
status:
  conditions:
  - {type: Ready, status: Unknown, reason: Pending, message: "waiting for the operator"}
`),
			want: sources.Result{Health: "Progressing", Phase: "InProgress", Message: "waiting for the operator"},
		},
		"a Ready status that is not True, False or Unknown is ignored": {
			obj: fromYAML(t, `
apiVersion: db.example.com/v1
kind: Database
metadata: {name: orders}
status:
  conditions:
  - {type: Ready, status: "false", message: "lower case"}
`),
			want: sources.Result{Health: "Healthy", Phase: "Current", Message: "Resource is current"},
		},
		"Stalled=True": {
			obj: fromYAML(t, `
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system, generation: 3}
status:
  observedGeneration: 3
  conditions:
  - {type: Ready, status: "False", reason: BuildFailed, message: "kustomize build failed: accumulating resources"}
  - {type: Stalled, status: "True", reason: BuildFailed, message: "kustomize build failed: accumulating resources"}
`),
			want: sources.Result{Health: "Degraded", Phase: "Failed", Message: "kustomize build failed: accumulating resources"},
		},
		"Stalled=True outranks Ready=True": {
			obj: fromYAML(t, `
apiVersion: db.example.com/v1
kind: Database
metadata: {name: orders}
status:
  conditions:
  - {type: Ready, status: "True"}
  - {type: Stalled, status: "True", reason: QuotaExceeded}
`),
			want: sources.Result{Health: "Degraded", Phase: "Failed", Message: "QuotaExceeded"},
		},
		"Reconciling=True": {
			obj: fromYAML(t, `
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system, generation: 3}
status:
  observedGeneration: 3
  conditions:
  - {type: Reconciling, status: "True", reason: Progressing, message: "Reconciliation in progress"}
  - {type: Ready, status: Unknown, reason: Progressing, message: "Reconciliation in progress"}
`),
			want: sources.Result{Health: "Progressing", Phase: "InProgress", Message: "Reconciliation in progress"},
		},
		"Reconciling and Stalled both True: the first listed wins": {
			obj: fromYAML(t, `
apiVersion: db.example.com/v1
kind: Database
metadata: {name: orders}
status:
  conditions:
  - {type: Reconciling, status: "True", message: "retrying"}
  - {type: Stalled, status: "True", message: "gave up"}
`),
			want: sources.Result{Health: "Progressing", Phase: "InProgress", Message: "retrying"},
		},
		"deletionTimestamp set outranks everything": {
			obj: fromYAML(t, `
apiVersion: tf.upbound.io/v1beta1
kind: Workspace
metadata:
  name: vpc
  generation: 4
  deletionTimestamp: "2026-01-02T03:04:05Z"
  finalizers: [finalizer.managedresource.crossplane.io]
status:
  observedGeneration: 3
  conditions:
  - {type: Stalled, status: "True", message: "gave up"}
`),
			want: sources.Result{Health: "Progressing", Phase: "Terminating", Message: "Resource scheduled for deletion"},
		},
		"Terraform Workspace, Ready and Synced": {
			obj: fromYAML(t, `
apiVersion: tf.upbound.io/v1beta1
kind: Workspace
metadata: {name: vpc, generation: 2}
spec:
  forProvider: {source: Remote, module: "git::https://github.com/example/vpc.git"}
status:
  atProvider: {checksum: 5f2c1a}
  conditions:
  - {type: Ready, status: "True", reason: Available, lastTransitionTime: "2026-01-02T03:04:05Z"}
  - {type: Synced, status: "True", reason: ReconcileSuccess, lastTransitionTime: "2026-01-02T03:04:05Z"}
`),
			want: sources.Result{Health: "Healthy", Phase: "Current", Message: "Resource is Ready"},
		},
		"Terraform Workspace being created": {
			obj: fromYAML(t, `
apiVersion: tf.upbound.io/v1beta1
kind: Workspace
metadata: {name: vpc, generation: 1}
status:
  conditions:
  - {type: Ready, status: "False", reason: Creating}
  - {type: Synced, status: "True", reason: ReconcileSuccess}
`),
			want: sources.Result{Health: "Progressing", Phase: "InProgress", Message: "Creating"},
		},
		"Terraform Workspace failing to apply is Degraded, though kstatus says InProgress": {
			obj: workspace(t,
				`{type: Ready, status: "False", reason: Unavailable}`,
				`{type: Synced, status: "False", reason: ReconcileError, message: "apply failed: Error: creating EC2 VPC: UnauthorizedOperation"}`),
			want: sources.Result{Health: "Degraded", Phase: "ReconcileError", Message: "apply failed: Error: creating EC2 VPC: UnauthorizedOperation"},
		},
		"Terraform Workspace Ready but not Synced is Degraded, though kstatus says Current": {
			obj: workspace(t,
				`{type: Ready, status: "True", reason: Available}`,
				`{type: Synced, status: "False", reason: ReconcileError, message: "plan failed"}`),
			want: sources.Result{Health: "Degraded", Phase: "ReconcileError", Message: "plan failed"},
		},
		"Synced False outranks Stalled": {
			obj: workspace(t,
				`{type: Stalled, status: "True", reason: BuildFailed, message: "gave up"}`,
				`{type: Synced, status: "False", reason: ReconcileError, message: "plan failed"}`),
			want: sources.Result{Health: "Degraded", Phase: "ReconcileError", Message: "plan failed"},
		},
		"Synced False outranks a status for an older generation": {
			obj: fromYAML(t, `
apiVersion: tf.upbound.io/v1beta1
kind: Workspace
metadata: {name: vpc, generation: 3}
status:
  observedGeneration: 2
  conditions:
  - {type: Ready, status: "True", reason: Available}
  - {type: Synced, status: "False", reason: ReconcileError, message: "plan failed"}
`),
			want: sources.Result{Health: "Degraded", Phase: "ReconcileError", Message: "plan failed"},
		},
		"Synced False without a message says its reason": {
			obj: workspace(t,
				`{type: Ready, status: "True", reason: Available}`,
				`{type: Synced, status: "False", reason: ReconcileError}`),
			want: sources.Result{Health: "Degraded", Phase: "ReconcileError", Message: "ReconcileError"},
		},
		"Synced False with neither reason nor message": {
			obj:  workspace(t, `{type: Synced, status: "False"}`),
			want: sources.Result{Health: "Degraded", Phase: "Failed", Message: MessageSyncFailed},
		},
		"Synced False for a pause is what kstatus says": {
			obj: fromYAML(t, `
apiVersion: tf.upbound.io/v1beta1
kind: Workspace
metadata: {name: vpc, generation: 1, annotations: {crossplane.io/paused: "true"}}
status:
  conditions:
  - {type: Ready, status: "True", reason: Available}
  - {type: Synced, status: "False", reason: ReconcilePaused}
`),
			want: sources.Result{Health: "Healthy", Phase: "Current", Message: "Resource is Ready"},
		},
		"Synced Unknown is what kstatus says": {
			obj: workspace(t,
				`{type: Ready, status: "True", reason: Available}`,
				`{type: Synced, status: Unknown, reason: ReconcileError, message: "could not tell"}`),
			want: sources.Result{Health: "Healthy", Phase: "Current", Message: "Resource is Ready"},
		},
		"Synced True, Ready False is what kstatus says": {
			obj: workspace(t,
				`{type: Synced, status: "True", reason: ReconcileSuccess}`,
				`{type: Ready, status: "False", reason: Creating, message: "applying"}`),
			want: sources.Result{Health: "Progressing", Phase: "InProgress", Message: "applying"},
		},
		"a Synced status that is not True, False or Unknown is what kstatus says": {
			obj: workspace(t,
				`{type: Ready, status: "True"}`,
				`{type: Synced, status: "false", message: "lower case"}`),
			want: sources.Result{Health: "Healthy", Phase: "Current", Message: "Resource is Ready"},
		},
		"the first Synced condition decides": {
			obj: workspace(t,
				`{type: Ready, status: "True"}`,
				`{type: Synced, status: "True"}`,
				`{type: Synced, status: "False", message: "a second one"}`),
			want: sources.Result{Health: "Healthy", Phase: "Current", Message: "Resource is Ready"},
		},
		"a deleting Workspace whose Synced is False is Terminating, saying the error": {
			obj: fromYAML(t, `
apiVersion: tf.upbound.io/v1beta1
kind: Workspace
metadata: {name: vpc, generation: 1, deletionTimestamp: "2026-01-02T03:04:05Z", finalizers: [finalizer.managedresource.crossplane.io]}
status:
  conditions:
  - {type: Ready, status: "False", reason: Deleting}
  - {type: Synced, status: "False", reason: ReconcileError, message: "destroy failed: DependencyViolation"}
`),
			want: sources.Result{Health: "Progressing", Phase: "Terminating", Message: "Resource scheduled for deletion; destroy failed: DependencyViolation"},
		},
		"no observedGeneration: the generation check is skipped": {
			obj: fromYAML(t, `
apiVersion: db.example.com/v1
kind: Database
metadata: {name: orders, generation: 7}
status:
  conditions:
  - {type: Ready, status: "True"}
`),
			want: sources.Result{Health: "Healthy", Phase: "Current", Message: "Resource is Ready"},
		},
		"no status at all is Current": {
			obj: fromYAML(t, `
apiVersion: tf.upbound.io/v1beta1
kind: Workspace
metadata: {name: vpc, generation: 1}
spec:
  forProvider: {source: Inline, module: "resource null_resource x {}"}
`),
			want: sources.Result{Health: "Healthy", Phase: "Current", Message: "Resource is current"},
		},
		"null entries among conditions are skipped": {
			obj:  withStatus(map[string]any{"conditions": []any{nil, map[string]any{"type": "Ready", "status": "True"}}}),
			want: sources.Result{Health: "Healthy", Phase: "Current", Message: "Resource is Ready"},
		},
		"status a string": {
			obj:  withStatus("Ready"),
			want: sources.Result{Health: "Unknown", Message: "cannot read status: status is a string, not an object"},
		},
		"conditions not a list": {
			obj:  withStatus(map[string]any{"conditions": map[string]any{"Ready": "True"}}),
			want: sources.Result{Health: "Unknown", Message: "cannot read status: status.conditions is an object, not a list"},
		},
		"conditions an array, which the converter does not take as a list": {
			obj:  withStatus(map[string]any{"conditions": [1]any{map[string]any{"type": "Ready", "status": "True"}}}),
			want: sources.Result{Health: "Unknown", Message: "cannot read status: status.conditions is a [1]interface {}, not a list"},
		},
		"status a struct, which the converter does not take as an object": {
			obj:  withStatus(struct{ Phase string }{"Ready"}),
			want: sources.Result{Health: "Unknown", Message: "cannot read status: status is a struct { Phase string }, not an object"},
		},
		"a condition not an object": {
			obj:  withStatus(map[string]any{"conditions": []any{"Ready"}}),
			want: sources.Result{Health: "Unknown", Message: "cannot read status: status.conditions[0] is a string, not an object"},
		},
		"a condition's status a boolean": {
			obj: withStatus(map[string]any{"conditions": []any{
				map[string]any{"type": "Synced", "status": "True"},
				map[string]any{"type": "Ready", "status": true},
			}}),
			want: sources.Result{Health: "Unknown", Message: "cannot read status: status.conditions[1].status is a boolean, not a string"},
		},
		"a condition's type a number": {
			obj:  withStatus(map[string]any{"conditions": []any{map[string]any{"type": int64(1), "status": "True"}}}),
			want: sources.Result{Health: "Unknown", Message: "cannot read status: status.conditions[0].type is a number, not a string"},
		},
		"a Synced condition's status a number": {
			obj: withStatus(map[string]any{"conditions": []any{
				map[string]any{"type": "Ready", "status": "True"},
				map[string]any{"type": "Synced", "status": int64(0), "reason": "ReconcileError"},
			}}),
			want: sources.Result{Health: "Unknown", Message: "cannot read status: status.conditions[1].status is a number, not a string"},
		},
		"a Synced condition's message an object": {
			obj: withStatus(map[string]any{"conditions": []any{
				map[string]any{"type": "Synced", "status": "False", "message": map[string]any{"error": "plan failed"}},
			}}),
			want: sources.Result{Health: "Unknown", Message: "cannot read status: status.conditions[0].message is an object, not a string"},
		},
		"a malformed Synced condition, on a status kstatus skips as old": {
			obj: &unstructured.Unstructured{Object: map[string]any{
				"kind":     "Workspace",
				"metadata": map[string]any{"name": "vpc", "generation": int64(3)},
				"status": map[string]any{"observedGeneration": int64(2), "conditions": []any{
					map[string]any{"type": "Synced", "status": false, "reason": "ReconcileError"},
				}},
			}},
			want: sources.Result{Health: "Unknown", Message: "cannot read status: status.conditions[0].status is a boolean, not a string"},
		},
		"a malformed Synced condition of a deleting object is left to kstatus": {
			obj: &unstructured.Unstructured{Object: map[string]any{
				"kind":     "Workspace",
				"metadata": map[string]any{"name": "vpc", "deletionTimestamp": "2026-01-02T03:04:05Z"},
				"status":   map[string]any{"conditions": []any{map[string]any{"type": "Synced", "status": []any{"False"}}}},
			}},
			want: sources.Result{Health: "Progressing", Phase: "Terminating", Message: "Resource scheduled for deletion"},
		},
		"a condition's message a list": {
			obj:  withStatus(map[string]any{"conditions": []any{map[string]any{"type": "Ready", "status": "False", "message": []any{"a"}}}}),
			want: sources.Result{Health: "Unknown", Message: "cannot read status: status.conditions[0].message is a list, not a string"},
		},
		"generation a string": {
			obj: &unstructured.Unstructured{Object: map[string]any{
				"kind": "Workspace", "metadata": map[string]any{"generation": "2"},
			}},
			want: sources.Result{Health: "Unknown", Message: "cannot read status: looking up metadata.generation from resource: " +
				".metadata.generation accessor error: 2 is of the type string, expected int64"},
		},
		"generation an int, not the int64 a client decodes": {
			obj: &unstructured.Unstructured{Object: map[string]any{
				"kind": "Workspace", "metadata": map[string]any{"generation": 2},
			}},
			want: sources.Result{Health: "Unknown", Message: "cannot read status: looking up metadata.generation from resource: " +
				".metadata.generation accessor error: 2 is of the type int, expected int64"},
		},
		"metadata a string": {
			obj: &unstructured.Unstructured{Object: map[string]any{"kind": "Workspace", "metadata": "vpc"}},
			want: sources.Result{Health: "Unknown", Message: "cannot read status: looking up metadata.deletionTimestamp from resource: " +
				".metadata.deletionTimestamp accessor error: vpc is of the type string, expected map[string]interface{}"},
		},
		"invalid UTF-8 in a message is replaced": {
			obj:  withStatus(map[string]any{"conditions": []any{map[string]any{"type": "Stalled", "status": "True", "message": "bad \xff byte"}}}),
			want: sources.Result{Health: "Degraded", Phase: "Failed", Message: "bad \uFFFD byte"},
		},
		"empty object": {
			obj:  &unstructured.Unstructured{Object: map[string]any{}},
			want: sources.Result{Health: "Healthy", Phase: "Current", Message: "Resource is current"},
		},
		"object with a nil map": {
			obj:  &unstructured.Unstructured{},
			want: sources.Result{Health: "Healthy", Phase: "Current", Message: "Resource is current"},
		},
		"nil object": {
			obj:  nil,
			want: sources.Result{Health: "Unknown", Message: "no object"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var before map[string]any
			if tc.obj != nil {
				before = sourcetest.CopyValue(tc.obj.Object).(map[string]any)
			}
			got := Map(tc.obj)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Map() mismatch (-want +got):\n%s", diff)
			}
			if !sourcetest.HealthWords[got.Health] {
				t.Errorf("Map() health %q is not one of the API's words", got.Health)
			}
			// Objects come from the informer cache, which must not be written to.
			if tc.obj == nil {
				return
			}
			if diff := cmp.Diff(before, tc.obj.Object); diff != "" {
				t.Errorf("Map() modified its argument (-before +after):\n%s", diff)
			}
		})
	}
}

// TestHealthOf covers the kstatus statuses status.Compute does not return today
// (NotFound, Unknown), which TestMap cannot reach.
func TestHealthOf(t *testing.T) {
	tests := map[string]struct {
		in   status.Status
		want catalogv1alpha1.Health
	}{
		"Current":     {in: status.CurrentStatus, want: "Healthy"},
		"InProgress":  {in: status.InProgressStatus, want: "Progressing"},
		"Failed":      {in: status.FailedStatus, want: "Degraded"},
		"Terminating": {in: status.TerminatingStatus, want: "Progressing"},
		"NotFound":    {in: status.NotFoundStatus, want: "Missing"},
		"Unknown":     {in: status.UnknownStatus, want: "Unknown"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := healthOf[tc.in]
			if !ok {
				t.Fatalf("healthOf has no entry for %q", tc.in)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("healthOf[%q] mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
	// A status word added by a later kstatus must fail here rather than map to "".
	for _, s := range append(status.Statuses, status.NotFoundStatus) {
		if _, ok := healthOf[s]; !ok {
			t.Errorf("kstatus status %q has no health", s)
		}
	}
}

func crd(group, kind string, versions ...apiextensionsv1.CustomResourceDefinitionVersion) *apiextensionsv1.CustomResourceDefinition {
	c := &apiextensionsv1.CustomResourceDefinition{}
	c.Spec.Group = group
	c.Spec.Names.Kind = kind
	c.Spec.Versions = versions
	return c
}

func TestKinds(t *testing.T) {
	workspace := schema.GroupVersionKind{Group: "tf.upbound.io", Version: "v1beta1", Kind: "Workspace"}
	database := schema.GroupVersionKind{Group: "db.example.com", Version: "v1", Kind: "Database"}
	family := Kinds([]schema.GroupVersionKind{workspace, database})
	if family.Name() != "config" {
		t.Errorf("Name() = %q, want config", family.Name())
	}

	// Funcs cannot be compared; that each kind reads with Map is checked below.
	ignoreMap := cmpopts.IgnoreFields(sources.Kind{}, "Map")
	served := apiextensionsv1.CustomResourceDefinitionVersion{Name: "v1beta1", Served: true, Storage: true}
	tests := map[string]struct {
		crd  *apiextensionsv1.CustomResourceDefinition
		want []sources.Kind
	}{
		"a named kind": {
			crd:  crd("tf.upbound.io", "Workspace", served),
			want: []sources.Kind{{GVK: workspace, Family: "config"}},
		},
		"a named kind whose version is not served": {
			crd: crd("tf.upbound.io", "Workspace", apiextensionsv1.CustomResourceDefinitionVersion{Name: "v1beta1", Storage: true}),
		},
		"a named kind at another version": {
			crd: crd("tf.upbound.io", "Workspace", apiextensionsv1.CustomResourceDefinitionVersion{Name: "v1beta2", Served: true}),
		},
		"a kind not named": {
			crd: crd("tf.upbound.io", "ProviderConfig", served),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := family.KindsFor(tc.crd)
			if diff := cmp.Diff(tc.want, got, ignoreMap, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("KindsFor() mismatch (-want +got):\n%s", diff)
			}
			for _, k := range got {
				if k.KeepSpec != nil {
					t.Errorf("kind %v keeps spec %v; kstatus reads none", k.GVK, k.KeepSpec)
				}
				if k.Map == nil {
					t.Fatalf("kind %v has no mapper", k.GVK)
				}
				obj := withStatus(map[string]any{"conditions": []any{map[string]any{"type": "Stalled", "status": "True", "message": "x"}}})
				if diff := cmp.Diff(Map(obj), k.Map(obj)); diff != "" {
					t.Errorf("kind %v does not read with Map (-Map +kind's):\n%s", k.GVK, diff)
				}
			}
		})
	}

	if got := Kinds(nil); got.FamilyName != "config" || len(got.Kinds) != 0 {
		t.Errorf("Kinds(nil) = %+v, want an empty config family", got)
	}
}
