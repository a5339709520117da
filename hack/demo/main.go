// Command demo runs entityhub on an embedded local control plane: it starts a real
// kube-apiserver and etcd, installs the CRDs, applies config/samples, runs the manager
// binary against them, prints `kubectl get catalogentities -A` and how to point kubectl
// at it, and keeps everything up until Ctrl-C. `make demo` runs it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/test/testenv"
)

func main() {
	manager := flag.String("manager", "bin/entityhub", "Path of the entityhub binary to run.")
	once := flag.Bool("once", false, "Print the entities and stop, instead of waiting for Ctrl-C (for tests).")
	flag.Parse()

	if err := run(*manager, *once); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func say(format string, args ...any) { fmt.Printf("==> "+format+"\n", args...) }

// run is the demo from start to Ctrl-C; each step is a function below, in order.
func run(managerBin string, once bool) (err error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	dir, err := os.MkdirTemp("", "entityhub-demo-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()

	env, cfg, err := startControlPlane()
	if err != nil {
		return err
	}
	defer func() {
		say("Stopping the control plane")
		err = errors.Join(err, env.Stop())
	}()
	kubeconfig, err := testenv.WriteKubeconfig(env, dir)
	if err != nil {
		return err
	}
	kubectl, err := newKubectl(ctx, kubeconfig)
	if err != nil {
		return err
	}

	if err := applySamples(kubectl); err != nil {
		return err
	}
	mgr, addrs, err := startManager(managerBin, kubeconfig, dir)
	if err != nil {
		return err
	}
	defer func() {
		say("Stopping the manager")
		err = errors.Join(err, mgr.Stop(30*time.Second))
	}()
	if err := waitForStatus(ctx, cfg, mgr); err != nil {
		printLog(mgr.LogPath)
		return err
	}
	if err := show(ctx, kubectl, kubeconfig, mgr, addrs); err != nil {
		return err
	}

	if once {
		return nil
	}
	return waitForEnd(ctx, mgr)
}

// kubectl runs kubectl with the demo's kubeconfig, from the repository root, its output
// on the demo's.
type kubectl func(args ...string) error

// newKubectl finds kubectl and returns how to run it against the demo's control plane.
func newKubectl(ctx context.Context, kubeconfig string) (kubectl, error) {
	root := testenv.RepoRoot()
	kubectlBin, err := testenv.Kubectl()
	if err != nil {
		return nil, err
	}
	return func(args ...string) error {
		cmd := exec.CommandContext(ctx, kubectlBin, append([]string{"--kubeconfig", kubeconfig}, args...)...)
		cmd.Dir, cmd.Stdout, cmd.Stderr = root, os.Stdout, os.Stderr
		return cmd.Run()
	}, nil
}

// startControlPlane starts kube-apiserver and etcd with the third-party CRDs.
func startControlPlane() (*envtest.Environment, *rest.Config, error) {
	say("Starting a local control plane (kube-apiserver and etcd)")
	// Argo CD's, Crossplane's and Argo Workflows' CRDs, as the test fixtures keep them.
	env, err := testenv.NewWithThirdPartyCRDs()
	if err != nil {
		return nil, nil, err
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, nil, fmt.Errorf("starting the control plane: %w", err)
	}
	return env, cfg, nil
}

// applySamples applies the sample entities and the sources Argo CD, Crossplane and
// Argo Workflows would leave on a hub.
func applySamples(kubectl kubectl) error {
	say("Applying config/samples (entities) and config/samples/sources (what Argo CD would leave on a hub)")
	if err := kubectl("create", "namespace", "entityhub-system"); err != nil {
		return err
	}
	for _, dir := range []string{"config/samples", "config/samples/sources"} {
		if err := kubectl("apply", "-k", dir); err != nil {
			return err
		}
	}
	// Crossplane's kinds have a status subresource: their status is written apart,
	// as Crossplane's controllers would.
	return kubectl("apply", "--server-side", "--field-manager=demo", "--subresource=status",
		"-f", "config/samples/sources/crossplane.yaml")
}

// addresses are where the manager serves.
type addresses struct {
	metrics, probe, catalog string
}

// startManager starts the manager binary on free ports, its log in dir.
func startManager(managerBin, kubeconfig, dir string) (*testenv.Manager, addresses, error) {
	say("Starting the manager (%s)", managerBin)
	var a addresses
	for _, addr := range []*string{&a.metrics, &a.probe, &a.catalog} {
		var err error
		if *addr, err = testenv.FreePort(); err != nil {
			return nil, a, err
		}
	}
	mgr, err := testenv.StartManager(managerBin, kubeconfig, filepath.Join(dir, "manager.log"),
		"--metrics-bind-address="+a.metrics, "--metrics-secure=false", "--health-probe-bind-address="+a.probe,
		"--catalog-bind-address="+a.catalog)
	return mgr, a, err
}

// show prints the entities as kubectl lists them, one descriptor of the catalog
// endpoint, and how to look further.
func show(ctx context.Context, kubectl kubectl, kubeconfig string, mgr *testenv.Manager, a addresses) error {
	fmt.Println()
	if err := kubectl("get", "catalogentities", "-A"); err != nil {
		return err
	}
	fmt.Println()
	if err := kubectl("get", "catalogentities", "-A", "-o", "wide"); err != nil {
		return err
	}
	catalogURL := "http://" + a.catalog + "/entities"
	sample, err := catalogSample(ctx, catalogURL, "payments-db")
	if err != nil {
		return err
	}
	fmt.Printf("\nThe Backstage catalog endpoint serves every entity as a descriptor; payments-db:\n\n%s\n", sample)
	fmt.Printf(`
The control plane keeps running until Ctrl-C. In another terminal:

  export KUBECONFIG=%s
  kubectl get catalogentities -A -w
  kubectl get ce payments-api -n entityhub-system -o yaml
  kubectl describe ce payments-api -n entityhub-system     # events on health changes
  kubectl get applications -n argocd                       # the sources

Catalog:      %s   (a Backstage url location; ?kind=Component, ?namespace=default)
Manager log:  %s
Metrics:      http://%s/metrics
`, kubeconfig, catalogURL, mgr.LogPath, a.metrics)
	return nil
}

// waitForEnd keeps the demo up until Ctrl-C, or until the manager exits.
func waitForEnd(ctx context.Context, mgr *testenv.Manager) error {
	select {
	case <-ctx.Done():
		fmt.Println()
		return nil
	case <-mgr.Done():
		printLog(mgr.LogPath)
		return errors.New("the manager exited")
	}
}

// waitForStatus waits until the manager has computed the status of every entity.
func waitForStatus(ctx context.Context, cfg *rest.Config, mgr *testenv.Manager) error {
	scheme := runtime.NewScheme()
	utilruntime.Must(catalogv1alpha1.AddToScheme(scheme))
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	deadline := time.Now().Add(60 * time.Second)
	var stableSince time.Time
	seen := -1
	for {
		var list catalogv1alpha1.CatalogEntityList
		if err := c.List(ctx, &list); err != nil {
			return err
		}
		pending := 0
		for _, e := range list.Items {
			if e.Status.ObservedGeneration != e.Generation {
				pending++
			}
		}
		// Done when every entity has its status and no new one was created for a while:
		// entities for labelled sources appear as the manager discovers them.
		if len(list.Items) > 0 && pending == 0 && len(list.Items) == seen {
			if stableSince.IsZero() {
				stableSince = time.Now()
			}
			if time.Since(stableSince) > time.Second {
				return nil
			}
		} else {
			stableSince, seen = time.Time{}, len(list.Items)
		}
		if exited, err := mgr.Exited(); exited {
			return fmt.Errorf("the manager exited: %v", err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d entities have no status after 60s", pending, len(list.Items))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// catalogSample fetches the catalog endpoint and returns the descriptor named name.
func catalogSample(ctx context.Context, url, name string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("reading the catalog endpoint: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("the catalog endpoint answered %s: %s", resp.Status, body)
	}
	for _, doc := range strings.Split(string(body), "---\n") {
		if strings.Contains(doc, "\n  name: "+name+"\n") {
			return doc, nil
		}
	}
	return "", fmt.Errorf("the catalog endpoint does not serve %s", name)
}

// printLog shows the end of the manager's log, to explain a failure.
func printLog(path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		return
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	fmt.Fprintln(os.Stderr, "--- manager log (last lines) ---")
	fmt.Fprintln(os.Stderr, strings.Join(lines, "\n"))
}
