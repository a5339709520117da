package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// writeCost is what one kind of write cost the API server.
type writeCost struct {
	what    string
	sources int // of the entity written; 0 for a write of another kind
	// objectBytes is the object's JSON as served after the writes, managedBytes the part
	// of it that is metadata.managedFields; patchBytes one write's body.
	objectBytes, managedBytes, patchBytes float64
	writes                                int
	cpu                                   float64 // API server CPU seconds, idle taken off
	took                                  time.Duration
	lat                                   []time.Duration
}

// measureWrites measures the two writes a status write is compared with — the relay's
// ConfigMap patch and the source change the bench makes, an Application's status patch
// as Argo CD writes it — then, for each entity size, the create, the first status write
// and the change writes of costEntities entities, and the cache bytes of one entity.
func (r *costs) measureWrites(ctx context.Context, cfg *rest.Config, cl client.Client, kube kubernetes.Interface,
	dyn dynamic.Interface, f *fleet, samples map[schema.GroupVersionResource]sample, writes int) error {
	// These cost a tenth of a status write: three times as many make a window as long.
	cmPatch := func(j int) []byte { return fmt.Appendf(nil, `{"data":{"seq":%q}}`, strconv.Itoa(j+1)) }
	cm := writeCost{what: "ConfigMap merge patch (the relay's)", writes: 3 * writes, patchBytes: float64(len(cmPatch(writes)))}
	say("Timing %d ConfigMap merge patches (the relay's write)", cm.writes)
	cms := dyn.Resource(corev1.SchemeGroupVersion.WithResource("configmaps")).Namespace(relayNS)
	if err := r.watchedWrites(ctx, kube, cl, cm, cms, func(j int) error {
		_, err := kube.CoreV1().ConfigMaps(relayNS).Patch(ctx, "relay-"+f.entities[j%len(f.entities)], types.MergePatchType, cmPatch(j), metav1.PatchOptions{})
		return err
	}, corev1.SchemeGroupVersion.WithKind("ConfigMap"), client.ObjectKey{Namespace: relayNS, Name: "relay-" + f.entities[0]}); err != nil {
		return err
	}

	// Argo CD writes reconciledAt with every refresh that changes health; Application has
	// no status subresource (see the freshness phase's write).
	appPatch := func(j int) []byte {
		return fmt.Appendf(nil, `{"status":{"health":{"status":"Degraded","message":%q},"reconciledAt":%q}}`,
			seqMessage(int64(j+1)), time.Now().UTC().Format(time.RFC3339))
	}
	app := writeCost{what: "Application merge patch (a source's change)", writes: 3 * writes, patchBytes: float64(len(appPatch(writes)))}
	say("Timing %d Application status patches (a source's change)", app.writes)
	apps := dyn.Resource(appGVR).Namespace(argocdNS)
	if err := r.watchedWrites(ctx, kube, cl, app, apps, func(j int) error {
		name := f.flipApp[f.entities[j%len(f.entities)]]
		_, err := apps.Patch(ctx, name, types.MergePatchType, appPatch(j), metav1.PatchOptions{})
		return err
	}, appGVK, client.ObjectKey{Namespace: argocdNS, Name: f.flipApp[f.entities[0]]}); err != nil {
		return err
	}

	for _, n := range costSourceCounts {
		in, err := entitySources(samples, n, r.fleet.MRsPerClaim)
		if err != nil {
			return err
		}
		if err := r.measureEntities(ctx, cfg, cl, kube, in, n, writes); err != nil {
			return err
		}
	}
	return nil
}

// appGVK is the kind of appGVR.
var appGVK = appGVR.GroupVersion().WithKind("Application")

// watchedWrites makes wc's writes with write while the objects of ri are watched, as
// the manager and the relay watch what they write, and adds wc with the size of the
// object key to the table.
func (r *costs) watchedWrites(ctx context.Context, kube kubernetes.Interface, cl client.Client, wc writeCost,
	ri dynamic.ResourceInterface, write func(j int) error, gvk schema.GroupVersionKind, key client.ObjectKey) error {
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	// A watch from now on, without the list an informer would begin with: what is
	// measured is what each write costs to send to a watcher.
	list, err := ri.List(wctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		return err
	}
	w, err := ri.Watch(wctx, metav1.ListOptions{ResourceVersion: list.GetResourceVersion()})
	if err != nil {
		return err
	}
	go func() {
		for range w.ResultChan() { // drained until the watch ends with wctx
		}
	}()
	defer w.Stop()
	if err := wc.run(ctx, kube, r.idle, write); err != nil {
		return err
	}
	if err := wc.measureSize(ctx, cl, gvk, key); err != nil {
		return err
	}
	r.writes = append(r.writes, wc)
	return nil
}

// run makes wc.writes writes with write, timing each, and fills in the API server's CPU
// over them.
func (wc *writeCost) run(ctx context.Context, kube kubernetes.Interface, idle float64, write func(j int) error) error {
	if err := pause(ctx, costSettle); err != nil {
		return err
	}
	var err error
	wc.cpu, wc.took, err = serverCPU(ctx, kube, idle, func() error {
		var werr error
		wc.lat, werr = timedWrites(ctx, wc.writes, write)
		return werr
	})
	return err
}

// measureSize fills in the size of the object written, as served now.
func (wc *writeCost) measureSize(ctx context.Context, cl client.Client, gvk schema.GroupVersionKind, key client.ObjectKey) error {
	var err error
	wc.objectBytes, wc.managedBytes, err = servedSize(ctx, cl, gvk, key)
	return err
}

// timedWrites makes n writes with costWorkers workers and returns how long each took.
// Worker w makes writes w, w+costWorkers, …: a write j and the next one of the same
// object, j+len(objects), fall to the same worker as long as the number of objects is a
// multiple of costWorkers, so that no object is written twice at once.
func timedWrites(ctx context.Context, n int, write func(j int) error) ([]time.Duration, error) {
	lat := make([]time.Duration, n)
	errs := make([]error, costWorkers)
	var wg sync.WaitGroup
	for w := range costWorkers {
		wg.Go(func() {
			for j := w; j < n && ctx.Err() == nil; j += costWorkers {
				t := time.Now()
				if err := write(j); err != nil {
					errs[w] = err
					return
				}
				lat[j] = time.Since(t)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return lat, ctx.Err()
}

// servedSize returns the JSON size of an object as the API server serves it, and of its
// managedFields.
func servedSize(ctx context.Context, cl client.Client, gvk schema.GroupVersionKind, key client.ObjectKey) (object, managed float64, err error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	if err := cl.Get(ctx, key, u); err != nil {
		return 0, 0, err
	}
	raw, err := json.Marshal(u.Object)
	if err != nil {
		return 0, 0, err
	}
	mf, err := json.Marshal(u.GetManagedFields())
	if err != nil {
		return 0, 0, err
	}
	return float64(len(raw)), float64(len(mf)), nil
}
