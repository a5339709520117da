package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/entityhub/entityhub/test/testenv"
)

// bench is what one run's phases hand on to the next: where it works, its clients, the
// fleet, the manager's addresses and the report being filled in.
type bench struct {
	c     config
	began time.Time
	dir   string

	kubeconfig string
	dyn        dynamic.Interface
	kube       kubernetes.Interface

	f *fleet
	r *report

	// first is the manager of the first install; metricsAddr and pprofAddr are its.
	first                  *process
	procs                  []*process
	metricsAddr, pprofAddr string
	// managerStart is when the manager was started; cold start is timed from it.
	managerStart time.Time
	// coldLoad is the API server's load just before the manager started.
	coldLoad    serverLoad
	coldLoadErr error
}

// quietMetrics are the manager's metrics read at both ends of the quiet window.
var quietMetrics = []string{"entityhub_status_writes_total", "rest_client_requests_total",
	"process_resident_memory_bytes", "go_memstats_heap_alloc_bytes"}

// insideMetrics are the sums and counts of the manager's own timings, read at both ends
// of the freshness phase.
var insideMetrics = []string{
	"entityhub_event_to_status_seconds_sum", "entityhub_event_to_status_seconds_count",
	"workqueue_queue_duration_seconds_sum", "workqueue_queue_duration_seconds_count",
	"controller_runtime_reconcile_time_seconds_sum", "controller_runtime_reconcile_time_seconds_count",
	"process_cpu_seconds_total",
}

// removeDir removes the run's directory, or says where it is kept.
func (b *bench) removeDir() {
	if b.c.keepLog {
		say("Kept %s", b.dir)
		return
	}
	_ = os.RemoveAll(b.dir)
}

// startControlPlane starts kube-apiserver and etcd with the third-party CRDs, with
// in-flight limits raised for the bench's traffic.
func startControlPlane() (*envtest.Environment, *rest.Config, error) {
	say("Starting a local control plane (kube-apiserver and etcd)")
	// Argo CD's, Crossplane's and Argo Workflows' CRDs, as the test fixtures keep them.
	env, err := testenv.NewWithThirdPartyCRDs()
	if err != nil {
		return nil, nil, err
	}
	// The default in-flight limits (400 and 200) throttle a fleet created with many
	// workers and a stream of changes beside the manager's own traffic.
	args := env.ControlPlane.GetAPIServer().Configure()
	args.Set("max-requests-inflight", "1000")
	args.Set("max-mutating-requests-inflight", "500")
	// The API server waits for open watches on stop; give it time.
	env.ControlPlaneStopTimeout = time.Minute
	cfg, err := env.Start()
	if err != nil {
		return nil, nil, fmt.Errorf("starting the control plane: %w", err)
	}
	return env, cfg, nil
}

// stopControlPlane stops it. A slow stop is reported as a warning: by then the figures
// are printed and mean what they say.
func stopControlPlane(env *envtest.Environment) {
	if stopErr := env.Stop(); stopErr != nil {
		fmt.Fprintln(os.Stderr, "bench: warning: stopping the control plane:", stopErr)
	}
}

// connect writes the manager's kubeconfig and makes the bench's own clients.
func (b *bench) connect(env *envtest.Environment, cfg *rest.Config) error {
	kubeconfig, err := testenv.WriteKubeconfig(env, b.dir)
	if err != nil {
		return err
	}
	b.kubeconfig = kubeconfig
	// The bench's own client is not to be what limits it: client-go's default 5 QPS
	// would make fleet creation and the change stream the bottleneck.
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 500, 1000
	if b.dyn, err = dynamic.NewForConfig(cfg); err != nil {
		return err
	}
	b.kube, err = kubernetes.NewForConfig(cfg)
	return err
}

// createFleet builds the fleet and starts the report with what it took.
func (b *bench) createFleet(ctx context.Context) error {
	c := b.c
	say("Creating the fleet: %d Applications, %d managed resources, %d Workflows over %d entities",
		c.sz.Apps, c.sz.MRs, c.sz.Workflows, c.sz.Entities)
	t := time.Now()
	f, err := buildFleet(ctx, b.dyn, b.kube, c.sz, c.workers)
	if err != nil {
		return fmt.Errorf("creating the fleet: %w", err)
	}
	b.f = f
	b.r = &report{sizes: c.sz, createTook: time.Since(t), createReqs: f.requests.Load(), quietWindow: c.quiet,
		pluginKinds: len(sourceKinds)}
	for _, n := range f.expected {
		b.r.sources += int(n)
	}
	say("Created %d sources in %.1f s", b.r.sources, b.r.createTook.Seconds())
	return nil
}

// process is one manager process the bench runs, with its addresses.
type process struct {
	name                              string
	mgr                               *testenv.Manager
	metricsAddr, probeAddr, pprofAddr string
	// started is when the process was started.
	started  time.Time
	stopping atomic.Bool
}

