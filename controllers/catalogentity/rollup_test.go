package catalogentity_test

import (
	"context"
	"maps"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/test/testenv"
)

// quietFor is how long specs watch for status writes that should not come.
const quietFor = 3 * time.Second

var _ = Describe("Systems and Domains roll up their members", Ordered, func() {
	ctx := context.Background()
	var ns, shop, billing, commerce string

	// entity creates a hand-written entity of kind in ns, naming system or domain.
	entity := func(name string, kind catalogv1alpha1.EntityKind, system, domain string, sources ...catalogv1alpha1.SourceSelector) {
		Expect(k8sClient.Create(ctx, &catalogv1alpha1.CatalogEntity{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: catalogv1alpha1.CatalogEntitySpec{Kind: kind, System: catalogv1alpha1.EntityRef(system),
				Domain: catalogv1alpha1.EntityRef(domain), Sources: sources},
		})).To(Succeed())
	}
	widgetSource := func(name string) catalogv1alpha1.SourceSelector {
		return catalogv1alpha1.SourceSelector{APIVersion: widgetGVK.GroupVersion().String(), Kind: "Widget", Name: name}
	}
	status := func(name string) func(Gomega) catalogv1alpha1.CatalogEntityStatus {
		return func(g Gomega) catalogv1alpha1.CatalogEntityStatus { return getEntity(ctx, ns, name)(g).Status }
	}
	rolledUp := func(name string) func(Gomega) *metav1.Condition {
		return func(g Gomega) *metav1.Condition {
			return meta.FindStatusCondition(status(name)(g).Conditions, catalogv1alpha1.ConditionRolledUp)
		}
	}
	// reported expects the entity to say, in its RolledUp condition, that its spec names
	// itself or one of its members: False, reason RollUpCycle, with message.
	reported := func(g Gomega, name, message string) {
		cond := rolledUp(name)(g)
		g.Expect(cond).NotTo(BeNil(), "%s has a RolledUp condition", name)
		g.Expect([]string{string(cond.Status), cond.Reason, cond.Message}).
			To(Equal([]string{string(metav1.ConditionFalse), catalogv1alpha1.ReasonRollUpCycle, message}))
	}

	// The manager's status writes to each entity of ns, counted by the proxy it reaches
	// the API server through: a status write is a PATCH of the status subresource.
	writes := map[string]*testenv.Counter{}
	countWrites := func(names ...string) {
		for _, n := range names {
			writes[n] = proxy.Count(http.MethodPatch, "/namespaces/"+ns+"/catalogentities/"+n+"/status")
		}
	}
	written := func(names ...string) map[string]int {
		out := map[string]int{}
		for _, n := range names {
			out[n] = writes[n].N()
		}
		return out
	}
	// noWritesFor expects no status write to the entities named for d, counted.
	noWritesFor := func(d time.Duration, names ...string) {
		before := written(names...)
		Consistently(func() map[string]int { return written(names...) }).
			WithTimeout(d).WithPolling(100 * time.Millisecond).Should(Equal(before))
	}
	// settledWrites waits until the entities named have had no status write for a second,
	// and returns how many each had.
	settledWrites := func(names ...string) map[string]int {
		var last map[string]int
		Eventually(func() bool {
			prev := last
			last = written(names...)
			return prev != nil && maps.Equal(prev, last)
		}).WithTimeout(15 * time.Second).WithPolling(time.Second).Should(BeTrue())
		return last
	}

	BeforeAll(func() {
		installWidgets()
		ns = newNamespace(ctx)
		shop, billing, commerce = "shop-"+ns, "billing-"+ns, "commerce-"+ns
		countWrites(shop, billing, commerce, "web", "db")
		createWidget(ctx, widget(ns, "web", nil, metav1.ConditionTrue, "fine"))
		createWidget(ctx, widget(ns, "db", nil, metav1.ConditionFalse, "disk full"))
		entity(shop, catalogv1alpha1.KindSystem, "", commerce)
		entity("web", catalogv1alpha1.KindComponent, shop, "", widgetSource("web"))
		entity("db", catalogv1alpha1.KindResource, "system:"+shop, "", widgetSource("db"))
	})

	It("shows a System as its worst member, naming it, with its members counted", func() {
		Eventually(func(g Gomega) {
			st := status(shop)(g)
			g.Expect(st.Health).To(Equal(catalogv1alpha1.HealthProgressing))
			g.Expect(st.Ready).To(Equal("1/2"))
			g.Expect(st.Message).To(HavePrefix("CatalogEntity " + ns + "/db is Progressing: Widget " + ns + "/db is Progressing"))
			g.Expect(sourceOf(getEntity(ctx, ns, shop)(g), "CatalogEntity", "web").Health).To(Equal(catalogv1alpha1.HealthHealthy))
		}).WithTimeout(15 * time.Second).Should(Succeed())
	})

	It("follows a member that recovers with one write to it and one to its System, then writes nothing while quiet (counted)", func() {
		before := settledWrites(shop, "web", "db")
		updateWidgetStatus(ctx, ns, "db", metav1.ConditionTrue, "fine")
		Eventually(func(g Gomega) string {
			st := status(shop)(g)
			g.Expect(st.Health).To(Equal(catalogv1alpha1.HealthHealthy))
			return st.Ready
		}).WithTimeout(15 * time.Second).Should(Equal("2/2"))
		Expect(written(shop, "web", "db")).To(Equal(map[string]int{shop: before[shop] + 1, "web": before["web"], "db": before["db"] + 1}),
			"a member's recovery is one write to the member and one to its System")

		By("staying quiet: no status write to the System or its members")
		noWritesFor(quietFor, shop, "web", "db")
	})

	It("writes a member whose result for its System is unchanged, and not the System (counted)", func() {
		before := written(shop, "web", "db")
		By("a member's spec changed: its status is written for the new generation, its health, ready and message stay")
		web := getEntity(ctx, ns, "web")(Default)
		patch := client.MergeFrom(web.DeepCopy())
		web.Spec.Title = "Web shop"
		Expect(k8sClient.Patch(ctx, web, patch)).To(Succeed())
		By("a member naming its System anew, in other words: the System is recomputed, the same")
		db := getEntity(ctx, ns, "db")(Default)
		patch = client.MergeFrom(db.DeepCopy())
		db.Spec.System = catalogv1alpha1.EntityRef("system:default/" + shop)
		Expect(k8sClient.Patch(ctx, db, patch)).To(Succeed())

		Eventually(func(g Gomega) {
			g.Expect(status("web")(g).ObservedGeneration).To(Equal(web.Generation))
			g.Expect(status("db")(g).ObservedGeneration).To(Equal(db.Generation))
		}).WithTimeout(15 * time.Second).Should(Succeed())
		Expect(written("web", "db")).To(Equal(map[string]int{"web": before["web"] + 1, "db": before["db"] + 1}),
			"each member's status is written once, for its new generation")
		noWritesFor(quietFor, shop, "web", "db")
		Expect(written(shop)).To(Equal(map[string]int{shop: before[shop]}), "no write to the System")
	})

	It("lets a member that moves to another System leave", func() {
		entity(billing, catalogv1alpha1.KindSystem, "", commerce)
		db := getEntity(ctx, ns, "db")(Default)
		patch := client.MergeFrom(db.DeepCopy())
		db.Spec.System = catalogv1alpha1.EntityRef(billing)
		Expect(k8sClient.Patch(ctx, db, patch)).To(Succeed())
		Eventually(func(g Gomega) []string { return sourceNames(getEntity(ctx, ns, shop)(g)) }).
			WithTimeout(15 * time.Second).Should(ConsistOf(ns + "/web"))
		Eventually(func(g Gomega) []string { return sourceNames(getEntity(ctx, ns, billing)(g)) }).
			WithTimeout(15 * time.Second).Should(ConsistOf(ns + "/db"))
	})

	It("rolls Systems up into their Domain; a Domain naming itself is reported, and not its own member", func() {
		entity(commerce, catalogv1alpha1.KindDomain, "", commerce)
		Eventually(func(g Gomega) {
			st := status(commerce)(g)
			g.Expect(sourceNames(getEntity(ctx, ns, commerce)(g))).To(ConsistOf(ns+"/"+shop, ns+"/"+billing))
			g.Expect(st.Ready).To(Equal("2/2"))
			g.Expect(st.Health).To(Equal(catalogv1alpha1.HealthHealthy))
			reported(g, commerce, "spec.domain names this Domain itself (domain:default/"+commerce+"): an entity is not its own member")
		}).WithTimeout(15 * time.Second).Should(Succeed())
		Expect(rolledUp(shop)(Default)).To(BeNil(), "a System in a Domain is no cycle")

		By("a member going bad reaching the Domain through its System")
		updateWidgetStatus(ctx, ns, "db", metav1.ConditionFalse, "disk full again")
		Eventually(func(g Gomega) catalogv1alpha1.Health { return status(commerce)(g).Health }).
			WithTimeout(15 * time.Second).Should(Equal(catalogv1alpha1.HealthProgressing))
	})

	It("reports a System that names itself, keeps it Unknown without members, and settles", func() {
		lonely := "lonely-" + ns
		countWrites(lonely)
		entity(lonely, catalogv1alpha1.KindSystem, lonely, "")
		Eventually(func(g Gomega) {
			st := status(lonely)(g)
			g.Expect(st.Health).To(Equal(catalogv1alpha1.HealthUnknown))
			g.Expect(st.Ready).To(Equal("0/0"))
			g.Expect(st.Sources).To(BeEmpty())
			reported(g, lonely, "spec.system names this System itself (system:default/"+lonely+"): an entity is not its own member")
		}).WithTimeout(15 * time.Second).Should(Succeed())
		noWritesFor(quietFor, lonely)
		Expect(written(lonely)).To(Equal(map[string]int{lonely: 1}), "one status write, the condition with it")

		By("fixing the spec: the condition goes")
		e := getEntity(ctx, ns, lonely)(Default)
		patch := client.MergeFrom(e.DeepCopy())
		e.Spec.System = ""
		Expect(k8sClient.Patch(ctx, e, patch)).To(Succeed())
		Eventually(rolledUp(lonely)).WithTimeout(15 * time.Second).Should(BeNil())
	})

	It("reports a Domain whose spec.system names its own System, follows the rest, and does not loop", func() {
		realm, vault, lock := "realm-"+ns, "vault-"+ns, "lock-"+ns
		countWrites(realm, vault, lock)
		createWidget(ctx, widget(ns, "lock", nil, metav1.ConditionTrue, "fine"))
		entity(realm, catalogv1alpha1.KindDomain, vault, "")
		entity(vault, catalogv1alpha1.KindSystem, "", realm)
		entity(lock, catalogv1alpha1.KindComponent, vault, "", widgetSource("lock"))
		Eventually(func(g Gomega) {
			reported(g, realm, "spec.system names system:default/"+vault+
				", one of this Domain's members: an entity is not a member of its own member")
			st := status(realm)(g)
			g.Expect(st.Health).To(Equal(catalogv1alpha1.HealthHealthy))
			g.Expect(st.Ready).To(Equal("1/1"))
			g.Expect(sourceNames(getEntity(ctx, ns, realm)(g))).To(ConsistOf(ns + "/" + vault))
			g.Expect(sourceNames(getEntity(ctx, ns, vault)(g))).To(ConsistOf(ns + "/" + lock))
			g.Expect(status(vault)(g).Ready).To(Equal("1/1"))
		}).WithTimeout(15 * time.Second).Should(Succeed())
		Expect(rolledUp(vault)(Default)).To(BeNil(), "the System is in its Domain as it says")

		By("settling: a few writes each, then none")
		// Created at once, each is written at most once per state of what it rolls up:
		// the Domain first alone, then for each state its System passes through on the
		// way (none yet, no member, a member without status, Healthy). Entities that
		// loop write each other's message into theirs some twenty times before it is cut.
		settled := settledWrites(realm, vault, lock)
		for name, n := range settled {
			Expect(n).To(BeNumerically("<=", 5), "status writes to %s", name)
		}
		noWritesFor(quietFor, realm, vault, lock)

		By("a member going bad reaching the Domain once, through its System")
		updateWidgetStatus(ctx, ns, "lock", metav1.ConditionFalse, "jammed")
		Eventually(func(g Gomega) catalogv1alpha1.Health { return status(realm)(g).Health }).
			WithTimeout(15 * time.Second).Should(Equal(catalogv1alpha1.HealthProgressing))
		noWritesFor(quietFor, realm, vault, lock)
		Expect(written(realm, vault, lock)).To(Equal(map[string]int{realm: settled[realm] + 1, vault: settled[vault] + 1, lock: settled[lock] + 1}),
			"one write to each on the way up")
		Expect(rolledUp(realm)(Default)).NotTo(BeNil(), "still reported")
	})

	It("puts no System into a System, though two name each other as their Domain by kind", func() {
		east, west := "east-"+ns, "west-"+ns
		countWrites(east, west)
		entity(east, catalogv1alpha1.KindSystem, "", "system:"+west)
		entity(west, catalogv1alpha1.KindSystem, "", "system:"+east)
		Eventually(func(g Gomega) {
			for _, name := range []string{east, west} {
				st := status(name)(g)
				g.Expect(st.Ready).To(Equal("0/0"))
				g.Expect(st.Message).To(Equal("no sources found"))
			}
		}).WithTimeout(15 * time.Second).Should(Succeed())
		noWritesFor(quietFor, east, west)
		Expect(written(east, west)).To(Equal(map[string]int{east: 1, west: 1}))
	})
})
