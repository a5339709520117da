package faults

import (
	"context"
	"fmt"
	"regexp"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/entityhub/entityhub/test/testenv"
)

// leaseName is the manager's LeaderElectionID (cmd/main.go).
const leaseName = "entityhub.catalog.entityhub.dev"

var (
	// acquiredLease is what client-go's leader election logs when this process
	// becomes the leader. Both replicas run on one host, so the Lease's holderIdentity
	// (<hostname>_<uuid>) alone does not say which process holds it; the new leader
	// also records a LeaderElection event "<holderIdentity> became leader", which its
	// own log shows at debug level — that ties the Lease to a process.
	acquiredLease = regexp.MustCompile(`(?i)successfully acquired lease`)
	// reconcileWork are log lines only a replica running the catalogentity controller
	// writes: at debug level every status write, every entity created for discovered
	// sources, and the controller's start.
	reconcileWork = regexp.MustCompile(`"Wrote status"|"Created entity for discovered sources"|"Starting workers","controller":"catalogentity"`)
)

var _ = Describe("Two manager replicas with leader election", Ordered, func() {
	ctx := context.Background()
	const (
		entities = 3
		// Far above the ~15-20 s the default lease settings give (LeaseDuration 15 s,
		// RenewDeadline 10 s, RetryPeriod 2 s): the bound proves a handover, not speed.
		handoverBound = 40 * time.Second
		converge      = 30 * time.Second
	)
	var (
		srcNS, catNS     string
		leader, follower *testenv.Manager
		leaderName       string
		followerName     string
		state            = map[string]widgetState{}
		flips            int
	)
	replicaArgs := func() []string {
		return []string{"--catalog-namespace=" + catNS, "--leader-elect", "--leader-election-namespace=" + catNS}
	}
	holder := func() (string, error) {
		lease := &coordinationv1.Lease{}
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: catNS, Name: leaseName}, lease); err != nil {
			return "", err
		}
		if lease.Spec.HolderIdentity == nil {
			return "", nil
		}
		return *lease.Spec.HolderIdentity, nil
	}
	entityKey := func(i int) client.ObjectKey {
		return client.ObjectKey{Namespace: catNS, Name: fmt.Sprintf("leader-svc-%d", i)}
	}
	widgetName := func(i int) string { return fmt.Sprintf("w%d", i) }
	expectConverged := func() {
		Eventually(func() error {
			for i := range entities {
				e, err := getEntity(ctx, entityKey(i))
				if err != nil {
					return err
				}
				if err := reflects(e, state[widgetName(i)]); err != nil {
					return err
				}
			}
			return nil
		}).WithTimeout(converge).WithPolling(200 * time.Millisecond).Should(Succeed())
	}
	// flipAndMeasure changes widget w0, returns how long its entity took to show it,
	// then changes the others and waits for all to converge.
	flipAndMeasure := func(why string) time.Duration {
		flips++
		msg := fmt.Sprintf("flip %d %s", flips, why)
		next := widgetState{Ready: !state["w0"].Ready, Message: msg}
		writeWidget(ctx, srcNS, "w0", next)
		state["w0"] = next
		written := time.Now()
		Eventually(func() error {
			e, err := getEntity(ctx, entityKey(0))
			if err != nil {
				return err
			}
			return reflects(e, next)
		}).WithTimeout(converge).WithPolling(50 * time.Millisecond).Should(Succeed())
		took := time.Since(written)
		for i := 1; i < entities; i++ {
			w := widgetName(i)
			state[w] = widgetState{Ready: !state[w].Ready, Message: msg}
			writeWidget(ctx, srcNS, w, state[w])
		}
		expectConverged()
		return took
	}
	// expectOnlyLeaderWorked checks, from the debug logs, that the leader reconciled
	// and wrote, and the follower did not so much as start the entity controller.
	expectOnlyLeaderWorked := func() {
		Expect(managerLog(leader)).To(MatchRegexp(`"Wrote status"`), "the leader (%s) writes entity status", leaderName)
		Expect(reconcileWork.FindString(managerLog(follower))).To(BeEmpty(),
			"the follower (%s) reconciles and writes nothing", followerName)
	}
	// holds checks, from its log, that m is the process holding the Lease as h.
	holds := func(m *testenv.Manager, h string) func(Gomega) {
		return func(g Gomega) {
			log := managerLog(m)
			g.Expect(acquiredLease.MatchString(log)).To(BeTrue(), "logs that it acquired the lease")
			g.Expect(log).To(ContainSubstring(h+" became leader"), "logs the LeaderElection event of holder %s", h)
		}
	}
	// waitForHandover polls the Lease from the moment the leader is stopped until
	// another holder has it, and checks that holder is the former follower.
	waitForHandover := func(oldHolder string, since time.Time) time.Duration {
		var h string
		Eventually(func() (string, error) {
			var err error
			h, err = holder()
			return h, err
		}).WithTimeout(handoverBound).WithPolling(100*time.Millisecond).
			Should(And(Not(BeEmpty()), Not(Equal(oldHolder))), "a new leader within %s", handoverBound)
		took := time.Since(since)
		GinkgoWriter.Printf("lease holder: %s -> %s\n", oldHolder, h)
		Eventually(holds(follower, h)).WithTimeout(5*time.Second).Should(Succeed(), "the new holder is %s", followerName)
		return took
	}

	BeforeAll(func() {
		srcNS = newNamespace(ctx, "leader-src")
		catNS = newNamespace(ctx, "leader-catalog")

		By("starting two replicas with leader election")
		a := startManager("replica-a", replicaArgs()...)
		b := startManager("replica-b", replicaArgs()...)
		var h string
		Eventually(func() (string, error) {
			var err error
			h, err = holder()
			return h, err
		}).WithTimeout(30 * time.Second).ShouldNot(BeEmpty())
		Eventually(func() int {
			n := 0
			for _, m := range []*testenv.Manager{a, b} {
				if acquiredLease.MatchString(managerLog(m)) {
					n++
				}
			}
			return n
		}).WithTimeout(10*time.Second).Should(Equal(1), "exactly one replica logs that it acquired the lease")
		leader, leaderName, follower, followerName = a, "replica-a", b, "replica-b"
		if acquiredLease.MatchString(managerLog(b)) {
			leader, leaderName, follower, followerName = b, "replica-b", a, "replica-a"
		}
		Eventually(holds(leader, h)).WithTimeout(5 * time.Second).Should(Succeed())
		GinkgoWriter.Printf("leader: %s (lease holder %s); follower: %s\n", leaderName, h, followerName)

		By("creating widgets the leader discovers")
		for i := range entities {
			state[widgetName(i)] = widgetState{Ready: true}
			createWidget(ctx, srcNS, widgetName(i), entityKey(i).Name, state[widgetName(i)])
		}
		expectConverged()
	})

	AfterAll(func() {
		var errs []error
		for _, m := range []*testenv.Manager{leader, follower} {
			if m != nil {
				errs = append(errs, m.Stop(30*time.Second))
			}
		}
		cleanUp(ctx, srcNS, catNS)
		for _, err := range errs {
			Expect(err).NotTo(HaveOccurred(), "a replica exits with status 0 on SIGTERM")
		}
	})

	It("lets only the leader write", func() {
		took := flipAndMeasure("with two replicas")
		report("leader election: status change reflected with two replicas", took)
		expectRunning(leaderName, leader)
		expectRunning(followerName, follower)
		expectOnlyLeaderWorked()
	})

	It("hands over within the lease time when the leader is killed, and status keeps converging", func() {
		oldHolder, err := holder()
		Expect(err).NotTo(HaveOccurred())

		By("killing the leader with SIGKILL: it cannot release the lease")
		killed := time.Now()
		Expect(leader.Kill()).To(Succeed())
		_, how := leader.Exited()
		GinkgoWriter.Printf("%s ended: %v\n", leaderName, how)
		expectOnlyLeaderWorked() // up to the takeover, the follower did nothing

		handover := waitForHandover(oldHolder, killed)
		report("leader election: handover after SIGKILL (lease expiry)", handover)
		Expect(handover).To(BeNumerically("<", handoverBound))

		By("checking the new leader keeps status converging")
		leader, leaderName, follower, followerName = follower, followerName, nil, ""
		took := flipAndMeasure("after the leader was killed")
		report("leader election: status change reflected after the SIGKILL handover, from the write", took)
		report("leader election: SIGKILL to the next status change reflected", time.Since(killed))
		Expect(managerLog(leader)).To(MatchRegexp(`"Wrote status"`), "the new leader writes entity status")
		expectRunning(leaderName, leader)
	})

	It("hands over quickly when the leader stops gracefully and releases the lease", func() {
		By("starting a replacement for the killed replica, which follows")
		follower, followerName = startManager("replica-c", replicaArgs()...), "replica-c"
		// The replacement must be running and waiting for the lease before the leader
		// goes, or the handover would include its start-up.
		Eventually(func() string { return managerLog(follower) }).WithTimeout(30 * time.Second).
			Should(MatchRegexp(`(?i)attempting to acquire leader lease`))
		expectOnlyLeaderWorked()
		oldHolder, err := holder()
		Expect(err).NotTo(HaveOccurred())

		By("sending SIGTERM to the leader")
		terminated := time.Now()
		type result struct {
			err  error
			took time.Duration
		}
		stopped := make(chan result, 1)
		go func() {
			err := leader.Stop(30 * time.Second)
			stopped <- result{err, time.Since(terminated)}
		}()

		handover := waitForHandover(oldHolder, terminated)
		report("leader election: handover after SIGTERM (lease released)", handover)
		Expect(handover).To(BeNumerically("<", handoverBound))
		var r result
		Eventually(stopped).WithTimeout(35 * time.Second).Should(Receive(&r))
		Expect(r.err).NotTo(HaveOccurred(), "the old leader exits with status 0")
		report("leader election: old leader's exit after SIGTERM", r.took)

		By("checking the new leader keeps status converging")
		leader, leaderName, follower, followerName = follower, followerName, nil, ""
		took := flipAndMeasure("after the leader stopped")
		report("leader election: status change reflected after the SIGTERM handover, from the write", took)
		expectRunning(leaderName, leader)
	})
})
