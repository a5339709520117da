package crossplane

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/entityhub/entityhub/controllers/sources"
	"github.com/entityhub/entityhub/controllers/sources/sourcetest"
)

// MapResource, Children and Parents are used as sources.Kind's fields as they are.
var (
	_ sources.Mapper                                       = MapResource
	_ func(*unstructured.Unstructured) []sources.ObjectRef = Children
	_ func(*unstructured.Unstructured) []sources.ObjectRef = Parents
)

// instance returns a managed resource like testdata/rds-instance.yaml at generation 5,
// with more metadata (YAML lines indented by two spaces, or "") and the given status
// (a top-level YAML block, or "").
func instance(t *testing.T, metadata, status string) *unstructured.Unstructured {
	t.Helper()
	return sourcetest.DecodeManifest(t, `
apiVersion: rds.aws.upbound.io/v1beta1
kind: Instance
metadata:
  name: payments-db-x7k2p-primary
  generation: 5
  finalizers: [finalizer.managedresource.crossplane.io]
  labels: {crossplane.io/composite: payments-db-x7k2p}
  ownerReferences:
  - {apiVersion: database.example.org/v1alpha1, kind: XPostgreSQLInstance, name: payments-db-x7k2p,
     uid: 5a9d2c17-3e84-4f60-b1a7-9c0e6d2f4b88, controller: true, blockOwnerDeletion: true}
`+metadata+`
spec:
  deletionPolicy: Delete
  forProvider: {region: eu-west-1, engine: postgres, instanceClass: db.t3.micro, allocatedStorage: 20}
  providerConfigRef: {name: default}
`+status)
}

// conditions returns a status block with the given conditions, each a YAML flow
// mapping.
func conditions(conds ...string) string {
	return "status:\n  conditions:\n  - " + strings.Join(conds, "\n  - ") + "\n"
}

// cond returns a condition as Crossplane writes it, as a YAML flow mapping; message
// and extra (more "key: value" pairs) are left out when empty.
func cond(typ, status, reason, message, extra string) string {
	s := fmt.Sprintf(`{type: %s, status: %q, reason: %s, lastTransitionTime: "2026-01-12T09:00:05Z"`, typ, status, reason)
	if message != "" {
		s += ", message: " + strconvQuote(message)
	}
	if extra != "" {
		s += ", " + extra
	}
	return s + "}"
}

// strconvQuote quotes s for YAML (JSON strings are YAML strings).
func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// withStatus returns a managed resource whose status is st as given, for what YAML
// cannot carry: invalid UTF-8, Go types no decoder produces.
func withStatus(st any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "rds.aws.upbound.io/v1beta1",
		"kind":       "Instance",
		"metadata":   map[string]any{"name": "payments-db-x7k2p-primary", "generation": int64(3)},
		"spec":       map[string]any{"forProvider": map[string]any{"region": "eu-west-1"}},
		"status":     st,
	}}
}

// withoutSpec returns a copy of obj without its spec.
func withoutSpec(obj map[string]any) map[string]any {
	cp, _ := sourcetest.CopyValue(obj).(map[string]any)
	delete(cp, "spec")
	return cp
}

// The error the Upbound AWS provider reports when a replica is created before its
// source instance is available, as in testdata/rds-instance-error.yaml.
const replicaError = "create failed: async create failed: failed to create the resource: [{0 creating RDS DB " +
	"Instance (read replica) (payments-db-x7k2p-replica): operation error RDS: CreateDBInstanceReadReplica, " +
	"https response error StatusCode: 400, RequestID: 3c1f0b9e-5d2a-4e7b-8a64-0f9c2d1e7b35, " +
	"InvalidDBInstanceState: Source instance payments-db-x7k2p-primary is not in available state  []}]"

