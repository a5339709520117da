package catalogentity

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

// rollUpEntity is an entity called name, of kind, whose spec names system and domain.
func rollUpEntity(name string, kind catalogv1alpha1.EntityKind, system, domain string) *catalogv1alpha1.CatalogEntity {
	return &catalogv1alpha1.CatalogEntity{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "entityhub-system", Generation: 3},
		Spec: catalogv1alpha1.CatalogEntitySpec{Kind: kind, System: catalogv1alpha1.EntityRef(system),
			Domain: catalogv1alpha1.EntityRef(domain)},
	}
}

// TestRollsUpInto: an entity rolls up only into an entity one level above its own — a
// member into a System, a System into a Domain — whatever kinds its references spell
// out, so that nothing is its own member and depth is bounded.
func TestRollsUpInto(t *testing.T) {
	tests := map[string]struct {
		reason string
		entity *catalogv1alpha1.CatalogEntity
		want   []string
	}{
		"ComponentIntoSystem": {
			reason: "A Component rolls up into the System its spec.system names, in its catalog namespace.",
			entity: rollUpEntity("web", catalogv1alpha1.KindComponent, "shop", ""),
			want:   []string{"system:default/shop"},
		},
		"KindDefaultsToComponent": {
			reason: "An entity without spec.kind is a Component.",
			entity: rollUpEntity("web", "", "system:team-a/Shop", ""),
			want:   []string{"system:team-a/shop"},
		},
		"ResourceIgnoresDomain": {
			reason: "Only a System rolls up through spec.domain.",
			entity: rollUpEntity("db", catalogv1alpha1.KindResource, "", "commerce"),
		},
		"ComponentNotIntoDomain": {
			reason: "A Domain takes only Systems: a spec.system that spells out kind domain is not followed.",
			entity: rollUpEntity("web", catalogv1alpha1.KindComponent, "domain:commerce", ""),
		},
		"SystemIntoDomain": {
			reason: "A System rolls up into the Domain its spec.domain names.",
			entity: rollUpEntity("shop", catalogv1alpha1.KindSystem, "", "commerce"),
			want:   []string{"domain:default/commerce"},
		},
		"SystemIgnoresSystem": {
			reason: "A System is no member of a System: its spec.system, even naming itself, is not followed.",
			entity: rollUpEntity("shop", catalogv1alpha1.KindSystem, "shop", ""),
		},
		"SystemNotIntoSystem": {
			reason: "A spec.domain that spells out kind system would put a System into a System, and two that name each other in a loop.",
			entity: rollUpEntity("shop", catalogv1alpha1.KindSystem, "", "system:billing"),
		},
		"SystemNotIntoItself": {
			reason: "A System's spec.domain naming the System itself is not followed.",
			entity: rollUpEntity("shop", catalogv1alpha1.KindSystem, "", "system:shop"),
		},
		"DomainIntoNothing": {
			reason: "A Domain is the top: it rolls up into nothing, whatever it names.",
			entity: rollUpEntity("commerce", catalogv1alpha1.KindDomain, "shop", "commerce"),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, rollsUpInto(tc.entity)); diff != "" {
				t.Errorf("\n%s\nrollsUpInto(...): -want, +got:\n%s", tc.reason, diff)
			}
			for _, ref := range rollsUpInto(tc.entity) {
				if ref == tc.entity.RefKey() {
					t.Errorf("%s rolls up into itself", ref)
				}
			}
		})
	}
}

