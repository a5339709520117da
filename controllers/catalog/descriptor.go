// Package catalog turns CatalogEntities into Backstage catalog descriptors (DESIGN.md §5):
// it builds, validates and encodes them, for the manager's catalog endpoint
// (controllers/catalogserver) and for `entityhub export` alike.
//
// Every descriptor it builds passes Backstage's catalog-model rules: what can be fixed is
// fixed, what cannot is left out of the body and reported, never served broken — one bad
// document makes Backstage refuse the entity, and a body that fails to parse makes it
// refuse them all.
package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"sigs.k8s.io/yaml"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

// APIVersion is the apiVersion of every descriptor: the one Backstage's built-in kinds
// have used since the catalog's first release, so that every Backstage version reads it.
const APIVersion = "backstage.io/v1alpha1"

// Annotations the descriptors carry.
const (
	// AnnotationKubernetesID is what Backstage's Kubernetes plugin selects the entity's
	// objects by; it carries the CatalogEntity's name, the value of the label its
	// sources have (DESIGN.md §2).
	AnnotationKubernetesID = "backstage.io/kubernetes-id"
	// AnnotationManagedByLocation is the location that manages the entity.
	AnnotationManagedByLocation = "backstage.io/managed-by-location"
	// AnnotationManagedByOriginLocation is the location that first introduced the entity.
	AnnotationManagedByOriginLocation = "backstage.io/managed-by-origin-location"
	// AnnotationAPIDefinitionURL, set on a CatalogEntity of kind API, names the URL of
	// its definition (an OpenAPI document, say). A CatalogEntity has no field for a
	// definition and Backstage refuses an API without one, so without this annotation
	// an API entity is left out. With it, spec.definition is {$text: <url>}, which
	// Backstage's placeholder processor replaces with the document it reads there (the
	// URL's host must be readable by Backstage: an integration or backend.reading.allow).
	AnnotationAPIDefinitionURL = "catalog.entityhub.dev/api-definition-url"
)

// Built-in defaults for the spec fields Backstage requires, used when neither the
// CatalogEntity nor Options set them. They say "not known" rather than guess, except
// for a Component's type: a Component is what an Argo CD Application deploys
// (DESIGN.md §2), which in Backstage's vocabulary is a service.
const (
	DefaultComponentType = "service"
	DefaultType          = "unknown"
	DefaultLifecycle     = "unknown"
)

// Options are the settings of a conversion.
type Options struct {
	// LocationURL is the URL the descriptors are served at. It is written, as
	// "url:<LocationURL>", into backstage.io/managed-by-location and
	// backstage.io/managed-by-origin-location; when empty those annotations are left out
	// (Backstage writes its own when it ingests a location anyway).
	LocationURL string

	// DefaultOwner is the owner, an entity reference such as group:default/platform,
	// of entities whose spec has none. Backstage requires an owner for every kind, so
	// when both are empty the entity is left out. The manager passes --default-owner.
	DefaultOwner string

	// DefaultLifecycle is the lifecycle of Components and APIs whose spec has none;
	// empty means DefaultLifecycle ("unknown").
	DefaultLifecycle string

	// DefaultType is the type of Components, Resources and APIs whose spec has none;
	// empty means DefaultComponentType ("service") for a Component and DefaultType
	// ("unknown") for the others.
	DefaultType string
}

// Entity is a Backstage catalog entity descriptor, as Backstage's catalog-model defines
// it; only the fields entityhub fills are modelled.
type Entity struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   Metadata `json:"metadata"`
	Spec       Spec     `json:"spec"`
}

