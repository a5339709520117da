package e2e

import (
	"context"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// managerMay asks the API server whether the manager's ServiceAccount, with only what
// config/default grants it, may do verb on resource.
func managerMay(ctx context.Context, verb, group, resource, subresource, namespace string) bool {
	GinkgoHelper()
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:   "system:serviceaccount:entityhub-system:entityhub-controller-manager",
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:entityhub-system", "system:authenticated"},
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Verb: verb, Group: group, Resource: resource, Subresource: subresource, Namespace: namespace,
		},
	}}
	Expect(k8sClient.Create(ctx, sar)).To(Succeed())
	return sar.Status.Allowed
}

var _ = Describe("Least privilege and hardening", Ordered, func() {
	ctx := context.Background()

	BeforeAll(func() {
		for _, name := range []string{"entityhub-system", "argocd", "argo"} {
			Expect(client.IgnoreAlreadyExists(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}))).To(Succeed())
		}
		_, stderr, err := kubectl(ctx, "apply", "--server-side", "--force-conflicts", "-k", "config/default")
		Expect(err).NotTo(HaveOccurred(), stderr)
	})

	can := func(verb, group, resource, subresource, namespace string) bool {
		return managerMay(ctx, verb, group, resource, subresource, namespace)
	}

	DescribeTable("the manager may do what it needs",
		func(verb, group, resource, subresource, namespace string) {
			Expect(can(verb, group, resource, subresource, namespace)).To(BeTrue())
		},
		Entry("watch CRDs", "watch", "apiextensions.k8s.io", "customresourcedefinitions", "", ""),
		Entry("list Argo CD Applications", "list", "argoproj.io", "applications", "", ""),
		Entry("watch ApplicationSets", "watch", "argoproj.io", "applicationsets", "", ""),
		Entry("list Argo Workflows", "list", "argoproj.io", "workflows", "", ""),
		Entry("watch CronWorkflows", "watch", "argoproj.io", "cronworkflows", "", ""),
		Entry("list WorkflowTemplates", "list", "argoproj.io", "workflowtemplates", "", ""),
		Entry("create CatalogEntities", "create", "catalog.entityhub.dev", "catalogentities", "", "entityhub-system"),
		Entry("delete CatalogEntities", "delete", "catalog.entityhub.dev", "catalogentities", "", "entityhub-system"),
		Entry("patch their status", "patch", "catalog.entityhub.dev", "catalogentities", "status", "team-a"),
		Entry("record events", "create", "events.k8s.io", "events", "", "team-a"),
		Entry("list Argo CD cluster Secrets, in Argo CD's namespace", "list", "", "secrets", "", "argocd"),
		Entry("hold its leader election Lease", "update", "coordination.k8s.io", "leases", "", "entityhub-system"),
		Entry("watch the Argo Workflows controller's Lease", "watch", "coordination.k8s.io", "leases", "", "argo"),
		Entry("review tokens for the catalog endpoint", "create", "authentication.k8s.io", "tokenreviews", "", ""),
		Entry("review access for the catalog endpoint", "create", "authorization.k8s.io", "subjectaccessreviews", "", ""),
	)

	DescribeTable("the manager may not do more",
		func(verb, group, resource, subresource, namespace string) {
			Expect(can(verb, group, resource, subresource, namespace)).To(BeFalse())
		},
		Entry("read Secrets anywhere else", "list", "", "secrets", "", "entityhub-system"),
		Entry("read Secrets across the cluster", "list", "", "secrets", "", ""),
		Entry("get a Secret of another namespace", "get", "", "secrets", "", "default"),
		Entry("write Argo CD's Secrets", "update", "", "secrets", "", "argocd"),
		Entry("read ConfigMaps", "list", "", "configmaps", "", "default"),
		Entry("read Leases of other namespaces", "list", "coordination.k8s.io", "leases", "", "kube-system"),
		Entry("change the Argo Workflows controller's Lease", "update", "coordination.k8s.io", "leases", "", "argo"),
		Entry("read Pods", "list", "", "pods", "", ""),
		Entry("change Applications", "patch", "argoproj.io", "applications", "", "argocd"),
		Entry("delete Workflows", "delete", "argoproj.io", "workflows", "", "default"),
		Entry("change CRDs", "update", "apiextensions.k8s.io", "customresourcedefinitions", "", ""),
		Entry("update CatalogEntities whole (it patches labels and status only)", "update", "catalog.entityhub.dev", "catalogentities", "", "team-a"),
		Entry("grant itself more", "create", "rbac.authorization.k8s.io", "clusterrolebindings", "", ""),
	)

	It("runs as non-root, read-only, without privilege escalation or capabilities", func() {
		stdout, stderr, err := kubectl(ctx, "kustomize", "config/default")
		Expect(err).NotTo(HaveOccurred(), stderr)
		var deploy *appsv1.Deployment
		for _, doc := range strings.Split(stdout, "\n---\n") {
			if strings.Contains(doc, "kind: Deployment\n") {
				deploy = &appsv1.Deployment{}
				Expect(yaml.UnmarshalStrict([]byte(doc), deploy)).To(Succeed())
			}
		}
		Expect(deploy).NotTo(BeNil())
		pod := deploy.Spec.Template.Spec
		Expect(pod.SecurityContext.RunAsNonRoot).To(HaveValue(BeTrue()))
		Expect(pod.SecurityContext.SeccompProfile.Type).To(Equal(corev1.SeccompProfileTypeRuntimeDefault))
		Expect(pod.ServiceAccountName).To(Equal("entityhub-controller-manager"))
		Expect(pod.Containers).To(HaveLen(1))
		c := pod.Containers[0]
		Expect(c.SecurityContext.AllowPrivilegeEscalation).To(HaveValue(BeFalse()))
		Expect(c.SecurityContext.ReadOnlyRootFilesystem).To(HaveValue(BeTrue()))
		Expect(c.SecurityContext.Capabilities.Drop).To(ContainElement(corev1.Capability("ALL")))
		Expect(c.SecurityContext.Capabilities.Add).To(BeEmpty())
		Expect(c.SecurityContext.Privileged).To(Or(BeNil(), HaveValue(BeFalse())))
		Expect(c.Resources.Requests).To(HaveKey(corev1.ResourceMemory))
		Expect(c.Resources.Limits).To(HaveKey(corev1.ResourceMemory))
		Expect(c.LivenessProbe).NotTo(BeNil())
		Expect(c.ReadinessProbe).NotTo(BeNil())
		Expect(c.Args).To(ContainElement("--leader-elect"))
		Expect(pod.TerminationGracePeriodSeconds).To(HaveValue(BeNumerically(">=", 10)))
	})
})
