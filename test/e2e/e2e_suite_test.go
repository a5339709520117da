// Package e2e runs entityhub the way users do: the manager binary as its own process,
// the real kubectl, and the manifests under config/, against a real kube-apiserver and
// etcd.
package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/test/testenv"
)

var (
	testEnv     *envtest.Environment
	k8sClient   client.Client
	kubeconfig  string
	kubectlPath string
	managerBin  string
	manager     *testenv.Manager
	metricsAddr string
	catalogAddr string
	restConfig  *rest.Config
	// catalogClient trusts the catalog endpoint's self-signed certificate.
	catalogClient *http.Client
	// managerArgs are the suite's manager's flags, and managerProbe its probe address.
	managerArgs  []string
	managerProbe string
)

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "End-to-end Suite")
}

var _ = BeforeSuite(func() {
	var err error
	testEnv, err = testenv.New()
	Expect(err).NotTo(HaveOccurred())
	restConfig, err = testEnv.Start()
	Expect(err).NotTo(HaveOccurred())
	cfg := restConfig

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(catalogv1alpha1.AddToScheme(scheme))
	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())

	dir := GinkgoT().TempDir()
	kubeconfig, err = testenv.WriteKubeconfig(testEnv, dir)
	Expect(err).NotTo(HaveOccurred())
	kubectlPath, err = testenv.Kubectl()
	Expect(err).NotTo(HaveOccurred())

	By("building and starting the manager binary")
	managerBin, err = testenv.BuildManager(dir)
	Expect(err).NotTo(HaveOccurred())
	probeAddr, err := testenv.FreePort()
	Expect(err).NotTo(HaveOccurred())
	metricsAddr, err = testenv.FreePort()
	Expect(err).NotTo(HaveOccurred())
	catalogAddr, err = testenv.FreePort()
	Expect(err).NotTo(HaveOccurred())
	// The catalog endpoint checks tokens, so it speaks HTTPS, as the manager requires.
	certDir := filepath.Join(dir, "catalog-certs")
	catalogCAs, err := writeServingCert(certDir)
	Expect(err).NotTo(HaveOccurred())
	catalogClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: catalogCAs, MinVersion: tls.VersionTLS12},
	}}
	managerArgs = []string{
		"--metrics-bind-address=" + metricsAddr, "--metrics-secure=false", "--health-probe-bind-address=" + probeAddr,
		"--catalog-bind-address=" + catalogAddr, "--catalog-auth", "--catalog-cert-dir=" + certDir,
		"--catalog-url=https://" + catalogAddr + "/entities",
	}
	managerProbe = probeAddr
	startSuiteManager(dir + "/manager.log")
})

var _ = AfterSuite(func() {
	if manager != nil {
		err := manager.Stop(30 * time.Second)
		if log, readErr := os.ReadFile(manager.LogPath); readErr == nil {
			GinkgoWriter.Printf("--- manager log ---\n%s\n", log)
		}
		Expect(err).NotTo(HaveOccurred(), "the manager stops cleanly on SIGTERM")
	}
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})

// startSuiteManager starts the suite's manager with its flags, writing its log to
// logPath, and waits until it is ready and its endpoints listen. BeforeSuite starts it; a
// spec that stops it for a while starts it again with this.
func startSuiteManager(logPath string) {
	GinkgoHelper()
	var err error
	manager, err = testenv.StartManager(managerBin, kubeconfig, logPath, managerArgs...)
	Expect(err).NotTo(HaveOccurred())

	By("waiting for the manager to be ready and its endpoints to listen")
	Eventually(func(g Gomega) {
		g.Expect(testenv.Ready(context.Background(), managerProbe)).To(Succeed())
		for _, addr := range []string{metricsAddr, catalogAddr} {
			conn, err := net.Dial("tcp", addr)
			g.Expect(err).NotTo(HaveOccurred(), addr)
			_ = conn.Close()
		}
	}).WithTimeout(60 * time.Second).Should(Succeed())
}

// kubectl runs the real kubectl against the test control plane from the repository root
// and returns its stdout and stderr.
func kubectl(ctx context.Context, args ...string) (string, string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, kubectlPath, append([]string{"--kubeconfig", kubeconfig}, args...)...)
	cmd.Dir = testenv.RepoRoot()
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// kubectlStdin is kubectl with input on stdin, for manifests written in the test.
func kubectlStdin(ctx context.Context, stdin string, args ...string) (string, string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, kubectlPath, append([]string{"--kubeconfig", kubeconfig}, args...)...)
	cmd.Stdin = bytes.NewBufferString(stdin)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}
