// Command entityhub runs the entityhub manager: it watches the objects platform tools
// keep on a hub cluster and publishes one CatalogEntity per software entity, whose
// status tells how that entity is really doing.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"k8s.io/apimachinery/pkg/util/validation"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/catalogentity"
	"github.com/entityhub/entityhub/controllers/catalogserver"
	"github.com/entityhub/entityhub/controllers/setup"
	"github.com/entityhub/entityhub/controllers/sources"
	"github.com/entityhub/entityhub/controllers/sources/argocd"
	"github.com/entityhub/entityhub/controllers/workflowcontroller"
)

// defaultOwner owns entities that name no owner; the manager and `entityhub export` share
// it so that both give the same descriptors.
const defaultOwner = "group:default/platform-team"

// Values of --argocd-cluster-names: read Argo CD's cluster Secrets for the names of
// destination clusters, or read no Secret and show clusters by their server URL.
const (
	clusterNamesSecrets = "secrets"
	clusterNamesNone    = "none"
)

// options are the manager's settings, one per flag.
type options struct {
	metricsAddr      string
	secureMetrics    bool
	enableHTTP2      bool
	probeAddr        string
	leaderElect      bool
	leaderElectionNS string
	catalogNamespace string
	clusterWideNS    stringList
	defaultOwner     string
	gracePeriod      time.Duration
	sourceKinds      stringList
	argocdNamespaces stringList
	argocdNames      string
	argocdStaleAfter time.Duration
	workflowsLease   string
	catalogAddr      string
	catalogURL       string
	catalogAuth      bool
	catalogCertDir   string
	catalogCertName  string
	catalogKeyName   string
	catalogInsecure  bool
	catalogRenders   int
	pprofAddr        string
	concurrency      int
	zap              zap.Options
}

