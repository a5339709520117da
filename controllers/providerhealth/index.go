package providerhealth

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// index is what the tracker knows and answers from: the managed resource kinds and who
// installed them, the revisions and the providers, each by name. It is not safe for
// concurrent use; the Tracker guards it.
type index struct {
	kinds     map[schema.GroupKind]kindOwner
	revisions map[string]revision
	providers map[string]provider
	// installedBy names, by CRD name, the active revision whose objectRefs list it (or
	// its ManagedResourceDefinition): the fallback for a CRD whose owners do not say.
	installedBy map[string]string
}

func newIndex() *index {
	return &index{
		kinds:       map[schema.GroupKind]kindOwner{},
		revisions:   map[string]revision{},
		providers:   map[string]provider{},
		installedBy: map[string]string{},
	}
}

// setRevision records a revision as it is now.
func (x *index) setRevision(name string, rev revision) {
	x.deleteRevision(name)
	x.revisions[name] = rev
	if rev.active {
		for _, crd := range rev.installed {
			x.installedBy[crd] = name
		}
	}
}

// deleteRevision forgets a revision.
func (x *index) deleteRevision(name string) {
	for _, crd := range x.revisions[name].installed {
		if x.installedBy[crd] == name {
			delete(x.installedBy, crd)
		}
	}
	delete(x.revisions, name)
}

// providerOf returns the Provider that installed the kind, or "" when none is known:
// the owner of the revision that controls the kind's CRD; else a Provider that owns the
// CRD itself; else the owner of the active revision that lists the CRD, or a
// ManagedResourceDefinition of its name, among the objects it installed.
func (x *index) providerOf(gk schema.GroupKind) string {
	k, ok := x.kinds[gk]
	if !ok {
		return ""
	}
	if rev, ok := x.revisions[k.revision]; ok && rev.provider != "" {
		return rev.provider
	}
	if k.provider != "" {
		return k.provider
	}
	if name, ok := x.installedBy[k.crd]; ok {
		return x.revisions[name].provider
	}
	return ""
}

// activeRevision returns the revision provider name runs: its status.currentRevision,
// else one of its revisions whose desired state is Active; nil when none is known.
func (x *index) activeRevision(name string, p provider) *revision {
	if rev, ok := x.revisions[p.currentRevision]; ok {
		return &rev
	}
	for _, rev := range x.revisions {
		if rev.provider == name && rev.active {
			return &rev
		}
	}
	return nil
}

// down returns why each provider that is down is, by name.
func (x *index) down() map[string]string {
	out := map[string]string{}
	for name, p := range x.providers {
		if why := whyDown(name, p, x.activeRevision(name, p)); why != "" {
			out[name] = why
		}
	}
	return out
}

// kindsOf returns the provider of each kind installed by one of providers.
func (x *index) kindsOf(providers map[string]string) map[schema.GroupKind]string {
	out := map[schema.GroupKind]string{}
	for gk := range x.kinds {
		if p := x.providerOf(gk); p != "" {
			if _, ok := providers[p]; ok {
				out[gk] = p
			}
		}
	}
	return out
}
