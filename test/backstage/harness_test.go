package backstage

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/yaml"

	"github.com/entityhub/entityhub/test/testenv"
)

// harnessFiles are the files of this directory that npm ci and node need.
var harnessFiles = []string{"package.json", "package-lock.json", ".npmrc", "index.js"}

// installHarness copies the harness into a cache directory named by a hash of its
// package.json, lockfile and .npmrc and the Node version, runs npm ci there unless an earlier run finished
// it, and returns that directory. The cache is the one hack/setup-envtest.sh uses, so
// that node_modules (about 430 MB) stays out of the Go module: a Go file in it would
// be a package of ./... .
func installHarness() (string, error) {
	nodeVersion, err := checkNode()
	if err != nil {
		return "", err
	}
	src := filepath.Join(testenv.RepoRoot(), "test", "backstage")
	sum := sha256.New()
	// better-sqlite3 is built for one Node ABI: another Node needs another install.
	sum.Write([]byte(nodeVersion))
	for _, f := range []string{"package.json", "package-lock.json", ".npmrc"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			return "", err
		}
		sum.Write(b)
	}
	parent := filepath.Join(cacheRoot(), "backstage")
	dir := filepath.Join(parent, hex.EncodeToString(sum.Sum(nil))[:16])
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for _, f := range harnessFiles {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			return "", err
		}
	}
	// npm ci removes node_modules first, so the stamp exists only after an install
	// that finished.
	stamp := filepath.Join(dir, "node_modules", ".entityhub-installed")
	if _, err := os.Stat(stamp); err == nil {
		GinkgoWriter.Printf("reusing node_modules in %s (lockfile unchanged)\n", dir)
		record("npm ci (cached, skipped)", 0)
		return dir, nil
	}
	// Installs for older lockfiles are of no more use.
	if old, err := filepath.Glob(filepath.Join(parent, "*")); err == nil {
		for _, o := range old {
			if o != dir {
				_ = os.RemoveAll(o)
			}
		}
	}
	start := time.Now()
	cmd := exec.Command("npm", "ci")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = GinkgoWriter, GinkgoWriter
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("npm ci in %s: %w", dir, err)
	}
	record("npm ci", time.Since(start))
	return dir, os.WriteFile(stamp, nil, 0o644)
}

// checkNode returns Node's version, or fails early, and says why, without Node 20 or
// later and npm.
func checkNode() (string, error) {
	out, err := exec.Command("node", "--version").Output()
	if err != nil {
		return "", fmt.Errorf("make test-backstage needs Node 20 or later on PATH: %w", err)
	}
	version := strings.TrimPrefix(strings.TrimSpace(string(out)), "v")
	major, err := strconv.Atoi(strings.SplitN(version, ".", 2)[0])
	if err != nil || major < 20 {
		return "", fmt.Errorf("make test-backstage needs Node 20 or later, found %q", version)
	}
	if _, err := exec.LookPath("npm"); err != nil {
		return "", fmt.Errorf("make test-backstage needs npm on PATH: %w", err)
	}
	return version, nil
}

// cacheRoot is hack/setup-envtest.sh's cache: $ENTITYHUB_CACHE_DIR, else
// $XDG_CACHE_HOME/entityhub, else ~/.cache/entityhub.
func cacheRoot() string {
	if dir := os.Getenv("ENTITYHUB_CACHE_DIR"); dir != "" {
		return dir
	}
	if dir := os.Getenv("XDG_CACHE_HOME"); dir != "" {
		return filepath.Join(dir, "entityhub")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "entityhub")
}

// backend is the harness running as a Backstage backend.
type backend struct {
	url     string
	token   string // a static external-access token the backend accepts
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
}

