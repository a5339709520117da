package catalogentity_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/catalogentity"
)

// parallel runs fn for i in [0, n) on workers goroutines.
func parallel(n, workers int, fn func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer GinkgoRecover()
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

var _ = Describe("Faults and load", func() {
	ctx := context.Background()
	var ns string
	BeforeEach(func() {
		installWidgets()
		ns = newNamespace(ctx)
	})

	It("converges after a source CRD is deleted and re-created with its sources", func() {
		name := "phoenix-" + ns
		createWidget(ctx, widget(ns, "w", kubernetesID(name), metav1.ConditionTrue, ""))
		Eventually(func(g Gomega) string {
			return getEntity(ctx, catalogNamespace, name)(g).Status.Ready
		}).WithTimeout(10 * time.Second).Should(Equal("1/1"))

		uninstallWidgets(ctx) // takes every Widget with it
		Eventually(func(g Gomega) string {
			return getEntity(ctx, catalogNamespace, name)(g).Status.Ready
		}).WithTimeout(15 * time.Second).Should(Equal("0/0"))

		installWidgets()
		createWidget(ctx, widget(ns, "w", kubernetesID(name), metav1.ConditionFalse, "restoring from backup"))
		Eventually(func(g Gomega) {
			got := getEntity(ctx, catalogNamespace, name)(g)
			g.Expect(got.Status.Ready).To(Equal("0/1"))
			g.Expect(got.Status.Message).To(ContainSubstring("restoring from backup"))
			g.Expect(got.Annotations).NotTo(HaveKey(catalogentity.OrphanedSinceAnnotation))
		}).WithTimeout(15 * time.Second).Should(Succeed())
	})

	It("ends at the right status after 1,000 source updates in a burst to one entity", func() {
		name := "busy-" + ns
		const widgets, rounds = 50, 20
		parallel(widgets, 8, func(i int) {
			createWidget(ctx, widget(ns, fmt.Sprintf("w-%02d", i), kubernetesID(name), metav1.ConditionTrue, ""))
		})
		By("updating every widget's status 20 times, concurrently")
		parallel(widgets*rounds, 8, func(n int) {
			i, round := n%widgets, n/widgets
			ready, msg := metav1.ConditionFalse, fmt.Sprintf("round %d", round)
			// The last round leaves every widget ready but one.
			if round == rounds-1 && i != 7 {
				ready, msg = metav1.ConditionTrue, ""
			}
			Eventually(func() error {
				u := &unstructured.Unstructured{}
				u.SetGroupVersionKind(widgetGVK)
				if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: fmt.Sprintf("w-%02d", i)}, u); err != nil {
					return err
				}
				setReady(u, ready, msg)
				return k8sClient.Status().Update(ctx, u) // a conflict is retried, as any writer would
			}).WithTimeout(30 * time.Second).Should(Succeed())
		})
		Eventually(func(g Gomega) {
			got := getEntity(ctx, catalogNamespace, name)(g)
			g.Expect(got.Status.Ready).To(Equal(fmt.Sprintf("%d/%d", widgets-1, widgets)))
			g.Expect(got.Status.Health).To(Equal(catalogv1alpha1.HealthProgressing))
			g.Expect(got.Status.Message).To(Equal("Widget " + ns + "/w-07 is Progressing: round 19"))
		}).WithTimeout(30 * time.Second).Should(Succeed())
	})

	It("keeps an entity of 2,000 sources small, counting and judging all of them", func() {
		name := "crowd-" + ns
		const n = 2000
		parallel(n, 8, func(i int) {
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(widgetGVK)
			u.SetNamespace(ns)
			u.SetName(fmt.Sprintf("w-%04d", i))
			u.SetLabels(kubernetesID(name))
			Expect(k8sClient.Create(ctx, u)).To(Succeed()) // no status: kstatus calls it Current
		})
		// One source in the middle, which sorts neither first nor last by id, is failing.
		failing := widget(ns, "w-1234", nil, metav1.ConditionFalse, "out of quota")
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(widgetGVK)
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(failing), u)).To(Succeed())
		u.Object["status"] = failing.Object["status"]
		Expect(k8sClient.Status().Update(ctx, u)).To(Succeed())

		Eventually(func(g Gomega) {
			got := getEntity(ctx, catalogNamespace, name)(g)
			g.Expect(got.Status.SourceCount).To(BeEquivalentTo(n))
			g.Expect(got.Status.Sources).To(HaveLen(catalogv1alpha1.MaxStatusSources))
			g.Expect(got.Status.Ready).To(Equal(fmt.Sprintf("%d/%d", n-1, n)))
			g.Expect(got.Status.Health).To(Equal(catalogv1alpha1.HealthProgressing))
			g.Expect(got.Status.Sources[0].Name).To(Equal("w-1234"), "the worst source is listed first")
			size, err := json.Marshal(got)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(len(size)).To(BeNumerically("<", 256*1024), "far below etcd's 1.5 MiB object limit")
			AddReportEntry("size of an entity with 2,000 sources", fmt.Sprintf("%d bytes", len(size)))
		}).WithTimeout(60 * time.Second).Should(Succeed())
	})
})
