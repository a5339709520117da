package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/catalog"
)

// exportOptions are the settings of `entityhub export`, one per flag.
type exportOptions struct {
	kubeconfig       string
	context          string
	namespace        string
	dir              string
	locationURL      string
	defaultOwner     string
	catalogNamespace string
}

// exitSkipped is the exit status of an export that wrote every descriptor it could but
// skipped some (listed on stderr), so that a CI job can tell it from one that failed (1).
const exitSkipped = 3

// skippedError is what export returns when it wrote the rest but skipped some
// descriptors.
type skippedError struct{ skipped, total int }

// Error implements error.
func (e *skippedError) Error() string {
	return fmt.Sprintf("%d of %d descriptors skipped (see above); the others were written", e.skipped, e.total)
}

// runExport implements `entityhub export`: it prints the Backstage descriptors of a
// cluster's CatalogEntities — the same the manager's catalog endpoint serves — so that CI
// can hydrate a catalog repository from the hub. args are the arguments after "export".
// It returns flag.ErrHelp after printing the usage for -h.
func runExport(args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return export(ctx, args, os.Stdout, os.Stderr)
}

func export(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o exportOptions
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		out := fs.Output()
		_, _ = fmt.Fprintln(out, "Usage: entityhub export [flags]")
		_, _ = fmt.Fprintln(out, "\nPrints the CatalogEntities of a cluster as Backstage catalog descriptors: a multi-document")
		_, _ = fmt.Fprintln(out, "YAML stream on stdout, or one file per entity, <namespace>-<kind>-<name>.yaml, with --dir")
		_, _ = fmt.Fprintln(out, "(<namespace>--<kind>--<name>.yaml where the short name could be read two ways).")
		_, _ = fmt.Fprintln(out, "Entities that cannot be made valid Backstage entities are left out and listed on stderr.")
		_, _ = fmt.Fprintf(out, "Exit status: 0 when all was written, %d when some descriptors were skipped (listed on stderr)\n", exitSkipped)
		_, _ = fmt.Fprintln(out, "and the rest written, 1 on failure.")
		_, _ = fmt.Fprintln(out, "\nFlags:")
		fs.PrintDefaults()
	}
	fs.StringVar(&o.kubeconfig, "kubeconfig", "",
		"Path of the kubeconfig; defaults to $KUBECONFIG, then ~/.kube/config, then the in-cluster config.")
	fs.StringVar(&o.context, "context", "", "kubeconfig context to use; defaults to the current context.")
	fs.StringVar(&o.namespace, "namespace", "",
		"Kubernetes namespace of the CatalogEntities to export; all namespaces when empty.")
	fs.StringVar(&o.dir, "dir", "",
		"Directory to write one <namespace>-<kind>-<name>.yaml per entity into (created when missing); stdout when empty. "+
			"Files of entities that no longer exist are not removed.")
	fs.StringVar(&o.catalogNamespace, "catalog-namespace", "entityhub-system",
		"The manager's --catalog-namespace: of CatalogEntities that are one Backstage entity, the one in this "+
			"namespace is exported, and when none is there none is — as the manager's catalog endpoint does.")
	fs.StringVar(&o.locationURL, "location-url", "",
		"URL the descriptors will be read from, written as url:<URL> into the backstage.io/managed-by-location "+
			"and backstage.io/managed-by-origin-location annotations; left out when empty.")
	fs.StringVar(&o.defaultOwner, "default-owner", defaultOwner,
		"Owner (an entity reference) of entities whose spec has none; the manager's --default-owner, so that "+
			"both give the same descriptors.")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("export: unexpected argument %q (see entityhub export -h)", fs.Arg(0))
	}
	if err := o.validate(); err != nil {
		return err
	}

	c, err := o.client()
	if err != nil {
		return err
	}
	entities, err := listEntities(ctx, c, o.namespace)
	if err != nil {
		return err
	}
	return o.write(entities, stdout, stderr)
}

// write builds the descriptors of entities and writes them where o says: stdout, or
// one file each in o.dir. Problems go to stderr.
func (o *exportOptions) write(entities []catalogv1alpha1.CatalogEntity, stdout, stderr io.Writer) error {
	cat := catalog.Build(entities, catalog.Options{
		LocationURL:      o.locationURL,
		DefaultOwner:     o.defaultOwner,
		CatalogNamespace: o.catalogNamespace,
	})
	for _, p := range cat.Fixed {
		_, _ = fmt.Fprintf(stderr, "export: changed: %v\n", p)
	}
	for _, p := range cat.LeftOut {
		_, _ = fmt.Fprintf(stderr, "export: left out: %v\n", p)
	}
	if n := len(cat.LeftOut); n > 0 {
		defer func() {
			_, _ = fmt.Fprintf(stderr, "export: %d of %d CatalogEntities left out (see above)\n", n, len(entities))
		}()
	}

	if o.dir == "" {
		body, err := catalog.EncodeYAML(cat.Entities)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		if _, err := stdout.Write(body); err != nil {
			return fmt.Errorf("export: writing to stdout: %w", err)
		}
		return nil
	}
	written, skipped, err := writeDir(o.dir, cat.Entities)
	if err != nil {
		return err
	}
	for _, s := range skipped {
		_, _ = fmt.Fprintf(stderr, "export: skipped: %v\n", s)
	}
	_, _ = fmt.Fprintf(stderr, "export: %d descriptors in %s (%d files changed)\n", len(cat.Entities)-len(skipped), o.dir, written)
	if len(skipped) > 0 {
		return &skippedError{skipped: len(skipped), total: len(cat.Entities)}
	}
	return nil
}

