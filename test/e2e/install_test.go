package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/entityhub/entityhub/test/helm"
	"github.com/entityhub/entityhub/test/testenv"
)

// dist/install.yaml and the Helm chart at its default values, each applied for real to a
// control plane of its own as a user applies them, give the manager's ServiceAccount
// what config/default gives it and no more. The chart also names an extra source kind
// (manager.sourceKinds), whose read role Kubernetes' aggregation controller, run beside
// the control plane, folds into the manager's.
var _ = Describe("Installing from dist/install.yaml and from the Helm chart", Ordered, func() {
	ctx := context.Background()
	const (
		installFile = "dist/install.yaml"
		chart       = "the Helm chart"
	)
	planes := map[string]client.Client{}

	// install starts a control plane, creates the namespaces the install needs that it
	// does not create, and applies stream to it with kubectl; it returns the plane's
	// client and an administrator's kubeconfig.
	install := func(stream string, namespaces ...string) (client.Client, string) {
		GinkgoHelper()
		env, err := testenv.New()
		Expect(err).NotTo(HaveOccurred())
		cfg, err := env.Start()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(env.Stop)
		c, err := client.New(cfg, client.Options{Scheme: k8sClient.Scheme()})
		Expect(err).NotTo(HaveOccurred())
		admin, err := testenv.WriteKubeconfig(env, GinkgoT().TempDir())
		Expect(err).NotTo(HaveOccurred())
		for _, ns := range namespaces {
			Expect(c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
		}
		var stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, kubectlPath, "--kubeconfig", admin, "apply", "--server-side", "--force-conflicts", "-f", "-")
		cmd.Stdin, cmd.Stderr = bytes.NewBufferString(stream), &stderr
		Expect(cmd.Run()).To(Succeed(), stderr.String())
		return c, admin
	}

	BeforeAll(func() {
		stream, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), installFile))
		Expect(err).NotTo(HaveOccurred())
		// The file creates its namespace; the Roles for Argo CD and Argo Workflows go to
		// theirs, which must exist.
		planes[installFile], _ = install(string(stream), "argocd", "argo")

		rendered, err := helm.Render(helm.Options{Values: map[string]any{"manager": map[string]any{
			"sourceKinds": []any{map[string]any{"apiVersion": "tf.upbound.io/v1beta1", "kind": "Workspace"}},
		}}})
		Expect(err).NotTo(HaveOccurred())
		// helm install --create-namespace makes the release's namespace.
		var admin string
		planes[chart], admin = install(rendered, helm.ReleaseNamespace, "argocd", "argo")

		dir := GinkgoT().TempDir()
		bin, err := testenv.BuildClusterRoleAggregator(dir)
		Expect(err).NotTo(HaveOccurred())
		aggregator, err := testenv.StartManager(bin, admin, filepath.Join(dir, "aggregation.log"))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() {
			Expect(aggregator.Stop(10 * time.Second)).To(Succeed())
		})
	})

	may := []TableEntry{
		Entry("watch CRDs", "watch", "apiextensions.k8s.io", "customresourcedefinitions", "", ""),
		Entry("list Argo CD Applications", "list", "argoproj.io", "applications", "", ""),
		Entry("watch Argo Workflows", "watch", "argoproj.io", "workflows", "", ""),
		Entry("watch Crossplane providers", "watch", "pkg.crossplane.io", "providers", "", ""),
		Entry("watch CatalogEntities everywhere", "watch", "catalog.entityhub.dev", "catalogentities", "", ""),
		Entry("create CatalogEntities in the catalog namespace", "create", "catalog.entityhub.dev", "catalogentities", "", "entityhub-system"),
		Entry("delete CatalogEntities in the catalog namespace", "delete", "catalog.entityhub.dev", "catalogentities", "", "entityhub-system"),
		Entry("record events in the catalog namespace", "create", "events.k8s.io", "events", "", "entityhub-system"),
		Entry("label a team's CatalogEntities", "patch", "catalog.entityhub.dev", "catalogentities", "", "team-a"),
		Entry("patch their status", "patch", "catalog.entityhub.dev", "catalogentities", "status", "team-a"),
		Entry("list Argo CD's cluster Secrets", "list", "", "secrets", "", "argocd"),
		Entry("hold its leader election Lease", "update", "coordination.k8s.io", "leases", "", "entityhub-system"),
		Entry("watch Argo Workflows' controller Lease", "watch", "coordination.k8s.io", "leases", "", "argo"),
		Entry("review tokens", "create", "authentication.k8s.io", "tokenreviews", "", ""),
		Entry("review access", "create", "authorization.k8s.io", "subjectaccessreviews", "", ""),
	}
	mayNot := []TableEntry{
		Entry("read Secrets in its own namespace", "list", "", "secrets", "", "entityhub-system"),
		Entry("read Secrets across the cluster", "list", "", "secrets", "", ""),
		Entry("write Argo CD's Secrets", "update", "", "secrets", "", "argocd"),
		Entry("read Pods", "list", "", "pods", "", ""),
		Entry("read Leases of other namespaces", "list", "coordination.k8s.io", "leases", "", "kube-system"),
		Entry("change Applications", "patch", "argoproj.io", "applications", "", "argocd"),
		Entry("update CatalogEntities whole", "update", "catalog.entityhub.dev", "catalogentities", "", "team-a"),
		Entry("create CatalogEntities in a team's namespace", "create", "catalog.entityhub.dev", "catalogentities", "", "team-a"),
		Entry("delete CatalogEntities by the collection", "deletecollection", "catalog.entityhub.dev", "catalogentities", "", "entityhub-system"),
		Entry("record events in a team's namespace", "create", "events.k8s.io", "events", "", "team-a"),
		Entry("grant itself more", "create", "rbac.authorization.k8s.io", "clusterrolebindings", "", ""),
	}

	for _, from := range []string{installFile, chart} {
		It("creates the manager's Deployment from "+from, func() {
			deploy := &appsv1.Deployment{}
			Expect(planes[from].Get(ctx, client.ObjectKey{Namespace: "entityhub-system", Name: "entityhub-controller-manager"}, deploy)).To(Succeed())
			Expect(deploy.Spec.Template.Spec.ServiceAccountName).To(Equal("entityhub-controller-manager"))
		})
		DescribeTable("with "+from+" the manager may do what it needs",
			func(verb, group, resource, subresource, namespace string) {
				Expect(managerMayOn(ctx, planes[from], verb, group, resource, subresource, namespace)).To(BeTrue())
			}, may)
		DescribeTable("with "+from+" the manager may not do more",
			func(verb, group, resource, subresource, namespace string) {
				Expect(managerMayOn(ctx, planes[from], verb, group, resource, subresource, namespace)).To(BeFalse())
			}, mayNot)
	}

	It("reads a source kind named in the chart's values, through the read role the chart aggregates", func() {
		Eventually(func(g Gomega) {
			g.Expect(managerMayOn(ctx, planes[chart], "watch", "tf.upbound.io", "workspaces", "", "")).To(BeTrue())
		}).WithTimeout(30 * time.Second).WithPolling(200 * time.Millisecond).Should(Succeed())
		Expect(managerMayOn(ctx, planes[chart], "update", "tf.upbound.io", "workspaces", "", "")).To(BeFalse())
		Expect(managerMayOn(ctx, planes[installFile], "watch", "tf.upbound.io", "workspaces", "", "")).To(BeFalse())
	})
})
