package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/test/testenv"
)

// managerMay asks the API server whether the manager's ServiceAccount, with only what
// config/default grants it, may do verb on resource.
func managerMay(ctx context.Context, verb, group, resource, subresource, namespace string) bool {
	GinkgoHelper()
	return managerMayOn(ctx, k8sClient, verb, group, resource, subresource, namespace)
}

// managerMayOn is managerMay on the control plane of c.
func managerMayOn(ctx context.Context, c client.Client, verb, group, resource, subresource, namespace string) bool {
	GinkgoHelper()
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:   "system:serviceaccount:entityhub-system:entityhub-controller-manager",
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:entityhub-system", "system:authenticated"},
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Verb: verb, Group: group, Resource: resource, Subresource: subresource, Namespace: namespace,
		},
	}}
	Expect(c.Create(ctx, sar)).To(Succeed())
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
		Entry("watch CatalogEntities everywhere", "watch", "catalog.entityhub.dev", "catalogentities", "", ""),
		Entry("create discovered CatalogEntities in the catalog namespace", "create", "catalog.entityhub.dev", "catalogentities", "", "entityhub-system"),
		Entry("delete orphaned CatalogEntities in the catalog namespace", "delete", "catalog.entityhub.dev", "catalogentities", "", "entityhub-system"),
		Entry("record events in the catalog namespace", "create", "events.k8s.io", "events", "", "entityhub-system"),
		Entry("count repeated events in the catalog namespace", "patch", "events.k8s.io", "events", "", "entityhub-system"),
		Entry("label a team's CatalogEntities for Backstage", "patch", "catalog.entityhub.dev", "catalogentities", "", "team-a"),
		Entry("patch their status", "patch", "catalog.entityhub.dev", "catalogentities", "status", "team-a"),
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
		Entry("create CatalogEntities in a team's namespace", "create", "catalog.entityhub.dev", "catalogentities", "", "team-a"),
		Entry("delete CatalogEntities in a team's namespace", "delete", "catalog.entityhub.dev", "catalogentities", "", "team-a"),
		Entry("delete CatalogEntities by the collection", "deletecollection", "catalog.entityhub.dev", "catalogentities", "", "entityhub-system"),
		Entry("record events in a team's namespace", "create", "events.k8s.io", "events", "", "team-a"),
		Entry("record core events in a team's namespace", "create", "", "events", "", "team-a"),
		Entry("record events across the cluster", "create", "events.k8s.io", "events", "", ""),
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

