package main

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
)

// Keeping up, the rule by which the ramp finds a sustainable rate (DESIGN.md §8): the
// source writes achieved are at least keepUpAchieved of those asked, and the p99 of the
// time until a watcher sees a change, counting a change never seen as slower than any, is
// under keepUpP99.
const (
	keepUpAchieved = 0.95
	keepUpP99      = 100 * time.Millisecond
	// missAfter is how long a change may go unseen before it counts as missed.
	missAfter = 10 * time.Second
)

// change is one source write and when each watcher saw it.
type change struct {
	seq    int64
	entity string
	app    string        // the Application written
	t0     time.Time     // just before the write; zero until then
	mgr    time.Duration // zero until seen
	relay  time.Duration
}

// freshness is the outcome of one run of changes.
type freshness struct {
	// asked is the rate asked for; issued the changes issued, written those whose
	// source write succeeded, and elapsed the time from the first to the last write.
	asked                float64
	issued, written      int
	mgrMissed, relayMiss int
	elapsed              time.Duration
	mgr, relay           []time.Duration
}

// achieved is the rate of source writes made.
func (f freshness) achieved() float64 { return float64(f.written) / max(f.elapsed.Seconds(), 1e-9) }

// p99 is a watcher's 99th percentile with its missed changes counted as slower than any
// seen: +Inf when more than 1 % were missed.
func p99(seen []time.Duration, missed int) time.Duration {
	n := len(seen) + missed
	if n == 0 {
		return time.Duration(math.MaxInt64)
	}
	rank := int(math.Ceil(float64(n) * 0.99))
	if rank > len(seen) {
		return time.Duration(math.MaxInt64)
	}
	return percentile(seen, 100*float64(rank)/float64(len(seen)))
}

// of returns what one watcher saw of run f, the relay's or the manager's: the times
// until it saw each change, and how many it missed.
func (f freshness) of(relay bool) ([]time.Duration, int) {
	if relay {
		return f.relay, f.relayMiss
	}
	return f.mgr, f.mgrMissed
}

// keptUp reports whether a watcher kept up with run f, by the rule above; a watcher
// that did not take part did not.
func (f freshness) keptUp(relay bool) bool {
	if f.written == 0 || f.achieved() < keepUpAchieved*f.asked {
		return false
	}
	return p99(f.of(relay)) < keepUpP99
}

// tracker matches what the watchers see to the changes made. A watcher that shows a
// change has shown every earlier change of the same entity too, so a change folded into
// a later one (as a controller's queue folds events) counts as seen when the later one
// is: that is when the entity was at least as fresh.
type tracker struct {
	mu   sync.Mutex
	open map[string][]*change // per entity, in order: changes not seen by every watcher expected
	res  freshness
	// expect says which watchers are to see the changes of the current run.
	expect watchers
}

// watchers says which of the two watchers take part in a run.
type watchers struct{ mgr, relay bool }

// done reports whether every watcher expected saw c.
func (w watchers) done(c *change) bool { return (!w.mgr || c.mgr != 0) && (!w.relay || c.relay != 0) }

func newTracker() *tracker { return &tracker{open: map[string][]*change{}} }

func (t *tracker) seen(relay bool) func(entity string, seq int64, at time.Time) {
	return func(entity string, seq int64, at time.Time) {
		t.mu.Lock()
		defer t.mu.Unlock()
		list := t.open[entity]
		keep := list[:0]
		for _, c := range list {
			if c.seq <= seq && !c.t0.IsZero() {
				d := max(at.Sub(c.t0), time.Nanosecond)
				switch {
				case relay && c.relay == 0:
					c.relay = d
					t.res.relay = append(t.res.relay, d)
				case !relay && c.mgr == 0:
					c.mgr = d
					t.res.mgr = append(t.res.mgr, d)
				}
			}
			if !t.expect.done(c) {
				keep = append(keep, c)
			}
		}
		t.open[entity] = keep
	}
}

// expire gives up on changes written longer than timeout ago, counting what was not seen.
func (t *tracker) expire(timeout time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for e, list := range t.open {
		keep := list[:0]
		for _, c := range list {
			if c.t0.IsZero() || time.Since(c.t0) < timeout {
				keep = append(keep, c)
				continue
			}
			if t.expect.mgr && c.mgr == 0 {
				t.res.mgrMissed++
			}
			if t.expect.relay && c.relay == 0 {
				t.res.relayMiss++
			}
		}
		t.open[e] = keep
	}
}

// inFlight counts the changes not yet seen by both watchers.
func (t *tracker) inFlight() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, list := range t.open {
		n += len(list)
	}
	return n
}

// take returns what was measured since the last take, and starts afresh.
func (t *tracker) take() freshness {
	t.mu.Lock()
	defer t.mu.Unlock()
	res := t.res
	t.res = freshness{}
	return res
}

