package trace

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

// DefaultNamespace is where entities are looked for when neither -n nor the kubeconfig's
// context names a namespace: where the manager creates the entities it discovers.
const DefaultNamespace = "entityhub-system"

// liveEvery is how often --watch --live reads the objects again, besides on every change
// of the entity: they change without the entity changing when the manager judges them
// the same.
const liveEvery = 5 * time.Second

// options are the settings of `entityhub trace`, one per flag, and the entity named.
type options struct {
	kubeconfig string
	context    string
	namespace  string
	output     string
	color      string
	watch      bool
	live       bool
	name       string
}

// Main runs `entityhub trace` with args, the arguments after "trace"; prog is how it
// was called (entityhub or kubectl entityhub), for its usage text. It returns
// flag.ErrHelp after printing the usage for -h.
func Main(ctx context.Context, prog string, args []string, stdout, stderr io.Writer) error {
	o, err := parse(prog, args, stderr)
	if err != nil {
		return err
	}
	cfg, namespace, err := o.config()
	if err != nil {
		return err
	}
	t, err := newTracer(cfg, namespace, o, stdout)
	if err != nil {
		return err
	}
	if o.watch {
		return t.Watch(ctx, o.name)
	}
	return t.Once(ctx, o.name)
}

func parse(prog string, args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("trace", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { usage(fs, prog) }
	fs.StringVar(&o.kubeconfig, "kubeconfig", "",
		"Path of the kubeconfig; defaults to $KUBECONFIG, then ~/.kube/config, then the in-cluster config.")
	fs.StringVar(&o.context, "context", "", "kubeconfig context to use; defaults to the current context.")
	fs.StringVar(&o.namespace, "namespace", "",
		"Namespace of the CatalogEntity; defaults to the kubeconfig context's, else "+DefaultNamespace+".")
	fs.StringVar(&o.namespace, "n", "", "Short for -namespace.")
	fs.StringVar(&o.output, "output", "", "Output format: empty for the tree, wide (adds namespace, phase and "+
		"last transition, and whole messages), json or yaml (the entity and its sources as a structure).")
	fs.StringVar(&o.output, "o", "", "Short for -output.")
	fs.BoolVar(&o.watch, "watch", false, "After printing, watch the CatalogEntity and print it again whenever what is shown changes.")
	fs.BoolVar(&o.watch, "w", false, "Short for -watch.")
	fs.BoolVar(&o.live, "live", false, "Also read each source object itself and show what it says now (LIVE), beside "+
		"the entity's status; Crossplane trees then follow the objects' own references.")
	fs.StringVar(&o.color, "color", ColorAuto, "Colour health and sync words: auto (on a terminal, unless NO_COLOR is set), always or never.")

	// Flags may come before or after the entity's name, as with kubectl.
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(positional) != 1 {
		return nil, fmt.Errorf("name one CatalogEntity, such as `%s payments-api` (see %[1]s -h)", prog)
	}
	o.name = trimKind(positional[0])
	return o, o.validate()
}

func usage(fs *flag.FlagSet, prog string) {
	out := fs.Output()
	_, _ = fmt.Fprintf(out, "Usage: %s <entity> [flags]\n", prog)
	_, _ = fmt.Fprintln(out, `
Shows a CatalogEntity and its sources as a tree, worst first: Argo CD Applications with
their clusters, Crossplane claims with their composites and managed resources, schedules
with their runs, member entities; each with its health, sync, ready parts and message.

The tree comes from the entity's status. Crossplane parts go under the claim or composite
whose name theirs extends (or whose message names them), runs under the schedule they are
named after; with --live the objects' own references decide.

Installed on PATH as kubectl-entityhub, the same binary is a kubectl plugin:
  kubectl entityhub trace payments-api -n entityhub-system

Flags:`)
	fs.PrintDefaults()
}

// trimKind accepts the entity as kubectl names it too: ce/<name>, catalogentity/<name>.
func trimKind(s string) string {
	for _, p := range []string{"catalogentities/", "catalogentity/", "ce/"} {
		if rest, ok := strings.CutPrefix(s, p); ok {
			return rest
		}
	}
	for _, p := range []string{"catalogentities.", "catalogentity."} {
		if rest, ok := strings.CutPrefix(s, p); ok {
			if _, name, found := strings.Cut(rest, "/"); found {
				return name
			}
		}
	}
	return s
}

// validate refuses settings that would only fail later, with a message saying what to fix.
func (o *options) validate() error {
	var errs []error
	switch o.output {
	case OutputTable, OutputWide, OutputJSON, OutputYAML:
	default:
		errs = append(errs, fmt.Errorf("-o %q: choose wide, json or yaml, or leave it out for the tree", o.output))
	}
	switch o.color {
	case ColorAuto, ColorAlways, ColorNever:
	default:
		errs = append(errs, fmt.Errorf("--color %q: choose auto, always or never", o.color))
	}
	if o.namespace != "" {
		for _, msg := range validation.IsDNS1123Label(o.namespace) {
			errs = append(errs, fmt.Errorf("--namespace %q: %s", o.namespace, msg))
		}
	}
	for _, msg := range validation.IsDNS1123Subdomain(o.name) {
		errs = append(errs, fmt.Errorf("%q is not a CatalogEntity name: %s", o.name, msg))
	}
	return errors.Join(errs...)
}

// config finds the cluster and the namespace: -n, else the kubeconfig context's, else
// DefaultNamespace.
func (o *options) config() (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = o.kubeconfig
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: o.context})
	cfg, err := cc.ClientConfig()
	if clientcmd.IsEmptyConfig(err) {
		return nil, "", errors.New("no cluster to read from: pass --kubeconfig, set $KUBECONFIG, or run in a Pod")
	}
	if err != nil {
		return nil, "", fmt.Errorf("finding the cluster: %w", err)
	}
	cfg.UserAgent = "entityhub-trace"
	// --live reads up to a hundred objects at once; client-go's default of 5 a second
	// would take twenty seconds over them.
	cfg.QPS, cfg.Burst = 50, 100
	namespace := o.namespace
	if namespace == "" {
		if raw, err := cc.RawConfig(); err == nil {
			name := o.context
			if name == "" {
				name = raw.CurrentContext
			}
			if c, ok := raw.Contexts[name]; ok {
				namespace = c.Namespace
			}
		}
	}
	if namespace == "" {
		namespace = DefaultNamespace
	}
	return cfg, namespace, nil
}

