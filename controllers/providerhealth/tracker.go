// Package providerhealth says whether the Crossplane provider that installed a managed
// resource kind is up (DESIGN.md §4, "Never green when unsure"). A managed resource's
// conditions stay what its provider last wrote: with the provider down, Ready=True says
// nothing of the cloud resource any more. The Tracker learns which Provider installed
// each kind — the kind's CRD is controlled by a ProviderRevision, which a Provider owns
// — and follows Providers and ProviderRevisions, read as unstructured and stripped to
// the few fields it reads. As a sources.Upstream it has every managed resource of a
// down provider's kinds shown Unknown, saying why.
package providerhealth

import (
	"context"
	"errors"
	"maps"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apiextensions-apiserver/pkg/apihelpers"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/entityhub/entityhub/controllers/sourcekind"
	"github.com/entityhub/entityhub/controllers/sources"
)

// +kubebuilder:rbac:groups=pkg.crossplane.io,resources=providers;providerrevisions,verbs=get;list;watch

// The package manager's kinds the tracker follows, by the name of their CRD: each is
// watched while its CRD is there and Established.
var pkgKinds = map[string]schema.GroupVersionResource{
	resourceProviders + "." + Group: {Group: Group, Version: Version, Resource: resourceProviders},
	resourceRevisions + "." + Group: {Group: Group, Version: Version, Resource: resourceRevisions},
}

// The resources of Providers and ProviderRevisions.
const (
	resourceProviders = "providers"
	resourceRevisions = "providerrevisions"
)

// Options are the Tracker's collaborators.
type Options struct {
	// CRDs is the manager's cache, which holds the CRDs (see sourcekind.StripCRD).
	CRDs cache.Informers
	// Dynamic lists and watches Providers and ProviderRevisions.
	Dynamic dynamic.Interface
	// Resync has every entity recomputed; it is called when a provider goes down or
	// comes back.
	Resync func()
}

// Tracker follows Crossplane's providers and tells, as a sources.Upstream, which
// managed resources have a provider that is down. It starts following only once a
// Crossplane kind is watched (Starter), and watches Providers and ProviderRevisions
// only while their CRDs exist, so that a hub without Crossplane asks for nothing. It
// is a manager.Runnable too, only to end its watches when the manager stops.
type Tracker struct {
	crds    cache.Informers
	dynamic dynamic.Interface
	resync  func()
	log     logr.Logger
	once    sync.Once
	// life ends when the manager stops, and with it every watch of the tracker.
	life    context.Context
	endLife context.CancelFunc

	mu sync.RWMutex
	x  *index
	// down is why each provider that is down is, by name, as of the last change.
	down map[string]string
	// watching holds, by CRD name, how to stop the watch of each package manager kind.
	watching map[string]context.CancelFunc
}

// New returns a Tracker that follows nothing yet.
func New(opts Options) (*Tracker, error) {
	if opts.CRDs == nil || opts.Dynamic == nil || opts.Resync == nil {
		return nil, errors.New("providerhealth: CRDs, Dynamic and Resync are required")
	}
	t := newTracker(opts.Resync)
	t.crds, t.dynamic = opts.CRDs, opts.Dynamic
	return t, nil
}

// newTracker returns a Tracker without informers, for tests that feed it objects.
func newTracker(resync func()) *Tracker {
	t := &Tracker{resync: resync, log: logr.Discard(), x: newIndex(), down: map[string]string{}, watching: map[string]context.CancelFunc{}}
	t.life, t.endLife = context.WithCancel(context.Background())
	return t
}