// stop sends SIGTERM and waits for the process to exit.
func (p *process) stop() error {
	p.stopping.Store(true)
	if err := p.mgr.Stop(time.Minute); err != nil {
		return fmt.Errorf("stopping the %s manager: %w (log: %s)", p.name, err, p.mgr.LogPath)
	}
	return nil
}

// launch starts a manager process named name with the bench's flags and extra, and a
// watchdog that ends the bench, through stop, if it dies before the bench stops it.
func (b *bench) launch(ctx context.Context, stop context.CancelFunc, name string, extra ...string) (*process, error) {
	c := b.c
	p := &process{name: name}
	var err error
	if p.metricsAddr, err = testenv.FreePort(); err != nil {
		return nil, err
	}
	if p.probeAddr, err = testenv.FreePort(); err != nil {
		return nil, err
	}
	args := []string{"--metrics-bind-address=" + p.metricsAddr, "--metrics-secure=false", "--health-probe-bind-address=" + p.probeAddr,
		"--max-concurrent-reconciles=" + strconv.Itoa(c.reconciles),
		// No Argo CD refreshes the fleet: a threshold longer than the longest run keeps its
		// Applications current, as a live Argo CD would.
		"--argocd-stale-after=2h"}
	if c.cpuProfile != "" || c.heapProfile != "" || c.coldProfile != "" {
		if p.pprofAddr, err = testenv.FreePort(); err != nil {
			return nil, err
		}
		args = append(args, "--pprof-bind-address="+p.pprofAddr)
	}
	p.started = time.Now()
	if p.mgr, err = testenv.StartManager(c.manager, b.kubeconfig, filepath.Join(b.dir, name+".log"), append(args, extra...)...); err != nil {
		return nil, err
	}
	b.procs = append(b.procs, p)
	go func() {
		// A manager that dies mid-run ends the bench: its figures would mean nothing.
		select {
		case <-p.mgr.Done():
			if p.stopping.Load() {
				return
			}
			_, exitErr := p.mgr.Exited()
			fmt.Fprintf(os.Stderr, "bench: the %s manager exited: %v (log: %s)\n", name, exitErr, p.mgr.LogPath)
			stop()
		case <-ctx.Done():
		}
	}()
	return p, nil
}

// stopAll stops every manager process still running.
func (b *bench) stopAll() error {
	var errs []error
	for _, p := range b.procs {
		if exited, _ := p.mgr.Exited(); !exited {
			errs = append(errs, p.stop())
		}
	}
	return errors.Join(errs...)
}

// startManager starts the manager of the first install, which the phases up to the
// restart measure.
func (b *bench) startManager(ctx context.Context, stop context.CancelFunc) error {
	b.coldLoad, b.coldLoadErr = readServerLoad(ctx, b.kube)
	say("Starting the manager (%s)", b.c.manager)
	p, err := b.launch(ctx, stop, "manager")
	if err != nil {
		return err
	}
	b.first = p
	b.metricsAddr, b.pprofAddr, b.managerStart = p.metricsAddr, p.pprofAddr, p.started
	return nil
}

// measureColdStart waits for every entity's status, with the manager's CPU profile of
// its first 30 s if asked, and reads the API server's load over that time.
func (b *bench) measureColdStart(ctx context.Context) error {
	coldProfiled := b.profileColdStart(ctx)
	say("Waiting for every entity's status (cold start)")
	r := b.r
	// Readiness is timed beside: it should come once every entity is published.
	ready := make(chan time.Duration, 1)
	go func() {
		if err := waitReady(ctx, b.first, b.c.coldTimeout); err != nil {
			ready <- -1
			return
		}
		ready <- time.Since(b.first.started)
	}()
	defer func() { r.firstReady = <-ready }()
	r.coldStart, r.coldErr = coldStart(ctx, b.dyn, b.f, b.managerStart, b.c.coldTimeout)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	// The first install's own peak; the process's peak over the whole run comes later.
	r.coldPeakRSS, _ = peakRSS(b.first.mgr.Pid())
	if r.coldErr == nil {
		say("All %d entities correct after %.1f s", len(b.f.entities), r.coldStart.Seconds())
	} else {
		say("Cold start not reached: %v", r.coldErr)
	}

	if b.coldLoadErr == nil && r.coldErr == nil {
		if after, err := readServerLoad(ctx, b.kube); err == nil {
			r.coldCPU, r.coldWrites = after.cpu-b.coldLoad.cpu, writesSince(b.coldLoad, after)
		}
	}
	if err := <-coldProfiled; err != nil {
		say("Cold start CPU profile not written: %v", err)
	} else if b.c.coldProfile != "" {
		say("Wrote the manager's CPU profile of its first 30 s to %s", b.c.coldProfile)
	}
	return nil
}

