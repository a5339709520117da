package main

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// Namespaces the fleet lives in. Applications sit where Argo CD keeps them; entities are
// created by the manager in its default catalog namespace.
const (
	argocdNS  = "argocd"
	sourcesNS = "bench"
	relayNS   = "bench-relay"
	catalogNS = "entityhub-system"
	idLabel   = "backstage.io/kubernetes-id"
	// soloLabel names the entity of a solo Application: one the relay reacts to and
	// the manager does not (no entity selects it), so that the relay's sustainable
	// rate is measured with the manager idle.
	soloLabel = "bench.entityhub.dev/relay-of"
)

// The kinds the fleet is made of.
var (
	appGVR      = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}
	workflowGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "workflows"}
	claimGVR    = schema.GroupVersionResource{Group: "database.example.org", Version: "v1alpha1", Resource: "postgresqlinstances"}
	xrGVR       = schema.GroupVersionResource{Group: "database.example.org", Version: "v1alpha1", Resource: "xpostgresqlinstances"}
	instanceGVR = schema.GroupVersionResource{Group: "rds.aws.upbound.io", Version: "v1beta1", Resource: "instances"}
	entityGVR   = schema.GroupVersionResource{Group: "catalog.entityhub.dev", Version: "v1alpha1", Resource: "catalogentities"}
)

// sourceKinds are the kinds a Backstage Kubernetes plugin would have to be configured
// with, and list once each per cluster, to show what this fleet is made of.
var sourceKinds = []schema.GroupVersionResource{appGVR, workflowGVR, claimGVR, xrGVR, instanceGVR}

// sizes is how big a fleet to build.
type sizes struct {
	Apps, MRs, Workflows, Entities, MRsPerClaim int
}

// fleet is what was built: which entity each source belongs to, and how many sources
// each entity should report once the manager has caught up.
type fleet struct {
	sizes
	// expected is the sourceCount every entity should reach: its Applications, its
	// Workflows (each a standalone run, so each its own source), and for every claim the
	// claim, its composite and its managed resources.
	expected map[string]int32
	// flipApp is the Application whose health the freshness phase changes, per entity
	// that has one.
	flipApp map[string]string
	// soloApp is the solo Application of each entity that has a flipApp.
	soloApp map[string]string
	// entities lists the entity names in order.
	entities []string
	// requests counts the API requests made to build the fleet.
	requests atomic.Int64
}

func entityName(i int) string { return fmt.Sprintf("svc-%05d", i) }

// buildFleet creates the namespaces and every source, spread round-robin over the
// entities, with a pool of workers: one at a time would take minutes at large scale.
func buildFleet(ctx context.Context, dyn dynamic.Interface, kube kubernetes.Interface, sz sizes, workers int) (*fleet, error) {
	f := &fleet{sizes: sz, expected: map[string]int32{}, flipApp: map[string]string{}, soloApp: map[string]string{}}
	for i := 0; i < sz.Entities; i++ {
		f.entities = append(f.entities, entityName(i))
	}
	for _, ns := range []string{argocdNS, sourcesNS, relayNS, catalogNS} {
		_, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		if err != nil {
			return nil, fmt.Errorf("creating namespace %s: %w", ns, err)
		}
	}

	p := startPool(workers)
	f.submitRelayConfigMaps(ctx, p, kube)
	f.submitApplications(ctx, p, dyn)
	f.submitWorkflows(ctx, p, dyn)
	f.submitClaims(ctx, p, dyn)
	if err := p.wait(); err != nil {
		return nil, err
	}
	return f, ctx.Err()
}

// submitRelayConfigMaps creates the relay's ConfigMap of each entity. The relay writes
// one per entity; they exist up front so that its write is a patch, as an entity's
// status write is an update of an existing object.
func (f *fleet) submitRelayConfigMaps(ctx context.Context, p *pool, kube kubernetes.Interface) {
	for _, e := range f.entities {
		p.submit(ctx, func() error {
			f.requests.Add(1)
			_, err := kube.CoreV1().ConfigMaps(relayNS).Create(ctx, &corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{Name: "relay-" + e},
				Data:       map[string]string{"seq": "0"},
			}, metav1.CreateOptions{})
			return err
		})
	}
}

