package catalogentity_test

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/watches"
	"github.com/entityhub/entityhub/test/testenv"
)

var (
	workflowGVK     = schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "Workflow"}
	cronWorkflowGVK = schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "CronWorkflow"}
	templateGVK     = schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "WorkflowTemplate"}
)

// argoObject creates an Argo Workflows object from YAML; their CRDs have no status
// subresource, so status is written with the object.
func argoObject(ctx context.Context, gvk schema.GroupVersionKind, manifest string) {
	obj := map[string]any{}
	Expect(yaml.Unmarshal([]byte(manifest), &obj)).To(Succeed())
	u := &unstructured.Unstructured{Object: obj}
	u.SetGroupVersionKind(gvk)
	Expect(k8sClient.Create(ctx, u)).To(Succeed())
}

// run is a Workflow started from template or cron (label key) in ns.
func run(ns, name, labelKey, owner, phase, message string) string {
	return fmt.Sprintf(`
metadata: {name: %s, namespace: %s, labels: {%s: %s}}
spec: {workflowTemplateRef: {name: %s}, arguments: {parameters: [{name: git-sha, value: 4f2a9c1}]}}
status:
  phase: %s
  message: %q
  progress: 3/3
  startedAt: "2026-11-20T02:00:00Z"
  finishedAt: "2026-11-20T02:05:00Z"
  nodes:
    %s: {id: %s, name: %s, type: Steps, phase: %s, children: [%s-1]}
    %s-1: {id: %s-1, name: "%s[0].test", type: Pod, phase: %s}
`, name, ns, labelKey, owner, owner, phase, message, name, name, name, phase, name, name, name, name, phase)
}

