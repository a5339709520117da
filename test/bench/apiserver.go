package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
)

// serverLoad is what the API server has done so far, from its own /metrics: CPU
// seconds, and requests by "VERB resource[/subresource]".
type serverLoad struct {
	cpu      float64
	requests map[string]float64
}

// readServerLoad scrapes the API server's /metrics. A plain-text parse is enough: the
// bench needs process CPU and one counter summed by three labels.
func readServerLoad(ctx context.Context, kube kubernetes.Interface) (serverLoad, error) {
	raw, err := kube.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return serverLoad{}, fmt.Errorf("reading the API server's metrics: %w", err)
	}
	load := serverLoad{requests: map[string]float64{}}
	err = eachSample(bytes.NewReader(raw), func(line string, v float64) {
		switch {
		case strings.HasPrefix(line, "process_cpu_seconds_total "):
			load.cpu = v
		case strings.HasPrefix(line, "apiserver_request_total{"):
			labels := labelValues(line)
			key := labels["verb"] + " " + labels["resource"]
			if sub := labels["subresource"]; sub != "" {
				key += "/" + sub
			}
			load.requests[key] += v
		}
	})
	return load, err
}

// labelValues parses the {a="x",b="y"} part of a metric line. Label values here are
// Kubernetes names and verbs: no escaped quotes.
func labelValues(line string) map[string]string {
	out := map[string]string{}
	open, end := strings.IndexByte(line, '{'), strings.IndexByte(line, '}')
	if open < 0 || end < open {
		return out
	}
	for _, kv := range strings.Split(line[open+1:end], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if ok {
			out[k] = strings.Trim(v, `"`)
		}
	}
	return out
}

// writesSince lists the write requests (not GET, LIST or WATCH) between two readings,
// most first, as "N VERB resource".
func writesSince(before, after serverLoad) []string {
	type count struct {
		key string
		n   float64
	}
	var counts []count
	for k, v := range after.requests {
		verb, _, _ := strings.Cut(k, " ")
		if n := v - before.requests[k]; n > 0 && verb != "GET" && verb != "LIST" && verb != "WATCH" {
			counts = append(counts, count{k, n})
		}
	}
	sort.Slice(counts, func(i, j int) bool { return counts[i].n > counts[j].n })
	out := make([]string, 0, len(counts))
	for _, c := range counts {
		out = append(out, fmt.Sprintf("%.0f %s", c.n, c.key))
	}
	return out
}

// serverProfile fetches the API server's CPU profile over d (kube-apiserver serves
// /debug/pprof to an admin) into file.
func serverProfile(ctx context.Context, kube kubernetes.Interface, d time.Duration, file string) error {
	raw, err := kube.CoreV1().RESTClient().Get().AbsPath("/debug/pprof/profile").
		Param("seconds", strconv.Itoa(int(d.Seconds()))).Timeout(d + time.Minute).DoRaw(ctx)
	if err != nil {
		return fmt.Errorf("reading the API server's CPU profile: %w", err)
	}
	return os.WriteFile(file, raw, 0o644)
}