// stringList is a flag that may be repeated and takes comma-separated values.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// bindFlags registers every flag on fs; --help prints them with these texts.
func (o *options) bindFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.metricsAddr, "metrics-bind-address", ":8443",
		"Address the Prometheus metrics endpoint listens on, such as :8443; \"0\" turns it off.")
	fs.BoolVar(&o.secureMetrics, "metrics-secure", true,
		"Serve metrics over HTTPS, for callers whose token is allowed to GET /metrics "+
			"(checked with TokenReview and SubjectAccessReview). False serves plain HTTP to anyone who can reach it.")
	fs.BoolVar(&o.enableHTTP2, "enable-http2", false,
		"Allow HTTP/2 on the metrics endpoint. Off by default because of the HTTP/2 "+
			"Stream Cancellation and Rapid Reset CVEs.")
	fs.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081",
		"Address the liveness (/healthz) and readiness (/readyz) probes listen on.")
	fs.BoolVar(&o.leaderElect, "leader-elect", false,
		"Elect a leader so that, of several replicas, only one reconciles and writes at a time.")
	fs.StringVar(&o.leaderElectionNS, "leader-election-namespace", "",
		"Namespace of the leader election Lease; defaults to the namespace the manager runs in.")
	fs.StringVar(&o.catalogNamespace, "catalog-namespace", "entityhub-system",
		"Namespace in which the manager creates the CatalogEntities it discovers.")
	fs.Var(&o.clusterWideNS, "cluster-wide-source-namespaces",
		"Namespaces, besides --catalog-namespace, whose CatalogEntities may take sources from every namespace; "+
			"an entity anywhere else takes sources (listed or labelled) only from its own namespace. Only the platform "+
			"team should be able to write CatalogEntities there. Repeat or separate with commas.")
	fs.StringVar(&o.defaultOwner, "default-owner", defaultOwner,
		"Backstage owner (an entity reference such as group:default/platform-team) of entities "+
			"discovered without a catalog.entityhub.dev/owner annotation.")
	fs.DurationVar(&o.gracePeriod, "orphan-grace-period", catalogentity.DefaultGracePeriod,
		"How long an entity the manager created outlives its last source before it is deleted.")
	fs.Var(&o.sourceKinds, "source-kind",
		"Extra source kind, as <apiVersion>/<Kind> (e.g. tf.upbound.io/v1beta1/Workspace), read with kstatus; "+
			"repeat the flag or separate kinds with commas. The manager must be allowed to list and watch it.")
	fs.Var(&o.argocdNamespaces, "argocd-namespace",
		"Namespace where Argo CD keeps its cluster Secrets, to name Applications' destination clusters "+
			"(default argocd; repeat or separate with commas for several Argo CD instances). Ignored with --argocd-cluster-names=none.")
	fs.StringVar(&o.argocdNames, "argocd-cluster-names", clusterNamesSecrets,
		"How Applications' destination clusters are named: \""+clusterNamesSecrets+"\" reads Argo CD's cluster Secrets in "+
			"--argocd-namespace (only their name and server are kept; the manager must be allowed to read Secrets there); "+
			"\""+clusterNamesNone+"\" reads no Secret and names a cluster by its server URL, so the manager needs no access to Secrets.")
	fs.DurationVar(&o.argocdStaleAfter, "argocd-stale-after", argocd.DefaultStaleAfter,
		"How old an Application's status.reconciledAt may grow before its status shows Unknown (Argo CD's "+
			"application controller has stopped); 0 turns the check off, for installations that set timeout.reconciliation: 0.")
	fs.StringVar(&o.workflowsLease, "workflows-controller-lease", workflowcontroller.DefaultLease,
		"The Lease Argo Workflows' controller renews, as <namespace>/<name>: while it is not renewed for three lease "+
			"durations, Pending and Running Workflows show Unknown. Empty turns the check off. The manager must be "+
			"allowed to read Leases in that namespace (config/rbac grants argo).")
	fs.StringVar(&o.catalogAddr, "catalog-bind-address", "0",
		"Address the Backstage catalog endpoint listens on, such as :8090; \"0\" (the default) turns it off. "+
			"It serves every CatalogEntity as a Backstage descriptor (YAML, or JSON on Accept: application/json).")
	fs.StringVar(&o.catalogURL, "catalog-url", "",
		"The catalog endpoint's URL as Backstage reaches it, written (with the canonical filter query) into "+
			"backstage.io/managed-by-location; when empty those annotations are left out (Backstage writes its own).")
	fs.BoolVar(&o.catalogAuth, "catalog-auth", false,
		"Require a bearer token on the catalog endpoint, checked with TokenReview and SubjectAccessReview: "+
			"only callers allowed to list catalogentities are served. Needs --catalog-cert-dir, or --catalog-insecure.")
	fs.StringVar(&o.catalogCertDir, "catalog-cert-dir", "",
		"Directory holding the catalog endpoint's TLS certificate and key (a kubernetes.io/tls Secret mounted, "+
			"as cert-manager writes one): the endpoint then speaks HTTPS only and follows the files when they rotate. "+
			"Empty: plain HTTP.")
	fs.StringVar(&o.catalogCertName, "catalog-cert-name", catalogserver.DefaultCertName,
		"File name of the catalog endpoint's certificate in --catalog-cert-dir.")
	fs.StringVar(&o.catalogKeyName, "catalog-key-name", catalogserver.DefaultKeyName,
		"File name of the catalog endpoint's private key in --catalog-cert-dir.")
	fs.BoolVar(&o.catalogInsecure, "catalog-insecure", false,
		"Allow --catalog-auth without --catalog-cert-dir: bearer tokens then cross the network in clear. "+
			"Only where the network itself is encrypted (a service mesh with mTLS) or for a local test.")
	fs.IntVar(&o.catalogRenders, "catalog-max-renders", catalogserver.DefaultMaxRenders,
		"How many filtered catalog bodies may be rendered at once; more concurrent requests for other filters are "+
			"answered 503 with Retry-After. Each render of 10,000 entities holds one core and tens of MB for seconds. "+
			"The unfiltered body Backstage reads is never refused.")
	fs.StringVar(&o.pprofAddr, "pprof-bind-address", "",
		"Address to serve Go's pprof profiles on, such as 127.0.0.1:6060; empty (the default) turns it off.")
	fs.IntVar(&o.concurrency, "max-concurrent-reconciles", 4,
		"How many entities are reconciled at once.")
	o.zap.BindFlags(fs)
}

