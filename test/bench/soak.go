package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"
)

// soakMetrics are what the soak samples of the manager at each minute.
var soakMetrics = []string{"process_resident_memory_bytes", "go_memstats_heap_alloc_bytes", "go_goroutines", "process_open_fds"}

// soakSample is the manager at one moment of the soak, with the minute of changes
// before it.
type soakSample struct {
	at                 time.Duration
	rss, heap          float64
	goroutines, fds    float64
	sockets            int
	mgrP99, relayP99   string
	changes, mgrMissed int
}

// measureSoak writes changes at half the relay's sustainable rate for the soak's
// duration, a minute at a time, and samples the manager's memory, goroutines and open
// connections after each minute: a leak shows as a line that keeps rising.
func (b *bench) measureSoak(ctx context.Context, t *tracker) error {
	rate := max(b.r.ramp.relay.pass/2, rampFirst/2)
	say("Soaking: %.1f changes/s for %s, sampling the manager each minute", rate, b.c.soak)
	sample := func(at time.Duration, p *phase) (soakSample, error) {
		m, err := scrape(ctx, b.metricsAddr, soakMetrics...)
		if err != nil {
			return soakSample{}, err
		}
		s := soakSample{at: at, rss: m["process_resident_memory_bytes"], heap: m["go_memstats_heap_alloc_bytes"],
			goroutines: m["go_goroutines"], fds: m["process_open_fds"], sockets: sockets(b.first.mgr.Pid())}
		if p != nil {
			s.mgrP99, s.relayP99 = p99String(p.fresh.mgr, p.fresh.mgrMissed), p99String(p.fresh.relay, p.fresh.relayMiss)
			s.changes, s.mgrMissed = p.fresh.written, p.fresh.mgrMissed
		}
		return s, nil
	}
	start := time.Now()
	first, err := sample(0, nil)
	if err != nil {
		return err
	}
	b.r.soak = append(b.r.soak, first)
	for time.Since(start) < b.c.soak && ctx.Err() == nil {
		p := b.runPhase(ctx, t, bothWatchers, rate, time.Minute)
		s, err := sample(time.Since(start), &p)
		if err != nil {
			return err
		}
		say("  soak %3.0f min: RSS %s, heap %s, %0.f goroutines, %.0f open files (%d sockets); manager p99 %s, relay p99 %s",
			s.at.Minutes(), mib(s.rss), mib(s.heap), s.goroutines, s.fds, s.sockets, s.mgrP99, s.relayP99)
		b.r.soak = append(b.r.soak, s)
	}
	b.r.soakRate = rate
	return ctx.Err()
}

// sockets counts the open sockets of process pid: its connections, to the API server
// above all, and its listeners.
func sockets(pid int) int {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return -1
	}
	n := 0
	for _, e := range entries {
		if target, err := os.Readlink(dir + "/" + e.Name()); err == nil && strings.HasPrefix(target, "socket:") {
			n++
		}
	}
	return n
}
