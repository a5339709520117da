package catalogentity_test

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/watches"
	"github.com/entityhub/entityhub/test/testenv"
)

// reconciledApplication is a Healthy, Synced Application of entity, last reconciled at.
func reconciledApplication(ns, name, entity string, at time.Time, annotations string) *unstructured.Unstructured {
	return application(fmt.Sprintf(`
metadata: {name: %s, namespace: %s, labels: {backstage.io/kubernetes-id: %s}, annotations: {%s}}
spec: {destination: {name: in-cluster, namespace: shop}, project: default}
status:
  health: {status: Healthy}
  sync: {status: Synced, revision: abc123}
  reconciledAt: %q`, name, ns, entity, annotations, at.UTC().Format(time.RFC3339)))
}

// setReconciledAt writes an Application's status.reconciledAt, as Argo CD does on a refresh.
func setReconciledAt(ctx context.Context, ns, name string, at time.Time) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(applicationGVK)
	Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, u)).To(Succeed())
	Expect(unstructured.SetNestedField(u.Object, at.UTC().Format(time.RFC3339), "status", "reconciledAt")).To(Succeed())
	Expect(k8sClient.Update(ctx, u)).To(Succeed())
}

var _ = Describe("An Argo CD that stopped reconciling", Ordered, func() {
	ctx := context.Background()
	var ns string

	BeforeAll(func() {
		_, err := envtest.InstallCRDs(cfg, envtest.CRDInstallOptions{Paths: []string{
			filepath.Join(testenv.RepoRoot(), "test", "fixtures", "crds", "argoproj.io_applications.yaml"),
		}})
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() watches.State {
			s, _, _ := engine.Watches.StateOf(applicationGVK)
			return s
		}).WithTimeout(15 * time.Second).Should(Equal(watches.Synced))
		ns = newNamespace(ctx)
	})

	It("shows an Application reconciled long ago as Unknown, and Healthy again once Argo CD refreshes it", func() {
		entity := "stale-" + ns
		Expect(k8sClient.Create(ctx, reconciledApplication(ns, "old", entity, time.Now().Add(-2*time.Hour), ""))).To(Succeed())
		Eventually(func(g Gomega) {
			got := getEntity(ctx, catalogNamespace, entity)(g)
			g.Expect(got.Status.Health).To(Equal(catalogv1alpha1.HealthUnknown))
			src := sourceOf(got, "Application", "old")
			g.Expect(src).NotTo(BeNil())
			g.Expect(src.Message).To(And(
				ContainSubstring("Argo CD has not reconciled Application "+ns+"/old for over 10m0s (since "),
				HaveSuffix("; last known: Healthy, Synced")))
			g.Expect(src.Sync).To(Equal(catalogv1alpha1.SyncUnknown))
		}).WithTimeout(15 * time.Second).Should(Succeed())

		By("Argo CD reconciling it again")
		setReconciledAt(ctx, ns, "old", time.Now())
		Eventually(func(g Gomega) catalogv1alpha1.Health {
			return getEntity(ctx, catalogNamespace, entity)(g).Status.Health
		}).WithTimeout(10 * time.Second).Should(Equal(catalogv1alpha1.HealthHealthy))
	})

	It("shows the crossing within seconds with no event after it, and writes nothing before it", func() {
		entity := "crossing-" + ns
		// Fresh for a few more seconds: it crosses the threshold with nothing happening.
		crossing := time.Now().Add(6 * time.Second)
		Expect(k8sClient.Create(ctx, reconciledApplication(ns, "quiet", entity, crossing.Add(-argoStaleAfter), ""))).To(Succeed())
		var settledVersion string
		Eventually(func(g Gomega) {
			got := getEntity(ctx, catalogNamespace, entity)(g)
			g.Expect(got.Status.Health).To(Equal(catalogv1alpha1.HealthHealthy))
			settledVersion = got.ResourceVersion
		}).WithTimeout(5 * time.Second).Should(Succeed())

		By("writing nothing until the crossing")
		Consistently(func(g Gomega) string {
			return getEntity(ctx, catalogNamespace, entity)(g).ResourceVersion
		}).WithTimeout(time.Until(crossing) - 500*time.Millisecond).WithPolling(200 * time.Millisecond).Should(Equal(settledVersion))

		By("showing Unknown soon after it")
		Eventually(func(g Gomega) catalogv1alpha1.Health {
			return getEntity(ctx, catalogNamespace, entity)(g).Status.Health
		}).WithTimeout(10 * time.Second).WithPolling(100 * time.Millisecond).Should(Equal(catalogv1alpha1.HealthUnknown))
		AddReportEntry("Argo CD stale: crossing to Unknown", time.Since(crossing).Round(100*time.Millisecond).String())
	})

	It("shows an Application whose reconciliation is skipped on purpose as Suspended", func() {
		entity := "skipped-" + ns
		Expect(k8sClient.Create(ctx, reconciledApplication(ns, "frozen", entity, time.Now(),
			`argocd.argoproj.io/skip-reconcile: "true"`))).To(Succeed())
		Eventually(func(g Gomega) {
			got := getEntity(ctx, catalogNamespace, entity)(g)
			g.Expect(got.Status.Health).To(Equal(catalogv1alpha1.HealthSuspended))
			g.Expect(sourceOf(got, "Application", "frozen").Message).To(Equal(
				"Argo CD skips reconciling Application " + ns + `/frozen (argocd.argoproj.io/skip-reconcile: "true"); its status is frozen; last known: Healthy, Synced`))
		}).WithTimeout(10 * time.Second).Should(Succeed())
	})
})
