package trace

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/yaml"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from what the tests print")

// now is the clock of every golden file: some minutes after the fixtures' statuses
// were written.
var now = time.Date(2026, 11, 30, 5, 0, 0, 0, time.UTC)

func newScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := catalogv1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// readEntity reads testdata/<name>.input.yaml: a CatalogEntity as the demo's manager
// wrote it.
func readEntity(t *testing.T, name string) *catalogv1alpha1.CatalogEntity {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".input.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	e := &catalogv1alpha1.CatalogEntity{}
	if err := yaml.UnmarshalStrict(b, e); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return e
}

// golden compares got with testdata/<name>.golden, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/internal/trace -update to write it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got; go test ./cmd/internal/trace -update rewrites it):\n%s", path, diff)
	}
}

// sampleObjects is an ObjectReader over testdata/live-objects.yaml; the kinds of
// database.example.org and rds.aws.upbound.io are Crossplane's.
type sampleObjects map[string]*unstructured.Unstructured

func readSampleObjects(t *testing.T) sampleObjects {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "live-objects.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	out := sampleObjects{}
	dec := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			break
		}
		gvk := u.GroupVersionKind()
		out[objectKey(gvk.Group, gvk.Kind, u.GetNamespace(), u.GetName())] = u
	}
	return out
}

func (s sampleObjects) Read(_ context.Context, apiVersion, kind, namespace, name string) (*unstructured.Unstructured, bool, error) {
	group := groupOf(apiVersion)
	u, ok := s[objectKey(group, kind, namespace, name)]
	if !ok {
		return nil, false, apierrors.NewNotFound(schema.GroupResource{Group: group, Resource: strings.ToLower(kind) + "s"}, name)
	}
	return u.DeepCopy(), group == "database.example.org" || group == "rds.aws.upbound.io", nil
}

func TestGolden(t *testing.T) {
	tests := map[string]struct {
		input string
		p     Printer
		live  bool
	}{
		"healthy-component-two-clusters": {input: "healthy-component"},
		"degraded-component":             {input: "payments-api"},
		"degraded-component-color":       {input: "payments-api", p: Printer{Color: true}},
		"crossplane-claim-tree":          {input: "payments-db"},
		"crossplane-claim-tree-wide":     {input: "payments-db", p: Printer{Output: OutputWide}},
		"crossplane-claim-tree-live":     {input: "payments-db", p: Printer{Live: true}, live: true},
		"runs":                           {input: "billing-report"},
		"runs-wide":                      {input: "billing-report", p: Printer{Output: OutputWide}},
		"json":                           {input: "payments-api", p: Printer{Output: OutputJSON}},
		"yaml":                           {input: "billing-report", p: Printer{Output: OutputYAML}},
		"yaml-live":                      {input: "payments-db", p: Printer{Output: OutputYAML, Live: true}, live: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e := readEntity(t, tc.input)
			c := fake.NewClientBuilder().WithScheme(newScheme(t)).WithObjects(e).Build()
			var out bytes.Buffer
			tc.p.Now = func() time.Time { return now }
			tr := &Tracer{Client: c, Namespace: e.Namespace, Out: &out, Printer: tc.p}
			if tc.live {
				tr.Objects = readSampleObjects(t)
			}
			if err := tr.Once(context.Background(), e.Name); err != nil {
				t.Fatal(err)
			}
			golden(t, name, out.String())
		})
	}
}

func TestNotFoundSuggestsCloseNames(t *testing.T) {
	var objs []client.Object
	for _, in := range []string{"payments-api", "payments-db", "billing-report", "healthy-component"} {
		objs = append(objs, readEntity(t, in))
	}
	elsewhere := readEntity(t, "payments-api")
	elsewhere.Namespace = "team-payments"
	objs = append(objs, elsewhere)
	c := fake.NewClientBuilder().WithScheme(newScheme(t)).WithObjects(objs...).Build()

	var got strings.Builder
	for _, q := range []struct{ namespace, name string }{
		{"entityhub-system", "paymnts-api"}, // a letter left out
		{"entityhub-system", "payments"},    // a prefix of several
		{"team-payments", "payments-db"},    // the name exists, in another namespace
		{"entityhub-system", "inventory"},   // nothing close
	} {
		tr := &Tracer{Client: c, Namespace: q.namespace, Out: &bytes.Buffer{}, Printer: Printer{Now: time.Now}}
		err := tr.Once(context.Background(), q.name)
		if err == nil {
			t.Fatalf("trace %s -n %s: no error", q.name, q.namespace)
		}
		got.WriteString("$ entityhub trace " + q.name + " -n " + q.namespace + "\n" + err.Error() + "\n\n")
	}
	golden(t, "not-found", got.String())
}

