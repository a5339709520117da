package membership

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/sources"
)

// FuzzSelects feeds random selectors and labels to Selects. It must not panic, must not
// select on an error, and where it accepts a selector of one pair or one expression it
// must agree with the label selector semantics written out below.
func FuzzSelects(f *testing.F) {
	f.Add("team", "a", "In", "a,b", "a", "argocd", "argocd", "payments", "payments", true)
	f.Add("team", "a", "NotIn", "b", "b", "", "ns", "x", "x", true)
	f.Add("team", "", "Exists", "", "", "ns", "ns", "x", "y", true)
	f.Add("example.com/team", "a", "DoesNotExist", "", "a", "", "", "x", "x", false)
	f.Add("team", "a b", "Equals", "a", "a", "a", "b", "x", "x", true)
	f.Add("a/b/c", "-a", "in", ",", "", "", "", "", "", false)
	f.Add("team", "a", "In", "", "a", "ns", "ns", "", "x", true)
	f.Fuzz(func(t *testing.T, key, value, op, values, labelValue, selNamespace, objNamespace, selName, objName string, sameKey bool) {
		gk := schema.GroupKind{Group: "argoproj.io", Kind: "Application"}
		labelKey := "other"
		if sameKey {
			labelKey = key
		}
		labels := map[string]string{labelKey: labelValue}
		label, has := labels[key]
		o := &metav1.ObjectMeta{Namespace: objNamespace, Name: objName, Labels: labels}
		base := catalogv1alpha1.SourceSelector{APIVersion: "argoproj.io/v1alpha1", Kind: "Application", Namespace: selNamespace}
		inNamespace := selNamespace == "" || selNamespace == objNamespace

		check := func(what string, sel catalogv1alpha1.SourceSelector, want func() (bool, bool)) {
			t.Helper()
			got, err := Selects(sel, gk, o)
			if err != nil {
				if got {
					t.Errorf("%s: Selects() = true with error %v", what, err)
				}
				return
			}
			if w, known := want(); known && got != w {
				t.Errorf("%s: Selects(%+v, labels %q) = %v, want %v", what, sel, labels, got, w)
			}
		}

		// One matchLabels pair: the object's label must equal the value.
		sel := base
		sel.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{key: value}}
		check("matchLabels", sel, func() (bool, bool) { return inNamespace && has && label == value, true })

		// One expression.
		var vals []string
		if values != "" {
			vals = strings.Split(values, ",")
		}
		sel = base
		sel.Selector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: key, Operator: metav1.LabelSelectorOperator(op), Values: vals},
		}}
		check("matchExpressions", sel, func() (bool, bool) {
			if !inNamespace {
				// Selects returns before it parses the selector: not an error here.
				return false, true
			}
			var w bool
			switch metav1.LabelSelectorOperator(op) {
			case metav1.LabelSelectorOpIn:
				w = has && slices.Contains(vals, label)
			case metav1.LabelSelectorOpNotIn:
				w = !has || !slices.Contains(vals, label)
			case metav1.LabelSelectorOpExists:
				w = has
			case metav1.LabelSelectorOpDoesNotExist:
				w = !has
			default:
				t.Errorf("matchExpressions: operator %q accepted", op)
				return false, false
			}
			return w, true
		})

		// By name: the object of that name in that namespace, and no other.
		sel = base
		sel.Name = selName
		check("name", sel, func() (bool, bool) {
			if selName == "" {
				return false, true // no name and no selector selects nothing
			}
			return selName == objName && selNamespace == objNamespace, true
		})
	})
}

