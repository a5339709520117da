package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"

	"github.com/entityhub/entityhub/test/testenv"
)

// restartTimeout bounds each wait of the restart and the hand-over.
const restartTimeout = 10 * time.Minute

// restart is what the restart over the settled fleet and the leader hand-over measured.
type restart struct {
	// floor is how long bare client-go informers took to list the kinds the manager
	// lists, and objects how many they listed.
	floor   time.Duration
	objects int
	// ready is the time from starting the manager until its /readyz said every entity
	// was verified; writes the entity writes and creates (and Events) made meanwhile.
	ready  time.Duration
	writes []string
	// handover is from SIGTERM of the leader until the standby led with every entity
	// verified; handoverWrites as for writes.
	handover       time.Duration
	handoverWrites []string
	peakRSS        float64
	err            error
}

// leaderArgs have a manager elect its leader through the Lease in the catalog
// namespace, as the Deployment does.
var leaderArgs = []string{"--leader-elect", "--leader-election-namespace=" + catalogNS}

// measureRestart stops the first manager once settled, lists what it lists with bare
// informers (the floor), starts the manager again over the settled fleet and times it
// until ready, then starts a standby and times the hand-over from SIGTERM of the leader.
func (b *bench) measureRestart(ctx context.Context, stop context.CancelFunc) error {
	rs := &b.r.restart
	say("Waiting for status writes to settle before the restart")
	if err := settle(ctx, b.metricsAddr, 5*time.Second, 2*time.Minute); err != nil {
		return err
	}
	var err error
	if b.r.peakRSS, err = peakRSS(b.first.mgr.Pid()); err != nil {
		return err
	}
	say("Stopping the manager")
	if err := b.first.stop(); err != nil {
		return err
	}

	say("Listing the same kinds with bare informers (the floor)")
	if rs.floor, rs.objects, err = listingFloor(ctx, b); err != nil {
		return err
	}
	say("Bare informers listed %d objects in %.1f s", rs.objects, rs.floor.Seconds())

	say("Starting the manager again over the settled fleet")
	before, loadErr := readServerLoad(ctx, b.kube)
	leader, err := b.launch(ctx, stop, "restarted", leaderArgs...)
	if err != nil {
		return err
	}
	// Until it leads, a replica is ready once its cache of entities is in (it serves the
	// catalog endpoint); once it leads, only when every entity is verified.
	if rs.err = waitLeading(ctx, leader, restartTimeout); rs.err != nil {
		return nil
	}
	if rs.err = waitReady(ctx, leader, restartTimeout); rs.err != nil {
		return nil
	}
	rs.ready = time.Since(leader.started)
	if after, err := readServerLoad(ctx, b.kube); err == nil && loadErr == nil {
		rs.writes = b.entityWrites(ctx, before, after, leader.started)
	}
	say("Ready, every entity verified, %.1f s after start", rs.ready.Seconds())

	say("Starting a standby, then stopping the leader (hand-over)")
	standby, err := b.launch(ctx, stop, "standby", leaderArgs...)
	if err != nil {
		return err
	}
	// A replica waiting to lead is ready once its cache of entities is in.
	if rs.err = waitReady(ctx, standby, restartTimeout); rs.err != nil {
		return nil
	}
	if rs.peakRSS, err = peakRSS(leader.mgr.Pid()); err != nil {
		return err
	}
	before, loadErr = readServerLoad(ctx, b.kube)
	t0 := time.Now()
	if err := leader.stop(); err != nil {
		return err
	}
	if rs.err = waitLeading(ctx, standby, restartTimeout); rs.err != nil {
		return nil
	}
	if rs.err = waitReady(ctx, standby, restartTimeout); rs.err != nil {
		return nil
	}
	rs.handover = time.Since(t0)
	if after, err := readServerLoad(ctx, b.kube); err == nil && loadErr == nil {
		rs.handoverWrites = b.entityWrites(ctx, before, after, t0)
	}
	say("The standby led with every entity verified %.1f s after SIGTERM of the leader", rs.handover.Seconds())
	return nil
}

// listingFloor starts a bare client-go informer for each kind the manager lists at
// start — the fleet's source kinds and CatalogEntities — at once, and returns how long
// until all had listed, and how many objects they hold.
func listingFloor(ctx context.Context, b *bench) (time.Duration, int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // the floor's informers stop with it
	factory := dynamicinformer.NewDynamicSharedInformerFactory(b.dyn, 0)
	var synced []cache.InformerSynced
	var stores []cache.Store
	for _, gvr := range append(slices.Clone(sourceKinds), entityGVR) {
		inf := factory.ForResource(gvr).Informer()
		synced = append(synced, inf.HasSynced)
		stores = append(stores, inf.GetStore())
	}
	start := time.Now()
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return 0, 0, fmt.Errorf("the floor's informers did not list: %w", ctx.Err())
	}
	took := time.Since(start)
	n := 0
	for _, s := range stores {
		n += len(s.ListKeys())
	}
	cancel()
	factory.Shutdown()
	return took, n, nil
}

// waitReady polls p's /readyz every 20 ms until it answers 200.
func waitReady(ctx context.Context, p *process, timeout time.Duration) error {
	var last error
	err := poll(ctx, timeout, func() bool {
		last = testenv.Ready(ctx, p.probeAddr)
		return last == nil
	})
	if err != nil {
		return fmt.Errorf("the %s manager not ready after %s (%v): %w (log: %s)", p.name, timeout, last, err, p.mgr.LogPath)
	}
	return nil
}

// waitLeading polls p's metrics until it says it leads.
func waitLeading(ctx context.Context, p *process, timeout time.Duration) error {
	err := poll(ctx, timeout, func() bool {
		m, err := scrape(ctx, p.metricsAddr, "leader_election_master_status")
		return err == nil && m["leader_election_master_status"] >= 1
	})
	if err != nil {
		return fmt.Errorf("the %s manager did not lead after %s: %w (log: %s)", p.name, timeout, err, p.mgr.LogPath)
	}
	return nil
}

// poll calls ok every 20 ms until it says yes, ctx ends or timeout passes.
func poll(ctx context.Context, timeout time.Duration, ok func() bool) error {
	deadline := time.Now().Add(timeout)
	for {
		if ok() {
			return nil
		}
		if time.Now().After(deadline) {
			return context.DeadlineExceeded
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// entityWrites are what a restart must not write, between two readings of the API
// server's load: writes to CatalogEntities (creates, patches, status), and the Events
// about CatalogEntities created since t0. Events are counted by listing them, as the
// API server's counter of Event writes also counts the leader election's own.
func (b *bench) entityWrites(ctx context.Context, before, after serverLoad, t0 time.Time) []string {
	var out []string
	for _, w := range writesSince(before, after) {
		// An Event repeated is a PATCH of its series; a new one is counted below.
		if strings.Contains(w, "catalogentities") || strings.HasSuffix(w, "PATCH events") {
			out = append(out, w)
		}
	}
	events, err := b.kube.CoreV1().Events(catalogNS).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.kind=CatalogEntity"})
	if err != nil {
		return append(out, "(Events not counted: "+err.Error()+")")
	}
	n := 0
	for _, e := range events.Items {
		if !e.CreationTimestamp.Time.Before(t0.Truncate(time.Second)) {
			n++
		}
	}
	if n > 0 {
		out = append(out, fmt.Sprintf("%d Events about entities", n))
	}
	return out
}
