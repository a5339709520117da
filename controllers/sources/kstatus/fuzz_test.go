package kstatus

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"github.com/entityhub/entityhub/controllers/sources/sourcetest"
)

// FuzzMap feeds Map objects decoded from arbitrary JSON. Each input is decoded twice:
// with encoding/json, whose numbers are float64 and so reach kstatus' type errors, and
// the way a client decodes objects from the API server, whose integers are int64 and so
// reach the generation comparison.
func FuzzMap(f *testing.F) {
	seeds := []string{
		`{}`,
		`{"apiVersion":"tf.upbound.io/v1beta1","kind":"Workspace","metadata":{"name":"vpc","generation":2},` +
			`"status":{"conditions":[{"type":"Ready","status":"True","reason":"Available"},{"type":"Synced","status":"False","reason":"ReconcileError","message":"apply failed"}]}}`,
		`{"kind":"Workspace","metadata":{"generation":1},"status":{"conditions":[{"type":"Synced","status":"False"}]}}`,
		`{"kind":"Workspace","metadata":{"generation":1},"status":{"conditions":[{"type":"Ready","status":"True"},{"type":"Synced","status":"False","reason":"ReconcilePaused"}]}}`,
		`{"kind":"Workspace","metadata":{"generation":1},"status":{"conditions":[{"type":"Synced","status":"Unknown","message":"m"},{"type":"Synced","status":"False"}]}}`,
		`{"metadata":{"deletionTimestamp":"2026-01-02T03:04:05Z"},"status":{"conditions":[{"type":"Synced","status":"False","message":"destroy failed"}]}}`,
		`{"metadata":{"deletionTimestamp":"2026-01-02T03:04:05Z"},"status":{"conditions":[{"type":"Synced","status":0}]}}`,
		`{"metadata":{"generation":3},"status":{"observedGeneration":2,"conditions":[{"type":"Synced","status":false,"reason":"ReconcileError"}]}}`,
		`{"status":{"conditions":[{"type":"Synced","status":"False","reason":"ReconcileError","message":"plan failed"},{"type":"Stalled","status":"True"}]}}`,
		`{"status":{"conditions":[{"type":"Synced","status":"False","reason":["ReconcileError"]}]}}`,
		`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"generation":5},"status":{"observedGeneration":4}}`,
		`{"metadata":{"generation":3},"status":{"observedGeneration":3,"conditions":[{"type":"Ready","status":"False","reason":"Creating"}]}}`,
		`{"status":{"conditions":[{"type":"Stalled","status":"True","reason":"BuildFailed","message":"kustomize build failed"}]}}`,
		`{"status":{"conditions":[{"type":"Reconciling","status":"True"},{"type":"Stalled","status":"True"}]}}`,
		`{"metadata":{"deletionTimestamp":"2026-01-02T03:04:05Z"},"status":"broken"}`,
		`{"metadata":{"deletionTimestamp":7}}`,
		`{"metadata":"x"}`,
		`{"metadata":{"generation":"2"}}`,
		`{"metadata":{"generation":1.5},"status":{"observedGeneration":1}}`,
		`{"metadata":{"generation":1},"status":{"observedGeneration":"1"}}`,
		`{"status":"Ready"}`,
		`{"status":null}`,
		`{"status":{"conditions":"Ready"}}`,
		`{"status":{"conditions":{"Ready":"True"}}}`,
		`{"status":{"conditions":["Ready",null,3]}}`,
		`{"status":{"conditions":[{"type":"Ready","status":true}]}}`,
		`{"status":{"conditions":[{"type":1,"status":"True"}]}}`,
		`{"status":{"conditions":[{"type":"Ready","status":"True","message":{"a":1}}]}}`,
		`{"status":{"conditions":[{"type":"Ready","status":"False","message":"bad \ud800 surrogate"}]}}`,
		`{"apiVersion":5,"kind":["Deployment"],"status":{"conditions":[]}}`,
		`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"generation":1},"status":{"observedGeneration":1}}`,
		`[1,2]`,
		`null`,
		`"status"`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var std map[string]any
		if err := json.Unmarshal(data, &std); err != nil || std == nil {
			t.Skip("not a JSON object")
		}
		var client map[string]any
		if err := utiljson.Unmarshal(data, &client); err != nil || client == nil {
			// The client decoder rejects what encoding/json takes, e.g. numbers too
			// large for float64; check the std decoding alone.
			client = nil
		}
		for _, obj := range []map[string]any{std, client} {
			if obj != nil {
				checkMap(t, obj)
			}
		}
	})
}

