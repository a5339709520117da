package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// row is one line of the results table: a figure beside its DESIGN.md §8 target.
type row struct{ what, got, target string }

// report is everything the bench measured, ready to print.
type report struct {
	sizes      sizes
	sources    int
	createTook time.Duration
	createReqs int64
	coldStart  time.Duration
	coldErr    error
	fresh      freshness
	inside     string // where the manager's time goes, from its own metrics
	// serverCPU and serverWrites are the API server's CPU seconds and write requests
	// over the freshness phase, from its own metrics.
	serverCPU    float64
	serverWrites []string
	// coldCPU and coldWrites are the same over the cold start.
	coldCPU     float64
	coldWrites  []string
	rate        float64
	quietWindow time.Duration
	quietWrites float64
	quietReqs   float64
	reqsBefore  float64
	hubList     time.Duration
	pluginLists time.Duration
	pluginKinds int
	pageFound   int
	rss, heap   float64
	peakRSS     float64
	notes       []string
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func mib(b float64) string { return fmt.Sprintf("%.0f MiB", b/(1<<20)) }

// print writes the table. Targets are printed, never enforced: a benchmark measures.
func (r *report) print(w io.Writer) {
	perMin := func(v float64) string {
		return fmt.Sprintf("%.1f /min", v/r.quietWindow.Minutes())
	}
	var cold string
	if r.coldErr != nil {
		cold = "not reached: " + r.coldErr.Error()
	} else {
		cold = fmt.Sprintf("%.1f s", r.coldStart.Seconds())
	}
	mp99, rp99 := percentile(r.fresh.mgr, 99), percentile(r.fresh.relay, 99)
	ratio := "—"
	if rp99 > 0 && mp99 > 0 {
		ratio = fmt.Sprintf("%.2f×", float64(mp99)/float64(rp99))
	}
	achieved := float64(r.fresh.issued) / max(r.fresh.elapsed.Seconds(), 1e-9)

	rows := []row{
		{"fleet", fmt.Sprintf("%d Applications, %d managed resources (%d per claim), %d Workflows, %d entities; %d sources",
			r.sizes.Apps, r.sizes.MRs, r.sizes.MRsPerClaim, r.sizes.Workflows, r.sizes.Entities, r.sources), "10,000 / 50,000 / 10,000 (-scale large)"},
		{"fleet creation", fmt.Sprintf("%.1f s, %d requests", r.createTook.Seconds(), r.createReqs), "(setup, no target)"},
		{"cold start", cold, "all entities published within 30 s (at large scale)"},
		{"cold start: API server", loadLine(r.coldCPU, r.coldWrites, r.coldStart, 0), "(diagnosis, no target)"},
		{"freshness: rate", fmt.Sprintf("%.0f changes/s asked, %.0f/s achieved (%d changes in %.0f s; %d ticks skipped)",
			r.rate, achieved, r.fresh.issued, r.fresh.elapsed.Seconds(), r.fresh.skipped), "200 changes/s"},
		{"freshness: manager p50/p90/p99", fmt.Sprintf("%s / %s / %s (%d seen, %d missed)",
			ms(percentile(r.fresh.mgr, 50)), ms(percentile(r.fresh.mgr, 90)), ms(mp99), len(r.fresh.mgr), r.fresh.mgrMissed), "p99 < 50 ms on 2 cores"},
		{"freshness: bare relay p50/p90/p99", fmt.Sprintf("%s / %s / %s (%d seen, %d missed)",
			ms(percentile(r.fresh.relay, 50)), ms(percentile(r.fresh.relay, 90)), ms(rp99), len(r.fresh.relay), r.fresh.relayMissed), "(the floor)"},
		{"freshness: p99 manager / relay", ratio, "≤ 1.5×"},
		{"freshness: inside the manager", r.inside, "(diagnosis, no target)"},
		{"freshness: API server", loadLine(r.serverCPU, r.serverWrites, r.fresh.elapsed, r.fresh.issued), "(diagnosis, no target)"},
		{"quiet: status writes", perMin(r.quietWrites), "0 /min"},
		{"quiet: manager API requests", fmt.Sprintf("%s (%.0f requests from start to settled)", perMin(r.quietReqs), r.reqsBefore), "(no target; low)"},
		{"page view: entityhub", fmt.Sprintf("1 LIST (%s, %d entity)", ms(r.hubList), r.pageFound), "one LIST per entity page"},
		{"page view: Kubernetes plugin", fmt.Sprintf("%d LISTs = %d kinds × 1 cluster (%s)", r.pluginKinds, r.pluginKinds, ms(r.pluginLists)), "(one per kind per cluster)"},
		{"memory: RSS / Go heap after settling", fmt.Sprintf("%s / %s", mib(r.rss), mib(r.heap)), "< 300 MiB (at large scale)"},
		{"memory: peak RSS (VmHWM, whole run)", mib(r.peakRSS), "< 300 MiB (at large scale)"},
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "what\tmeasured\ttarget (DESIGN.md §8)")
	_, _ = fmt.Fprintln(tw, "----\t--------\t---------------------")
	for _, rw := range rows {
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\n", rw.what, rw.got, rw.target)
	}
	_ = tw.Flush()
	if len(r.notes) > 0 {
		_, _ = fmt.Fprintln(w, "\nNotes:")
		for _, n := range r.notes {
			_, _ = fmt.Fprintln(w, "  - "+strings.TrimSpace(n))
		}
	}
}

// loadLine is the API server's CPU and writes over a phase of d, per change when changes
// were made.
func loadLine(cpu float64, writes []string, d time.Duration, changes int) string {
	if writes == nil {
		return "(not measured)"
	}
	perChange := ""
	if changes > 0 {
		perChange = fmt.Sprintf(", %.1f ms per change", cpu*1000/float64(changes))
	}
	writes = writes[:min(len(writes), 5)]
	return fmt.Sprintf("%.1f CPU s (%.2f cores%s); writes: %s", cpu, cpu/max(d.Seconds(), 1e-9), perChange, strings.Join(writes, ", "))
}
