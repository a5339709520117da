package v1alpha1

import (
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestIsEntityRef(t *testing.T) {
	r := strings.Repeat
	tests := map[string]struct {
		ref  string
		want bool
	}{
		// Valid.
		"name":                               {ref: "payments", want: true},
		"kind and name":                      {ref: "group:payments", want: true},
		"kind, namespace and name":           {ref: "group:default/payments", want: true},
		"capital kind, name with _ and .":    {ref: "Group:default/payments_team.v2", want: true},
		"namespace with a dash":              {ref: "component:my-ns/a", want: true},
		"namespace with a double dash":       {ref: "a--b/x", want: false}, // Backstage namespaces are DNS labels of single dashes
		"namespace and name":                 {ref: "default/payments", want: true},
		"upper-case name":                    {ref: "group:default/Payments", want: true},
		"digits":                             {ref: "k8s:0/1", want: true},
		"63-character parts, 191 characters": {ref: "k" + r("x", 62) + ":" + r("n", 63) + "/" + r("a", 63), want: true},
		"63-character name":                  {ref: r("a", 63), want: true},

		// Invalid.
		"empty":                          {ref: ""},
		"kind without name":              {ref: "group:"},
		"name without kind":              {ref: ":x"},
		"namespace without name":         {ref: "default/"},
		"upper-case namespace":           {ref: "group:Default/x"},
		"space":                          {ref: "a b"},
		"two namespaces":                 {ref: "x/y/z"},
		"two kinds":                      {ref: "a:b:c"},
		"kind starting with a digit":     {ref: "1group:x"},
		"kind with a dash":               {ref: "my-kind:x"},
		"namespace ending in a dash":     {ref: "a-/x"},
		"namespace starting with a dash": {ref: "-a/x"},
		"namespace with an underscore":   {ref: "a_b/x"},
		"64-character name":              {ref: r("a", 64)},
		"64-character kind":              {ref: "k" + r("x", 63) + ":a"},
		"64-character namespace":         {ref: r("n", 64) + "/a"},
		"192 characters":                 {ref: "k" + r("x", 62) + ":" + r("n", 63) + "/" + r("a", 64)},
		"name starting with a dash":      {ref: "group:default/-x"},
		"name ending in a dot":           {ref: "x."},
		"double dot":                     {ref: "x..y"},
		"dash and dot":                   {ref: "x-.y"},
		"non-ASCII":                      {ref: "zürich"},
		"trailing newline":               {ref: "payments\n"},
		"leading space":                  {ref: " payments"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := IsEntityRef(tc.ref); got != tc.want {
				t.Errorf("IsEntityRef(%q) (%d characters) = %v, want %v", tc.ref, len(tc.ref), got, tc.want)
			}
		})
	}
}

func TestIsEntityName(t *testing.T) {
	tests := map[string]struct {
		name string
		want bool
	}{
		"simple":           {name: "payments", want: true},
		"63 characters":    {name: strings.Repeat("a", 63), want: true},
		"64 characters":    {name: strings.Repeat("a", 64)},
		"dash":             {name: "a-b", want: true},
		"double dash":      {name: "a--b"},
		"dot":              {name: "a.b", want: true},
		"double dot":       {name: "a..b"},
		"digits":           {name: "0", want: true},
		"upper case":       {name: "A"},
		"empty":            {name: ""},
		"leading dash":     {name: "-a"},
		"trailing dash":    {name: "a-"},
		"trailing dot":     {name: "a."},
		"underscore":       {name: "a_b"},
		"colon":            {name: "group:a"},
		"slash":            {name: "default/a"},
		"trailing newline": {name: "a\n"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := IsEntityName(tc.name); got != tc.want {
				t.Errorf("IsEntityName(%q) = %v, want %v", tc.name, got, tc.want)
			}
		})
	}
}

func TestIsEntityKind(t *testing.T) {
	tests := map[string]struct {
		kind EntityKind
		want bool
	}{
		"Component":  {kind: KindComponent, want: true},
		"Resource":   {kind: KindResource, want: true},
		"System":     {kind: KindSystem, want: true},
		"API":        {kind: KindAPI, want: true},
		"Domain":     {kind: KindDomain, want: true},
		"lower case": {kind: "component"},
		"Api":        {kind: "Api"},
		"Group":      {kind: "Group"}, // a Backstage kind, but not one a CatalogEntity can be
		"User":       {kind: "User"},
		"Service":    {kind: "Service"},
		"empty":      {kind: ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := IsEntityKind(tc.kind); got != tc.want {
				t.Errorf("IsEntityKind(%q) = %v, want %v", tc.kind, got, tc.want)
			}
		})
	}
}

