package crossplane

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/sources"
	"github.com/entityhub/entityhub/controllers/sources/sourcetest"
)

// FuzzMapResource feeds MapResource objects decoded from arbitrary JSON.
func FuzzMapResource(f *testing.F) {
	sourcetest.AddFixtureSeeds(f, "")
	seeds := []string{
		`{}`,
		`{"status":null}`,
		`{"status":{}}`,
		`{"status":"Ready"}`,
		`{"status":{"conditions":[]}}`,
		`{"status":{"conditions":{"type":"Ready"}}}`,
		`{"status":{"conditions":["Ready",null,3]}}`,
		`{"status":{"conditions":[{"type":"Ready","status":"True","reason":"Available"},{"type":"Synced","status":"True","reason":"ReconcileSuccess"}]}}`,
		`{"status":{"conditions":[{"type":"Ready","status":"True","reason":"Available"},{"type":"Synced","status":"False","reason":"ReconcileError","message":"boom"}]}}`,
		`{"status":{"conditions":[{"type":"Ready","status":"Unknown","reason":"Unavailable"}]}}`,
		`{"status":{"conditions":[{"type":"Synced","status":"False","reason":"ReconcilePaused"}]}}`,
		`{"metadata":{"annotations":{"crossplane.io/paused":"true"}},"status":{"conditions":[{"type":"Synced","status":"False","reason":"ReconcileError"}]}}`,
		`{"metadata":{"annotations":{"crossplane.io/paused":true}}}`,
		`{"metadata":{"annotations":["crossplane.io/paused"]}}`,
		`{"metadata":{"deletionTimestamp":"2026-01-13T08:00:00Z","annotations":{"crossplane.io/paused":"true"}},"status":{"conditions":[{"type":"Ready","status":"False","reason":"Deleting","message":"m"}]}}`,
		`{"metadata":{"deletionTimestamp":7}}`,
		`{"metadata":{"generation":5},"status":{"conditions":[{"type":"Ready","status":"True","observedGeneration":3},{"type":"Synced","status":"True","observedGeneration":5}]}}`,
		`{"metadata":{"generation":5},"status":{"conditions":[{"type":"Ready","status":"True","observedGeneration":4},{"type":"Synced","status":"False","observedGeneration":3}]}}`,
		`{"metadata":{"generation":"5"}}`,
		`{"metadata":{"generation":1.5}}`,
		`{"metadata":{"generation":1e300},"status":{"conditions":[{"type":"Ready","status":"True","observedGeneration":-1e300}]}}`,
		`{"metadata":{"generation":9223372036854775807},"status":{"conditions":[{"type":"Ready","status":"True","observedGeneration":9223372036854775806}]}}`,
		`{"metadata":"x"}`,
		`{"status":{"conditions":[{"type":"Ready","status":1}]}}`,
		`{"status":{"conditions":[{"status":"True"}]}}`,
		`{"status":{"conditions":[{"type":"Ready","status":"True","observedGeneration":"3"}]}}`,
		`{"status":{"conditions":[{"type":"Ready","status":"True","lastTransitionTime":12}]}}`,
		`{"status":{"conditions":[{"type":"Synced","status":"False","reason":"Bad\udcff","message":"bad \ud800 surrogate"}]}}`,
		`{"spec":{"forProvider":{"region":"eu-west-1"}},"status":{"conditions":[{"type":"Ready","status":"True"}]}}`,
		`{"spec":"x","status":{"conditions":[{"type":"Ready","status":"False","reason":"Creating"}]}}`,
		`[1,2]`,
		`null`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, obj := range sourcetest.DecodeBoth(t, data) {
			checkMapResourceFuzz(t, obj)
		}
	})
}

