package entitystatus

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"sigs.k8s.io/yaml"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

// crdPath is the CRD controller-gen writes from the API's markers.
var crdPath = filepath.Join("..", "..", "config", "crd", "bases", "catalog.entityhub.dev_catalogentities.yaml")

// statusValidator checks a status as the API server checks a status write: the
// OpenAPI schema of the generated CRD (types, enums, patterns, maxLength, maxItems,
// required fields, formats), its list types (a set without duplicates, a map with
// unique keys) and its x-kubernetes-validations rules, if status has any.
type statusValidator struct {
	schema     validation.SchemaValidator
	structural *structuralschema.Structural
	cel        *cel.Validator // nil when status has no CEL rules
}

// crdStatusSchema reads the schema of status at the API's version from the generated CRD.
func crdStatusSchema(t testing.TB) apiextensionsv1.JSONSchemaProps {
	t.Helper()
	b, err := os.ReadFile(crdPath)
	if err != nil {
		t.Fatal(err)
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict(b, &crd); err != nil {
		t.Fatalf("%s: %v", crdPath, err)
	}
	for _, v := range crd.Spec.Versions {
		if v.Name == catalogv1alpha1.GroupVersion.Version && v.Schema != nil && v.Schema.OpenAPIV3Schema != nil {
			if st, ok := v.Schema.OpenAPIV3Schema.Properties["status"]; ok {
				return st
			}
		}
	}
	t.Fatalf("%s has no status schema at version %s", crdPath, catalogv1alpha1.GroupVersion.Version)
	return apiextensionsv1.JSONSchemaProps{}
}

// newStatusValidator builds the validator of schema, a status schema of the CRD.
func newStatusValidator(t testing.TB, schema apiextensionsv1.JSONSchemaProps) *statusValidator {
	t.Helper()
	var internal apiextensions.JSONSchemaProps
	if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(&schema, &internal, nil); err != nil {
		t.Fatal(err)
	}
	sv, _, err := validation.NewSchemaValidator(&internal)
	if err != nil {
		t.Fatal(err)
	}
	structural, err := structuralschema.NewStructural(&internal)
	if err != nil {
		t.Fatal(err)
	}
	return &statusValidator{
		schema:     sv,
		structural: structural,
		cel:        cel.NewValidator(structural, false, celconfig.PerCallLimit),
	}
}

// validate returns what the API server would refuse in a write of st, as JSON the way
// the client sends it.
func (v *statusValidator) validate(st catalogv1alpha1.CatalogEntityStatus) (field.ErrorList, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	obj := map[string]any{}
	// utiljson decodes numbers as int64, as the API server does.
	if err := utiljson.Unmarshal(b, &obj); err != nil {
		return nil, err
	}
	path := field.NewPath("status")
	errs := validation.ValidateCustomResource(path, obj, v.schema)
	errs = append(errs, listtype.ValidateListSetsAndMaps(path, v.structural, obj)...)
	if v.cel != nil {
		celErrs, _ := v.cel.Validate(context.Background(), path, v.structural, obj, nil, celconfig.RuntimeCELCostBudget)
		errs = append(errs, celErrs...)
	}
	return errs, nil
}

// checkWritable fails t unless the API server would take a write of st, and it reads back
// as it was written: a field the server would store otherwise (invalid UTF-8, say) would
// differ from what the next reconcile computes, and be written again every time.
func checkWritable(t *testing.T, v *statusValidator, st catalogv1alpha1.CatalogEntityStatus) {
	t.Helper()
	errs, err := v.validate(st)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range errs {
		t.Errorf("the API server would refuse the status: %v", shorten(e.Error()))
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var back catalogv1alpha1.CatalogEntityStatus
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(st, back) {
		t.Errorf("the status does not read back as written (-written +read):\n%s", shorten(cmp.Diff(st, back)))
	}
}

// shorten keeps a failure readable when the value in it is thousands of characters.
func shorten(s string) string {
	const keep = 2000
	if len(s) <= keep {
		return s
	}
	return s[:keep] + fmt.Sprintf("… (%d bytes)", len(s))
}

// hostile are the inputs of the issue "Hostile input and tenants": strings other people
// write that end up in status, each over its bound.
func hostile() Input {
	long := func(n int) string { return strings.Repeat("x", n) }
	group := strings.Repeat("a", 300) + ".example.com"
	return Input{
		Generation: 1,
		Now:        metav1.NewTime(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)),
		Sources: []catalogv1alpha1.SourceStatus{{
			// An Application whose spec.destination.name is 300 characters.
			ID: "argoproj.io/Application/argocd/payments", APIVersion: "argoproj.io/v1alpha1", Kind: "Application",
			Namespace: "argocd", Name: "payments", Cluster: long(300), Health: "Healthy", Sync: "Synced",
		}, {
			// A Workflow whose status.phase is 150 characters.
			ID: "argoproj.io/Workflow/ci/run-1", APIVersion: "argoproj.io/v1alpha1", Kind: "Workflow",
			Namespace: "ci", Name: "run-1", Phase: long(150), Health: "Unknown",
		}, {
			// The missing composite of a claim whose spec.resourceRef is made up.
			ID:         "database.example.org/XPostgreSQLInstance/" + long(100) + "/" + long(300),
			APIVersion: "database.example.org/v1alpha1", Kind: "XPostgreSQLInstance",
			Namespace: long(100), Name: long(300), Health: "Missing",
		}, {
			// A spec.sources entry with a 300-character group: valid, and its id is not.
			ID:         group + "/Widget/payments/" + strings.Repeat("n", 253),
			APIVersion: group + "/v1", Kind: "Widget", Namespace: "payments", Name: strings.Repeat("n", 253),
			Health: "Unknown", Message: "not watched",
		}},
		Runs:      []catalogv1alpha1.RunStatus{{Name: "run-1", Namespace: "ci", Phase: long(150)}},
		LastRun:   long(150),
		Relations: []string{"component:default/" + long(200)},
	}
}

// unbounded is what status would say of in without the cuts: the sources and runs as
// they came, relations as they came.
func unbounded(in Input) catalogv1alpha1.CatalogEntityStatus {
	st := Status(catalogv1alpha1.CatalogEntityStatus{}, in)
	st.Sources = append([]catalogv1alpha1.SourceStatus(nil), in.Sources...)
	for i := range st.Sources {
		st.Sources[i].LastTransitionTime = &in.Now
	}
	st.Runs = in.Runs
	st.LastRun = in.LastRun
	st.Relations = in.Relations
	return st
}

// TestStatusValidatesAgainstCRD checks that the status of the hostile sources
// is one the API server takes, and that the validator would have refused the same
// sources uncut: the check can fail.
func TestStatusValidatesAgainstCRD(t *testing.T) {
	v := newStatusValidator(t, crdStatusSchema(t))
	in := hostile()

	t.Run("uncut, the API server refuses it", func(t *testing.T) {
		errs, err := v.validate(unbounded(in))
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			"status.sources[", "].cluster", "].phase", "].id", "].namespace", "].name",
			"status.runs[0].phase", "status.lastRun", "status.relations[0]",
		}
		got := errs.ToAggregate().Error()
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("want an error on %s, got:\n%s", w, shorten(got))
			}
		}
	})

	t.Run("cut, it takes it", func(t *testing.T) {
		st := Status(catalogv1alpha1.CatalogEntityStatus{}, in)
		checkWritable(t, v, st)
		if len(st.Sources) != len(in.Sources) {
			t.Errorf("%d sources listed, want %d", len(st.Sources), len(in.Sources))
		}
		if len(st.Relations) != 0 {
			t.Errorf("relations = %q, want the over-long reference left out", st.Relations)
		}
		again := Status(st, Input{Generation: in.Generation, Now: metav1.NewTime(in.Now.Add(time.Hour)),
			Sources: in.Sources, Runs: in.Runs, LastRun: in.LastRun, Relations: in.Relations})
		if diff := cmp.Diff(st, again); diff != "" {
			t.Errorf("the same sources an hour later changed the status (-first +second):\n%s", shorten(diff))
		}
	})
}