// Vouch implements sources.Upstream: a managed resource whose kind was installed by a
// provider that is down is not vouched for. Kinds of other families, composites,
// claims and kinds whose provider is not known get no verdict.
func (t *Tracker) Vouch(kind sources.Kind, _ *unstructured.Unstructured, _ sources.Result, _ time.Time) sources.Verdict {
	if kind.Family != sources.FamilyCrossplane {
		return sources.Verdict{}
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	if len(t.down) == 0 {
		return sources.Verdict{}
	}
	p := t.x.providerOf(kind.GVK.GroupKind())
	if p == "" {
		return sources.Verdict{}
	}
	return sources.Verdict{Why: t.down[p]}
}

// Start implements manager.Runnable: it returns when the manager stops, and ends the
// tracker's watches then. The Starter is called by a reconciler, whose context is not
// the manager's.
func (t *Tracker) Start(ctx context.Context) error {
	<-ctx.Done()
	t.endLife()
	return nil
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: a manager that stops
// before it leads must still stop what it started.
func (t *Tracker) NeedLeaderElection() bool { return false }

// Starter returns the sourcekind.Starter of the Crossplane family: it starts following
// CRDs, and through them Providers and ProviderRevisions, when the first Crossplane kind
// is watched.
func (t *Tracker) Starter() sourcekind.Starter { return starter{t} }

type starter struct{ t *Tracker }

// Start implements sourcekind.Starter.
func (s starter) Start(ctx context.Context) { s.t.begin(ctx) }

// begin follows the CRDs of the manager's cache, once.
func (t *Tracker) begin(ctx context.Context) {
	t.once.Do(func() {
		// Not ctx's logger: it names the reconcile that happened to start the tracker.
		t.log = logf.Log.WithName("providerhealth")
		inf, err := t.crds.GetInformer(ctx, &apiextensionsv1.CustomResourceDefinition{}, cache.BlockUntilSynced(false))
		if err == nil {
			_, err = inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
				AddFunc:    func(obj any) { t.crdChanged(obj) },
				UpdateFunc: func(_, obj any) { t.crdChanged(obj) },
				DeleteFunc: func(obj any) { t.crdGone(obj) },
			})
		}
		if err != nil {
			t.log.Error(err, "Cannot follow CRDs; managed resources of a provider that is down will not show Unknown")
			return
		}
		t.log.Info("Following Crossplane providers")
	})
}

// crdChanged records the kind a CRD defines and who installed it, and watches a package
// manager kind while its CRD is Established.
func (t *Tracker) crdChanged(obj any) {
	crd, ok := obj.(*apiextensionsv1.CustomResourceDefinition)
	if !ok {
		return
	}
	if gvr, ok := pkgKinds[crd.Name]; ok {
		t.follow(crd.Name, gvr, crd.DeletionTimestamp.IsZero() && apihelpers.IsCRDConditionTrue(crd, apiextensionsv1.Established) && sources.Serves(crd, Version))
	}
	gk, owner, ok := readCRD(crd)
	if !ok {
		return
	}
	t.update(func(x *index) { x.kinds[gk] = owner })
}

// crdGone forgets a CRD's kind, and stops watching a package manager kind whose CRD
// went.
func (t *Tracker) crdGone(obj any) {
	if d, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	crd, ok := obj.(*apiextensionsv1.CustomResourceDefinition)
	if !ok {
		return
	}
	if gvr, ok := pkgKinds[crd.Name]; ok {
		t.follow(crd.Name, gvr, false)
	}
	if gk, _, ok := readCRD(crd); ok {
		t.update(func(x *index) { delete(x.kinds, gk) })
	}
}

// update applies change to the index, then has every entity recomputed when a provider
// went down or came back, or when the kinds of the providers that are down changed (a
// kind installed, or found to be of a provider that is down).
func (t *Tracker) update(change func(x *index)) {
	t.mu.Lock()
	wasDown := t.down
	var before map[schema.GroupKind]string
	if len(wasDown) > 0 {
		before = t.x.kindsOf(wasDown)
	}
	change(t.x)
	t.down = t.x.down()
	nowDown := t.down
	resync := !sameKeys(wasDown, nowDown) || (len(nowDown) > 0 && !maps.Equal(before, t.x.kindsOf(nowDown)))
	t.mu.Unlock()
	if !resync {
		return
	}
	for name, why := range nowDown {
		if _, was := wasDown[name]; !was {
			t.log.Info("Crossplane provider is down; its managed resources show Unknown", "provider", name, "why", why)
		}
	}
	for name := range wasDown {
		if _, is := nowDown[name]; !is {
			t.log.Info("Crossplane provider is up again", "provider", name)
		}
	}
	t.resync()
}

// sameKeys reports whether a and b have the same keys.
func sameKeys(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}

// snapshot returns why each provider that is down is, for tests.
func (t *Tracker) snapshot() map[string]string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return maps.Clone(t.down)
}
