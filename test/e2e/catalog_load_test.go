package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/setup"
	"github.com/entityhub/entityhub/test/testenv"
)

// The catalog endpoint of a hub of 10,000 entities, hammered by many clients asking for
// distinct filtered bodies at once — what a tenant, or a broken script, can do: the
// manager's heap stays under its GOMEMLIMIT, requests beyond the render bound get 503
// with Retry-After, Backstage's unfiltered request is always answered, and nothing else
// fails.
//
// It runs a manager of its own, with GOMEMLIMIT set as config/manager sets it and
// leader election on, its Lease held by a made-up holder: it never leads, so it only
// serves, from its own cache. The suite's manager is stopped meanwhile and started
// again after: on two shared cores, its 10,000 status writes (and the API server's work
// for them) would double the time to create and delete the entities, and change them
// all through the load.
var _ = Describe("The catalog endpoint under load", Ordered, Label("load"), func() {
	const (
		namespace  = "catalog-load"
		entities   = 10000
		workers    = 16
		clients    = 48
		loadFor    = 20 * time.Second
		memLimit   = 450 << 20
		namespaces = 25 // Backstage namespaces the entities spread over
	)
	ctx := context.Background()
	var (
		loadManager         *testenv.Manager
		catalog, metricsURL string
	)

	BeforeAll(func() {
		dir := GinkgoT().TempDir()
		By("stopping the suite's manager until the spec ends")
		Expect(manager.Stop(30 * time.Second)).To(Succeed())
		DeferCleanup(func() { startSuiteManager(filepath.Join(dir, "suite-manager.log")) })

		Expect(client.IgnoreAlreadyExists(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}))).To(Succeed())
		By("creating 10,000 CatalogEntities")
		start := time.Now()
		DeferCleanup(func() {
			start := time.Now()
			inParallel(entities, workers, func(i int) error {
				err := k8sClient.Delete(ctx, &catalogv1alpha1.CatalogEntity{ObjectMeta: metav1.ObjectMeta{Name: entityName(i), Namespace: namespace}})
				return client.IgnoreNotFound(err)
			})
			GinkgoWriter.Printf("deleted %d entities in %s\n", entities, time.Since(start).Round(time.Millisecond))
		})
		inParallel(entities, workers, func(i int) error {
			return client.IgnoreAlreadyExists(k8sClient.Create(ctx, loadEntity(namespace, i, namespaces)))
		})
		GinkgoWriter.Printf("created %d entities in %s\n", entities, time.Since(start).Round(time.Millisecond))

		By("starting a manager that only serves, with GOMEMLIMIT")
		now := metav1.NowMicro()
		Expect(k8sClient.Create(ctx, &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: setup.LeaderElectionID, Namespace: namespace},
			Spec: coordinationv1.LeaseSpec{
				HolderIdentity: ptr.To("someone-else"), LeaseDurationSeconds: ptr.To(int32(3600)),
				AcquireTime: &now, RenewTime: &now,
			},
		})).To(Succeed())
		DeferCleanup(func() {
			Expect(k8sClient.Delete(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: setup.LeaderElectionID, Namespace: namespace}})).To(Succeed())
		})
		addrs := make([]string, 3)
		for i := range addrs {
			var err error
			addrs[i], err = testenv.FreePort()
			Expect(err).NotTo(HaveOccurred())
		}
		catalog, metricsURL = "http://"+addrs[0]+"/entities", "http://"+addrs[1]+"/metrics"
		restore := setenv("GOMEMLIMIT", strconv.Itoa(memLimit))
		var err error
		loadManager, err = testenv.StartManager(managerBin, kubeconfig, filepath.Join(dir, "load-manager.log"),
			"--catalog-bind-address="+addrs[0], "--catalog-url="+catalog,
			"--metrics-bind-address="+addrs[1], "--metrics-secure=false", "--health-probe-bind-address="+addrs[2],
			"--leader-elect", "--leader-election-namespace="+namespace)
		restore()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() {
			err := loadManager.Stop(30 * time.Second)
			if err != nil {
				if log, readErr := os.ReadFile(loadManager.LogPath); readErr == nil {
					GinkgoWriter.Printf("--- load manager log ---\n%s\n", log)
				}
			}
			Expect(err).NotTo(HaveOccurred())
		})

		By("waiting until it serves every entity")
		start = time.Now()
		Eventually(func(g Gomega) {
			resp, err := http.Get(catalog)
			g.Expect(err).NotTo(HaveOccurred())
			defer func() { _ = resp.Body.Close() }()
			body, err := io.ReadAll(resp.Body)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(resp.StatusCode).To(Equal(http.StatusOK))
			g.Expect(strings.Count(string(body), "\n  name: svc-")).To(BeNumerically(">=", entities))
		}).WithTimeout(60 * time.Second).WithPolling(time.Second).Should(Succeed())
		GinkgoWriter.Printf("serving all in %s\n", time.Since(start).Round(time.Millisecond))
	})

	It("keeps the heap under GOMEMLIMIT, refuses what it cannot render with 503 and Retry-After, and fails nothing else", func() {
		heap := &heapSampler{url: metricsURL}
		stopSampling := heap.start()

		load := &catalogLoad{catalog: catalog, namespaces: namespaces}
		load.run(clients, loadFor)
		stopSampling()
		peak := heap.peak()
		rss := peakRSS(loadManager.Pid())

		served, refused := load.count(http.StatusOK)+load.count(http.StatusNotModified), load.count(http.StatusServiceUnavailable)
		figures := fmt.Sprintf("%d entities, %d clients for %s, GOMEMLIMIT %d MiB: %d requests served (%d unfiltered), "+
			"%d refused with 503; p99 latency %s (served), %s (refused); peak heap in use %d MiB, peak RSS %d MiB",
			entities, clients, loadFor, memLimit>>20, served, load.unfiltered.Load(), refused,
			load.p99(true), load.p99(false), peak>>20, rss>>20)
		AddReportEntry("catalog endpoint under load", figures)
		GinkgoWriter.Println(figures)

		Expect(heap.samples()).To(BeNumerically(">=", 10), "the heap was sampled throughout")
		Expect(peak).To(BeNumerically("<", memLimit), "the heap stays under GOMEMLIMIT")
		Expect(load.failures()).To(BeEmpty(), "no request fails but by a 503 with Retry-After")
		Expect(refused).To(BeNumerically(">", 0), "distinct filters beyond the render bound are refused")
		Expect(served).To(BeNumerically(">", 0))
		Expect(load.unfilteredRefused.Load()).To(BeZero(), "Backstage's unfiltered request is never refused")
	})
})

