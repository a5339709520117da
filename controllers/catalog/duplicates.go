// This file decides which of several CatalogEntities naming one Backstage entity is
// published. A hub is shared (DESIGN.md §2, Tenancy): a tenant who may write
// CatalogEntities only in its own namespace must not be able to replace the platform
// team's entity — its owner, its links — by naming the same Backstage entity, nor to
// take a name first and keep it.

package catalog

import (
	"fmt"
	"strings"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

// maxNamedDuplicates bounds how many other CatalogEntities a duplicate's problem names,
// so that a name many namespaces share does not make every report as long as the list.
const maxNamedDuplicates = 3

// duplicates returns, for each CatalogEntity of order that is left out because others
// name the same Backstage entity, the *Problem saying so. The one in catalogNamespace,
// when there is one, is not in it: it goes on to be converted (and may still be left out
// for a reason of its own, which publishes none of them — the platform team's claim
// stands). order is sorted, so that the problems read the same on every build.
func duplicates(order []*catalogv1alpha1.CatalogEntity, catalogNamespace string) map[*catalogv1alpha1.CatalogEntity]*Problem {
	groups := map[string][]*catalogv1alpha1.CatalogEntity{}
	for _, e := range order {
		if key, ok := identityKey(e); ok {
			groups[key] = append(groups[key], e)
		}
	}
	out := map[*catalogv1alpha1.CatalogEntity]*Problem{}
	for _, group := range groups {
		if len(group) < 2 {
			continue
		}
		var winner *catalogv1alpha1.CatalogEntity
		if catalogNamespace != "" {
			for _, e := range group {
				if e.Namespace == catalogNamespace {
					winner = e
				}
			}
		}
		for _, e := range group {
			if e != winner {
				out[e] = duplicateProblem(e, group, winner, catalogNamespace)
			}
		}
	}
	return out
}

// duplicateProblem says why e, one of group, is left out: winner is published instead,
// or, when winner is nil, none of them is.
func duplicateProblem(e *catalogv1alpha1.CatalogEntity, group []*catalogv1alpha1.CatalogEntity, winner *catalogv1alpha1.CatalogEntity, catalogNamespace string) *Problem {
	ref := e.BackstageRef()
	if winner != nil {
		return problem(e, fmt.Sprintf(
			"it is the same Backstage entity, %s, as CatalogEntity %s/%s, which is published instead: "+
				"of CatalogEntities naming one Backstage entity, the one in the catalog namespace %s wins; "+
				"give this one another name, kind or spec.catalogNamespace",
			ref, winner.Namespace, winner.Name, catalogNamespace))
	}
	var others []string
	for _, o := range group {
		if o != e && len(others) < maxNamedDuplicates {
			others = append(others, o.Namespace+"/"+o.Name)
		}
	}
	names := "CatalogEntity " + strings.Join(others, ", ")
	if len(group) > 2 {
		names = "CatalogEntities " + strings.Join(others, ", ")
	}
	if more := len(group) - 1 - len(others); more > 0 {
		names += fmt.Sprintf(" and %d more", more)
	}
	where := "none of them is in the catalog namespace " + catalogNamespace
	if catalogNamespace == "" {
		where = "no catalog namespace is set to decide between them"
	}
	return problem(e, fmt.Sprintf(
		"it is the same Backstage entity, %s, as %s, and %s, so none is published; "+
			"give all but one another name, kind or spec.catalogNamespace, or move the right one to the catalog namespace",
		ref, names, where))
}

// identityKey is the Backstage entity e would be, its kind, namespace and name compared
// case-insensitively as Backstage compares them; false when e cannot be one (an
// unknown kind, a name or namespace Backstage refuses), so that it claims no name.
func identityKey(e *catalogv1alpha1.CatalogEntity) (string, bool) {
	kind, ns := e.EffectiveKind(), e.EffectiveCatalogNamespace()
	if !catalogv1alpha1.IsEntityKind(kind) || !IsNamespace(ns) || !isBackstageName(e.Name) {
		return "", false
	}
	return refKey(string(kind), ns, e.Name), true
}