// TestValidatorCatches shows, field by field, that the validator refuses what the API
// server refuses: one character over a bound, a word outside an enum, a reason outside
// its pattern, a duplicate in a set, a rule of x-kubernetes-validations.
func TestValidatorCatches(t *testing.T) {
	schema := crdStatusSchema(t)
	v := newStatusValidator(t, schema)
	valid := Status(catalogv1alpha1.CatalogEntityStatus{}, Input{
		Generation: 1,
		Now:        metav1.NewTime(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)),
		Sources: []catalogv1alpha1.SourceStatus{{
			ID: "argoproj.io/Application/argocd/a", APIVersion: "argoproj.io/v1alpha1", Kind: "Application",
			Namespace: "argocd", Name: "a", Health: "Healthy", Sync: "Synced",
		}},
		Runs:      []catalogv1alpha1.RunStatus{{Name: "run", Phase: "Succeeded"}},
		Relations: []string{"component:default/b"},
	})
	checkWritable(t, v, valid)

	over := func(n int) string { return strings.Repeat("é", n+1) } // characters, not bytes
	tests := map[string]struct {
		change func(*catalogv1alpha1.CatalogEntityStatus)
		want   string
	}{
		"ready":               {func(s *catalogv1alpha1.CatalogEntityStatus) { s.Ready = over(32) }, "status.ready"},
		"message":             {func(s *catalogv1alpha1.CatalogEntityStatus) { s.Message = over(1024) }, "status.message"},
		"lastRun":             {func(s *catalogv1alpha1.CatalogEntityStatus) { s.LastRun = over(64) }, "status.lastRun"},
		"source id":           {func(s *catalogv1alpha1.CatalogEntityStatus) { s.Sources[0].ID = over(512) }, "status.sources[0].id"},
		"source cluster":      {func(s *catalogv1alpha1.CatalogEntityStatus) { s.Sources[0].Cluster = over(253) }, "status.sources[0].cluster"},
		"source health":       {func(s *catalogv1alpha1.CatalogEntityStatus) { s.Sources[0].Health = "Fine" }, "status.sources[0].health"},
		"run phase":           {func(s *catalogv1alpha1.CatalogEntityStatus) { s.Runs[0].Phase = over(64) }, "status.runs[0].phase"},
		"relation":            {func(s *catalogv1alpha1.CatalogEntityStatus) { s.Relations[0] = over(191) }, "status.relations[0]"},
		"relation twice":      {func(s *catalogv1alpha1.CatalogEntityStatus) { s.Relations = append(s.Relations, s.Relations[0]) }, "status.relations[1]"},
		"condition reason":    {func(s *catalogv1alpha1.CatalogEntityStatus) { s.Conditions[0].Reason = "not a reason" }, "status.conditions[0].reason"},
		"too many conditions": {func(s *catalogv1alpha1.CatalogEntityStatus) { s.Conditions = foreignConditions(9) }, "status.conditions"},
		"too many runs": {func(s *catalogv1alpha1.CatalogEntityStatus) {
			s.Runs = make([]catalogv1alpha1.RunStatus, 11)
		}, "status.runs"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			st := *valid.DeepCopy()
			tc.change(&st)
			errs, err := v.validate(st)
			if err != nil {
				t.Fatal(err)
			}
			if len(errs) == 0 || !strings.Contains(errs.ToAggregate().Error(), tc.want) {
				t.Errorf("want an error on %s, got %v", tc.want, errs)
			}
		})
	}

	t.Run("x-kubernetes-validations", func(t *testing.T) {
		// The status has no rules of its own today; this one shows that the validator
		// runs them when it has.
		withRule := *schema.DeepCopy()
		withRule.XValidations = apiextensionsv1.ValidationRules{{Rule: "self.ready != '0/1'", Message: "a rule"}}
		v := newStatusValidator(t, withRule)
		if v.cel == nil {
			t.Fatal("no CEL validator for a schema with a rule")
		}
		st := *valid.DeepCopy()
		st.Ready = "0/1"
		errs, err := v.validate(st)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(errs.ToAggregate().Error(), "a rule") {
			t.Errorf("want the rule's message, got %v", errs)
		}
	})
}

