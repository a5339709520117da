package e2e

import (
	"context"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/entityhub/entityhub/test/testenv"
)

// The manager reads Crossplane's kinds, which are not known when it is built, through an
// aggregated ClusterRole (config/rbac/source_reader_role.yaml). Aggregation is done by a
// controller of kube-controller-manager, which the test control plane lacks; these specs
// run that very controller (hack/tools/kube/clusterrole-aggregation) beside it.
var _ = Describe("Read access to Crossplane's and configured kinds, by aggregation", Ordered, func() {
	ctx := context.Background()
	const xrd = "xpostgresqlinstances.database.example.org"

	// crossplaneRole is a ClusterRole as Crossplane's RBAC manager renders one for an XRD
	// (crossplane:composite:<xrd>:aggregate-to-<suffix>, labelled with label).
	crossplaneRole := func(suffix, label string, resources ...string) *rbacv1.ClusterRole {
		return &rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{
				Name:   "crossplane:composite:" + xrd + ":aggregate-to-" + suffix,
				Labels: map[string]string{label: "true"},
			},
			Rules: []rbacv1.PolicyRule{{
				APIGroups: []string{"database.example.org"}, Resources: resources,
				Verbs: []string{"get", "list", "watch"},
			}},
		}
	}
	roles := []*rbacv1.ClusterRole{
		// Browse: the composites only.
		crossplaneRole("browse", "rbac.crossplane.io/aggregate-to-browse", "xpostgresqlinstances", "xpostgresqlinstances/status"),
		// View: composites and claims.
		crossplaneRole("view", "rbac.crossplane.io/aggregate-to-view",
			"xpostgresqlinstances", "xpostgresqlinstances/status", "postgresqlinstances", "postgresqlinstances/status"),
		// Edit grants Secrets (Crossplane's base edit role does): it must stay out.
		{
			ObjectMeta: metav1.ObjectMeta{Name: "crossplane:aggregate-to-edit", Labels: map[string]string{"rbac.crossplane.io/aggregate-to-edit": "true"}},
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"*"}}},
		},
		// A kind named with --source-kind, granted as the README says.
		{
			ObjectMeta: metav1.ObjectMeta{Name: "entityhub-source-reader-workspaces", Labels: map[string]string{"catalog.entityhub.dev/aggregate-to-source-reader": "true"}},
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"tf.upbound.io"}, Resources: []string{"workspaces"}, Verbs: []string{"get", "list", "watch"}}},
		},
	}
	type access struct{ verb, group, resource string }
	granted := []access{
		{"list", "database.example.org", "xpostgresqlinstances"},
		{"watch", "database.example.org", "xpostgresqlinstances"},
		{"list", "database.example.org", "postgresqlinstances"},
		{"watch", "database.example.org", "postgresqlinstances"},
		{"get", "tf.upbound.io", "workspaces"},
		{"watch", "tf.upbound.io", "workspaces"},
	}
	allowed := func(a access) bool { return managerMay(ctx, a.verb, a.group, a.resource, "", "") }
	// eventually waits until every access in granted is allowed (want) or denied: the
	// aggregation controller works from a watch, not at once.
	eventually := func(want bool) {
		GinkgoHelper()
		Eventually(func(g Gomega) {
			for _, a := range granted {
				g.Expect(allowed(a)).To(Equal(want), "%v", a)
			}
		}).WithTimeout(30 * time.Second).WithPolling(200 * time.Millisecond).Should(Succeed())
	}

	BeforeAll(func() {
		for _, name := range []string{"entityhub-system", "argocd", "argo"} {
			Expect(client.IgnoreAlreadyExists(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}))).To(Succeed())
		}
		_, stderr, err := kubectl(ctx, "apply", "--server-side", "--force-conflicts", "-k", "config/default")
		Expect(err).NotTo(HaveOccurred(), stderr)

		dir, err := os.MkdirTemp("", "entityhub-aggregation-")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(os.RemoveAll, dir)
		bin, err := testenv.BuildClusterRoleAggregator(dir)
		Expect(err).NotTo(HaveOccurred())
		aggregator, err := testenv.StartManager(bin, kubeconfig, filepath.Join(dir, "aggregation.log"))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() {
			Expect(aggregator.Stop(10 * time.Second)).To(Succeed())
		})
	})

	It("grants nothing of those kinds before their roles exist", func() {
		for _, a := range granted {
			Expect(allowed(a)).To(BeFalse(), "%v", a)
		}
	})

	It("grants composites, claims and configured kinds once their roles exist, and never Secrets", func() {
		for _, r := range roles {
			Expect(k8sClient.Create(ctx, r.DeepCopy())).To(Succeed())
		}
		eventually(true)
		Expect(managerMay(ctx, "list", "", "secrets", "", "")).To(BeFalse())
		Expect(managerMay(ctx, "get", "", "secrets", "", "default")).To(BeFalse())
	})

	It("takes the access away when the roles go", func() {
		for _, r := range roles {
			Expect(k8sClient.Delete(ctx, r.DeepCopy())).To(Succeed())
		}
		eventually(false)
	})
})
