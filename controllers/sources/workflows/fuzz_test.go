package workflows

import (
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/sources"
	"github.com/entityhub/entityhub/controllers/sources/fields"
	"github.com/entityhub/entityhub/controllers/sources/sourcetest"
)

// addSeeds adds seeds written as JSON.
func addSeeds(f *testing.F, seeds ...string) {
	f.Helper()
	for _, s := range seeds {
		f.Add([]byte(s))
	}
}

// FuzzMapWorkflow feeds MapWorkflow objects decoded from arbitrary JSON.
func FuzzMapWorkflow(f *testing.F) {
	sourcetest.AddFixtureSeeds(f, "workflow-")
	addSeeds(f,
		`{}`,
		`{"status":null}`,
		`{"status":{}}`,
		`{"status":"Succeeded"}`,
		`{"status":{"phase":"Running","progress":"2/3","message":"m"}}`,
		`{"status":{"phase":"Failed","progress":"2/3","message":"child 'build' failed"}}`,
		`{"status":{"phase":"Error","message":"invalid spec"}}`,
		`{"status":{"phase":"Pending"}}`,
		`{"status":{"phase":"Skipped"}}`,
		`{"status":{"phase":3,"progress":0.5}}`,
		`{"status":{"phase":"Running","progress":{"n":1}}}`,
		`{"status":{"phase":"Running","progress":"3/2"}}`,
		`{"status":{"phase":"Running","progress":"03/010"}}`,
		`{"status":{"phase":"Running","progress":"1/99999999999999999999999"}}`,
		`{"status":{"phase":"Failed","message":["x"]}}`,
		`{"spec":{"suspend":true},"status":{"phase":"Running","progress":"1/4"}}`,
		`{"spec":{"suspend":true}}`,
		`{"spec":{"suspend":"true"},"status":{"phase":"Running"}}`,
		`{"spec":{"suspend":true},"status":{"phase":"Succeeded"}}`,
		`{"spec":"x","status":{"phase":"Running"}}`,
		`{"spec":{"templates":[{"name":"main"}],"suspend":false},"status":{"phase":"Running"}}`,
		`{"status":{"phase":"Running","nodes":{"a":{"type":"Suspend","phase":"Running","displayName":"approve"}}}}`,
		`{"status":{"phase":"Running","nodes":{"a":{"type":"Suspend","phase":"Running"},"b":{"type":"Suspend","phase":"Running","name":"b"}}}}`,
		`{"status":{"phase":"Running","nodes":{"a":{"type":"Suspend","phase":"Succeeded"},"b":null}}}`,
		`{"status":{"phase":"Running","nodes":["a"]}}`,
		`{"status":{"phase":"Running","nodes":{"a":1,"b":{"type":2}}}}`,
		`{"status":{"phase":"Succeeded","nodes":"broken"}}`,
		`{"status":{"phase":"Runn\udcffing","message":"bad \ud800 surrogate"}}`,
		`{"status":{"phase":"Running","startedAt":"yesterday","finishedAt":17}}`,
		`[1,2]`,
		`null`,
	)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, obj := range sourcetest.DecodeBoth(t, data) {
			checkMapWorkflow(t, obj)
		}
	})
}

// checkMapWorkflow checks MapWorkflow's promises on one object.
func checkMapWorkflow(t *testing.T, obj map[string]any) {
	t.Helper()
	before := sourcetest.CopyValue(obj)
	u := &unstructured.Unstructured{Object: obj}
	// The unguarded function, so that a panic fails the fuzz target rather than
	// becoming a message.
	got := mapWorkflow(u)

	checkWords(t, obj, got)
	if !reflect.DeepEqual(before, obj) {
		t.Errorf("MapWorkflow modified its argument (-before +after):\n%s", cmp.Diff(before, obj))
	}
	if again := MapWorkflow(u); !reflect.DeepEqual(again, got) {
		t.Errorf("second call differs: %+v, then %+v", got, again)
	}
	if specIsObject(obj) {
		cached := MapWorkflow(sourcetest.CachedCopy(t, familyKind(t, KindWorkflow), u))
		if !reflect.DeepEqual(cached, got) {
			t.Errorf("MapWorkflow(%v) reads what the cache drops: %+v, cached %+v", obj, got, cached)
		}
	}

	// The health follows the phase as documented, and nothing else.
	phase, _, _ := unstructured.NestedFieldNoCopy(obj, "status", "phase")
	switch got.Health {
	case catalogv1alpha1.HealthHealthy:
		if phase != "Succeeded" {
			t.Errorf("MapWorkflow(%v) is Healthy, but status.phase is %v", obj, phase)
		}
	case catalogv1alpha1.HealthDegraded:
		if phase != "Failed" && phase != "Error" {
			t.Errorf("MapWorkflow(%v) is Degraded, but status.phase is %v", obj, phase)
		}
	case catalogv1alpha1.HealthProgressing, catalogv1alpha1.HealthSuspended:
		if phase != nil && phase != "" && phase != "Pending" && phase != "Running" {
			t.Errorf("MapWorkflow(%v) is %s, but status.phase is %v", obj, got.Health, phase)
		}
		if got.Health == catalogv1alpha1.HealthSuspended && !waits(obj) {
			t.Errorf("MapWorkflow(%v) is Suspended, but neither spec.suspend nor a Suspend step says so", obj)
		}
	case catalogv1alpha1.HealthMissing:
		t.Errorf("MapWorkflow(%v) is Missing, which it never says", obj)
	}
	if got.Health != catalogv1alpha1.HealthUnknown {
		if s, _ := phase.(string); got.Phase != fields.Printable(s) {
			t.Errorf("MapWorkflow(%v).Phase = %q, but status.phase is %v", obj, got.Phase, phase)
		}
	}
}