// checkMap checks Map's promises on one object.
func checkMap(t *testing.T, obj map[string]any) {
	t.Helper()
	before := sourcetest.CopyValue(obj)
	u := &unstructured.Unstructured{Object: obj}
	got := Map(u) // a panic fails the fuzz target

	if !sourcetest.HealthWords[got.Health] {
		t.Errorf("Map(%v).Health = %q, not one of the API's words", obj, got.Health)
	}
	if got.Sync != "" {
		t.Errorf("Map(%v).Sync = %q; kstatus has no sync state", obj, got.Sync)
	}
	if !utf8.ValidString(got.Message) || !utf8.ValidString(got.Phase) {
		t.Errorf("Map(%v) = %+v: phase or message is not valid UTF-8", obj, got)
	}
	if got.Cluster != "" || got.Revision != "" {
		t.Errorf("Map(%v) = %+v: kstatus knows no cluster or revision", obj, got)
	}

	// reflect.DeepEqual first: cmp.Diff is slow, and the fuzzer should spend its time
	// on Map.
	if !reflect.DeepEqual(before, obj) {
		t.Errorf("Map modified its argument (-before +after):\n%s", cmp.Diff(before, obj))
	}
	if again := Map(u); !reflect.DeepEqual(again, got) {
		t.Errorf("second call differs: %+v, then %+v", got, again)
	}

	// Map agrees with kstatus: Unknown exactly when kstatus cannot read the object, or
	// cannot read conditions it skipped (those of a status for an older generation)
	// and the object is not being deleted.
	res, err := status.Compute(u)
	withConds, convErr := status.GetObjectWithConditions(obj)
	terminating := err == nil && res != nil && res.Status == status.TerminatingStatus
	unreadable := err != nil || (convErr != nil && !terminating)
	if unreadable != (got.Health == "Unknown") {
		t.Errorf("Map(%v) = %+v, but status.Compute returned %v, %v and the conversion %v", obj, got, res, err, convErr)
	}
	if unreadable && !strings.HasPrefix(got.Message, "cannot read status: ") {
		t.Errorf("Map(%v).Message = %q; want it to start with \"cannot read status: \"", obj, got.Message)
	}
	if !unreadable && got.Phase == "" {
		t.Errorf("Map(%v) = %+v: no phase although kstatus read it", obj, got)
	}

	// Unless it is being deleted, a readable object is Degraded exactly when its first
	// Synced condition is False, not for a pause, or kstatus says it Failed.
	if !unreadable && !terminating {
		failedSync := false
		for _, c := range withConds.Status.Conditions {
			if c.Type == "Synced" {
				failedSync = c.Status == "False" && c.Reason != "ReconcilePaused"
				break
			}
		}
		if degraded := got.Health == "Degraded"; degraded != (failedSync || res.Status == status.FailedStatus) {
			t.Errorf("Map(%v) = %+v, but the first Synced says failed %v and kstatus %v", obj, got, failedSync, res.Status)
		}
	}

	// conditionsProblem finds a problem exactly when kstatus' conversion of the
	// conditions fails, so that its message never blames a field kstatus accepts.
	if why := conditionsProblem(obj); (why != "") != (convErr != nil) {
		t.Errorf("conditionsProblem(%v) = %q, but the conversion returned %v", obj, why, convErr)
	}
}
