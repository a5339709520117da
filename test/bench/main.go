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
	"syscall"
	"time"

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
	soak        time.Duration
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
	flag.Float64Var(&c.rate, "rate", 200, "Source status changes per second asked in the saturated run (the ramp finds the sustainable rates by itself).")
	flag.DurationVar(&c.duration, "duration", 30*time.Second, "How long the saturated run writes changes.")
	soak := flag.Bool("soak", false, "Also soak: changes at half the relay's sustainable rate for -soak-duration, sampling the manager's memory, goroutines and connections each minute.")
	flag.DurationVar(&c.soak, "soak-duration", 30*time.Minute, "How long -soak runs.")
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
	if !*soak {
		c.soak = 0
	}
	if *costMode {
		os.Exit(runCost(c))
	}

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

// run is the bench from start to table; each phase is a method of bench, in order.
func run(c config) (err error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b := &bench{c: c, began: time.Now()}

	if b.dir, err = os.MkdirTemp("", "entityhub-bench-"); err != nil {
		return err
	}
	defer b.removeDir()

	env, cfg, err := startControlPlane()
	if err != nil {
		return err
	}
	defer stopControlPlane(env)
	// The relay's and watchers' informers end with this context, before the control
	// plane stops, so that their watches do not hold the API server open.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := b.connect(env, cfg); err != nil {
		return err
	}

	if err := b.createFleet(ctx); err != nil {
		return err
	}
	b.r.large = c.scale == "large"
	defer func() { err = errors.Join(err, b.stopAll()) }()
	if err := b.startManager(ctx, stop); err != nil {
		return err
	}
	if err := b.measureColdStart(ctx); err != nil {
		return err
	}
	if err := b.measureQuietWindow(ctx); err != nil {
		return err
	}
	b.writeHeapProfile(ctx)
	if err := b.measurePageView(ctx); err != nil {
		return err
	}
	t := newTracker()
	if err := b.startWatchers(ctx, t); err != nil {
		return err
	}
	// Each run of changes ends early when ctx does; the next is not begun then.
	for _, measure := range []func(context.Context, *tracker){b.measureRamp, b.measureBelowSaturation, b.measureSaturated} {
		if err := ctx.Err(); err != nil {
			return err
		}
		measure(ctx, t)
	}
	if c.soak > 0 {
		if err := b.measureSoak(ctx, t); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := b.measureRestart(ctx, stop); err != nil {
		return err
	}
	return b.printReport()
}

// fetchProfile saves what a pprof endpoint of the manager answers at url into file.
func fetchProfile(ctx context.Context, url, file string) error {
	resp, err := testenv.Get(ctx, url)
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
