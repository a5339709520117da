package catalogentity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/membership"
	"github.com/entityhub/entityhub/controllers/sources"
	"github.com/entityhub/entityhub/controllers/sources/crossplane"
	"github.com/entityhub/entityhub/controllers/watches"
)

// crossplaneKinds are the kinds the Crossplane family makes of the fixture CRDs: a
// claim, its cluster-scoped v1 composite, and two managed resources.
type crossplaneKinds struct {
	claim, composite, instance, subnetGroup sources.Kind
}

func newCrossplaneKinds(t *testing.T) crossplaneKinds {
	f := crossplane.Family{}
	return crossplaneKinds{
		claim:       fixtureKind(t, f, "database.example.org_postgresqlinstances.yaml"),
		composite:   fixtureKind(t, f, "database.example.org_xpostgresqlinstances.yaml"),
		instance:    fixtureKind(t, f, "rds.aws.upbound.io_instances.yaml"),
		subnetGroup: fixtureKind(t, f, "rds.aws.upbound.io_subnetgroups.yaml"),
	}
}

func (k crossplaneKinds) all() []sources.Kind {
	return []sources.Kind{k.claim, k.composite, k.instance, k.subnetGroup}
}

// Crossplane conditions, as YAML flow mappings.
const (
	readyTrue     = `{type: Ready, status: "True", reason: Available}`
	readyCreating = `{type: Ready, status: "False", reason: Creating}`
)

func syncFailed(msg string) string {
	return fmt.Sprintf(`{type: Synced, status: "False", reason: ReconcileError, message: %q}`, msg)
}

// xref is a Crossplane reference to a cluster-scoped object, as YAML.
func xref(gvk schema.GroupVersionKind, name string) string {
	return fmt.Sprintf("{apiVersion: %s, kind: %s, name: %s}", gvk.GroupVersion(), gvk.Kind, name)
}

// xpObject is a Crossplane object of kind, in namespace when not empty, with spec (YAML
// fields indented by two spaces) and conditions.
func xpObject(t *testing.T, kind sources.Kind, namespace, name, spec string, conds ...string) *unstructured.Unstructured {
	t.Helper()
	u := decodeSource(t, kind, fmt.Sprintf(`
metadata: {name: %s, namespace: %q}
spec:
%s
status:
  conditions: [%s]
`, name, namespace, spec, strings.Join(conds, ", ")))
	if namespace == "" {
		unstructured.RemoveNestedField(u.Object, "metadata", "namespace")
	}
	return u
}

// claimOf is a claim in namespace payments made of the composite named composite.
func (k crossplaneKinds) claimOf(t *testing.T, name, composite string) *unstructured.Unstructured {
	return xpObject(t, k.claim, "payments", name, "  resourceRef: "+xref(k.composite.GVK, composite), readyTrue)
}

// compositeOf is a v1 composite made of refs.
func (k crossplaneKinds) compositeOf(t *testing.T, name string, refs ...string) *unstructured.Unstructured {
	return xpObject(t, k.composite, "", name, "  resourceRefs: ["+strings.Join(refs, ", ")+"]", readyTrue)
}

// managedResource is a managed resource of kind with conds.
func managedResource(t *testing.T, kind sources.Kind, name string, conds ...string) *unstructured.Unstructured {
	return xpObject(t, kind, "", name, "  forProvider: {}", conds...)
}

// sourceEntry is the entry of a source in status.sources.
func sourceEntry(kind sources.Kind, namespace, name string, h catalogv1alpha1.Health, phase, msg string) catalogv1alpha1.SourceStatus {
	return catalogv1alpha1.SourceStatus{
		ID: membership.SourceID(kind.GVK, namespace, name), APIVersion: kind.GVK.GroupVersion().String(), Kind: kind.GVK.Kind,
		Namespace: namespace, Name: name, Health: h, Phase: phase, Message: msg,
	}
}

// healthyEntry is the entry of a Crossplane object whose Ready condition is True.
func healthyEntry(kind sources.Kind, namespace, name string) catalogv1alpha1.SourceStatus {
	return sourceEntry(kind, namespace, name, catalogv1alpha1.HealthHealthy, "Available", "")
}

// withTree is a root's entry with its tree's ready count and message.
func withTree(st catalogv1alpha1.SourceStatus, ready, msg string) catalogv1alpha1.SourceStatus {
	st.Ready, st.Message = ready, msg
	return st
}

// errCacheRead is a cache that fails to read.
var errCacheRead = errors.New("cache read failed")

