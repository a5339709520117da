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

// FileName is the name `entityhub export --dir` gives a descriptor's file:
// <namespace>-<kind>-<name>.yaml, kind in lowercase.
func FileName(d Entity) string {
	return namespaceOf(d) + "-" + strings.ToLower(d.Kind) + "-" + d.Metadata.Name + ".yaml"
}
