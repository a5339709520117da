package e2e

import (
	"context"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

// columns splits a kubectl table line into its cells.
func columns(line string) []string { return strings.Fields(line) }

var _ = Describe("kubectl", func() {
	ctx := context.Background()

	It("accepts config/default on a real API server", func() {
		// The dry run creates nothing, so the namespaces config/default puts objects in
		// must exist: its own, and Argo CD's, where the Role for cluster Secrets goes.
		for _, name := range []string{"entityhub-system", "argocd", "argo"} {
			ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
			Expect(client.IgnoreAlreadyExists(k8sClient.Create(ctx, ns))).To(Succeed())
		}

		stdout, stderr, err := kubectl(ctx, "apply", "--dry-run=server", "-k", "config/default")
		Expect(err).NotTo(HaveOccurred(), stderr)
		for _, want := range []string{
			"customresourcedefinition.apiextensions.k8s.io/catalogentities.catalog.entityhub.dev",
			"clusterrole.rbac.authorization.k8s.io/entityhub-manager-role",
			"deployment.apps/entityhub-controller-manager",
			"role.rbac.authorization.k8s.io/entityhub-manager-role",
			"rolebinding.rbac.authorization.k8s.io/entityhub-manager-rolebinding",
			"role.rbac.authorization.k8s.io/entityhub-catalog-namespace-writer",
			"rolebinding.rbac.authorization.k8s.io/entityhub-catalog-namespace-writer",
		} {
			Expect(stdout).To(MatchRegexp(`(?m)^` + regexp.QuoteMeta(want) + ` `))
		}
	})

	It("accepts config/argocd-names-none: config/default without the Role that reads Secrets", func() {
		for _, name := range []string{"entityhub-system", "argo"} {
			ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
			Expect(client.IgnoreAlreadyExists(k8sClient.Create(ctx, ns))).To(Succeed())
		}
		stdout, stderr, err := kubectl(ctx, "apply", "--dry-run=server", "-k", "config/argocd-names-none")
		Expect(err).NotTo(HaveOccurred(), stderr)
		Expect(stdout).To(MatchRegexp(`(?m)^deployment\.apps/entityhub-controller-manager `))
		Expect(stdout).To(MatchRegexp(`(?m)^role\.rbac\.authorization\.k8s\.io/entityhub-catalog-namespace-writer `))
		Expect(stdout).NotTo(MatchRegexp(`(?m)^role\.rbac\.authorization\.k8s\.io/entityhub-manager-role `))
		Expect(stdout).NotTo(MatchRegexp(`(?m)^rolebinding\.rbac\.authorization\.k8s\.io/entityhub-manager-rolebinding `))

		stdout, stderr, err = kubectl(ctx, "kustomize", "config/argocd-names-none")
		Expect(err).NotTo(HaveOccurred(), stderr)
		Expect(stdout).To(ContainSubstring("- --argocd-cluster-names=none\n"))
		Expect(stdout).NotTo(MatchRegexp(`(?m)^  - secrets$`), "no rule names Secrets")
	})

	It("shows entities at a glance with `kubectl get catalogentities`", func() {
		const ns = "kubectl-get"
		Expect(client.IgnoreAlreadyExists(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))).To(Succeed())
		_, stderr, err := kubectlStdin(ctx, `
apiVersion: catalog.entityhub.dev/v1alpha1
kind: CatalogEntity
metadata:
  name: payments-api
spec:
  owner: group:default/payments
`, "apply", "-n", ns, "-f", "-")
		Expect(err).NotTo(HaveOccurred(), stderr)

		By("waiting for the manager binary to write the entity's status")
		Eventually(func(g Gomega) {
			e := &catalogv1alpha1.CatalogEntity{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "payments-api"}, e)).To(Succeed())
			g.Expect(e.Status.ObservedGeneration).To(Equal(e.Generation))
		}).WithTimeout(30 * time.Second).Should(Succeed())

		stdout, stderr, err := kubectl(ctx, "get", "catalogentities", "-A")
		Expect(err).NotTo(HaveOccurred(), stderr)
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		Expect(columns(lines[0])).To(Equal([]string{"NAMESPACE", "NAME", "KIND", "OWNER", "HEALTH", "SYNC", "READY", "AGE"}))
		row := ""
		for _, l := range lines[1:] {
			if strings.HasPrefix(l, ns+" ") {
				row = l
			}
		}
		// SYNC is empty while no source has a sync state, so it is not a cell of its own.
		Expect(columns(row)[:6]).To(Equal([]string{ns, "payments-api", "Component", "group:default/payments", "Unknown", "0/0"}))

		By("the short name, the category and -o wide")
		stdout, stderr, err = kubectl(ctx, "get", "ce", "-n", ns, "-o", "wide")
		Expect(err).NotTo(HaveOccurred(), stderr)
		lines = strings.Split(strings.TrimSpace(stdout), "\n")
		Expect(columns(lines[0])).To(Equal([]string{"NAME", "KIND", "OWNER", "HEALTH", "SYNC", "READY", "AGE", "MESSAGE", "CLUSTERS"}))
		Expect(lines[1]).To(ContainSubstring("no sources found"))

		stdout, stderr, err = kubectl(ctx, "get", "entityhub", "-n", ns, "-o", "name")
		Expect(err).NotTo(HaveOccurred(), stderr)
		Expect(stdout).To(ContainSubstring("catalogentity.catalog.entityhub.dev/payments-api"))

		By("the Backstage Kubernetes plugin's query: a label selector across namespaces")
		stdout, stderr, err = kubectl(ctx, "get", "catalogentities", "-A", "-l", "backstage.io/kubernetes-id=payments-api", "-o", "name")
		Expect(err).NotTo(HaveOccurred(), stderr)
		Expect(strings.TrimSpace(stdout)).To(Equal("catalogentity.catalog.entityhub.dev/payments-api"))
	})
})