func TestMapResource(t *testing.T) {
	const gen5 = "observedGeneration: 5"
	tests := map[string]struct {
		obj  *unstructured.Unstructured
		want sources.Result
	}{
		// Real objects.
		"an available managed resource": {
			obj:  sourcetest.LoadManifest(t, "rds-instance.yaml"),
			want: sources.Result{Health: "Healthy", Phase: "Available"},
		},
		"a managed resource the provider cannot create": {
			obj:  sourcetest.LoadManifest(t, "rds-instance-error.yaml"),
			want: sources.Result{Health: "Degraded", Phase: "ReconcileError", Message: replicaError},
		},
		"a Crossplane v2 namespaced managed resource being created": {
			obj:  sourcetest.LoadManifest(t, "rds-instance-v2.yaml"),
			want: sources.Result{Health: "Progressing", Phase: "Creating"},
		},
		"a v1 composite with unready resources": {
			obj:  sourcetest.LoadManifest(t, "xpostgresqlinstance.yaml"),
			want: sources.Result{Health: "Progressing", Phase: "Creating", Message: "Unready resources: primary, replica"},
		},
		"a claim waiting for its composite": {
			obj:  sourcetest.LoadManifest(t, "postgresqlinstance.yaml"),
			want: sources.Result{Health: "Progressing", Phase: "Waiting", Message: "Claim is waiting for composite resource to become Ready"},
		},
		"an available v2 composite": {
			obj:  sourcetest.LoadManifest(t, "xdatabase-v2.yaml"),
			want: sources.Result{Health: "Healthy", Phase: "Available"},
		},

		// Synced False.
		"Synced False outranks a Ready True left from before": {
			obj: instance(t, "", conditions(
				cond("Ready", "True", "Available", "", gen5),
				cond("Synced", "False", "ReconcileError", `update failed: async update failed: failed to update the resource: `+
					`[{0 modifying RDS DB Instance (payments-db-x7k2p-primary): operation error RDS: ModifyDBInstance, `+
					`https response error StatusCode: 400, api error InvalidParameterCombination: `+
					`Cannot upgrade postgres from 16.3 to 15.7  []}]`, gen5))),
			want: sources.Result{Health: "Degraded", Phase: "ReconcileError",
				Message: "update failed: async update failed: failed to update the resource: [{0 modifying RDS DB Instance " +
					"(payments-db-x7k2p-primary): operation error RDS: ModifyDBInstance, https response error StatusCode: 400, " +
					"api error InvalidParameterCombination: Cannot upgrade postgres from 16.3 to 15.7  []}]"},
		},
		"a composite whose composition function fails": {
			obj: instance(t, "", conditions(
				cond("Synced", "False", "ReconcileError", `cannot compose resources: pipeline step "render" returned a fatal result: `+
					`cannot render: template: manifests:12:18: executing "manifests" at <.observed.composite.resource.spec.region>: `+
					`map has no entry for key "region"`, ""),
				cond("Ready", "False", "Creating", "", ""))),
			want: sources.Result{Health: "Degraded", Phase: "ReconcileError",
				Message: `cannot compose resources: pipeline step "render" returned a fatal result: cannot render: template: ` +
					`manifests:12:18: executing "manifests" at <.observed.composite.resource.spec.region>: map has no entry for key "region"`},
		},
		"Synced False without a message": {
			obj:  instance(t, "", conditions(cond("Synced", "False", "ReconcileError", "", ""), cond("Ready", "False", "Creating", "", ""))),
			want: sources.Result{Health: "Degraded", Phase: "ReconcileError"},
		},

		// Paused.
		"paused by annotation, as Crossplane reports it": {
			obj: instance(t, "  annotations: {crossplane.io/paused: \"true\"}\n", conditions(
				cond("Ready", "True", "Available", "", ""),
				cond("Synced", "False", "ReconcilePaused", "", ""))),
			want: sources.Result{Health: "Suspended", Phase: "ReconcilePaused",
				Message: `reconciliation is paused by the annotation crossplane.io/paused: "true"`},
		},
		"paused by annotation before Crossplane has noticed": {
			obj: instance(t, "  annotations: {crossplane.io/paused: \"true\"}\n", conditions(
				cond("Ready", "True", "Available", "", ""),
				cond("Synced", "True", "ReconcileSuccess", "", ""))),
			want: sources.Result{Health: "Suspended", Phase: "ReconcilePaused",
				Message: `reconciliation is paused by the annotation crossplane.io/paused: "true"`},
		},
		"paused by reason, without the annotation (empty managementPolicies)": {
			obj: instance(t, "", conditions(
				cond("Ready", "True", "Available", "", ""),
				cond("Synced", "False", "ReconcilePaused", "", ""))),
			want: sources.Result{Health: "Suspended", Phase: "ReconcilePaused", Message: "reconciliation is paused"},
		},
		"paused by reason, with Crossplane's message": {
			obj: instance(t, "", conditions(
				cond("Synced", "False", "ReconcilePaused", "Reconciliation is paused via the pause annotation", ""))),
			want: sources.Result{Health: "Suspended", Phase: "ReconcilePaused", Message: "Reconciliation is paused via the pause annotation"},
		},
		"an error outranks the pause annotation": {
			obj: instance(t, "  annotations: {crossplane.io/paused: \"true\"}\n", conditions(
				cond("Ready", "False", "Creating", "", ""),
				cond("Synced", "False", "ReconcileError", "connect failed: cannot get referenced ProviderConfig: ProviderConfig.aws.upbound.io \"default\" not found", ""))),
			want: sources.Result{Health: "Degraded", Phase: "ReconcileError",
				Message: `connect failed: cannot get referenced ProviderConfig: ProviderConfig.aws.upbound.io "default" not found`},
		},
		"the pause annotation set to false is no pause": {
			obj: instance(t, "  annotations: {crossplane.io/paused: \"false\"}\n", conditions(
				cond("Ready", "True", "Available", "", ""), cond("Synced", "True", "ReconcileSuccess", "", ""))),
			want: sources.Result{Health: "Healthy", Phase: "Available"},
		},
		"the pause annotation is case sensitive, as in Crossplane": {
			obj: instance(t, "  annotations: {crossplane.io/paused: \"True\"}\n", conditions(
				cond("Ready", "True", "Available", "", ""), cond("Synced", "True", "ReconcileSuccess", "", ""))),
			want: sources.Result{Health: "Healthy", Phase: "Available"},
		},
		"paused with no conditions yet": {
			obj:  instance(t, "  annotations: {crossplane.io/paused: \"true\"}\n", ""),
			want: sources.Result{Health: "Suspended", Phase: "ReconcilePaused", Message: `reconciliation is paused by the annotation crossplane.io/paused: "true"`},
		},

		// Deleting.
		"deleting, as Crossplane reports it": {
			obj: instance(t, "  deletionTimestamp: \"2026-01-13T08:00:00Z\"\n", conditions(
				cond("Ready", "False", "Deleting", "", gen5), cond("Synced", "True", "ReconcileSuccess", "", gen5))),
			want: sources.Result{Health: "Progressing", Phase: "Deleting"},
		},
		"deleting before Crossplane has noticed": {
			obj: instance(t, "  deletionTimestamp: \"2026-01-13T08:00:00Z\"\n", conditions(
				cond("Ready", "True", "Available", "", ""), cond("Synced", "True", "ReconcileSuccess", "", ""))),
			want: sources.Result{Health: "Progressing", Phase: "Deleting"},
		},
		"deleting with a Ready message": {
			obj: instance(t, "  deletionTimestamp: \"2026-01-13T08:00:00Z\"\n", conditions(
				cond("Ready", "False", "Deleting", "waiting for 2 composed resources to be deleted", ""))),
			want: sources.Result{Health: "Progressing", Phase: "Deleting", Message: "waiting for 2 composed resources to be deleted"},
		},
		"a deletion stuck on an error says which": {
			obj: instance(t, "  deletionTimestamp: \"2026-01-13T08:00:00Z\"\n", conditions(
				cond("Ready", "False", "Deleting", "", ""),
				cond("Synced", "False", "ReconcileError", "delete failed: async delete failed: failed to delete the resource: "+
					"operation error RDS: DeleteDBInstance, api error InvalidParameterCombination: Cannot delete protected DB Instance, "+
					"please disable deletion protection and try again.", ""))),
			want: sources.Result{Health: "Progressing", Phase: "Deleting",
				Message: "delete failed: async delete failed: failed to delete the resource: operation error RDS: DeleteDBInstance, " +
					"api error InvalidParameterCombination: Cannot delete protected DB Instance, please disable deletion protection and try again."},
		},
		"a deletion waits while paused": {
			obj: instance(t, "  deletionTimestamp: \"2026-01-13T08:00:00Z\"\n  annotations: {crossplane.io/paused: \"true\"}\n",
				conditions(cond("Ready", "True", "Available", "", ""), cond("Synced", "False", "ReconcilePaused", "", ""))),
			want: sources.Result{Health: "Progressing", Phase: "Deleting",
				Message: "reconciliation is paused, so Crossplane will not finish deleting it"},
		},
		"deleting with no conditions": {
			obj:  instance(t, "  deletionTimestamp: \"2026-01-13T08:00:00Z\"\n", ""),
			want: sources.Result{Health: "Progressing", Phase: "Deleting"},
		},
		"a null deletionTimestamp is no deletion": {
			obj:  instance(t, "  deletionTimestamp: null\n", conditions(cond("Ready", "True", "Available", "", ""))),
			want: sources.Result{Health: "Healthy", Phase: "Available"},
		},

		// Ready.
		"Ready Unavailable after the database stopped": {
			obj: instance(t, "", conditions(
				cond("Ready", "False", "Unavailable", "", gen5), cond("Synced", "True", "ReconcileSuccess", "", gen5))),
			want: sources.Result{Health: "Progressing", Phase: "Unavailable"},
		},
		"a Ready status Crossplane does not write is not ready": {
			obj:  instance(t, "", conditions(cond("Ready", "true", "Available", "", ""))),
			want: sources.Result{Health: "Progressing", Phase: "Available"},
		},
		"a Ready without a status is not ready": {
			obj:  instance(t, "", "status: {conditions: [{type: Ready, reason: Available}]}"),
			want: sources.Result{Health: "Progressing", Phase: "Available"},
		},
		"the first of two Ready conditions counts, as in Crossplane": {
			obj:  instance(t, "", conditions(cond("Ready", "False", "Creating", "", ""), cond("Ready", "True", "Available", "", ""))),
			want: sources.Result{Health: "Progressing", Phase: "Creating"},
		},
		"Ready True with a message keeps it": {
			obj:  instance(t, "", conditions(cond("Ready", "True", "Available", "endpoint payments-db.internal:5432", ""))),
			want: sources.Result{Health: "Healthy", Phase: "Available", Message: "endpoint payments-db.internal:5432"},
		},

		// No conditions.
		"just created: no status": {
			obj:  instance(t, "", ""),
			want: sources.Result{Health: "Progressing", Message: "no conditions yet"},
		},
		"an empty status": {
			obj:  instance(t, "", "status: {}"),
			want: sources.Result{Health: "Progressing", Message: "no conditions yet"},
		},
		"a null status": {
			obj:  instance(t, "", "status: null"),
			want: sources.Result{Health: "Progressing", Message: "no conditions yet"},
		},
		"an empty list of conditions": {
			obj:  instance(t, "", "status: {atProvider: {}, conditions: []}"),
			want: sources.Result{Health: "Progressing", Message: "no conditions yet"},
		},
		"only null conditions": {
			obj:  instance(t, "", "status: {conditions: [null]}"),
			want: sources.Result{Health: "Progressing", Message: "no conditions yet"},
		},
		"conditions, but no Ready yet": {
			obj:  instance(t, "", conditions(cond("Synced", "True", "ReconcileSuccess", "", ""))),
			want: sources.Result{Health: "Progressing", Message: "no Ready condition yet"},
		},
		"only a provider's own condition": {
			obj:  instance(t, "", conditions(cond("LastAsyncOperation", "True", "Success", "", ""))),
			want: sources.Result{Health: "Progressing", Message: "no Ready condition yet"},
		},

		// Stale conditions.
		"all conditions stale": {
			obj: instance(t, "", conditions(
				cond("Ready", "True", "Available", "", "observedGeneration: 3"),
				cond("Synced", "True", "ReconcileSuccess", "", "observedGeneration: 3"))),
			want: sources.Result{Health: "Progressing", Message: "conditions are for generation 3, the spec is at generation 5"},
		},
		"all conditions stale, of different generations: the newest is named": {
			obj: instance(t, "", conditions(
				cond("Ready", "True", "Available", "", "observedGeneration: 2"),
				cond("Synced", "True", "ReconcileSuccess", "", "observedGeneration: 4"))),
			want: sources.Result{Health: "Progressing", Message: "conditions are for generation 4, the spec is at generation 5"},
		},
		"a stale error no longer counts": {
			obj: instance(t, "", conditions(
				cond("Ready", "False", "Creating", "", gen5),
				cond("Synced", "False", "ReconcileError", "create failed: old error", "observedGeneration: 4"))),
			want: sources.Result{Health: "Progressing", Phase: "Creating"},
		},
		"a stale error beside a current Ready True": {
			obj: instance(t, "", conditions(
				cond("Ready", "True", "Available", "", gen5),
				cond("Synced", "False", "ReconcileError", "create failed: old error", "observedGeneration: 4"))),
			want: sources.Result{Health: "Healthy", Phase: "Available"},
		},
		"one stale: a Ready True for an older spec is not Healthy": {
			obj: instance(t, "", conditions(
				cond("Ready", "True", "Available", "", "observedGeneration: 3"),
				cond("Synced", "True", "ReconcileSuccess", "", gen5))),
			want: sources.Result{Health: "Progressing", Message: "the Ready condition is for generation 3, the spec is at generation 5"},
		},
		"conditions without observedGeneration are current": {
			obj:  instance(t, "", conditions(cond("Ready", "True", "Available", "", ""), cond("Synced", "True", "ReconcileSuccess", "", ""))),
			want: sources.Result{Health: "Healthy", Phase: "Available"},
		},
		"observedGeneration 0 is unset": {
			obj:  instance(t, "", conditions(cond("Ready", "True", "Available", "", "observedGeneration: 0"))),
			want: sources.Result{Health: "Healthy", Phase: "Available"},
		},
		"a stale pause reason no longer counts": {
			obj: instance(t, "", conditions(
				cond("Ready", "True", "Available", "", gen5),
				cond("Synced", "False", "ReconcilePaused", "", "observedGeneration: 4"))),
			want: sources.Result{Health: "Healthy", Phase: "Available"},
		},
		"an object without a generation has no stale conditions": {
			obj: sourcetest.DecodeManifest(t, `
apiVersion: rds.aws.upbound.io/v1beta1
kind: Instance
metadata: {name: payments-db-x7k2p-primary}
status: {conditions: [{type: Ready, status: "True", reason: Available, observedGeneration: 3}]}
`),
			want: sources.Result{Health: "Healthy", Phase: "Available"},
		},

		// Malformed objects.
		"conditions not a list": {
			obj:  instance(t, "", "status: {conditions: {type: Ready, status: \"True\"}}"),
			want: sources.Result{Health: "Unknown", Message: "status.conditions is an object, not a list"},
		},
		"a condition that is a string": {
			obj:  instance(t, "", "status: {conditions: [{type: Ready, status: \"True\", reason: Available}, Synced]}"),
			want: sources.Result{Health: "Unknown", Message: "status.conditions[1] is a string, not an object"},
		},
		"a condition's status a number": {
			obj:  instance(t, "", "status: {conditions: [{type: Ready, status: 1, reason: Available}]}"),
			want: sources.Result{Health: "Unknown", Message: "status.conditions[0].status is a number, not a string"},
		},
		"an unquoted True is a boolean": {
			obj:  instance(t, "", "status: {conditions: [{type: Ready, status: True, reason: Available}]}"),
			want: sources.Result{Health: "Unknown", Message: "status.conditions[0].status is a boolean, not a string"},
		},
		"a condition without a type": {
			obj:  instance(t, "", "status: {conditions: [{type: Ready, status: \"True\"}, {status: \"False\", reason: ReconcileError, message: boom}]}"),
			want: sources.Result{Health: "Unknown", Message: "status.conditions[1].type is missing"},
		},
		"a condition with an empty type": {
			obj:  instance(t, "", "status: {conditions: [{type: \"\", status: \"True\"}]}"),
			want: sources.Result{Health: "Unknown", Message: "status.conditions[0].type is missing"},
		},
		"a condition's type a number": {
			obj:  instance(t, "", "status: {conditions: [{type: 7, status: \"True\"}]}"),
			want: sources.Result{Health: "Unknown", Message: "status.conditions[0].type is a number, not a string"},
		},
		"a condition's reason a list": {
			obj:  instance(t, "", "status: {conditions: [{type: Synced, status: \"False\", reason: [ReconcileError]}]}"),
			want: sources.Result{Health: "Unknown", Message: "status.conditions[0].reason is a list, not a string"},
		},
		"a condition's message an object": {
			obj:  instance(t, "", "status: {conditions: [{type: Synced, status: \"False\", reason: ReconcileError, message: {error: boom}}]}"),
			want: sources.Result{Health: "Unknown", Message: "status.conditions[0].message is an object, not a string"},
		},
		"an observedGeneration that is a string": {
			obj:  instance(t, "", "status: {conditions: [{type: Ready, status: \"True\", observedGeneration: \"5\"}]}"),
			want: sources.Result{Health: "Unknown", Message: "status.conditions[0].observedGeneration is a string, not a number"},
		},
		"an observedGeneration that is not whole": {
			obj:  instance(t, "", "status: {conditions: [{type: Ready, status: \"True\", observedGeneration: 4.5}]}"),
			want: sources.Result{Health: "Unknown", Message: "status.conditions[0].observedGeneration is 4.5, not a whole number"},
		},
		"a lastTransitionTime that is not a time is not read": {
			obj:  instance(t, "", "status: {conditions: [{type: Ready, status: \"True\", reason: Available, lastTransitionTime: 12}]}"),
			want: sources.Result{Health: "Healthy", Phase: "Available"},
		},
		"null conditions are skipped, and indexes stay those of the list": {
			obj:  instance(t, "", "status: {conditions: [null, {type: Ready, status: 1}]}"),
			want: sources.Result{Health: "Unknown", Message: "status.conditions[1].status is a number, not a string"},
		},
		"status a string": {
			obj:  instance(t, "", "status: Ready"),
			want: sources.Result{Health: "Unknown", Message: "status is a string, not an object"},
		},
		"metadata.generation a string": {
			obj: sourcetest.DecodeManifest(t, `
apiVersion: rds.aws.upbound.io/v1beta1
kind: Instance
metadata: {name: payments-db-x7k2p-primary, generation: "5"}
status: {conditions: [{type: Ready, status: "True", reason: Available}]}
`),
			want: sources.Result{Health: "Unknown", Message: "metadata.generation is a string, not a number"},
		},
		"metadata a list": {
			obj:  sourcetest.DecodeManifest(t, "{apiVersion: rds.aws.upbound.io/v1beta1, kind: Instance, metadata: [payments-db]}"),
			want: sources.Result{Health: "Unknown", Message: "metadata is a list, not an object"},
		},
		"annotations a list": {
			obj:  instance(t, "  annotations: [crossplane.io/paused]\n", conditions(cond("Ready", "True", "Available", "", ""))),
			want: sources.Result{Health: "Unknown", Message: "metadata.annotations is a list, not an object"},
		},
		"an unquoted pause annotation is a boolean": {
			obj:  instance(t, "  annotations: {crossplane.io/paused: true}\n", conditions(cond("Ready", "True", "Available", "", ""))),
			want: sources.Result{Health: "Unknown", Message: "metadata.annotations[crossplane.io/paused] is a boolean, not a string"},
		},
		"other annotations are not read": {
			obj:  instance(t, "  annotations: {example.com/replicas: 3}\n", conditions(cond("Ready", "True", "Available", "", ""))),
			want: sources.Result{Health: "Healthy", Phase: "Available"},
		},
		"a deletionTimestamp that is a number": {
			obj:  instance(t, "  deletionTimestamp: 1768291200\n", conditions(cond("Ready", "True", "Available", "", ""))),
			want: sources.Result{Health: "Unknown", Message: "metadata.deletionTimestamp is a number, not a string"},
		},
		"the first problem is the one reported": {
			obj:  instance(t, "  annotations: [x]\n", "status: {conditions: [{type: Ready, status: 1}]}"),
			want: sources.Result{Health: "Unknown", Message: "metadata.annotations is a list, not an object"},
		},
		"a malformed spec is not read": {
			obj: sourcetest.DecodeManifest(t, `
apiVersion: rds.aws.upbound.io/v1beta1
kind: Instance
metadata: {name: payments-db-x7k2p-primary}
spec: [forProvider]
status: {conditions: [{type: Ready, status: "True", reason: Available}]}
`),
			want: sources.Result{Health: "Healthy", Phase: "Available"},
		},
		"invalid UTF-8 is replaced": {
			obj: withStatus(map[string]any{"conditions": []any{
				map[string]any{"type": "Synced", "status": "False", "reason": "Reconcile\xffError", "message": "bad \xfe byte"},
			}}),
			want: sources.Result{Health: "Degraded", Phase: "Reconcile\uFFFDError", Message: "bad \uFFFD byte"},
		},
		"generations as a client decodes them": {
			obj: withStatus(map[string]any{"conditions": []any{
				map[string]any{"type": "Ready", "status": "True", "reason": "Available", "observedGeneration": int64(2)},
			}}),
			want: sources.Result{Health: "Progressing", Message: "conditions are for generation 2, the spec is at generation 3"},
		},
		"generations as json.Number": {
			obj: withStatus(map[string]any{"conditions": []any{
				map[string]any{"type": "Ready", "status": "True", "reason": "Available", "observedGeneration": json.Number("3")},
			}}),
			want: sources.Result{Health: "Healthy", Phase: "Available"},
		},
		"a json.Number that is not whole": {
			obj: withStatus(map[string]any{"conditions": []any{
				map[string]any{"type": "Ready", "status": "True", "observedGeneration": json.Number("3e400")},
			}}),
			want: sources.Result{Health: "Unknown", Message: "status.conditions[0].observedGeneration is 3e400, not a whole number"},
		},
		"a json.Number written with a fraction that is whole": {
			obj: withStatus(map[string]any{"conditions": []any{
				map[string]any{"type": "Ready", "status": "True", "reason": "Available", "observedGeneration": json.Number("2.0")},
			}}),
			want: sources.Result{Health: "Progressing", Message: "conditions are for generation 2, the spec is at generation 3"},
		},
		"a float32 that is not whole": {
			obj: withStatus(map[string]any{"conditions": []any{
				map[string]any{"type": "Ready", "status": "True", "observedGeneration": float32(2.5)},
			}}),
			want: sources.Result{Health: "Unknown", Message: "status.conditions[0].observedGeneration is 2.5, not a whole number"},
		},
		"Go types no decoder produces are named": {
			obj:  withStatus(map[string]any{"conditions": []map[string]any{{"type": "Ready", "status": "True"}}}),
			want: sources.Result{Health: "Unknown", Message: "status.conditions is a []map[string]interface {}, not a list"},
		},
		"an object with a nil map": {
			obj:  &unstructured.Unstructured{},
			want: sources.Result{Health: "Progressing", Message: "no conditions yet"},
		},
		"nil object": {
			obj:  nil,
			want: sources.Result{Health: "Unknown", Message: "no object"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			checkMapResource(t, tc.obj, tc.want)
		})
	}
}

