package providerhealth

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	toolscache "k8s.io/client-go/tools/cache"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/sources"
	"github.com/entityhub/entityhub/controllers/sources/sourcetest"
)

// The Tracker is the manager's Upstream.
var _ sources.Upstream = (*Tracker)(nil)

var (
	providersGVR = pkgKinds["providers.pkg.crossplane.io"]
	revisionsGVR = pkgKinds["providerrevisions.pkg.crossplane.io"]
)

// instanceKind is the Crossplane kind of rdsInstance, as the registry gives it.
var instanceKind = sources.Kind{Family: sources.FamilyCrossplane}.WithGVK(rdsInstance.Group, "v1beta1", rdsInstance.Kind)

// healthyInstance is what the Crossplane mapper reads of a Ready managed resource.
var healthyInstance = sources.Result{Health: catalogv1alpha1.HealthHealthy, Phase: "Available"}

// why returns what t says of a healthy managed resource of kind.
func why(t *Tracker, kind sources.Kind) string {
	return t.Vouch(kind, &unstructured.Unstructured{}, healthyInstance, time.Now()).Why
}

func TestTrackerTellsTransitions(t *testing.T) {
	ctx := context.Background()
	resyncs := 0
	tr := newTracker(func() { resyncs++ })
	const p, rev = "provider-aws-rds", "provider-aws-rds-5e8f"
	unhealthy := func(msg string) *unstructured.Unstructured {
		return providerObj(t, p, rev, cond("Healthy", "False", "UnhealthyPackageRevision", msg))
	}
	steps := []struct {
		name        string
		do          func()
		wantResyncs int
		wantWhy     string
	}{
		{"a kind and its revision", func() {
			tr.crdChanged(crd(managed, mrd, revisionRef(rev, true)))
			tr.objectChanged(ctx, revisionsGVR, revisionObj(t, rev, p, "Active", nil, runtimeHealthy))
		}, 0, ""},
		{"a healthy provider", func() { tr.objectChanged(ctx, providersGVR, providerObj(t, p, rev, healthy)) }, 0, ""},
		{"the provider goes down", func() { tr.objectChanged(ctx, providersGVR, unhealthy("no pods")) }, 1,
			"provider provider-aws-rds is unhealthy (UnhealthyPackageRevision: no pods)"},
		{"a new message, still down", func() { tr.objectChanged(ctx, providersGVR, unhealthy("still no pods")) }, 1,
			"provider provider-aws-rds is unhealthy (UnhealthyPackageRevision: still no pods)"},
		{"a kind of another provider", func() {
			other := crd(managed, revisionRef("provider-aws-s3-77aa", true))
			other.Name, other.Spec.Group, other.Spec.Names.Kind = "buckets.s3.aws.upbound.io", "s3.aws.upbound.io", "Bucket"
			tr.crdChanged(other)
		}, 1, "provider provider-aws-rds is unhealthy (UnhealthyPackageRevision: still no pods)"},
		{"the provider comes back", func() { tr.objectChanged(ctx, providersGVR, providerObj(t, p, rev, healthy)) }, 2, ""},
		{"its runtime goes down", func() {
			tr.objectChanged(ctx, revisionsGVR, revisionObj(t, rev, p, "Active", nil, cond("RuntimeHealthy", "False", "UnhealthyPackageRevision", "")))
		}, 3, "provider provider-aws-rds runtime is unhealthy (UnhealthyPackageRevision)"},
		{"its kind goes", func() {
			tr.crdGone(toolscache.DeletedFinalStateUnknown{Obj: crd(managed, mrd, revisionRef(rev, true))})
		}, 4, ""},
		{"its kind comes back", func() { tr.crdChanged(crd(managed, mrd, revisionRef(rev, true))) }, 5,
			"provider provider-aws-rds runtime is unhealthy (UnhealthyPackageRevision)"},
		{"the provider is deleted", func() { tr.objectGone(ctx, providersGVR, providerObj(t, p, rev, healthy)) }, 6, ""},
	}
	for _, s := range steps {
		s.do()
		if resyncs != s.wantResyncs {
			t.Errorf("after %s: %d resyncs, want %d", s.name, resyncs, s.wantResyncs)
		}
		if diff := cmp.Diff(s.wantWhy, why(tr, instanceKind)); diff != "" {
			t.Errorf("after %s: Vouch().Why: -want, +got:\n%s", s.name, diff)
		}
	}
}

func TestVouchOnlyCrossplaneKindsOfADownProvider(t *testing.T) {
	ctx := context.Background()
	tr := newTracker(func() {})
	tr.crdChanged(crd(managed, revisionRef("provider-aws-rds-5e8f", true), providerRef("provider-aws-rds", false)))
	tr.objectChanged(ctx, providersGVR, providerObj(t, "provider-aws-rds", "", cond("Healthy", "False", "UnhealthyPackageRevision", "")))
	cases := map[string]struct {
		kind sources.Kind
		want string
	}{
		"ManagedResourceOfTheProvider": {instanceKind, "provider provider-aws-rds is unhealthy (UnhealthyPackageRevision)"},
		"AnotherFamily":                {sources.Kind{Family: sources.FamilyConfig}.WithGVK(rdsInstance.Group, "v1beta1", rdsInstance.Kind), ""},
		"KindOfNoKnownProvider": {
			sources.Kind{Family: sources.FamilyCrossplane}.WithGVK("database.example.org", "v1alpha1", "XPostgreSQLInstance"), "",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(sources.Verdict{Why: tc.want}, tr.Vouch(tc.kind, nil, healthyInstance, time.Now())); diff != "" {
				t.Errorf("Vouch(): -want, +got:\n%s", diff)
			}
		})
	}
}

