// This file keeps text YAML can carry: a descriptor's strings come from objects the API
// server accepted, which may hold characters a YAML stream cannot, and one of them would
// fail the whole body.

package catalog

import (
	"strings"
	"unicode/utf8"
)

// firstNonBlank is the first of values that is not blank once made YAML text, trimmed.
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

// isNonBlankText reports whether s is YAML text with more than white space, as Backstage
// wants of a title or a type.
func isNonBlankText(s string) bool {
	return strings.TrimSpace(s) != "" && isYAMLText(s)
}

// yamlPrintable is YAML 1.2's c-printable, without NEL (U+0085), which YAML 1.1
// parsers take for a line break.
func yamlPrintable(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0x7e) ||
		(r >= 0xa0 && r <= 0xd7ff) || (r >= 0xe000 && r <= 0xfffd) || (r >= 0x10000 && r <= 0x10ffff)
}
