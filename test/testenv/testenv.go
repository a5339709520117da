// Package testenv starts the real test control plane — kube-apiserver and etcd built
// from Go modules by hack/setup-envtest.sh — for the project's suites, and finds the
// kubectl built beside them.
package testenv

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// RepoRoot is the root of the repository, found from this file's location so that tests
// work from any package directory.
func RepoRoot() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("testenv: cannot find its own source file")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

var (
	assetsOnce sync.Once
	assetsDir  string
	assetsErr  error
)

// Assets returns the directory that holds kube-apiserver, etcd and kubectl. It honours
// KUBEBUILDER_ASSETS; otherwise it runs hack/setup-envtest.sh, which builds them the
// first time on a machine and prints its progress to the test's stderr.
func Assets() (string, error) {
	assetsOnce.Do(func() {
		if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
			assetsDir = dir
			return
		}
		var out bytes.Buffer
		cmd := exec.Command("bash", filepath.Join(RepoRoot(), "hack", "setup-envtest.sh"))
		cmd.Stdout = &out
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			assetsErr = fmt.Errorf("hack/setup-envtest.sh: %w", err)
			return
		}
		assetsDir = strings.TrimSpace(out.String())
	})
	return assetsDir, assetsErr
}

// New returns an environment that installs the project's CRDs, plus any CRD files or
// directories named in extraCRDs (third-party fixtures), on start.
func New(extraCRDs ...string) (*envtest.Environment, error) {
	dir, err := Assets()
	if err != nil {
		return nil, err
	}
	return &envtest.Environment{
		BinaryAssetsDirectory: dir,
		CRDDirectoryPaths:     append([]string{filepath.Join(RepoRoot(), "config", "crd", "bases")}, extraCRDs...),
		ErrorIfCRDPathMissing: true,
	}, nil
}

// NewWithFixedDirs is New with the API server's certificates kept in dir/apiserver and
// etcd's data in dir/etcd, so that a test can stop and start ControlPlane.APIServer or
// ControlPlane.Etcd while clients are connected: the API server comes back with the
// same CA, serving certificate and port, and etcd with the same data, so clients made
// before the restart reconnect.
// envtest does not remove these directories; the caller removes dir after Stop.
func NewWithFixedDirs(dir string, extraCRDs ...string) (*envtest.Environment, error) {
	env, err := New(extraCRDs...)
	if err != nil {
		return nil, err
	}
	certDir, dataDir := filepath.Join(dir, "apiserver"), filepath.Join(dir, "etcd")
	for _, d := range []string{certDir, dataDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	env.ControlPlane.APIServer = &envtest.APIServer{CertDir: certDir}
	// On SIGTERM the API server waits for requests in flight, long-running ones (the
	// watches of any controller still connected) included, for up to --request-timeout
	// (60 s), longer than envtest waits before it kills it. With this flag it drains
	// the short requests, answers new ones with 429 Retry-After, and gives the rest 2 s:
	// a stop that completes while clients are connected, as a rolling restart does.
	env.ControlPlane.APIServer.Configure().Set("shutdown-send-retry-after", "true")
	env.ControlPlane.Etcd = &envtest.Etcd{DataDir: dataDir}
	return env, nil
}

// Kubectl returns the path of the kubectl built with the control plane.
func Kubectl() (string, error) {
	dir, err := Assets()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "kubectl"), nil
}

// WriteKubeconfig writes a kubeconfig for an administrator of env to dir and returns its
// path, for tools such as kubectl that run as separate processes.
func WriteKubeconfig(env *envtest.Environment, dir string) (string, error) {
	user, err := env.AddUser(envtest.User{Name: "entityhub-admin", Groups: []string{"system:masters"}}, &rest.Config{})
	if err != nil {
		return "", fmt.Errorf("adding an admin user: %w", err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return "", fmt.Errorf("writing the admin's kubeconfig: %w", err)
	}
	path := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(path, kubeconfig, 0o600); err != nil {
		return "", err
	}
	return path, nil
}

// NewWithThirdPartyCRDs is New with the fixture CRDs of Argo CD, Crossplane and Argo
// Workflows: the control plane of the demo and the bench.
func NewWithThirdPartyCRDs() (*envtest.Environment, error) {
	crds, err := ThirdPartyCRDs()
	if err != nil {
		return nil, err
	}
	return New(crds...)
}

// ThirdPartyCRDs returns the fixture CRDs of Argo CD, Crossplane and Argo Workflows kept
// under test/fixtures/crds, without the suites' test-only widgets.
func ThirdPartyCRDs() ([]string, error) {
	all, err := filepath.Glob(filepath.Join(RepoRoot(), "test", "fixtures", "crds", "*.yaml"))
	if err != nil {
		return nil, err
	}
	var crds []string
	for _, f := range all {
		if !strings.HasPrefix(filepath.Base(f), "widgets.") {
			crds = append(crds, f)
		}
	}
	return crds, nil
}