// checkMapResource checks MapResource(obj) against want, and the promises it makes on
// every object.
func checkMapResource(t *testing.T, obj *unstructured.Unstructured, want sources.Result) {
	t.Helper()
	var before map[string]any
	if obj != nil {
		before, _ = sourcetest.CopyValue(obj.Object).(map[string]any)
	}
	got := MapResource(obj)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("MapResource() mismatch (-want +got):\n%s", diff)
	}
	if !sourcetest.HealthWords[got.Health] || got.Sync != "" {
		t.Errorf("MapResource() = %+v: health is not one of the API's words, or sync is set", got)
	}
	if obj == nil {
		return
	}
	// Objects come from the informer cache, which must not be written to.
	if diff := cmp.Diff(before, obj.Object); diff != "" {
		t.Errorf("MapResource() modified its argument (-before +after):\n%s", diff)
	}
	// MapResource reads no spec: without it, or as the cache keeps it, the answer is
	// the same.
	if diff := cmp.Diff(got, MapResource(&unstructured.Unstructured{Object: withoutSpec(obj.Object)})); diff != "" {
		t.Errorf("MapResource() reads spec (-with +without):\n%s", diff)
	}
	if obj.Object != nil && sourcetest.FromDecoder(obj.Object) {
		if diff := cmp.Diff(got, MapResource(sourcetest.CachedCopy(t, familyKind(t), obj))); diff != "" {
			t.Errorf("MapResource() differs on the cached object (-full +cached):\n%s", diff)
		}
	}
}