// TestEntityKindsMatchEnum checks that IsEntityKind accepts exactly the enum of the CRD.
func TestEntityKindsMatchEnum(t *testing.T) {
	markers := markersOf(t, readTypes(t), "type EntityKind string")
	m := regexp.MustCompile(`\+kubebuilder:validation:Enum=(\S+)`).FindStringSubmatch(markers)
	if m == nil {
		t.Fatalf("no Enum marker on EntityKind:\n%s", markers)
	}
	for _, k := range strings.Split(m[1], ";") {
		if !IsEntityKind(EntityKind(k)) {
			t.Errorf("IsEntityKind(%q) = false, but the CRD's enum has it", k)
		}
	}
	for _, k := range []EntityKind{KindComponent, KindResource, KindSystem, KindAPI, KindDomain} {
		if !strings.Contains(";"+m[1]+";", ";"+string(k)+";") {
			t.Errorf("IsEntityKind(%q) = true, but the CRD's enum %s does not have it", k, m[1])
		}
	}
}

// TestValidatorsMatchCRDRules checks that the Go validators check what the CRD's CEL
// rules check, so that the two cannot drift apart silently: the regular expressions of
// validation.go are, verbatim, the ones the rules match, and the length limits agree.
func TestValidatorsMatchCRDRules(t *testing.T) {
	types := readTypes(t)
	tests := map[string]struct {
		decl       string           // the declaration whose markers hold the rules
		patterns   []*regexp.Regexp // what the Go validator matches
		lengthRule *regexp.Regexp   // the marker that bounds the length
		maxLength  int              // the bound the Go validator applies
		valid      func(string) bool
		longest    string // a valid value of maxLength characters
	}{
		"EntityRef": {
			decl:       "type EntityRef string",
			patterns:   []*regexp.Regexp{entityRefPattern, entityRefPartsLength},
			lengthRule: regexp.MustCompile(`\+kubebuilder:validation:MaxLength=(\d+)`),
			maxLength:  MaxEntityRefLength,
			valid:      IsEntityRef,
			longest:    "k" + strings.Repeat("x", 62) + ":" + strings.Repeat("n", 63) + "/" + strings.Repeat("a", 63),
		},
		"CatalogEntity name": {
			decl:       "type CatalogEntity struct",
			patterns:   []*regexp.Regexp{entityNamePattern},
			lengthRule: regexp.MustCompile(`size\(self\.metadata\.name\) <= (\d+)`),
			maxLength:  MaxEntityNameLength,
			valid:      IsEntityName,
			longest:    strings.Repeat("a", 63),
		},
	}
	matches := regexp.MustCompile(`\.matches\('([^']*)'\)`)
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			markers := markersOf(t, types, tc.decl)
			var rules []string
			for _, line := range strings.Split(markers, "\n") {
				if strings.Contains(line, "+kubebuilder:validation:XValidation:") {
					for _, m := range matches.FindAllStringSubmatch(line, -1) {
						rules = append(rules, m[1])
					}
				}
			}
			var want []string
			for _, p := range tc.patterns {
				// CEL string literals and marker values unescape backslashes and end at
				// quotes: with neither, equal text is the same regular expression (CEL's
				// matches and Go's regexp are both RE2).
				if strings.ContainsAny(p.String(), `\'"`) {
					t.Fatalf("pattern %q has a backslash or quote; compare unescaped text", p)
				}
				want = append(want, p.String())
			}
			sort.Strings(rules)
			sort.Strings(want)
			if diff := cmp.Diff(want, rules); diff != "" {
				t.Errorf("regular expressions of validation.go (-) and of the CEL rules on %q (+) differ:\n%s", tc.decl, diff)
			}

			m := tc.lengthRule.FindStringSubmatch(markers)
			if m == nil {
				t.Fatalf("no %s marker on %q", tc.lengthRule, tc.decl)
			}
			crdMax, _ := strconv.Atoi(m[1])
			if crdMax != tc.maxLength {
				t.Errorf("the CRD allows %d characters, the test expects %d", crdMax, tc.maxLength)
			}
			if len(tc.longest) != crdMax {
				t.Fatalf("test value has %d characters, want %d", len(tc.longest), crdMax)
			}
			if !tc.valid(tc.longest) {
				t.Errorf("Go validator refuses %q, %d characters, which the CRD accepts", tc.longest, crdMax)
			}
			if tc.valid(tc.longest + "a") {
				t.Errorf("Go validator accepts %q, %d characters, which the CRD refuses", tc.longest+"a", crdMax+1)
			}
		})
	}
}

func readTypes(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("catalogentity_types.go")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// markersOf returns the comment block right above decl in src.
func markersOf(t *testing.T, src, decl string) string {
	t.Helper()
	i := strings.Index(src, "\n"+decl)
	if i < 0 {
		t.Fatalf("%q not found in catalogentity_types.go", decl)
	}
	lines := strings.Split(src[:i], "\n")
	start := len(lines)
	for start > 0 && strings.HasPrefix(strings.TrimSpace(lines[start-1]), "//") {
		start--
	}
	return strings.Join(lines[start:], "\n")
}