// profileColdStart fetches the manager's CPU profile of its first 30 s, when asked, and
// says on the channel returned how that went.
func (b *bench) profileColdStart(ctx context.Context) <-chan error {
	coldProfiled := make(chan error, 1)
	if b.c.coldProfile == "" {
		coldProfiled <- nil
		return coldProfiled
	}
	go func() {
		// The manager serves pprof a moment after it starts.
		url := "http://" + b.pprofAddr + "/debug/pprof/profile?seconds=30"
		var err error
		for range 50 {
			if err = fetchProfile(ctx, url, b.c.coldProfile); err == nil || ctx.Err() != nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		coldProfiled <- err
	}()
	return coldProfiled
}

// measureQuietWindow waits for status writes to settle, then counts the manager's
// writes and API requests, and reads its memory, over the quiet window.
func (b *bench) measureQuietWindow(ctx context.Context) error {
	say("Waiting for status writes to settle")
	if err := settle(ctx, b.metricsAddr, 5*time.Second, 2*time.Minute); err != nil {
		return err
	}
	say("Counting writes and API requests over a %s quiet window", b.c.quiet)
	before, err := scrape(ctx, b.metricsAddr, quietMetrics...)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(b.c.quiet):
	}
	after, err := scrape(ctx, b.metricsAddr, quietMetrics...)
	if err != nil {
		return err
	}
	r := b.r
	r.quietWrites = after["entityhub_status_writes_total"] - before["entityhub_status_writes_total"]
	r.quietReqs = after["rest_client_requests_total"] - before["rest_client_requests_total"]
	r.rss, r.heap = after["process_resident_memory_bytes"], after["go_memstats_heap_alloc_bytes"]
	r.reqsBefore = before["rest_client_requests_total"]
	for _, n := range quietMetrics {
		if _, ok := after[n]; !ok {
			r.notes = append(r.notes, "The manager does not serve "+n+"; its figure reads 0.")
		}
	}
	return nil
}

// writeHeapProfile saves the manager's heap profile, when asked.
func (b *bench) writeHeapProfile(ctx context.Context) {
	if b.c.heapProfile == "" {
		return
	}
	// After a GC, so that the profile shows what the manager keeps, not what it made.
	if err := fetchProfile(ctx, "http://"+b.pprofAddr+"/debug/pprof/heap?gc=1", b.c.heapProfile); err != nil {
		say("Heap profile not written: %v", err)
	} else {
		say("Wrote the manager's heap profile to %s", b.c.heapProfile)
	}
}

// measurePageView times the reads behind one Backstage entity page.
func (b *bench) measurePageView(ctx context.Context) error {
	say("Reading one entity page as Backstage would")
	var err error
	b.r.hubList, b.r.pluginLists, b.r.pageFound, err = pageView(ctx, b.dyn, b.f.entities[0])
	return err
}

// insideTimes says where the manager's time went between two scrapes of insideMetrics.
func insideTimes(before, after map[string]float64) string {
	mean := func(name string) time.Duration {
		n := after[name+"_count"] - before[name+"_count"]
		if n <= 0 {
			return 0
		}
		return time.Duration((after[name+"_sum"] - before[name+"_sum"]) / n * float64(time.Second))
	}
	return fmt.Sprintf("event→status write %s, queue wait %s, reconcile %s (means over the run)",
		ms(mean("entityhub_event_to_status_seconds")), ms(mean("workqueue_queue_duration_seconds")),
		ms(mean("controller_runtime_reconcile_time_seconds")))
}

// printReport adds the notes and prints the table.
func (b *bench) printReport() error {
	c, r := b.c, b.r
	r.notes = append(r.notes,
		"The relay is an informer in the bench process writing one ConfigMap per Application event with "+
			strconv.Itoa(c.reconciles)+" workers; the manager is its own process. Both are timed from just before the "+
			"source write until a watcher in the bench process sees the result; a change folded into a later one of the "+
			"same entity counts as seen when the later one is. The ramp measures both on the same changes.",
		"The first install's peak RSS is the first manager's, read once every entity is published; the peak over the "+
			"whole run is read before it is stopped for the restart. The restart and the hand-over run with leader "+
			"election, as the Deployment does.",
		"The Kubernetes plugin figure counts one LIST per source kind of this fleet (Application, Workflow, claim, "+
			"composite, managed resource) on 1 cluster; cluster-scoped composites and managed resources carry no "+
			"entity label, so the plugin would not even find them.",
		fmt.Sprintf("Whole run, control plane start to table: %.0f s.", time.Since(b.began).Seconds()),
	)
	if c.scale != "large" {
		r.notes = append(r.notes, "Targets for memory and cold start are stated for the large fleet (-scale large); "+
			"this run is "+c.scale+".")
	}
	fmt.Println()
	r.print(os.Stdout)
	fmt.Println()
	return nil
}
