package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/test/testenv"
)

// run runs a program with env added to this process's environment and returns its
// stdout and stderr.
func run(ctx context.Context, env []string, name string, args ...string) (string, string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = testenv.RepoRoot()
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// claimTree is the status of a Resource made by a Crossplane claim whose primary
// instance fails, as the manager writes it: sources flat, worst first.
func claimTree() catalogv1alpha1.CatalogEntityStatus {
	at := metav1.NewTime(time.Now().Add(-5 * time.Minute).Truncate(time.Second))
	src := func(apiVersion, kind, ns, name string, h catalogv1alpha1.Health, phase, ready, msg string) catalogv1alpha1.SourceStatus {
		group, _, _ := strings.Cut(apiVersion, "/")
		return catalogv1alpha1.SourceStatus{
			ID: group + "/" + kind + "/" + ns + "/" + name, APIVersion: apiVersion, Kind: kind, Namespace: ns, Name: name,
			Health: h, Phase: phase, Ready: ready, Message: msg, LastTransitionTime: &at,
		}
	}
	const failure = "create failed: InvalidParameterValue: MasterUserPassword is not a valid password"
	return catalogv1alpha1.CatalogEntityStatus{
		Health: catalogv1alpha1.HealthDegraded, Ready: "2/5", SourceCount: 5, ObservedGeneration: 1,
		Message: "Instance orders-db-x7k2p-primary is Degraded: " + failure,
		Sources: []catalogv1alpha1.SourceStatus{
			src("rds.aws.upbound.io/v1beta1", "Instance", "", "orders-db-x7k2p-primary", catalogv1alpha1.HealthDegraded, "ReconcileError", "", failure),
			src("database.example.org/v1alpha1", "PostgreSQLInstance", "trace", "orders-db", catalogv1alpha1.HealthProgressing, "Waiting", "2/3",
				"Claim is waiting for composite resource to become Ready; 2/3 ready; Instance orders-db-x7k2p-primary is Degraded (ReconcileError): "+failure),
			src("database.example.org/v1alpha1", "XPostgreSQLInstance", "", "orders-db-x7k2p", catalogv1alpha1.HealthProgressing, "Creating", "", "Unready resources: orders-db-x7k2p-primary"),
			src("rds.aws.upbound.io/v1beta1", "Instance", "", "orders-db-x7k2p-replica", catalogv1alpha1.HealthHealthy, "Available", "", ""),
			src("rds.aws.upbound.io/v1beta1", "SubnetGroup", "", "orders-db-x7k2p-subnets", catalogv1alpha1.HealthHealthy, "Available", "", ""),
		},
	}
}

var _ = Describe("entityhub trace", func() {
	ctx := context.Background()
	const ns = "trace"

	BeforeEach(func() {
		Expect(client.IgnoreAlreadyExists(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))).To(Succeed())
	})

	It("prints an entity's Crossplane tree, as entityhub trace and as the kubectl plugin", func() {
		e := &catalogv1alpha1.CatalogEntity{
			ObjectMeta: metav1.ObjectMeta{Name: "orders-db", Namespace: ns},
			Spec:       catalogv1alpha1.CatalogEntitySpec{Kind: catalogv1alpha1.KindResource, Owner: "group:default/orders"},
		}
		Expect(k8sClient.Create(ctx, e)).To(Succeed())
		By("waiting for the manager's first status write, then writing the tree's status over it")
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(e), e)).To(Succeed())
			g.Expect(e.Status.ObservedGeneration).To(Equal(e.Generation))
		}).WithTimeout(30 * time.Second).Should(Succeed())

		plugins := GinkgoT().TempDir()
		Expect(os.Symlink(managerBin, filepath.Join(plugins, "kubectl-entityhub"))).To(Succeed())
		pluginEnv := []string{"KUBECONFIG=" + kubeconfig, "PATH=" + plugins + string(os.PathListSeparator) + os.Getenv("PATH")}

		// The manager writes status only when something it watches changes; should it
		// reconcile the entity meanwhile, the tree is written again.
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(e), e)).To(Succeed())
			if e.Status.Health != catalogv1alpha1.HealthDegraded {
				e.Status = claimTree()
				g.Expect(k8sClient.Status().Update(ctx, e)).To(Succeed())
			}

			By("entityhub trace, in a pipe: the tree without colour")
			stdout, stderr, err := run(ctx, nil, managerBin, "trace", "orders-db", "--kubeconfig", kubeconfig, "-n", ns)
			g.Expect(err).NotTo(HaveOccurred(), stderr)
			g.Expect(stdout).NotTo(ContainSubstring("\x1b["))
			lines := strings.Split(strings.TrimSpace(stdout), "\n")
			g.Expect(lines).To(HaveLen(8), stdout)
			g.Expect(columns(lines[0])).To(Equal([]string{"NAME", "CLUSTER", "HEALTH", "SYNC", "READY", "MESSAGE"}))
			g.Expect(columns(lines[1])[:3]).To(Equal([]string{"CatalogEntity/orders-db", "Degraded", "2/5"}))
			g.Expect(lines[2]).To(MatchRegexp(`^└─ Crossplane +Degraded +2/5$`))
			g.Expect(lines[3]).To(MatchRegexp(`^   └─ PostgreSQLInstance/orders-db +Progressing +2/3 +Claim is waiting`))
			g.Expect(lines[4]).To(MatchRegexp(`^      └─ XPostgreSQLInstance/orders-db-x7k2p +Progressing +Unready resources`))
			g.Expect(lines[5]).To(MatchRegexp(`^         ├─ Instance/orders-db-x7k2p-primary +Degraded +create failed`))
			g.Expect(lines[6]).To(MatchRegexp(`^         ├─ Instance/orders-db-x7k2p-replica +Healthy$`))
			g.Expect(lines[7]).To(MatchRegexp(`^         └─ SubnetGroup/orders-db-x7k2p-subnets +Healthy$`))

			By("kubectl entityhub trace, with the binary on PATH as kubectl-entityhub")
			plugin, stderr, err := run(ctx, pluginEnv, kubectlPath, "entityhub", "trace", "orders-db", "-n", ns)
			g.Expect(err).NotTo(HaveOccurred(), stderr)
			g.Expect(plugin).To(Equal(stdout))
		}).WithTimeout(30 * time.Second).Should(Succeed())

		By("-o json: the entity and its sources as a structure")
		stdout, stderr, err := run(ctx, pluginEnv, kubectlPath, "entityhub", "trace", "catalogentity/orders-db", "-n", ns, "-o", "json")
		Expect(err).NotTo(HaveOccurred(), stderr)
		var doc struct {
			Entity struct {
				Namespace, Name, Health, Ready string
			}
			Sources []struct {
				Kind, Name, Family string
				Children           []struct{ Kind, Name string }
			}
		}
		Expect(json.Unmarshal([]byte(stdout), &doc)).To(Succeed(), stdout)
		Expect(doc.Entity.Namespace + "/" + doc.Entity.Name + " " + doc.Entity.Health + " " + doc.Entity.Ready).To(Equal(ns + "/orders-db Degraded 2/5"))
		Expect(doc.Sources).To(HaveLen(1))
		Expect(doc.Sources[0].Kind + "/" + doc.Sources[0].Name + " " + doc.Sources[0].Family).To(Equal("PostgreSQLInstance/orders-db crossplane"))
		Expect(doc.Sources[0].Children).To(ConsistOf(struct{ Kind, Name string }{"XPostgreSQLInstance", "orders-db-x7k2p"}))
	})

	It("says which names are close when the entity does not exist", func() {
		e := &catalogv1alpha1.CatalogEntity{ObjectMeta: metav1.ObjectMeta{Name: "orders-api", Namespace: ns}}
		Expect(client.IgnoreAlreadyExists(k8sClient.Create(ctx, e))).To(Succeed())
		_, stderr, err := run(ctx, nil, managerBin, "trace", "ordrs-api", "--kubeconfig", kubeconfig, "-n", ns)
		var exit *exec.ExitError
		Expect(err).To(BeAssignableToTypeOf(exit))
		Expect(stderr).To(HavePrefix(`entityhub trace: no CatalogEntity "ordrs-api" in namespace trace. Did you mean:` + "\n  orders-api\n"))
	})

	It("reads the sources themselves with --live", func() {
		member := &catalogv1alpha1.CatalogEntity{ObjectMeta: metav1.ObjectMeta{Name: "cart", Namespace: ns}}
		system := &catalogv1alpha1.CatalogEntity{
			ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: ns},
			Spec:       catalogv1alpha1.CatalogEntitySpec{Kind: catalogv1alpha1.KindSystem},
		}
		Expect(k8sClient.Create(ctx, member)).To(Succeed())
		Expect(k8sClient.Create(ctx, system)).To(Succeed())
		at := metav1.NewTime(time.Now().Truncate(time.Second))
		entry := func(apiVersion, kind, name string) catalogv1alpha1.SourceStatus {
			group, _, _ := strings.Cut(apiVersion, "/")
			return catalogv1alpha1.SourceStatus{ID: group + "/" + kind + "/" + ns + "/" + name, APIVersion: apiVersion, Kind: kind,
				Namespace: ns, Name: name, Health: catalogv1alpha1.HealthHealthy, LastTransitionTime: &at}
		}
		// What a status might say while the sources have moved on: a member that the
		// manager judges Unknown (it has no sources), one that is gone, and a kind this
		// cluster does not serve.
		st := catalogv1alpha1.CatalogEntityStatus{
			Health: catalogv1alpha1.HealthHealthy, Ready: "3/3", SourceCount: 3, ObservedGeneration: 1, Message: "all 3 sources are Healthy",
			Sources: []catalogv1alpha1.SourceStatus{
				entry(catalogv1alpha1.GroupVersion.String(), "CatalogEntity", "cart"),
				entry(catalogv1alpha1.GroupVersion.String(), "CatalogEntity", "gone"),
				entry("rds.aws.upbound.io/v1beta1", "Instance", "orders-db"),
			},
		}
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(system), system)).To(Succeed())
			g.Expect(system.Status.ObservedGeneration).To(Equal(system.Generation), "the manager has written its status")
			if system.Status.Message != st.Message {
				system.Status = st
				g.Expect(k8sClient.Status().Update(ctx, system)).To(Succeed())
			}
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(member), member)).To(Succeed())
			g.Expect(member.Status.Health).To(Equal(catalogv1alpha1.HealthUnknown))

			stdout, stderr, err := run(ctx, nil, managerBin, "trace", "shop", "--live", "--kubeconfig", kubeconfig, "-n", ns)
			g.Expect(err).NotTo(HaveOccurred(), stderr)
			lines := strings.Split(strings.TrimSpace(stdout), "\n")
			g.Expect(lines).To(HaveLen(9), stdout)
			g.Expect(columns(lines[0])).To(Equal([]string{"NAME", "CLUSTER", "HEALTH", "SYNC", "READY", "LIVE", "MESSAGE"}))
			g.Expect(lines[2]).To(MatchRegexp(`^├─ Crossplane +Healthy +1/1$`))
			g.Expect(lines[3]).To(MatchRegexp(`^│  └─ Instance/orders-db +Healthy +unreadable$`))
			g.Expect(lines[4]).To(MatchRegexp(`^└─ Members +Healthy +2/2$`))
			g.Expect(lines[5]).To(MatchRegexp(`^   ├─ CatalogEntity/cart +Healthy +Unknown\*$`))
			g.Expect(lines[6]).To(MatchRegexp(`^   └─ CatalogEntity/gone +Healthy +not found$`))
			g.Expect(lines[7]).To(HavePrefix("* what the object says now is not what the entity's status says"))
			g.Expect(lines[8]).To(Equal("--live: reading Instance orders-db: the API server does not serve Instance in rds.aws.upbound.io/v1beta1"))
		}).WithTimeout(30 * time.Second).Should(Succeed())
	})
})
