package main

import (
	"context"
	"fmt"
	"math"
	"time"
)

// The ramp's steps: from rampFirst changes/s up by rampFactor until both watchers
// failed to keep up or rampMax is passed; each step long enough for rampChanges changes
// (so that its p99 means something) within rampMinStep..rampMaxStep.
const (
	rampFirst   = 10.0
	rampFactor  = 1.5
	rampMax     = 1500.0
	rampChanges = 300
	rampMinStep = 4 * time.Second
	rampMaxStep = 15 * time.Second
	// rampRefine is how many bisection steps narrow each watcher's rate.
	rampRefine = 2
	// belowChanges is the least number of changes the run below saturation makes.
	belowChanges = 2000
)

// phase is one run of changes with what the API server and the manager's own metrics
// say of it.
type phase struct {
	fresh freshness
	// serverCPU and serverWrites are the API server's CPU seconds and write requests
	// over the run, from its own metrics; inside is where the manager's time went.
	serverCPU    float64
	serverWrites []string
	inside       string
}

// serverCPUPerChange is the API server's CPU over the run per source write made.
func (p phase) serverCPUPerChange() time.Duration {
	return time.Duration(p.serverCPU / float64(max(p.fresh.written, 1)) * float64(time.Second))
}

// ramp is what the two ramps found, the relay's and the manager's.
type ramp struct{ relay, mgr rampState }

// rampState is one watcher's ramp: each step, the highest rate it kept up with (0:
// none) and the lowest above it it failed at (0: none).
type rampState struct {
	name       string
	w          watchers
	steps      []freshness
	pass, fail float64
	// fails counts the steps in a row it failed at.
	fails int
	// cpu is the API server's CPU per change at the first step, where nothing queues:
	// what one change costs it, source write included.
	cpu time.Duration
}

// startWatchers starts the bare relay and the watchers of both, feeding t.
func (b *bench) startWatchers(ctx context.Context, t *tracker) error {
	say("Starting the bare relay and the watchers")
	if err := startRelay(ctx, b.dyn, b.kube, b.c.reconciles); err != nil {
		return err
	}
	if err := watchRelay(ctx, b.kube, t.seen(true)); err != nil {
		return err
	}
	return watchEntities(ctx, b.dyn, t.seen(false))
}

// bothWatchers take part in the runs that time the manager beside the relay.
var bothWatchers = watchers{mgr: true, relay: true}

// runPhase makes one run of changes at rate for d and reads the API server's load and
// the manager's timings around it. With both watchers it changes the Applications of
// entities and the relay follows them too; with the relay alone, the solo ones.
func (b *bench) runPhase(ctx context.Context, t *tracker, w watchers, rate float64, d time.Duration) phase {
	var p phase
	apps := b.f.flipApp
	if !w.mgr {
		apps = b.f.soloApp
	}
	relayAll.Store(w.mgr && w.relay)
	loadBefore, loadErr := readServerLoad(ctx, b.kube)
	insideBefore, insideErr := scrape(ctx, b.metricsAddr, insideMetrics...)
	p.fresh = runFreshness(ctx, b.dyn, b.f, apps, w, t, rate, d, 16)
	if loadErr == nil {
		if after, err := readServerLoad(ctx, b.kube); err == nil {
			p.serverCPU, p.serverWrites = after.cpu-loadBefore.cpu, writesSince(loadBefore, after)
		}
	}
	if insideErr == nil {
		if after, err := scrape(ctx, b.metricsAddr, insideMetrics...); err == nil {
			p.inside = insideTimes(insideBefore, after)
			if p.fresh.written > 0 {
				cpu := (after["process_cpu_seconds_total"] - insideBefore["process_cpu_seconds_total"]) / float64(p.fresh.written)
				p.inside += fmt.Sprintf("; manager CPU %s per change", ms(time.Duration(cpu*float64(time.Second))))
			}
		}
	}
	return p
}

// stepDuration is how long a ramp step at rate runs.
func stepDuration(rate float64) time.Duration {
	d := time.Duration(rampChanges / rate * float64(time.Second))
	return min(max(d, rampMinStep), rampMaxStep)
}

// measureRamp finds the highest rate the relay keeps up with alone (keptUp), on the solo
// Applications the manager does not follow, and the highest the manager keeps up with
// alone, the relay not following. The two ramps go up together, a step of each at every
// rate, so that a busy moment of a shared machine falls on both alike; each goes on
// until it failed at two steps in a row (one failure may be such a moment), then
// narrows by bisection between its last pass and first failure.
func (b *bench) measureRamp(ctx context.Context, t *tracker) {
	say("Ramping the change rate to find what each keeps up with alone " +
		"(achieved ≥ 95 %% of asked, p99 < 100 ms)")
	relay, mgr := &b.r.ramp.relay, &b.r.ramp.mgr
	*relay = rampState{name: "relay", w: watchers{relay: true}}
	*mgr = rampState{name: "manager", w: watchers{mgr: true}}
	for rate := rampFirst; rate <= rampMax && ctx.Err() == nil && (relay.fails < 2 || mgr.fails < 2); rate *= rampFactor {
		for _, st := range []*rampState{relay, mgr} {
			if st.fails < 2 {
				st.fails = failStreak(st.fails, b.rampStep(ctx, t, st, rate))
			}
		}
	}
	for range rampRefine {
		for _, st := range []*rampState{relay, mgr} {
			if st.pass > 0 && st.fail > st.pass*1.1 && ctx.Err() == nil {
				b.rampStep(ctx, t, st, math.Sqrt(st.pass*st.fail))
			}
		}
	}
}