func newTracer(cfg *rest.Config, namespace string, o *options, stdout io.Writer) (*Tracer, error) {
	scheme := runtime.NewScheme()
	if err := catalogv1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", cfg.Host, err)
	}
	t := &Tracer{
		Client: c,
		WatchEntity: func(ctx context.Context, namespace, name, resourceVersion string) (watch.Interface, error) {
			return c.Watch(ctx, &catalogv1alpha1.CatalogEntityList{}, client.InNamespace(namespace),
				client.MatchingFields{"metadata.name": name},
				&client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: resourceVersion}})
		},
		Printer:   Printer{Output: o.output, Color: UseColor(o.color, stdout), Live: o.live, Now: time.Now},
		Namespace: namespace,
		Out:       stdout,
		Redraw:    IsTerminal(stdout) && (o.output == OutputTable || o.output == OutputWide),
		LiveEvery: liveEvery,
	}
	if o.live {
		disc, err := discovery.NewDiscoveryClientForConfig(cfg)
		if err != nil {
			return nil, err
		}
		dyn, err := dynamic.NewForConfig(cfg)
		if err != nil {
			return nil, err
		}
		t.Objects = &ClusterObjects{Discovery: disc, Dynamic: dyn}
	}
	return t, nil
}

// Tracer reads one CatalogEntity and prints its trace, once or on every change.
type Tracer struct {
	// Client reads CatalogEntities.
	Client client.Reader
	// WatchEntity watches the one CatalogEntity namespace/name from resourceVersion.
	WatchEntity func(ctx context.Context, namespace, name, resourceVersion string) (watch.Interface, error)
	// Objects, when set, reads the source objects themselves (--live).
	Objects ObjectReader
	// Printer writes each trace.
	Printer Printer
	// Namespace is the entity's namespace.
	Namespace string
	// Out receives the traces.
	Out io.Writer
	// Redraw clears the screen before each trace while watching, on a terminal.
	Redraw bool
	// LiveEvery is how often a watch with Objects reads the objects again.
	LiveEvery time.Duration
}

// Once prints the trace of the entity name.
func (t *Tracer) Once(ctx context.Context, name string) error {
	e, err := t.get(ctx, name)
	if err != nil {
		return err
	}
	frame, err := t.frame(ctx, e)
	if err != nil {
		return err
	}
	_, err = io.WriteString(t.Out, frame)
	return err
}

func (t *Tracer) get(ctx context.Context, name string) (*catalogv1alpha1.CatalogEntity, error) {
	e := &catalogv1alpha1.CatalogEntity{}
	if err := t.Client.Get(ctx, client.ObjectKey{Namespace: t.Namespace, Name: name}, e); err != nil {
		return nil, t.explain(ctx, err, "get", name)
	}
	return e, nil
}

// frame is one trace of e, as printed.
func (t *Tracer) frame(ctx context.Context, e *catalogv1alpha1.CatalogEntity) (string, error) {
	var live liveResult
	if t.Objects != nil {
		live = readLive(ctx, t.Objects, &e.Status)
	}
	roots := Build(&e.Status, live.links)
	attachLive(roots, live.live)
	var b bytes.Buffer
	if err := t.Printer.Print(&b, e, roots); err != nil {
		return "", err
	}
	if t.Printer.Output == OutputTable || t.Printer.Output == OutputWide {
		for _, n := range live.notes {
			b.WriteString(n + "\n")
		}
	}
	return b.String(), nil
}
