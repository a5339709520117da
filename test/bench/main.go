// Command bench measures entityhub against the real test control plane: it builds a
// fleet of Argo CD Applications, Crossplane claim trees and Argo Workflows spread over
// entities — each object shaped as its controller writes it, status, annotations and
// all, since what the manager caches of them is what its memory is made of — starts
// the manager binary, and prints cold start, freshness beside a bare
// relay measured in the same run, writes and API requests once settled, the reads behind
// a Backstage page, and memory — each beside its DESIGN.md §8 target. It measures; it
// never fails because a target is missed. `make bench` runs it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/entityhub/entityhub/test/testenv"
)

// presets are the fleet sizes -scale names; explicit size flags override them.
var presets = map[string]sizes{
	"small": {Apps: 500, MRs: 1000, Workflows: 500, Entities: 200, MRsPerClaim: 5},
	"large": {Apps: 10000, MRs: 50000, Workflows: 10000, Entities: 2000, MRsPerClaim: 5},
}

// config is the bench's settings, one per flag.
type config struct {
	manager     string
	scale       string
	sz          sizes
	rate        float64
	duration    time.Duration
	quiet       time.Duration
	coldTimeout time.Duration
	workers     int
	reconciles  int
	keepLog     bool
	cpuProfile  string
	coldProfile string
	heapProfile string
	apiProfile  string
}

