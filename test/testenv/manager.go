package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// BuildManager builds the entityhub binary from ./cmd into dir and returns its path.
func BuildManager(dir string) (string, error) {
	bin := filepath.Join(dir, "entityhub")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd")
	cmd.Dir = RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd: %w\n%s", err, out)
	}
	return bin, nil
}

// BuildClusterRoleAggregator builds hack/tools/kube/clusterrole-aggregation, Kubernetes'
// own ClusterRole aggregation controller on its own, into dir and returns its path; run it
// with StartManager. It is built with the flags hack/setup-envtest.sh builds the control
// plane with, so that it reuses that build's cache.
func BuildClusterRoleAggregator(dir string) (string, error) {
	bin := filepath.Join(dir, "clusterrole-aggregation")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "./clusterrole-aggregation")
	cmd.Dir = filepath.Join(RepoRoot(), "hack", "tools", "kube")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./clusterrole-aggregation: %w\n%s", err, out)
	}
	return bin, nil
}

// FreePort returns a loopback address with a port nothing listens on right now.
func FreePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String(), nil
}

// Manager is the entityhub binary running as its own process against a control plane,
// as it runs in a cluster.
type Manager struct {
	// LogPath is the file the manager's output goes to.
	LogPath string
	cmd     *exec.Cmd
	exited  chan struct{}
	err     error // how the process ended; read only after exited is closed
}

// StartManager starts binary (the manager, or another program taking --kubeconfig)
// against the cluster of kubeconfig with the given extra flags, writing its output to
// logPath.
func StartManager(binary, kubeconfig, logPath string, args ...string) (*Manager, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, append([]string{"--kubeconfig", kubeconfig}, args...)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", binary, err)
	}
	m := &Manager{LogPath: logPath, cmd: cmd, exited: make(chan struct{})}
	go func() {
		m.err = cmd.Wait()
		_ = logFile.Close()
		close(m.exited)
	}()
	return m, nil
}

// Done is closed when the manager process has exited.
func (m *Manager) Done() <-chan struct{} { return m.exited }

// Exited reports whether the manager has stopped, and how.
func (m *Manager) Exited() (bool, error) {
	select {
	case <-m.exited:
		return true, m.err
	default:
		return false, nil
	}
}

// Stop sends SIGTERM, as the kubelet does, and waits for the manager to exit; after
// timeout it kills it and says so.
func (m *Manager) Stop(timeout time.Duration) error {
	if exited, err := m.Exited(); exited {
		return err
	}
	if err := m.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case <-m.exited:
		return m.err
	case <-time.After(timeout):
		_ = m.cmd.Process.Kill()
		return errors.New("manager did not stop within " + timeout.String() + " of SIGTERM; killed")
	}
}

// Kill sends SIGKILL, as a node failure or an OOM kill would end the process, with no
// chance to clean up (a leader does not release its lease), and waits for it to exit.
func (m *Manager) Kill() error {
	if exited, _ := m.Exited(); exited {
		return nil
	}
	if err := m.cmd.Process.Kill(); err != nil {
		return err
	}
	<-m.exited
	return nil
}

// Pid is the manager's process id, for reading what the kernel says about it (such as
// its peak resident memory in /proc/<pid>/status).
func (m *Manager) Pid() int { return m.cmd.Process.Pid }

// Ready asks the manager's health probe at addr whether it is ready: nil when /readyz
// answers 200, else an error saying what it answered (with ?verbose, which check fails
// and why).
func Ready(ctx context.Context, addr string) error {
	resp, err := Get(ctx, "http://"+addr+"/readyz?verbose")
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return fmt.Errorf("/readyz answered %s: %s", resp.Status, strings.TrimSpace(string(body)))
}

// Get makes a GET request of url with ctx, as the suites and the bench ask the
// manager's endpoints; the caller closes the body.
func Get(ctx context.Context, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	return http.DefaultClient.Do(req)
}
