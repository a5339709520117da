package argocd

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/sources"
	"github.com/entityhub/entityhub/controllers/sources/fields"
	"github.com/entityhub/entityhub/controllers/sources/sourcetest"
)

// FuzzMapApplication feeds MapApplication objects decoded from arbitrary JSON.
func FuzzMapApplication(f *testing.F) {
	sourcetest.AddFixtureSeeds(f, "application-")
	seeds := []string{
		`{}`,
		`{"status":null}`,
		`{"status":{}}`,
		`{"status":"Healthy"}`,
		`{"status":{"health":{"status":"Degraded","message":"x"},"sync":{"status":"OutOfSync","revision":"abc"}}}`,
		`{"status":{"health":{"status":3},"sync":{"status":true}}}`,
		`{"status":{"health":"Healthy","sync":"Synced"}}`,
		`{"status":{"health":{"status":"Warning"},"sync":{"status":"Syncing"}}}`,
		`{"status":{"health":{},"sync":{"status":"","comparedTo":{"source":{"repoURL":""},"destination":{}}}}}`,
		`{"status":{"health":{"status":"Healthy"},"sync":{"status":"Synced","revisions":["a",null,"c"]}}}`,
		`{"status":{"sync":{"revisions":["8.5.1",1.2]}}}`,
		`{"status":{"sync":{"revisions":"a,b"}}}`,
		`{"status":{"conditions":{"type":"ComparisonError"}}}`,
		`{"status":{"conditions":["ComparisonError",null,{"type":"SyncError","message":"boom"}]}}`,
		`{"status":{"conditions":[{"type":1,"message":[]}]}}`,
		`{"status":{"operationState":{"phase":"Failed","message":"one or more objects failed to apply"}}}`,
		`{"status":{"operationState":{"phase":"Error","message":{"a":1}}}}`,
		`{"status":{"operationState":["Running"]}}`,
		`{"status":{"health":{"status":"Heal\udcffthy"},"conditions":[{"type":"SyncError","message":"bad \ud800 surrogate"}]}}`,
		`{"spec":{"destination":{"name":"prod-eu-1","server":"https://prod-eu-1.k8s.example.com"}}}`,
		`{"spec":{"destination":{"server":"https://prod-eu-1.k8s.example.com"}}}`,
		`{"spec":{"destination":{"server":"https://kubernetes.default.svc/"}}}`,
		`{"spec":{"destination":{"server":6443,"name":null}}}`,
		`{"spec":{"destination":"in-cluster","project":"default"}}`,
		`{"spec":"payments"}`,
		`{"spec":{"source":{"repoURL":"x"},"destination":{}}}`,
		`{"status":{"resources":[{"group":"apps","kind":"Deployment","namespace":"a","name":"b","status":"Synced"},{"group":"x.example.org","kind":"X","name":"x","health":{"status":"Healthy"}},{"group":"y.example.org","kind":"Y","namespace":"","name":"y"},"z",{"group":1,"kind":"X","name":"n"}]}}`,
		`{"status":{"resources":[]}}`,
		`{"status":{"resources":{"group":"x.example.org"}}}`,
		`[1,2]`,
		`null`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, obj := range sourcetest.DecodeBoth(t, data) {
			checkMapApplication(t, obj, nil)
			checkMapApplication(t, obj, secretNames)
		}
	})
}

