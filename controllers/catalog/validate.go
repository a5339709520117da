// This file is the gate every descriptor passes before it is published: Backstage's
// catalog-model rules for the kinds entityhub publishes, checked a part at a time —
// envelope, metadata, annotations, tags, links, spec.

package catalog

import (
	"fmt"
	"sort"
	"strings"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

// Validate reports whether d passes Backstage's catalog-model rules for the kinds
// entityhub publishes — the envelope, metadata field formats (FieldFormatEntityPolicy)
// and each kind's schema — and entityhub's own stricter rules for references (those of
// the CRD, api/v1alpha1.IsEntityRef). Where Backstage is looser than what entityhub
// produces (names with repeated separators), Validate is stricter, never the other way.
func Validate(d Entity) error {
	var v validator
	v.envelope(d)
	v.metadata(d.Metadata)
	v.annotations(d.Metadata.Annotations)
	v.tags(d.Metadata.Tags)
	v.links(d.Metadata.Links)
	v.spec(d.Kind, d.Spec)
	if len(v.errs) > 0 {
		return fmt.Errorf("%s", strings.Join(v.errs, "; "))
	}
	return nil
}

// validator collects every rule a descriptor breaks, in the order they are checked, so
// that one error names them all.
type validator struct {
	errs []string
}

// bad records a broken rule.
func (v *validator) bad(format string, args ...any) {
	v.errs = append(v.errs, fmt.Sprintf(format, args...))
}

// envelope checks apiVersion and kind.
func (v *validator) envelope(d Entity) {
	if d.APIVersion != APIVersion {
		v.bad("apiVersion %q is not %s", d.APIVersion, APIVersion)
	}
	if !catalogv1alpha1.IsEntityKind(catalogv1alpha1.EntityKind(d.Kind)) {
		v.bad("kind %q is not one of Component, Resource, System, API or Domain", d.Kind)
	}
}

// metadata checks the name, namespace, title and description.
func (v *validator) metadata(m Metadata) {
	if !isBackstageName(m.Name) {
		v.bad("metadata.name %q is not a Backstage entity name", m.Name)
	}
	if m.Namespace != "" && !IsNamespace(m.Namespace) {
		v.bad("metadata.namespace %q is not a Backstage namespace", m.Namespace)
	}
	for _, f := range []struct{ field, value string }{{"metadata.title", m.Title}, {"metadata.description", m.Description}} {
		if !isYAMLText(f.value) {
			v.bad("%s is not printable UTF-8", f.field)
		}
	}
}

// annotations checks each key and value, in key order so that the error is the same
// every time.
func (v *validator) annotations(annotations map[string]string) {
	keys := make([]string, 0, len(annotations))
	for k := range annotations {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !isAnnotationKey(k) {
			v.bad("annotation key %q is not a valid [<DNS subdomain>/]<name>", k)
		}
		if !isYAMLText(annotations[k]) {
			v.bad("annotation %s is not printable UTF-8", k)
		}
	}
}

// tags checks each tag.
func (v *validator) tags(tags []string) {
	for i, t := range tags {
		if !isBackstageTag(t) {
			v.bad("tags[%d] %q is not a Backstage tag", i, t)
		}
	}
}

// links checks each link's URL, title, icon and type.
func (v *validator) links(links []Link) {
	for i, l := range links {
		if err := checkURL(l.URL); err != nil {
			v.bad("links[%d].url %q %v", i, l.URL, err)
		}
		if l.Title != "" && !isNonBlankText(l.Title) {
			v.bad("links[%d].title must be a non-blank printable string", i)
		}
		if l.Icon != "" && !isBackstageName(l.Icon) {
			v.bad("links[%d].icon %q is not a valid icon key", i, l.Icon)
		}
		if !isYAMLText(l.Type) {
			v.bad("links[%d].type is not printable UTF-8", i)
		}
	}
}

// spec checks the fields the kind requires, then the format of every field set.
func (v *validator) spec(kind string, s Spec) {
	v.required(kind, "owner", s.Owner)
	v.ref("owner", s.Owner, false)
	switch catalogv1alpha1.EntityKind(kind) {
	case catalogv1alpha1.KindComponent, catalogv1alpha1.KindAPI:
		v.required(kind, "type", s.Type)
		v.required(kind, "lifecycle", s.Lifecycle)
	case catalogv1alpha1.KindResource:
		v.required(kind, "type", s.Type)
	}
	for _, f := range []struct{ field, value string }{{"type", s.Type}, {"lifecycle", s.Lifecycle}} {
		if f.value != "" && !isNonBlankText(f.value) {
			v.bad("spec.%s must be a non-blank printable string", f.field)
		}
	}
	v.ref("system", s.System, false)
	v.ref("domain", s.Domain, false)
	v.ref("subdomainOf", s.SubdomainOf, false)
	for i, r := range s.DependsOn {
		v.ref(fmt.Sprintf("dependsOn[%d]", i), r, true)
	}
	if kind == string(catalogv1alpha1.KindAPI) {
		if s.Definition == nil || s.Definition.Text == "" {
			v.bad("spec.definition is required for kind API")
		}
	} else if s.Definition != nil {
		v.bad("spec.definition is only for kind API")
	}
}

// required checks a spec field the kind must have.
func (v *validator) required(kind, field, value string) {
	if strings.TrimSpace(value) == "" {
		v.bad("spec.%s is required for kind %s", field, kind)
	} else if !isYAMLText(value) {
		v.bad("spec.%s is not printable UTF-8", field)
	}
}

// ref checks an entity reference in spec, when set; needKind for those Backstage gives
// no default kind.
func (v *validator) ref(field, value string, needKind bool) {
	if value == "" {
		return
	}
	if !catalogv1alpha1.IsEntityRef(value) {
		v.bad("spec.%s %q is not an entity reference", field, value)
	} else if needKind && refKind(value) == "" {
		v.bad("spec.%s %q has no kind", field, value)
	}
}