// entityName is the name of the load test's i-th entity.
func entityName(i int) string { return fmt.Sprintf("svc-%05d", i) }

// loadEntity is the load test's i-th entity in namespace, spread over Backstage
// namespaces and kinds, with the text a real one has, so that a body is about the size
// of a real fleet's.
func loadEntity(namespace string, i, namespaces int) *catalogv1alpha1.CatalogEntity {
	kinds := []catalogv1alpha1.EntityKind{
		catalogv1alpha1.KindComponent, catalogv1alpha1.KindResource, catalogv1alpha1.KindSystem, catalogv1alpha1.KindDomain,
	}
	return &catalogv1alpha1.CatalogEntity{
		ObjectMeta: metav1.ObjectMeta{Name: entityName(i), Namespace: namespace},
		Spec: catalogv1alpha1.CatalogEntitySpec{
			Kind:             kinds[i%len(kinds)],
			CatalogNamespace: fmt.Sprintf("load-%d", i%namespaces),
			Owner:            catalogv1alpha1.EntityRef(fmt.Sprintf("group:default/team-%d", i%40)),
			Title:            fmt.Sprintf("Service %d", i),
			Description:      "A service of the load test, with a description as long as a real one's tends to be.",
			Tags:             []catalogv1alpha1.Tag{"go", catalogv1alpha1.Tag(fmt.Sprintf("team-%d", i%40))},
			Links:            []catalogv1alpha1.Link{{URL: "https://grafana.example.com/d/" + entityName(i), Title: "Dashboard"}},
		},
	}
}

// inParallel calls do for 0 to n-1 on a few workers, and fails on the first error.
func inParallel(n, workers int, do func(i int) error) {
	GinkgoHelper()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				if err := do(i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		Expect(err).NotTo(HaveOccurred())
	}
}

// setenv sets an environment variable for the processes started until restore is
// called, which puts back what was there.
func setenv(key, value string) (restore func()) {
	old, had := os.LookupEnv(key)
	Expect(os.Setenv(key, value)).To(Succeed())
	return func() {
		if had {
			_ = os.Setenv(key, old)
		} else {
			_ = os.Unsetenv(key)
		}
	}
}

// catalogLoad sends requests for distinct filtered bodies from many clients at once,
// with now and then the unfiltered conditional request Backstage makes, and records
// what came back.
type catalogLoad struct {
	catalog    string
	namespaces int

	unfiltered, unfilteredRefused atomic.Int64

	mu        sync.Mutex
	statuses  map[int]int
	latencies map[bool][]time.Duration // by served (200, 304) or not
	errs      []string
}

