package argocd

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/sources"
	"github.com/entityhub/entityhub/controllers/sources/sourcetest"
)

// MapApplicationSet is used as a sources.Mapper as it is.
var _ sources.Mapper = MapApplicationSet

// mapperSyncWords are the API's sync words, and "" for no sync state.
var mapperSyncWords = map[catalogv1alpha1.SyncStatus]bool{"": true, "Synced": true, "OutOfSync": true, "Unknown": true}

// prodEU1 is the server URL of a cluster that an Argo CD cluster Secret names prod-eu-1.
const prodEU1 = "https://prod-eu-1.k8s.example.com"

// application returns an Application like payments-prod in testdata, with the given
// destination (a YAML flow mapping) and status (a top-level YAML block, or "").
func application(t *testing.T, destination, status string) *unstructured.Unstructured {
	t.Helper()
	return sourcetest.DecodeManifest(t, `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: payments-prod
  namespace: argocd
  generation: 1742
  finalizers: [resources-finalizer.argocd.argoproj.io]
spec:
  project: payments
  source:
    repoURL: https://github.com/example/payments-deploy.git
    targetRevision: main
    path: overlays/prod
  destination: `+destination+`
  syncPolicy:
    automated: {prune: true, selfHeal: true}
    syncOptions: [CreateNamespace=true]
`+status)
}

// app is application with the destination of payments-prod.
func app(t *testing.T, status string) *unstructured.Unstructured {
	t.Helper()
	return application(t, `{server: "`+prodEU1+`", namespace: payments}`, status)
}

// withAppStatus returns an Application whose status is st as given, for what YAML
// cannot carry: invalid UTF-8, Go types no decoder produces.
func withAppStatus(st any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1",
		"kind":       "Application",
		"metadata":   map[string]any{"name": "payments-prod", "namespace": "argocd"},
		"spec":       map[string]any{"destination": map[string]any{"server": prodEU1, "namespace": "payments"}},
		"status":     st,
	}}
}

// secretNames is a ClusterNamer over what Argo CD's cluster Secrets would say.
func secretNames(server string) string {
	return map[string]string{
		prodEU1:                             "prod-eu-1",
		"https://prod-us-2.k8s.example.com": "prod-us-2",
	}[server]
}

// nameless is a ClusterNamer that knows no cluster, as when no cluster Secrets are read.
func nameless(string) string { return "" }

// familyKind is the kind Family makes of the CRD of an Argo CD kind, given cluster
// names as the manager gives it.
func familyKind(t testing.TB, kind string) sources.Kind {
	t.Helper()
	return sourcetest.FamilyKind(t, &Family{Clusters: NewClusterNames()}, Group, kind)
}

// specIsObject reports whether obj's spec is absent or an object: the cache transform
// drops any other spec, which then no longer has a problem to report.
func specIsObject(obj map[string]any) bool {
	spec, ok := obj["spec"]
	if !ok || spec == nil {
		return true
	}
	_, ok = spec.(map[string]any)
	return ok
}

