package catalogentity_test

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/entityhub/entityhub/controllers/setup"
	"github.com/entityhub/entityhub/test/testenv"
)

// The suite runs the reconcilers in a manager against a real kube-apiserver and etcd,
// and checks what they did with a client that reads the API server directly.
var (
	cfg       *rest.Config
	k8sClient client.Client
	testEnv   *envtest.Environment
	cancel    context.CancelFunc
	engine    *setup.Engine
	// proxy stands between the manager and the API server, to fail requests on purpose.
	proxy *testenv.Proxy
)

const (
	catalogNamespace = "entityhub-system"
	// gracePeriod is short so that clean-up of auto-created entities can be seen.
	gracePeriod = 2 * time.Second
	// kindSyncTimeout and kindErrorGrace are how long a kind's first list and a failing
	// watch may take before its sources show Unknown.
	kindSyncTimeout = 3 * time.Second
	// argoStaleAfter is how old an Application's reconciledAt may grow in the suite.
	argoStaleAfter = 10 * time.Minute
	kindErrorGrace = time.Second
)

// leaseKey is the Lease the suite's workflow controller renews (it has none until a spec
// makes one).
var leaseKey = types.NamespacedName{Namespace: "argo", Name: "workflow-controller"}

// widgetGVK is the test-only source kind of test/fixtures/crds, read with kstatus.
var widgetGVK = schema.GroupVersionKind{Group: "example.entityhub.dev", Version: "v1", Kind: "Widget"}

func TestControllers(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Controllers Suite")
}

var _ = BeforeSuite(func() {
	// Logs go to the spec's output and to managerLog, where specs look for errors; klog
	// (client-go's reflectors) too, so a watch failing in a loop would show.
	logger := zap.New(zap.WriteTo(io.MultiWriter(GinkgoWriter, managerLog)), zap.UseDevMode(true))
	logf.SetLogger(logger)
	klog.SetLogger(logger)

	var err error
	testEnv, err = testenv.New()
	Expect(err).NotTo(HaveOccurred())
	cfg, err = testEnv.Start()
	Expect(err).NotTo(HaveOccurred())

	scheme := setup.Scheme()
	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())

	opts := setup.Options{
		CatalogNamespace:         catalogNamespace,
		DefaultOwner:             "group:default/platform-team",
		GracePeriod:              gracePeriod,
		MaxConcurrentReconciles:  2,
		ArgoCDNamespaces:         []string{"argocd"},
		ArgoCDStaleAfter:         argoStaleAfter,
		WorkflowsControllerLease: leaseKey,
		ExtraKinds:               []schema.GroupVersionKind{widgetGVK},
		RegisterMetrics:          true,
		// Short, so that specs see a late list and a failing watch within seconds.
		KindSyncTimeout: kindSyncTimeout,
		KindErrorGrace:  kindErrorGrace,
	}
	var mgrCfg *rest.Config
	proxy, mgrCfg, err = testenv.StartProxy(cfg)
	Expect(err).NotTo(HaveOccurred())
	mgr, err := ctrl.NewManager(mgrCfg, ctrl.Options{
		Scheme:  scheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
		Cache:   setup.CacheOptions(opts),
	})
	Expect(err).NotTo(HaveOccurred())

	var ctx context.Context
	ctx, cancel = context.WithCancel(context.Background())
	engine, err = setup.Setup(ctx, mgr, opts)
	Expect(err).NotTo(HaveOccurred())
	Expect(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: catalogNamespace}})).To(Succeed())
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
})

var _ = AfterSuite(func() {
	if cancel != nil {
		cancel()
	}
	if proxy != nil {
		Expect(proxy.Stop()).To(Succeed())
	}
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})

// logBuffer collects the manager's log lines for specs to search.
type logBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, strings.Split(strings.TrimRight(string(p), "\n"), "\n")...)
	return len(p), nil
}

// Mark returns the position of the next line.
func (b *logBuffer) Mark() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.lines)
}

// ErrorsSince returns the error lines logged since mark.
func (b *logBuffer) ErrorsSince(mark int) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, l := range b.lines[mark:] {
		if strings.Contains(l, "\tERROR\t") || strings.HasPrefix(l, "E1") {
			out = append(out, l)
		}
	}
	return out
}

var managerLog = &logBuffer{}