// run sends requests from clients goroutines for d.
func (l *catalogLoad) run(clients int, d time.Duration) {
	l.statuses, l.latencies = map[int]int{}, map[bool][]time.Duration{}
	c := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := range clients {
		wg.Go(func() {
			defer GinkgoRecover()
			rnd := rand.New(rand.NewPCG(uint64(w), 1))
			etag := ""
			for i := 0; time.Now().Before(deadline); i++ {
				if i%10 == 0 {
					etag = l.unfilteredRequest(c, etag)
					continue
				}
				l.filteredRequest(c, rnd)
			}
		})
	}
	wg.Wait()
}

// filteredRequest asks for one of a few hundred filters, spelt one of several ways.
func (l *catalogLoad) filteredRequest(c *http.Client, rnd *rand.Rand) {
	kinds := []string{"Component", "component", "%43omponent", "RESOURCE", "system", "Domain", "api"}
	var q []string
	if rnd.IntN(4) > 0 {
		q = append(q, "namespace=load-"+strconv.Itoa(rnd.IntN(l.namespaces)))
	}
	if rnd.IntN(3) > 0 || len(q) == 0 {
		q = append(q, "kind="+kinds[rnd.IntN(len(kinds))])
	}
	if rnd.IntN(2) == 0 {
		q = append(q, "kind="+kinds[rnd.IntN(len(kinds))])
	}
	rnd.Shuffle(len(q), func(i, j int) { q[i], q[j] = q[j], q[i] })
	req, _ := http.NewRequest(http.MethodGet, l.catalog+"?"+strings.Join(q, "&"), nil)
	if rnd.IntN(5) == 0 {
		req.Header.Set("Accept", "application/json")
	}
	_, _ = l.do(c, req)
}

// unfilteredRequest makes Backstage's request, conditional on the last ETag it saw, and
// returns the ETag it gets.
func (l *catalogLoad) unfilteredRequest(c *http.Client, etag string) string {
	req, _ := http.NewRequest(http.MethodGet, l.catalog, nil)
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	l.unfiltered.Add(1)
	status, header := l.do(c, req)
	if status == http.StatusServiceUnavailable {
		l.unfilteredRefused.Add(1)
	}
	if t := header.Get("ETag"); t != "" {
		return t
	}
	return etag
}

// do sends req, reads the whole answer and records it; it returns the status and
// headers, or 0 and none when there was no answer.
func (l *catalogLoad) do(c *http.Client, req *http.Request) (int, http.Header) {
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		l.fail(fmt.Sprintf("%s: %v", req.URL, err))
		return 0, http.Header{}
	}
	_, err = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	took := time.Since(start)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.statuses[resp.StatusCode]++
	served := resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusNotModified
	l.latencies[served] = append(l.latencies[served], took)
	switch {
	case err != nil:
		l.errs = append(l.errs, fmt.Sprintf("%s: reading the body: %v", req.URL, err))
	case resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "":
		l.errs = append(l.errs, fmt.Sprintf("%s: 503 without Retry-After", req.URL))
	case !served && resp.StatusCode != http.StatusServiceUnavailable:
		l.errs = append(l.errs, fmt.Sprintf("%s: %d", req.URL, resp.StatusCode))
	}
	return resp.StatusCode, resp.Header
}

func (l *catalogLoad) fail(msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, msg)
}

// failures are the requests that failed other than by a 503 with Retry-After, at most
// ten of them.
func (l *catalogLoad) failures() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.errs[:min(len(l.errs), 10)]
}

func (l *catalogLoad) count(status int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.statuses[status]
}

// p99 is the 99th percentile latency of the served requests, or of the others.
func (l *catalogLoad) p99(served bool) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	d := slices.Clone(l.latencies[served])
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[len(d)*99/100].Round(time.Millisecond)
}

// heapSampler reads the manager's heap in use from its metrics a few times a second.
type heapSampler struct {
	url string

	mu    sync.Mutex
	max   int64
	count int
}

// start samples until the returned function is called.
func (s *heapSampler) start() (stop func()) {
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(stopped)
		c := &http.Client{Timeout: 5 * time.Second}
		for {
			if v, ok := readGauge(c, s.url, "go_memstats_heap_inuse_bytes"); ok {
				s.mu.Lock()
				s.max, s.count = max(s.max, v), s.count+1
				s.mu.Unlock()
			}
			select {
			case <-done:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	return func() { close(done); <-stopped }
}

func (s *heapSampler) peak() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.max
}

func (s *heapSampler) samples() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// readGauge reads one unlabelled metric from a Prometheus text page.
func readGauge(c *http.Client, url, name string) (int64, bool) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, false
	}
	defer func() { _ = resp.Body.Close() }()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int64(f), err == nil
		}
	}
	return 0, false
}

// peakRSS is the process's peak resident memory, as the kernel counts it, or 0.
func peakRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}
