package helm

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
)

// key names an object the way both installs name it.
func key(o *unstructured.Unstructured) string {
	return fmt.Sprintf("%s %s/%s", o.GetKind(), o.GetNamespace(), o.GetName())
}

// byKey indexes objects by key.
func byKey(t *testing.T, objs []*unstructured.Unstructured) map[string]*unstructured.Unstructured {
	t.Helper()
	out := map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		if _, dup := out[key(o)]; dup {
			t.Fatalf("%s appears twice", key(o))
		}
		out[key(o)] = o
	}
	return out
}

// as converts an object to its typed form.
func as[T any](t *testing.T, o *unstructured.Unstructured) *T {
	t.Helper()
	out := new(T)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, out); err != nil {
		t.Fatalf("%s: %v", key(o), err)
	}
	return out
}

// aggregationLabels are the labels that decide which ClusterRoles Kubernetes aggregates
// into which: the only labels whose drift changes a permission.
func aggregationLabels(o *unstructured.Unstructured) map[string]string {
	out := map[string]string{}
	for k, v := range o.GetLabels() {
		if strings.Contains(k, "aggregate-to-") {
			out[k] = v
		}
	}
	return out
}

// normalRules sorts rules and the lists in them, so that two roles granting the same
// compare equal however their rules are written.
func normalRules(rules []rbacv1.PolicyRule) []string {
	out := make([]string, 0, len(rules))
	for _, r := range rules {
		parts := []string{}
		for _, list := range [][]string{r.APIGroups, r.Resources, r.ResourceNames, r.NonResourceURLs, r.Verbs} {
			s := append([]string(nil), list...)
			sort.Strings(s)
			parts = append(parts, strings.Join(s, ","))
		}
		out = append(out, strings.Join(parts, " | "))
	}
	sort.Strings(out)
	return out
}

