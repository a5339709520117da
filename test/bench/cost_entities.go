package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/catalogentity"
	"github.com/entityhub/entityhub/controllers/entitystatus"
	"github.com/entityhub/entityhub/controllers/membership"
	"github.com/entityhub/entityhub/controllers/setup"
	"github.com/entityhub/entityhub/controllers/watches"
)

// entityCost is what the manager's cache keeps per CatalogEntity of a size.
type entityCost struct {
	sources, objects        int
	servedBytes, cacheBytes float64
}

// sourcesLabel tells the entities of each size apart, so that the cache of one size can
// be measured alone.
const sourcesLabel = "bench.entityhub.dev/sources"

// entityInput is what an entity's status is computed from, as the manager collects it,
// and the members its spec is made from.
type entityInput struct {
	in      entitystatus.Input
	members []membership.Member
	// flip is the index in in.Sources of the Application whose message each change
	// write changes.
	flip int
}

// measureEntities creates costEntities entities of n sources, writes their first status,
// measures the manager's cache of them, and then makes writes change writes, each of
// one source's message.
func (r *costs) measureEntities(ctx context.Context, cfg *rest.Config, cl client.Client, kube kubernetes.Interface,
	src entityInput, n, writes int) error {
	say("Timing entities of %d sources: %d creates, %d first status writes, %d change writes", n, costEntities, costEntities, writes)
	entities := newEntities(src, n)
	// Every write is watched, as the manager watches its entities.
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	if err := startEntityCache(wctx, cfg, n); err != nil {
		return err
	}
	key := client.ObjectKeyFromObject(entities[0])
	gvk := catalogv1alpha1.GroupVersion.WithKind("CatalogEntity")

	create := writeCost{what: "CatalogEntity create", sources: n, writes: costEntities}
	if err := create.run(ctx, kube, r.idle, func(j int) error { return cl.Create(ctx, entities[j], catalogentity.FieldOwner) }); err != nil {
		return fmt.Errorf("creating entities: %w", err)
	}
	if err := create.measureSize(ctx, cl, gvk, key); err != nil {
		return err
	}

	first := writeCost{what: "CatalogEntity first status write", sources: n, writes: costEntities}
	if err := first.run(ctx, kube, r.idle, func(j int) error {
		in := src.in
		in.Generation = entities[j].Generation
		return patchStatus(ctx, cl, entities[j], entitystatus.Status(catalogv1alpha1.CatalogEntityStatus{}, in), sizeOf(j, &first))
	}); err != nil {
		return fmt.Errorf("writing first statuses: %w", err)
	}
	if err := first.measureSize(ctx, cl, gvk, key); err != nil {
		return err
	}

	ec := entityCost{sources: n, objects: costEntities, servedBytes: first.objectBytes}
	var err error
	if ec.cacheBytes, err = entityCacheBytes(ctx, cfg, n); err != nil {
		return err
	}

	change := writeCost{what: "CatalogEntity status write (one source's message)", sources: n, writes: writes}
	if err := change.run(ctx, kube, r.idle, func(j int) error {
		e := entities[j%costEntities]
		in := src.in
		in.Generation = e.Generation
		in.Sources = append([]catalogv1alpha1.SourceStatus(nil), in.Sources...)
		in.Sources[src.flip].Message = seqMessage(int64(j + 1))
		in.Now = metav1.Now()
		return patchStatus(ctx, cl, e, entitystatus.Status(e.Status, in), sizeOf(j, &change))
	}); err != nil {
		return fmt.Errorf("writing statuses: %w", err)
	}
	if err := change.measureSize(ctx, cl, gvk, key); err != nil {
		return err
	}
	r.writes = append(r.writes, create, first, change)
	r.entity = append(r.entity, ec)
	return nil
}

// newEntities returns costEntities entities of src's sources, as the manager creates
// them for discovered sources (catalogentity's createIfDiscovered).
func newEntities(src entityInput, n int) []*catalogv1alpha1.CatalogEntity {
	spec, _ := membership.NewEntitySpec(src.members, "group:default/platform-team")
	entities := make([]*catalogv1alpha1.CatalogEntity, costEntities)
	for i := range entities {
		name := fmt.Sprintf("cost-%03d-%04d", n, i)
		entities[i] = &catalogv1alpha1.CatalogEntity{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: catalogNS, Labels: map[string]string{
				catalogv1alpha1.ManagedByLabel: catalogv1alpha1.ManagedByValue, catalogv1alpha1.KubernetesIDLabel: name,
				sourcesLabel: strconv.Itoa(n),
			}},
			Spec: *spec.DeepCopy(),
		}
	}
	return entities
}

// entityCacheBytes is what the manager's cache keeps per entity of n sources: a cache of
// its own, made as the manager's, measured alone once the entities' watch has taken in
// their last writes.
func entityCacheBytes(ctx context.Context, cfg *rest.Config, n int) (float64, error) {
	if err := pause(ctx, time.Second); err != nil {
		return 0, err
	}
	mctx, stop := context.WithCancel(ctx)
	defer stop()
	before := heapLive()
	if err := startEntityCache(mctx, cfg, n); err != nil {
		return 0, err
	}
	return perObject(before, heapLive(), costEntities), nil
}

