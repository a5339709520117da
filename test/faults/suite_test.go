// Package faults breaks things under a running entityhub: the API server and etcd are
// stopped and started again, the leader of two replicas is killed, the manager is told
// to stop in the middle of its work. Everything is real — kube-apiserver, etcd and the
// manager binary, each its own process — and every spec measures how long recovery took
// and prints it (GinkgoWriter and the report's entries). Bounds are generous: the specs
// prove that the manager recovers, not how fast a shared machine happens to be.
//
// The manager, kube-apiserver and etcd logs go to a temporary directory, removed at the
// end unless KEEP_FAULTS_DIR is set; a failed spec prints the end of the managers' logs.
package faults

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/test/testenv"
)

var (
	testEnv    *envtest.Environment
	restConfig *rest.Config
	k8sClient  client.Client
	workDir    string
	kubeconfig string
	managerBin string
)

// widgetGVK is the project's test-only source kind, read with kstatus: a Widget whose
// Ready condition is True is Healthy, False is Progressing.
var widgetGVK = schema.GroupVersionKind{Group: "example.entityhub.dev", Version: "v1", Kind: "Widget"}

const widgetSourceKind = "example.entityhub.dev/v1/Widget"

func TestFaults(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Fault Suite")
}

var _ = BeforeSuite(func() {
	var err error
	workDir, err = os.MkdirTemp("", "entityhub-faults-")
	Expect(err).NotTo(HaveOccurred())
	GinkgoWriter.Printf("logs: %s\n", workDir)

	By("starting kube-apiserver and etcd with fixed certificate and data directories")
	testEnv, err = testenv.NewWithFixedDirs(filepath.Join(workDir, "control-plane"),
		filepath.Join(testenv.RepoRoot(), "test", "fixtures", "crds", "widgets.example.entityhub.dev.yaml"))
	Expect(err).NotTo(HaveOccurred())
	for name, proc := range map[string]*struct{ Out, Err *io.Writer }{
		"kube-apiserver": {&testEnv.ControlPlane.APIServer.Out, &testEnv.ControlPlane.APIServer.Err},
		"etcd":           {&testEnv.ControlPlane.Etcd.Out, &testEnv.ControlPlane.Etcd.Err},
	} {
		f, err := os.Create(filepath.Join(workDir, name+".log"))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(f.Close)
		*proc.Out, *proc.Err = f, f
	}
	restConfig, err = testEnv.Start()
	Expect(err).NotTo(HaveOccurred())

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(catalogv1alpha1.AddToScheme(scheme))
	// A short timeout, so that a request caught by a restart fails and is retried
	// instead of hanging a spec.
	cfg := rest.CopyConfig(restConfig)
	cfg.Timeout = 5 * time.Second
	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())

	kubeconfig, err = testenv.WriteKubeconfig(testEnv, workDir)
	Expect(err).NotTo(HaveOccurred())

	By("building the manager binary")
	managerBin, err = testenv.BuildManager(workDir)
	Expect(err).NotTo(HaveOccurred())
})

var _ = AfterSuite(func() {
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
	if workDir != "" && os.Getenv("KEEP_FAULTS_DIR") == "" {
		Expect(os.RemoveAll(workDir)).To(Succeed())
	}
})

// startManager runs the manager binary with the flags every spec wants — the Widget
// source kind, debug logs, no metrics or probe listeners, so that several replicas fit
// on one host — plus args. Its log is printed when the spec that started it fails, and
// it is stopped at the end of the container if it still runs.
func startManager(name string, args ...string) *testenv.Manager {
	flags := append([]string{
		"--source-kind=" + widgetSourceKind, "--zap-log-level=debug",
		"--metrics-bind-address=0", "--health-probe-bind-address=0",
	}, args...)
	m, err := testenv.StartManager(managerBin, kubeconfig, filepath.Join(workDir, name+".log"), flags...)
	Expect(err).NotTo(HaveOccurred())
	GinkgoWriter.Printf("started manager %s (log %s)\n", name, m.LogPath)
	started = append(started, namedManager{name, m})
	DeferCleanup(func() {
		if exited, _ := m.Exited(); !exited {
			_ = m.Stop(30 * time.Second)
		}
	})
	return m
}