var _ = Describe("Argo Workflows runs and schedules", Ordered, func() {
	ctx := context.Background()
	var ns, entity string

	BeforeAll(func() {
		By("installing Argo Workflows' CRDs while the manager runs")
		var paths []string
		for _, f := range []string{"argoproj.io_workflows.yaml", "argoproj.io_cronworkflows.yaml", "argoproj.io_workflowtemplates.yaml"} {
			paths = append(paths, filepath.Join(testenv.RepoRoot(), "test", "fixtures", "crds", f))
		}
		_, err := envtest.InstallCRDs(cfg, envtest.CRDInstallOptions{Paths: paths})
		Expect(err).NotTo(HaveOccurred())
		for _, gvk := range []schema.GroupVersionKind{workflowGVK, cronWorkflowGVK, templateGVK} {
			Eventually(func() watches.State {
				s, _, _ := engine.Watches.StateOf(gvk)
				return s
			}).WithTimeout(15*time.Second).Should(Equal(watches.Synced), gvk.String())
		}
		ns = newNamespace(ctx)
		entity = "ci-" + ns
		argoObject(ctx, templateGVK, fmt.Sprintf(`
metadata: {name: ci-payments, namespace: %s, labels: {backstage.io/kubernetes-id: %s}}
spec: {entrypoint: main, templates: [{name: main, container: {image: golang:1.26}}]}
`, ns, entity))
	})

	It("joins runs to the entity of their WorkflowTemplate, and a later success clears an earlier failure", func() {
		argoObject(ctx, workflowGVK, run(ns, "ci-payments-1", "workflows.argoproj.io/workflow-template", "ci-payments", "Failed", "child 'test' failed"))
		Eventually(func(g Gomega) {
			got := getEntity(ctx, catalogNamespace, entity)(g)
			g.Expect(got.Status.Health).To(Equal(catalogv1alpha1.HealthDegraded))
			g.Expect(got.Status.LastRun).To(Equal("Failed"))
		}).WithTimeout(10 * time.Second).Should(Succeed())

		argoObject(ctx, workflowGVK, run(ns, "ci-payments-2", "workflows.argoproj.io/workflow-template", "ci-payments", "Succeeded", ""))
		Eventually(func(g Gomega) {
			got := getEntity(ctx, catalogNamespace, entity)(g)
			g.Expect(got.Status.Health).To(Equal(catalogv1alpha1.HealthHealthy))
			g.Expect(got.Status.LastRun).To(Equal("Succeeded"))
			g.Expect(got.Status.SourceCount).To(BeEquivalentTo(1), "only the newest run of the template is a source")
			g.Expect(got.Status.Runs).To(HaveLen(2))
			g.Expect(got.Status.Runs[0].Name).To(Equal("ci-payments-2"))
			g.Expect(got.Status.Runs[1].Name).To(Equal("ci-payments-1"))
			g.Expect(got.Status.Runs[1].Phase).To(Equal("Failed"))
			g.Expect(got.Status.Runs[0].StartedAt).NotTo(BeNil())
		}).WithTimeout(10 * time.Second).Should(Succeed())
	})

	It("keeps no node graph of finished runs in the cache", func() {
		cached := &unstructured.Unstructured{}
		cached.SetGroupVersionKind(workflowGVK)
		Expect(engine.Sources.Get(ctx, client.ObjectKey{Namespace: ns, Name: "ci-payments-1"}, cached)).To(Succeed())
		status, _, _ := unstructured.NestedMap(cached.Object, "status")
		Expect(status).To(HaveKeyWithValue("phase", "Failed"))
		Expect(status).NotTo(HaveKey("nodes"))
		spec, _, _ := unstructured.NestedMap(cached.Object, "spec")
		Expect(spec).NotTo(HaveKey("arguments"), "only spec.suspend is read")

		stored := &unstructured.Unstructured{}
		stored.SetGroupVersionKind(workflowGVK)
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "ci-payments-1"}, stored)).To(Succeed())
		Expect(stored.Object["status"]).To(HaveKey("nodes"), "the API server still has them")
	})

	It("turns Degraded with the run's message when the newest run fails", func() {
		argoObject(ctx, workflowGVK, run(ns, "ci-payments-3", "workflows.argoproj.io/workflow-template", "ci-payments", "Failed", "child 'deploy' failed"))
		Eventually(func(g Gomega) {
			got := getEntity(ctx, catalogNamespace, entity)(g)
			g.Expect(got.Status.Health).To(Equal(catalogv1alpha1.HealthDegraded))
			g.Expect(got.Status.LastRun).To(Equal("Failed"))
			g.Expect(got.Status.Message).To(ContainSubstring("Workflow " + ns + "/ci-payments-3 is Degraded"))
			g.Expect(got.Status.Message).To(ContainSubstring("child 'deploy' failed"))
			g.Expect(got.Status.Runs).To(HaveLen(3))
		}).WithTimeout(10 * time.Second).Should(Succeed())
	})

	It("shows a CronWorkflow's schedule and its newest run, and a suspended one as Suspended", func() {
		nightly := "nightly-" + ns
		argoObject(ctx, cronWorkflowGVK, fmt.Sprintf(`
metadata: {name: nightly-report, namespace: %s, labels: {backstage.io/kubernetes-id: %s}}
spec: {schedule: "0 2 * * *", suspend: false, workflowSpec: {entrypoint: main}}
status: {lastScheduledTime: "2026-11-20T02:00:00Z", succeeded: 2, failed: 1}
`, ns, nightly))
		argoObject(ctx, workflowGVK, run(ns, "nightly-report-1763604000", "workflows.argoproj.io/cron-workflow", "nightly-report", "Succeeded", ""))
		argoObject(ctx, workflowGVK, run(ns, "nightly-report-1763690400", "workflows.argoproj.io/cron-workflow", "nightly-report", "Error", "pod deleted"))
		Eventually(func(g Gomega) {
			got := getEntity(ctx, catalogNamespace, nightly)(g)
			g.Expect(got.Status.Health).To(Equal(catalogv1alpha1.HealthDegraded))
			g.Expect(got.Status.LastRun).To(Equal("Error"))
			g.Expect(got.Status.SourceCount).To(BeEquivalentTo(2), "the CronWorkflow and its newest run")
		}).WithTimeout(10 * time.Second).Should(Succeed())

		By("suspending the schedule and succeeding its next run")
		argoObject(ctx, workflowGVK, run(ns, "nightly-report-1763776800", "workflows.argoproj.io/cron-workflow", "nightly-report", "Succeeded", ""))
		cron := &unstructured.Unstructured{}
		cron.SetGroupVersionKind(cronWorkflowGVK)
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "nightly-report"}, cron)).To(Succeed())
		Expect(unstructured.SetNestedField(cron.Object, true, "spec", "suspend")).To(Succeed())
		Expect(k8sClient.Update(ctx, cron)).To(Succeed())
		Eventually(func(g Gomega) {
			got := getEntity(ctx, catalogNamespace, nightly)(g)
			g.Expect(got.Status.Health).To(Equal(catalogv1alpha1.HealthSuspended))
			g.Expect(got.Status.LastRun).To(Equal("Succeeded"))
		}).WithTimeout(10 * time.Second).Should(Succeed())
	})
})