// patchStatus writes next to entity's status as the manager does (catalogentity's
// patchStatus): a JSON merge patch of the status subresource against the status the
// server has, as the manager's field owner. When size is not nil, it is set to the
// size of the patch.
func patchStatus(ctx context.Context, cl client.Client, entity *catalogv1alpha1.CatalogEntity, next catalogv1alpha1.CatalogEntityStatus, size *float64) error {
	base := entity.DeepCopy()
	entity.Status = next
	patch := client.MergeFrom(base)
	if size != nil {
		data, err := patch.Data(entity)
		if err != nil {
			return err
		}
		*size = float64(len(data))
	}
	return cl.Status().Patch(ctx, entity, patch, catalogentity.FieldOwner)
}

// sizeOf is where write j of wc records the size of its patch: the first write does.
func sizeOf(j int, wc *writeCost) *float64 {
	if j == 0 {
		return &wc.patchBytes
	}
	return nil
}

// startEntityCache starts a cache of the entities of n sources made as the manager makes
// its cache (setup.CacheOptions: its transform), and waits for it to sync. It runs until
// ctx ends.
func startEntityCache(ctx context.Context, cfg *rest.Config, n int) error {
	opts := setup.CacheOptions(setup.Options{})
	opts.Scheme = setup.Scheme()
	for obj, by := range opts.ByObject {
		if _, ok := obj.(*catalogv1alpha1.CatalogEntity); ok {
			by.Label = labels.SelectorFromSet(labels.Set{sourcesLabel: strconv.Itoa(n)})
			opts.ByObject[obj] = by
		}
	}
	c, err := cache.New(cfg, opts)
	if err != nil {
		return err
	}
	go func() { _ = c.Start(ctx) }()
	if _, err := c.GetInformer(ctx, &catalogv1alpha1.CatalogEntity{}); err != nil {
		return fmt.Errorf("caching entities: %w", err)
	}
	if !c.WaitForCacheSync(ctx) {
		return fmt.Errorf("the cache of entities of %d sources did not sync", n)
	}
	return nil
}

// sourcePattern is the fleet's make-up of one entity, as a repeating pattern of kinds:
// per Application, a Workflow and a claim tree (the claim, its composite and its
// managed resources). With 5 managed resources per claim, 45 sources are the bench's
// entity: 5 of each and 25 managed resources.
func sourcePattern(mrsPerClaim int) []schema.GroupVersionResource {
	p := []schema.GroupVersionResource{appGVR, workflowGVR, claimGVR, xrGVR}
	for range mrsPerClaim {
		p = append(p, instanceGVR)
	}
	return p
}

// entitySources makes the sources of an entity of n sources from the sampled objects,
// each read as the manager reads it (watches.CachedCopy, the kind's mapper) into the
// entry the manager writes (catalogentity's collect); claims and composites read
// ready as all their composed resources.
func entitySources(samples map[schema.GroupVersionResource]sample, n, mrsPerClaim int) (entityInput, error) {
	out := entityInput{in: entitystatus.Input{Now: metav1.Now()}, flip: -1}
	pattern := sourcePattern(mrsPerClaim)
	used := map[schema.GroupVersionResource]int{}
	for i := range n {
		gvr := pattern[i%len(pattern)]
		s := samples[gvr]
		if len(s.objects) == 0 {
			return out, fmt.Errorf("no sample of %s", gvr.Resource)
		}
		obj := s.objects[used[gvr]%len(s.objects)]
		used[gvr]++
		cached, err := watches.CachedCopy(s.kind, obj)
		if err != nil {
			return out, err
		}
		res := s.kind.Map(cached)
		id := membership.SourceID(s.kind.GVK, obj.GetNamespace(), obj.GetName())
		entry := catalogv1alpha1.SourceStatus{ID: id, APIVersion: obj.GetAPIVersion(), Kind: obj.GetKind(),
			Namespace: obj.GetNamespace(), Name: obj.GetName(), Cluster: res.Cluster, Health: res.Health, Sync: res.Sync,
			Phase: res.Phase, Message: res.Message}
		if s.kind.Children != nil {
			entry.Ready = fmt.Sprintf("%d/%d", mrsPerClaim, mrsPerClaim)
		}
		if res.Revision != "" {
			out.in.Revisions = append(out.in.Revisions, res.Revision)
		}
		if s.kind.RunOf != nil {
			if run, ok := s.kind.RunOf(cached); ok {
				// The fleet's runs have both times; catalogentity leaves out a zero one.
				started, finished := metav1.NewTime(run.Started), metav1.NewTime(run.Finished)
				out.in.Runs = append(out.in.Runs, catalogv1alpha1.RunStatus{Name: run.Name, Namespace: run.Namespace,
					Phase: run.Phase, StartedAt: &started, FinishedAt: &finished})
				out.in.LastRun = run.Phase
			}
		}
		if gvr == appGVR && out.flip < 0 {
			// The Application the changes are made to, Degraded from the first write on,
			// as in the bench's freshness phase.
			out.flip = len(out.in.Sources)
			entry.Health, entry.Message = catalogv1alpha1.HealthDegraded, seqMessage(0)
		}
		out.in.Sources = append(out.in.Sources, entry)
		out.members = append(out.members, membership.Member{ID: id, Family: s.kind.Family, Kind: s.kind.GVK.Kind})
	}
	return out, nil
}