func TestAddTree(t *testing.T) {
	k := newCrossplaneKinds(t)
	const x = "payments-db-x7k2p"
	vpc := schema.GroupVersionKind{Group: "ec2.aws.upbound.io", Version: "v1beta1", Kind: "VPC"}

	type args struct {
		// objects are in the cluster; roots are added, in order, as members of one entity.
		objects []*unstructured.Unstructured
		roots   []*unstructured.Unstructured
		states  map[schema.GroupVersionKind]watches.State
		// sources is how many sources the entity has before its roots.
		sources int
		// unreadable names an object the cache fails to read.
		unreadable string
	}
	type want struct {
		// statuses are the entries after the entity's first sources.
		statuses []catalogv1alpha1.SourceStatus
		err      error
	}
	tests := map[string]struct {
		reason string
		args   args
		want   want
	}{
		"ClaimCompositeManaged": {
			reason: "A claim is made of its composite, which is made of managed resources: all are sources, the root counts the leaves and names the one not ready.",
			args: args{
				objects: []*unstructured.Unstructured{
					k.compositeOf(t, x, xref(k.subnetGroup.GVK, x+"-subnets"), xref(k.instance.GVK, x+"-primary"), xref(k.instance.GVK, x+"-replica")),
					managedResource(t, k.subnetGroup, x+"-subnets", readyTrue),
					managedResource(t, k.instance, x+"-primary", readyTrue),
					managedResource(t, k.instance, x+"-replica", readyCreating),
				},
				roots: []*unstructured.Unstructured{k.claimOf(t, "payments-db", x)},
			},
			want: want{statuses: []catalogv1alpha1.SourceStatus{
				withTree(healthyEntry(k.claim, "payments", "payments-db"), "2/3",
					"2/3 ready; Instance payments-db-x7k2p-replica is Progressing (Creating)"),
				healthyEntry(k.composite, "", x),
				healthyEntry(k.subnetGroup, "", x+"-subnets"),
				healthyEntry(k.instance, "", x+"-primary"),
				sourceEntry(k.instance, "", x+"-replica", catalogv1alpha1.HealthProgressing, "Creating", ""),
			}},
		},
		"MissingPart": {
			reason: "A part that is referenced but not in the cluster is reported Missing, saying what references it, and counts as not ready.",
			args: args{
				objects: []*unstructured.Unstructured{managedResource(t, k.subnetGroup, x+"-subnets", readyTrue)},
				roots:   []*unstructured.Unstructured{k.compositeOf(t, x, xref(k.subnetGroup.GVK, x+"-subnets"), xref(k.instance.GVK, x+"-primary"))},
			},
			want: want{statuses: []catalogv1alpha1.SourceStatus{
				withTree(healthyEntry(k.composite, "", x), "1/2",
					"1/2 ready; Instance payments-db-x7k2p-primary is Missing: referenced by XPostgreSQLInstance payments-db-x7k2p but not found"),
				healthyEntry(k.subnetGroup, "", x+"-subnets"),
				sourceEntry(k.instance, "", x+"-primary", catalogv1alpha1.HealthMissing, "",
					"referenced by XPostgreSQLInstance payments-db-x7k2p but not found"),
			}},
		},
		"KindNotWatched": {
			reason: "A part of a kind that is not watched is skipped: entityhub has nothing true to say about it.",
			args: args{
				objects: []*unstructured.Unstructured{managedResource(t, k.instance, x+"-primary", readyTrue)},
				roots:   []*unstructured.Unstructured{k.compositeOf(t, x, xref(vpc, x+"-vpc"), xref(k.instance.GVK, x+"-primary"))},
			},
			want: want{statuses: []catalogv1alpha1.SourceStatus{
				withTree(healthyEntry(k.composite, "", x), "1/1", ""),
				healthyEntry(k.instance, "", x+"-primary"),
			}},
		},
		// A part of a kind that cannot be read is skipped by the walk; what was last known
		// of it is carried from the entity's last status (carryUnreadable).
		"KindNotSynced": {
			reason: "A part of a kind still being listed is read as far as it is; one of a kind that cannot be read is skipped.",
			args: args{
				objects: []*unstructured.Unstructured{
					managedResource(t, k.subnetGroup, x+"-subnets", readyCreating),
					managedResource(t, k.instance, x+"-primary", readyCreating),
				},
				roots: []*unstructured.Unstructured{k.compositeOf(t, x, xref(k.subnetGroup.GVK, x+"-subnets"), xref(k.instance.GVK, x+"-primary"))},
				states: map[schema.GroupVersionKind]watches.State{
					k.subnetGroup.GVK: watches.Syncing,
					k.instance.GVK:    watches.Unavailable,
				},
			},
			want: want{statuses: []catalogv1alpha1.SourceStatus{
				withTree(healthyEntry(k.composite, "", x), "0/1",
					"0/1 ready; SubnetGroup "+x+"-subnets is Progressing (Creating)"),
				sourceEntry(k.subnetGroup, "", x+"-subnets", catalogv1alpha1.HealthProgressing, "Creating", ""),
			}},
		},
		"Cycle": {
			reason: "Composites that reference each other are each read once, and the resource below them is counted once.",
			args: args{
				objects: []*unstructured.Unstructured{
					k.compositeOf(t, "b", xref(k.composite.GVK, "a"), xref(k.instance.GVK, "db")),
					managedResource(t, k.instance, "db", readyTrue),
				},
				roots: []*unstructured.Unstructured{k.compositeOf(t, "a", xref(k.composite.GVK, "b"))},
			},
			want: want{statuses: []catalogv1alpha1.SourceStatus{
				withTree(healthyEntry(k.composite, "", "a"), "1/1", ""),
				healthyEntry(k.composite, "", "b"),
				healthyEntry(k.instance, "", "db"),
			}},
		},
		"SharedPart": {
			reason: "A resource two roots are made of is one source, counted in the tree of each.",
			args: args{
				objects: []*unstructured.Unstructured{managedResource(t, k.instance, "shared", readyCreating)},
				roots: []*unstructured.Unstructured{
					k.compositeOf(t, "a", xref(k.instance.GVK, "shared")),
					k.compositeOf(t, "b", xref(k.instance.GVK, "shared")),
				},
			},
			want: want{statuses: []catalogv1alpha1.SourceStatus{
				withTree(healthyEntry(k.composite, "", "a"), "0/1", "0/1 ready; Instance shared is Progressing (Creating)"),
				sourceEntry(k.instance, "", "shared", catalogv1alpha1.HealthProgressing, "Creating", ""),
				withTree(healthyEntry(k.composite, "", "b"), "0/1", "0/1 ready; Instance shared is Progressing (Creating)"),
			}},
		},
		"WorstPartNamed": {
			reason: "The root names its worst part, not the first one that is not ready: a resource waiting on a broken one is not the cause.",
			args: args{
				objects: []*unstructured.Unstructured{
					managedResource(t, k.instance, "waiting", readyCreating),
					managedResource(t, k.instance, "broken", syncFailed("access denied")),
				},
				roots: []*unstructured.Unstructured{k.compositeOf(t, x, xref(k.instance.GVK, "waiting"), xref(k.instance.GVK, "broken"))},
			},
			want: want{statuses: []catalogv1alpha1.SourceStatus{
				withTree(healthyEntry(k.composite, "", x), "0/2", "0/2 ready; Instance broken is Degraded (ReconcileError): access denied"),
				sourceEntry(k.instance, "", "waiting", catalogv1alpha1.HealthProgressing, "Creating", ""),
				sourceEntry(k.instance, "", "broken", catalogv1alpha1.HealthDegraded, "ReconcileError", "access denied"),
			}},
		},
		"FirstOfEquals": {
			reason: "Of parts equally bad, the root names the first in reference order.",
			args: args{
				objects: []*unstructured.Unstructured{
					managedResource(t, k.instance, "first", syncFailed("quota exceeded")),
					managedResource(t, k.instance, "second", syncFailed("access denied")),
				},
				roots: []*unstructured.Unstructured{k.compositeOf(t, x, xref(k.instance.GVK, "first"), xref(k.instance.GVK, "second"))},
			},
			want: want{statuses: []catalogv1alpha1.SourceStatus{
				withTree(healthyEntry(k.composite, "", x), "0/2", "0/2 ready; Instance first is Degraded (ReconcileError): quota exceeded"),
				sourceEntry(k.instance, "", "first", catalogv1alpha1.HealthDegraded, "ReconcileError", "quota exceeded"),
				sourceEntry(k.instance, "", "second", catalogv1alpha1.HealthDegraded, "ReconcileError", "access denied"),
			}},
		},
		"RootOwnMessageKept": {
			reason: "A root that has a message of its own keeps it, before what its tree says.",
			args: args{
				objects: []*unstructured.Unstructured{managedResource(t, k.instance, "db", syncFailed("access denied"))},
				roots: []*unstructured.Unstructured{xpObject(t, k.composite, "", x, "  resourceRefs: ["+xref(k.instance.GVK, "db")+"]",
					`{type: Ready, status: "False", reason: Creating, message: "Unready resources: db"}`)},
			},
			want: want{statuses: []catalogv1alpha1.SourceStatus{
				withTree(sourceEntry(k.composite, "", x, catalogv1alpha1.HealthProgressing, "Creating", ""), "0/1",
					"Unready resources: db; 0/1 ready; Instance db is Degraded (ReconcileError): access denied"),
				sourceEntry(k.instance, "", "db", catalogv1alpha1.HealthDegraded, "ReconcileError", "access denied"),
			}},
		},
		"ReadError": {
			reason: "A part the cache fails to read fails the walk: its entity's status is not written from half a tree.",
			args: args{
				objects: []*unstructured.Unstructured{
					managedResource(t, k.subnetGroup, x+"-subnets", readyTrue),
					managedResource(t, k.instance, x+"-primary", readyTrue),
				},
				roots:      []*unstructured.Unstructured{k.compositeOf(t, x, xref(k.subnetGroup.GVK, x+"-subnets"), xref(k.instance.GVK, x+"-primary"))},
				unreadable: x + "-primary",
			},
			want: want{
				statuses: []catalogv1alpha1.SourceStatus{healthyEntry(k.composite, "", x), healthyEntry(k.subnetGroup, "", x+"-subnets")},
				err:      errCacheRead,
			},
		},
		"NodeBound": {
			reason: "Once the entity has maxTreeNodes sources the walk stops: a runaway composition cannot make a reconcile unbounded.",
			args: args{
				objects: []*unstructured.Unstructured{
					managedResource(t, k.instance, "one", readyTrue),
					managedResource(t, k.instance, "two", readyTrue),
				},
				roots:   []*unstructured.Unstructured{k.compositeOf(t, x, xref(k.instance.GVK, "one"), xref(k.instance.GVK, "two"))},
				sources: maxTreeNodes - 2,
			},
			want: want{statuses: []catalogv1alpha1.SourceStatus{
				withTree(healthyEntry(k.composite, "", x), "1/1", ""),
				healthyEntry(k.instance, "", "one"),
			}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var objs []client.Object
			for _, o := range append(tc.args.objects, tc.args.roots...) {
				objs = append(objs, o.DeepCopy())
			}
			failing := func(b *fake.ClientBuilder) {
				b.WithInterceptorFuncs(interceptor.Funcs{
					Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
						if key.Name == tc.args.unreadable {
							return errCacheRead
						}
						return c.Get(ctx, key, obj, opts...)
					},
				})
			}
			env := newUnitEnv(t, k.all(), tc.args.states, failing, objs...)
			c := newCollected()
			for i := range tc.args.sources {
				c.append(catalogv1alpha1.SourceStatus{ID: fmt.Sprintf("example.org/Thing/default/thing-%d", i)})
			}
			var err error
			for _, root := range tc.args.roots {
				kind, _ := env.watches.KindFor(root.GroupVersionKind().GroupKind())
				if err = env.r.addRoot(context.Background(), c, kind, root); err != nil {
					break
				}
			}
			if diff := cmp.Diff(tc.want.err, err, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("\n%s\naddRoot(...): -want error, +got error:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.want.statuses, c.statuses[tc.args.sources:]); diff != "" {
				t.Errorf("\n%s\naddRoot(...): -want statuses, +got statuses:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestTreeNote checks the counting rule on its own: composites in between are not
// counted toward ready/total, but can still be what is named.
func TestTreeNote(t *testing.T) {
	part := func(name string, h catalogv1alpha1.Health) catalogv1alpha1.SourceStatus {
		return catalogv1alpha1.SourceStatus{Name: name, Health: h}
	}
	type note struct {
		st   catalogv1alpha1.SourceStatus
		leaf bool
	}
	tests := map[string]struct {
		reason string
		notes  []note
		want   tree
	}{
		"Empty": {
			reason: "Nothing noted: nothing counted, nothing failing.",
			want:   tree{},
		},
		"LeavesCounted": {
			reason: "Leaves count toward total, healthy ones toward ready.",
			notes:  []note{{part("a", catalogv1alpha1.HealthHealthy), true}, {part("b", catalogv1alpha1.HealthProgressing), true}},
			want:   tree{total: 2, ready: 1, failing: &catalogv1alpha1.SourceStatus{Name: "b", Health: catalogv1alpha1.HealthProgressing}},
		},
		"CompositeNotCounted": {
			reason: "A composite is not counted, but a failing one is named.",
			notes:  []note{{part("x", catalogv1alpha1.HealthDegraded), false}, {part("a", catalogv1alpha1.HealthHealthy), true}},
			want:   tree{total: 1, ready: 1, failing: &catalogv1alpha1.SourceStatus{Name: "x", Health: catalogv1alpha1.HealthDegraded}},
		},
		"WorstThenFirst": {
			reason: "The worst is named; of equals, the first.",
			notes: []note{
				{part("a", catalogv1alpha1.HealthProgressing), true},
				{part("b", catalogv1alpha1.HealthMissing), true},
				{part("c", catalogv1alpha1.HealthMissing), true},
				{part("d", catalogv1alpha1.HealthSuspended), true},
			},
			want: tree{total: 4, failing: &catalogv1alpha1.SourceStatus{Name: "b", Health: catalogv1alpha1.HealthMissing}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := tree{}
			for _, n := range tc.notes {
				got.note(n.st, n.leaf)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(tree{})); diff != "" {
				t.Errorf("\n%s\nnote(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
