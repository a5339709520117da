package cachetransform

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// BenchmarkTransform measures the transform on an Argo CD Application of about 10 KB, the
// kind that arrives at hundreds of events per second, keeping only spec.destination as
// the Argo CD mapper does. It reports the object's JSON size before and after, which is
// what the cache saves per object.
func BenchmarkTransform(b *testing.B) {
	keep := [][]string{{"destination"}}
	transform := New(func(gvk schema.GroupVersionKind) ([][]string, bool) {
		if gvk == applicationGVK {
			return keep, true
		}
		return nil, false
	})
	proto := benchApplication()
	stripped := proto.DeepCopy()
	if _, err := transform(stripped); err != nil {
		b.Fatal(err)
	}
	before, after := jsonSize(b, proto), jsonSize(b, stripped)

	// The transform changes objects in place, so every iteration needs a fresh copy.
	// Copies are made in batches with the timer stopped: copying costs far more than the
	// transform, and stopping the timer for every iteration would cost more still.
	const batch = 256
	objs := make([]*unstructured.Unstructured, 0, batch)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if len(objs) == 0 {
			b.StopTimer()
			for range min(batch, b.N-i) {
				objs = append(objs, proto.DeepCopy())
			}
			b.StartTimer()
		}
		o := objs[len(objs)-1]
		objs = objs[:len(objs)-1]
		if _, err := transform(o); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(before), "bytes-before")
	b.ReportMetric(float64(after), "bytes-after")
}

func jsonSize(b *testing.B, u *unstructured.Unstructured) int {
	b.Helper()
	data, err := json.Marshal(u.Object)
	if err != nil {
		b.Fatal(err)
	}
	return len(data)
}

// benchApplication builds an Application shaped like one Argo CD writes for a Helm chart:
// a spec with inline values, three managers' managedFields, the last-applied copy kubectl
// leaves, and a status listing the resources it deployed.
func benchApplication() *unstructured.Unstructured {
	spec := benchApplicationSpec()
	applied, _ := json.Marshal(map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
		"metadata": map[string]any{"name": "payments-api", "namespace": "argocd"},
		"spec":     spec,
	})
	u := &unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{
			"name": "payments-api", "namespace": "argocd",
			"uid": "6f1c1f9e-3a4b-4c5d-8e9f-0a1b2c3d4e5f", "resourceVersion": "123456789", "generation": int64(42),
			"labels":     map[string]any{"team": "payments", "env": "prod"},
			"finalizers": []any{"resources-finalizer.argocd.argoproj.io"},
			"annotations": map[string]any{
				lastApplied: string(applied),
				"notifications.argoproj.io/subscribe.on-sync-failed.slack": "payments-alerts",
			},
			"managedFields": benchApplicationManagedFields(),
		},
		"spec":   spec,
		"status": benchApplicationStatus(),
	}}
	u.SetGroupVersionKind(applicationGVK)
	return u
}

// benchApplicationSpec is the spec of benchApplication: a Helm source with a dozen
// parameters and inline values, automated sync with retries.
func benchApplicationSpec() map[string]any {
	params := make([]any, 0, 12)
	for i := range 12 {
		params = append(params, map[string]any{"name": fmt.Sprintf("replicaCount.component%d", i), "value": fmt.Sprint(i + 1)})
	}
	var values strings.Builder
	for i := range 24 {
		fmt.Fprintf(&values, "component%d:\n  image: registry.example.com/team/component%d:1.%d.0\n", i, i, i)
	}
	return map[string]any{
		"project": "payments",
		"source": map[string]any{
			"repoURL":        "https://git.example.com/platform/charts.git",
			"path":           "charts/payments-api",
			"targetRevision": "release-2024.06",
			"helm": map[string]any{
				"releaseName": "payments-api",
				"valueFiles":  []any{"values.yaml", "values-prod.yaml", "values-eu-west-1.yaml"},
				"parameters":  params,
				"values":      values.String(),
			},
		},
		"destination": map[string]any{"server": "https://prod-eu-west-1.k8s.example.com", "namespace": "payments"},
		"syncPolicy": map[string]any{
			"automated":   map[string]any{"prune": true, "selfHeal": true},
			"syncOptions": []any{"CreateNamespace=true", "ServerSideApply=true", "PruneLast=true"},
			"retry": map[string]any{
				"limit":   int64(5),
				"backoff": map[string]any{"duration": "5s", "factor": int64(2), "maxDuration": "3m"},
			},
		},
		"ignoreDifferences": []any{
			map[string]any{"group": "apps", "kind": "Deployment", "jsonPointers": []any{"/spec/replicas"}},
		},
	}
}