// FuzzNewEntitySpec feeds random annotation values to NewEntitySpec. Whatever they are,
// the spec it returns must be one the CRD accepts, and must not depend on input order.
func FuzzNewEntitySpec(f *testing.F) {
	f.Add(uint8(1), uint8(0), uint32(0x7f), "Component", "service", "group:default/payments", "production", "system:shop", "Payments", "Takes money.", "Deployment")
	f.Add(uint8(3), uint8(0b010101), uint32(0x1fffff), "Service", "", "not a ref", strings.Repeat("l", 64), "my system", "", "", "RDSInstance")
	f.Add(uint8(2), uint8(0b0101), uint32(0), "", "", "", "", "", "", "", "Bucket")
	f.Add(uint8(2), uint8(0b0110), uint32(0x3fff), "Resource", strings.Repeat("t", 63)+"é", "x/y/z", "", "a--b/x", strings.Repeat("a", 255)+"€", strings.Repeat("d", 4094)+"😀", strings.Repeat("İ", 40))
	f.Add(uint8(3), uint8(0b101010), uint32(0x155555), "API", "\xff", "group:", "\xc3", ":x", "\xe2\x82", "\xf0\x9f\x98", "\xff")
	f.Fuzz(func(t *testing.T, n, families uint8, present uint32, kind, typ, owner, lifecycle, system, title, description, objKind string) {
		keys := []string{AnnotationKind, AnnotationType, AnnotationOwner, AnnotationLifecycle, AnnotationSystem, AnnotationTitle, AnnotationDescription}
		values := []string{kind, typ, owner, lifecycle, system, title, description}
		fams := []string{"other", sources.FamilyArgoCD, sources.FamilyCrossplane, sources.FamilyCrossplane}

		count := 1 + int(n)%3
		members := make([]Member, count)
		for i := range members {
			m := Member{
				// Distinct IDs, out of order in the input.
				ID:          SourceID(schema.GroupVersionKind{Group: "g", Kind: "K"}, "ns", string(rune('c'-i))),
				Family:      fams[(families>>(2*i))&3],
				Kind:        string(rune('X'+i)) + objKind,
				Annotations: map[string]string{},
			}
			for k, key := range keys {
				if present&(1<<(7*i+k)) != 0 {
					// Each member gets the values shifted by one key, so that members
					// differ, valid on one and invalid on another.
					m.Annotations[key] = values[(k+i)%len(values)]
				}
			}
			members[i] = m
		}
		before := make([]Member, len(members))
		for i, m := range members {
			before[i] = m
			before[i].Annotations = map[string]string{}
			for k, v := range m.Annotations {
				before[i].Annotations[k] = v
			}
		}

		spec, ignored := NewEntitySpec(members, testOwner)

		if diff := cmp.Diff(before, members); diff != "" {
			t.Fatalf("NewEntitySpec() changed its input (-before +after):\n%s", diff)
		}
		if !catalogv1alpha1.IsEntityKind(spec.Kind) {
			t.Errorf("kind %q is not an entity kind", spec.Kind)
		}
		if !catalogv1alpha1.IsEntityRef(string(spec.Owner)) {
			t.Errorf("owner %q is not an entity reference", spec.Owner)
		}
		if spec.System != "" && !catalogv1alpha1.IsEntityRef(string(spec.System)) {
			t.Errorf("system %q is not an entity reference", spec.System)
		}
		type limit struct {
			v   string
			max int
		}
		for field, l := range map[string]limit{
			"type": {spec.Type, 63}, "lifecycle": {spec.Lifecycle, 63}, "title": {spec.Title, 256}, "description": {spec.Description, 4096},
		} {
			if len(l.v) > l.max {
				t.Errorf("%s is %d bytes, more than %d", field, len(l.v), l.max)
			}
		}
		allValid := utf8.ValidString(objKind)
		for _, v := range values {
			allValid = allValid && utf8.ValidString(v)
		}
		if allValid {
			for field, v := range map[string]string{
				"kind": string(spec.Kind), "type": spec.Type, "owner": string(spec.Owner), "lifecycle": spec.Lifecycle,
				"system": string(spec.System), "title": spec.Title, "description": spec.Description,
			} {
				if !utf8.ValidString(v) {
					t.Errorf("%s %q is not valid UTF-8", field, v)
				}
			}
			for _, s := range ignored {
				if !utf8.ValidString(s) {
					t.Errorf("ignored %q is not valid UTF-8", s)
				}
			}
		}
		for _, s := range ignored {
			if _, v, ok := strings.Cut(s, "="); !ok || len(v) > 64 {
				t.Errorf("ignored %q: value not cut to 64 bytes", s)
			}
		}
		// The first member by ID with a valid kind decides the kind.
		sorted := slices.Clone(members)
		slices.SortFunc(sorted, func(a, b Member) int { return strings.Compare(a.ID, b.ID) })
		for _, m := range sorted {
			if k, ok := m.Annotations[AnnotationKind]; ok && catalogv1alpha1.IsEntityKind(catalogv1alpha1.EntityKind(k)) {
				if spec.Kind != catalogv1alpha1.EntityKind(k) {
					t.Errorf("kind = %q, want %q from %s", spec.Kind, k, m.ID)
				}
				break
			}
		}

		reversed := slices.Clone(members)
		slices.Reverse(reversed)
		spec2, ignored2 := NewEntitySpec(reversed, testOwner)
		if diff := cmp.Diff(spec, spec2); diff != "" {
			t.Errorf("spec depends on input order (-given +reversed):\n%s", diff)
		}
		if diff := cmp.Diff(ignored, ignored2); diff != "" {
			t.Errorf("ignored depends on input order (-given +reversed):\n%s", diff)
		}
	})
}
