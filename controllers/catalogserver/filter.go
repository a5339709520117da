// This file reads the query string into a filter, in canonical form: two queries that
// select the same entities are one filter, so they share one cached body and one render.

package catalogserver

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/catalog"
)

// filter is what the query string selects; empty sets select everything. Its values are
// canonical: namespaces in lowercase (Backstage compares them case-insensitively and
// writes them in lowercase), kinds spelt as Backstage spells them.
type filter struct {
	namespaces map[string]bool
	kinds      map[string]bool
}

// parseFilter reads the query of r. net/url has decoded it already (percent-encoding,
// '+' for a space); each value may hold a comma-separated list, with blanks around items
// ignored. An unknown parameter, kind or malformed namespace is a *badRequest.
func parseFilter(r *http.Request) (filter, error) {
	f := filter{namespaces: map[string]bool{}, kinds: map[string]bool{}}
	for key, values := range r.URL.Query() {
		for _, v := range values {
			for _, item := range strings.Split(v, ",") {
				item = strings.TrimSpace(item)
				if item == "" {
					continue
				}
				switch key {
				case "namespace":
					ns := strings.ToLower(item)
					if !catalog.IsNamespace(ns) {
						return f, &badRequest{"namespace " + strconv.Quote(item) + " is not a Backstage namespace"}
					}
					f.namespaces[ns] = true
				case "kind":
					k, ok := canonicalKind(item)
					if !ok {
						return f, &badRequest{"kind " + strconv.Quote(item) + " is not one of Component, Resource, System, API or Domain"}
					}
					f.kinds[k] = true
				default:
					return f, &badRequest{"unknown query parameter " + strconv.Quote(key) + ": use namespace or kind"}
				}
			}
		}
	}
	return f, nil
}

// matches reports whether f selects d.
func (f filter) matches(d catalog.Entity) bool {
	return (len(f.namespaces) == 0 || f.namespaces[d.Metadata.Namespace]) &&
		(len(f.kinds) == 0 || f.kinds[d.Kind])
}

// empty reports whether f selects everything: the query Backstage's location usually
// has.
func (f filter) empty() bool {
	return len(f.namespaces) == 0 && len(f.kinds) == 0
}

// query is f as a canonical query string, such as kind=API&kind=Component&namespace=shop;
// empty when f selects everything.
func (f filter) query() string {
	q := url.Values{}
	for _, k := range sortedKeys(f.kinds) {
		q.Add("kind", k)
	}
	for _, ns := range sortedKeys(f.namespaces) {
		q.Add("namespace", ns)
	}
	return q.Encode()
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// canonicalKind is s spelt as Backstage spells the kind, when s is one, in any case.
func canonicalKind(s string) (string, bool) {
	for _, k := range []catalogv1alpha1.EntityKind{
		catalogv1alpha1.KindComponent, catalogv1alpha1.KindResource, catalogv1alpha1.KindSystem,
		catalogv1alpha1.KindAPI, catalogv1alpha1.KindDomain,
	} {
		if strings.EqualFold(s, string(k)) {
			return string(k), true
		}
	}
	return "", false
}

// badRequest is a query the handler refuses with 400; its message says what to fix.
type badRequest struct{ msg string }

// Error implements error.
func (e *badRequest) Error() string { return e.msg }
