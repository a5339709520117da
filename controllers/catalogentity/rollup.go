// This file rolls the health of entities up into the Systems and Domains they belong
// to: a System's members are the entities whose spec.system names it, a Domain's the
// Systems whose spec.domain names it. Members count as sources of kind CatalogEntity,
// read from the status the manager itself wrote, so a System shows which member is bad
// and why, and a quiet fleet makes no writes.
//
// Depth is bounded by the kinds, whatever kinds the references spell out: an entity
// rolls up only into an entity one level above its own (a member into a System, a
// System into a Domain), so nothing is its own member and no change goes round in a
// loop. A reference that would make an entity its own member — it names the entity
// itself, or one of its own members — is not followed, and the entity says so in its
// RolledUp condition.

package catalogentity

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/entitystatus"
	"github.com/entityhub/entityhub/controllers/membership"
)

// memberKind is what a member is, as a source: the CatalogEntity it is.
var memberKind = catalogv1alpha1.GroupVersion.WithKind("CatalogEntity")

// The spec fields that name what an entity belongs to.
const (
	fieldSystem = "spec.system"
	fieldDomain = "spec.domain"
)

// namedRef is a reference an entity's spec names as what it belongs to.
type namedRef struct {
	field string // fieldSystem or fieldDomain
	ref   string // as EntityRef.Resolve writes it
}

// belongsTo returns what e's spec.system and spec.domain name, resolved as Backstage
// resolves them: a System unless spec.system names another kind, a Domain unless
// spec.domain does, in e's catalog namespace unless the reference names another.
func belongsTo(e *catalogv1alpha1.CatalogEntity) []namedRef {
	ns := e.EffectiveCatalogNamespace()
	var out []namedRef
	if e.Spec.System != "" {
		out = append(out, namedRef{fieldSystem, e.Spec.System.Resolve("system", ns)})
	}
	if e.Spec.Domain != "" {
		out = append(out, namedRef{fieldDomain, e.Spec.Domain.Resolve("domain", ns)})
	}
	return out
}

// level is where a kind stands in roll-ups: 0 for a member, 1 for a System, 2 for a
// Domain. An entity rolls up only into an entity one level above its own.
func level(kind string) int {
	switch strings.ToLower(kind) {
	case "system":
		return 1
	case "domain":
		return 2
	}
	return 0
}

// rollsUpInto returns the references of what e rolls up into: for a System the entity
// its spec.domain names, for any kind but System and Domain the one its spec.system
// names, each only when it is one level above e (a Domain rolls up into nothing).
// This is the one rule of membership: the index of members is built from it.
func rollsUpInto(e *catalogv1alpha1.CatalogEntity) []string {
	field := fieldSystem
	if e.EffectiveKind() == catalogv1alpha1.KindSystem {
		field = fieldDomain
	}
	own := level(string(e.EffectiveKind()))
	var out []string
	for _, n := range belongsTo(e) {
		kind, _, _ := strings.Cut(n.ref, ":")
		if n.field == field && level(kind) == own+1 {
			out = append(out, n.ref)
		}
	}
	return out
}

// rollUpCycle returns why e's spec.system or spec.domain is not followed when it names e
// itself or one of e's members (members are their references, as RefKey writes them):
// following it would make e a member of itself. It returns "" when neither does.
func rollUpCycle(e *catalogv1alpha1.CatalogEntity, members []string) string {
	var why []string
	for _, n := range belongsTo(e) {
		switch {
		case n.ref == e.RefKey():
			why = append(why, fmt.Sprintf("%s names this %s itself (%s): an entity is not its own member",
				n.field, e.EffectiveKind(), n.ref))
		case slices.Contains(members, n.ref):
			why = append(why, fmt.Sprintf("%s names %s, one of this %s's members: an entity is not a member of its own member",
				n.field, n.ref, e.EffectiveKind()))
		}
	}
	return strings.Join(why, "; ")
}

// noteRollUp sets the RolledUp condition of next to False when the entity's spec names
// the entity itself or one of its members, and removes it otherwise.
func noteRollUp(entity *catalogv1alpha1.CatalogEntity, members []string, next *catalogv1alpha1.CatalogEntityStatus, now time.Time) {
	why := rollUpCycle(entity, members)
	if why == "" {
		meta.RemoveStatusCondition(&next.Conditions, catalogv1alpha1.ConditionRolledUp)
		return
	}
	meta.SetStatusCondition(&next.Conditions, metav1.Condition{
		Type: catalogv1alpha1.ConditionRolledUp, Status: metav1.ConditionFalse, ObservedGeneration: entity.Generation,
		Reason: catalogv1alpha1.ReasonRollUpCycle, Message: catalogv1alpha1.Truncate(why, catalogv1alpha1.MaxMessageLength),
		LastTransitionTime: metav1.NewTime(now),
	})
}

// collectMembers adds, for a System or a Domain, each member as a source of kind
// CatalogEntity, with the health, sync, ready count and message of the member's own
// status, and its Backstage kind as phase; and notes each member's reference, for
// rollUpCycle. Members come from the entity's own namespace unless it may take sources
// from every one.
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
		c.members = append(c.members, m.RefKey())
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
