package catalogentity

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/yaml"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/sources"
	"github.com/entityhub/entityhub/controllers/sources/sourcetest"
	"github.com/entityhub/entityhub/controllers/watches"
)

// The unit tests of this package (package catalogentity) run the reconciler's steps on
// controller-runtime's fake client, with the source kinds the real families make of the
// CRDs under test/fixtures/crds; the specs of package catalogentity_test run the whole
// manager against an API server.

const testCatalogNamespace = "entityhub-system"

// testNow is the time the reconciler of a unit test reads.
var testNow = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// fixtureKind is the kind family makes of the CRD in test/fixtures/crds/file.
func fixtureKind(t *testing.T, family sources.Family, file string) sources.Kind {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "test", "fixtures", "crds", file))
	if err != nil {
		t.Fatal(err)
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.Unmarshal(data, crd); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	kinds := family.KindsFor(crd)
	if len(kinds) != 1 {
		t.Fatalf("%s makes %d kinds of %s, want 1", family.Name(), len(kinds), file)
	}
	return kinds[0]
}

// fakeWatches is the Watches of a unit test: every kind it holds is Synced unless
// states says otherwise, and Names reads the index from the fake client.
type fakeWatches struct {
	kinds  []sources.Kind
	states map[schema.GroupVersionKind]watches.State
	reader client.Reader
	// listing, when not nil, is what Started returns: a test closes it when the
	// first lists are in.
	listing chan struct{}
}

var _ Watches = &fakeWatches{}

func (w *fakeWatches) Kinds() []sources.Kind {
	out := slices.Clone(w.kinds)
	slices.SortFunc(out, func(a, b sources.Kind) int { return strings.Compare(a.GVK.String(), b.GVK.String()) })
	return out
}

func (w *fakeWatches) KindFor(gk schema.GroupKind) (sources.Kind, bool) {
	for _, k := range w.kinds {
		if k.GVK.GroupKind() == gk {
			return k, true
		}
	}
	return sources.Kind{}, false
}

func (w *fakeWatches) StateOf(gvk schema.GroupVersionKind) (watches.State, string, bool) {
	if !slices.ContainsFunc(w.kinds, func(k sources.Kind) bool { return k.GVK == gvk }) {
		return watches.Syncing, "", false
	}
	if s, ok := w.states[gvk]; ok && s != watches.Synced {
		return s, fmt.Sprintf("%s is %v in this test", gvk.Kind, s), true
	}
	return watches.Synced, "", true
}

// started is closed: the kinds of a unit test are all in.
var started = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (w *fakeWatches) Delivered() bool {
	select {
	case <-w.Started():
		return true
	default:
		return false
	}
}

func (w *fakeWatches) Started() <-chan struct{} {
	if w.listing != nil {
		return w.listing
	}
	return started
}

func (w *fakeWatches) Names(gvk schema.GroupVersionKind, index, value string) ([]types.NamespacedName, error) {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	if err := w.reader.List(context.Background(), list, client.MatchingFields{index: value}); err != nil {
		return nil, err
	}
	var out []types.NamespacedName
	for i := range list.Items {
		out = append(out, client.ObjectKeyFromObject(&list.Items[i]))
	}
	return out, nil
}

// builderIndexer registers the production indexes of entities (indexEntities) with a
// fake client builder.
type builderIndexer struct{ b *fake.ClientBuilder }

func (i builderIndexer) IndexField(_ context.Context, obj client.Object, field string, fn client.IndexerFunc) error {
	i.b.WithIndex(obj, field, fn)
	return nil
}

// unitEnv is a reconciler on a fake client holding objs, with kinds watched.
type unitEnv struct {
	r       *Reconciler
	c       client.WithWatch
	watches *fakeWatches
}

// newUnitEnv returns a reconciler whose client and cache are a fake client holding
// objs and indexed as the manager's cache is: entities by indexEntities, sources of each
// kind by their Backstage label and the kind's own Indexes. Kinds are Synced unless
// states says otherwise. build, when not nil, adds to the client builder.
func newUnitEnv(t *testing.T, kinds []sources.Kind, states map[schema.GroupVersionKind]watches.State,
	build func(*fake.ClientBuilder), objs ...client.Object) *unitEnv {
	t.Helper()
	// A scheme of the test's own: the fake client adds the unstructured kinds it meets.
	scheme := runtime.NewScheme()
	if err := catalogv1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	b := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...)
	if err := indexEntities(context.Background(), builderIndexer{b}); err != nil {
		t.Fatal(err)
	}
	for _, k := range kinds {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(k.GVK)
		b.WithIndex(u, watches.KubernetesIDIndex, func(o client.Object) []string {
			if v := o.GetLabels()[catalogv1alpha1.KubernetesIDLabel]; v != "" {
				return []string{v}
			}
			return nil
		})
		for name, fn := range k.Indexes {
			b.WithIndex(u, name, func(o client.Object) []string { return fn(o.(*unstructured.Unstructured)) })
		}
	}
	if build != nil {
		build(b)
	}
	c := b.Build()
	w := &fakeWatches{kinds: kinds, states: states, reader: c}
	r := &Reconciler{
		client:           c,
		cache:            c,
		watches:          w,
		catalogNamespace: testCatalogNamespace,
		clusterWide:      map[string]bool{testCatalogNamespace: true},
		gracePeriod:      DefaultGracePeriod,
		now:              func() time.Time { return testNow },
		ledger:           &statusLedger{},
		events:           &eventLimiter{},
		verify:           &verification{},
		waiting:          &waitList{keys: map[types.NamespacedName]bool{}},
	}
	return &unitEnv{r: r, c: c, watches: w}
}

// newCollected is what collectSources starts from.
func newCollected() *collected {
	return &collected{perKind: map[string]int{}, index: map[string]int{}, leaf: map[string]bool{}, heldRuns: map[string]bool{}}
}

// decodeSource decodes a source object of kind from YAML, which names no apiVersion or kind.
func decodeSource(t *testing.T, kind sources.Kind, manifest string) *unstructured.Unstructured {
	t.Helper()
	u := sourcetest.DecodeManifest(t, manifest)
	u.SetGroupVersionKind(kind.GVK)
	return u
}

// decodeEntity decodes a CatalogEntity from YAML, which names no apiVersion or kind.
func decodeEntity(t *testing.T, manifest string) *catalogv1alpha1.CatalogEntity {
	t.Helper()
	e := &catalogv1alpha1.CatalogEntity{}
	if err := yaml.Unmarshal([]byte(manifest), e); err != nil {
		t.Fatalf("bad entity in test: %v\n%s", err, manifest)
	}
	return e
}

// sortRequests compares requests as sets: which entities an event concerns, not the
// order the cache lists them in.
var sortRequests = cmpopts.SortSlices(func(a, b reconcile.Request) bool { return a.String() < b.String() })
