// This file rolls the health of entities up into the Systems and Domains they belong
// to: a System's members are the entities whose spec.system names it, a Domain's the
// Systems whose spec.domain names it. Members count as sources of kind CatalogEntity,
// read from the status the manager itself wrote, so a System shows which member is bad
// and why, and a quiet fleet makes no writes. Depth is bounded by the kinds: a Domain
// takes only Systems, a System takes neither Systems nor Domains, and nothing is its own
// member.

package catalogentity

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/entitystatus"
	"github.com/entityhub/entityhub/controllers/membership"
)

// memberKind is what a member is, as a source: the CatalogEntity it is.
var memberKind = catalogv1alpha1.GroupVersion.WithKind("CatalogEntity")

// rollsUpInto returns the references of what e rolls up into: the System its
// spec.system names (unless e is itself a System or Domain), and for a System the
// Domain its spec.domain names; each resolved as Backstage resolves it, in e's catalog
// namespace unless it names another.
func rollsUpInto(e *catalogv1alpha1.CatalogEntity) []string {
	ns := e.EffectiveCatalogNamespace()
	var out []string
	switch e.EffectiveKind() {
	case catalogv1alpha1.KindSystem:
		if e.Spec.Domain != "" {
			out = append(out, e.Spec.Domain.Resolve("domain", ns))
		}
	case catalogv1alpha1.KindDomain:
	default:
		if e.Spec.System != "" {
			out = append(out, e.Spec.System.Resolve("system", ns))
		}
	}
	return out
}

// collectMembers adds, for a System or a Domain, each member as a source of kind
// CatalogEntity, with the health, sync, ready count and message of the member's own
// status, and its Backstage kind as phase. Members
// come from the entity's own namespace unless it may take sources from every one.
func (r *Reconciler) collectMembers(ctx context.Context, c *collected, entity *catalogv1alpha1.CatalogEntity) error {
	if k := entity.EffectiveKind(); k != catalogv1alpha1.KindSystem && k != catalogv1alpha1.KindDomain {
		return nil
	}
	var members catalogv1alpha1.CatalogEntityList
	opts := []client.ListOption{client.MatchingFields{entityRollUpIndex: entity.RefKey()}, client.UnsafeDisableDeepCopy}
	if c.confined != "" {
		opts = append(opts, client.InNamespace(c.confined))
	}
	if err := r.cache.List(ctx, &members, opts...); err != nil {
		return fmt.Errorf("listing the members of %s: %w", entity.RefKey(), err)
	}
	for i := range members.Items {
		m := &members.Items[i]
		if m.UID == entity.UID {
			continue // nothing is its own member
		}
		// A member whose status is not computed yet has no health: Unknown, nobody knows.
		health := entitystatus.Normalize(m.Status.Health)
		c.append(catalogv1alpha1.SourceStatus{
			ID:         membership.SourceID(memberKind, m.Namespace, m.Name),
			APIVersion: memberKind.GroupVersion().String(),
			Kind:       memberKind.Kind,
			Namespace:  m.Namespace,
			Name:       m.Name,
			Health:     health,
			Sync:       m.Status.Sync,
			Ready:      m.Status.Ready,
			Phase:      string(m.EffectiveKind()),
			Message:    m.Status.Message,
		})
		c.perKind[membership.GroupKindKey(memberKind.GroupKind())]++
		c.objects++
	}
	return nil
}

// rollUpTargets returns the entities an entity's change concerns as a member: the
// Systems and Domains it rolls up into, before and after the change.
func (r *Reconciler) rollUpTargets(ctx context.Context, entities ...*catalogv1alpha1.CatalogEntity) []client.ObjectKey {
	seen := map[client.ObjectKey]bool{}
	var out []client.ObjectKey
	for _, e := range entities {
		if e == nil {
			continue
		}
		for _, ref := range rollsUpInto(e) {
			var targets catalogv1alpha1.CatalogEntityList
			if err := r.cache.List(ctx, &targets, client.MatchingFields{entityRefIndex: ref}, client.UnsafeDisableDeepCopy); err != nil {
				continue
			}
			for i := range targets.Items {
				if key := client.ObjectKeyFromObject(&targets.Items[i]); !seen[key] {
					seen[key] = true
					out = append(out, key)
				}
			}
		}
	}
	return out
}

// memberChanged reports whether a change of a member matters to what it rolls up into:
// its health, sync, ready count or message, what it names, or its own reference.
func memberChanged(old, e *catalogv1alpha1.CatalogEntity) bool {
	return old.Status.Health != e.Status.Health || old.Status.Sync != e.Status.Sync ||
		old.Status.Ready != e.Status.Ready || old.Status.Message != e.Status.Message ||
		old.Spec.System != e.Spec.System || old.Spec.Domain != e.Spec.Domain || old.RefKey() != e.RefKey()
}