// checkMapApplication checks MapApplication's promises on one object.
func checkMapApplication(t *testing.T, obj map[string]any, clusters ClusterNamer) {
	t.Helper()
	before := sourcetest.CopyValue(obj)
	u := &unstructured.Unstructured{Object: obj}
	// The unguarded function, so that a panic fails the fuzz target rather than
	// becoming a message.
	got := mapApplication(u, clusters)

	checkWords(t, obj, got)
	if !reflect.DeepEqual(before, obj) {
		t.Errorf("MapApplication modified its argument (-before +after):\n%s", cmp.Diff(before, obj))
	}
	if again := MapApplication(u, clusters); !reflect.DeepEqual(again, got) {
		t.Errorf("second call differs: %+v, then %+v", got, again)
	}

	// Health and sync are Argo CD's own, never made up.
	status, statusIsObject := obj["status"].(map[string]any)
	if got.Health != catalogv1alpha1.HealthUnknown {
		if word, _, _ := unstructured.NestedString(obj, "status", "health", "status"); word != string(got.Health) {
			t.Errorf("MapApplication(%v).Health = %q, but status.health.status is %q", obj, got.Health, word)
		}
	}
	hasSync := statusIsObject && status["sync"] != nil
	if (got.Sync != "") != hasSync {
		t.Errorf("MapApplication(%v).Sync = %q, but status.sync is there: %v", obj, got.Sync, hasSync)
	}
	if got.Sync == catalogv1alpha1.SyncSynced || got.Sync == catalogv1alpha1.SyncOutOfSync {
		if word, _, _ := unstructured.NestedString(obj, "status", "sync", "status"); word != string(got.Sync) {
			t.Errorf("MapApplication(%v).Sync = %q, but status.sync.status is %q", obj, got.Sync, word)
		}
	}
	if name, _, _ := unstructured.NestedString(obj, "spec", "destination", "name"); name != "" && got.Cluster != fields.Printable(name) {
		t.Errorf("MapApplication(%v).Cluster = %q, want the destination's name %q", obj, got.Cluster, name)
	}

	// Nothing the cache drops is read: the object as the cache keeps it reads the
	// same. A spec that is not an object is dropped by the cache, and with it the
	// problem it was.
	if specIsObject(obj) {
		cached := sourcetest.CachedCopy(t, familyKind(t, KindApplication), u)
		if after := MapApplication(cached, clusters); !reflect.DeepEqual(after, got) {
			t.Errorf("MapApplication(%v) reads what the cache drops: %+v, cached %+v", obj, got, after)
		}
		if after, want := DeployedObjects(cached), DeployedObjects(u); !reflect.DeepEqual(after, want) {
			t.Errorf("DeployedObjects(%v) reads what the cache drops: %+v, cached %+v", obj, want, after)
		}
	}

	// Nor any status but what TrimApplication keeps, for the mapper and for relations;
	// and trimming twice is trimming once.
	trimmed := &unstructured.Unstructured{Object: sourcetest.CopyValue(obj).(map[string]any)}
	TrimApplication(trimmed)
	if after := MapApplication(trimmed, clusters); !reflect.DeepEqual(after, got) {
		t.Errorf("MapApplication(%v) reads status TrimApplication drops: %+v, trimmed %+v", obj, got, after)
	}
	if after, want := DeployedObjects(trimmed), DeployedObjects(u); !reflect.DeepEqual(after, want) {
		t.Errorf("DeployedObjects(%v) reads status TrimApplication drops: %+v, trimmed %+v", obj, want, after)
	}
	again := &unstructured.Unstructured{Object: sourcetest.CopyValue(trimmed.Object).(map[string]any)}
	TrimApplication(again)
	if !reflect.DeepEqual(again.Object, trimmed.Object) {
		t.Errorf("TrimApplication(%v) twice differs from once:\n%s", obj, cmp.Diff(trimmed.Object, again.Object))
	}
}