// isTrue reports whether v is the boolean true.
func isTrue(v any) bool {
	b, ok := v.(bool)
	return ok && b
}

// waits reports whether spec.suspend is true or a Suspend step is Running, the two
// things that make a Workflow Suspended.
func waits(obj map[string]any) bool {
	if s, _, _ := unstructured.NestedFieldNoCopy(obj, "spec", "suspend"); isTrue(s) {
		return true
	}
	nodes, _, _ := unstructured.NestedFieldNoCopy(obj, "status", "nodes")
	m, _ := nodes.(map[string]any)
	for _, n := range m {
		if node, ok := n.(map[string]any); ok && node["type"] == "Suspend" && node["phase"] == "Running" {
			return true
		}
	}
	return false
}

// FuzzMapCronWorkflow feeds MapCronWorkflow objects decoded from arbitrary JSON.
func FuzzMapCronWorkflow(f *testing.F) {
	sourcetest.AddFixtureSeeds(f, "cronworkflow-")
	addSeeds(f,
		`{}`,
		`{"status":null}`,
		`{"status":{}}`,
		`{"status":"Active"}`,
		`{"spec":{"suspend":true},"status":{"lastScheduledTime":"2026-11-20T02:00:00Z"}}`,
		`{"spec":{"suspend":"yes"}}`,
		`{"spec":7}`,
		`{"spec":{"schedules":["0 2 * * *"],"suspend":false,"workflowSpec":{"entrypoint":"main"}}}`,
		`{"status":{"phase":"Stopped","succeeded":9,"failed":3}}`,
		`{"status":{"phase":"Paused"}}`,
		`{"status":{"phase":1}}`,
		`{"status":{"lastScheduledTime":"2026-11-20T03:00:00+01:00","succeeded":12,"failed":1}}`,
		`{"status":{"lastScheduledTime":"yesterday"}}`,
		`{"status":{"lastScheduledTime":1795140000}}`,
		`{"status":{"succeeded":-1}}`,
		`{"status":{"failed":1.5}}`,
		`{"status":{"failed":1e300,"succeeded":"2"}}`,
		`{"status":{"succeeded":123456789012345678901234567890}}`,
		`{"status":{"conditions":[{"type":"SubmissionError","status":"True","message":"Failed to submit Workflow: x"}]}}`,
		`{"status":{"conditions":[{"type":"SubmissionError","status":"True"},{"type":"SpecError","status":"True","message":"bad"}]}}`,
		`{"status":{"conditions":[{"type":"SpecError","status":"False"},null,{"type":"SpecWarning","status":"True"}]}}`,
		`{"status":{"conditions":{"type":"SpecError"}}}`,
		`{"status":{"conditions":["SpecError",[1]]}}`,
		`{"status":{"conditions":[{"type":"SpecError","status":true,"message":{}}]}}`,
		`{"status":{"phase":"Stop\udcffped","conditions":[{"type":"SpecError","status":"True","message":"bad \ud800"}]}}`,
		`[1,2]`,
		`null`,
	)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, obj := range sourcetest.DecodeBoth(t, data) {
			checkMapCronWorkflow(t, obj)
		}
	})
}