// validate refuses settings that would only fail later, with a message saying what to fix.
func (o *options) validate() error {
	var errs []error
	for _, msg := range validation.IsDNS1123Label(o.catalogNamespace) {
		errs = append(errs, fmt.Errorf("--catalog-namespace %q: %s", o.catalogNamespace, msg))
	}
	if !catalogv1alpha1.IsEntityRef(o.defaultOwner) {
		errs = append(errs, fmt.Errorf("--default-owner %q is not a Backstage entity reference such as group:default/platform-team", o.defaultOwner))
	}
	if o.gracePeriod < 0 {
		errs = append(errs, fmt.Errorf("--orphan-grace-period %s must not be negative", o.gracePeriod))
	}
	if o.argocdStaleAfter < 0 {
		errs = append(errs, fmt.Errorf("--argocd-stale-after %s must not be negative", o.argocdStaleAfter))
	}
	if o.concurrency < 1 {
		errs = append(errs, fmt.Errorf("--max-concurrent-reconciles %d must be at least 1", o.concurrency))
	}
	for _, ns := range o.clusterWideNS {
		for _, msg := range validation.IsDNS1123Label(ns) {
			errs = append(errs, fmt.Errorf("--cluster-wide-source-namespaces %q: %s", ns, msg))
		}
	}
	if o.argocdNames != clusterNamesSecrets && o.argocdNames != clusterNamesNone {
		errs = append(errs, fmt.Errorf("--argocd-cluster-names %q must be %s or %s", o.argocdNames, clusterNamesSecrets, clusterNamesNone))
	}
	errs = append(errs, o.validateCatalog()...)
	for _, ns := range o.argocdNamespaces {
		for _, msg := range validation.IsDNS1123Label(ns) {
			errs = append(errs, fmt.Errorf("--argocd-namespace %q: %s", ns, msg))
		}
	}
	if _, err := o.extraKinds(); err != nil {
		errs = append(errs, err)
	}
	if _, err := o.lease(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// validateCatalog refuses catalog endpoint settings that contradict each other.
func (o *options) validateCatalog() []error {
	var errs []error
	if o.catalogRenders < 1 {
		errs = append(errs, fmt.Errorf("--catalog-max-renders %d must be at least 1", o.catalogRenders))
	}
	switch {
	case o.catalogCertDir != "" && o.catalogInsecure:
		errs = append(errs, errors.New("--catalog-insecure with --catalog-cert-dir: the endpoint speaks HTTPS; drop one of them"))
	case o.catalogAuth && o.catalogCertDir == "" && !o.catalogInsecure:
		errs = append(errs, errors.New("--catalog-auth without --catalog-cert-dir would take bearer tokens in clear over plain HTTP: "+
			"give the endpoint a certificate, or pass --catalog-insecure where the network is encrypted otherwise"))
	}
	if o.catalogCertDir != "" && (o.catalogCertName == "" || o.catalogKeyName == "") {
		errs = append(errs, errors.New("--catalog-cert-name and --catalog-key-name must not be empty with --catalog-cert-dir"))
	}
	return errs
}

func main() {
	if isKubectlPlugin(os.Args[0]) {
		os.Exit(runPlugin(os.Args[1:], os.Stderr))
	}
	if len(os.Args) > 1 && os.Args[1] == "trace" {
		os.Exit(exitCode(os.Stderr, "entityhub trace", runTrace("entityhub trace", os.Args[2:])))
	}
	if len(os.Args) > 1 && os.Args[1] == "export" {
		if err := runExport(os.Args[2:]); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				os.Exit(0)
			}
			fmt.Fprintln(os.Stderr, "entityhub export:", err)
			var skipped *skippedError
			if errors.As(err, &skipped) {
				os.Exit(exitSkipped)
			}
			os.Exit(1)
		}
		return
	}
	var opts options
	fs := flag.CommandLine
	fs.Usage = func() {
		out := fs.Output()
		_, _ = fmt.Fprintf(out, "Usage: %s [flags]          run the manager\n", os.Args[0])
		_, _ = fmt.Fprintf(out, "       %s export [flags]   print CatalogEntities as Backstage descriptors (export -h)\n", os.Args[0])
		_, _ = fmt.Fprintf(out, "       %s trace <entity>   show an entity and its sources as a tree (trace -h)\n\n", os.Args[0])
		_, _ = fmt.Fprintln(out, "entityhub watches Argo CD, Crossplane and Argo Workflows objects on a hub cluster")
		_, _ = fmt.Fprintln(out, "and publishes one CatalogEntity per software entity, with its true status.")
		_, _ = fmt.Fprintln(out, "\nFlags:")
		fs.PrintDefaults()
	}
	opts.bindFlags(fs)
	flag.Parse()
	if len(opts.argocdNamespaces) == 0 {
		opts.argocdNamespaces = stringList{"argocd"}
	}

	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts.zap)))
	log := ctrl.Log.WithName("setup")
	if err := opts.validate(); err != nil {
		log.Error(err, "Invalid flags")
		os.Exit(2)
	}
	if err := run(opts); err != nil {
		log.Error(err, "Manager stopped")
		os.Exit(1)
	}
}