// validate refuses settings that would only fail later, with a message saying what to fix.
func (o *exportOptions) validate() error {
	var errs []error
	if o.namespace != "" {
		for _, msg := range validation.IsDNS1123Label(o.namespace) {
			errs = append(errs, fmt.Errorf("export: --namespace %q: %s", o.namespace, msg))
		}
	}
	if o.locationURL != "" {
		if u, err := url.Parse(o.locationURL); err != nil || u.Scheme == "" || u.Host == "" {
			errs = append(errs, fmt.Errorf("export: --location-url %q is not an absolute URL such as https://git.example.com/catalog/all.yaml", o.locationURL))
		}
	}
	if o.catalogNamespace != "" {
		for _, msg := range validation.IsDNS1123Label(o.catalogNamespace) {
			errs = append(errs, fmt.Errorf("export: --catalog-namespace %q: %s", o.catalogNamespace, msg))
		}
	}
	if o.defaultOwner != "" && !catalogv1alpha1.IsEntityRef(o.defaultOwner) {
		errs = append(errs, fmt.Errorf("export: --default-owner %q is not a Backstage entity reference such as group:default/platform-team", o.defaultOwner))
	}
	return errors.Join(errs...)
}

// client connects to the cluster the flags name, with only the catalog types known.
func (o *exportOptions) client() (client.Client, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = o.kubeconfig
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules,
		&clientcmd.ConfigOverrides{CurrentContext: o.context}).ClientConfig()
	if clientcmd.IsEmptyConfig(err) {
		return nil, errors.New("export: no cluster to read from: pass --kubeconfig, set $KUBECONFIG, or run in a Pod")
	}
	if err != nil {
		return nil, fmt.Errorf("export: finding the cluster: %w", err)
	}
	cfg.UserAgent = "entityhub-export"
	scheme := runtime.NewScheme()
	if err := catalogv1alpha1.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("export: connecting to %s: %w", cfg.Host, err)
	}
	return c, nil
}

// listEntities lists CatalogEntities page by page, so that a large hub is not read in
// one response.
func listEntities(ctx context.Context, c client.Client, namespace string) ([]catalogv1alpha1.CatalogEntity, error) {
	var all []catalogv1alpha1.CatalogEntity
	opts := []client.ListOption{client.Limit(500)}
	if namespace != "" {
		opts = append(opts, client.InNamespace(namespace))
	}
	for cont := ""; ; {
		var page catalogv1alpha1.CatalogEntityList
		if err := c.List(ctx, &page, append(opts, client.Continue(cont))...); err != nil {
			if meta.IsNoMatchError(err) {
				return nil, fmt.Errorf("export: the cluster does not know CatalogEntities: is entityhub's CRD installed? (%w)", err)
			}
			return nil, fmt.Errorf("export: listing CatalogEntities: %w", err)
		}
		all = append(all, page.Items...)
		if cont = page.Continue; cont == "" {
			return all, nil
		}
	}
}

// writeDir writes one file per descriptor into dir and returns how many files it
// changed, and why it skipped the descriptors it did not write. A file whose content is
// already right is left alone, so that its time stays and a CI job sees no change; each
// file is replaced at once (written aside, then renamed), so that a reader never sees
// half of it.
//
// catalog.FileName gives the descriptors of one Catalog distinct names, also where case
// is ignored; should two still meet (descriptors that are not one Build's), both are
// skipped and reported, and the others written: one tenant's entity must not stop an
// export of all.
func writeDir(dir string, docs []catalog.Entity) (changed int, skipped []error, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, nil, fmt.Errorf("export: creating %s: %w", dir, err)
	}
	// Case-insensitive file systems would put two names differing in case into one file.
	owners := map[string][]string{}
	for _, d := range docs {
		name := strings.ToLower(catalog.FileName(d))
		owners[name] = append(owners[name], catalog.Ref(d))
	}
	for _, d := range docs {
		name := catalog.FileName(d)
		if refs := owners[strings.ToLower(name)]; len(refs) > 1 {
			others := slices.DeleteFunc(slices.Clone(refs), func(r string) bool { return r == catalog.Ref(d) })
			skipped = append(skipped, fmt.Errorf("%s not written: its file, %s, would also be that of %s",
				catalog.Ref(d), name, strings.Join(others, ", ")))
			continue
		}
		body, err := catalog.EncodeYAML([]catalog.Entity{d})
		if err != nil {
			return changed, skipped, fmt.Errorf("export: %w", err)
		}
		path := filepath.Join(dir, name)
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, body) {
			continue
		}
		if err := writeFileAtomic(path, body); err != nil {
			return changed, skipped, fmt.Errorf("export: writing %s: %w", path, err)
		}
		changed++
	}
	return changed, skipped, nil
}

func writeFileAtomic(path string, body []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".entityhub-export-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() { _ = os.Remove(tmp) }() // after a successful rename there is nothing left to remove
	if _, err := f.Write(body); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
