package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"syscall"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/entityhub/entityhub/controllers/sources"
	"github.com/entityhub/entityhub/controllers/sources/argocd"
	"github.com/entityhub/entityhub/controllers/sources/crossplane"
	"github.com/entityhub/entityhub/controllers/sources/workflows"
	"github.com/entityhub/entityhub/controllers/watches"
)

// kindCost is what one source kind costs to list and to keep.
type kindCost struct {
	name    string
	objects int
	// servedBytes is an object's JSON as the API server serves it, managedFields and all;
	// plainBytes the heap it takes in a plain informer (unstructured, nothing dropped);
	// cacheBytes the heap it takes in the manager's watch of the kind (stripped, compact,
	// with its share of the store and indexes).
	servedBytes, plainBytes, cacheBytes float64
	// bareList and cacheList are the time from start to synced of a bare client-go
	// informer and of the manager's watch.
	bareList, cacheList time.Duration
	// serverCPU and clientCPU are the CPU seconds the bare informer's list cost the API
	// server and this process.
	serverCPU, clientCPU float64
}

// sample is objects of one source kind, as listed, and the kind the manager reads them as.
type sample struct {
	kind    sources.Kind
	objects []*unstructured.Unstructured
}

// costKinds are the fleet's kinds in the order the tables list them; role names the
// Crossplane ones.
var costKinds = []struct {
	gvr  schema.GroupVersionResource
	role string
}{
	{appGVR, ""}, {workflowGVR, ""}, {instanceGVR, "managed"}, {xrGVR, "composite"}, {claimGVR, "claim"},
}

// samplesKept is how many objects of each kind are kept to make entities' sources of.
const samplesKept = 100

// measureKinds lists each kind of the fleet twice — with a bare client-go informer, the
// floor, and with the manager's own watch (package watches: its transform, compact store
// and indexes) — and measures the time each takes and the heap each keeps per object.
// It returns a sample of each kind's objects, as listed.
func (r *costs) measureKinds(ctx context.Context, cfg *rest.Config, cl client.Client, dyn dynamic.Interface,
	kube kubernetes.Interface) (map[schema.GroupVersionResource]sample, error) {
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	mapper, err := apiutil.NewDynamicRESTMapper(cfg, hc)
	if err != nil {
		return nil, err
	}
	w, err := watches.New(watches.Options{Dynamic: dyn, Mapper: mapper})
	if err != nil {
		return nil, err
	}
	go func() { _ = w.Start(ctx) }()
	registry := sources.NewRegistry(&argocd.Family{}, crossplane.Family{}, workflows.Family{})

	out := map[schema.GroupVersionResource]sample{}
	for _, ck := range costKinds {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := cl.Get(ctx, client.ObjectKey{Name: ck.gvr.Resource + "." + ck.gvr.Group}, crd); err != nil {
			return nil, fmt.Errorf("reading the CRD of %s: %w", ck.gvr.Resource, err)
		}
		kinds := registry.KindsFor(crd)
		if len(kinds) != 1 {
			return nil, fmt.Errorf("the manager makes %d source kinds of CRD %s, not one", len(kinds), crd.Name)
		}
		k := kindCost{name: kinds[0].GVK.Kind}
		if ck.role != "" {
			k.name += " (" + ck.role + ")"
		}
		say("Listing %s", k.name)
		objs, err := bareList(ctx, dyn, kube, r.idle, ck.gvr, &k)
		if err != nil {
			return nil, err
		}
		out[ck.gvr] = sample{kind: kinds[0], objects: objs}
		if err := watchList(ctx, w, crd.Name, kinds[0], &k); err != nil {
			return nil, err
		}
		r.kinds = append(r.kinds, k)
	}
	return out, nil
}

// bareList lists gvr with a plain dynamic informer, as any client-go controller would,
// and fills in the time it took to sync, the CPU it cost the API server and this
// process, the heap it keeps and the size of the objects as served. It returns the first samplesKept objects by name.
func bareList(ctx context.Context, dyn dynamic.Interface, kube kubernetes.Interface, idle float64, gvr schema.GroupVersionResource,
	k *kindCost) ([]*unstructured.Unstructured, error) {
	ictx, stop := context.WithCancel(ctx)
	factory := dynamicinformer.NewDynamicSharedInformerFactory(dyn, 0)
	// Shutdown waits for the informer, which ends with ictx.
	defer func() { stop(); factory.Shutdown() }()
	inf := factory.ForResource(gvr).Informer()

	if err := pause(ctx, costSettle); err != nil {
		return nil, err
	}
	before := heapLive()
	var err error
	ownCPU := processCPU()
	k.serverCPU, k.bareList, err = serverCPU(ctx, kube, idle, func() error {
		factory.Start(ictx.Done())
		for !inf.HasSynced() {
			if err := pause(ctx, 5*time.Millisecond); err != nil {
				return err
			}
		}
		return nil
	})
	k.clientCPU = processCPU() - ownCPU
	if err != nil {
		return nil, err
	}
	items := inf.GetStore().List()
	k.objects = len(items)
	k.plainBytes = perObject(before, heapLive(), len(items))

	objs := make([]*unstructured.Unstructured, 0, len(items))
	for _, it := range items {
		if u, ok := it.(*unstructured.Unstructured); ok {
			objs = append(objs, u)
		}
	}
	if len(objs) == 0 {
		return nil, fmt.Errorf("listed no %s", gvr.Resource)
	}
	sort.Slice(objs, func(i, j int) bool { return objs[i].GetName() < objs[j].GetName() })
	var served int
	for _, u := range objs {
		raw, err := json.Marshal(u.Object)
		if err != nil {
			return nil, err
		}
		served += len(raw)
	}
	k.servedBytes = float64(served) / float64(len(objs))
	kept := make([]*unstructured.Unstructured, 0, samplesKept)
	for _, u := range objs[:min(samplesKept, len(objs))] {
		kept = append(kept, u.DeepCopy())
	}
	return kept, nil
}

// watchList starts the manager's watch of kind k (CRD crd) on w and fills in the time to
// synced and the heap it keeps per object; then it stops the watch.
func watchList(ctx context.Context, w *watches.Manager, crd string, kind sources.Kind, k *kindCost) error {
	before := heapLive()
	t := time.Now()
	if _, err := w.Ensure(ctx, crd, []sources.Kind{kind}); err != nil {
		return err
	}
	defer w.StopCRD(ctx, crd)
	for {
		state, why, _ := w.StateOf(kind.GVK)
		if state == watches.Synced {
			break
		}
		if state == watches.Unavailable {
			return fmt.Errorf("the manager's watch of %s: %s", kind.GVK, why)
		}
		if err := pause(ctx, 5*time.Millisecond); err != nil {
			return err
		}
	}
	k.cacheList = time.Since(t)
	k.cacheBytes = perObject(before, heapLive(), k.objects)
	return nil
}

// pause waits d, or until ctx ends.
func pause(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// processCPU is the CPU seconds this process has used, user and system.
func processCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