func TestMapApplication(t *testing.T) {
	tests := map[string]struct {
		obj      *unstructured.Unstructured
		clusters ClusterNamer
		want     sources.Result
	}{
		// Argo CD's words, passed through.
		"Healthy and Synced after an automated sync": {
			obj:      sourcetest.LoadManifest(t, "application-healthy.yaml"),
			clusters: secretNames,
			want: sources.Result{Health: "Healthy", Sync: "Synced", Phase: "Succeeded", Cluster: "prod-eu-1",
				Revision: "3f9a1c0e7b2d4f6a8c1e5b7d9f0a2c4e6b8d0f13"},
		},
		"Progressing while a sync waits for a Deployment to roll out": {
			obj: app(t, `
status:
  health: {status: Progressing, lastTransitionTime: "2026-01-12T10:30:45Z"}
  sync: {status: Synced, revision: 3f9a1c0e7b2d4f6a8c1e5b7d9f0a2c4e6b8d0f13}
  operationState:
    phase: Running
    message: waiting for healthy state of apps/Deployment/payments-api
    startedAt: "2026-01-12T10:30:41Z"
`),
			clusters: secretNames,
			// A running operation's message is progress, not a reason to act.
			want: sources.Result{Health: "Progressing", Sync: "Synced", Phase: "Running", Cluster: "prod-eu-1",
				Revision: "3f9a1c0e7b2d4f6a8c1e5b7d9f0a2c4e6b8d0f13"},
		},
		"Suspended by a paused Argo Rollout": {
			obj: app(t, `
status:
  health: {status: Suspended}
  sync: {status: Synced, revision: 5d1e0c2b}
  resources:
  - {group: argoproj.io, version: v1alpha1, kind: Rollout, namespace: payments, name: payments-api, status: Synced,
     health: {status: Suspended, message: "Rollout is paused"}}
`),
			want: sources.Result{Health: "Suspended", Sync: "Synced", Cluster: prodEU1, Revision: "5d1e0c2b"},
		},
		"Missing before the first sync creates anything": {
			obj: app(t, `
status:
  health: {status: Missing}
  sync: {status: OutOfSync, revision: 5d1e0c2b}
  resources:
  - {group: apps, version: v1, kind: Deployment, namespace: payments, name: payments-api, status: OutOfSync, health: {status: Missing}}
`),
			want: sources.Result{Health: "Missing", Sync: "OutOfSync", Cluster: prodEU1, Revision: "5d1e0c2b"},
		},
		"Degraded with a health message, as Argo CD 2.x writes it": {
			obj: app(t, `
status:
  health: {status: Degraded, message: "Deployment \"payments-api\" exceeded its progress deadline"}
  sync: {status: Synced, revision: 5d1e0c2b}
`),
			want: sources.Result{Health: "Degraded", Sync: "Synced", Cluster: prodEU1, Revision: "5d1e0c2b",
				Message: `Deployment "payments-api" exceeded its progress deadline`},
		},
		"Degraded after a failed sync, with no health message as in Argo CD 3": {
			obj: sourcetest.LoadManifest(t, "application-sync-failed.yaml"),
			want: sources.Result{Health: "Degraded", Sync: "OutOfSync", Phase: "Failed", Cluster: "in-cluster",
				Revision: "c0ffee5e1f2a3b4c5d6e7f8091a2b3c4d5e6f708",
				Message: `one or more objects failed to apply, reason: Deployment.apps "checkout-api" is invalid: ` +
					`spec.template.spec.containers[0].image: Required value`},
		},
		"Unknown when the manifests do not render: the ComparisonError says why": {
			obj:      sourcetest.LoadManifest(t, "application-comparison-error.yaml"),
			clusters: secretNames,
			want: sources.Result{Health: "Unknown", Sync: "Unknown", Cluster: "prod-us-2",
				Message: "ComparisonError: Failed to load target state: failed to generate manifest for source 1 of 1: " +
					"rpc error: code = Unknown desc = Manifest generation error (cached): `kustomize build " +
					"<path to cached source>/overlays/prod` failed exit status 1: Error: accumulating resources: " +
					"accumulation err='accumulating resources from '../../base/hpa.yaml': open <path to cached " +
					"source>/base/hpa.yaml: no such file or directory'"},
		},
		"Healthy keeps its health, and still says which error condition it has": {
			obj: app(t, `
status:
  health: {status: Healthy}
  sync: {status: Unknown}
  conditions:
  - type: ComparisonError
    message: 'Failed to load target state: failed to get cluster version for cluster "https://prod-eu-1.k8s.example.com": the server has asked for the client to provide credentials'
    lastTransitionTime: "2026-01-12T11:20:00Z"
`),
			want: sources.Result{Health: "Healthy", Sync: "Unknown", Cluster: prodEU1,
				Message: `ComparisonError: Failed to load target state: failed to get cluster version for cluster ` +
					`"https://prod-eu-1.k8s.example.com": the server has asked for the client to provide credentials`},
		},
		"a health Argo CD does not have is Unknown, quoting it": {
			obj: app(t, `
status:
  health: {status: Warning, message: "from a custom health check"}
  sync: {status: Synced}
`),
			want: sources.Result{Health: "Unknown", Sync: "Synced", Cluster: prodEU1,
				Message: `Argo CD reports health "Warning", which entityhub does not know; from a custom health check`},
		},
		"lower-case healthy is not Healthy": {
			obj:  app(t, "status: {health: {status: healthy}, sync: {status: Synced}}"),
			want: sources.Result{Health: "Unknown", Sync: "Synced", Cluster: prodEU1, Message: `Argo CD reports health "healthy", which entityhub does not know`},
		},
		"Unknown from Argo CD with nothing to say": {
			obj:  app(t, "status: {health: {status: Unknown}, sync: {status: Unknown}}"),
			want: sources.Result{Health: "Unknown", Sync: "Unknown", Cluster: prodEU1},
		},

		// Which message.
		"the health message outranks an error condition": {
			obj: app(t, `
status:
  health: {status: Degraded, message: "Deployment \"payments-api\" exceeded its progress deadline"}
  sync: {status: Synced}
  conditions:
  - {type: SyncError, message: "Failed sync attempt to 5d1e0c2b: one or more objects failed to apply"}
`),
			want: sources.Result{Health: "Degraded", Sync: "Synced", Cluster: prodEU1,
				Message: `Deployment "payments-api" exceeded its progress deadline`},
		},
		"an error condition outranks a failed operation": {
			obj: app(t, `
status:
  health: {status: Degraded}
  sync: {status: OutOfSync, revision: 5d1e0c2b}
  conditions:
  - type: SyncError
    message: 'Failed sync attempt to 5d1e0c2b: one or more objects failed to apply, reason: admission webhook "validate.kyverno.svc-fail" denied the request (retried 5 times).'
    lastTransitionTime: "2026-01-12T09:20:00Z"
  operationState:
    phase: Failed
    message: 'one or more objects failed to apply, reason: admission webhook "validate.kyverno.svc-fail" denied the request (retried 5 times).'
    retryCount: 5
`),
			want: sources.Result{Health: "Degraded", Sync: "OutOfSync", Phase: "Failed", Cluster: prodEU1, Revision: "5d1e0c2b",
				Message: `SyncError: Failed sync attempt to 5d1e0c2b: one or more objects failed to apply, reason: ` +
					`admission webhook "validate.kyverno.svc-fail" denied the request (retried 5 times).`},
		},
		"the first of several error conditions": {
			obj: app(t, `
status:
  health: {status: Unknown}
  sync: {status: Unknown}
  conditions:
  - {type: OrphanedResourceWarning, message: "Application has 3 orphaned resources"}
  - {type: InvalidSpecError, message: "application destination server 'https://gone.example.com' and namespace 'payments' do not match any of the allowed destinations in project 'payments'"}
  - {type: ComparisonError, message: "later"}
`),
			want: sources.Result{Health: "Unknown", Sync: "Unknown", Cluster: prodEU1,
				Message: "InvalidSpecError: application destination server 'https://gone.example.com' and namespace " +
					"'payments' do not match any of the allowed destinations in project 'payments'"},
		},
		"an error condition without a message is named": {
			obj:  app(t, "status: {health: {status: Unknown}, sync: {status: Unknown}, conditions: [{type: UnknownError}]}"),
			want: sources.Result{Health: "Unknown", Sync: "Unknown", Cluster: prodEU1, Message: "UnknownError"},
		},
		"warnings are not messages": {
			obj: app(t, `
status:
  health: {status: Healthy}
  sync: {status: Synced}
  conditions:
  - {type: OrphanedResourceWarning, message: "Application has 3 orphaned resources"}
  - {type: SharedResourceWarning, message: "ConfigMap/payments-config is part of applications argocd/payments-prod and payments-canary"}
`),
			want: sources.Result{Health: "Healthy", Sync: "Synced", Cluster: prodEU1},
		},
		"an operation in phase Error says why": {
			obj: app(t, `
status:
  health: {status: Healthy}
  sync: {status: OutOfSync}
  operationState:
    phase: Error
    message: 'ComparisonError: rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial tcp 10.96.12.7:8081: connect: connection refused"'
`),
			want: sources.Result{Health: "Healthy", Sync: "OutOfSync", Phase: "Error", Cluster: prodEU1,
				Message: `ComparisonError: rpc error: code = Unavailable desc = connection error: desc = "transport: ` +
					`Error while dialing: dial tcp 10.96.12.7:8081: connect: connection refused"`},
		},
		"a succeeded operation's message is not a reason": {
			obj:  app(t, "status: {health: {status: Healthy}, sync: {status: Synced}, operationState: {phase: Succeeded, message: successfully synced (all tasks run)}}"),
			want: sources.Result{Health: "Healthy", Sync: "Synced", Phase: "Succeeded", Cluster: prodEU1},
		},
		"an operation being terminated": {
			obj:  app(t, "status: {health: {status: Progressing}, sync: {status: OutOfSync}, operationState: {phase: Terminating, message: operation is terminating}}"),
			want: sources.Result{Health: "Progressing", Sync: "OutOfSync", Phase: "Terminating", Cluster: prodEU1},
		},

		// Sync.
		"a sync word Argo CD does not have is Unknown, and the message says so": {
			obj:  app(t, "status: {health: {status: Healthy}, sync: {status: Syncing}}"),
			want: sources.Result{Health: "Healthy", Sync: "Unknown", Cluster: prodEU1, Message: `Argo CD reports sync status "Syncing", which entityhub does not know`},
		},
		"a sync state without a status is Unknown": {
			obj:  app(t, "status: {health: {status: Healthy}, sync: {revision: 5d1e0c2b}}"),
			want: sources.Result{Health: "Healthy", Sync: "Unknown", Cluster: prodEU1, Revision: "5d1e0c2b"},
		},
		"no sync state at all is no sync": {
			obj:  app(t, "status: {health: {status: Healthy}}"),
			want: sources.Result{Health: "Healthy", Cluster: prodEU1},
		},

		// Never reconciled.
		"just applied, no status": {
			obj:      sourcetest.LoadManifest(t, "application-new.yaml"),
			clusters: secretNames,
			// The destination is known before Argo CD looks.
			want: sources.Result{Health: "Unknown", Cluster: "https://dev.k8s.example.com", Message: "not yet reconciled by Argo CD"},
		},
		"an empty status": {
			obj:  app(t, "status: {}"),
			want: sources.Result{Health: "Unknown", Cluster: prodEU1, Message: "not yet reconciled by Argo CD"},
		},
		"a null status": {
			obj:  app(t, "status: null"),
			want: sources.Result{Health: "Unknown", Cluster: prodEU1, Message: "not yet reconciled by Argo CD"},
		},
		"the empty status Argo CD's API server writes on create": {
			obj: app(t, `
status:
  health: {}
  summary: {}
  sync:
    status: ""
    comparedTo:
      source: {repoURL: ""}
      destination: {}
`),
			want: sources.Result{Health: "Unknown", Sync: "Unknown", Cluster: prodEU1, Message: "not yet reconciled by Argo CD"},
		},
		"no health but an InvalidSpecError says why": {
			obj: app(t, `
status:
  conditions:
  - {type: InvalidSpecError, message: "Application referencing project payments which does not exist", lastTransitionTime: "2026-01-12T08:00:00Z"}
`),
			want: sources.Result{Health: "Unknown", Cluster: prodEU1,
				Message: "InvalidSpecError: Application referencing project payments which does not exist"},
		},

		// Revision.
		"a multi-source Application's revisions, one per source": {
			obj: sourcetest.LoadManifest(t, "application-multisource.yaml"),
			want: sources.Result{Health: "Healthy", Sync: "Synced", Phase: "Succeeded", Cluster: "prod-eu-1",
				Revision: "8.5.1,9b2e47d1c3a5f7e9b1d3f5a7c9e1b3d5f7a9c1e3"},
		},
		"revisions outrank revision": {
			obj:  app(t, "status: {health: {status: Healthy}, sync: {status: Synced, revision: old, revisions: [a1, b2]}}"),
			want: sources.Result{Health: "Healthy", Sync: "Synced", Cluster: prodEU1, Revision: "a1,b2"},
		},
		"empty revisions fall back to revision": {
			obj:  app(t, "status: {health: {status: Healthy}, sync: {status: Synced, revision: 5d1e0c2b, revisions: []}}"),
			want: sources.Result{Health: "Healthy", Sync: "Synced", Cluster: prodEU1, Revision: "5d1e0c2b"},
		},
		"a null revision keeps its place": {
			obj:  app(t, "status: {health: {status: Healthy}, sync: {status: Synced, revisions: [a1, null, c3]}}"),
			want: sources.Result{Health: "Healthy", Sync: "Synced", Cluster: prodEU1, Revision: "a1,,c3"},
		},

		// Cluster.
		"destination by name": {
			obj:      application(t, "{name: prod-eu-1, namespace: payments}", "status: {health: {status: Healthy}, sync: {status: Synced}}"),
			clusters: secretNames,
			want:     sources.Result{Health: "Healthy", Sync: "Synced", Cluster: "prod-eu-1"},
		},
		"a name outranks a server": {
			obj:      application(t, `{name: eu-prod, server: "`+prodEU1+`"}`, "status: {health: {status: Healthy}}"),
			clusters: secretNames,
			want:     sources.Result{Health: "Healthy", Cluster: "eu-prod"},
		},
		"a server resolved through cluster Secrets": {
			obj:      app(t, "status: {health: {status: Healthy}, sync: {status: Synced}}"),
			clusters: secretNames,
			want:     sources.Result{Health: "Healthy", Sync: "Synced", Cluster: "prod-eu-1"},
		},
		"a server no Secret names is kept as it is": {
			obj:      application(t, "{server: 'https://10.20.0.4:6443', namespace: payments}", "status: {health: {status: Healthy}}"),
			clusters: secretNames,
			want:     sources.Result{Health: "Healthy", Cluster: "https://10.20.0.4:6443"},
		},
		"a server without a namer": {
			obj:  app(t, "status: {health: {status: Healthy}}"),
			want: sources.Result{Health: "Healthy", Cluster: prodEU1},
		},
		"the in-cluster server": {
			obj:      application(t, "{server: 'https://kubernetes.default.svc', namespace: payments}", "status: {health: {status: Healthy}}"),
			clusters: nameless,
			want:     sources.Result{Health: "Healthy", Cluster: "in-cluster"},
		},
		"the in-cluster server with a trailing slash": {
			obj:  application(t, "{server: 'https://kubernetes.default.svc/', namespace: payments}", "status: {health: {status: Healthy}}"),
			want: sources.Result{Health: "Healthy", Cluster: "in-cluster"},
		},
		"the in-cluster server when a Secret renames it": {
			obj: application(t, "{server: 'https://kubernetes.default.svc', namespace: payments}", "status: {health: {status: Healthy}}"),
			clusters: func(server string) string {
				if server == InClusterServer {
					return "hub"
				}
				return ""
			},
			want: sources.Result{Health: "Healthy", Cluster: "hub"},
		},
		"a destination with only a namespace": {
			obj:  application(t, "{namespace: payments}", "status: {health: {status: Healthy}}"),
			want: sources.Result{Health: "Healthy"},
		},

		// Malformed objects.
		"health status a number": {
			obj:  app(t, "status: {health: {status: 3}, sync: {status: Synced}}"),
			want: sources.Result{Health: "Unknown", Sync: "Synced", Cluster: prodEU1, Message: "status.health.status is a number, not a string"},
		},
		"health a string": {
			obj:  app(t, "status: {health: Healthy, sync: {status: Synced}}"),
			want: sources.Result{Health: "Unknown", Sync: "Synced", Cluster: prodEU1, Message: "status.health is a string, not an object"},
		},
		"health message a list": {
			obj:  app(t, "status: {health: {status: Degraded, message: [a, b]}}"),
			want: sources.Result{Health: "Unknown", Cluster: prodEU1, Message: "status.health.message is a list, not a string"},
		},
		"status a list": {
			obj:  app(t, "status: [Healthy]"),
			want: sources.Result{Health: "Unknown", Cluster: prodEU1, Message: "status is a list, not an object"},
		},
		"conditions not a list": {
			obj:  app(t, "status: {health: {status: Healthy}, conditions: {type: ComparisonError, message: boom}}"),
			want: sources.Result{Health: "Unknown", Cluster: prodEU1, Message: "status.conditions is an object, not a list"},
		},
		"a condition that is a string": {
			obj:  app(t, "status: {health: {status: Healthy}, conditions: [{type: OrphanedResourceWarning}, ComparisonError]}"),
			want: sources.Result{Health: "Unknown", Cluster: prodEU1, Message: "status.conditions[1] is a string, not an object"},
		},
		"a condition's type a boolean": {
			obj:  app(t, "status: {health: {status: Healthy}, conditions: [{type: true, message: boom}]}"),
			want: sources.Result{Health: "Unknown", Cluster: prodEU1, Message: "status.conditions[0].type is a boolean, not a string"},
		},
		"a condition's message an object": {
			obj:  app(t, "status: {health: {status: Healthy}, conditions: [{type: SyncError, message: {reason: x}}]}"),
			want: sources.Result{Health: "Unknown", Cluster: prodEU1, Message: "status.conditions[0].message is an object, not a string"},
		},
		"null conditions are skipped": {
			obj:  app(t, "status: {health: {status: Healthy}, conditions: [null, {type: SyncError, message: boom}]}"),
			want: sources.Result{Health: "Healthy", Cluster: prodEU1, Message: "SyncError: boom"},
		},
		"revisions with a number": {
			obj:  app(t, "status: {health: {status: Healthy}, sync: {status: Synced, revisions: [8.5.1, 1.2]}}"),
			want: sources.Result{Health: "Unknown", Sync: "Synced", Cluster: prodEU1, Message: "status.sync.revisions[1] is a number, not a string"},
		},
		"revisions a string": {
			obj:  app(t, "status: {health: {status: Healthy}, sync: {status: Synced, revisions: 'a1,b2'}}"),
			want: sources.Result{Health: "Unknown", Sync: "Synced", Cluster: prodEU1, Message: "status.sync.revisions is a string, not a list"},
		},
		"revision a number": {
			obj:  app(t, "status: {health: {status: Healthy}, sync: {status: Synced, revision: 1234567}}"),
			want: sources.Result{Health: "Unknown", Sync: "Synced", Cluster: prodEU1, Message: "status.sync.revision is a number, not a string"},
		},
		"sync status a boolean": {
			obj:  app(t, "status: {health: {status: Healthy}, sync: {status: true}}"),
			want: sources.Result{Health: "Unknown", Sync: "Unknown", Cluster: prodEU1, Message: "status.sync.status is a boolean, not a string"},
		},
		"sync a string": {
			obj:  app(t, "status: {health: {status: Healthy}, sync: Synced}"),
			want: sources.Result{Health: "Unknown", Sync: "Unknown", Cluster: prodEU1, Message: "status.sync is a string, not an object"},
		},
		"operationState a list": {
			obj:  app(t, "status: {health: {status: Healthy}, operationState: [Running]}"),
			want: sources.Result{Health: "Unknown", Cluster: prodEU1, Message: "status.operationState is a list, not an object"},
		},
		"operation phase a number": {
			obj:  app(t, "status: {health: {status: Healthy}, operationState: {phase: 2}}"),
			want: sources.Result{Health: "Unknown", Cluster: prodEU1, Message: "status.operationState.phase is a number, not a string"},
		},
		"destination a string": {
			obj:  application(t, "in-cluster", "status: {health: {status: Healthy}, sync: {status: Synced}}"),
			want: sources.Result{Health: "Unknown", Sync: "Synced", Message: "spec.destination is a string, not an object"},
		},
		"destination server a number": {
			obj:  application(t, "{server: 6443}", "status: {health: {status: Healthy}}"),
			want: sources.Result{Health: "Unknown", Message: "spec.destination.server is a number, not a string"},
		},
		"spec a string": {
			obj: sourcetest.DecodeManifest(t, `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: payments-prod, namespace: argocd}
spec: payments
status: {health: {status: Healthy}}
`),
			want: sources.Result{Health: "Unknown", Message: "spec is a string, not an object"},
		},
		"the first problem is the one reported": {
			obj:  application(t, "{server: 6443}", "status: {health: {status: 3}, sync: {status: Synced, revisions: [1]}}"),
			want: sources.Result{Health: "Unknown", Sync: "Synced", Message: "status.health.status is a number, not a string"},
		},
		"invalid UTF-8 is replaced": {
			obj: withAppStatus(map[string]any{
				"health":         map[string]any{"status": "Degraded"},
				"sync":           map[string]any{"status": "OutOfSync", "revision": "ab\xffcd"},
				"operationState": map[string]any{"phase": "Fail\xfe", "message": "x"},
				"conditions":     []any{map[string]any{"type": "SyncError", "message": "bad \xff byte"}},
			}),
			want: sources.Result{Health: "Degraded", Sync: "OutOfSync", Phase: "Fail\uFFFD", Cluster: prodEU1,
				Revision: "ab\uFFFDcd", Message: "SyncError: bad \uFFFD byte"},
		},
		"an unknown health word with invalid UTF-8 is quoted safely": {
			obj:  withAppStatus(map[string]any{"health": map[string]any{"status": "Heal\xffthy"}}),
			want: sources.Result{Health: "Unknown", Cluster: prodEU1, Message: `Argo CD reports health "Heal\xffthy", which entityhub does not know`},
		},
		"Go types no decoder produces are read": {
			obj: withAppStatus(map[string]any{
				"health": map[string]string{"status": "Healthy"},
				"sync":   map[string]any{"status": catalogv1alpha1.SyncSynced, "revisions": []string{"a1", "b2"}},
			}),
			want: sources.Result{Health: "Healthy", Sync: "Synced", Cluster: prodEU1, Revision: "a1,b2"},
		},
		"a map with other keys is not an object": {
			obj:  withAppStatus(map[string]any{"health": map[int]string{1: "Healthy"}}),
			want: sources.Result{Health: "Unknown", Cluster: prodEU1, Message: "status.health is a map[int]string, not an object"},
		},
		"an object with a nil map": {
			obj:  &unstructured.Unstructured{},
			want: sources.Result{Health: "Unknown", Message: "not yet reconciled by Argo CD"},
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
				before, _ = sourcetest.CopyValue(tc.obj.Object).(map[string]any)
			}
			got := MapApplication(tc.obj, tc.clusters)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("MapApplication() mismatch (-want +got):\n%s", diff)
			}
			if !sourcetest.HealthWords[got.Health] || !mapperSyncWords[got.Sync] {
				t.Errorf("MapApplication() = %+v: health or sync is not one of the API's words", got)
			}
			if tc.obj == nil {
				return
			}
			// Objects come from the informer cache, which must not be written to.
			if diff := cmp.Diff(before, tc.obj.Object); diff != "" {
				t.Errorf("MapApplication() modified its argument (-before +after):\n%s", diff)
			}
			// The cache keeps only KeepSpecApplication of spec, and trims status;
			// reading the cached copy must give the same answer.
			if specIsObject(tc.obj.Object) && sourcetest.FromDecoder(tc.obj.Object) {
				cached := sourcetest.CachedCopy(t, familyKind(t, KindApplication), tc.obj)
				if diff := cmp.Diff(got, MapApplication(cached, tc.clusters)); diff != "" {
					t.Errorf("MapApplication() reads what the cache drops (-full +cached):\n%s", diff)
				}
			}
		})
	}
}