// benchApplicationManagedFields is what kubectl, the Argo CD server and its application
// controller leave in benchApplication's managedFields.
func benchApplicationManagedFields() []any {
	return []any{
		managedFieldsEntry("kubectl-client-side-apply", "Update", map[string]any{
			"f:metadata": map[string]any{"f:annotations": map[string]any{".": map[string]any{}, "f:kubectl.kubernetes.io/last-applied-configuration": map[string]any{}}},
			"f:spec":     map[string]any{".": map[string]any{}, "f:destination": map[string]any{}, "f:project": map[string]any{}, "f:source": map[string]any{}, "f:syncPolicy": map[string]any{}},
		}),
		managedFieldsEntry("argocd-server", "Update", map[string]any{
			"f:spec": map[string]any{"f:source": map[string]any{"f:helm": map[string]any{"f:parameters": map[string]any{}, "f:values": map[string]any{}}}},
		}),
		managedFieldsEntry("argocd-application-controller", "Update", map[string]any{
			"f:status": map[string]any{".": map[string]any{}, "f:health": map[string]any{}, "f:history": map[string]any{}, "f:operationState": map[string]any{}, "f:reconciledAt": map[string]any{}, "f:resources": map[string]any{}, "f:sourceType": map[string]any{}, "f:summary": map[string]any{}, "f:sync": map[string]any{}},
		}),
	}
}

// benchApplicationStatus is the status of benchApplication: synced and healthy, with
// the fourteen Deployments it deployed and its last three syncs.
func benchApplicationStatus() map[string]any {
	resources := make([]any, 0, 14)
	for i := range 14 {
		resources = append(resources, map[string]any{
			"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "payments",
			"name":   fmt.Sprintf("payments-component%d", i),
			"status": "Synced", "health": map[string]any{"status": "Healthy"},
		})
	}
	history := make([]any, 0, 3)
	for i := range 3 {
		history = append(history, map[string]any{
			"id": int64(40 + i), "revision": fmt.Sprintf("9f8e7d6c5b4a3928170%d", i),
			"deployedAt": "2024-06-12T10:1" + fmt.Sprint(i) + ":00Z",
			"source":     map[string]any{"repoURL": "https://git.example.com/platform/charts.git", "path": "charts/payments-api"},
		})
	}
	return map[string]any{
		"sync":   map[string]any{"status": "Synced", "revision": "9f8e7d6c5b4a39281702"},
		"health": map[string]any{"status": "Healthy"},
		"operationState": map[string]any{
			"phase": "Succeeded", "message": "successfully synced (all tasks run)",
			"startedAt": "2024-06-12T10:12:00Z", "finishedAt": "2024-06-12T10:12:31Z",
		},
		"resources":    resources,
		"history":      history,
		"reconciledAt": "2024-06-12T10:20:00Z",
		"sourceType":   "Helm",
	}
}

func managedFieldsEntry(manager, operation string, fields map[string]any) map[string]any {
	return map[string]any{
		"manager": manager, "operation": operation, "apiVersion": "argoproj.io/v1alpha1",
		"time": "2024-06-12T10:12:31Z", "fieldsType": "FieldsV1", "fieldsV1": fields,
	}
}