// submitApplications creates the Applications; the first of each entity is the one the
// freshness phase flips.
func (f *fleet) submitApplications(ctx context.Context, p *pool, dyn dynamic.Interface) {
	for i := 0; i < f.Apps; i++ {
		e := f.entities[i%f.Entities]
		name := fmt.Sprintf("%s-app-%05d", e, i)
		if _, ok := f.flipApp[e]; !ok {
			f.flipApp[e] = name
			solo := fmt.Sprintf("%s-solo-%05d", e, i)
			f.soloApp[e] = solo
			p.submit(ctx, func() error {
				f.requests.Add(1)
				app := application(solo, e)
				app.SetLabels(map[string]string{soloLabel: e})
				_, err := dyn.Resource(appGVR).Namespace(argocdNS).Create(ctx, app, metav1.CreateOptions{})
				return err
			})
		}
		f.expected[e]++
		p.submit(ctx, func() error {
			f.requests.Add(1)
			_, err := dyn.Resource(appGVR).Namespace(argocdNS).Create(ctx, application(name, e), metav1.CreateOptions{})
			return err
		})
	}
}

// submitWorkflows creates the Workflows.
func (f *fleet) submitWorkflows(ctx context.Context, p *pool, dyn dynamic.Interface) {
	for i := 0; i < f.Workflows; i++ {
		e := f.entities[i%f.Entities]
		name := fmt.Sprintf("%s-wf-%05d", e, i)
		f.expected[e]++
		p.submit(ctx, func() error {
			f.requests.Add(1)
			_, err := dyn.Resource(workflowGVR).Namespace(sourcesNS).Create(ctx, workflow(name, e), metav1.CreateOptions{})
			return err
		})
	}
}

// submitClaims creates the Crossplane trees: claims of MRsPerClaim managed resources
// each; the last claim takes the remainder.
func (f *fleet) submitClaims(ctx context.Context, p *pool, dyn dynamic.Interface) {
	per := max(f.MRsPerClaim, 1)
	for c, left := 0, f.MRs; left > 0; c++ {
		n := min(per, left)
		left -= n
		e := f.entities[c%f.Entities]
		f.expected[e] += int32(2 + n)
		claim, xr := fmt.Sprintf("%s-db-%05d", e, c), fmt.Sprintf("xdb-%05d", c)
		p.submit(ctx, func() error { return f.createTree(ctx, dyn, e, claim, xr, n) })
	}
}

// pool runs jobs on a fixed number of workers and keeps the first error.
type pool struct {
	jobs chan func() error
	errs chan error
	wg   sync.WaitGroup
}

// startPool starts workers that run the jobs submitted until wait is called.
func startPool(workers int) *pool {
	p := &pool{jobs: make(chan func() error), errs: make(chan error, workers)}
	for range workers {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for job := range p.jobs {
				if err := job(); err != nil {
					select {
					case p.errs <- err:
					default:
					}
				}
			}
		}()
	}
	return p
}

// submit hands job to a worker. Once a job has failed, or ctx has ended, it drops job:
// the fleet is not built anyway.
func (p *pool) submit(ctx context.Context, job func() error) {
	select {
	case p.jobs <- job:
	case err := <-p.errs:
		p.errs <- err
	case <-ctx.Done():
	}
}

// wait waits for the jobs submitted to end and returns the first error of one.
func (p *pool) wait() error {
	close(p.jobs)
	p.wg.Wait()
	select {
	case err := <-p.errs:
		return err
	default:
		return nil
	}
}

