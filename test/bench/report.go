package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// row is one line of the results table: a figure beside its DESIGN.md §8 target, and
// whether it met it when the target is a bound.
type row struct {
	what, got, target string
	verdict           string
}

// verdict says whether a figure met its target.
func verdict(met bool) string {
	if met {
		return "met"
	}
	return "MISSED"
}

// report is everything the bench measured, ready to print.
type report struct {
	sizes      sizes
	sources    int
	createTook time.Duration
	createReqs int64
	coldStart  time.Duration
	coldErr    error
	// firstReady is when the first manager's /readyz said ready (-1: never).
	firstReady time.Duration
	// coldCPU and coldWrites are the API server's CPU seconds and write requests over
	// the cold start.
	coldCPU    float64
	coldWrites []string
	// ramp found the sustainable rates; below ran at half the relay's, saturated at
	// the rate asked by -rate.
	ramp             ramp
	below, saturated phase
	restart          restart
	soak             []soakSample
	soakRate         float64
	quietWindow      time.Duration
	quietWrites      float64
	quietReqs        float64
	reqsBefore       float64
	hubList          time.Duration
	pluginLists      time.Duration
	pluginKinds      int
	pageFound        int
	rss, heap        float64
	// coldPeakRSS is the first manager's peak RSS at the end of the first install;
	// peakRSS its peak over the whole run, read before the restart.
	coldPeakRSS float64
	peakRSS     float64
	large       bool
	notes       []string
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func mib(b float64) string { return fmt.Sprintf("%.0f MiB", b/(1<<20)) }

// print writes the table. Targets are printed, never enforced: a benchmark measures.
func (r *report) print(w io.Writer) {
	rows := []row{
		{what: "fleet", got: fmt.Sprintf("%d Applications, %d managed resources (%d per claim), %d Workflows, %d entities; %d sources",
			r.sizes.Apps, r.sizes.MRs, r.sizes.MRsPerClaim, r.sizes.Workflows, r.sizes.Entities, r.sources), target: "10,000 / 50,000 / 10,000 (-scale large)"},
		{what: "fleet creation", got: fmt.Sprintf("%.1f s, %d requests", r.createTook.Seconds(), r.createReqs), target: "(setup, no target)"},
	}
	rows = append(rows, r.installRows()...)
	rows = append(rows, r.rateRows()...)
	rows = append(rows, r.phaseRows("below saturation", r.below, true)...)
	rows = append(rows, r.phaseRows("saturated", r.saturated, false)...)
	perMin := func(v float64) string { return fmt.Sprintf("%.1f /min", v/r.quietWindow.Minutes()) }
	rows = append(rows,
		row{what: "quiet: status writes", got: perMin(r.quietWrites), target: "0 /min", verdict: verdict(r.quietWrites == 0)},
		row{what: "quiet: manager API requests", got: fmt.Sprintf("%s (%.0f requests from start to settled)", perMin(r.quietReqs), r.reqsBefore), target: "(no target; low)"},
		row{what: "page view: entityhub", got: fmt.Sprintf("1 LIST (%s, %d entity)", ms(r.hubList), r.pageFound), target: "one LIST per entity page"},
		row{what: "page view: Kubernetes plugin", got: fmt.Sprintf("%d LISTs = %d kinds × 1 cluster (%s)", r.pluginKinds, r.pluginKinds, ms(r.pluginLists)), target: "(one per kind per cluster)"},
		row{what: "memory: RSS / Go heap after settling", got: fmt.Sprintf("%s / %s", mib(r.rss), mib(r.heap)), target: "< 300 MiB (at large scale)"},
		row{what: "memory: peak RSS over the whole run", got: mib(r.peakRSS), target: "(first install and every run of changes; no target)"},
	)
	rows = append(rows, r.restartRows()...)
	rows = append(rows, r.soakRows()...)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "what\tmeasured\ttarget (DESIGN.md §8)\t")
	_, _ = fmt.Fprintln(tw, "----\t--------\t---------------------\t")
	for _, rw := range rows {
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", rw.what, rw.got, rw.target, rw.verdict)
	}
	_ = tw.Flush()
	if len(r.notes) > 0 {
		_, _ = fmt.Fprintln(w, "\nNotes:")
		for _, n := range r.notes {
			_, _ = fmt.Fprintln(w, "  - "+strings.TrimSpace(n))
		}
	}
}