// startBackend starts the harness with the test's own settings (port, in-memory SQLite,
// an access token, the catalog endpoint as a url location) followed by the app-config
// file kubernetesConfig, whose ${VARIABLES} env fills in, and waits until it is ready.
func startBackend(kubernetesConfig string, env map[string]string) *backend {
	dir := GinkgoT().TempDir()
	addr, err := testenv.FreePort()
	Expect(err).NotTo(HaveOccurred())
	_, portText, _ := strings.Cut(addr, ":")
	port, err := strconv.Atoi(portText)
	Expect(err).NotTo(HaveOccurred())
	secret := make([]byte, 24)
	_, err = rand.Read(secret)
	Expect(err).NotTo(HaveOccurred())
	b := &backend{url: "http://" + addr, token: hex.EncodeToString(secret), logPath: filepath.Join(dir, "backstage.log")}

	base, err := yaml.Marshal(map[string]any{
		"app": map[string]any{"baseUrl": b.url},
		"backend": map[string]any{
			"baseUrl":  b.url,
			"listen":   map[string]any{"host": "127.0.0.1", "port": port},
			"database": map[string]any{"client": "better-sqlite3", "connection": ":memory:"},
			"auth": map[string]any{"externalAccess": []any{map[string]any{
				"type": "static", "options": map[string]any{"token": b.token, "subject": "entityhub-test"},
			}}},
			"reading": map[string]any{"allow": []any{map[string]any{"host": catalogAddr}}},
		},
		"catalog": map[string]any{"locations": []any{map[string]any{
			"type": "url", "target": "http://" + catalogAddr + "/entities",
			"rules": []any{map[string]any{"allow": []string{"Component", "Resource", "System", "API", "Domain"}}},
		}}},
	})
	Expect(err).NotTo(HaveOccurred())
	basePath := filepath.Join(dir, "app-config.yaml")
	Expect(os.WriteFile(basePath, base, 0o600)).To(Succeed())

	logFile, err := os.Create(b.logPath)
	Expect(err).NotTo(HaveOccurred())
	b.cmd = exec.Command("node", "index.js", "--config", basePath,
		"--config", filepath.Join(testenv.RepoRoot(), "test", "backstage", kubernetesConfig))
	b.cmd.Dir = harness
	b.cmd.Env = os.Environ()
	for k, v := range env {
		b.cmd.Env = append(b.cmd.Env, k+"="+v)
	}
	b.cmd.Stdout, b.cmd.Stderr = logFile, logFile
	start := time.Now()
	Expect(b.cmd.Start()).To(Succeed())
	b.exited = make(chan struct{})
	go func() {
		_ = b.cmd.Wait()
		_ = logFile.Close()
		close(b.exited)
	}()
	DeferCleanup(b.stop)

	Eventually(func(g Gomega) {
		select {
		case <-b.exited:
			StopTrying("the backend exited; its log:\n" + b.log()).Now()
		default:
		}
		code, _ := b.get("/.backstage/health/v1/readiness")
		g.Expect(code).To(Equal(http.StatusOK))
	}).WithTimeout(2 * time.Minute).WithPolling(200 * time.Millisecond).Should(Succeed())
	record("backend start ("+kubernetesConfig+")", time.Since(start))
	return b
}

// stop sends SIGTERM and waits; a backend still up after 20 s is killed. On a failed
// spec it prints the backend's log.
func (b *backend) stop() {
	if CurrentSpecReport().Failed() {
		GinkgoWriter.Printf("--- Backstage backend log ---\n%s\n", b.log())
	}
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.exited:
	case <-time.After(20 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.exited
	}
}

func (b *backend) log() string {
	out, _ := os.ReadFile(b.logPath)
	return string(out)
}

// get GETs path with the backend's access token and returns the status code and body.
func (b *backend) get(path string) (int, []byte) {
	return b.do(http.MethodGet, path, nil)
}

// post POSTs body as JSON to path with the backend's access token.
func (b *backend) post(path string, body any) (int, []byte) {
	return b.do(http.MethodPost, path, body)
}

func (b *backend) do(method, path string, body any) (int, []byte) {
	var in io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		Expect(err).NotTo(HaveOccurred())
		in = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, b.url+path, in)
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Authorization", "Bearer "+b.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer func() { _ = resp.Body.Close() }()
	out, err := io.ReadAll(resp.Body)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, []byte(err.Error())
	}
	return resp.StatusCode, out
}

// kubectl runs the real kubectl as c's administrator from the repository root and
// returns its stdout.
func kubectl(c *cluster, args ...string) string {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(kubectlPath, append([]string{"--kubeconfig", c.kubeconfig}, args...)...)
	cmd.Dir = testenv.RepoRoot()
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	ExpectWithOffset(1, cmd.Run()).To(Succeed(), "kubectl %s: %s", strings.Join(args, " "), stderr.String())
	return stdout.String()
}