// createTree creates one claim, its composite and n managed resources, each Ready and
// Synced, with status written through the status subresource as Crossplane writes it.
func (f *fleet) createTree(ctx context.Context, dyn dynamic.Interface, entity, claim, xr string, n int) error {
	mrs := make([]string, n)
	refs := make([]any, n)
	for i := range mrs {
		mrs[i] = fmt.Sprintf("%s-mr-%d", xr, i)
		refs[i] = map[string]any{"apiVersion": "rds.aws.upbound.io/v1beta1", "kind": "Instance", "name": mrs[i]}
	}
	c := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "database.example.org/v1alpha1", "kind": "PostgreSQLInstance",
		"metadata": map[string]any{"name": claim, "namespace": sourcesNS, "labels": map[string]any{idLabel: entity}},
		"spec": map[string]any{
			"parameters":  map[string]any{"storageGB": int64(20)},
			"resourceRef": map[string]any{"apiVersion": "database.example.org/v1alpha1", "kind": "XPostgreSQLInstance", "name": xr},
		},
	}}
	x := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "database.example.org/v1alpha1", "kind": "XPostgreSQLInstance",
		"metadata": map[string]any{"name": xr},
		"spec": map[string]any{
			"claimRef":     map[string]any{"apiVersion": "database.example.org/v1alpha1", "kind": "PostgreSQLInstance", "name": claim, "namespace": sourcesNS},
			"resourceRefs": refs,
		},
	}}
	created, err := f.createWithStatus(ctx, dyn.Resource(xrGVR), x, nil)
	if err != nil {
		return err
	}
	if _, err := f.createWithStatus(ctx, dyn.Resource(claimGVR).Namespace(sourcesNS), c, nil); err != nil {
		return err
	}
	for _, mr := range mrs {
		m := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "rds.aws.upbound.io/v1beta1", "kind": "Instance",
			"metadata": map[string]any{
				"name": mr,
				"ownerReferences": []any{map[string]any{
					"apiVersion": "database.example.org/v1alpha1", "kind": "XPostgreSQLInstance",
					"name": xr, "uid": string(created.GetUID()), "controller": true,
				}},
				// What Crossplane puts on a composed resource.
				"labels": map[string]any{"crossplane.io/composite": xr, "crossplane.io/claim-name": claim, "crossplane.io/claim-namespace": sourcesNS},
				"annotations": map[string]any{
					"crossplane.io/composition-resource-name": "instance",
					"crossplane.io/external-name":             mr,
					"crossplane.io/external-create-pending":   "2026-01-01T00:00:00Z",
					"crossplane.io/external-create-succeeded": "2026-01-01T00:00:03Z",
				},
			},
			"spec": map[string]any{"forProvider": map[string]any{
				"region": "eu-west-1", "instanceClass": "db.t3.micro", "engine": "postgres", "engineVersion": "16.4",
				"allocatedStorage": int64(20), "username": "admin", "skipFinalSnapshot": true,
			}},
		}}
		// What the provider observes of the external resource.
		atProvider := map[string]any{
			"address": mr + ".c9akciq32.eu-west-1.rds.amazonaws.com", "arn": "arn:aws:rds:eu-west-1:123456789012:db:" + mr,
			"endpoint": mr + ".c9akciq32.eu-west-1.rds.amazonaws.com:5432", "engineVersionActual": "16.4",
			"hostedZoneId": "Z29XKXDKYMONMX", "id": mr, "port": int64(5432), "resourceId": "db-ABCDEFGHIJKLMNOPQRSTUVWXY",
			"status": "available", "storageType": "gp3", "latestRestorableTime": "2026-01-01T00:05:00Z",
		}
		if _, err := f.createWithStatus(ctx, dyn.Resource(instanceGVR), m, map[string]any{"atProvider": atProvider}); err != nil {
			return err
		}
	}
	return nil
}

// createWithStatus creates obj and then writes a Ready, Synced status, with the extra
// status fields given, through the status subresource, which ignores status on create.
func (f *fleet) createWithStatus(ctx context.Context, ri dynamic.ResourceInterface, obj *unstructured.Unstructured, extra map[string]any) (*unstructured.Unstructured, error) {
	f.requests.Add(2)
	created, err := ri.Create(ctx, obj, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("creating %s %s: %w", obj.GetKind(), obj.GetName(), err)
	}
	status := map[string]any{"conditions": []any{
		map[string]any{"type": "Synced", "status": "True", "reason": "ReconcileSuccess", "lastTransitionTime": "2026-01-01T00:00:00Z"},
		map[string]any{"type": "Ready", "status": "True", "reason": "Available", "lastTransitionTime": "2026-01-01T00:00:00Z"},
	}}
	maps.Copy(status, extra)
	created.Object["status"] = status
	if _, err := ri.UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		return nil, fmt.Errorf("writing the status of %s %s: %w", obj.GetKind(), obj.GetName(), err)
	}
	return created, nil
}