type namedManager struct {
	name string
	m    *testenv.Manager
}

// started are the managers started so far; a failed spec prints the end of their logs.
var started []namedManager

var _ = AfterEach(func() {
	if CurrentSpecReport().Failed() {
		for _, nm := range started {
			printLog(nm.name, nm.m)
		}
	}
})

// printLog writes the end of a manager's log to the GinkgoWriter.
func printLog(name string, m *testenv.Manager) {
	data, err := os.ReadFile(m.LogPath)
	if err != nil {
		return
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > 100 {
		lines = lines[len(lines)-100:]
	}
	GinkgoWriter.Printf("--- manager %s log (last %d lines) ---\n%s\n--- end of %s log ---\n",
		name, len(lines), strings.Join(lines, "\n"), name)
}

// managerLog returns the whole log of a manager so far.
func managerLog(m *testenv.Manager) string {
	data, err := os.ReadFile(m.LogPath)
	Expect(err).NotTo(HaveOccurred())
	return string(data)
}

// expectRunning fails when the manager process has exited, saying how.
func expectRunning(name string, m *testenv.Manager) {
	exited, err := m.Exited()
	if exited {
		printLog(name, m)
	}
	Expect(exited).To(BeFalse(), "manager %s exited: %v", name, err)
}

// report prints a measured figure and adds it to the suite's report.
func report(name string, d time.Duration) {
	d = d.Round(time.Millisecond)
	GinkgoWriter.Printf("MEASURED %s: %s\n", name, d)
	AddReportEntry(name, d.String())
}

// newNamespace creates a namespace named after prefix and returns its name.
func newNamespace(ctx context.Context, prefix string) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	return ns.Name
}

// widgetState is what a spec last wrote into a Widget's Ready condition.
type widgetState struct {
	Ready   bool
	Message string
}

// health is the entity health the state maps to through kstatus.
func (s widgetState) health() catalogv1alpha1.Health {
	if s.Ready {
		return catalogv1alpha1.HealthHealthy
	}
	return catalogv1alpha1.HealthProgressing
}

func setReady(u *unstructured.Unstructured, s widgetState) {
	status, reason := metav1.ConditionTrue, "Available"
	if !s.Ready {
		status, reason = metav1.ConditionFalse, "Unavailable"
	}
	Expect(unstructured.SetNestedSlice(u.Object, []any{map[string]any{
		"type": "Ready", "status": string(status), "reason": reason, "message": s.Message,
		"lastTransitionTime": "2026-01-01T00:00:00Z",
	}}, "status", "conditions")).To(Succeed())
}

// createWidget creates a Widget labelled backstage.io/kubernetes-id=entity (none when
// entity is empty) and writes its status, a subresource.
func createWidget(ctx context.Context, ns, name, entity string, s widgetState) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(widgetGVK)
	u.SetNamespace(ns)
	u.SetName(name)
	if entity != "" {
		u.SetLabels(map[string]string{catalogv1alpha1.KubernetesIDLabel: entity})
	}
	Expect(k8sClient.Create(ctx, u)).To(Succeed())
	setReady(u, s)
	Expect(k8sClient.Status().Update(ctx, u)).To(Succeed())
}

// writeWidget sets a Widget's Ready condition. It retries, for a short while after a
// restart requests may fail, and returns once the write is stored.
func writeWidget(ctx context.Context, ns, name string, s widgetState) {
	Eventually(func() error {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(widgetGVK)
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, u); err != nil {
			return err
		}
		setReady(u, s)
		return k8sClient.Status().Update(ctx, u)
	}).WithTimeout(30*time.Second).WithPolling(100*time.Millisecond).Should(Succeed(), "writing widget %s/%s", ns, name)
}

// tryWriteWidget is writeWidget without retries, for writers racing a shutdown.
func tryWriteWidget(ctx context.Context, ns, name string, s widgetState) error {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(widgetGVK)
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, u); err != nil {
		return err
	}
	setReady(u, s)
	return k8sClient.Status().Update(ctx, u)
}

