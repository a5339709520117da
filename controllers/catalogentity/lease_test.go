package catalogentity_test

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/watches"
	"github.com/entityhub/entityhub/test/testenv"
)

var _ = Describe("A workflow controller that stopped renewing its lease", Ordered, func() {
	ctx := context.Background()

	It("shows a running Workflow Unknown once the lease is three durations old, and Running again when renewed", func() {
		var paths []string
		for _, f := range []string{"argoproj.io_workflows.yaml", "argoproj.io_cronworkflows.yaml", "argoproj.io_workflowtemplates.yaml"} {
			paths = append(paths, filepath.Join(testenv.RepoRoot(), "test", "fixtures", "crds", f))
		}
		_, err := envtest.InstallCRDs(cfg, envtest.CRDInstallOptions{Paths: paths})
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() watches.State { s, _, _ := engine.Watches.StateOf(workflowGVK); return s }).
			WithTimeout(15 * time.Second).Should(Equal(watches.Synced))
		Expect(client.IgnoreAlreadyExists(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: leaseKey.Namespace}}))).To(Succeed())

		By("the controller holding its lease, renewed every second")
		renewed := metav1.NewMicroTime(time.Now())
		lease := &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Namespace: leaseKey.Namespace, Name: leaseKey.Name},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("workflow-controller-7d9f"),
				LeaseDurationSeconds: ptr.To[int32](1), RenewTime: &renewed},
		}
		Expect(k8sClient.Create(ctx, lease)).To(Succeed())
		DeferCleanup(func() { Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, lease))).To(Succeed()) })
		renew := func(every time.Duration) {
			t := metav1.NewMicroTime(time.Now())
			lease.Spec.RenewTime = &t
			lease.Spec.LeaseDurationSeconds = ptr.To(int32(every / time.Second))
			Expect(k8sClient.Update(ctx, lease)).To(Succeed())
		}

		ns := newNamespace(ctx)
		entity := "nightly-" + ns
		argoObject(ctx, workflowGVK, fmt.Sprintf(`
metadata: {name: nightly-1, namespace: %s, labels: {backstage.io/kubernetes-id: %s}}
spec: {entrypoint: main}
status: {phase: Running, startedAt: "2026-11-30T02:00:00Z", progress: 1/3}`, ns, entity))
		Eventually(func(g Gomega) catalogv1alpha1.Health {
			renew(time.Second)
			return getEntity(ctx, catalogNamespace, entity)(g).Status.Health
		}).WithTimeout(15 * time.Second).WithPolling(500 * time.Millisecond).Should(Equal(catalogv1alpha1.HealthProgressing))

		By("the controller stopping: no renewal after this one")
		renew(time.Second)
		gone := lease.Spec.RenewTime.Add(3 * time.Second)
		Eventually(func(g Gomega) {
			got := getEntity(ctx, catalogNamespace, entity)(g)
			g.Expect(got.Status.Health).To(Equal(catalogv1alpha1.HealthUnknown))
			g.Expect(sourceOf(got, "Workflow", "nightly-1").Message).To(And(
				ContainSubstring("the workflow controller has not renewed its lease "+leaseKey.String()+" for over 3s (since "),
				HaveSuffix("; last known: Progressing")))
		}).WithTimeout(15 * time.Second).WithPolling(100 * time.Millisecond).Should(Succeed())
		AddReportEntry("workflow controller lease: crossing to Unknown", time.Since(gone).Round(100*time.Millisecond).String())

		By("the controller coming back")
		renew(time.Minute)
		Eventually(func(g Gomega) catalogv1alpha1.Health {
			return getEntity(ctx, catalogNamespace, entity)(g).Status.Health
		}).WithTimeout(10 * time.Second).Should(Equal(catalogv1alpha1.HealthProgressing))
	})
})
