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

func run(managerBin string, once bool) (err error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	root := testenv.RepoRoot()
	dir, err := os.MkdirTemp("", "entityhub-demo-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()

	say("Starting a local control plane (kube-apiserver and etcd)")
	// Argo CD's, Crossplane's and Argo Workflows' CRDs, as the test fixtures keep them.
	crds, err := testenv.ThirdPartyCRDs()
	if err != nil {
		return err
	}
	env, err := testenv.New(crds...)
	if err != nil {
		return err
	}
	cfg, err := env.Start()
	if err != nil {
		return fmt.Errorf("starting the control plane: %w", err)
	}
	defer func() {
		say("Stopping the control plane")
		err = errors.Join(err, env.Stop())
	}()

	kubeconfig, err := testenv.WriteKubeconfig(env, dir)
	if err != nil {
		return err
	}
	kubectlBin, err := testenv.Kubectl()
	if err != nil {
		return err
	}
	kubectl := func(args ...string) error {
		cmd := exec.CommandContext(ctx, kubectlBin, append([]string{"--kubeconfig", kubeconfig}, args...)...)
		cmd.Dir, cmd.Stdout, cmd.Stderr = root, os.Stdout, os.Stderr
		return cmd.Run()
	}

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
	if err := kubectl("apply", "--server-side", "--field-manager=demo", "--subresource=status",
		"-f", "config/samples/sources/crossplane.yaml"); err != nil {
		return err
	}

	say("Starting the manager (%s)", managerBin)
	metricsAddr, err := testenv.FreePort()
	if err != nil {
		return err
	}
	probeAddr, err := testenv.FreePort()
	if err != nil {
		return err
	}
	catalogAddr, err := testenv.FreePort()
	if err != nil {
		return err
	}
	mgr, err := testenv.StartManager(managerBin, kubeconfig, filepath.Join(dir, "manager.log"),
		"--metrics-bind-address="+metricsAddr, "--metrics-secure=false", "--health-probe-bind-address="+probeAddr,
		"--catalog-bind-address="+catalogAddr)
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

	fmt.Println()
	if err := kubectl("get", "catalogentities", "-A"); err != nil {
		return err
	}
	fmt.Println()
	if err := kubectl("get", "catalogentities", "-A", "-o", "wide"); err != nil {
		return err
	}
	catalogURL := "http://" + catalogAddr + "/entities"
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
`, kubeconfig, catalogURL, mgr.LogPath, metricsAddr)

	if once {
		return nil
	}
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
