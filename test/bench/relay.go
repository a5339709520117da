package main

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// seqPattern finds the sequence number the bench writes into a source's health message;
// it travels through the manager into the entity's status, and through the relay into
// its ConfigMap.
var seqPattern = regexp.MustCompile(`bench-seq-(\d+)`)

func seqMessage(seq int64) string { return fmt.Sprintf("bench-seq-%d changed by the bench", seq) }

// relayAll has the relay react to the Applications of entities too, not only to the
// solo ones: on for the runs that time the manager and the relay side by side, off
// while the manager's ramp runs alone.
var relayAll atomic.Bool

// startRelay runs the floor the manager is compared with: a client-go informer on the
// same Applications that, with no logic beyond carrying the sequence number, writes one
// object (a ConfigMap of the Application's entity) per event, with as many workers as
// the manager reconciles entities at once. It runs in the bench process; the manager
// runs as its own process.
func startRelay(ctx context.Context, dyn dynamic.Interface, kube kubernetes.Interface, workers int) error {
	type write struct {
		entity string
		seq    string
	}
	queue := make(chan write, 10000)
	for w := 0; w < workers; w++ {
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case wr := <-queue:
					patch := fmt.Appendf(nil, `{"data":{"seq":%q}}`, wr.seq)
					// Errors are not retried: a lost relay write shows as a missed change.
					_, _ = kube.CoreV1().ConfigMaps(relayNS).Patch(ctx, "relay-"+wr.entity, types.MergePatchType, patch, metav1.PatchOptions{})
				}
			}
		}()
	}
	factory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(dyn, 0, argocdNS, nil)
	inf := factory.ForResource(appGVR).Informer()
	return runInformer(ctx, inf, cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, obj any) {
			u, ok := obj.(*unstructured.Unstructured)
			if !ok {
				return
			}
			msg, _, _ := unstructured.NestedString(u.Object, "status", "health", "message")
			m := seqPattern.FindStringSubmatch(msg)
			if m == nil {
				return
			}
			entity := u.GetLabels()[soloLabel]
			if entity == "" {
				if !relayAll.Load() {
					return
				}
				entity = u.GetLabels()[idLabel]
			}
			select {
			case queue <- write{entity: entity, seq: m[1]}:
			default: // a full queue drops, as a change the relay could not keep up with
			}
		},
	}, factory.Start, "the relay's Application informer")
}

// watchRelay calls seen with the sequence number of every relay write, as a watcher
// receives it.
func watchRelay(ctx context.Context, kube kubernetes.Interface, seen func(entity string, seq int64, at time.Time)) error {
	factory := informers.NewSharedInformerFactoryWithOptions(kube, 0, informers.WithNamespace(relayNS))
	inf := factory.Core().V1().ConfigMaps().Informer()
	handle := func(obj any) {
		at := time.Now()
		cm, ok := obj.(*corev1.ConfigMap)
		if !ok {
			return
		}
		seq, err := strconv.ParseInt(cm.Data["seq"], 10, 64)
		if err != nil || seq == 0 {
			return
		}
		seen(cm.Name[len("relay-"):], seq, at)
	}
	return runInformer(ctx, inf, cache.ResourceEventHandlerFuncs{
		AddFunc:    handle,
		UpdateFunc: func(_, obj any) { handle(obj) },
	}, factory.Start, "the relay watcher's informer")
}

// watchEntities calls seen with every sequence number an entity's status shows, in
// status.message or any status.sources[].message, as a watcher receives it.
func watchEntities(ctx context.Context, dyn dynamic.Interface, seen func(entity string, seq int64, at time.Time)) error {
	factory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(dyn, 0, catalogNS, nil)
	inf := factory.ForResource(entityGVR).Informer()
	handle := func(obj any) {
		at := time.Now()
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			return
		}
		msgs := []string{}
		if m, ok, _ := unstructured.NestedString(u.Object, "status", "message"); ok {
			msgs = append(msgs, m)
		}
		srcs, _, _ := unstructured.NestedSlice(u.Object, "status", "sources")
		for _, s := range srcs {
			if sm, ok := s.(map[string]any); ok {
				if m, ok := sm["message"].(string); ok {
					msgs = append(msgs, m)
				}
			}
		}
		for _, m := range msgs {
			for _, match := range seqPattern.FindAllStringSubmatch(m, -1) {
				if seq, err := strconv.ParseInt(match[1], 10, 64); err == nil {
					seen(u.GetName(), seq, at)
				}
			}
		}
	}
	return runInformer(ctx, inf, cache.ResourceEventHandlerFuncs{
		AddFunc:    handle,
		UpdateFunc: func(_, obj any) { handle(obj) },
	}, factory.Start, "the entity watcher's informer")
}

// runInformer feeds inf's events to h, starts the factory's informers with start, and
// waits until inf has listed; what names it in the error.
func runInformer(ctx context.Context, inf cache.SharedIndexInformer, h cache.ResourceEventHandler,
	start func(<-chan struct{}), what string) error {
	if _, err := inf.AddEventHandler(h); err != nil {
		return err
	}
	start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return fmt.Errorf("%s did not sync", what)
	}
	return nil
}