// rampStep runs one step of st's ramp at rate and reports whether it kept up. A step
// that fails is run once more, and fails only if that fails too: a p99 over a few
// hundred changes is the third-slowest of them, and one pause of the machine (a
// collection in the API server, another process) can make it.
func (b *bench) rampStep(ctx context.Context, t *tracker, st *rampState, rate float64) bool {
	return b.rampTry(ctx, t, st, rate) || (ctx.Err() == nil && b.rampTry(ctx, t, st, rate))
}

// rampTry is one try of a ramp step.
func (b *bench) rampTry(ctx context.Context, t *tracker, st *rampState, rate float64) bool {
	p := b.runPhase(ctx, t, st.w, rate, stepDuration(rate))
	res := p.fresh
	if len(st.steps) == 0 && res.written > 0 {
		st.cpu = p.serverCPUPerChange()
	}
	st.steps = append(st.steps, res)
	ok := res.keptUp(st.w.relay)
	st.pass, st.fail = narrow(st.pass, st.fail, rate, ok)
	seen, missed := res.of(st.w.relay)
	say("  %-7s %5.0f/s asked, %5.0f/s achieved: p50 %s, p99 %s%s (API server %.2f cores, %s CPU per change)", st.name, rate, res.achieved(),
		ms(percentile(seen, 50)), p99String(seen, missed), passMark(ok), p.serverCPU/max(res.elapsed.Seconds(), 1e-9),
		ms(p.serverCPUPerChange()))
	return ok
}

// failStreak counts the steps in a row a watcher failed at.
func failStreak(n int, ok bool) int {
	if ok {
		return 0
	}
	return n + 1
}

// narrow folds one step's outcome at rate into a watcher's highest pass and lowest
// failure above it.
func narrow(pass, fail, rate float64, ok bool) (float64, float64) {
	if ok {
		pass = max(pass, rate)
		if fail <= pass {
			fail = 0
		}
		return pass, fail
	}
	if rate > pass && (fail == 0 || rate < fail) {
		fail = rate
	}
	return pass, fail
}

func passMark(ok bool) string {
	if ok {
		return " ✓"
	}
	return " ✗"
}

// p99String is a watcher's p99 with its misses counted (see p99), for a person.
func p99String(seen []time.Duration, missed int) string {
	d := p99(seen, missed)
	if d == time.Duration(math.MaxInt64) {
		return fmt.Sprintf("— (%d of %d missed)", missed, missed+len(seen))
	}
	return ms(d)
}

// measureBelowSaturation runs at half the relay's sustainable rate, long enough for
// belowChanges changes.
func (b *bench) measureBelowSaturation(ctx context.Context, t *tracker) {
	rate := b.r.ramp.relay.pass / 2
	if rate <= 0 {
		rate = rampFirst / 2
		b.r.notes = append(b.r.notes, fmt.Sprintf("The relay kept up with no rate of the ramp; the run below saturation "+
			"ran at %.0f/s, which is not below the relay's saturation.", rate))
	}
	d := time.Duration(belowChanges * 1.02 / rate * float64(time.Second))
	say("Writing %.1f source changes/s (half the relay's sustainable rate) for %s", rate, d.Round(time.Second))
	b.r.below = b.runPhase(ctx, t, bothWatchers, rate, d)
}

// measureSaturated runs at the rate asked by -rate, with the profiles asked for: a
// saturated machine shows throughput and where the time goes.
func (b *bench) measureSaturated(ctx context.Context, t *tracker) {
	c := b.c
	say("Writing %.0f source changes/s for %s (saturated)", c.rate, c.duration)
	profiled, serverProfiled := b.profileFreshness(ctx)
	b.r.saturated = b.runPhase(ctx, t, bothWatchers, c.rate, c.duration)
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
}

// profileFreshness fetches the manager's and the API server's CPU profiles over the
// freshness phase, each when asked, and says on the channels returned how that went.
func (b *bench) profileFreshness(ctx context.Context) (manager, server <-chan error) {
	c := b.c
	profiled := make(chan error, 1)
	if c.cpuProfile != "" {
		go func() {
			profiled <- fetchProfile(ctx, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", b.pprofAddr, int(c.duration.Seconds())), c.cpuProfile)
		}()
	} else {
		profiled <- nil
	}
	serverProfiled := make(chan error, 1)
	if c.apiProfile != "" {
		go func() { serverProfiled <- serverProfile(ctx, b.kube, c.duration, c.apiProfile) }()
	} else {
		serverProfiled <- nil
	}
	return profiled, serverProfiled
}
