package faults

import (
	"context"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/test/testenv"
)

var _ = Describe("The API server is stopped and started again while the manager runs", Ordered, func() {
	ctx := context.Background()
	const (
		discovered = 4 // entities created by the manager for labelled widgets
		outage     = 3 * time.Second
		converge   = 30 * time.Second
	)
	var (
		srcNS, catNS string
		mgr          *testenv.Manager
		// source widget name -> the entity showing it, and what the widget says now
		entityOf = map[string]client.ObjectKey{}
		state    = map[string]widgetState{}
		uids     map[string]string // entity name -> UID, in catNS and srcNS
		flips    int
	)
	widgets := func() []string {
		out := make([]string, 0, discovered+1)
		for i := range discovered {
			out = append(out, fmt.Sprintf("w%d", i))
		}
		return append(out, "declared-w")
	}

	// allUIDs lists every entity of this container, keyed by namespace/name.
	allUIDs := func() map[string]string {
		out := map[string]string{}
		for _, ns := range []string{catNS, srcNS} {
			for name, uid := range entityUIDs(ctx, ns) {
				out[ns+"/"+name] = uid
			}
		}
		return out
	}

	// expectConverged waits until every entity shows its widget's state.
	expectConverged := func() {
		Eventually(func() error {
			for _, w := range widgets() {
				e, err := getEntity(ctx, entityOf[w])
				if err != nil {
					return err
				}
				if err := reflects(e, state[w]); err != nil {
					return err
				}
			}
			return nil
		}).WithTimeout(converge).WithPolling(200 * time.Millisecond).Should(Succeed())
	}

	// restart stops a part of the control plane, waits, starts it again, then changes
	// every widget and checks that the manager follows, measuring how long the first
	// change took to show.
	restart := func(what string, stop, start func() error) {
		logFrom := len(managerLog(mgr))
		By("stopping " + what)
		stopped := time.Now()
		Expect(stop()).To(Succeed())
		report(what+": stop took", time.Since(stopped))
		time.Sleep(outage)
		expectRunning("restart", mgr)

		By("starting " + what + " again")
		starting := time.Now()
		Expect(start()).To(Succeed())
		back := time.Now()
		report(what+": start took", back.Sub(starting))

		By("changing every widget's status after the restart")
		flips++
		first := widgets()[0]
		var written time.Time
		for _, w := range widgets() {
			next := widgetState{Ready: !state[w].Ready, Message: fmt.Sprintf("flip %d after %s restart", flips, what)}
			writeWidget(ctx, srcNS, w, next)
			state[w] = next
			if w == first {
				written = time.Now()
			}
		}
		report(what+": first widget write accepted after the restart", written.Sub(back))

		By("waiting for the first change to show in its entity")
		Eventually(func() error {
			e, err := getEntity(ctx, entityOf[first])
			if err != nil {
				return err
			}
			return reflects(e, state[first])
		}).WithTimeout(converge).WithPolling(50 * time.Millisecond).Should(Succeed())
		shown := time.Now()
		report(what+": first status change reflected, from the restart", shown.Sub(back))
		report(what+": first status change reflected, from the widget write", shown.Sub(written))

		By("waiting for every entity to converge")
		expectConverged()
		report(what+": all entities converged, from the restart", time.Since(back))

		By("checking the manager is still running and no entity was lost, duplicated or re-created")
		expectRunning("restart", mgr)
		Expect(allUIDs()).To(Equal(uids), "the same entities, with the same UIDs, as before the restart")
		log := managerLog(mgr)
		Expect(log).NotTo(MatchRegexp(`Deleted auto-created entity.*`+catNS), "no entity of this spec was taken for an orphan")
		Expect(log).NotTo(ContainSubstring("panic"))
		// Nor was any entity published as worse than its widget while the control
		// plane was away: the manager records an event for every health change.
		Expect(grepLines(log[logFrom:], `→ (Unknown|Missing|Degraded)|no sources found`, 5)).To(BeEmpty(),
			"no entity reported Unknown, Missing or sourceless because of the restart")
	}

	BeforeAll(func() {
		srcNS = newNamespace(ctx, "restart-src")
		catNS = newNamespace(ctx, "restart-catalog")
		// A short orphan grace period makes the spec strict: were the manager to take
		// its sources for gone while the control plane is down, it would delete their
		// entities within a second, and the UIDs would change.
		mgr = startManager("restart", "--catalog-namespace="+catNS, "--orphan-grace-period=1s")

		By("creating widgets the manager discovers, and a declared entity with a named widget source")
		for i := range discovered {
			w := fmt.Sprintf("w%d", i)
			state[w] = widgetState{Ready: true}
			createWidget(ctx, srcNS, w, "restart-svc-"+fmt.Sprint(i), state[w])
			entityOf[w] = client.ObjectKey{Namespace: catNS, Name: "restart-svc-" + fmt.Sprint(i)}
		}
		state["declared-w"] = widgetState{Ready: true}
		createWidget(ctx, srcNS, "declared-w", "", state["declared-w"])
		declared := &catalogv1alpha1.CatalogEntity{
			ObjectMeta: metav1.ObjectMeta{Name: "restart-declared", Namespace: srcNS},
			Spec: catalogv1alpha1.CatalogEntitySpec{
				Kind: catalogv1alpha1.KindResource, Type: "database", Owner: "group:default/platform-team",
				Sources: []catalogv1alpha1.SourceSelector{{
					APIVersion: widgetGVK.GroupVersion().String(), Kind: widgetGVK.Kind, Namespace: srcNS, Name: "declared-w",
				}},
			},
		}
		Expect(k8sClient.Create(ctx, declared)).To(Succeed())
		entityOf["declared-w"] = client.ObjectKeyFromObject(declared)

		expectConverged()
		uids = allUIDs()
		Expect(uids).To(HaveLen(discovered + 1))
	})

	AfterAll(func() {
		var err error
		if mgr != nil {
			err = mgr.Stop(30 * time.Second)
		}
		cleanUp(ctx, srcNS, catNS)
		Expect(err).NotTo(HaveOccurred(), "the manager exits with status 0 on SIGTERM")
	})

	It("reconnects after the API server restarts, and keeps every entity right", func() {
		apiServer := testEnv.ControlPlane.GetAPIServer()
		restart("kube-apiserver", apiServer.Stop, apiServer.Start)
	})

	It("reconnects after etcd restarts, and keeps every entity right", func() {
		etcd := testEnv.ControlPlane.Etcd
		restart("etcd", etcd.Stop, etcd.Start)
	})
})