// cleanUp deletes every Widget and CatalogEntity in namespaces, so that managers
// started by later containers have no leftovers to work on. (envtest runs no namespace
// controller: deleting a namespace would leave its objects.)
func cleanUp(ctx context.Context, namespaces ...string) {
	for _, ns := range namespaces {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(widgetGVK)
		Eventually(func() error {
			return k8sClient.DeleteAllOf(ctx, u, client.InNamespace(ns))
		}).WithTimeout(30 * time.Second).Should(Succeed())
		Eventually(func() error {
			return k8sClient.DeleteAllOf(ctx, &catalogv1alpha1.CatalogEntity{}, client.InNamespace(ns))
		}).WithTimeout(30 * time.Second).Should(Succeed())
	}
}

// getEntity reads an entity straight from the API server.
func getEntity(ctx context.Context, key client.ObjectKey) (*catalogv1alpha1.CatalogEntity, error) {
	e := &catalogv1alpha1.CatalogEntity{}
	return e, k8sClient.Get(ctx, key, e)
}

// reflects says whether an entity's status shows state as the health of its one Widget
// source, for the entity's current generation.
func reflects(e *catalogv1alpha1.CatalogEntity, s widgetState) error {
	if e.Status.ObservedGeneration != e.Generation {
		return fmt.Errorf("%s: status is for generation %d, the entity is at %d", e.Name, e.Status.ObservedGeneration, e.Generation)
	}
	if e.Status.Health != s.health() {
		return fmt.Errorf("%s: health %q, want %q (message %q)", e.Name, e.Status.Health, s.health(), e.Status.Message)
	}
	if !s.Ready && !strings.Contains(e.Status.Message, s.Message) {
		return fmt.Errorf("%s: message %q does not tell the widget's %q", e.Name, e.Status.Message, s.Message)
	}
	return consistent(e)
}

// consistent checks that an entity's status agrees with itself — what a status written
// in one piece always does: the health is the worst of the listed sources, the ready
// count and the Ready condition follow from it.
func consistent(e *catalogv1alpha1.CatalogEntity) error {
	st := e.Status
	if int(st.SourceCount) != len(st.Sources) {
		return fmt.Errorf("%s: sourceCount %d but %d sources listed", e.Name, st.SourceCount, len(st.Sources))
	}
	healthy := 0
	for _, src := range st.Sources {
		if src.Health == catalogv1alpha1.HealthHealthy {
			healthy++
		}
	}
	if want := fmt.Sprintf("%d/%d", healthy, len(st.Sources)); st.Ready != want {
		return fmt.Errorf("%s: ready %q but the listed sources make %q", e.Name, st.Ready, want)
	}
	if len(st.Sources) > 0 && st.Sources[0].Health != st.Health {
		return fmt.Errorf("%s: health %q but the worst listed source is %q", e.Name, st.Health, st.Sources[0].Health)
	}
	ready := meta.FindStatusCondition(st.Conditions, catalogv1alpha1.ConditionReady)
	if ready == nil {
		return fmt.Errorf("%s: no Ready condition", e.Name)
	}
	if (ready.Status == metav1.ConditionTrue) != (st.Health == catalogv1alpha1.HealthHealthy) || ready.Reason != string(st.Health) {
		return fmt.Errorf("%s: Ready condition %s/%s disagrees with health %q", e.Name, ready.Status, ready.Reason, st.Health)
	}
	if ready.ObservedGeneration != 0 && ready.ObservedGeneration != st.ObservedGeneration {
		return fmt.Errorf("%s: Ready condition is for generation %d, status for %d", e.Name, ready.ObservedGeneration, st.ObservedGeneration)
	}
	return nil
}

// entityUIDs lists the entities in ns by name, with their UIDs: a UID that changes
// tells that an entity was deleted and created again.
func entityUIDs(ctx context.Context, ns string) map[string]string {
	var list catalogv1alpha1.CatalogEntityList
	Eventually(func() error { return k8sClient.List(ctx, &list, client.InNamespace(ns)) }).
		WithTimeout(30 * time.Second).Should(Succeed())
	out := map[string]string{}
	for _, e := range list.Items {
		out[e.Name] = string(e.UID)
	}
	return out
}
