package trace

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

// maxSuggestions is how many close names a "no such entity" error offers.
const maxSuggestions = 5

// explain turns an error of reading the entity into one that says what to do: the
// names that are close for one that does not exist, the verb and resource for one that
// is forbidden, the CRD for a cluster that does not know CatalogEntities.
func (t *Tracer) explain(ctx context.Context, err error, verb, name string) error {
	switch {
	case apierrors.IsNotFound(err) && !isNoKind(err):
		return t.notFound(ctx, name)
	case apierrors.IsForbidden(err):
		return Forbidden(err, verb, t.Namespace)
	case meta.IsNoMatchError(err) || isNoKind(err):
		return fmt.Errorf("the cluster does not know CatalogEntities: is entityhub's CRD installed? "+
			"(kubectl get crd catalogentities.%s) (%w)", catalogv1alpha1.Group, err)
	}
	return fmt.Errorf("reading CatalogEntity %s/%s: %w", t.Namespace, name, err)
}

// isNoKind reports whether a 404 is about the resource type rather than the object: the
// API server answers a request for a CRD that is not installed with a bare 404.
func isNoKind(err error) bool {
	var se apierrors.APIStatus
	if !errors.As(err, &se) {
		return false
	}
	d := se.Status().Details
	return apierrors.IsNotFound(err) && (d == nil || d.Name == "")
}

// notFound is the error for an entity that does not exist, with the names that come
// closest to it in every namespace the caller may list.
func (t *Tracer) notFound(ctx context.Context, name string) error {
	// Names only: a hub's entities with their statuses can weigh megabytes.
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(catalogv1alpha1.GroupVersion.WithKind("CatalogEntityList"))
	listErr := t.Client.List(ctx, list)
	if apierrors.IsForbidden(listErr) {
		listErr = t.Client.List(ctx, list, client.InNamespace(t.Namespace))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "no CatalogEntity %q in namespace %s", name, t.Namespace)
	if listErr != nil {
		fmt.Fprintf(&b, " (and no names to suggest: listing CatalogEntities failed: %v)", listErr)
		return errors.New(b.String())
	}
	near := Suggest(name, t.Namespace, list.Items)
	if len(near) == 0 {
		b.WriteString(", nor one with a name close to it; `kubectl get catalogentities -A` lists them all")
		return errors.New(b.String())
	}
	b.WriteString(". Did you mean:")
	for _, s := range near {
		b.WriteString("\n  " + s)
	}
	b.WriteString("\n(`kubectl get catalogentities -A` lists them all)")
	return errors.New(b.String())
}

// Suggest returns up to five entities whose names are close to name — one edit in three
// characters at most (Levenshtein), or a prefix either way — closest first, those in
// namespace first among equals, each as it would be traced: the name, with -n when it
// lives elsewhere.
func Suggest(name, namespace string, items []metav1.PartialObjectMetadata) []string {
	type candidate struct {
		name, namespace string
		distance        int
	}
	var found []candidate
	limit := max(2, len(name)/3)
	for _, e := range items {
		d := levenshtein(name, e.Name)
		prefix := strings.HasPrefix(e.Name, name) || strings.HasPrefix(name, e.Name)
		if (d == 0 && e.Namespace == namespace) || (d > limit && !prefix) {
			continue
		}
		found = append(found, candidate{e.Name, e.Namespace, d})
	}
	slices.SortFunc(found, func(a, b candidate) int {
		return cmp.Or(cmp.Compare(a.distance, b.distance),
			cmp.Compare(boolInt(a.namespace != namespace), boolInt(b.namespace != namespace)),
			cmp.Compare(a.name, b.name), cmp.Compare(a.namespace, b.namespace))
	})
	var out []string
	for _, c := range found[:min(len(found), maxSuggestions)] {
		s := c.name
		if c.namespace != namespace {
			s += " -n " + c.namespace
		}
		out = append(out, s)
	}
	return out
}

// levenshtein is the edit distance between a and b, in bytes: entity names are ASCII.
func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// forbiddenMessage is how the API server words a refusal; the verb and the user are in
// its message only, the resource also in the error's details.
var forbiddenMessage = regexp.MustCompile(`User "([^"]*)" cannot (\S+) resource "([^"]*)"(?: in API group "([^"]*)")?(?: in the namespace "([^"]*)")?`)

// Forbidden turns the API server's refusal into what to ask for: which verb on which
// resource, where, and how to check. verb and namespace are what was asked, used where
// the error does not say.
func Forbidden(err error, verb, namespace string) error {
	resource, group, user, where := "catalogentities", catalogv1alpha1.Group, "", namespace
	var se apierrors.APIStatus
	if errors.As(err, &se) && se.Status().Details != nil {
		if d := se.Status().Details; d.Kind != "" {
			resource, group = d.Kind, d.Group
		}
	}
	if m := forbiddenMessage.FindStringSubmatch(err.Error()); m != nil {
		user, verb, resource, group, where = m[1], m[2], m[3], m[4], m[5]
	}
	full := resource
	if group != "" {
		full += "." + group
	}
	scope, flag := "in every namespace", " -A"
	if where != "" {
		scope, flag = "in namespace "+where, " -n "+where
	}
	who := "you"
	if user != "" {
		who = fmt.Sprintf("you (%s)", user)
	}
	hint := ""
	if resource == "catalogentities" {
		hint = " (where entityhub is installed, the built-in view role includes reading catalogentities)"
	}
	return fmt.Errorf("%s may not %s %s %s. Ask for a Role or ClusterRole that allows %q on %s there%s; check with:\n"+
		"  kubectl auth can-i %s %s%s",
		who, verb, full, scope, verb, full, hint, verb, full, flag)
}