// foreignConditions are n conditions of types Status does not set.
func foreignConditions(n int) []metav1.Condition {
	out := make([]metav1.Condition, 0, n)
	for i := range n {
		out = append(out, metav1.Condition{
			Type: "Other" + strconv.Itoa(i), Status: metav1.ConditionTrue, Reason: "Set", Message: "by someone else",
			LastTransitionTime: metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
		})
	}
	return out
}

func TestBoundedID(t *testing.T) {
	prefix := "example.org/Thing/ns/" + strings.Repeat("a", 600)
	a, b := prefix+"-one", prefix+"-two"
	ca, cb := BoundedID(a), BoundedID(b)
	if ca == cb {
		t.Errorf("two ids sharing their first %d bytes give one id %q", catalogv1alpha1.MaxSourceIDLength, ca)
	}
	for _, id := range []string{ca, cb} {
		if len(id) > catalogv1alpha1.MaxSourceIDLength || !utf8.ValidString(id) {
			t.Errorf("BoundedID gave %d bytes (valid UTF-8: %v), want valid UTF-8 within %d",
				len(id), utf8.ValidString(id), catalogv1alpha1.MaxSourceIDLength)
		}
		if again := BoundedID(id); again != id {
			t.Errorf("BoundedID of a bounded id changed it: %q, then %q", id, again)
		}
	}
	if !strings.HasPrefix(ca, prefix[:400]) {
		t.Errorf("BoundedID(%.40q…) = %.40q…, want it to start as the id does", a, ca)
	}
	short := "argoproj.io/Application/argocd/payments"
	if got := BoundedID(short); got != short {
		t.Errorf("BoundedID(%q) = %q, want it unchanged", short, got)
	}
	exact := strings.Repeat("x", catalogv1alpha1.MaxSourceIDLength)
	if got := BoundedID(exact); got != exact {
		t.Errorf("an id of exactly %d bytes changed", catalogv1alpha1.MaxSourceIDLength)
	}
	if BoundedID("a\xff") == BoundedID("a\xfe") {
		t.Error("two ids of invalid UTF-8 give one id")
	}

	st := Status(catalogv1alpha1.CatalogEntityStatus{}, Input{Sources: []catalogv1alpha1.SourceStatus{
		{ID: a, Kind: "Thing", Name: "one", Health: "Healthy"},
		{ID: b, Kind: "Thing", Name: "two", Health: "Degraded"},
	}})
	if len(st.Sources) != 2 || st.SourceCount != 2 {
		t.Errorf("%d sources listed, sourceCount %d: want both", len(st.Sources), st.SourceCount)
	}
}

// TestConditionsBounded checks that conditions of other types, carried from the last
// status, give way to the three Status sets rather than break the list's bound.
func TestConditionsBounded(t *testing.T) {
	v := newStatusValidator(t, crdStatusSchema(t))
	prev := catalogv1alpha1.CatalogEntityStatus{Conditions: foreignConditions(catalogv1alpha1.MaxStatusConditions)}
	st := Status(prev, Input{Now: metav1.NewTime(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)),
		Unresolved: []Unresolved{{Reason: "not a reason", Message: "spec.sources[0]: x"}}})
	checkWritable(t, v, st)
	for _, typ := range ownConditions {
		if c := condition(st, typ); c == nil {
			t.Errorf("no %s condition", typ)
		}
	}
	if c := condition(st, catalogv1alpha1.ConditionSourcesResolved); c != nil && c.Reason != reasonUnknown {
		t.Errorf("SourcesResolved reason %q, want %q for a reason the API server refuses", c.Reason, reasonUnknown)
	}
}
