package faults

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/test/testenv"
)

var _ = Describe("Graceful shutdown on SIGTERM", Ordered, func() {
	ctx := context.Background()
	const (
		entities = 20
		// terminationGracePeriodSeconds of config/manager/manager.yaml: after it the
		// kubelet kills the container.
		gracePeriod = 30 * time.Second
		converge    = 30 * time.Second
	)
	var srcNS, catNS string
	widgetName := func(i int) string { return fmt.Sprintf("w%02d", i) }
	entityName := func(i int) string { return fmt.Sprintf("shutdown-svc-%02d", i) }

	// widgetStates reads what every widget says now, straight from the API server.
	widgetStates := func() map[string]widgetState {
		out := map[string]widgetState{}
		for i := range entities {
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(widgetGVK)
			Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: srcNS, Name: widgetName(i)}, u)).To(Succeed())
			conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
			Expect(conds).To(HaveLen(1))
			c := conds[0].(map[string]any)
			msg, _ := c["message"].(string)
			out[widgetName(i)] = widgetState{Ready: c["status"] == "True", Message: msg}
		}
		return out
	}
	// listEntities lists the entities in the catalog namespace, by name.
	listEntities := func() map[string]*catalogv1alpha1.CatalogEntity {
		var list catalogv1alpha1.CatalogEntityList
		Expect(k8sClient.List(ctx, &list, client.InNamespace(catNS))).To(Succeed())
		out := map[string]*catalogv1alpha1.CatalogEntity{}
		for i := range list.Items {
			out[list.Items[i].Name] = &list.Items[i]
		}
		return out
	}
	expectConverged := func(states map[string]widgetState) {
		Eventually(func() error {
			got := listEntities()
			if len(got) != entities {
				return fmt.Errorf("%d entities, want %d", len(got), entities)
			}
			for i := range entities {
				e, ok := got[entityName(i)]
				if !ok {
					return fmt.Errorf("entity %s is missing", entityName(i))
				}
				if err := reflects(e, states[widgetName(i)]); err != nil {
					return err
				}
			}
			return nil
		}).WithTimeout(converge).WithPolling(200 * time.Millisecond).Should(Succeed())
	}

	// churn changes every widget over and over, so that reconciles and status writes
	// are in flight, until the function it returns is called; that one says how many
	// widget writes were stored and how many failed.
	churn := func() (stop func() (writes, failed int)) {
		stopChurn := make(chan struct{})
		var wg sync.WaitGroup
		var writes, failed int
		wg.Add(1)
		go func() {
			defer GinkgoRecover()
			defer wg.Done()
			for round := 1; ; round++ {
				for i := range entities {
					select {
					case <-stopChurn:
						return
					default:
					}
					s := widgetState{Ready: round%2 == 0, Message: fmt.Sprintf("churn round %d", round)}
					if err := tryWriteWidget(ctx, srcNS, widgetName(i), s); err != nil {
						failed++
					} else {
						writes++
					}
				}
			}
		}()
		return func() (int, int) {
			close(stopChurn)
			wg.Wait()
			return writes, failed
		}
	}
	// expectCleanShutdownLog checks a stopped manager's log: no panic, and no error but
	// requests cut short by the shutdown.
	expectCleanShutdownLog := func(mgr *testenv.Manager) {
		log := managerLog(mgr)
		Expect(log).NotTo(ContainSubstring("panic"))
		shutdownAt := strings.Index(log, `"Stopping and waiting for`)
		Expect(shutdownAt).To(BeNumerically(">=", 0), "the manager logs its shutdown")
		cancelled := 0
		for line := range strings.Lines(log) {
			if !strings.Contains(line, `"level":"error"`) {
				continue
			}
			// The manager cancels the context of reconciles still running when it
			// stops; their requests fail with "context canceled" and are not retried.
			// A PATCH is applied whole or not at all, which the checks below confirm.
			Expect(strings.Index(log, line) > shutdownAt && strings.Contains(line, "context canceled")).
				To(BeTrue(), "only requests cut short by the shutdown fail:\n%s", line)
			cancelled++
		}
		GinkgoWriter.Printf("after SIGTERM: %d status writes completed, %d reconciles cut short (context canceled)\n",
			strings.Count(log[shutdownAt:], `"Wrote status"`), cancelled)
	}
	// expectWholeEntities checks that every entity is there once, with a whole status
	// for its generation.
	expectWholeEntities := func() {
		left := listEntities()
		Expect(left).To(HaveLen(entities), "no entity lost or duplicated")
		names := make([]string, 0, len(left))
		for name, e := range left {
			names = append(names, name)
			Expect(e.Status.ObservedGeneration).To(Equal(e.Generation), "%s: status for the entity's generation", name)
			Expect(consistent(e)).To(Succeed())
			Expect(e.Status.Health).To(BeElementOf(catalogv1alpha1.HealthHealthy, catalogv1alpha1.HealthProgressing), name)
		}
		sort.Strings(names)
		for i := range entities {
			Expect(names[i]).To(Equal(entityName(i)))
		}
	}

	BeforeAll(func() {
		srcNS = newNamespace(ctx, "shutdown-src")
		catNS = newNamespace(ctx, "shutdown-catalog")
	})

	AfterAll(func() { cleanUp(ctx, srcNS, catNS) })

	It("exits with status 0 within the grace period while updates are in flight, leaving no half-written status", func() {
		mgr := startManager("shutdown-first", "--catalog-namespace="+catNS)
		By(fmt.Sprintf("creating %d widgets, one entity each", entities))
		initial := map[string]widgetState{}
		for i := range entities {
			initial[widgetName(i)] = widgetState{Ready: true}
			createWidget(ctx, srcNS, widgetName(i), entityName(i), initial[widgetName(i)])
		}
		expectConverged(initial)

		By("changing widgets continuously, so that reconciles and status writes are in flight")
		stopChurn := churn()
		Eventually(func() []string {
			var msgs []string
			for _, e := range listEntities() {
				msgs = append(msgs, e.Status.Message)
			}
			return msgs
		}).WithTimeout(converge).Should(ContainElement(ContainSubstring("churn round")), "the manager is busy with the changes")
		time.Sleep(time.Second)

		By("sending SIGTERM, as the kubelet does")
		terminated := time.Now()
		err := mgr.Stop(gracePeriod)
		took := time.Since(terminated)
		writes, failed := stopChurn()
		GinkgoWriter.Printf("widget writes during the churn: %d stored, %d failed\n", writes, failed)
		report("shutdown: SIGTERM to exit, with updates in flight", took)
		Expect(err).NotTo(HaveOccurred(), "the manager exits with status 0 within %s of SIGTERM", gracePeriod)
		By("checking the log: no panic, and no error but requests cut short by the shutdown")
		expectCleanShutdownLog(mgr)

		By("checking every entity the stopped manager left is whole")
		expectWholeEntities()

		By("starting a new manager, which brings every entity to its widget's state")
		final := widgetStates()
		restarted := time.Now()
		next := startManager("shutdown-second", "--catalog-namespace="+catNS)
		expectConverged(final)
		report("shutdown: new manager start to all entities converged", time.Since(restarted))
		expectRunning("shutdown-second", next)
		Expect(next.Stop(gracePeriod)).To(Succeed(), "the new manager exits with status 0 too")
	})

	// A manager that starts over entities that are already right — after a restart, a
	// rollout or a leader handover — has nothing to write. Before its source watches are
	// up it cannot tell an entity's sources: it must wait, not publish the entity as
	// sourceless (health Unknown, "no sources found", a Warning event, and for an
	// auto-created entity the start of its orphan grace period).
	It("starts over settled entities without changing any of them", func() {
		states := widgetStates()
		expectConverged(states)
		before := map[string]string{}
		for name, e := range listEntities() {
			before[name] = e.ResourceVersion
		}
		Expect(before).To(HaveLen(entities))

		By("starting a manager over the settled entities")
		probe, err := testenv.FreePort()
		Expect(err).NotTo(HaveOccurred())
		mgr := startManager("shutdown-third", "--catalog-namespace="+catNS, "--health-probe-bind-address="+probe)
		Eventually(func() string { return managerLog(mgr) }).WithTimeout(30*time.Second).
			Should(ContainSubstring(`"Watching source kind"`), "the manager watches Widgets")

		By("waiting for it to be ready: every entity verified against its sources")
		Eventually(func() error { return testenv.Ready(context.Background(), probe) }).WithTimeout(30 * time.Second).Should(Succeed())
		verified := regexp.MustCompile(`"Every entity verified against its sources","entities":(\d+)`).FindStringSubmatch(managerLog(mgr))
		Expect(verified).To(HaveLen(2), "the manager says when it became ready")
		Expect(strconv.Atoi(verified[1])).To(BeNumerically(">=", len(before)), "readiness counted every entity of the catalog namespace")
		expectConverged(states)
		changed := func() []string {
			var out []string
			for name, e := range listEntities() {
				if e.ResourceVersion != before[name] {
					out = append(out, name)
				}
			}
			sort.Strings(out)
			return out
		}
		// Writes, if any, come right after the start; a few quiet seconds show there
		// are none.
		Consistently(changed).WithTimeout(3*time.Second).WithPolling(250*time.Millisecond).Should(BeEmpty(), func() string {
			return "entities written by a manager that had nothing to change; its first status writes and events:\n" +
				strings.Join(grepLines(managerLog(mgr), `"Wrote status"|"logger":"events"|orphan`, 12), "\n")
		})
		expectRunning("shutdown-third", mgr)
		Expect(mgr.Stop(gracePeriod)).To(Succeed())
	})
})

// grepLines returns up to limit lines of log that match pattern.
func grepLines(log, pattern string, limit int) []string {
	re := regexp.MustCompile(pattern)
	var out []string
	for line := range strings.Lines(log) {
		if re.MatchString(line) {
			out = append(out, strings.TrimRight(line, "\n"))
			if len(out) == limit {
				break
			}
		}
	}
	return out
}