// checkMapResourceFuzz checks MapResource's promises on one object.
func checkMapResourceFuzz(t *testing.T, obj map[string]any) {
	t.Helper()
	before := sourcetest.CopyValue(obj)
	u := &unstructured.Unstructured{Object: obj}
	// The unguarded function, so that a panic fails the fuzz target rather than
	// becoming a message.
	got := mapResource(u)

	if !sourcetest.HealthWords[got.Health] {
		t.Errorf("MapResource(%v).Health = %q, not one of the API's words", obj, got.Health)
	}
	if got.Sync != "" || got.Cluster != "" || got.Revision != "" || got.Deploys != nil {
		t.Errorf("MapResource(%v) = %+v: a Crossplane resource has no sync, cluster, revision or deployed objects", obj, got)
	}
	for _, s := range []string{got.Message, got.Phase} {
		if !utf8.ValidString(s) {
			t.Errorf("MapResource(%v) = %+v: %q is not valid UTF-8", obj, got, s)
		}
	}
	if strings.HasPrefix(got.Message, "cannot read this object") {
		t.Errorf("MapResource(%v) panicked: %s", obj, got.Message)
	}
	if !reflect.DeepEqual(before, obj) {
		t.Errorf("MapResource modified its argument (-before +after):\n%s", cmp.Diff(before, obj))
	}
	if again := MapResource(u); !reflect.DeepEqual(again, got) {
		t.Errorf("second call differs: %+v, then %+v", got, again)
	}

	// A verdict other than Unknown comes from what the object says, never made up.
	switch got.Health {
	case catalogv1alpha1.HealthHealthy:
		if !hasCondition(obj, "Ready", "True") {
			t.Errorf("MapResource(%v) is Healthy without a Ready condition that is True", obj)
		}
	case catalogv1alpha1.HealthDegraded:
		if !hasCondition(obj, "Synced", "False") {
			t.Errorf("MapResource(%v) is Degraded without a Synced condition that is False", obj)
		}
	case catalogv1alpha1.HealthUnknown:
		if got.Message == "" {
			t.Errorf("MapResource(%v) is Unknown without saying why", obj)
		}
	}

	// MapResource reads no spec: the object as the cache keeps it, or with no spec at
	// all, reads the same.
	if cached := MapResource(sourcetest.CachedCopy(t, familyKind(t), u)); !reflect.DeepEqual(cached, got) {
		t.Errorf("MapResource(%v) differs on the cached object: %+v, cached %+v", obj, got, cached)
	}
	if noSpec := MapResource(&unstructured.Unstructured{Object: withoutSpec(obj)}); !reflect.DeepEqual(noSpec, got) {
		t.Errorf("MapResource(%v) reads spec: %+v, without spec %+v", obj, got, noSpec)
	}
	// Nor any status but what TrimResource keeps.
	trimmed := (&unstructured.Unstructured{Object: obj}).DeepCopy()
	TrimResource(trimmed)
	if after := MapResource(trimmed); !reflect.DeepEqual(after, got) {
		t.Errorf("MapResource(%v) reads status TrimResource drops: %+v, trimmed %+v", obj, got, after)
	}
}

// hasCondition reports whether obj has a condition of type typ with the given status.
func hasCondition(obj map[string]any, typ, status string) bool {
	conds, _, _ := unstructured.NestedSlice(obj, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == typ && m["status"] == status {
			return true
		}
	}
	return false
}

// refSeeds are inputs for Children and Parents beyond the fixtures.
var refSeeds = []string{
	`{}`,
	`{"spec":null}`,
	`{"spec":"x"}`,
	`{"spec":{"resourceRef":{"apiVersion":"database.example.org/v1alpha1","kind":"XPostgreSQLInstance","name":"a"}}}`,
	`{"spec":{"resourceRef":"a"}}`,
	`{"spec":{"resourceRefs":[{"apiVersion":"v1","kind":"ConfigMap","name":"a"},{"apiVersion":"v1","kind":"ConfigMap","name":"a"},null,"b",{"apiVersion":1}]}}`,
	`{"spec":{"resourceRefs":{"apiVersion":"v1","kind":"ConfigMap","name":"a"}}}`,
	`{"metadata":{"namespace":"orders"},"spec":{"crossplane":{"resourceRefs":[{"apiVersion":"rds.aws.m.upbound.io/v1beta1","kind":"Instance","name":"a"},{"apiVersion":"v1","kind":"Secret","name":"b","namespace":"c"}]}}}`,
	`{"metadata":{"namespace":7},"spec":{"crossplane":{"resourceRefs":[{"apiVersion":"a/b/c","kind":"K","name":"n"},{"apiVersion":"g/","kind":"K","name":"n"}]}}}`,
	`{"spec":{"crossplane":"x","resourceRefs":[]}}`,
	`{"spec":{"claimRef":{"apiVersion":"database.example.org/v1alpha1","kind":"PostgreSQLInstance","name":"a","namespace":"b"}}}`,
	`{"spec":{"claimRef":{"apiVersion":"database.example.org/v1alpha1","kind":"PostgreSQLInstance","name":"a"}}}`,
	`{"spec":{"crossplane":{"claimRef":{"apiVersion":"x/v1","kind":"C","name":"a","namespace":"b"}}}}`,
	`{"metadata":{"namespace":"orders","ownerReferences":[{"apiVersion":"platform.example.org/v1alpha1","kind":"XDatabase","name":"a","controller":true}]}}`,
	`{"metadata":{"ownerReferences":[{"apiVersion":"x/v1","kind":"X","name":"a","controller":"true"},{"apiVersion":"y/v1","kind":"Y","name":"b","controller":false}]}}`,
	`{"metadata":{"ownerReferences":["a",null,{"controller":true}]}}`,
	`{"metadata":{"ownerReferences":{"controller":true}}}`,
	`{"metadata":"x"}`,
	`{"spec":{"resourceRefs":[{"apiVersion":"v1","kind":"ConfigMap","name":"bad \ud800"}]}}`,
	`[1,2]`,
	`null`,
}