// The chart's rendering at default values (with the Backstage objects, opt-in in the
// chart, turned on) agrees with config/default on everything that decides what the
// manager may do and how it runs: the CRD, every RBAC object (their rules, aggregation,
// namespace, and where their bindings point), the ServiceAccounts, Services,
// NetworkPolicy and Secret, and the Deployment's hardening, probes, ports, resources and
// flags.
func TestChartMatchesConfigDefault(t *testing.T) {
	kustomized, err := Kustomize("default")
	if err != nil {
		t.Fatalf("kustomize build config/default: %v", err)
	}
	rendered, err := Objects(Options{Values: map[string]any{
		"backstage": map[string]any{"enabled": true, "longLivedToken": true},
	}})
	if err != nil {
		t.Fatalf("rendering the chart: %v", err)
	}
	want, got := byKey(t, kustomized), byKey(t, rendered)

	for k, w := range want {
		if w.GetKind() == "Namespace" {
			continue // helm install --create-namespace makes it; the chart leaves it to Helm
		}
		g, ok := got[k]
		if !ok {
			t.Errorf("config/default has %s; the chart renders none", k)
			continue
		}
		if diff := compare(t, w, g); diff != "" {
			t.Errorf("%s differs between config/default (-) and the chart (+):\n%s", k, diff)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok && g.GetKind() != "NetworkPolicy" {
			// The NetworkPolicy is on in the chart, as it is in config/default once
			// that has one; until then it is the chart's alone.
			t.Errorf("the chart renders %s, which config/default does not have", k)
		}
	}
	checkSelectors(t, rendered)

	// At default values the chart renders the same, less the Backstage objects.
	defaults, err := Objects(Options{})
	if err != nil {
		t.Fatalf("rendering the chart: %v", err)
	}
	var backstage []string
	for k := range got {
		if !slices.Contains(kinds(defaults), k) {
			backstage = append(backstage, k)
		}
	}
	slices.Sort(backstage)
	if diff := cmp.Diff([]string{
		"ClusterRole /entityhub-backstage-reader", "ClusterRoleBinding /entityhub-backstage-reader",
		"Secret entityhub-system/entityhub-backstage-token", "ServiceAccount entityhub-system/entityhub-backstage",
	}, backstage); diff != "" {
		t.Errorf("what backstage.enabled adds (-want +got):\n%s", diff)
	}
	if len(defaults)+len(backstage) != len(rendered) {
		t.Errorf("the default render has objects the Backstage render has not: %v, against %v", kinds(defaults), kinds(rendered))
	}
}

// compare returns the differences that matter between an object of config/default and
// the chart's object of the same name.
func compare(t *testing.T, want, got *unstructured.Unstructured) string {
	t.Helper()
	switch want.GetKind() {
	case "CustomResourceDefinition":
		return cmp.Diff(want.Object["spec"], got.Object["spec"])
	case "ClusterRole", "Role":
		w, g := as[rbacv1.ClusterRole](t, want), as[rbacv1.ClusterRole](t, got)
		return cmp.Diff(want.GetNamespace(), got.GetNamespace()) +
			cmp.Diff(normalRules(w.Rules), normalRules(g.Rules)) +
			cmp.Diff(w.AggregationRule, g.AggregationRule) +
			cmp.Diff(aggregationLabels(want), aggregationLabels(got))
	case "ClusterRoleBinding", "RoleBinding":
		w, g := as[rbacv1.RoleBinding](t, want), as[rbacv1.RoleBinding](t, got)
		return cmp.Diff(w.RoleRef, g.RoleRef) + cmp.Diff(w.Subjects, g.Subjects)
	case "Service":
		w, g := as[corev1.Service](t, want), as[corev1.Service](t, got)
		return cmp.Diff(w.Spec.Ports, g.Spec.Ports)
	case "NetworkPolicy":
		w, g := as[networkingv1.NetworkPolicy](t, want), as[networkingv1.NetworkPolicy](t, got)
		return cmp.Diff(w.Spec.PolicyTypes, g.Spec.PolicyTypes) + cmp.Diff(w.Spec.Ingress, g.Spec.Ingress) +
			cmp.Diff(w.Spec.Egress, g.Spec.Egress)
	case "Secret":
		w, g := as[corev1.Secret](t, want), as[corev1.Secret](t, got)
		return cmp.Diff(w.Type, g.Type) + cmp.Diff(w.Annotations, g.Annotations)
	case "Deployment":
		return compareDeployments(as[appsv1.Deployment](t, want), as[appsv1.Deployment](t, got))
	case "ServiceAccount":
		return ""
	}
	t.Errorf("%s: the test does not know how to compare a %s; teach it", key(want), want.GetKind())
	return ""
}

// compareDeployments compares how the manager runs: everything but the image (a
// placeholder in both), labels and annotations.
func compareDeployments(want, got *appsv1.Deployment) string {
	wp, gp := want.Spec.Template.Spec, got.Spec.Template.Spec
	if len(wp.Containers) != 1 || len(gp.Containers) != 1 {
		return fmt.Sprintf("containers: config/default has %d, the chart %d; the test expects one", len(wp.Containers), len(gp.Containers))
	}
	wc, gc := wp.Containers[0], gp.Containers[0]
	// The chart always names the catalog namespace: its default is the release's
	// namespace, which is not the manager's default.
	gc.Args = without(gc.Args, "--catalog-namespace=entityhub-system")
	wc.Image, gc.Image = "", ""
	wc.ImagePullPolicy, gc.ImagePullPolicy = "", ""
	sorted := cmpopts.SortSlices(func(a, b string) bool { return a < b })
	return cmp.Diff(want.Spec.Replicas, got.Spec.Replicas) +
		cmp.Diff(wp.SecurityContext, gp.SecurityContext) +
		cmp.Diff(wp.ServiceAccountName, gp.ServiceAccountName) +
		cmp.Diff(wp.TerminationGracePeriodSeconds, gp.TerminationGracePeriodSeconds) +
		cmp.Diff(wc, gc, sorted)
}

// without returns list without s.
func without(list []string, s string) []string {
	var out []string
	for _, v := range list {
		if v != s {
			out = append(out, v)
		}
	}
	return out
}

// checkSelectors checks that the chart's Services and NetworkPolicy select the
// manager's pods: their selectors differ from config/default's (the chart adds the
// release), so they are checked against the pod template instead.
func checkSelectors(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	var pod labels.Set
	for _, o := range objs {
		if o.GetKind() == "Deployment" {
			pod = as[appsv1.Deployment](t, o).Spec.Template.Labels
		}
	}
	for _, o := range objs {
		var selector labels.Set
		switch o.GetKind() {
		case "Service":
			selector = as[corev1.Service](t, o).Spec.Selector
		case "NetworkPolicy":
			selector = as[networkingv1.NetworkPolicy](t, o).Spec.PodSelector.MatchLabels
		default:
			continue
		}
		if len(selector) == 0 || !labels.SelectorFromSet(selector).Matches(pod) {
			t.Errorf("%s selects %v, which does not select the manager's pod labels %v", key(o), selector, pod)
		}
	}
}
