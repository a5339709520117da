package catalogentity_test

import (
	"context"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

var _ = Describe("A status write whose answer is lost", Ordered, func() {
	ctx := context.Background()

	It("is checked against the API server, not the cache, so the status ends right", func() {
		installWidgets()
		ns := newNamespace(ctx)
		name := "ambiguous-" + ns
		createWidget(ctx, widget(ns, "w", kubernetesID(name), metav1.ConditionTrue, "fine"))
		health := func(g Gomega) catalogv1alpha1.Health {
			return getEntity(ctx, catalogNamespace, name)(g).Status.Health
		}
		Eventually(health).WithTimeout(15 * time.Second).Should(Equal(catalogv1alpha1.HealthHealthy))
		// Settled: no write of the entity is still under way when the answers start to drop.
		version := func(g Gomega) string { return getEntity(ctx, catalogNamespace, name)(g).ResourceVersion }
		Consistently(version).WithTimeout(time.Second).WithPolling(100 * time.Millisecond).Should(Equal(version(Default)))

		By("holding back the manager's view of entities, so that its cache cannot show its own writes")
		restoreWatch := proxy.Fail("/apis/catalog.entityhub.dev/v1alpha1/catalogentities", http.StatusInternalServerError)
		DeferCleanup(restoreWatch)
		statusPath := "/namespaces/" + catalogNamespace + "/catalogentities/" + name + "/status"
		dropped := proxy.DropAnswers(statusPath, http.MethodPatch, 1)

		By("the source failing: the manager writes the change, which lands, but its answer is lost")
		updateWidgetStatus(ctx, ns, "w", metav1.ConditionFalse, "broken")
		Eventually(dropped).WithTimeout(15 * time.Second).Should(BeClosed())
		Eventually(health).WithTimeout(5*time.Second).ShouldNot(Equal(catalogv1alpha1.HealthHealthy), "the write landed")

		By("the source recovering while the manager's next writes fail")
		restoreWrites := proxy.Fail(statusPath, http.StatusInternalServerError)
		DeferCleanup(restoreWrites)
		updateWidgetStatus(ctx, ns, "w", metav1.ConditionTrue, "fine")
		time.Sleep(time.Second)
		restoreWrites()

		By("ending Healthy on the server, while the manager's cache still cannot see it")
		Eventually(health).WithTimeout(20 * time.Second).WithPolling(100 * time.Millisecond).Should(Equal(catalogv1alpha1.HealthHealthy))
		restoreWatch()
		Consistently(health).WithTimeout(2 * time.Second).Should(Equal(catalogv1alpha1.HealthHealthy))
	})
})