// atLarge is the verdict of a target stated for the large fleet: none at other sizes.
func (r *report) atLarge(met bool) string {
	if !r.large {
		return ""
	}
	return verdict(met)
}

// installRows are the first install's: cold start, its load, its peak memory.
func (r *report) installRows() []row {
	cold, coldMet := "not reached: "+fmt.Sprint(r.coldErr), false
	if r.coldErr == nil {
		cold, coldMet = fmt.Sprintf("%.1f s", r.coldStart.Seconds()), r.coldStart <= 30*time.Second
	}
	return []row{
		{what: "first install: all entities published", got: cold, target: "≤ 30 s (at large scale)", verdict: r.atLarge(coldMet)},
		{what: "first install: /readyz ready", got: readyLine(r.firstReady), target: "(once every entity is verified)"},
		{what: "first install: API server", got: loadLine(r.coldCPU, r.coldWrites, r.coldStart, 0), target: "(diagnosis, no target)"},
		{what: "first install: peak RSS (VmHWM)", got: mib(r.coldPeakRSS), target: "< 300 MiB (at large scale)", verdict: r.atLarge(r.coldPeakRSS < 300<<20)},
	}
}

func readyLine(d time.Duration) string {
	if d < 0 {
		return "never"
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// rateRows are the sustainable rates the ramp found.
func (r *report) rateRows() []row {
	relay, mgr := r.ramp.relay, r.ramp.mgr
	limit := func(st rampState) string {
		switch {
		case st.pass == 0:
			return fmt.Sprintf("none (failed at %.0f/s)", st.fail)
		case st.fail == 0:
			return fmt.Sprintf("%.0f/s (kept up with every rate tried)", st.pass)
		}
		return fmt.Sprintf("%.0f/s (not at %.0f/s)", st.pass, st.fail)
	}
	ratio, met := "—", false
	if relay.pass > 0 {
		ratio, met = fmt.Sprintf("%.2f×", mgr.pass/relay.pass), mgr.pass >= 0.7*relay.pass
	}
	return []row{
		{what: "sustainable rate: bare relay alone", got: limit(relay), target: "(the floor; achieved ≥ 95 % of asked, p99 < 100 ms)"},
		{what: "sustainable rate: manager alone", got: limit(mgr), target: "(same rule)"},
		{what: "throughput: manager / relay", got: ratio, target: "≥ 0.7×", verdict: verdict(met)},
		{what: "API server CPU per change, alone", got: fmt.Sprintf("relay %s (Application patch + ConfigMap patch); manager %s (Application patch + entity status write)",
			ms(relay.cpu), ms(mgr.cpu)), target: "(diagnosis, at the first step of each ramp)"},
		{what: "ramp", got: fmt.Sprintf("relay alone %s; manager alone %s", stepList(relay), stepList(mgr)), target: "(how the rates were found: ✓ kept up)"},
	}
}

// stepList is a ramp's steps, as "rate✓" or "rate✗" each.
func stepList(st rampState) string {
	out := make([]string, 0, len(st.steps))
	for _, s := range st.steps {
		out = append(out, fmt.Sprintf("%.0f%s", s.asked, strings.TrimSpace(passMark(s.keptUp(st.w.relay)))))
	}
	return strings.Join(out, " ")
}

// phaseRows are a run's rate, both watchers' latencies, their ratio, and the load.
func (r *report) phaseRows(name string, p phase, bounded bool) []row {
	f := p.fresh
	mp99, rp99 := percentile(f.mgr, 99), percentile(f.relay, 99)
	ratio, met := "—", false
	if rp99 > 0 && mp99 > 0 && f.mgrMissed == 0 {
		ratio, met = fmt.Sprintf("%.2f×", float64(mp99)/float64(rp99)), float64(mp99) <= 1.5*float64(rp99)
	}
	lat := func(ds []time.Duration, missed int) string {
		return fmt.Sprintf("%s / %s / %s (%d seen, %d missed)", ms(percentile(ds, 50)), ms(percentile(ds, 90)), ms(percentile(ds, 99)), len(ds), missed)
	}
	rows := []row{
		{what: name + ": rate", got: fmt.Sprintf("%.1f changes/s asked, %.1f/s achieved (%d changes in %.0f s)",
			f.asked, f.achieved(), f.written, f.elapsed.Seconds()), target: map[bool]string{true: "half the relay's sustainable rate, ≥ 2,000 changes", false: "(throughput, no target)"}[bounded]},
		{what: name + ": manager p50/p90/p99", got: lat(f.mgr, f.mgrMissed), target: "p99 < 50 ms"},
		{what: name + ": bare relay p50/p90/p99", got: lat(f.relay, f.relayMiss), target: "(the floor)"},
		{what: name + ": p99 manager / relay", got: ratio, target: "≤ 1.5×"},
		{what: name + ": inside the manager", got: p.inside, target: "(diagnosis, no target)"},
		{what: name + ": API server", got: loadLine(p.serverCPU, p.serverWrites, f.elapsed, f.written), target: "(diagnosis, no target)"},
	}
	if bounded {
		rows[0].verdict = verdict(f.written >= belowChanges)
		rows[1].verdict = verdict(f.mgrMissed == 0 && len(f.mgr) > 0 && mp99 < 50*time.Millisecond)
		rows[3].verdict = verdict(met)
	} else {
		rows[1].target, rows[3].target = "(saturated: no target)", "(saturated: no target)"
	}
	return rows
}

// restartRows are the restart's and the hand-over's against the listing floor.
func (r *report) restartRows() []row {
	rs := r.restart
	if rs.err != nil {
		return []row{{what: "restart", got: "not measured: " + rs.err.Error(), target: "≤ 1.5× the listing floor, zero writes", verdict: "MISSED"}}
	}
	if rs.floor == 0 {
		return nil
	}
	times := func(d time.Duration) string {
		return fmt.Sprintf("%.1f s (%.2f× the floor)", d.Seconds(), float64(d)/float64(rs.floor))
	}
	writes := func(ws []string) string {
		if len(ws) == 0 {
			return "none"
		}
		return strings.Join(ws, ", ")
	}
	return []row{
		{what: "restart: bare informers list the same kinds", got: fmt.Sprintf("%.1f s, %d objects", rs.floor.Seconds(), rs.objects), target: "(the floor)"},
		{what: "restart: every entity verified (/readyz)", got: times(rs.ready), target: "≤ 1.5× the floor (at large scale)", verdict: r.atLarge(float64(rs.ready) <= 1.5*float64(rs.floor))},
		{what: "restart: entity writes and Events", got: writes(rs.writes), target: "none", verdict: verdict(len(rs.writes) == 0)},
		{what: "hand-over: SIGTERM → standby leads, all verified", got: times(rs.handover), target: "(no target; the floor above)"},
		{what: "hand-over: entity writes and Events", got: writes(rs.handoverWrites), target: "none", verdict: verdict(len(rs.handoverWrites) == 0)},
		{what: "restart: peak RSS of the restarted manager", got: mib(rs.peakRSS), target: "< 300 MiB (at large scale)", verdict: r.atLarge(rs.peakRSS < 300<<20)},
	}
}

// soakRows are the soak's first and last samples, and the highest.
func (r *report) soakRows() []row {
	if len(r.soak) < 2 {
		return nil
	}
	first, last := r.soak[0], r.soak[len(r.soak)-1]
	var peak soakSample
	missed := 0
	for _, s := range r.soak {
		peak.rss, peak.heap = max(peak.rss, s.rss), max(peak.heap, s.heap)
		peak.goroutines, peak.fds, peak.sockets = max(peak.goroutines, s.goroutines), max(peak.fds, s.fds), max(peak.sockets, s.sockets)
		missed += s.mgrMissed
	}
	span := fmt.Sprintf("soak (%.0f min at %.1f/s)", last.at.Minutes(), r.soakRate)
	return []row{
		{what: span + ": RSS start → end (max)", got: fmt.Sprintf("%s → %s (%s)", mib(first.rss), mib(last.rss), mib(peak.rss)), target: "flat"},
		{what: span + ": Go heap start → end (max)", got: fmt.Sprintf("%s → %s (%s)", mib(first.heap), mib(last.heap), mib(peak.heap)), target: "flat"},
		{what: span + ": goroutines, open files, sockets", got: fmt.Sprintf("%.0f → %.0f, %.0f → %.0f, %d → %d",
			first.goroutines, last.goroutines, first.fds, last.fds, first.sockets, last.sockets), target: "flat"},
		{what: span + ": manager p99 of the last minute", got: fmt.Sprintf("%s (%d changes missed in all)", last.mgrP99, missed), target: "(as below saturation)"},
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
