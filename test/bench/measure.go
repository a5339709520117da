package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"

	"github.com/entityhub/entityhub/test/testenv"
)

// scrape reads the manager's /metrics and returns the sum of each named metric over
// all its label sets. A plain-text parse is enough: the bench needs a handful of sums.
func scrape(ctx context.Context, addr string, names ...string) (map[string]float64, error) {
	resp, err := testenv.Get(ctx, "http://"+addr+"/metrics")
	if err != nil {
		return nil, fmt.Errorf("reading the manager's metrics: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the manager's metrics answered %s", resp.Status)
	}
	out := map[string]float64{}
	err = eachSample(resp.Body, func(line string, v float64) {
		for _, n := range names {
			if strings.HasPrefix(line, n) && len(line) > len(n) && (line[len(n)] == '{' || line[len(n)] == ' ') {
				out[n] += v
			}
		}
	})
	return out, err
}

// eachSample calls fn with each sample line of a Prometheus text exposition and its
// value; comments and lines without a number are skipped.
func eachSample(r io.Reader, fn func(line string, v float64)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) < 2 || strings.HasPrefix(line, "#") {
			continue
		}
		if v, err := strconv.ParseFloat(fields[len(fields)-1], 64); err == nil {
			fn(line, v)
		}
	}
	return sc.Err()
}

// peakRSS is the process's peak resident set size (VmHWM), in bytes.
func peakRSS(pid int) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, err := strconv.ParseFloat(f[1], 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

// coldStart waits until every entity of the fleet exists and its status is computed for
// its generation with the expected number of sources, and returns the time from start
// until a watcher saw the last of them so. It watches rather than polls: at the large
// preset one LIST of every entity is tens of megabytes, and LISTs every fraction of a
// second would load the API server more than the manager does. On timeout it says how
// many were still wrong.
func coldStart(ctx context.Context, dyn dynamic.Interface, f *fleet, start time.Time, timeout time.Duration) (time.Duration, error) {
	var (
		mu      sync.Mutex
		correct = map[string]bool{}
		last    time.Time
		example string
		// finished: every entity was correct at once; done is closed then.
		finished bool
		done     = make(chan struct{})
	)
	judge := func(obj any) {
		at := time.Now()
		e, ok := obj.(*unstructured.Unstructured)
		if !ok {
			return
		}
		want, ok := f.expected[e.GetName()]
		if !ok {
			return
		}
		og, _, _ := unstructured.NestedInt64(e.Object, "status", "observedGeneration")
		sc, _, _ := unstructured.NestedInt64(e.Object, "status", "sourceCount")
		mu.Lock()
		defer mu.Unlock()
		if finished {
			return
		}
		if og == e.GetGeneration() && int32(sc) == want {
			correct[e.GetName()] = true
			last = at
		} else {
			delete(correct, e.GetName())
			example = fmt.Sprintf("%s: observedGeneration %d of %d, sourceCount %d of %d", e.GetName(), og, e.GetGeneration(), sc, want)
		}
		if len(correct) == len(f.expected) {
			finished = true
			close(done)
		}
	}
	watchCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	factory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(dyn, 0, catalogNS, nil)
	inf := factory.ForResource(entityGVR).Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    judge,
		UpdateFunc: func(_, obj any) { judge(obj) },
	}); err != nil {
		return 0, err
	}
	factory.Start(watchCtx.Done())
	select {
	case <-done:
		mu.Lock()
		defer mu.Unlock()
		return last.Sub(start), nil
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-time.After(time.Until(start.Add(timeout))):
		mu.Lock()
		defer mu.Unlock()
		return 0, fmt.Errorf("after %s, %d of %d entities are correct (e.g. %s)", timeout, len(correct), len(f.expected), example)
	}
}

// settle waits until the manager's status writes have stopped for quiet, or max passes.
func settle(ctx context.Context, addr string, quiet, maxWait time.Duration) error {
	deadline := time.Now().Add(maxWait)
	last, since := -1.0, time.Now()
	for time.Now().Before(deadline) {
		m, err := scrape(ctx, addr, "entityhub_status_writes_total")
		if err != nil {
			return err
		}
		if v := m["entityhub_status_writes_total"]; v != last {
			last, since = v, time.Now()
		} else if time.Since(since) >= quiet {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	return nil
}

// percentile returns the p-th percentile (0 < p ≤ 100) of ds, nearest rank.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(float64(len(s))*p/100+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// pageView makes the reads behind one Backstage entity page: with entityhub, one LIST of
// CatalogEntities by the entity's label; without it, the Kubernetes plugin's one LIST
// per configured kind per cluster. It returns the time each took and what entityhub's
// LIST returned.
func pageView(ctx context.Context, dyn dynamic.Interface, entity string) (hub, plugin time.Duration, found int, err error) {
	opts := metav1.ListOptions{LabelSelector: idLabel + "=" + entity}
	start := time.Now()
	list, err := dyn.Resource(entityGVR).List(ctx, opts)
	if err != nil {
		return 0, 0, 0, err
	}
	hub = time.Since(start)
	start = time.Now()
	for _, gvr := range sourceKinds {
		if _, err := dyn.Resource(gvr).List(ctx, opts); err != nil {
			return 0, 0, 0, err
		}
	}
	return hub, time.Since(start), len(list.Items), nil
}