func TestStoppedWatchIsForgotten(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	resyncs := 0
	tr := newTracker(func() { resyncs++ })
	tr.crdChanged(crd(managed, providerRef("provider-aws-rds", false)))
	tr.objectChanged(ctx, providersGVR, providerObj(t, "provider-aws-rds", "", cond("Healthy", "False", "UnhealthyPackageRevision", "")))
	if got := tr.snapshot(); len(got) != 1 {
		t.Fatalf("down providers = %v, want one", got)
	}
	stopped := false
	tr.watching["providers.pkg.crossplane.io"] = func() { stopped = true; cancel() }

	providersCRD := &apiextensionsv1.CustomResourceDefinition{ObjectMeta: metav1.ObjectMeta{Name: "providers.pkg.crossplane.io"}}
	tr.crdGone(providersCRD)
	if !stopped || len(tr.watching) != 0 {
		t.Errorf("the watch of Providers was not stopped with its CRD")
	}
	if got := tr.snapshot(); len(got) != 0 || resyncs != 2 {
		t.Errorf("after the Provider CRD went: down = %v with %d resyncs, want none down and 2 resyncs", got, resyncs)
	}
	// An event the stopped informer still delivers is left alone.
	tr.objectChanged(ctx, providersGVR, providerObj(t, "provider-aws-rds", "", cond("Healthy", "False", "UnhealthyPackageRevision", "")))
	if got := tr.snapshot(); len(got) != 0 {
		t.Errorf("a stopped watch's event was recorded: down = %v", got)
	}
}

func TestTransform(t *testing.T) {
	in := sourcetest.DecodeManifest(t, `
apiVersion: pkg.crossplane.io/v1
kind: ProviderRevision
metadata:
  name: provider-aws-rds-5e8f
  uid: 3f7d
  resourceVersion: "812"
  generation: 2
  labels: {pkg.crossplane.io/package: provider-aws-rds}
  annotations: {kubectl.kubernetes.io/last-applied-configuration: "{}"}
  managedFields: [{manager: crossplane}]
  ownerReferences: [{apiVersion: pkg.crossplane.io/v1, kind: Provider, name: provider-aws-rds, uid: 0f3c, controller: true, blockOwnerDeletion: true}]
spec: {desiredState: Active, image: xpkg.example/upbound/provider-aws-rds:v1.20.0, revision: 2, ignoreCrossplaneConstraints: false}
status:
  conditions:
  - {type: RuntimeHealthy, status: "True", reason: HealthyPackageRevision, message: ok, lastTransitionTime: "2026-01-12T09:00:05Z", observedGeneration: 2}
  currentRevision: provider-aws-rds-5e8f
  foundDependencies: 1
  capabilities: [safe-start]
  objectRefs:
  - {apiVersion: apiextensions.crossplane.io/v1alpha1, kind: ManagedResourceDefinition, name: instances.rds.aws.upbound.io, uid: 9a1b}
`)
	want := sourcetest.DecodeManifest(t, `
apiVersion: pkg.crossplane.io/v1
kind: ProviderRevision
metadata:
  name: provider-aws-rds-5e8f
  resourceVersion: "812"
  ownerReferences: [{apiVersion: pkg.crossplane.io/v1, kind: Provider, name: provider-aws-rds, controller: true}]
spec: {desiredState: Active}
status:
  conditions:
  - {type: RuntimeHealthy, status: "True", reason: HealthyPackageRevision, message: ok}
  currentRevision: provider-aws-rds-5e8f
  objectRefs:
  - {kind: ManagedResourceDefinition, name: instances.rds.aws.upbound.io}
`)
	before := readRevision(in)
	for pass := 1; pass <= 2; pass++ {
		out, err := Transform(in)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want.Object, out.(*unstructured.Unstructured).Object); diff != "" {
			t.Errorf("pass %d: Transform(): -want, +got:\n%s", pass, diff)
		}
	}
	if diff := cmp.Diff(before, readRevision(in), cmp.AllowUnexported(revision{})); diff != "" {
		t.Errorf("what the tracker reads changed: -before, +after:\n%s", diff)
	}
	for _, obj := range []any{"not an object", toolscache.DeletedFinalStateUnknown{Key: "x"}, (*unstructured.Unstructured)(nil)} {
		if out, err := Transform(obj); err != nil || !cmp.Equal(out, obj) {
			t.Errorf("Transform(%#v) = %#v, %v; want it passed through", obj, out, err)
		}
	}
}