// Metadata is a descriptor's metadata.
type Metadata struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Title       string            `json:"title,omitempty"`
	Description string            `json:"description,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Tags        []string          `json:"tags,omitempty"`
	Links       []Link            `json:"links,omitempty"`
}

// Link is one of metadata.links.
type Link struct {
	URL   string `json:"url"`
	Title string `json:"title,omitempty"`
	Icon  string `json:"icon,omitempty"`
	Type  string `json:"type,omitempty"`
}

// Spec is a descriptor's spec: the union of the fields of the kinds entityhub publishes.
// Which ones a descriptor sets depends on its kind (see Build).
type Spec struct {
	Type      string `json:"type,omitempty"`
	Lifecycle string `json:"lifecycle,omitempty"`
	Owner     string `json:"owner,omitempty"`
	// System is the System a Component, Resource or API is part of.
	System string `json:"system,omitempty"`
	// Domain is the Domain a System is part of.
	Domain string `json:"domain,omitempty"`
	// SubdomainOf is the Domain a Domain is part of.
	SubdomainOf string `json:"subdomainOf,omitempty"`
	// DependsOn are full entity references, <kind>:<namespace>/<name>, sorted.
	DependsOn []string `json:"dependsOn,omitempty"`
	// Definition of an API: a {"$text": <url>} placeholder (see AnnotationAPIDefinitionURL).
	Definition *Definition `json:"definition,omitempty"`
}

// Definition is a Backstage placeholder that its catalog replaces with the text read at
// the URL before it validates the entity.
type Definition struct {
	Text string `json:"$text"`
}

// Problem is a reason, tied to one CatalogEntity, why it is left out of the catalog or
// why part of its descriptor was fixed or dropped.
type Problem struct {
	// Namespace and Name of the CatalogEntity.
	Namespace, Name string
	// Reason says what is wrong and, where it helps, what to change.
	Reason string
}

// Error implements error.
func (p *Problem) Error() string {
	return fmt.Sprintf("CatalogEntity %s/%s: %s", p.Namespace, p.Name, p.Reason)
}

// Catalog is the result of converting a set of CatalogEntities.
type Catalog struct {
	// Entities are the valid descriptors, sorted by namespace, kind and name.
	Entities []Entity
	// LeftOut has one *Problem per CatalogEntity that could not be made valid.
	LeftOut []error
	// Fixed has one *Problem per part of a published descriptor that was changed or
	// dropped to make it valid, such as a tag in capitals or a dependency without a kind.
	Fixed []error
}

// Build converts CatalogEntities into Backstage descriptors, one per entity:
//
//   - apiVersion backstage.io/v1alpha1; kind from spec.kind (Component when empty);
//     metadata.name from metadata.name; metadata.namespace from spec.catalogNamespace
//     (default when empty); title, description, tags and links from the spec.
//   - annotations backstage.io/kubernetes-id (metadata.name) and, with o.LocationURL,
//     backstage.io/managed-by-location and backstage.io/managed-by-origin-location.
//   - spec by kind, as Backstage's schemas require: Component type, lifecycle, owner,
//     system, dependsOn; Resource type, owner, system, dependsOn; API type, lifecycle,
//     owner, system, definition; System owner and domain (from spec.system); Domain
//     owner and subdomainOf (from spec.system). Required fields missing from the spec
//     come from o, then from the built-in defaults above; only an owner has no
//     built-in default.
//   - dependsOn is the union of spec.dependsOn and status.relations, written as full
//     references (<kind>:<namespace>/<name>, the namespace defaulting to the entity's),
//     sorted and without duplicates. Backstage gives dependsOn no default kind, so a
//     reference without one gets the kind of the one entity of that namespace and name,
//     and is dropped when there is none or more than one.
//
// Tags are trimmed and lowercased when that makes them valid, else dropped; a link whose
// URL is not absolute, or whose scheme can run script (javascript:, data:, vbscript:),
// is dropped; an invalid link icon is dropped. Each such change is reported in Fixed.
// An entity that cannot be made valid is left out with a *Problem saying why: a name,
// namespace or owner Backstage refuses, a kind it does not know, an API without a
// definition. Of two CatalogEntities (in different Kubernetes namespaces) that would be
// the same Backstage entity only the first, by Kubernetes namespace, is published —
// Backstage would otherwise see one entity flip between two definitions.
//
// The descriptors are sorted by namespace, kind and name, so that the same entities
// always give the same body.
func Build(entities []catalogv1alpha1.CatalogEntity, o Options) Catalog {
	order := make([]*catalogv1alpha1.CatalogEntity, len(entities))
	for i := range entities {
		order[i] = &entities[i]
	}
	sort.SliceStable(order, func(i, j int) bool {
		if order[i].Namespace != order[j].Namespace {
			return order[i].Namespace < order[j].Namespace
		}
		return order[i].Name < order[j].Name
	})

	kinds := refKinds{}
	for _, e := range order {
		ns, kind := e.EffectiveCatalogNamespace(), e.EffectiveKind()
		if ns == "" || !IsNamespace(ns) || !catalogv1alpha1.IsEntityKind(kind) {
			continue
		}
		key := ns + "/" + strings.ToLower(e.Name)
		if !contains(kinds[key], string(kind)) {
			kinds[key] = append(kinds[key], string(kind))
		}
	}

	var c Catalog
	published := map[string]*catalogv1alpha1.CatalogEntity{}
	for _, e := range order {
		d, fixed, err := convert(e, o, kinds)
		if err != nil {
			c.LeftOut = append(c.LeftOut, err)
			continue
		}
		key := refKey(d.Kind, d.Metadata.Namespace, d.Metadata.Name)
		if first, dup := published[key]; dup {
			c.LeftOut = append(c.LeftOut, problem(e, fmt.Sprintf(
				"it is the same Backstage entity, %s, as CatalogEntity %s/%s, which is published instead; give one of them another name, kind or spec.catalogNamespace",
				Ref(d), first.Namespace, first.Name)))
			continue
		}
		published[key] = e
		c.Entities = append(c.Entities, d)
		c.Fixed = append(c.Fixed, fixed...)
	}
	sort.Slice(c.Entities, func(i, j int) bool {
		a, b := c.Entities[i], c.Entities[j]
		if a.Metadata.Namespace != b.Metadata.Namespace {
			return a.Metadata.Namespace < b.Metadata.Namespace
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Metadata.Name < b.Metadata.Name
	})
	return c
}

// refKinds maps "<namespace>/<lowercase name>" to the kinds of the entities so named.
type refKinds map[string][]string

// convert builds the descriptor of one entity; kinds resolves dependsOn references
// without a kind. Besides the descriptor it returns what it fixed or dropped.
func convert(e *catalogv1alpha1.CatalogEntity, o Options, kinds refKinds) (Entity, []error, error) {
	var fixed []error
	fix := func(format string, args ...any) {
		fixed = append(fixed, problem(e, fmt.Sprintf(format, args...)))
	}
	fail := func(format string, args ...any) (Entity, []error, error) {
		return Entity{}, nil, problem(e, fmt.Sprintf(format, args...))
	}
	text := func(field, s string) string {
		t := yamlText(s)
		if t != s {
			fix("%s: characters a YAML document cannot carry replaced with U+FFFD", field)
		}
		return t
	}

	kind := e.EffectiveKind()
	if !catalogv1alpha1.IsEntityKind(kind) {
		return fail("spec.kind %q is not one of Component, Resource, System, API or Domain", kind)
	}
	if !isBackstageName(e.Name) {
		return fail("metadata.name %q is not a Backstage entity name: 1 to 63 letters and digits, separated by single '-', '_' or '.'", e.Name)
	}
	ns := e.EffectiveCatalogNamespace()
	if !IsNamespace(ns) {
		return fail("spec.catalogNamespace %q is not a Backstage namespace: 1 to 63 lowercase letters and digits, separated by single '-' (Backstage refuses \"--\")", e.Spec.CatalogNamespace)
	}

	d := Entity{
		APIVersion: APIVersion,
		Kind:       string(kind),
		Metadata: Metadata{
			Name:        e.Name,
			Namespace:   ns,
			Description: text("spec.description", e.Spec.Description),
			Annotations: map[string]string{AnnotationKubernetesID: e.Name},
		},
	}
	if t := text("spec.title", e.Spec.Title); strings.TrimSpace(t) != "" {
		d.Metadata.Title = t
	}
	if o.LocationURL != "" {
		loc := "url:" + yamlText(o.LocationURL)
		d.Metadata.Annotations[AnnotationManagedByLocation] = loc
		d.Metadata.Annotations[AnnotationManagedByOriginLocation] = loc
	}

	seenTags := map[string]bool{}
	for _, t := range e.Spec.Tags {
		tag := strings.ToLower(strings.TrimSpace(string(t)))
		switch {
		case !isBackstageTag(tag):
			fix("tag %q dropped: Backstage tags are 1 to 63 lowercase letters, digits, '+' and '#', in words joined by single '-'", t)
			continue
		case tag != string(t):
			fix("tag %q published as %q: Backstage tags are lowercase", t, tag)
		}
		if !seenTags[tag] {
			seenTags[tag] = true
			d.Metadata.Tags = append(d.Metadata.Tags, tag)
		}
	}

	for i, l := range e.Spec.Links {
		u := strings.TrimSpace(l.URL)
		if err := checkURL(u); err != nil {
			fix("links[%d] dropped: url %q %v", i, l.URL, err)
			continue
		}
		link := Link{
			URL:   u,
			Title: strings.TrimSpace(text(fmt.Sprintf("links[%d].title", i), l.Title)),
			Type:  strings.TrimSpace(text(fmt.Sprintf("links[%d].type", i), l.Type)),
		}
		if icon := strings.TrimSpace(l.Icon); icon != "" {
			if isBackstageName(icon) {
				link.Icon = icon
			} else {
				fix("links[%d].icon %q dropped: a Backstage icon key is letters and digits separated by '-', '_' or '.'", i, l.Icon)
			}
		}
		d.Metadata.Links = append(d.Metadata.Links, link)
	}

	owner := string(e.Spec.Owner)
	if owner == "" {
		owner = o.DefaultOwner
		if owner == "" {
			return fail("Backstage requires an owner: set spec.owner (or the manager's --default-owner)")
		}
		if !catalogv1alpha1.IsEntityRef(owner) {
			return fail("the default owner %q is not an entity reference such as group:default/platform-team; set spec.owner", owner)
		}
	} else if !catalogv1alpha1.IsEntityRef(owner) {
		return fail("spec.owner %q is not an entity reference such as group:default/payments", owner)
	}
	d.Spec.Owner = owner

	lifecycle := firstNonBlank(e.Spec.Lifecycle, o.DefaultLifecycle, DefaultLifecycle)
	typ := firstNonBlank(e.Spec.Type, o.DefaultType, DefaultType)
	if kind == catalogv1alpha1.KindComponent {
		typ = firstNonBlank(e.Spec.Type, o.DefaultType, DefaultComponentType)
	}
	system := string(e.Spec.System)
	if system != "" && !catalogv1alpha1.IsEntityRef(system) {
		fix("spec.system %q dropped: not an entity reference such as system:default/payments", system)
		system = ""
	}

	switch kind {
	case catalogv1alpha1.KindComponent, catalogv1alpha1.KindResource, catalogv1alpha1.KindAPI:
		d.Spec.Type = typ
		d.Spec.System = system
		if kind != catalogv1alpha1.KindResource || strings.TrimSpace(e.Spec.Lifecycle) != "" {
			// A Resource has no lifecycle in Backstage's schema; one the spec sets is
			// still shown, so it is kept, but none is invented.
			d.Spec.Lifecycle = lifecycle
		}
	case catalogv1alpha1.KindSystem, catalogv1alpha1.KindDomain:
		// A System belongs to a Domain (spec.domain), a Domain to a Domain
		// (spec.subdomainOf): spec.system, "what this belongs to", maps there when it
		// names a Domain.
		if system != "" {
			if k := refKind(system); k == "" || strings.EqualFold(k, "domain") {
				if kind == catalogv1alpha1.KindSystem {
					d.Spec.Domain = system
				} else {
					d.Spec.SubdomainOf = system
				}
			} else {
				fix("spec.system %q dropped: a %s belongs to a Domain, not a %s", system, kind, k)
			}
		}
		// Type and lifecycle are optional for these kinds: kept when set.
		d.Spec.Type = strings.TrimSpace(text("spec.type", e.Spec.Type))
		d.Spec.Lifecycle = strings.TrimSpace(text("spec.lifecycle", e.Spec.Lifecycle))
	}

	if kind == catalogv1alpha1.KindAPI {
		def := strings.TrimSpace(e.Annotations[AnnotationAPIDefinitionURL])
		if def == "" {
			return fail("Backstage requires spec.definition for kind API and a CatalogEntity has none: set the annotation %s to the URL of the definition", AnnotationAPIDefinitionURL)
		}
		if err := checkURL(def); err != nil || !isHTTPURL(def) {
			return fail("annotation %s %q is not an absolute http(s) URL", AnnotationAPIDefinitionURL, def)
		}
		d.Spec.Definition = &Definition{Text: def}
	}

	deps := dependsOn(e, ns, kinds, fix)
	if len(deps) > 0 {
		if kind == catalogv1alpha1.KindComponent || kind == catalogv1alpha1.KindResource {
			d.Spec.DependsOn = deps
		} else {
			fix("dependsOn %v dropped: Backstage reads dependsOn only on Components and Resources", deps)
		}
	}

	if err := Validate(d); err != nil {
		// A gate, not an expected path: everything above produces valid fields, and the
		// fuzz test holds it to that.
		return fail("the descriptor would not be valid: %v", err)
	}
	return d, fixed, nil
}

// dependsOn merges spec.dependsOn and status.relations into sorted, unique, full references.
func dependsOn(e *catalogv1alpha1.CatalogEntity, ns string, kinds refKinds, fix func(string, ...any)) []string {
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
		if !catalogv1alpha1.IsEntityRef(r) {
			fix("%s %q dropped: not an entity reference such as component:default/payments", field, r)
			continue
		}
		kind, rns, name := splitRef(r)
		if rns == "" {
			rns = ns
		}
		if kind == "" {
			candidates := kinds[rns+"/"+strings.ToLower(name)]
			if len(candidates) != 1 {
				why := "no entity of that name is published"
				if len(candidates) > 1 {
					why = "entities of several kinds have that name: " + strings.Join(candidates, ", ")
				}
				fix("%s %q dropped: Backstage needs the kind in a dependsOn reference and %s; write it as <kind>:%s/%s", field, r, why, rns, name)
				continue
			}
			kind = candidates[0]
		}
		full := catalogv1alpha1.FormatEntityRef(kind, rns, name)
		if key := refKey(kind, rns, name); !seen[key] {
			seen[key] = true
			out = append(out, full)
		}
	}
	sort.Strings(out)
	return out
}

// Validate reports whether d passes Backstage's catalog-model rules for the kinds
// entityhub publishes — the envelope, metadata field formats (FieldFormatEntityPolicy)
// and each kind's schema — and entityhub's own stricter rules for references (those of
// the CRD, api/v1alpha1.IsEntityRef). Where Backstage is looser than what entityhub
// produces (names with repeated separators), Validate is stricter, never the other way.
func Validate(d Entity) error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }

	if d.APIVersion != APIVersion {
		bad("apiVersion %q is not %s", d.APIVersion, APIVersion)
	}
	kind := catalogv1alpha1.EntityKind(d.Kind)
	if !catalogv1alpha1.IsEntityKind(kind) {
		bad("kind %q is not one of Component, Resource, System, API or Domain", d.Kind)
	}
	m := d.Metadata
	if !isBackstageName(m.Name) {
		bad("metadata.name %q is not a Backstage entity name", m.Name)
	}
	if m.Namespace != "" && !IsNamespace(m.Namespace) {
		bad("metadata.namespace %q is not a Backstage namespace", m.Namespace)
	}
	for _, s := range []struct{ field, v string }{{"metadata.title", m.Title}, {"metadata.description", m.Description}} {
		if !isYAMLText(s.v) {
			bad("%s is not printable UTF-8", s.field)
		}
	}
	keys := make([]string, 0, len(m.Annotations))
	for k := range m.Annotations {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := m.Annotations[k]
		if !isAnnotationKey(k) {
			bad("annotation key %q is not a valid [<DNS subdomain>/]<name>", k)
		}
		if !isYAMLText(v) {
			bad("annotation %s is not printable UTF-8", k)
		}
	}
	for i, t := range m.Tags {
		if !isBackstageTag(t) {
			bad("tags[%d] %q is not a Backstage tag", i, t)
		}
	}
	for i, l := range m.Links {
		if err := checkURL(l.URL); err != nil {
			bad("links[%d].url %q %v", i, l.URL, err)
		}
		if l.Title != "" && (strings.TrimSpace(l.Title) == "" || !isYAMLText(l.Title)) {
			bad("links[%d].title must be a non-blank printable string", i)
		}
		if l.Icon != "" && !isBackstageName(l.Icon) {
			bad("links[%d].icon %q is not a valid icon key", i, l.Icon)
		}
		if !isYAMLText(l.Type) {
			bad("links[%d].type is not printable UTF-8", i)
		}
	}

	s := d.Spec
	required := func(field, v string) {
		if strings.TrimSpace(v) == "" {
			bad("spec.%s is required for kind %s", field, d.Kind)
		} else if !isYAMLText(v) {
			bad("spec.%s is not printable UTF-8", field)
		}
	}
	ref := func(field, v string, needKind bool) {
		if v == "" {
			return
		}
		if !catalogv1alpha1.IsEntityRef(v) {
			bad("spec.%s %q is not an entity reference", field, v)
		} else if needKind && refKind(v) == "" {
			bad("spec.%s %q has no kind", field, v)
		}
	}
	required("owner", s.Owner)
	ref("owner", s.Owner, false)
	switch kind {
	case catalogv1alpha1.KindComponent, catalogv1alpha1.KindAPI:
		required("type", s.Type)
		required("lifecycle", s.Lifecycle)
	case catalogv1alpha1.KindResource:
		required("type", s.Type)
	}
	for _, f := range []struct{ field, v string }{{"type", s.Type}, {"lifecycle", s.Lifecycle}} {
		if f.v != "" && (strings.TrimSpace(f.v) == "" || !isYAMLText(f.v)) {
			bad("spec.%s must be a non-blank printable string", f.field)
		}
	}
	ref("system", s.System, false)
	ref("domain", s.Domain, false)
	ref("subdomainOf", s.SubdomainOf, false)
	for i, r := range s.DependsOn {
		ref(fmt.Sprintf("dependsOn[%d]", i), r, true)
	}
	if kind == catalogv1alpha1.KindAPI {
		if s.Definition == nil || s.Definition.Text == "" {
			bad("spec.definition is required for kind API")
		}
	} else if s.Definition != nil {
		bad("spec.definition is only for kind API")
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// EncodeYAML writes docs as a multi-document YAML stream, each document opened by
// "---", the format Backstage's url location reads (it parses every document of the
// file as an entity). No documents give an empty body: a location without entities.
func EncodeYAML(docs []Entity) ([]byte, error) {
	var buf bytes.Buffer
	for i := range docs {
		b, err := yaml.Marshal(&docs[i])
		if err != nil {
			return nil, fmt.Errorf("encoding %s: %w", Ref(docs[i]), err)
		}
		buf.WriteString("---\n")
		buf.Write(b)
	}
	return buf.Bytes(), nil
}

// EncodeJSON writes docs as one JSON array, for tools other than Backstage: Backstage
// reads every YAML document of a location as one entity and would take the array for a
// single malformed entity, so it should read the YAML default instead.
func EncodeJSON(docs []Entity) ([]byte, error) {
	if docs == nil {
		docs = []Entity{}
	}
	b, err := json.Marshal(docs)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// FileName is the name `entityhub export --dir` gives a descriptor's file:
// <namespace>-<kind>-<name>.yaml, kind in lowercase.
func FileName(d Entity) string {
	return namespaceOf(d) + "-" + strings.ToLower(d.Kind) + "-" + d.Metadata.Name + ".yaml"
}

// Ref is d's Backstage entity reference, <kind>:<namespace>/<name>, kind in lowercase.
func Ref(d Entity) string {
	return catalogv1alpha1.FormatEntityRef(d.Kind, namespaceOf(d), d.Metadata.Name)
}

// namespaceOf is d's Backstage namespace; Backstage reads a descriptor without one as in
// the default namespace.
func namespaceOf(d Entity) string {
	if d.Metadata.Namespace == "" {
		return catalogv1alpha1.DefaultCatalogNamespace
	}
	return d.Metadata.Namespace
}

var (
	// The rules of Backstage's catalog-model (CommonValidatorFunctions,
	// KubernetesValidatorFunctions). Entity names follow the stricter form that
	// IsEntityRef uses for the name part, so that every published entity can also be
	// referred to. Namespaces allow a single '-' only: Backstage's isValidDnsLabel
	// refuses "a--b", which the CRD (and IsEntityRef) accept.
	backstageName      = regexp.MustCompile(`^[a-zA-Z0-9]+([-_.][a-zA-Z0-9]+)*$`)
	backstageNamespace = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	backstageTag       = regexp.MustCompile(`^[a-z0-9+#]+(-[a-z0-9+#]+)*$`)
	objectName         = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)
	urlScheme          = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*$`)
)

func isBackstageName(s string) bool {
	return len(s) <= 63 && backstageName.MatchString(s)
}

// IsNamespace reports whether s is a namespace Backstage accepts: 1 to 63 lowercase
// letters and digits separated by single '-'.
func IsNamespace(s string) bool {
	return len(s) <= 63 && backstageNamespace.MatchString(s)
}

func isBackstageTag(s string) bool {
	return len(s) <= 63 && backstageTag.MatchString(s)
}

// isAnnotationKey is Backstage's isValidAnnotationKey: [<DNS subdomain>/]<object name>.
func isAnnotationKey(k string) bool {
	prefix, name, found := strings.Cut(k, "/")
	if !found {
		name, prefix = k, ""
	} else if strings.Contains(name, "/") || !isDNSSubdomain(prefix) {
		return false
	}
	return len(name) <= 63 && objectName.MatchString(name)
}

func isDNSSubdomain(s string) bool {
	if len(s) < 1 || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if !IsNamespace(label) {
			return false
		}
	}
	return true
}

// scriptSchemes run code when a browser follows them; a link is no place for them.
var scriptSchemes = map[string]bool{"javascript": true, "data": true, "vbscript": true}

// specialSchemes are those for which the WHATWG URL standard, which Backstage's
// isValidUrl applies (new URL(...)), requires a host.
var specialSchemes = map[string]bool{"http": true, "https": true, "ws": true, "wss": true, "ftp": true}

// checkURL accepts an absolute URL that a WHATWG parser accepts too: a scheme, a host
// where the scheme needs one, and no whitespace or control characters.
func checkURL(s string) error {
	if s == "" {
		return fmt.Errorf("is empty")
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("is not valid UTF-8")
	}
	for _, r := range s {
		if r <= ' ' || !yamlPrintable(r) || r == '\\' {
			return fmt.Errorf("contains whitespace, a control character or '\\'")
		}
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("is not a URL: %v", err)
	}
	if !urlScheme.MatchString(u.Scheme) {
		return fmt.Errorf("is not absolute: it needs a scheme such as https://")
	}
	scheme := strings.ToLower(u.Scheme)
	if scriptSchemes[scheme] {
		return fmt.Errorf("has scheme %s:, which runs script", scheme)
	}
	if specialSchemes[scheme] && (u.Host == "" || u.Opaque != "" || u.Hostname() == "") {
		return fmt.Errorf("has no host")
	}
	if u.Port() != "" {
		if p, ok := parsePort(u.Port()); !ok || p > 65535 {
			return fmt.Errorf("has an invalid port")
		}
	}
	return nil
}

func parsePort(s string) (int, bool) {
	if len(s) > 5 {
		return 0, false
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (strings.EqualFold(u.Scheme, "http") || strings.EqualFold(u.Scheme, "https"))
}

// splitRef splits a reference IsEntityRef accepts into its parts; kind and namespace
// are empty when the reference leaves them out.
func splitRef(r string) (kind, namespace, name string) {
	if k, rest, ok := strings.Cut(r, ":"); ok {
		kind, r = k, rest
	}
	if ns, rest, ok := strings.Cut(r, "/"); ok {
		namespace, r = ns, rest
	}
	return kind, namespace, r
}

func refKind(r string) string {
	k, _, _ := splitRef(r)
	return k
}

// refKey identifies a Backstage entity: its kind, namespace and name are case-insensitive.
func refKey(kind, namespace, name string) string {
	return strings.ToLower(catalogv1alpha1.FormatEntityRef(kind, namespace, name))
}

func firstNonBlank(values ...string) string {
	for _, v := range values {
		if v = strings.TrimSpace(yamlText(v)); v != "" {
			return v
		}
	}
	return ""
}

// yamlText replaces what a YAML document cannot carry with U+FFFD: invalid UTF-8 (the
// API server never holds it, but Build does not rely on that) and characters
// outside YAML's printable set, such as DEL or C1 controls, which the API server does
// accept. One such character would otherwise fail the encoding of the whole body.
func yamlText(s string) string {
	if isYAMLText(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if !yamlPrintable(r) {
			return '\uFFFD'
		}
		return r
	}, s)
}

// isYAMLText reports whether s is valid UTF-8 of YAML-printable characters only.
func isYAMLText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !yamlPrintable(r) {
			return false
		}
	}
	return true
}

// yamlPrintable is YAML 1.2's c-printable, without NEL (U+0085), which YAML 1.1
// parsers take for a line break.
func yamlPrintable(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0x7e) ||
		(r >= 0xa0 && r <= 0xd7ff) || (r >= 0xe000 && r <= 0xfffd) || (r >= 0x10000 && r <= 0x10ffff)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func problem(e *catalogv1alpha1.CatalogEntity, reason string) *Problem {
	return &Problem{Namespace: e.Namespace, Name: e.Name, Reason: reason}
}
