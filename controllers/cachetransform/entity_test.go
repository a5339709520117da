package cachetransform

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"unsafe"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

// decodedEntity returns an entity with n sources decoded from JSON, as the cache gets it.
func decodedEntity(t *testing.T, name string, n int) *catalogv1alpha1.CatalogEntity {
	t.Helper()
	e := catalogv1alpha1.CatalogEntity{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "catalog"}}
	for i := range n {
		e.Status.Sources = append(e.Status.Sources, catalogv1alpha1.SourceStatus{
			ID: fmt.Sprintf("rds.aws.upbound.io/Instance//%s-%d", name, i), APIVersion: "rds.aws.upbound.io/v1beta1",
			Kind: "Instance", Name: fmt.Sprintf("%s-%d", name, i), Cluster: "in-cluster",
			Health: catalogv1alpha1.HealthHealthy, Sync: catalogv1alpha1.SyncSynced, Phase: "Available",
		})
	}
	e.Status.Conditions = []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Healthy"}}
	data, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var out catalogv1alpha1.CatalogEntity
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

// sharesBytes reports whether a and b are one copy of a string.
func sharesBytes(a, b string) bool { return unsafe.StringData(a) == unsafe.StringData(b) }

func TestCompactEntity(t *testing.T) {
	words := NewStrings(100)
	a, b := decodedEntity(t, "a", 45), decodedEntity(t, "b", 45)
	wantA := a.DeepCopy()
	if cap(a.Status.Sources) <= len(a.Status.Sources) {
		t.Fatalf("the decoder left no spare capacity (cap %d, len %d); the test shows nothing", cap(a.Status.Sources), len(a.Status.Sources))
	}
	if sharesBytes(a.Status.Sources[0].Kind, b.Status.Sources[0].Kind) {
		t.Fatal("decoded entities share strings already; the test shows nothing")
	}
	CompactEntity(a, words)
	CompactEntity(b, words)

	if !reflect.DeepEqual(a, wantA) {
		t.Errorf("the entity changed:\n got %+v\nwant %+v", a.Status, wantA.Status)
	}
	if c := cap(a.Status.Sources); c-len(a.Status.Sources) > len(a.Status.Sources)/4 {
		t.Errorf("sources keep capacity %d for %d entries", c, len(a.Status.Sources))
	}
	sa, sb := a.Status.Sources[0], b.Status.Sources[3]
	for _, pair := range [][2]string{
		{sa.APIVersion, sb.APIVersion}, {sa.Kind, sb.Kind}, {sa.Cluster, sb.Cluster}, {string(sa.Health), string(sb.Health)},
		{string(sa.Sync), string(sb.Sync)}, {sa.Phase, sb.Phase}, {a.Status.Conditions[0].Reason, b.Status.Conditions[0].Reason},
	} {
		if !sharesBytes(pair[0], pair[1]) {
			t.Errorf("%q is held twice", pair[0])
		}
	}
	if sharesBytes(sa.Name, b.Status.Sources[0].Name) {
		t.Error("names differ and cannot be shared")
	}

	again := a.DeepCopy()
	CompactEntity(a, words)
	if !reflect.DeepEqual(a, again) {
		t.Error("a second pass changed the entity")
	}
}

func TestStringsKeepsABoundedSet(t *testing.T) {
	words := NewStrings(2)
	one, two := string([]byte("one")), string([]byte("two"))
	words.Intern(one)
	words.Intern(two)
	if got := words.Intern(string([]byte("one"))); !sharesBytes(got, one) {
		t.Error("a kept string is not shared")
	}
	three := string([]byte("three"))
	if got := words.Intern(three); !sharesBytes(got, three) || len(words.seen) != 2 {
		t.Errorf("a full Strings kept more: %v", words.seen)
	}
	long := string(make([]byte, maxInternedLen+1))
	if words.Intern(long); len(words.seen) != 2 {
		t.Error("a long string was kept")
	}
	var none *Strings
	if none.Intern("x") != "x" {
		t.Error("a nil Strings changed a string")
	}
}

func TestEntityTransform(t *testing.T) {
	e := decodedEntity(t, "a", 10)
	e.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "entityhub"}}
	want := e.DeepCopy()
	want.ManagedFields = nil
	out, err := Entity()(e)
	if err != nil || !reflect.DeepEqual(out, want) {
		t.Errorf("Entity() = %+v, %v; want managed fields dropped and nothing else", out, err)
	}
	if out, _ := Entity()("not an entity"); out != "not an entity" {
		t.Errorf("passed %v", out)
	}
}