// familyKind is the kind Family makes of a managed resource's CRD.
func familyKind(t *testing.T) sources.Kind {
	t.Helper()
	return sourcetest.FamilyKind(t, Family{}, "rds.aws.upbound.io", "Instance", "crossplane", "managed", "aws")
}

// TestMapResourceConditions covers every combination of Ready and Synced that
// Crossplane writes, on the same managed resource.
func TestMapResourceConditions(t *testing.T) {
	const errMessage = "observe failed: cannot run refresh: refresh failed: reading RDS DB Instance " +
		"(payments-db-x7k2p-primary): operation error RDS: DescribeDBInstances, https response error StatusCode: 403, " +
		"api error AccessDenied: User is not authorized to perform: rds:DescribeDBInstances"
	readies := map[string]struct {
		cond string
		want sources.Result // when Synced does not decide
	}{
		"Ready True":  {cond("Ready", "True", "Available", "", ""), sources.Result{Health: "Healthy", Phase: "Available"}},
		"Ready False": {cond("Ready", "False", "Creating", "", ""), sources.Result{Health: "Progressing", Phase: "Creating"}},
		"Ready Unknown": {cond("Ready", "Unknown", "Unavailable", "the instance's state could not be read", ""),
			sources.Result{Health: "Progressing", Phase: "Unavailable", Message: "the instance's state could not be read"}},
		"no Ready": {"", sources.Result{Health: "Progressing", Message: "no Ready condition yet"}},
	}
	synceds := map[string]struct {
		cond    string
		decides *sources.Result
	}{
		"Synced True":  {cond: cond("Synced", "True", "ReconcileSuccess", "", "")},
		"Synced False": {cond: cond("Synced", "False", "ReconcileError", errMessage, ""), decides: &sources.Result{Health: "Degraded", Phase: "ReconcileError", Message: errMessage}},
		"no Synced":    {},
	}
	for rName, r := range readies {
		for sName, s := range synceds {
			t.Run(rName+", "+sName, func(t *testing.T) {
				var conds []string
				for _, c := range []string{r.cond, s.cond} {
					if c != "" {
						conds = append(conds, c)
					}
				}
				status := ""
				if len(conds) > 0 {
					status = conditions(conds...)
				}
				want := r.want
				switch {
				case s.decides != nil:
					want = *s.decides
				case len(conds) == 0:
					want = sources.Result{Health: "Progressing", Message: "no conditions yet"}
				}
				checkMapResource(t, instance(t, "", status), want)
			})
		}
	}
}

func TestNames(t *testing.T) {
	if FamilyName != "crossplane" {
		t.Errorf("FamilyName = %q, want crossplane", FamilyName)
	}
	if diff := cmp.Diff([]string{"managed", "composite", "claim"}, Categories); diff != "" {
		t.Errorf("Categories mismatch (-want +got):\n%s", diff)
	}
	if PhaseDeleting != "Deleting" || PhasePaused != "ReconcilePaused" {
		t.Errorf("PhaseDeleting, PhasePaused = %q, %q; want Crossplane's reasons Deleting, ReconcilePaused", PhaseDeleting, PhasePaused)
	}
	if AnnotationPaused != "crossplane.io/paused" {
		t.Errorf("AnnotationPaused = %q, want Crossplane's crossplane.io/paused", AnnotationPaused)
	}
}