func main() {
	var c config
	flag.StringVar(&c.manager, "manager", "bin/entityhub", "Path of the entityhub binary to run (make bench builds it).")
	flag.StringVar(&c.scale, "scale", "small", "Fleet size preset: small (a few minutes on 2 cores) or large (10,000 Applications, 50,000 managed resources, 10,000 Workflows, 2,000 entities).")
	flag.IntVar(&c.sz.Apps, "apps", 0, "Argo CD Applications (0: the preset's).")
	flag.IntVar(&c.sz.MRs, "mrs", 0, "Crossplane managed resources (0: the preset's).")
	flag.IntVar(&c.sz.Workflows, "workflows", 0, "Argo Workflows (0: the preset's).")
	flag.IntVar(&c.sz.Entities, "entities", 0, "Entities the sources are spread over (0: the preset's).")
	flag.IntVar(&c.sz.MRsPerClaim, "mrs-per-claim", 0, "Managed resources per Crossplane claim (0: the preset's).")
	flag.Float64Var(&c.rate, "rate", 200, "Source status changes per second in the freshness phase.")
	flag.DurationVar(&c.duration, "duration", 30*time.Second, "How long the freshness phase writes changes.")
	flag.DurationVar(&c.quiet, "quiet", 60*time.Second, "Quiet window over which settled writes and API requests are counted.")
	flag.DurationVar(&c.coldTimeout, "cold-timeout", 5*time.Minute, "How long to wait for every entity's status at cold start.")
	flag.IntVar(&c.workers, "workers", 32, "Concurrent requests while creating the fleet.")
	flag.IntVar(&c.reconciles, "max-concurrent-reconciles", 4, "Passed to the manager; the relay uses as many workers.")
	flag.BoolVar(&c.keepLog, "keep-log", false, "Keep the manager's log and kubeconfig instead of removing them.")
	flag.StringVar(&c.cpuProfile, "cpu-profile", "", "Write the manager's CPU profile during the freshness phase to this file (go tool pprof reads it).")
	flag.StringVar(&c.coldProfile, "cold-profile", "", "Write the manager's CPU profile over its first 30 s (the cold start) to this file.")
	flag.StringVar(&c.heapProfile, "heap-profile", "", "Write the manager's heap profile, taken once settled, to this file (go tool pprof reads it).")
	flag.StringVar(&c.apiProfile, "apiserver-profile", "", "Write the API server's CPU profile during the freshness phase to this file.")
	flag.Parse()

	preset, ok := presets[c.scale]
	if !ok {
		fmt.Fprintf(os.Stderr, "bench: -scale %q: want small or large\n", c.scale)
		os.Exit(2)
	}
	for _, p := range []struct {
		v *int
		d int
	}{
		{&c.sz.Apps, preset.Apps}, {&c.sz.MRs, preset.MRs}, {&c.sz.Workflows, preset.Workflows},
		{&c.sz.Entities, preset.Entities}, {&c.sz.MRsPerClaim, preset.MRsPerClaim},
	} {
		if *p.v <= 0 {
			*p.v = p.d
		}
	}
	if c.rate <= 0 || c.reconciles < 1 || c.workers < 1 {
		fmt.Fprintln(os.Stderr, "bench: -rate, -workers and -max-concurrent-reconciles must be positive")
		os.Exit(2)
	}
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func say(format string, args ...any) {
	fmt.Printf("%s ==> "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func run(c config) (err error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	began := time.Now()

	dir, err := os.MkdirTemp("", "entityhub-bench-")
	if err != nil {
		return err
	}
	defer func() {
		if c.keepLog {
			say("Kept %s", dir)
			return
		}
		_ = os.RemoveAll(dir)
	}()

	say("Starting a local control plane (kube-apiserver and etcd)")
	// Argo CD's, Crossplane's and Argo Workflows' CRDs, as the test fixtures keep them.
	crds, err := testenv.ThirdPartyCRDs()
	if err != nil {
		return err
	}
	env, err := testenv.New(crds...)
	if err != nil {
		return err
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
		return fmt.Errorf("starting the control plane: %w", err)
	}
	// A slow stop is reported as a warning: by then the figures are printed and mean
	// what they say.
	defer func() {
		if stopErr := env.Stop(); stopErr != nil {
			fmt.Fprintln(os.Stderr, "bench: warning: stopping the control plane:", stopErr)
		}
	}()
	// The relay's and watchers' informers end with this context, before the control
	// plane stops, so that their watches do not hold the API server open.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	kubeconfig, err := testenv.WriteKubeconfig(env, dir)
	if err != nil {
		return err
	}

	// The bench's own client is not to be what limits it: client-go's default 5 QPS
	// would make fleet creation and the change stream the bottleneck.
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 500, 1000
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}

	say("Creating the fleet: %d Applications, %d managed resources, %d Workflows over %d entities",
		c.sz.Apps, c.sz.MRs, c.sz.Workflows, c.sz.Entities)
	t := time.Now()
	f, err := buildFleet(ctx, dyn, kube, c.sz, c.workers)
	if err != nil {
		return fmt.Errorf("creating the fleet: %w", err)
	}
	r := &report{sizes: c.sz, createTook: time.Since(t), createReqs: f.requests.Load(), rate: c.rate, quietWindow: c.quiet,
		pluginKinds: len(sourceKinds)}
	for _, n := range f.expected {
		r.sources += int(n)
	}
	say("Created %d sources in %.1f s", r.sources, r.createTook.Seconds())

	metricsAddr, err := testenv.FreePort()
	if err != nil {
		return err
	}
	probeAddr, err := testenv.FreePort()
	if err != nil {
		return err
	}
	coldLoad, coldLoadErr := readServerLoad(ctx, kube)
	say("Starting the manager (%s)", c.manager)
	start := time.Now()
	mgrArgs := []string{"--metrics-bind-address=" + metricsAddr, "--metrics-secure=false", "--health-probe-bind-address=" + probeAddr,
		"--max-concurrent-reconciles=" + strconv.Itoa(c.reconciles)}
	pprofAddr := ""
	if c.cpuProfile != "" || c.heapProfile != "" || c.coldProfile != "" {
		if pprofAddr, err = testenv.FreePort(); err != nil {
			return err
		}
		mgrArgs = append(mgrArgs, "--pprof-bind-address="+pprofAddr)
	}
	mgr, err := testenv.StartManager(c.manager, kubeconfig, filepath.Join(dir, "manager.log"), mgrArgs...)
	if err != nil {
		return err
	}
	var stopping atomic.Bool
	defer func() {
		stopping.Store(true)
		if stopErr := mgr.Stop(30 * time.Second); stopErr != nil {
			err = errors.Join(err, fmt.Errorf("stopping the manager: %w (log: %s)", stopErr, mgr.LogPath))
		}
	}()
	go func() {
		// A manager that dies mid-run ends the bench: its figures would mean nothing.
		select {
		case <-mgr.Done():
			if stopping.Load() {
				return
			}
			_, exitErr := mgr.Exited()
			fmt.Fprintf(os.Stderr, "bench: the manager exited: %v (log: %s)\n", exitErr, mgr.LogPath)
			stop()
		case <-ctx.Done():
		}
	}()

	coldProfiled := make(chan error, 1)
	if c.coldProfile != "" {
		go func() {
			// The manager serves pprof a moment after it starts.
			url := "http://" + pprofAddr + "/debug/pprof/profile?seconds=30"
			var err error
			for range 50 {
				if err = fetchProfile(ctx, url, c.coldProfile); err == nil || ctx.Err() != nil {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			coldProfiled <- err
		}()
	} else {
		coldProfiled <- nil
	}
	say("Waiting for every entity's status (cold start)")
	r.coldStart, r.coldErr = coldStart(ctx, dyn, f, start, c.coldTimeout)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if r.coldErr == nil {
		say("All %d entities correct after %.1f s", len(f.entities), r.coldStart.Seconds())
	} else {
		say("Cold start not reached: %v", r.coldErr)
	}

	if coldLoadErr == nil && r.coldErr == nil {
		if after, err := readServerLoad(ctx, kube); err == nil {
			r.coldCPU, r.coldWrites = after.cpu-coldLoad.cpu, writesSince(coldLoad, after)
		}
	}
	if err := <-coldProfiled; err != nil {
		say("Cold start CPU profile not written: %v", err)
	} else if c.coldProfile != "" {
		say("Wrote the manager's CPU profile of its first 30 s to %s", c.coldProfile)
	}
	say("Waiting for status writes to settle")
	if err := settle(ctx, metricsAddr, 5*time.Second, 2*time.Minute); err != nil {
		return err
	}
	say("Counting writes and API requests over a %s quiet window", c.quiet)
	names := []string{"entityhub_status_writes_total", "rest_client_requests_total",
		"process_resident_memory_bytes", "go_memstats_heap_alloc_bytes"}
	before, err := scrape(ctx, metricsAddr, names...)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(c.quiet):
	}
	after, err := scrape(ctx, metricsAddr, names...)
	if err != nil {
		return err
	}
	r.quietWrites = after["entityhub_status_writes_total"] - before["entityhub_status_writes_total"]
	r.quietReqs = after["rest_client_requests_total"] - before["rest_client_requests_total"]
	r.rss, r.heap = after["process_resident_memory_bytes"], after["go_memstats_heap_alloc_bytes"]
	r.reqsBefore = before["rest_client_requests_total"]
	for _, n := range names {
		if _, ok := after[n]; !ok {
			r.notes = append(r.notes, "The manager does not serve "+n+"; its figure reads 0.")
		}
	}

	if c.heapProfile != "" {
		// After a GC, so that the profile shows what the manager keeps, not what it made.
		if err := fetchProfile(ctx, "http://"+pprofAddr+"/debug/pprof/heap?gc=1", c.heapProfile); err != nil {
			say("Heap profile not written: %v", err)
		} else {
			say("Wrote the manager's heap profile to %s", c.heapProfile)
		}
	}

	say("Reading one entity page as Backstage would")
	r.hubList, r.pluginLists, r.pageFound, err = pageView(ctx, dyn, f.entities[0])
	if err != nil {
		return err
	}

	say("Starting the bare relay and the watchers")
	tr := &tracker{pending: map[int64]*change{}, busy: map[string]bool{}}
	if err := startRelay(ctx, dyn, kube, c.reconciles); err != nil {
		return err
	}
	if err := watchRelay(ctx, kube, tr.seen(true)); err != nil {
		return err
	}
	if err := watchEntities(ctx, dyn, tr.seen(false)); err != nil {
		return err
	}
	say("Writing %.0f source changes/s for %s", c.rate, c.duration)
	profiled := make(chan error, 1)
	if c.cpuProfile != "" {
		go func() {
			profiled <- fetchProfile(ctx, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", pprofAddr, int(c.duration.Seconds())), c.cpuProfile)
		}()
	} else {
		profiled <- nil
	}
	serverProfiled := make(chan error, 1)
	if c.apiProfile != "" {
		go func() { serverProfiled <- serverProfile(ctx, kube, c.duration, c.apiProfile) }()
	} else {
		serverProfiled <- nil
	}
	loadBefore, loadErr := readServerLoad(ctx, kube)
	inside := []string{
		"entityhub_event_to_status_seconds_sum", "entityhub_event_to_status_seconds_count",
		"workqueue_queue_duration_seconds_sum", "workqueue_queue_duration_seconds_count",
		"controller_runtime_reconcile_time_seconds_sum", "controller_runtime_reconcile_time_seconds_count",
	}
	insideBefore, insideErr := scrape(ctx, metricsAddr, inside...)
	r.fresh = runFreshness(ctx, dyn, f, tr, c.rate, c.duration, 16)
	if loadErr == nil {
		if after, err := readServerLoad(ctx, kube); err == nil {
			r.serverCPU = after.cpu - loadBefore.cpu
			r.serverWrites = writesSince(loadBefore, after)
		}
	}
	if insideErr == nil {
		if after, err := scrape(ctx, metricsAddr, inside...); err == nil {
			mean := func(name string) time.Duration {
				n := after[name+"_count"] - insideBefore[name+"_count"]
				if n <= 0 {
					return 0
				}
				return time.Duration((after[name+"_sum"] - insideBefore[name+"_sum"]) / n * float64(time.Second))
			}
			r.inside = fmt.Sprintf("event→status write %s, queue wait %s, reconcile %s (means over the freshness phase)",
				ms(mean("entityhub_event_to_status_seconds")), ms(mean("workqueue_queue_duration_seconds")),
				ms(mean("controller_runtime_reconcile_time_seconds")))
		}
	}
	if err := <-profiled; err != nil {
		say("CPU profile not written: %v", err)
	} else if c.cpuProfile != "" {
		say("Wrote the manager's CPU profile to %s", c.cpuProfile)
	}
	if err := <-serverProfiled; err != nil {
		say("API server CPU profile not written: %v", err)
	} else if c.apiProfile != "" {
		say("Wrote the API server's CPU profile to %s", c.apiProfile)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}

	if r.peakRSS, err = peakRSS(mgr.Pid()); err != nil {
		return err
	}
	r.notes = append(r.notes,
		"The relay is an informer in the bench process writing one ConfigMap per Application event with "+
			strconv.Itoa(c.reconciles)+" workers; the manager is its own process. Both are timed from just before the "+
			"source write until a watcher in the bench process sees the result.",
		"The Kubernetes plugin figure counts one LIST per source kind of this fleet (Application, Workflow, claim, "+
			"composite, managed resource) on 1 cluster; cluster-scoped composites and managed resources carry no "+
			"entity label, so the plugin would not even find them.",
		fmt.Sprintf("Whole run, control plane start to table: %.0f s.", time.Since(began).Seconds()),
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

// fetchProfile saves what a pprof endpoint of the manager answers at url into file.
func fetchProfile(ctx context.Context, url, file string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	out, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, resp.Body); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}