// The manager binary run as its ServiceAccount, with only the permissions config/default
// grants (and then config/argocd-names-none): on a control plane of its own, so that the
// suite's manager, an administrator, does nothing for it. It discovers, labels, writes
// status, records events and deletes as it does in a cluster, and the log shows whether
// any of it was refused.
var _ = Describe("The manager as its ServiceAccount, with only what config/default grants", Ordered, func() {
	ctx := context.Background()
	const server = "https://prod.example.com:6443"
	applicationGVK := schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "Application"}
	var (
		c                     client.Client
		dir, admin, asManager string
		running               *testenv.Manager
	)

	// kubectlAdmin runs kubectl as an administrator of this control plane.
	kubectlAdmin := func(args ...string) string {
		GinkgoHelper()
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, kubectlPath, append([]string{"--kubeconfig", admin}, args...)...)
		cmd.Dir = testenv.RepoRoot()
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		Expect(cmd.Run()).To(Succeed(), stderr.String())
		return stdout.String()
	}
	start := func(name string, args ...string) {
		GinkgoHelper()
		probe, err := testenv.FreePort()
		Expect(err).NotTo(HaveOccurred())
		running, err = testenv.StartManager(managerBin, asManager, filepath.Join(dir, name+".log"), append([]string{
			"--metrics-bind-address=0", "--health-probe-bind-address=" + probe,
			"--leader-elect", "--leader-election-namespace=entityhub-system", "--orphan-grace-period=1s",
		}, args...)...)
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() error { return testenv.Ready(ctx, probe) }).WithTimeout(30 * time.Second).Should(Succeed())
	}
	// stop stops the manager and returns its log.
	stop := func() string {
		GinkgoHelper()
		Expect(running.Stop(30 * time.Second)).To(Succeed())
		log, err := os.ReadFile(running.LogPath)
		Expect(err).NotTo(HaveOccurred())
		return string(log)
	}
	application := func(ns, name, entity, health string) *unstructured.Unstructured {
		app := &unstructured.Unstructured{Object: map[string]any{
			"spec":   map[string]any{"destination": map[string]any{"server": server, "namespace": name}},
			"status": map[string]any{"health": map[string]any{"status": health}, "sync": map[string]any{"status": "Synced"}},
		}}
		app.SetGroupVersionKind(applicationGVK)
		app.SetNamespace(ns)
		app.SetName(name)
		app.SetLabels(map[string]string{catalogv1alpha1.KubernetesIDLabel: entity})
		return app
	}
	setHealth := func(ns, name, health string) {
		GinkgoHelper()
		app := &unstructured.Unstructured{}
		app.SetGroupVersionKind(applicationGVK)
		Expect(c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, app)).To(Succeed())
		Expect(unstructured.SetNestedField(app.Object, health, "status", "health", "status")).To(Succeed())
		Expect(c.Update(ctx, app)).To(Succeed())
	}
	entity := func(g Gomega, ns, name string) *catalogv1alpha1.CatalogEntity {
		e := &catalogv1alpha1.CatalogEntity{}
		g.Expect(c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, e)).To(Succeed())
		return e
	}
	// reasons are the reasons of the events recorded in ns, by the name of what they regard.
	reasons := func(g Gomega, ns string) map[string][]string {
		var list eventsv1.EventList
		g.Expect(c.List(ctx, &list, client.InNamespace(ns))).To(Succeed())
		out := map[string][]string{}
		for _, e := range list.Items {
			out[e.Regarding.Name] = append(out[e.Regarding.Name], e.Reason)
		}
		return out
	}

	BeforeAll(func() {
		env, err := testenv.New(filepath.Join(testenv.RepoRoot(), "test", "fixtures", "crds", "argoproj.io_applications.yaml"))
		Expect(err).NotTo(HaveOccurred())
		cfg, err := env.Start()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(env.Stop)
		c, err = client.New(cfg, client.Options{Scheme: k8sClient.Scheme()})
		Expect(err).NotTo(HaveOccurred())
		dir = GinkgoT().TempDir()
		admin, err = testenv.WriteKubeconfig(env, dir)
		Expect(err).NotTo(HaveOccurred())

		for _, name := range []string{"entityhub-system", "argocd", "argo", "team-a"} {
			Expect(c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})).To(Succeed())
		}
		kubectlAdmin("apply", "--server-side", "-k", "config/default")
		Expect(c.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "cluster-prod", Namespace: "argocd", Labels: map[string]string{
				"argocd.argoproj.io/secret-type": "cluster",
			}},
			StringData: map[string]string{"name": "prod", "server": server},
		})).To(Succeed())

		By("running the manager binary with a token of its ServiceAccount")
		token := strings.TrimSpace(kubectlAdmin("create", "token", "entityhub-controller-manager", "-n", "entityhub-system", "--duration=1h"))
		kc := clientcmdapi.NewConfig()
		kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
		kc.AuthInfos["manager"] = &clientcmdapi.AuthInfo{Token: token}
		kc.Contexts["manager"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "manager"}
		kc.CurrentContext = "manager"
		asManager = filepath.Join(dir, "manager.kubeconfig")
		Expect(clientcmd.WriteToFile(*kc, asManager)).To(Succeed())
		start("secrets")
		DeferCleanup(func() { _ = running.Kill() })
	})

	AfterEach(func() {
		if CurrentSpecReport().Failed() && running != nil {
			log, _ := os.ReadFile(running.LogPath)
			GinkgoWriter.Printf("--- manager log ---\n%s\n", log)
		}
	})

	It("creates the entity it discovers in the catalog namespace, and records its events there", func() {
		Expect(c.Create(ctx, application("team-a", "shop-prod", "shop", "Healthy"))).To(Succeed())
		Eventually(func(g Gomega) {
			e := entity(g, "entityhub-system", "shop")
			g.Expect(e.Status.Health).To(Equal(catalogv1alpha1.HealthHealthy))
			g.Expect(e.Status.Clusters).To(Equal("prod"), "named through Argo CD's cluster Secret")
		}).WithTimeout(30 * time.Second).Should(Succeed())

		setHealth("team-a", "shop-prod", "Degraded")
		Eventually(func(g Gomega) {
			g.Expect(reasons(g, "entityhub-system")).To(HaveKeyWithValue("shop", ConsistOf("Discovered", "HealthWorsened")))
		}).WithTimeout(15 * time.Second).Should(Succeed())
	})

	It("labels a team's entity and writes its status, and records no event in the team's namespace", func() {
		Expect(c.Create(ctx, &catalogv1alpha1.CatalogEntity{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "team-a"},
			Spec:       catalogv1alpha1.CatalogEntitySpec{Owner: "group:default/web"},
		})).To(Succeed())
		Expect(c.Create(ctx, application("team-a", "web-prod", "web", "Healthy"))).To(Succeed())
		Eventually(func(g Gomega) {
			e := entity(g, "team-a", "web")
			g.Expect(e.Labels).To(HaveKeyWithValue(catalogv1alpha1.KubernetesIDLabel, "web"))
			g.Expect(e.Status.Health).To(Equal(catalogv1alpha1.HealthHealthy))
		}).WithTimeout(15 * time.Second).Should(Succeed())

		setHealth("team-a", "web-prod", "Degraded")
		Eventually(func(g Gomega) {
			g.Expect(entity(g, "team-a", "web").Status.Health).To(Equal(catalogv1alpha1.HealthDegraded))
		}).WithTimeout(15 * time.Second).Should(Succeed())
		Expect(reasons(Default, "team-a")).To(BeEmpty(), "the transition is in the status, not in an event")
	})

	It("deletes the entity it created once its sources are gone", func() {
		app := application("team-a", "shop-prod", "shop", "")
		Expect(c.Delete(ctx, app)).To(Succeed())
		Eventually(func() error {
			return c.Get(ctx, client.ObjectKey{Namespace: "entityhub-system", Name: "shop"}, &catalogv1alpha1.CatalogEntity{})
		}).WithTimeout(20 * time.Second).Should(Satisfy(apierrors.IsNotFound))
	})

	It("was refused nothing, and read Argo CD's cluster Secrets", func() {
		log := stop()
		Expect(log).NotTo(ContainSubstring("forbidden"))
		Expect(log).To(ContainSubstring("Watching Argo CD cluster Secrets"))
	})

	It("with --argocd-cluster-names=none and config/argocd-names-none, runs without any access to Secrets", func() {
		By("switching the install over: config/argocd-names-none, and the Role it no longer has removed")
		kubectlAdmin("apply", "--server-side", "-k", "config/argocd-names-none")
		kubectlAdmin("delete", "-n", "argocd", "role/entityhub-manager-role", "rolebinding/entityhub-manager-rolebinding")
		for _, ns := range []string{"argocd", "entityhub-system", "team-a", ""} {
			Expect(managerMayOn(ctx, c, "list", "", "secrets", "", ns)).To(BeFalse(), "list Secrets in %q", ns)
			Expect(managerMayOn(ctx, c, "get", "", "secrets", "", ns)).To(BeFalse(), "get Secrets in %q", ns)
		}

		start("none", "--argocd-cluster-names=none")
		Eventually(func(g Gomega) {
			e := entity(g, "team-a", "web")
			g.Expect(e.Status.Clusters).To(Equal(server), "a cluster is named by its server URL")
			g.Expect(e.Status.Health).To(Equal(catalogv1alpha1.HealthDegraded))
		}).WithTimeout(30 * time.Second).Should(Succeed())
		log := stop()
		Expect(log).NotTo(ContainSubstring("forbidden"), "no Secret informer, nor any other read of a Secret")
		Expect(log).NotTo(ContainSubstring("Watching Argo CD cluster Secrets"))
	})
})
