// Package backstage runs a real Backstage backend — the catalog and kubernetes plugins,
// the Node harness in this directory — against the manager binary and a real
// kube-apiserver, configured as the README's Backstage section says, and checks what a
// Backstage user's entity page would get: the entities ingested from the catalog
// endpoint, and the Kubernetes plugin's answer with the CatalogEntity's status and no
// errors, for a Component and for the System rolled up from its members.
//
// It needs Node 20 or later and npm, so `make test` skips it; `make test-backstage` runs
// it (ENTITYHUB_BACKSTAGE=1).
package backstage

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/test/testenv"
)

// cluster is a control plane as Backstage's app-config names one: its URL, its CA
// (base64, as caData takes it), a ServiceAccount token, and an administrator's
// kubeconfig for the test's own kubectl.
type cluster struct {
	env        *envtest.Environment
	client     client.Client
	kubeconfig string
	url        string
	caData     string
	token      string
}

var (
	hub, workload *cluster
	kubectlPath   string
	manager       *testenv.Manager
	catalogAddr   string
	harness       string // the directory npm ci installed the harness into
	timings       []string
	failed        bool // a spec failed: AfterSuite prints the manager's log
)

func TestBackstage(t *testing.T) {
	if os.Getenv("ENTITYHUB_BACKSTAGE") == "" {
		t.Skip("needs Node 20+ and npm: run make test-backstage")
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "Backstage Suite")
}

// record notes how long a step took, for the summary printed after the suite.
func record(what string, d time.Duration) {
	line := fmt.Sprintf("%-52s %6.1fs", what, d.Seconds())
	timings = append(timings, line)
	GinkgoWriter.Println("timing:", line)
}

var _ = BeforeSuite(func() {
	dir := GinkgoT().TempDir()
	var err error
	kubectlPath, err = testenv.Kubectl()
	Expect(err).NotTo(HaveOccurred())

	By("installing the Backstage harness with npm ci, unless its lockfile's install is cached")
	harness, err = installHarness()
	Expect(err).NotTo(HaveOccurred())

	By("starting the hub: a control plane with the CRD and the sources' CRDs")
	crds, err := testenv.ThirdPartyCRDs()
	Expect(err).NotTo(HaveOccurred())
	env, err := testenv.New(crds...)
	Expect(err).NotTo(HaveOccurred())
	hub = startCluster(env, dir+"/hub")

	By("starting a workload cluster: a control plane without entityhub's CRD")
	assets, err := testenv.Assets()
	Expect(err).NotTo(HaveOccurred())
	workload = startCluster(&envtest.Environment{BinaryAssetsDirectory: assets}, dir+"/workload")

	installHub()

	By("building and starting the manager binary with the catalog endpoint on")
	bin, err := testenv.BuildManager(dir)
	Expect(err).NotTo(HaveOccurred())
	probeAddr, err := testenv.FreePort()
	Expect(err).NotTo(HaveOccurred())
	catalogAddr, err = testenv.FreePort()
	Expect(err).NotTo(HaveOccurred())
	manager, err = testenv.StartManager(bin, hub.kubeconfig, dir+"/manager.log",
		"--metrics-bind-address=0", "--health-probe-bind-address="+probeAddr,
		"--catalog-bind-address="+catalogAddr)
	Expect(err).NotTo(HaveOccurred())
	Eventually(func(g Gomega) {
		resp, err := http.Get("http://" + probeAddr + "/readyz")
		g.Expect(err).NotTo(HaveOccurred())
		_ = resp.Body.Close()
		g.Expect(resp.StatusCode).To(Equal(http.StatusOK))
		conn, err := net.Dial("tcp", catalogAddr)
		g.Expect(err).NotTo(HaveOccurred())
		_ = conn.Close()
	}).WithTimeout(60 * time.Second).Should(Succeed())
})

var _ = AfterEach(func() {
	if CurrentSpecReport().Failed() {
		failed = true
	}
})

var _ = AfterSuite(func() {
	if manager != nil {
		err := manager.Stop(30 * time.Second)
		if log, readErr := os.ReadFile(manager.LogPath); readErr == nil && failed {
			GinkgoWriter.Printf("--- manager log ---\n%s\n", log)
		}
		Expect(err).NotTo(HaveOccurred(), "the manager stops cleanly on SIGTERM")
	}
	for _, c := range []*cluster{hub, workload} {
		if c != nil {
			Expect(c.env.Stop()).To(Succeed())
		}
	}
	fmt.Printf("\nBackstage harness timings:\n  %s\n", strings.Join(timings, "\n  "))
})

// startCluster starts env and returns it as Backstage and the test reach it, its
// administrator's kubeconfig written under dir.
func startCluster(env *envtest.Environment, dir string) *cluster {
	cfg, err := env.Start()
	Expect(err).NotTo(HaveOccurred())
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(catalogv1alpha1.AddToScheme(scheme))
	c := &cluster{env: env}
	c.client, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	Expect(os.MkdirAll(dir, 0o700)).To(Succeed())
	c.kubeconfig, err = testenv.WriteKubeconfig(env, dir)
	Expect(err).NotTo(HaveOccurred())
	base, _, err := rest.DefaultServerUrlFor(cfg)
	Expect(err).NotTo(HaveOccurred())
	c.url = strings.TrimSuffix(base.String(), "/")
	c.caData = base64.StdEncoding.EncodeToString(cfg.CAData)
	return c
}

// installHub installs what a user installs on the hub — config/default, whose Deployment
// never starts here (the test runs the manager binary itself) — and the demo's sources
// and entities, and gets a token for the backstage ServiceAccount through the
// TokenRequest API (no token controller runs here to fill config/default's Secret).
func installHub() {
	ctx := context.Background()
	By("installing config/default, config/samples and config/samples/sources on the hub")
	for _, ns := range []string{"entityhub-system", "argocd", "argo"} {
		Expect(client.IgnoreAlreadyExists(hub.client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))).To(Succeed())
	}
	kubectl(hub, "apply", "--server-side", "--force-conflicts", "-k", "config/default")
	kubectl(hub, "apply", "-k", "config/samples/sources")
	kubectl(hub, "apply", "-k", "config/samples")
	// Crossplane's kinds have a status subresource: their status is written apart, as
	// Crossplane's controllers would (make demo does the same).
	kubectl(hub, "apply", "--server-side", "--field-manager=test", "--subresource=status",
		"-f", "config/samples/sources/crossplane.yaml")
	hub.token = strings.TrimSpace(kubectl(hub, "create", "token", "entityhub-backstage",
		"-n", "entityhub-system", "--duration=1h"))
	Expect(hub.token).NotTo(BeEmpty())
}
