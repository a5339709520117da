package main

// Cost mode (-cost) measures the unit costs docs/performance.md builds its scaling model
// from, on one local control plane and without the manager binary: what one write costs
// the API server, against how many sources the entity lists; what the manager's caches
// hold per object of each kind; and how fast a kind can be listed at all. The model
// multiplies them out to hubs far larger than this machine can hold.

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/entityhub/entityhub/controllers/setup"
)

var (
	costMode = flag.Bool("cost", false, "Measure the cost model of docs/performance.md instead of the bench: API server CPU per "+
		"status write against sources per entity, cache bytes per source object by kind, listing rate (about 3 minutes on 2 cores).")
	costWrites = flag.Int("cost-writes", 1000, "With -cost: status writes timed per entity size (three times as many of the cheaper writes compared with them).")
)

// costFleet is the fleet cost mode lists and caches: a few thousand objects of each kind,
// enough for a listing rate and a stable figure of bytes per object in a few minutes on
// 2 cores. -apps, -mrs, -workflows and -entities override it.
var costFleet = sizes{Apps: 5000, MRs: 5000, Workflows: 2000, Entities: 1000, MRsPerClaim: 5}

// costSourceCounts are the sources per entity the status write is measured at: one, a
// small entity, the bench's entity (5 Applications, 5 Workflows and 5 claim trees of 5
// managed resources), and MaxStatusSources, the most status lists.
var costSourceCounts = []int{1, 10, 45, 100}

// costEntities is how many entities of each size are created; their writes go round
// robin over them, so that every write patches an entity whose last write is done.
const costEntities = 200

// costWorkers write at once, as many as the manager's default reconcilers.
const costWorkers = 4

// costSettle is how long the API server is left alone before each measurement, so that
// the collection of what the last one left behind is not counted in the next.
const costSettle = 2 * time.Second

// costs is what cost mode measured, ready to print.
type costs struct {
	fleet   sizes
	idle    float64 // the API server's CPU, in cores, while nobody asks anything of it
	kinds   []kindCost
	writes  []writeCost
	entity  []entityCost
	took    time.Duration
	created time.Duration
}

// runCost runs cost mode and returns the process's exit code; main calls it when -cost
// is set.
func runCost(c config) int {
	if err := cost(c); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	return 0
}

func cost(c config) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The caches and watches cost mode runs log through controller-runtime; their logs
	// say nothing the tables do not.
	logf.SetLogger(logr.Discard())
	began := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	env, cfg, err := startControlPlane()
	if err != nil {
		cancel()
		return err
	}
	// Informers end with ctx, before the control plane stops, so that their watches do
	// not hold the API server open.
	defer func() { cancel(); stopControlPlane(env) }()
	b := &bench{c: c, began: began}
	if b.dir, err = os.MkdirTemp("", "entityhub-cost-"); err != nil {
		return err
	}
	defer b.removeDir()
	if err := b.connect(env, cfg); err != nil {
		return err
	}
	// The clients cost mode adds are as little a limit as connect's.
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 500, 1000
	cl, err := client.New(cfg, client.Options{Scheme: setup.Scheme()})
	if err != nil {
		return err
	}

	r := &costs{fleet: costFleet}
	for _, o := range []struct{ v, from *int }{{&r.fleet.Apps, &c.sz.Apps}, {&r.fleet.MRs, &c.sz.MRs},
		{&r.fleet.Workflows, &c.sz.Workflows}, {&r.fleet.Entities, &c.sz.Entities}} {
		if *o.from > 0 {
			*o.v = *o.from
		}
	}
	say("Creating %d Applications, %d managed resources, %d Workflows", r.fleet.Apps, r.fleet.MRs, r.fleet.Workflows)
	t := time.Now()
	f, err := buildFleet(ctx, b.dyn, b.kube, r.fleet, c.workers)
	if err != nil {
		return fmt.Errorf("creating the fleet: %w", err)
	}
	r.created = time.Since(t)
	if r.idle, err = idleCores(ctx, b.kube, 5*time.Second); err != nil {
		return err
	}
	say("The API server idles at %.3f cores; that is taken off every CPU figure", r.idle)

	samples, err := r.measureKinds(ctx, cfg, cl, b.dyn, b.kube)
	if err != nil {
		return err
	}
	if err := r.measureWrites(ctx, cfg, cl, b.kube, b.dyn, f, samples, *costWrites); err != nil {
		return err
	}
	r.took = time.Since(b.began)
	fmt.Println()
	r.print(os.Stdout)
	return nil
}

// idleCores is the API server's CPU use over d, in cores, while the bench asks nothing.
func idleCores(ctx context.Context, kube kubernetes.Interface, d time.Duration) (float64, error) {
	before, err := readServerLoad(ctx, kube)
	if err != nil {
		return 0, err
	}
	t := time.Now()
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-time.After(d):
	}
	after, err := readServerLoad(ctx, kube)
	if err != nil {
		return 0, err
	}
	return max(after.cpu-before.cpu, 0) / time.Since(t).Seconds(), nil
}

