package membership

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/sources"
)

const testOwner = "group:default/platform-team"

func TestSourceID(t *testing.T) {
	tests := map[string]struct {
		gvk             schema.GroupVersionKind
		namespace, name string
		want            string
	}{
		"namespaced, named group": {
			gvk:       schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "Application"},
			namespace: "argocd", name: "payments",
			want: "argoproj.io/Application/argocd/payments",
		},
		"core group has an empty group part": {
			gvk:       schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"},
			namespace: "default", name: "cfg",
			want: "/ConfigMap/default/cfg",
		},
		"cluster-scoped has an empty namespace part": {
			gvk:  schema.GroupVersionKind{Group: "database.aws.crossplane.io", Version: "v1beta1", Kind: "RDSInstance"},
			name: "payments-db",
			want: "database.aws.crossplane.io/RDSInstance//payments-db",
		},
		"version is not part of the ID": {
			gvk:       schema.GroupVersionKind{Group: "argoproj.io", Version: "v1beta9", Kind: "Application"},
			namespace: "argocd", name: "payments",
			want: "argoproj.io/Application/argocd/payments",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, SourceID(tc.gvk, tc.namespace, tc.name)); diff != "" {
				t.Errorf("SourceID() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGroupKindKey(t *testing.T) {
	tests := map[string]struct {
		gk   schema.GroupKind
		want string
	}{
		"named group": {gk: schema.GroupKind{Group: "argoproj.io", Kind: "Workflow"}, want: "argoproj.io/Workflow"},
		"core group":  {gk: schema.GroupKind{Kind: "Service"}, want: "/Service"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, GroupKindKey(tc.gk)); diff != "" {
				t.Errorf("GroupKindKey() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSelectorGroupKind(t *testing.T) {
	tests := map[string]struct {
		apiVersion, kind string
		want             schema.GroupKind
		wantErr          bool
	}{
		"v1 is the core group": {apiVersion: "v1", kind: "ConfigMap", want: schema.GroupKind{Kind: "ConfigMap"}},
		"named group": {
			apiVersion: "argoproj.io/v1alpha1", kind: "Application",
			want: schema.GroupKind{Group: "argoproj.io", Kind: "Application"},
		},
		"apps/v1":                 {apiVersion: "apps/v1", kind: "Deployment", want: schema.GroupKind{Group: "apps", Kind: "Deployment"}},
		"three parts is an error": {apiVersion: "a/b/c", kind: "X", wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := SelectorGroupKind(catalogv1alpha1.SourceSelector{APIVersion: tc.apiVersion, Kind: tc.kind})
			if (err != nil) != tc.wantErr {
				t.Fatalf("SelectorGroupKind() error = %v, want error: %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("SelectorGroupKind() (-want +got):\n%s", diff)
			}
		})
	}
}

func obj(namespace, name string, labels map[string]string) *metav1.ObjectMeta {
	return &metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: labels}
}

func TestSelects(t *testing.T) {
	app := schema.GroupKind{Group: "argoproj.io", Kind: "Application"}
	named := func(namespace, name string) catalogv1alpha1.SourceSelector {
		return catalogv1alpha1.SourceSelector{APIVersion: "argoproj.io/v1alpha1", Kind: "Application", Namespace: namespace, Name: name}
	}
	selecting := func(namespace string, s *metav1.LabelSelector) catalogv1alpha1.SourceSelector {
		return catalogv1alpha1.SourceSelector{APIVersion: "argoproj.io/v1alpha1", Kind: "Application", Namespace: namespace, Selector: s}
	}
	expr := func(key string, op metav1.LabelSelectorOperator, values ...string) *metav1.LabelSelector {
		return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: key, Operator: op, Values: values}}}
	}
	teamA := map[string]string{"team": "a", "tier": "web"}

	tests := map[string]struct {
		sel     catalogv1alpha1.SourceSelector
		gk      schema.GroupKind
		obj     metav1.Object
		want    bool
		wantErr bool
	}{
		// By name.
		"name and namespace equal":                           {sel: named("argocd", "payments"), gk: app, obj: obj("argocd", "payments", nil), want: true},
		"different name":                                     {sel: named("argocd", "payments"), gk: app, obj: obj("argocd", "orders", nil)},
		"same name, different namespace":                     {sel: named("argocd", "payments"), gk: app, obj: obj("other", "payments", nil)},
		"same name, entry namespaced, object cluster-scoped": {sel: named("argocd", "payments"), gk: app, obj: obj("", "payments", nil)},
		"no namespace names a cluster-scoped object":         {sel: named("", "payments"), gk: app, obj: obj("", "payments", nil), want: true},
		// The entry names the cluster-scoped object <name>, which is what the reconciler
		// reads for it (a Get with an empty namespace); a namespaced object of the same
		// name is another object.
		"no namespace does not name a namespaced object": {sel: named("", "payments"), gk: app, obj: obj("argocd", "payments", nil)},
		"name entry ignores labels":                      {sel: named("argocd", "payments"), gk: app, obj: obj("argocd", "payments", teamA), want: true},

		// By selector.
		"matchLabels match": {
			sel: selecting("", &metav1.LabelSelector{MatchLabels: map[string]string{"team": "a"}}), gk: app,
			obj: obj("argocd", "x", teamA), want: true,
		},
		"matchLabels, all pairs must match": {
			sel: selecting("", &metav1.LabelSelector{MatchLabels: map[string]string{"team": "a", "tier": "db"}}), gk: app,
			obj: obj("argocd", "x", teamA),
		},
		"matchLabels other value": {
			sel: selecting("", &metav1.LabelSelector{MatchLabels: map[string]string{"team": "b"}}), gk: app,
			obj: obj("argocd", "x", teamA),
		},
		"matchLabels empty value does not match a missing label": {
			sel: selecting("", &metav1.LabelSelector{MatchLabels: map[string]string{"owner": ""}}), gk: app,
			obj: obj("argocd", "x", teamA),
		},
		"matchLabels on nil labels": {
			sel: selecting("", &metav1.LabelSelector{MatchLabels: map[string]string{"team": "a"}}), gk: app,
			obj: obj("argocd", "x", nil),
		},
		"selector in the object's namespace": {
			sel: selecting("argocd", &metav1.LabelSelector{MatchLabels: map[string]string{"team": "a"}}), gk: app,
			obj: obj("argocd", "x", teamA), want: true,
		},
		"selector in another namespace": {
			sel: selecting("other", &metav1.LabelSelector{MatchLabels: map[string]string{"team": "a"}}), gk: app,
			obj: obj("argocd", "x", teamA),
		},
		"In matches":             {sel: selecting("", expr("team", metav1.LabelSelectorOpIn, "b", "a")), gk: app, obj: obj("ns", "x", teamA), want: true},
		"In does not match":      {sel: selecting("", expr("team", metav1.LabelSelectorOpIn, "b", "c")), gk: app, obj: obj("ns", "x", teamA)},
		"In on a missing label":  {sel: selecting("", expr("zone", metav1.LabelSelectorOpIn, "a")), gk: app, obj: obj("ns", "x", teamA)},
		"NotIn excludes":         {sel: selecting("", expr("team", metav1.LabelSelectorOpNotIn, "a")), gk: app, obj: obj("ns", "x", teamA)},
		"NotIn other value":      {sel: selecting("", expr("team", metav1.LabelSelectorOpNotIn, "b")), gk: app, obj: obj("ns", "x", teamA), want: true},
		"NotIn on nil labels":    {sel: selecting("", expr("team", metav1.LabelSelectorOpNotIn, "a")), gk: app, obj: obj("ns", "x", nil), want: true},
		"Exists":                 {sel: selecting("", expr("tier", metav1.LabelSelectorOpExists)), gk: app, obj: obj("ns", "x", teamA), want: true},
		"Exists, missing label":  {sel: selecting("", expr("zone", metav1.LabelSelectorOpExists)), gk: app, obj: obj("ns", "x", teamA)},
		"Exists on nil labels":   {sel: selecting("", expr("zone", metav1.LabelSelectorOpExists)), gk: app, obj: obj("ns", "x", nil)},
		"DoesNotExist":           {sel: selecting("", expr("zone", metav1.LabelSelectorOpDoesNotExist)), gk: app, obj: obj("ns", "x", teamA), want: true},
		"DoesNotExist, present":  {sel: selecting("", expr("team", metav1.LabelSelectorOpDoesNotExist)), gk: app, obj: obj("ns", "x", teamA)},
		"empty selector matches": {sel: selecting("", &metav1.LabelSelector{}), gk: app, obj: obj("ns", "x", teamA), want: true},
		"empty selector matches nil labels": {
			sel: selecting("", &metav1.LabelSelector{}), gk: app, obj: obj("ns", "x", nil), want: true,
		},
		"empty selector, other namespace": {sel: selecting("a", &metav1.LabelSelector{}), gk: app, obj: obj("b", "x", nil)},
		"matchLabels and matchExpressions both apply": {
			sel: selecting("", &metav1.LabelSelector{
				MatchLabels:      map[string]string{"team": "a"},
				MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"db"}}},
			}),
			gk: app, obj: obj("ns", "x", teamA),
		},
		"invalid operator": {
			sel: selecting("", expr("team", metav1.LabelSelectorOperator("Equals"), "a")), gk: app,
			obj: obj("ns", "x", teamA), wantErr: true,
		},
		"In without values": {sel: selecting("", expr("team", metav1.LabelSelectorOpIn)), gk: app, obj: obj("ns", "x", teamA), wantErr: true},
		"invalid label value": {
			sel: selecting("", &metav1.LabelSelector{MatchLabels: map[string]string{"team": "a b"}}), gk: app,
			obj: obj("ns", "x", teamA), wantErr: true,
		},
		"entry with neither name nor selector selects nothing": {
			sel: catalogv1alpha1.SourceSelector{APIVersion: "argoproj.io/v1alpha1", Kind: "Application"}, gk: app,
			obj: obj("ns", "x", teamA),
		},

		// Group and kind.
		"different group, same kind": {
			sel: named("argocd", "payments"), gk: schema.GroupKind{Group: "example.com", Kind: "Application"},
			obj: obj("argocd", "payments", nil),
		},
		"same group, different kind": {
			sel: named("argocd", "payments"), gk: schema.GroupKind{Group: "argoproj.io", Kind: "AppProject"},
			obj: obj("argocd", "payments", nil),
		},
		"other version of the same kind": {
			sel: catalogv1alpha1.SourceSelector{APIVersion: "argoproj.io/v1beta1", Kind: "Application", Namespace: "argocd", Name: "payments"},
			gk:  app, obj: obj("argocd", "payments", nil), want: true,
		},
		"core group entry": {
			sel: catalogv1alpha1.SourceSelector{APIVersion: "v1", Kind: "ConfigMap", Namespace: "ns", Name: "cfg"},
			gk:  schema.GroupKind{Kind: "ConfigMap"}, obj: obj("ns", "cfg", nil), want: true,
		},
		"core entry does not select a named group": {
			sel: catalogv1alpha1.SourceSelector{APIVersion: "v1", Kind: "ConfigMap", Namespace: "ns", Name: "cfg"},
			gk:  schema.GroupKind{Group: "example.com", Kind: "ConfigMap"}, obj: obj("ns", "cfg", nil),
		},
		"kind is case-sensitive": {
			sel: catalogv1alpha1.SourceSelector{APIVersion: "argoproj.io/v1alpha1", Kind: "application", Namespace: "argocd", Name: "payments"},
			gk:  app, obj: obj("argocd", "payments", nil),
		},
		"invalid apiVersion": {
			sel: catalogv1alpha1.SourceSelector{APIVersion: "a/b/c", Kind: "Application", Name: "payments"},
			gk:  app, obj: obj("", "payments", nil), wantErr: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Selects(tc.sel, tc.gk, tc.obj)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Selects() error = %v, want error: %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("Selects() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLabelSelector(t *testing.T) {
	tests := map[string]struct {
		sel     *metav1.LabelSelector
		wantNil bool
		want    string
	}{
		"no selector":    {wantNil: true},
		"empty selector": {sel: &metav1.LabelSelector{}, want: ""},
		"matchLabels":    {sel: &metav1.LabelSelector{MatchLabels: map[string]string{"b": "2", "a": "1"}}, want: "a=1,b=2"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := LabelSelector(catalogv1alpha1.SourceSelector{Selector: tc.sel})
			if err != nil {
				t.Fatalf("LabelSelector() error = %v", err)
			}
			if (got == nil) != tc.wantNil {
				t.Fatalf("LabelSelector() = %v, want nil: %v", got, tc.wantNil)
			}
			if got != nil {
				if diff := cmp.Diff(tc.want, got.String()); diff != "" {
					t.Errorf("LabelSelector() (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestAnnotationsSurviveTheCache: every annotation NewEntitySpec reads is one the cache
// keeps of a source, whatever kind it is.
func TestAnnotationsSurviveTheCache(t *testing.T) {
	all := []string{AnnotationKind, AnnotationType, AnnotationOwner, AnnotationLifecycle,
		AnnotationSystem, AnnotationTitle, AnnotationDescription}
	annotations := map[string]any{"other.example.com/note": "x"}
	for _, a := range all {
		annotations[a] = "v"
	}
	u := &unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{"annotations": annotations}}}
	sources.KeepAnnotations(u, nil)
	kept := u.GetAnnotations()
	for _, a := range all {
		if _, ok := kept[a]; !ok {
			t.Errorf("the cache drops %s", a)
		}
	}
	if len(kept) != len(all) {
		t.Errorf("the cache keeps %v, want only the %d annotations NewEntitySpec reads", kept, len(all))
	}
}

// ann returns the annotations of a member, keys given without their common prefix.
func ann(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m["catalog.entityhub.dev/"+kv[i]] = kv[i+1]
	}
	return m
}

func TestNewEntitySpec(t *testing.T) {
	long := func(n int) string { return strings.Repeat("t", n) }
	tests := map[string]struct {
		members     []Member
		want        catalogv1alpha1.CatalogEntitySpec
		wantIgnored []string
	}{
		"no members": {
			want: catalogv1alpha1.CatalogEntitySpec{Kind: catalogv1alpha1.KindComponent, Owner: testOwner},
		},
		"every annotation on one member": {
			members: []Member{
				{ID: "apps/Deployment/ns/b", Family: "other", Kind: "Deployment"},
				{ID: "apps/Deployment/ns/a", Family: "other", Kind: "Deployment", Annotations: ann(
					"kind", "System", "type", "service", "owner", "group:default/payments",
					"lifecycle", "production", "system", "system:default/shop", "title", "Payments",
					"description", "Takes the money.")},
			},
			want: catalogv1alpha1.CatalogEntitySpec{
				Kind: catalogv1alpha1.KindSystem, Type: "service", Owner: "group:default/payments",
				Lifecycle: "production", System: "system:default/shop", Title: "Payments", Description: "Takes the money.",
			},
		},
		"first member by ID wins": {
			members: []Member{
				{ID: "c", Family: "other", Annotations: ann("kind", "Domain", "type", "c", "owner", "user:c",
					"lifecycle", "c", "system", "c", "title", "C", "description", "C.")},
				{ID: "a", Family: "other", Annotations: ann("kind", "API", "type", "a", "owner", "user:a",
					"lifecycle", "a", "system", "a", "title", "A", "description", "A.")},
				{ID: "b", Family: "other", Annotations: ann("kind", "System", "type", "b", "owner", "user:b",
					"lifecycle", "b", "system", "b", "title", "B", "description", "B.")},
			},
			want: catalogv1alpha1.CatalogEntitySpec{
				Kind: catalogv1alpha1.KindAPI, Type: "a", Owner: "user:a", Lifecycle: "a", System: "a", Title: "A", Description: "A.",
			},
		},
		"each field from the first member that has it": {
			members: []Member{
				{ID: "a", Family: "other", Annotations: ann("owner", "user:a")},
				{ID: "b", Family: "other", Annotations: ann("title", "B", "owner", "user:b")},
				{ID: "c", Family: "other", Annotations: ann("type", "website", "title", "C")},
			},
			want: catalogv1alpha1.CatalogEntitySpec{Kind: catalogv1alpha1.KindComponent, Type: "website", Owner: "user:a", Title: "B"},
		},
		"invalid values are skipped for the next member's valid one": {
			members: []Member{
				{ID: "b", Family: "other", Annotations: ann("kind", "Resource", "type", long(63), "owner", "group:payments",
					"lifecycle", "experimental", "system", "shop", "title", "B", "description", "B.")},
				{ID: "a", Family: "other", Annotations: ann("kind", "Service", "type", "", "owner", "not a ref",
					"lifecycle", long(64), "system", "my system", "title", "", "description", "")},
			},
			want: catalogv1alpha1.CatalogEntitySpec{
				Kind: catalogv1alpha1.KindResource, Type: long(63), Owner: "group:payments",
				Lifecycle: "experimental", System: "shop", Title: "B", Description: "B.",
			},
			wantIgnored: []string{
				"a: catalog.entityhub.dev/kind=Service",
				"a: catalog.entityhub.dev/type=",
				"a: catalog.entityhub.dev/lifecycle=" + long(64),
				"a: catalog.entityhub.dev/owner=not a ref",
				"a: catalog.entityhub.dev/system=my system",
				"a: catalog.entityhub.dev/title=",
				"a: catalog.entityhub.dev/description=",
			},
		},
		"type longer than 63 bytes is skipped, reported cut to 64 bytes on a character boundary": {
			members: []Member{
				// 63 bytes and a 2-byte 'é': 65 bytes; byte 64 is inside the 'é'.
				{ID: "a", Family: "other", Annotations: ann("type", long(63)+"é")},
				{ID: "b", Family: "other", Annotations: ann("type", long(64))},
				{ID: "c", Family: "other", Annotations: ann("type", "service")},
			},
			want: catalogv1alpha1.CatalogEntitySpec{Kind: catalogv1alpha1.KindComponent, Type: "service", Owner: testOwner},
			wantIgnored: []string{
				"a: catalog.entityhub.dev/type=" + long(63),
				"b: catalog.entityhub.dev/type=" + long(64),
			},
		},
		"no valid value at all: defaults, everything reported": {
			members: []Member{
				{ID: "a", Family: sources.FamilyCrossplane, Kind: "Bucket", Annotations: ann("kind", "component", "owner", "group:Default/x", "system", "x/y/z")},
				{ID: "b", Family: sources.FamilyCrossplane, Kind: "Bucket", Annotations: ann("kind", "Group", "owner", "")},
			},
			want: catalogv1alpha1.CatalogEntitySpec{Kind: catalogv1alpha1.KindResource, Type: "bucket", Owner: testOwner},
			wantIgnored: []string{
				"a: catalog.entityhub.dev/kind=component",
				"b: catalog.entityhub.dev/kind=Group",
				"a: catalog.entityhub.dev/owner=group:Default/x",
				"b: catalog.entityhub.dev/owner=",
				"a: catalog.entityhub.dev/system=x/y/z",
			},
		},
		"Argo CD among the members: Component": {
			members: []Member{
				{ID: "a", Family: sources.FamilyCrossplane, Kind: "Bucket"},
				{ID: "b", Family: sources.FamilyArgoCD, Kind: "Application"},
			},
			want: catalogv1alpha1.CatalogEntitySpec{Kind: catalogv1alpha1.KindComponent, Owner: testOwner},
		},
		"only Crossplane: Resource typed by the first member's kind": {
			members: []Member{
				{ID: "z/RDSInstance//db", Family: sources.FamilyCrossplane, Kind: "RDSInstance"},
				{ID: "a/Bucket//files", Family: sources.FamilyCrossplane, Kind: "Bucket"},
			},
			want: catalogv1alpha1.CatalogEntitySpec{Kind: catalogv1alpha1.KindResource, Type: "bucket", Owner: testOwner},
		},
		"only Crossplane, type annotation wins": {
			members: []Member{
				{ID: "a", Family: sources.FamilyCrossplane, Kind: "Bucket"},
				{ID: "b", Family: sources.FamilyCrossplane, Kind: "RDSInstance", Annotations: ann("type", "database")},
			},
			want: catalogv1alpha1.CatalogEntitySpec{Kind: catalogv1alpha1.KindResource, Type: "database", Owner: testOwner},
		},
		"only Crossplane, kind annotation wins": {
			members: []Member{
				{ID: "a", Family: sources.FamilyCrossplane, Kind: "Bucket", Annotations: ann("kind", "Component")},
			},
			want: catalogv1alpha1.CatalogEntitySpec{Kind: catalogv1alpha1.KindComponent, Owner: testOwner},
		},
		"Resource by annotation is typed by the first member's kind": {
			members: []Member{
				{ID: "b", Family: sources.FamilyArgoCD, Kind: "Application", Annotations: ann("kind", "Resource")},
				{ID: "a", Family: "workflows", Kind: "CronWorkflow"},
			},
			want: catalogv1alpha1.CatalogEntitySpec{Kind: catalogv1alpha1.KindResource, Type: "cronworkflow", Owner: testOwner},
		},
		"Crossplane and another family: Component": {
			members: []Member{
				{ID: "a", Family: sources.FamilyCrossplane, Kind: "Bucket"},
				{ID: "b", Family: "workflows", Kind: "Workflow"},
			},
			want: catalogv1alpha1.CatalogEntitySpec{Kind: catalogv1alpha1.KindComponent, Owner: testOwner},
		},
		"other families only: Component": {
			members: []Member{{ID: "a", Family: "workflows", Kind: "Workflow"}, {ID: "b", Kind: "Deployment"}},
			want:    catalogv1alpha1.CatalogEntitySpec{Kind: catalogv1alpha1.KindComponent, Owner: testOwner},
		},
		"title and description cut on a character boundary": {
			members: []Member{{ID: "a", Family: "other", Annotations: ann(
				// 255 bytes and a 3-byte '€': byte 256 is inside the '€'.
				"title", strings.Repeat("a", 255)+"€",
				// 4094 bytes and a 4-byte emoji: bytes 4095..4097 are inside it.
				"description", strings.Repeat("d", 4094)+"😀tail")}},
			want: catalogv1alpha1.CatalogEntitySpec{
				Kind: catalogv1alpha1.KindComponent, Owner: testOwner,
				Title: strings.Repeat("a", 255), Description: strings.Repeat("d", 4094),
			},
		},
		"title and description that end exactly at the limit are kept": {
			members: []Member{{ID: "a", Family: "other", Annotations: ann(
				"title", strings.Repeat("a", 253)+"€",
				"description", strings.Repeat("d", 4092)+"😀")}},
			want: catalogv1alpha1.CatalogEntitySpec{
				Kind: catalogv1alpha1.KindComponent, Owner: testOwner,
				Title: strings.Repeat("a", 253) + "€", Description: strings.Repeat("d", 4092) + "😀",
			},
		},
		"unrelated annotations are not reported": {
			members: []Member{{ID: "a", Family: "other", Annotations: map[string]string{
				"catalog.entityhub.dev/colour": "blue", "kind": "Service", "owner": "not a ref",
			}}},
			want: catalogv1alpha1.CatalogEntitySpec{Kind: catalogv1alpha1.KindComponent, Owner: testOwner},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			// The result depends on the members' IDs, never on the order they come in.
			orders := map[string][]Member{"given order": tc.members, "reversed": slices.Clone(tc.members)}
			slices.Reverse(orders["reversed"])
			for order, members := range orders {
				got, ignored := NewEntitySpec(members, testOwner)
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("%s: NewEntitySpec() spec (-want +got):\n%s", order, diff)
				}
				if diff := cmp.Diff(tc.wantIgnored, ignored, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("%s: NewEntitySpec() ignored (-want +got):\n%s", order, diff)
				}
			}
		})
	}
}

func TestNewEntitySpecKeepsInputOrder(t *testing.T) {
	members := []Member{
		{ID: "c", Family: sources.FamilyCrossplane, Kind: "C", Annotations: ann("title", "C")},
		{ID: "a", Family: sources.FamilyCrossplane, Kind: "A", Annotations: ann("title", "A")},
		{ID: "b", Family: sources.FamilyCrossplane, Kind: "B", Annotations: ann("title", "B")},
	}
	before := slices.Clone(members)
	spec, _ := NewEntitySpec(members, testOwner)
	if diff := cmp.Diff(before, members); diff != "" {
		t.Errorf("NewEntitySpec() reordered its input (-before +after):\n%s", diff)
	}
	if spec.Title != "A" {
		t.Errorf("NewEntitySpec() title = %q, want %q", spec.Title, "A")
	}
}