// FuzzChildren feeds Children objects decoded from arbitrary JSON.
func FuzzChildren(f *testing.F) {
	sourcetest.AddFixtureSeeds(f, "")
	for _, s := range refSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, obj := range sourcetest.DecodeBoth(t, data) {
			checkRefsFuzz(t, "Children", Children, obj, maxRefs)
		}
	})
}

// FuzzParents feeds Parents objects decoded from arbitrary JSON.
func FuzzParents(f *testing.F) {
	sourcetest.AddFixtureSeeds(f, "")
	for _, s := range refSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, obj := range sourcetest.DecodeBoth(t, data) {
			// A controller and at most two claim refs.
			checkRefsFuzz(t, "Parents", Parents, obj, 3)
		}
	})
}

// checkRefsFuzz checks the promises of Children and Parents on one object: no panic,
// at most limit refs, each able to name an object and listed once, obj unchanged, the
// same answer twice and from the object as the cache keeps it.
func checkRefsFuzz(t *testing.T, name string, fn func(*unstructured.Unstructured) []sources.ObjectRef, obj map[string]any, limit int) {
	t.Helper()
	before := sourcetest.CopyValue(obj)
	u := &unstructured.Unstructured{Object: obj}
	got := fn(u)

	if len(got) > limit {
		t.Errorf("%s(%v) returned %d refs, more than %d", name, obj, len(got), limit)
	}
	seen := map[sources.ObjectRef]bool{}
	for _, r := range got {
		if r.Kind == "" || r.Name == "" {
			t.Errorf("%s(%v) returned %+v, which names no object", name, obj, r)
		}
		for _, s := range []string{r.Group, r.Kind, r.Namespace, r.Name} {
			if !utf8.ValidString(s) {
				t.Errorf("%s(%v) returned %+v: %q is not valid UTF-8", name, obj, r, s)
			}
		}
		if seen[r] {
			t.Errorf("%s(%v) returned %+v twice", name, obj, r)
		}
		seen[r] = true
	}
	if !reflect.DeepEqual(before, obj) {
		t.Errorf("%s modified its argument (-before +after):\n%s", name, cmp.Diff(before, obj))
	}
	if again := fn(u); !reflect.DeepEqual(again, got) {
		t.Errorf("%s: second call differs: %+v, then %+v", name, got, again)
	}
	if cached := fn(sourcetest.CachedCopy(t, familyKind(t), u)); !reflect.DeepEqual(cached, got) {
		t.Errorf("%s(%v) reads what the cache drops: %+v, cached %+v", name, obj, got, cached)
	}
	trimmed := &unstructured.Unstructured{Object: sourcetest.CopyValue(obj).(map[string]any)}
	TrimResource(trimmed)
	if after := fn(trimmed); !reflect.DeepEqual(after, got) {
		t.Errorf("%s(%v) reads what TrimResource drops: %+v, trimmed %+v", name, obj, got, after)
	}
}