// begin starts a run that w take part in.
func (t *tracker) begin(w watchers) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expect = w
}

// runFreshness writes rate source changes per second for duration, each flipping the
// health of one of apps (one Application per entity) between Degraded and Progressing
// with a new sequence number in its message, spread round-robin over the entities, and
// times when the watchers w show each one: the manager's entity, the relay's ConfigMap.
// Each entity's changes go through one writer, so that they land in order.
func runFreshness(ctx context.Context, dyn dynamic.Interface, f *fleet, apps map[string]string, w watchers, t *tracker,
	rate float64, duration time.Duration, writers int) freshness {
	var candidates []string
	for _, e := range f.entities {
		if _, ok := apps[e]; ok {
			candidates = append(candidates, e)
		}
	}
	t.begin(w)
	queues := make([]chan *change, writers)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first, last time.Time
	written := 0
	for w := range queues {
		queues[w] = make(chan *change, 1024)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range queues[w] {
				at, ok := t.write(ctx, dyn, c)
				if !ok {
					continue
				}
				mu.Lock()
				if first.IsZero() || at.Before(first) {
					first = at
				}
				last = time.Now()
				written++
				mu.Unlock()
			}
		}()
	}

	t.issue(ctx, candidates, apps, queues, rate, duration)
	for _, q := range queues {
		close(q)
	}
	wg.Wait()
	// Let the last changes arrive before counting what was missed.
	for deadline := time.Now().Add(missAfter); time.Now().Before(deadline) && t.inFlight() > 0; {
		time.Sleep(50 * time.Millisecond)
	}
	t.expire(0)
	res := t.take()
	res.asked, res.written = rate, written
	// A run of n writes spans n intervals of 1/rate, the first from its start.
	res.elapsed = last.Sub(first)
	if written > 1 {
		res.elapsed = time.Duration(float64(res.elapsed) * float64(written) / float64(written-1))
	}
	return res
}

// write makes the source write of change c and returns when it began; a change whose
// write fails is dropped.
func (t *tracker) write(ctx context.Context, dyn dynamic.Interface, c *change) (time.Time, bool) {
	health := "Degraded"
	if c.seq%2 == 0 {
		health = "Progressing"
	}
	t.mu.Lock()
	// The clock starts just before the write, as for both watchers.
	c.t0 = time.Now()
	start := c.t0
	t.mu.Unlock()
	// Argo CD writes reconciledAt with every refresh that changes health.
	patch := fmt.Appendf(nil, `{"status":{"health":{"status":%q,"message":%q},"reconciledAt":%q}}`,
		health, seqMessage(c.seq), start.UTC().Format(time.RFC3339))
	// Application has no status subresource: status is patched on the object.
	if _, err := dyn.Resource(appGVR).Namespace(argocdNS).Patch(ctx, c.app, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.mu.Lock()
		defer t.mu.Unlock()
		list := t.open[c.entity]
		for i, o := range list {
			if o == c {
				t.open[c.entity] = append(list[:i], list[i+1:]...)
				break
			}
		}
		return time.Time{}, false
	}
	return start, true
}

// issue hands a new change rate times per second for duration to the writer of the
// next of candidates, round-robin; changes unseen for missAfter are given up as missed.
// A writer that falls behind holds issuing up, which shows as a lower rate achieved.
func (t *tracker) issue(ctx context.Context, candidates []string, apps map[string]string, queues []chan *change, rate float64, duration time.Duration) {
	if len(candidates) == 0 {
		return
	}
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	lastExpire := start
	// Changes are issued on a schedule, not a ticker: a ticker drops ticks when the
	// loop is late, and a late loop must catch up to keep the rate asked.
	for i := int64(0); ; i++ {
		at := start.Add(time.Duration(i) * interval)
		if at.Sub(start) >= duration {
			return
		}
		if d := time.Until(at); d > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(d):
			}
		}
		if time.Since(lastExpire) > time.Second {
			t.expire(missAfter)
			lastExpire = time.Now()
		}
		e := candidates[int(i)%len(candidates)]
		c := &change{seq: nextSeq(), entity: e, app: apps[e]}
		t.mu.Lock()
		t.open[e] = append(t.open[e], c)
		t.res.issued++
		t.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case queues[writerOf(e, len(queues))] <- c:
		}
	}
}

// seqs numbers the changes of the whole bench, so that no run can take a change of
// another for its own.
var seqs struct {
	sync.Mutex
	n int64
}

func nextSeq() int64 {
	seqs.Lock()
	defer seqs.Unlock()
	seqs.n++
	return seqs.n
}

// writerOf is the writer an entity's changes go through.
func writerOf(entity string, writers int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(entity))
	return int(h.Sum32() % uint32(writers))
}
