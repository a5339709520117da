// This file makes one CatalogEntity's descriptor, a step per part: identity, metadata
// (text, tags, links), owner, the kind's spec fields, an API's definition and dependsOn.
// Each step fixes what it can and reports it; what it cannot fix leaves the entity out.

package catalog

import (
	"fmt"
	"sort"
	"strings"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

// convert builds the descriptor of one entity; kinds resolves dependsOn references
// without a kind. Besides the descriptor it returns what it fixed or dropped.
func convert(e *catalogv1alpha1.CatalogEntity, o Options, kinds refKinds) (Entity, []error, error) {
	c := &converter{e: e, o: o, kinds: kinds}
	d, err := c.descriptor()
	if err != nil {
		return Entity{}, nil, err
	}
	return d, c.fixed, nil
}

// converter holds one entity's conversion: its input and what was fixed so far. A step
// that cannot make the entity valid returns the *Problem that leaves it out; what the
// earlier steps fixed is then dropped with it.
type converter struct {
	e     *catalogv1alpha1.CatalogEntity
	o     Options
	kinds refKinds
	fixed []error
}

// descriptor runs the steps in order; the order is that of the reports in Fixed.
func (c *converter) descriptor() (Entity, error) {
	kind, ns, err := c.identity()
	if err != nil {
		return Entity{}, err
	}
	d := Entity{APIVersion: APIVersion, Kind: string(kind), Metadata: c.metadata(ns)}
	owner, err := c.owner()
	if err != nil {
		return Entity{}, err
	}
	d.Spec = c.spec(kind)
	d.Spec.Owner = owner
	if kind == catalogv1alpha1.KindAPI {
		if d.Spec.Definition, err = c.definition(); err != nil {
			return Entity{}, err
		}
	}
	d.Spec.DependsOn = c.dependsOn(kind, ns)

	if err := Validate(d); err != nil {
		// A gate, not an expected path: every step produces valid fields, and the fuzz
		// test holds them to that.
		return Entity{}, c.fail("the descriptor would not be valid: %v", err)
	}
	return d, nil
}

// fix reports a change made to publish the entity.
func (c *converter) fix(format string, args ...any) {
	c.fixed = append(c.fixed, problem(c.e, fmt.Sprintf(format, args...)))
}

// fail is the *Problem that leaves the entity out.
func (c *converter) fail(format string, args ...any) error {
	return problem(c.e, fmt.Sprintf(format, args...))
}

// text is s as YAML can carry it, reporting a change under field.
func (c *converter) text(field, s string) string {
	t := yamlText(s)
	if t != s {
		c.fix("%s: characters a YAML document cannot carry replaced with U+FFFD", field)
	}
	return t
}

// identity is the entity's Backstage kind and namespace, when Backstage accepts them
// and its name.
func (c *converter) identity() (catalogv1alpha1.EntityKind, string, error) {
	e := c.e
	kind := e.EffectiveKind()
	if !catalogv1alpha1.IsEntityKind(kind) {
		return "", "", c.fail("spec.kind %q is not one of Component, Resource, System, API or Domain", kind)
	}
	if !isBackstageName(e.Name) {
		return "", "", c.fail("metadata.name %q is not a Backstage entity name: 1 to 63 letters and digits, separated by single '-', '_' or '.'", e.Name)
	}
	ns := e.EffectiveCatalogNamespace()
	if !IsNamespace(ns) {
		return "", "", c.fail("spec.catalogNamespace %q is not a Backstage namespace: 1 to 63 lowercase letters and digits, separated by single '-' (Backstage refuses \"--\")", e.Spec.CatalogNamespace)
	}
	return kind, ns, nil
}

// metadata is the descriptor's metadata: name, namespace, text, annotations, tags, links.
func (c *converter) metadata(ns string) Metadata {
	e := c.e
	m := Metadata{
		Name:        e.Name,
		Namespace:   ns,
		Description: c.text("spec.description", e.Spec.Description),
		Annotations: map[string]string{AnnotationKubernetesID: e.Name},
	}
	if t := c.text("spec.title", e.Spec.Title); strings.TrimSpace(t) != "" {
		m.Title = t
	}
	if c.o.LocationURL != "" {
		loc := "url:" + yamlText(c.o.LocationURL)
		m.Annotations[AnnotationManagedByLocation] = loc
		m.Annotations[AnnotationManagedByOriginLocation] = loc
	}
	m.Tags = c.tags()
	m.Links = c.links()
	return m
}

// tags are the spec's tags, trimmed, lowercased and without duplicates; a tag that is
// still not a Backstage tag is dropped.
func (c *converter) tags() []string {
	var tags []string
	seen := map[string]bool{}
	for _, t := range c.e.Spec.Tags {
		tag := strings.ToLower(strings.TrimSpace(string(t)))
		switch {
		case !isBackstageTag(tag):
			c.fix("tag %q dropped: Backstage tags are 1 to 63 lowercase letters, digits, '+' and '#', in words joined by single '-'", t)
			continue
		case tag != string(t):
			c.fix("tag %q published as %q: Backstage tags are lowercase", t, tag)
		}
		if !seen[tag] {
			seen[tag] = true
			tags = append(tags, tag)
		}
	}
	return tags
}

// links are the spec's links whose URL Backstage accepts and a browser may follow
// safely; an invalid icon is dropped from its link.
func (c *converter) links() []Link {
	var links []Link
	for i, l := range c.e.Spec.Links {
		u := strings.TrimSpace(l.URL)
		if err := checkURL(u); err != nil {
			c.fix("links[%d] dropped: url %q %v", i, l.URL, err)
			continue
		}
		link := Link{
			URL:   u,
			Title: strings.TrimSpace(c.text(fmt.Sprintf("links[%d].title", i), l.Title)),
			Type:  strings.TrimSpace(c.text(fmt.Sprintf("links[%d].type", i), l.Type)),
		}
		if icon := strings.TrimSpace(l.Icon); icon != "" {
			if isBackstageName(icon) {
				link.Icon = icon
			} else {
				c.fix("links[%d].icon %q dropped: a Backstage icon key is letters and digits separated by '-', '_' or '.'", i, l.Icon)
			}
		}
		links = append(links, link)
	}
	return links
}

// owner is spec.owner, else Options.DefaultOwner: Backstage requires one for every kind.
func (c *converter) owner() (string, error) {
	owner := string(c.e.Spec.Owner)
	if owner != "" {
		if !catalogv1alpha1.IsEntityRef(owner) {
			return "", c.fail("spec.owner %q is not an entity reference such as group:default/payments", owner)
		}
		return owner, nil
	}
	owner = c.o.DefaultOwner
	if owner == "" {
		return "", c.fail("Backstage requires an owner: set spec.owner (or the manager's --default-owner)")
	}
	if !catalogv1alpha1.IsEntityRef(owner) {
		return "", c.fail("the default owner %q is not an entity reference such as group:default/platform-team; set spec.owner", owner)
	}
	return owner, nil
}

// spec is the kind's own spec fields: type, lifecycle, and what the entity is part of.
func (c *converter) spec(kind catalogv1alpha1.EntityKind) Spec {
	e := c.e
	system := c.system()
	switch kind {
	case catalogv1alpha1.KindComponent, catalogv1alpha1.KindResource, catalogv1alpha1.KindAPI:
		typ := DefaultType
		if kind == catalogv1alpha1.KindComponent {
			typ = DefaultComponentType
		}
		s := Spec{System: system, Type: firstNonBlank(e.Spec.Type, c.o.DefaultType, typ)}
		if kind != catalogv1alpha1.KindResource || strings.TrimSpace(e.Spec.Lifecycle) != "" {
			// A Resource has no lifecycle in Backstage's schema; one the spec sets is
			// still shown, so it is kept, but none is invented.
			s.Lifecycle = firstNonBlank(e.Spec.Lifecycle, c.o.DefaultLifecycle, DefaultLifecycle)
		}
		return s
	case catalogv1alpha1.KindSystem, catalogv1alpha1.KindDomain:
		s := c.partOfDomain(kind, system)
		// Type and lifecycle are optional for these kinds: kept when set.
		s.Type = strings.TrimSpace(c.text("spec.type", e.Spec.Type))
		s.Lifecycle = strings.TrimSpace(c.text("spec.lifecycle", e.Spec.Lifecycle))
		return s
	}
	return Spec{}
}

// system is spec.system when it is an entity reference; otherwise it is dropped.
func (c *converter) system() string {
	system := string(c.e.Spec.System)
	if system != "" && !catalogv1alpha1.IsEntityRef(system) {
		c.fix("spec.system %q dropped: not an entity reference such as system:default/payments", system)
		return ""
	}
	return system
}

// partOfDomain places a System or Domain: a System belongs to a Domain (spec.domain), a
// Domain to a Domain (spec.subdomainOf). A System's spec.domain says so; else
// spec.system, "what this belongs to", maps there when it names a Domain, and is dropped
// when it names another kind.
func (c *converter) partOfDomain(kind catalogv1alpha1.EntityKind, system string) Spec {
	var s Spec
	if domain := string(c.e.Spec.Domain); kind == catalogv1alpha1.KindSystem && domain != "" {
		// spec.domain says it outright; it wins over a spec.system that names a Domain.
		if catalogv1alpha1.IsEntityRef(domain) {
			s.Domain = domain
			return s
		}
		c.fix("spec.domain %q dropped: not an entity reference such as domain:default/commerce", domain)
	}
	if system == "" {
		return s
	}
	k := refKind(system)
	switch {
	case k != "" && !strings.EqualFold(k, "domain"):
		c.fix("spec.system %q dropped: a %s belongs to a Domain, not a %s", system, kind, k)
	case kind == catalogv1alpha1.KindSystem:
		s.Domain = system
	default:
		s.SubdomainOf = system
	}
	return s
}

// definition is an API's spec.definition: a placeholder for the URL the
// AnnotationAPIDefinitionURL annotation names, which Backstage requires.
func (c *converter) definition() (*Definition, error) {
	def := strings.TrimSpace(c.e.Annotations[AnnotationAPIDefinitionURL])
	if def == "" {
		return nil, c.fail("Backstage requires spec.definition for kind API and a CatalogEntity has none: set the annotation %s to the URL of the definition", AnnotationAPIDefinitionURL)
	}
	if err := checkURL(def); err != nil || !isHTTPURL(def) {
		return nil, c.fail("annotation %s %q is not an absolute http(s) URL", AnnotationAPIDefinitionURL, def)
	}
	return &Definition{Text: def}, nil
}

// dependsOn merges spec.dependsOn and status.relations into sorted, unique, full
// references, for the kinds that have dependsOn: Backstage reads it only on Components
// and Resources, and the others' are dropped.
func (c *converter) dependsOn(kind catalogv1alpha1.EntityKind, ns string) []string {
	e := c.e
	refs := make([]string, 0, len(e.Spec.DependsOn)+len(e.Status.Relations))
	for _, r := range e.Spec.DependsOn {
		refs = append(refs, string(r))
	}
	refs = append(refs, e.Status.Relations...)
	seen := map[string]bool{}
	var out []string
	for i, r := range refs {
		field := "spec.dependsOn"
		if i >= len(e.Spec.DependsOn) {
			field = "status.relations"
		}
		rkind, rns, name, ok := c.resolve(field, r, ns)
		if !ok {
			continue
		}
		if key := refKey(rkind, rns, name); !seen[key] {
			seen[key] = true
			out = append(out, catalogv1alpha1.FormatEntityRef(rkind, rns, name))
		}
	}
	sort.Strings(out)
	if len(out) > 0 && kind != catalogv1alpha1.KindComponent && kind != catalogv1alpha1.KindResource {
		c.fix("dependsOn %v dropped: Backstage reads dependsOn only on Components and Resources", out)
		return nil
	}
	return out
}

// resolve splits a dependency reference into its parts, the namespace defaulting to the
// entity's ns and a missing kind taken from the one published entity it can mean. It
// drops, and reports under field, a reference that is not one or whose kind it cannot
// tell: Backstage gives dependsOn no default kind.
func (c *converter) resolve(field, r, ns string) (kind, rns, name string, ok bool) {
	if !catalogv1alpha1.IsEntityRef(r) {
		c.fix("%s %q dropped: not an entity reference such as component:default/payments", field, r)
		return "", "", "", false
	}
	kind, rns, name = splitRef(r)
	if rns == "" {
		rns = ns
	}
	if kind != "" {
		return kind, rns, name, true
	}
	candidates := c.kinds.of(rns, name)
	if len(candidates) != 1 {
		why := "no entity of that name is published"
		if len(candidates) > 1 {
			why = "entities of several kinds have that name: " + strings.Join(candidates, ", ")
		}
		c.fix("%s %q dropped: Backstage needs the kind in a dependsOn reference and %s; write it as <kind>:%s/%s", field, r, why, rns, name)
		return "", "", "", false
	}
	return candidates[0], rns, name, true
}