func TestMapApplicationSet(t *testing.T) {
	appSet := func(t *testing.T, status string) *unstructured.Unstructured {
		t.Helper()
		return sourcetest.DecodeManifest(t, `
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: payments, namespace: argocd}
spec:
  goTemplate: true
  generators:
  - clusters: {selector: {matchLabels: {env: prod}}}
  template:
    metadata: {name: 'payments-{{.name}}'}
    spec:
      project: payments
      source: {repoURL: "https://github.com/example/payments-deploy.git", targetRevision: main, path: overlays/prod}
      destination: {server: '{{.server}}', namespace: payments}
`+status)
	}
	tests := map[string]struct {
		obj  *unstructured.Unstructured
		want sources.Result
	}{
		"ResourcesUpToDate": {
			obj:  sourcetest.LoadManifest(t, "applicationset-uptodate.yaml"),
			want: sources.Result{Health: "Healthy", Phase: "ApplicationSetUpToDate", Message: "All applications have been generated successfully"},
		},
		"ErrorOccurred outranks a ResourcesUpToDate that is False": {
			obj: sourcetest.LoadManifest(t, "applicationset-error.yaml"),
			want: sources.Result{Health: "Degraded", Phase: "ApplicationGenerationFromParamsError",
				Message: `failed to execute go template {{.cluster}}-guestbook: template: :1:3: executing "" at <.cluster>: map has no entry for key "cluster"`},
		},
		"ErrorOccurred outranks a rollout and a ResourcesUpToDate left from before": {
			obj: appSet(t, `
status:
  conditions:
  - {type: ResourcesUpToDate, status: "True", reason: ApplicationSetUpToDate, message: All applications have been generated successfully}
  - {type: RolloutProgressing, status: "True", reason: ApplicationSetModified, message: ApplicationSet is performing rollout of step 1}
  - {type: ErrorOccurred, status: "True", reason: CreateApplicationError, message: "error creating application payments-prod-eu-1: admission webhook denied the request"}
`),
			want: sources.Result{Health: "Degraded", Phase: "CreateApplicationError",
				Message: "error creating application payments-prod-eu-1: admission webhook denied the request"},
		},
		"a progressive sync under way": {
			obj: appSet(t, `
status:
  conditions:
  - {type: ErrorOccurred, status: "False", reason: ApplicationSetUpToDate, message: All applications have been generated successfully}
  - {type: ParametersGenerated, status: "True", reason: ParametersGenerated, message: Successfully generated parameters for all Applications}
  - {type: ResourcesUpToDate, status: "True", reason: ApplicationSetUpToDate, message: All applications have been generated successfully}
  - {type: RolloutProgressing, status: "True", reason: ApplicationSetModified, message: ApplicationSet is performing rollout of step 1}
  applicationStatus:
  - {application: payments-prod-eu-1, status: Progressing, step: "1", message: "Application resource became Progressing, updating status from Pending to Progressing."}
`),
			want: sources.Result{Health: "Progressing", Phase: "ApplicationSetModified", Message: "ApplicationSet is performing rollout of step 1"},
		},
		"a finished rollout is not Progressing": {
			obj: appSet(t, `
status:
  conditions:
  - {type: ResourcesUpToDate, status: "True", reason: ApplicationSetUpToDate, message: All applications have been generated successfully}
  - {type: RolloutProgressing, status: "False", reason: ApplicationSetRolloutComplete, message: ApplicationSet Rollout has completed}
`),
			want: sources.Result{Health: "Healthy", Phase: "ApplicationSetUpToDate", Message: "All applications have been generated successfully"},
		},
		"a deciding condition without a reason gives its type as the phase": {
			obj:  appSet(t, "status: {conditions: [{type: ResourcesUpToDate, status: \"True\"}]}"),
			want: sources.Result{Health: "Healthy", Phase: "ResourcesUpToDate"},
		},
		"only ParametersGenerated: nothing says how it is doing": {
			obj: appSet(t, `
status:
  conditions:
  - {type: ParametersGenerated, status: "True", reason: ParametersGenerated, message: Successfully generated parameters for all Applications}
  - {type: ResourcesUpToDate, status: Unknown}
`),
			want: sources.Result{Health: "Unknown", Message: "none of ErrorOccurred, RolloutProgressing or ResourcesUpToDate is True"},
		},
		"condition status in lower case does not count": {
			obj:  appSet(t, "status: {conditions: [{type: ErrorOccurred, status: \"true\", message: boom}]}"),
			want: sources.Result{Health: "Unknown", Message: "none of ErrorOccurred, RolloutProgressing or ResourcesUpToDate is True"},
		},
		"no status yet": {
			obj:  appSet(t, ""),
			want: sources.Result{Health: "Unknown", Message: "no status yet"},
		},
		"an empty status": {
			obj:  appSet(t, "status: {}"),
			want: sources.Result{Health: "Unknown", Message: "no status yet"},
		},
		"no conditions": {
			obj:  appSet(t, "status: {conditions: [], resources: []}"),
			want: sources.Result{Health: "Unknown", Message: "no status yet"},
		},

		// status.health, when something writes it.
		"a health outranks the conditions, which explain it": {
			obj: appSet(t, `
status:
  health: {status: Healthy}
  conditions:
  - {type: ErrorOccurred, status: "True", reason: RefreshApplicationError, message: "error refreshing application payments-prod-eu-1"}
`),
			want: sources.Result{Health: "Healthy", Phase: "RefreshApplicationError", Message: "error refreshing application payments-prod-eu-1"},
		},
		"a health with its own message": {
			obj: appSet(t, `
status:
  health: {status: Degraded, message: "2 of 3 Applications are Degraded"}
  conditions:
  - {type: ResourcesUpToDate, status: "True", reason: ApplicationSetUpToDate, message: All applications have been generated successfully}
`),
			want: sources.Result{Health: "Degraded", Phase: "ApplicationSetUpToDate", Message: "2 of 3 Applications are Degraded"},
		},
		"a health and no conditions": {
			obj:  appSet(t, "status: {health: {status: Progressing}}"),
			want: sources.Result{Health: "Progressing"},
		},
		"a health Argo CD does not have": {
			obj:  appSet(t, "status: {health: {status: Warning}}"),
			want: sources.Result{Health: "Unknown", Message: `Argo CD reports health "Warning", which entityhub does not know`},
		},
		"an empty health falls back to the conditions": {
			obj:  appSet(t, "status: {health: {status: \"\"}, conditions: [{type: RolloutProgressing, status: \"True\", reason: ApplicationSetModified}]}"),
			want: sources.Result{Health: "Progressing", Phase: "ApplicationSetModified"},
		},

		// Malformed objects.
		"health status a number": {
			obj:  appSet(t, "status: {health: {status: 1}}"),
			want: sources.Result{Health: "Unknown", Message: "status.health.status is a number, not a string"},
		},
		"conditions a string": {
			obj:  appSet(t, "status: {conditions: ResourcesUpToDate}"),
			want: sources.Result{Health: "Unknown", Message: "status.conditions is a string, not a list"},
		},
		"a condition that is a list": {
			obj:  appSet(t, "status: {conditions: [[ErrorOccurred, \"True\"]]}"),
			want: sources.Result{Health: "Unknown", Message: "status.conditions[0] is a list, not an object"},
		},
		"an unquoted True is a boolean": {
			obj:  appSet(t, "status: {conditions: [{type: ResourcesUpToDate, status: \"True\"}, {type: ErrorOccurred, status: True, message: boom}]}"),
			want: sources.Result{Health: "Unknown", Message: "status.conditions[1].status is a boolean, not a string"},
		},
		"a condition's reason a number": {
			obj:  appSet(t, "status: {conditions: [{type: ErrorOccurred, status: \"True\", reason: 500}]}"),
			want: sources.Result{Health: "Unknown", Message: "status.conditions[0].reason is a number, not a string"},
		},
		"status a string": {
			obj:  appSet(t, "status: Healthy"),
			want: sources.Result{Health: "Unknown", Message: "status is a string, not an object"},
		},
		"invalid UTF-8 is replaced": {
			obj: &unstructured.Unstructured{Object: map[string]any{"status": map[string]any{"conditions": []any{
				map[string]any{"type": "ErrorOccurred", "status": "True", "reason": "Bad\xff", "message": "bad \xff byte"},
			}}}},
			want: sources.Result{Health: "Degraded", Phase: "Bad\uFFFD", Message: "bad \uFFFD byte"},
		},
		"an object with a nil map": {
			obj:  &unstructured.Unstructured{},
			want: sources.Result{Health: "Unknown", Message: "no status yet"},
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
				before, _ = sourcetest.CopyValue(tc.obj.Object).(map[string]any)
			}
			got := MapApplicationSet(tc.obj)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("MapApplicationSet() mismatch (-want +got):\n%s", diff)
			}
			if !sourcetest.HealthWords[got.Health] {
				t.Errorf("MapApplicationSet() health %q is not one of the API's words", got.Health)
			}
			if tc.obj == nil {
				return
			}
			if diff := cmp.Diff(before, tc.obj.Object); diff != "" {
				t.Errorf("MapApplicationSet() modified its argument (-before +after):\n%s", diff)
			}
			// An ApplicationSet's spec is never read: without it, the answer is the same.
			noSpec, _ := sourcetest.CopyValue(tc.obj.Object).(map[string]any)
			delete(noSpec, "spec")
			if diff := cmp.Diff(got, MapApplicationSet(&unstructured.Unstructured{Object: noSpec})); diff != "" {
				t.Errorf("MapApplicationSet() reads spec (-with +without):\n%s", diff)
			}
		})
	}
}

