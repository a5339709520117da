// This file holds Backstage's rules for names, namespaces, tags, annotation keys and
// URLs, as its catalog-model checks them; conversion and Validate both use them, so that
// what one produces the other accepts.

package catalog

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

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

// isBackstageName reports whether s is an entity name (and a link icon key) Backstage
// accepts.
func isBackstageName(s string) bool {
	return len(s) <= 63 && backstageName.MatchString(s)
}

// IsNamespace reports whether s is a namespace Backstage accepts: 1 to 63 lowercase
// letters and digits separated by single '-'.
func IsNamespace(s string) bool {
	return len(s) <= 63 && backstageNamespace.MatchString(s)
}

// isBackstageTag reports whether s is a tag Backstage accepts.
func isBackstageTag(s string) bool {
	return len(s) <= 63 && backstageTag.MatchString(s)
}

// isAnnotationKey is Backstage's isValidAnnotationKey: [<DNS subdomain>/]<object name>.
func isAnnotationKey(k string) bool {
	prefix, name, found := strings.Cut(k, "/")
	if !found {
		name = k
	} else if strings.Contains(name, "/") || !isDNSSubdomain(prefix) {
		return false
	}
	return len(name) <= 63 && objectName.MatchString(name)
}

// isDNSSubdomain reports whether s is a DNS subdomain Backstage accepts as an
// annotation key's prefix: dot-separated namespaces, 253 characters at most.
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

// parsePort reads a decimal port of at most five digits; the caller bounds it.
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

// isHTTPURL reports whether s is an http or https URL, the only schemes Backstage's
// placeholder processor reads a definition from.
func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (strings.EqualFold(u.Scheme, "http") || strings.EqualFold(u.Scheme, "https"))
}