// FuzzMapApplicationSet feeds MapApplicationSet objects decoded from arbitrary JSON.
func FuzzMapApplicationSet(f *testing.F) {
	sourcetest.AddFixtureSeeds(f, "applicationset-")
	seeds := []string{
		`{}`,
		`{"status":null}`,
		`{"status":{"conditions":[]}}`,
		`{"status":"ok"}`,
		`{"status":{"health":{"status":"Healthy"}}}`,
		`{"status":{"health":{"status":"Warning","message":"m"}}}`,
		`{"status":{"health":{"status":1}}}`,
		`{"status":{"health":{"status":""},"conditions":[{"type":"RolloutProgressing","status":"True","reason":"ApplicationSetModified"}]}}`,
		`{"status":{"conditions":[{"type":"ResourcesUpToDate","status":"True"},{"type":"ErrorOccurred","status":"True","message":"boom"}]}}`,
		`{"status":{"conditions":[{"type":"ErrorOccurred","status":"False"},{"type":"ParametersGenerated","status":"True"}]}}`,
		`{"status":{"conditions":[{"type":"ErrorOccurred","status":true}]}}`,
		`{"status":{"conditions":[null,"ErrorOccurred",[1]]}}`,
		`{"status":{"conditions":{"type":"ErrorOccurred"}}}`,
		`{"status":{"conditions":[{"type":"ErrorOccurred","status":"True","reason":"Bad\udcff","message":"bad \ud800"}]}}`,
		`[1,2]`,
		`null`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, obj := range sourcetest.DecodeBoth(t, data) {
			checkMapApplicationSet(t, obj)
		}
	})
}

// checkMapApplicationSet checks MapApplicationSet's promises on one object.
func checkMapApplicationSet(t *testing.T, obj map[string]any) {
	t.Helper()
	before := sourcetest.CopyValue(obj)
	u := &unstructured.Unstructured{Object: obj}
	got := mapApplicationSet(u) // unguarded: a panic fails the fuzz target

	checkWords(t, obj, got)
	if got.Sync != "" || got.Cluster != "" || got.Revision != "" {
		t.Errorf("MapApplicationSet(%v) = %+v: an ApplicationSet has no sync, cluster or revision", obj, got)
	}
	if !reflect.DeepEqual(before, obj) {
		t.Errorf("MapApplicationSet modified its argument (-before +after):\n%s", cmp.Diff(before, obj))
	}
	if again := MapApplicationSet(u); !reflect.DeepEqual(again, got) {
		t.Errorf("second call differs: %+v, then %+v", got, again)
	}

	// A health other than Unknown is either written on the object or decided by a
	// condition that is True.
	if got.Health != catalogv1alpha1.HealthUnknown {
		word, _, _ := unstructured.NestedString(obj, "status", "health", "status")
		if word != "" && word != string(got.Health) {
			t.Errorf("MapApplicationSet(%v).Health = %q, but status.health.status is %q", obj, got.Health, word)
		}
		if word == "" && !hasTrueCondition(obj) {
			t.Errorf("MapApplicationSet(%v).Health = %q, but no health is written and no deciding condition is True", obj, got.Health)
		}
	}
}

// hasTrueCondition reports whether one of the conditions that decide an
// ApplicationSet's health is True.
func hasTrueCondition(obj map[string]any) bool {
	conds, _, _ := unstructured.NestedSlice(obj, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok || m["status"] != "True" {
			continue
		}
		switch m["type"] {
		case "ErrorOccurred", "RolloutProgressing", "ResourcesUpToDate":
			return true
		}
	}
	return false
}

// checkWords checks what every mapper result promises: the API's words, valid UTF-8,
// and no panic turned into a message.
func checkWords(t *testing.T, obj map[string]any, got sources.Result) {
	t.Helper()
	if !sourcetest.HealthWords[got.Health] {
		t.Errorf("mapping %v: Health = %q, not one of the API's words", obj, got.Health)
	}
	if !mapperSyncWords[got.Sync] {
		t.Errorf("mapping %v: Sync = %q, not one of the API's words", obj, got.Sync)
	}
	for _, s := range []string{got.Message, got.Phase, got.Cluster, got.Revision} {
		if !utf8.ValidString(s) {
			t.Errorf("mapping %v = %+v: %q is not valid UTF-8", obj, got, s)
		}
	}
	if strings.HasPrefix(got.Message, "cannot read this object") {
		t.Errorf("mapping %v panicked: %s", obj, got.Message)
	}
}