// checkMapCronWorkflow checks MapCronWorkflow's promises on one object.
func checkMapCronWorkflow(t *testing.T, obj map[string]any) {
	t.Helper()
	before := sourcetest.CopyValue(obj)
	u := &unstructured.Unstructured{Object: obj}
	got := mapCronWorkflow(u) // unguarded: a panic fails the fuzz target

	checkWords(t, obj, got)
	if !reflect.DeepEqual(before, obj) {
		t.Errorf("MapCronWorkflow modified its argument (-before +after):\n%s", cmp.Diff(before, obj))
	}
	if again := MapCronWorkflow(u); !reflect.DeepEqual(again, got) {
		t.Errorf("second call differs: %+v, then %+v", got, again)
	}
	if specIsObject(obj) {
		cached := MapCronWorkflow(sourcetest.CachedCopy(t, familyKind(t, KindCronWorkflow), u))
		if !reflect.DeepEqual(cached, got) {
			t.Errorf("MapCronWorkflow(%v) reads what the cache drops: %+v, cached %+v", obj, got, cached)
		}
	}

	suspend, _, _ := unstructured.NestedFieldNoCopy(obj, "spec", "suspend")
	phase, _, _ := unstructured.NestedFieldNoCopy(obj, "status", "phase")
	switch got.Health {
	case catalogv1alpha1.HealthSuspended:
		if !isTrue(suspend) && phase != CronPhaseStopped {
			t.Errorf("MapCronWorkflow(%v) is Suspended, but it is neither suspended nor stopped", obj)
		}
	case catalogv1alpha1.HealthDegraded:
		if !hasErrorCondition(obj) {
			t.Errorf("MapCronWorkflow(%v) is Degraded, but no SpecError or SubmissionError is True", obj)
		}
		fallthrough
	case catalogv1alpha1.HealthHealthy:
		if got.Phase != CronPhaseActive || isTrue(suspend) {
			t.Errorf("MapCronWorkflow(%v) = %+v: an active CronWorkflow is in phase Active and not suspended", obj, got)
		}
	case catalogv1alpha1.HealthProgressing, catalogv1alpha1.HealthMissing:
		t.Errorf("MapCronWorkflow(%v) is %s, which it never says", obj, got.Health)
	}
	// A healthy CronWorkflow says nothing that changes with every run, so that its
	// entity is not written on every schedule.
	if got.Health == catalogv1alpha1.HealthHealthy && got.Message != "" && got.Message != MessageNotScheduled {
		t.Errorf("MapCronWorkflow(%v) = %+v: a healthy CronWorkflow's message is empty or %q", obj, got, MessageNotScheduled)
	}
}

// hasErrorCondition reports whether a SpecError or SubmissionError condition is True.
func hasErrorCondition(obj map[string]any) bool {
	conds, _, _ := unstructured.NestedFieldNoCopy(obj, "status", "conditions")
	list, _ := conds.([]any)
	for _, c := range list {
		m, ok := c.(map[string]any)
		if ok && m["status"] == "True" && (m["type"] == "SpecError" || m["type"] == "SubmissionError") {
			return true
		}
	}
	return false
}

// FuzzRunOf feeds RunOf objects decoded from arbitrary JSON, and Run.Newer the runs read.
func FuzzRunOf(f *testing.F) {
	sourcetest.AddFixtureSeeds(f, "workflow-")
	addSeeds(f,
		`{}`,
		`{"metadata":null}`,
		`{"metadata":"w"}`,
		`{"metadata":{}}`,
		`{"metadata":{"name":"w","namespace":"ns"}}`,
		`{"metadata":{"name":"w","namespace":"ns","creationTimestamp":"2026-11-20T02:00:00Z"},"status":{"phase":"Succeeded","startedAt":"2026-11-20T02:00:00Z","finishedAt":"2026-11-20T02:03:41Z"}}`,
		`{"metadata":{"name":"w","generateName":"w-","namespace":"ns","labels":{"workflows.argoproj.io/cron-workflow":"c","workflows.argoproj.io/workflow-template":"t","workflows.argoproj.io/cluster-workflow-template":"ct"}}}`,
		`{"metadata":{"name":"w","labels":{"workflows.argoproj.io/cron-workflow":"","workflows.argoproj.io/cluster-workflow-template":"ct"}}}`,
		`{"metadata":{"name":"w","generateName":"w-","labels":{"workflows.argoproj.io/workflow-template":7}}}`,
		`{"metadata":{"name":1,"namespace":[],"generateName":{},"labels":"x","creationTimestamp":3}}`,
		`{"metadata":{"name":"w","creationTimestamp":"2026-11-20T03:00:00.5+01:00"},"status":{"startedAt":"yesterday","finishedAt":"2026-13-01T00:00:00Z"}}`,
		`{"metadata":{"name":"w\udcff","labels":{"workflows.argoproj.io/cron-workflow":"c\ud800"}},"status":{"phase":"R\udcff"}}`,
		`{"metadata":{"name":"w"},"status":"Succeeded","spec":"x"}`,
		`{"metadata":{"name":"w"},"status":{"phase":3}}`,
		`[1,2]`,
		`null`,
	)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, obj := range sourcetest.DecodeBoth(t, data) {
			checkRunOf(t, obj)
		}
	})
}