// TestRollUpCycle: a spec.system or spec.domain that names the entity itself, or one of
// its own members, is reported, naming the field; anything else is not.
func TestRollUpCycle(t *testing.T) {
	tests := map[string]struct {
		reason  string
		entity  *catalogv1alpha1.CatalogEntity
		members []string
		want    string
	}{
		"Member": {
			reason: "A Component in a System is no cycle.",
			entity: rollUpEntity("web", catalogv1alpha1.KindComponent, "shop", ""),
		},
		"SystemInDomain": {
			reason:  "A System with members, in a Domain, is no cycle.",
			entity:  rollUpEntity("shop", catalogv1alpha1.KindSystem, "", "commerce"),
			members: []string{"component:default/web"},
		},
		"SystemNamesItself": {
			reason: "A System whose spec.system names it is reported.",
			entity: rollUpEntity("shop", catalogv1alpha1.KindSystem, "shop", ""),
			want:   "spec.system names this System itself (system:default/shop): an entity is not its own member",
		},
		"SystemNamesItselfAsDomain": {
			reason: "So is one whose spec.domain names it by its kind.",
			entity: rollUpEntity("shop", catalogv1alpha1.KindSystem, "", "System:default/shop"),
			want:   "spec.domain names this System itself (system:default/shop): an entity is not its own member",
		},
		"DomainNamesItself": {
			reason: "A Domain whose spec.domain names it is reported.",
			entity: rollUpEntity("commerce", catalogv1alpha1.KindDomain, "", "commerce"),
			want:   "spec.domain names this Domain itself (domain:default/commerce): an entity is not its own member",
		},
		"DomainNamesItsMember": {
			reason:  "A Domain whose spec.system names one of its Systems is reported.",
			entity:  rollUpEntity("commerce", catalogv1alpha1.KindDomain, "shop", ""),
			members: []string{"system:default/billing", "system:default/shop"},
			want:    "spec.system names system:default/shop, one of this Domain's members: an entity is not a member of its own member",
		},
		"DomainNamesAnotherSystem": {
			reason:  "A Domain whose spec.system names a System that is not its member is no cycle.",
			entity:  rollUpEntity("commerce", catalogv1alpha1.KindDomain, "payments", ""),
			members: []string{"system:default/shop"},
		},
		"OtherCatalogNamespace": {
			reason:  "A member of the same name in another catalog namespace is another entity.",
			entity:  rollUpEntity("commerce", catalogv1alpha1.KindDomain, "shop", ""),
			members: []string{"system:team-a/shop"},
		},
		"SystemNamesItsMember": {
			reason:  "A System whose spec.system names one of its members by its kind is reported.",
			entity:  rollUpEntity("shop", catalogv1alpha1.KindSystem, "component:web", ""),
			members: []string{"component:default/web"},
			want:    "spec.system names component:default/web, one of this System's members: an entity is not a member of its own member",
		},
		"Both": {
			reason:  "Both fields wrong are both reported.",
			entity:  rollUpEntity("commerce", catalogv1alpha1.KindDomain, "shop", "commerce"),
			members: []string{"system:default/shop"},
			want: "spec.system names system:default/shop, one of this Domain's members: an entity is not a member of its own member; " +
				"spec.domain names this Domain itself (domain:default/commerce): an entity is not its own member",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, rollUpCycle(tc.entity, tc.members)); diff != "" {
				t.Errorf("\n%s\nrollUpCycle(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestNoteRollUp: the RolledUp condition is False with reason RollUpCycle while the spec
// names the entity itself or a member, keeps its transition time while it stays so, and
// goes once the spec is fixed.
func TestNoteRollUp(t *testing.T) {
	first := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	later := first.Add(time.Hour)
	cond := func(st catalogv1alpha1.CatalogEntityStatus) *metav1.Condition {
		for i := range st.Conditions {
			if st.Conditions[i].Type == catalogv1alpha1.ConditionRolledUp {
				return &st.Conditions[i]
			}
		}
		return nil
	}

	lonely := rollUpEntity("lonely", catalogv1alpha1.KindSystem, "lonely", "")
	ready := metav1.Condition{Type: catalogv1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: "Unknown"}
	var st catalogv1alpha1.CatalogEntityStatus
	st.Conditions = []metav1.Condition{ready}
	noteRollUp(lonely, nil, &st, first)
	want := &metav1.Condition{
		Type: catalogv1alpha1.ConditionRolledUp, Status: metav1.ConditionFalse, ObservedGeneration: 3,
		Reason:             catalogv1alpha1.ReasonRollUpCycle,
		Message:            "spec.system names this System itself (system:default/lonely): an entity is not its own member",
		LastTransitionTime: metav1.NewTime(first),
	}
	if diff := cmp.Diff(want, cond(st)); diff != "" {
		t.Errorf("a System naming itself: -want, +got:\n%s", diff)
	}

	noteRollUp(lonely, nil, &st, later)
	if diff := cmp.Diff(want, cond(st)); diff != "" {
		t.Errorf("the same again keeps the transition time: -want, +got:\n%s", diff)
	}
	if diff := cmp.Diff(ready, st.Conditions[0]); diff != "" {
		t.Errorf("the other conditions stay as they were: -want, +got:\n%s", diff)
	}

	fixed := lonely.DeepCopy()
	fixed.Spec.System = ""
	noteRollUp(fixed, nil, &st, later)
	if c := cond(st); c != nil {
		t.Errorf("fixed, the condition goes: %+v", c)
	}
	if diff := cmp.Diff([]metav1.Condition{ready}, st.Conditions); diff != "" {
		t.Errorf("fixed, the other conditions stay: -want, +got:\n%s", diff)
	}
}