// serverCPU runs fn and returns the API server's CPU seconds over it, less what it
// spends idle, and how long fn took.
func serverCPU(ctx context.Context, kube kubernetes.Interface, idle float64, fn func() error) (float64, time.Duration, error) {
	before, err := readServerLoad(ctx, kube)
	if err != nil {
		return 0, 0, err
	}
	t := time.Now()
	if err := fn(); err != nil {
		return 0, 0, err
	}
	took := time.Since(t)
	after, err := readServerLoad(ctx, kube)
	if err != nil {
		return 0, 0, err
	}
	return max(after.cpu-before.cpu-idle*took.Seconds(), 0), took, nil
}

// heapLive is the bytes of this process's heap that are reachable, after a collection.
func heapLive() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// perObject is the heap grown from before to after, per object; negative growth (a
// collection freed more than was added) reads as zero.
func perObject(before, after uint64, n int) float64 {
	if after < before || n == 0 {
		return 0
	}
	return float64(after-before) / float64(n)
}

// print writes the three tables and what they rest on.
func (r *costs) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	line := func(format string, args ...any) { _, _ = fmt.Fprintf(tw, format+"\n", args...) }

	line("API server CPU per write (%d writers, each write watched by one informer; idle %.3f cores taken off)", costWorkers, r.idle)
	line("write\tsources\tobject JSON (managedFields)\tpatch\tCPU per write\t× ConfigMap\tp50\tp99\twrites/s")
	var ref float64
	for _, wc := range r.writes {
		n, perWrite := "—", wc.cpu*1000/float64(wc.writes)
		if wc.sources > 0 {
			n = fmt.Sprint(wc.sources)
		} else if ref == 0 {
			ref = perWrite // the first row, the relay's ConfigMap patch
		}
		line("%s\t%s\t%s (%s)\t%s\t%.2f ms\t%.1f\t%s\t%s\t%.0f", wc.what, n, kb(wc.objectBytes), kb(wc.managedBytes), kb(wc.patchBytes),
			perWrite, perWrite/max(ref, 1e-9), ms(percentile(wc.lat, 50)), ms(percentile(wc.lat, 99)), float64(wc.writes)/wc.took.Seconds())
	}
	line("")
	line("Cache bytes per object (live heap after a collection)")
	line("kind\tobjects\tJSON as served\tplain informer (unstructured)\tentityhub cache")
	for _, k := range r.kinds {
		line("%s\t%d\t%s\t%s\t%s", k.name, k.objects, kb(k.servedBytes), kb(k.plainBytes), kb(k.cacheBytes))
	}
	for _, e := range r.entity {
		line("CatalogEntity (%d sources)\t%d\t%s\t—\t%s", e.sources, e.objects, kb(e.servedBytes), kb(e.cacheBytes))
	}
	line("")
	line("Listing rate (first list to synced)")
	line("kind\tobjects\tbare informer\tobjects/s\tMB/s\tCPU per object: API server / informer\tentityhub watch\tbare at 10k / 50k / 200k")
	for _, k := range r.kinds {
		rate := float64(k.objects) / k.bareList.Seconds()
		line("%s\t%d\t%s\t%.0f\t%.1f\t%.0f µs / %.0f µs\t%s\t%.1f s / %.1f s / %.1f s", k.name, k.objects, ms(k.bareList), rate,
			rate*k.servedBytes/1e6, k.serverCPU*1e6/float64(k.objects), k.clientCPU*1e6/float64(k.objects), ms(k.cacheList),
			10e3/rate, 50e3/rate, 200e3/rate)
	}
	_ = tw.Flush()
	_, _ = fmt.Fprintf(w, "\nFleet: %d Applications, %d managed resources (%d per claim, with claim and composite), %d Workflows, "+
		"created in %.1f s; %d CPUs. Whole run %.0f s.\n",
		r.fleet.Apps, r.fleet.MRs, r.fleet.MRsPerClaim, r.fleet.Workflows, r.created.Seconds(), runtime.NumCPU(), r.took.Seconds())
	_, _ = fmt.Fprintln(w, "The bench, the API server and etcd share the machine's cores: CPU figures are the API server process's "+
		"own (its /metrics), latencies and listing times include waiting for a core. The entityhub watch's time to synced "+
		"is read by polling, up to 100 ms late.")
}

// kb writes a byte count as bytes or kB.
func kb(b float64) string {
	if b < 10_000 {
		return fmt.Sprintf("%.0f B", b)
	}
	return fmt.Sprintf("%.1f kB", b/1000)
}