// groupPrefixes are the prefixes a Run's Group starts with.
var groupPrefixes = []string{groupCron, groupTemplate, groupClusterTemplate, groupGenerate, groupName}

// checkRunOf checks RunOf's promises on one object, and Run.Newer's on what it reads.
func checkRunOf(t *testing.T, obj map[string]any) {
	t.Helper()
	before := sourcetest.CopyValue(obj)
	u := &unstructured.Unstructured{Object: obj}
	got, ok := RunOf(u)

	if !reflect.DeepEqual(before, obj) {
		t.Errorf("RunOf modified its argument (-before +after):\n%s", cmp.Diff(before, obj))
	}
	if again, againOK := RunOf(u); !reflect.DeepEqual(again, got) || againOK != ok {
		t.Errorf("second call differs: %+v, then %+v", got, again)
	}
	// RunOf reads nothing the cache drops, whatever spec is: the cache's copy reads the
	// same.
	if cached, cachedOK := RunOf(sourcetest.CachedCopy(t, familyKind(t, KindWorkflow), u)); !reflect.DeepEqual(cached, got) || cachedOK != ok {
		t.Errorf("RunOf(%v) = %+v, but of the cached copy %+v", obj, got, cached)
	}
	_, mdIsObject := obj["metadata"].(map[string]any)
	if ok != mdIsObject {
		t.Errorf("RunOf(%v) ok = %v, but metadata is an object: %v", obj, ok, mdIsObject)
	}
	if !ok {
		if !reflect.DeepEqual(got, sources.Run{}) {
			t.Errorf("RunOf(%v) = %+v with ok false, want the zero Run", obj, got)
		}
		return
	}

	for _, s := range []string{got.Name, got.Namespace, got.Phase, got.Group} {
		if !utf8.ValidString(s) {
			t.Errorf("RunOf(%v) = %+v: %q is not valid UTF-8", obj, got, s)
		}
	}
	prefixed := false
	for _, p := range groupPrefixes {
		if strings.HasPrefix(got.Group, p+got.Namespace+"/") {
			prefixed = true
		}
	}
	if !prefixed {
		t.Errorf("RunOf(%v).Group = %q: not <kind>:<namespace>/<name>", obj, got.Group)
	}
	for _, tm := range []time.Time{got.Created, got.Started, got.Finished} {
		if !tm.IsZero() && tm.Location() != time.UTC {
			t.Errorf("RunOf(%v) = %+v: time %v is not in UTC", obj, got, tm)
		}
	}

	// A run read is not newer than itself; a renamed copy created later is newer than
	// it, and it is not newer than the copy.
	if got.Newer(got) {
		t.Errorf("RunOf(%v) = %+v, which is newer than itself", obj, got)
	}
	later := got
	later.Name += "-later"
	later.Created = got.Created.Add(time.Second)
	if !later.Newer(got) || got.Newer(later) {
		t.Errorf("%+v is not newer than %+v, which it was created after", later, got)
	}
}

// checkWords checks what every mapper result promises: the API's health words, no sync
// state, cluster, revision or deployed objects (Argo Workflows has none), valid UTF-8,
// and no panic turned into a message.
func checkWords(t *testing.T, obj map[string]any, got sources.Result) {
	t.Helper()
	if !sourcetest.HealthWords[got.Health] {
		t.Errorf("mapping %v: Health = %q, not one of the API's words", obj, got.Health)
	}
	if got.Sync != "" || got.Cluster != "" || got.Revision != "" || got.Deploys != nil {
		t.Errorf("mapping %v = %+v: Argo Workflows has no sync, cluster, revision or deployed objects", obj, got)
	}
	for _, s := range []string{got.Message, got.Phase} {
		if !utf8.ValidString(s) {
			t.Errorf("mapping %v = %+v: %q is not valid UTF-8", obj, got, s)
		}
	}
	if got.Health == catalogv1alpha1.HealthUnknown && got.Message == "" {
		t.Errorf("mapping %v is Unknown without saying why", obj)
	}
	if strings.HasPrefix(got.Message, "cannot read this object") {
		t.Errorf("mapping %v panicked: %s", obj, got.Message)
	}
}