func TestForbiddenSaysWhatToAskFor(t *testing.T) {
	forbidden := apierrors.NewForbidden(schema.GroupResource{Group: catalogv1alpha1.Group, Resource: "catalogentities"}, "payments-api",
		errors.New(`User "alice" cannot get resource "catalogentities" in API group "catalog.entityhub.dev" in the namespace "entityhub-system"`))
	c := fake.NewClientBuilder().WithScheme(newScheme(t)).WithInterceptorFuncs(interceptor.Funcs{
		Get: func(context.Context, client.WithWatch, client.ObjectKey, client.Object, ...client.GetOption) error {
			return forbidden
		},
	}).Build()
	tr := &Tracer{Client: c, Namespace: "entityhub-system", Out: &bytes.Buffer{}, Printer: Printer{Now: time.Now}}
	err := tr.Once(context.Background(), "payments-api")
	want := `you (alice) may not get catalogentities.catalog.entityhub.dev in namespace entityhub-system. ` +
		`Ask for a Role or ClusterRole that allows "get" on catalogentities.catalog.entityhub.dev there ` +
		`(where entityhub is installed, the built-in view role includes reading catalogentities); check with:
  kubectl auth can-i get catalogentities.catalog.entityhub.dev -n entityhub-system`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}

	// A refusal worded otherwise still names the verb asked and the resource of its details.
	err = Forbidden(apierrors.NewForbidden(schema.GroupResource{Group: "rds.aws.upbound.io", Resource: "instances"}, "x", errors.New("denied")), "get", "")
	if !strings.Contains(err.Error(), "you may not get instances.rds.aws.upbound.io in every namespace") ||
		!strings.Contains(err.Error(), "kubectl auth can-i get instances.rds.aws.upbound.io -A") {
		t.Errorf("got %v", err)
	}
}

func TestParse(t *testing.T) {
	tests := map[string]struct {
		args    []string
		want    options
		wantErr string
	}{
		"flags after the name": {
			args: []string{"payments-api", "-n", "team-a", "-o", "wide", "--live", "-w"},
			want: options{name: "payments-api", namespace: "team-a", output: "wide", live: true, watch: true, color: "auto"},
		},
		"flags before the name, long forms": {
			args: []string{"--namespace=team-a", "--output", "json", "--watch", "--color=never", "ce/payments-api"},
			want: options{name: "payments-api", namespace: "team-a", output: "json", watch: true, color: "never"},
		},
		"kubectl's resource/name": {
			args: []string{"catalogentity.catalog.entityhub.dev/payments-db"},
			want: options{name: "payments-db", color: "auto"},
		},
		"no name":         {args: []string{"-o", "wide"}, wantErr: "name one CatalogEntity"},
		"two names":       {args: []string{"a", "b"}, wantErr: "name one CatalogEntity"},
		"unknown output":  {args: []string{"a", "-o", "table"}, wantErr: `-o "table": choose wide, json or yaml`},
		"bad namespace":   {args: []string{"a", "-n", "Team_A"}, wantErr: `--namespace "Team_A"`},
		"bad color":       {args: []string{"a", "--color", "yes"}, wantErr: `--color "yes"`},
		"not a name":      {args: []string{"Payments API"}, wantErr: "is not a CatalogEntity name"},
		"unknown flag":    {args: []string{"a", "--all"}, wantErr: "flag provided but not defined: -all"},
		"help is no fail": {args: []string{"-h"}, wantErr: flag.ErrHelp.Error()},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			o, err := parse("entityhub trace", tc.args, &bytes.Buffer{})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, *o, cmp.AllowUnexported(options{})); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNamespaceFromKubeconfig(t *testing.T) {
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "config")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters:
- name: hub
  cluster: {server: "https://127.0.0.1:6443"}
users:
- name: me
  user: {token: t}
contexts:
- name: team
  context: {cluster: hub, user: me, namespace: team-a}
- name: plain
  context: {cluster: hub, user: me}
current-context: team
`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ context, flag, want string }{
		{"", "", "team-a"},
		{"plain", "", DefaultNamespace},
		{"team", "other", "other"},
	} {
		o := &options{kubeconfig: kubeconfig, context: tc.context, namespace: tc.flag}
		cfg, ns, err := o.config()
		if err != nil {
			t.Fatal(err)
		}
		if ns != tc.want || cfg.UserAgent != "entityhub-trace" {
			t.Errorf("context %q, -n %q: namespace %q, want %q", tc.context, tc.flag, ns, tc.want)
		}
	}
}

func TestSuggestAndLevenshtein(t *testing.T) {
	if d := levenshtein("kitten", "sitting"); d != 3 {
		t.Errorf("levenshtein(kitten, sitting) = %d, want 3", d)
	}
	items := make([]metav1.PartialObjectMetadata, 0, 8)
	for _, n := range []string{"a1", "a2", "a3", "a4", "a5", "a6", "ab", "zzzzzz"} {
		e := metav1.PartialObjectMetadata{}
		e.Name, e.Namespace = n, "ns"
		items = append(items, e)
	}
	got := Suggest("a", "ns", items)
	if len(got) != maxSuggestions || got[0] != "a1" {
		t.Errorf("Suggest(a) = %v, want five, a1 first", got)
	}
}
