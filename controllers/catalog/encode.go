// This file writes descriptors out: the multi-document YAML Backstage reads, a JSON
// array for other tools, and the file names `entityhub export --dir` uses.

package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"sigs.k8s.io/yaml"
)

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

// FileName is the name `entityhub export --dir` gives a descriptor's file, kind in
// lowercase: <namespace>-<kind>-<name>.yaml when that name can be read back only one
// way, else <namespace>--<kind>--<name>.yaml. No two descriptors of a Catalog get one
// name, even on a file system that ignores case:
//
//   - The plain name is ambiguous when '-' within the namespace or the name makes
//     another split valid: namespace x with component-y, and x-component with y, both
//     give x-component-component-y. Such a name is never used, for either of them: it
//     is decided by the descriptor alone, so a file keeps its name whatever other
//     entities come and go.
//   - "--" appears in no Backstage namespace, kind or name, so the long form splits one
//     way only, and no plain name contains it.
//
// A plain name read back one way names one Backstage entity, which Build publishes once
// (names differing in case are one entity).
func FileName(d Entity) string {
	ns, kind, name := namespaceOf(d), strings.ToLower(d.Kind), d.Metadata.Name
	if plain := ns + "-" + kind + "-" + name; readings(plain) == 1 {
		return plain + ".yaml"
	}
	return ns + "--" + kind + "--" + name + ".yaml"
}

// fileKinds are the kinds as file names write them.
var fileKinds = []string{"component", "resource", "system", "api", "domain"}

// readings counts the ways s splits into <namespace>-<kind>-<name> that Backstage would
// accept, ignoring case as some file systems do.
func readings(s string) int {
	lower := strings.ToLower(s)
	n := 0
	for _, k := range fileKinds {
		sep := "-" + k + "-"
		for from := 0; ; {
			i := strings.Index(lower[from:], sep)
			if i < 0 {
				break
			}
			at := from + i
			if IsNamespace(lower[:at]) && isBackstageName(lower[at+len(sep):]) {
				n++
			}
			from = at + 1
		}
	}
	return n
}