// application is a Healthy, Synced Argo CD Application of entity, with the status Argo
// CD keeps for an application of a handful of objects: the objects and their health,
// the last sync and its per-object results, three past syncs and a summary. Application
// has no status subresource: Argo CD writes status with the object, and so does the
// bench.
func application(name, entity string) *unstructured.Unstructured {
	const revision = "9f4c2e1b7a3d5e6f8a9b0c1d2e3f4a5b6c7d8e9f"
	source := map[string]any{"repoURL": "https://git.example.com/deploy.git", "path": entity, "targetRevision": "main"}
	objects := [][3]string{
		{"", "ServiceAccount", name}, {"", "ConfigMap", name + "-config"}, {"", "Service", name},
		{"apps", "Deployment", name}, {"autoscaling", "HorizontalPodAutoscaler", name}, {"networking.k8s.io", "Ingress", name},
	}
	var resources, results []any
	for _, o := range objects {
		version := "v1"
		if o[0] == "autoscaling" {
			version = "v2"
		}
		r := map[string]any{"group": o[0], "version": version, "kind": o[1], "namespace": entity, "name": o[2], "status": "Synced"}
		if o[1] == "Deployment" || o[1] == "Service" || o[1] == "Ingress" || o[1] == "HorizontalPodAutoscaler" {
			r["health"] = map[string]any{"status": "Healthy"}
		}
		resources = append(resources, r)
		results = append(results, map[string]any{"group": o[0], "version": version, "kind": o[1], "namespace": entity, "name": o[2],
			"status": "Synced", "message": fmt.Sprintf("%s/%s serverside-applied", o[1], o[2]), "hookPhase": "Running", "syncPhase": "Sync"})
	}
	var history []any
	for i := range 3 {
		history = append(history, map[string]any{"id": int64(i), "revision": revision, "source": source,
			"deployedAt": fmt.Sprintf("2026-01-0%dT00:00:00Z", i+1), "deployStartedAt": fmt.Sprintf("2026-01-0%dT00:00:00Z", i+1)})
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
		"metadata": map[string]any{
			"name": name, "namespace": argocdNS, "labels": map[string]any{idLabel: entity},
			// What Argo CD's notifications controller records on an application.
			"annotations": map[string]any{"notified.notifications.argoproj.io": `{"on-deployed:` + revision + `:slack:payments-deploys":1767225600}`},
		},
		"spec": map[string]any{
			"project":     "default",
			"source":      source,
			"destination": map[string]any{"server": "https://kubernetes.default.svc", "namespace": entity},
			"syncPolicy":  map[string]any{"automated": map[string]any{"prune": true, "selfHeal": true}, "syncOptions": []any{"ServerSideApply=true"}},
		},
		"status": map[string]any{
			"health":    map[string]any{"status": "Healthy", "lastTransitionTime": "2026-01-01T00:01:00Z"},
			"sync":      map[string]any{"status": "Synced", "revision": revision, "comparedTo": map[string]any{"source": source, "destination": map[string]any{"server": "https://kubernetes.default.svc", "namespace": entity}}},
			"resources": resources,
			"history":   history,
			"operationState": map[string]any{
				"phase": "Succeeded", "message": "successfully synced (all tasks run)", "startedAt": "2026-01-03T00:00:00Z", "finishedAt": "2026-01-03T00:00:05Z",
				"operation":  map[string]any{"sync": map[string]any{"revision": revision, "syncOptions": []any{"ServerSideApply=true"}}, "initiatedBy": map[string]any{"automated": true}},
				"syncResult": map[string]any{"revision": revision, "source": source, "resources": results},
			},
			// Reconciled as the fleet is made: an Application Argo CD has not refreshed for
			// longer than --argocd-stale-after would read Unknown (see the manager's flags).
			"reconciledAt": time.Now().UTC().Format(time.RFC3339), "sourceType": "Kustomize", "controllerNamespace": "argocd",
			"summary": map[string]any{"images": []any{"registry.example.com/" + entity + "/api:1.42.0"}, "externalURLs": []any{"https://" + entity + ".example.com"}},
		},
	}}
}

// workflow is a Succeeded standalone Argo Workflow of entity: named, not generated, so
// that each is its own group of runs and so its own source.
func workflow(name, entity string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
		"metadata": map[string]any{"name": name, "namespace": sourcesNS, "labels": map[string]any{idLabel: entity}},
		"spec": map[string]any{
			"entrypoint": "main",
			"templates":  []any{map[string]any{"name": "main", "container": map[string]any{"image": "busybox", "command": []any{"true"}}}},
		},
		"status": map[string]any{
			"phase":             "Succeeded",
			"startedAt":         "2026-01-01T00:00:00Z",
			"finishedAt":        "2026-01-01T00:01:00Z",
			"progress":          "1/1",
			"estimatedDuration": int64(60),
			"resourcesDuration": map[string]any{"cpu": int64(12), "memory": int64(30)},
			// The node graph of a one-step run, as the workflow controller keeps it.
			"nodes": map[string]any{
				name: map[string]any{"id": name, "name": name, "displayName": name, "type": "Pod", "templateName": "main",
					"phase": "Succeeded", "boundaryID": name, "startedAt": "2026-01-01T00:00:00Z", "finishedAt": "2026-01-01T00:01:00Z",
					"progress": "1/1", "resourcesDuration": map[string]any{"cpu": int64(12), "memory": int64(30)},
					"hostNodeName": "worker-3", "outputs": map[string]any{"exitCode": "0"}},
			},
			"conditions": []any{map[string]any{"type": "PodRunning", "status": "False"}, map[string]any{"type": "Completed", "status": "True"}},
		},
	}}
}