func TestKeepSpecApplication(t *testing.T) {
	if diff := cmp.Diff([][]string{{"destination"}}, KeepSpecApplication()); diff != "" {
		t.Errorf("KeepSpecApplication() mismatch (-want +got):\n%s", diff)
	}
	// Each call returns its own slice, so that a caller appending to it changes
	// nothing for others.
	a := KeepSpecApplication()
	a[0][0] = "source"
	if got := KeepSpecApplication()[0][0]; got != "destination" {
		t.Errorf("KeepSpecApplication() shares its slice: changed to %q", got)
	}

	// What the cache keeps of a real Application is only its destination.
	full := sourcetest.LoadManifest(t, "application-healthy.yaml")
	want := map[string]any{"destination": map[string]any{"server": prodEU1, "namespace": "payments"}}
	if diff := cmp.Diff(want, sourcetest.CachedCopy(t, familyKind(t, KindApplication), full).Object["spec"]); diff != "" {
		t.Errorf("cached spec mismatch (-want +got):\n%s", diff)
	}
}

// TestMapApplicationClusterNames reads destinations through ClusterNames, the
// ClusterNamer the manager passes, fed with cluster Secrets as Argo CD writes them.
func TestMapApplicationClusterNames(t *testing.T) {
	names := NewClusterNames()
	names.Update(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "cluster-prod-eu-1", Namespace: "argocd",
			Labels: map[string]string{SecretTypeLabel: SecretTypeCluster}},
		Data: map[string][]byte{"name": []byte("prod-eu-1"), "server": []byte(prodEU1 + "/"), "config": []byte(`{"bearerToken":"x"}`)},
	})
	tests := map[string]struct {
		destination string
		want        string
	}{
		"a server a Secret names":        {destination: `{server: "` + prodEU1 + `"}`, want: "prod-eu-1"},
		"a server no Secret names":       {destination: "{server: 'https://10.20.0.4:6443'}", want: "https://10.20.0.4:6443"},
		"the in-cluster server":          {destination: "{server: 'https://kubernetes.default.svc'}", want: "in-cluster"},
		"a name, whatever Secrets say":   {destination: "{name: eu-prod}", want: "eu-prod"},
		"neither name nor server is set": {destination: "{}", want: ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := MapApplication(application(t, tc.destination, "status: {health: {status: Healthy}}"), names.Name)
			if got.Cluster != tc.want {
				t.Errorf("MapApplication().Cluster = %q, want %q", got.Cluster, tc.want)
			}
		})
	}
}

// TestMapApplicationNamerPanics checks that a ClusterNamer that panics, which is the
// caller's code, cannot stop the manager.
func TestMapApplicationNamerPanics(t *testing.T) {
	var names *ClusterNames // a nil *ClusterNames panics in Name
	got := MapApplication(app(t, "status: {health: {status: Healthy}}"), names.Name)
	if got.Health != catalogv1alpha1.HealthUnknown || !strings.HasPrefix(got.Message, "cannot read this object: ") {
		t.Errorf("MapApplication() with a panicking namer = %+v, want Unknown saying it cannot read the object", got)
	}
}

func TestNames(t *testing.T) {
	if FamilyName != "argocd" {
		t.Errorf("FamilyName = %q, want argocd", FamilyName)
	}
	if Group != "argoproj.io" {
		t.Errorf("Group = %q, want argoproj.io", Group)
	}
}