// clusterSecretNamespaces are the namespaces whose Argo CD cluster Secrets name
// destination clusters: none with --argocd-cluster-names=none, so that no Secret is read
// or cached and no Secret informer starts.
func (o *options) clusterSecretNamespaces() []string {
	if o.argocdNames == clusterNamesNone {
		return nil
	}
	return o.argocdNamespaces
}

// lease parses --workflows-controller-lease; empty is no Lease.
func (o *options) lease() (types.NamespacedName, error) {
	if o.workflowsLease == "" {
		return types.NamespacedName{}, nil
	}
	key, err := workflowcontroller.ParseLease(o.workflowsLease)
	if err != nil {
		return key, fmt.Errorf("--workflows-controller-lease: %w", err)
	}
	return key, nil
}

// extraKinds parses --source-kind.
func (o *options) extraKinds() ([]schema.GroupVersionKind, error) {
	var gvks []schema.GroupVersionKind
	for _, s := range o.sourceKinds {
		gvk, err := sources.ParseGVK(s)
		if err != nil {
			return nil, fmt.Errorf("--source-kind: %w", err)
		}
		gvks = append(gvks, gvk)
	}
	return gvks, nil
}

func run(opts options) error {
	log := ctrl.Log.WithName("setup")
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("finding the cluster: %w", err)
	}
	extra, err := opts.extraKinds()
	if err != nil {
		return err
	}
	lease, err := opts.lease()
	if err != nil {
		return err
	}
	ctx := ctrl.SetupSignalHandler()
	mgr, engine, err := setup.NewManager(ctx, cfg, setup.ProcessOptions{
		MetricsAddr:             opts.metricsAddr,
		SecureMetrics:           opts.secureMetrics,
		EnableHTTP2:             opts.enableHTTP2,
		ProbeAddr:               opts.probeAddr,
		LeaderElect:             opts.leaderElect,
		LeaderElectionNamespace: opts.leaderElectionNS,
		PprofAddr:               opts.pprofAddr,
		CatalogAddr:             opts.catalogAddr,
		CatalogURL:              opts.catalogURL,
		CatalogAuth:             opts.catalogAuth,
		CatalogCertDir:          opts.catalogCertDir,
		CatalogCertName:         opts.catalogCertName,
		CatalogKeyName:          opts.catalogKeyName,
		CatalogInsecure:         opts.catalogInsecure,
		CatalogMaxRenders:       opts.catalogRenders,
	}, setup.Options{
		CatalogNamespace:         opts.catalogNamespace,
		DefaultOwner:             opts.defaultOwner,
		GracePeriod:              opts.gracePeriod,
		MaxConcurrentReconciles:  opts.concurrency,
		ArgoCDNamespaces:         opts.clusterSecretNamespaces(),
		ArgoCDStaleAfter:         opts.argocdStaleAfter,
		WorkflowsControllerLease: lease,
		ExtraKinds:               extra,
		RegisterMetrics:          true,
	})
	if err != nil {
		return err
	}
	log.Info("Starting manager", "catalogNamespace", opts.catalogNamespace, "defaultOwner", opts.defaultOwner,
		"leaderElection", opts.leaderElect, "metrics", opts.metricsAddr, "sourceFamilies", engine.Registry.Families(),
		"extraSourceKinds", opts.sourceKinds, "argocdClusterNames", opts.argocdNames)
	return mgr.Start(ctx)
}
