package catalog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

// roundTripEntities are descriptors with text that YAML must quote or fold.
func roundTripEntities() []catalogv1alpha1.CatalogEntity {
	return []catalogv1alpha1.CatalogEntity{
		newEntity("payments", func(e *catalogv1alpha1.CatalogEntity) {
			e.Spec.Title = "yes" // a YAML 1.1 boolean unless quoted
			e.Spec.Description = "Line one\n---\nafter a document separator: #not-a-comment, 'quotes' \"and\" {braces} [brackets] \u00e9\u4e2d\t"
			e.Spec.Type = "123"
			e.Spec.Lifecycle = "null"
			e.Spec.Tags = []catalogv1alpha1.Tag{"c++", "#1"}
			e.Spec.Links = []catalogv1alpha1.Link{{URL: "https://example.com/a?b=c&d=e#f", Title: "- not a list", Type: "~"}}
			e.Status.Relations = []string{"resource:default/db"}
		}),
		newEntity("db", func(e *catalogv1alpha1.CatalogEntity) {
			e.Spec.Kind = "Resource"
			e.Spec.Description = "  leading and trailing  \n"
		}),
		newEntity("api", func(e *catalogv1alpha1.CatalogEntity) {
			e.Spec.Kind = "API"
			e.Annotations = map[string]string{AnnotationAPIDefinitionURL: "https://git.example.com/api.yaml"}
		}),
		newEntity("shop", func(e *catalogv1alpha1.CatalogEntity) { e.Spec.Kind = "System"; e.Spec.System = "commerce" }),
		newEntity("commerce", func(e *catalogv1alpha1.CatalogEntity) { e.Spec.Kind = "Domain" }),
	}
}

// splitYAML splits a multi-document stream the way a YAML parser does.
func splitYAML(t *testing.T, body []byte) [][]byte {
	t.Helper()
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(body)))
	var docs [][]byte
	for {
		doc, err := r.Read()
		if err == io.EOF {
			return docs
		}
		if err != nil {
			t.Fatalf("reading the YAML stream: %v", err)
		}
		if len(bytes.TrimSpace(doc)) == 0 || string(bytes.TrimSpace(doc)) == "---" {
			continue
		}
		docs = append(docs, doc)
	}
}

func TestYAMLRoundTrip(t *testing.T) {
	c := Build(roundTripEntities(), testOptions)
	docs := c.Entities
	if len(c.LeftOut) != 0 || len(docs) != 5 {
		t.Fatalf("Build() = %d docs, left out %v", len(docs), c.LeftOut)
	}
	body, err := EncodeYAML(docs)
	if err != nil {
		t.Fatal(err)
	}
	parts := splitYAML(t, body)
	if len(parts) != len(docs) {
		t.Fatalf("the body has %d documents, want %d:\n%s", len(parts), len(docs), body)
	}
	for i, part := range parts {
		var got Entity
		if err := yaml.UnmarshalStrict(part, &got); err != nil {
			t.Fatalf("document %d: %v\n%s", i, err, part)
		}
		if diff := cmp.Diff(docs[i], got); diff != "" {
			t.Errorf("document %d changed in YAML (-want +got):\n%s", i, diff)
		}
		// What Backstage reads is a plain object; it must have exactly the envelope's root fields.
		var generic map[string]any
		if err := yaml.Unmarshal(part, &generic); err != nil {
			t.Fatal(err)
		}
		for k := range generic {
			if k != "apiVersion" && k != "kind" && k != "metadata" && k != "spec" {
				t.Errorf("document %d has root field %q", i, k)
			}
		}
	}
	if !bytes.HasPrefix(body, []byte("---\n")) {
		t.Errorf("body does not open with a document marker:\n%s", body)
	}
	if empty, err := EncodeYAML(nil); err != nil || len(empty) != 0 {
		t.Errorf("EncodeYAML(nil) = %q, %v; want an empty body", empty, err)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	docs := Build(roundTripEntities(), testOptions).Entities
	body, err := EncodeJSON(docs)
	if err != nil {
		t.Fatal(err)
	}
	var got []Entity
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
	if diff := cmp.Diff(docs, got); diff != "" {
		t.Errorf("JSON round trip (-want +got):\n%s", diff)
	}
	if empty, _ := EncodeJSON(nil); string(empty) != "[]\n" {
		t.Errorf("EncodeJSON(nil) = %q, want an empty array", empty)
	}
	if !strings.Contains(string(body), `"definition":{"$text":"https://git.example.com/api.yaml"}`) {
		t.Errorf("the API's definition is not a $text placeholder: %s", body)
	}
}

// TestTextYAMLCannotCarry checks text the API server accepts but a YAML stream cannot
// hold raw: it is replaced, reported, and the body still encodes and reads back.
func TestTextYAMLCannotCarry(t *testing.T) {
	for name, in := range map[string]string{
		"DEL":              "a\x7fb",
		"C1 control":       "a\u0085b\u009fc",
		"noncharacter":     "a\ufffeb",
		"C0 control":       "a\x01b",
		"invalid UTF-8":    "a\xffb",
		"line separators":  "a\u2028b\u2029c", // printable, kept
		"CRLF and tab":     "a\r\nb\tc",       // printable, kept
		"byte order mark":  "\ufeffa",
		"astral character": "a\U0001F600b",
	} {
		t.Run(name, func(t *testing.T) {
			e := newEntity("payments", func(e *catalogv1alpha1.CatalogEntity) {
				e.Spec.Description, e.Spec.Title, e.Spec.Type = in, in, in
				e.Spec.Links = []catalogv1alpha1.Link{{URL: "https://a.example.com", Title: in, Type: in}}
			})
			c := Build([]catalogv1alpha1.CatalogEntity{e}, Options{DefaultOwner: "team", LocationURL: "https://x/" + in})
			if len(c.Entities) != 1 {
				t.Fatalf("left out: %v", c.LeftOut)
			}
			d := c.Entities[0]
			if isYAMLText(in) != (d.Metadata.Description == in) {
				t.Errorf("description %q became %q", in, d.Metadata.Description)
			}
			if !isYAMLText(in) && len(c.Fixed) == 0 {
				t.Error("replacing characters was not reported")
			}
			body, err := EncodeYAML(c.Entities)
			if err != nil {
				t.Fatalf("EncodeYAML() = %v", err)
			}
			var back Entity
			if err := yaml.UnmarshalStrict(splitYAML(t, body)[0], &back); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(d, back); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFileName(t *testing.T) {
	tests := []struct{ ns, kind, name, want string }{
		{"shop", "Component", "payments", "shop-component-payments.yaml"},
		{"", "Component", "payments", "default-component-payments.yaml"},
		{"team-a", "Resource", "orders-db", "team-a-resource-orders-db.yaml"},
		{"x", "API", "v1.pets", "x-api-v1.pets.yaml"},
		// Both of these would be x-component-component-y: neither gets the plain name.
		{"x", "Component", "component-y", "x--component--component-y.yaml"},
		{"x-component", "Component", "y", "x-component--component--y.yaml"},
		// Another kind's word: x-system-component-y reads as system x/component-y and
		// as component x-system/y.
		{"x", "System", "component-y", "x--system--component-y.yaml"},
		{"x-system", "Component", "y", "x-system--component--y.yaml"},
		// A kind's word that no valid split follows is no ambiguity.
		{"api", "Component", "web", "api-component-web.yaml"},
	}
	for _, tt := range tests {
		d := Entity{Kind: tt.kind, Metadata: Metadata{Name: tt.name, Namespace: tt.ns}}
		if got := FileName(d); got != tt.want {
			t.Errorf("FileName(%s %s/%s) = %q, want %q", tt.kind, tt.ns, tt.name, got, tt.want)
		}
	}
}

// TestFileNamesDoNotCollide writes the file names of every descriptor built from a few
// words that make splits ambiguous, and checks that no two Backstage entities share one,
// even when case is ignored.
func TestFileNamesDoNotCollide(t *testing.T) {
	words := []string{"x", "y", "component", "api", "system"}
	var parts []string
	for _, a := range words {
		parts = append(parts, a)
		for _, b := range words {
			parts = append(parts, a+"-"+b, a+"."+b)
			for _, c := range words {
				parts = append(parts, a+"-"+b+"-"+c)
			}
		}
	}
	owner := map[string]string{} // lowercase file name → entity key
	for _, ns := range parts {
		if !IsNamespace(ns) {
			continue
		}
		for _, kind := range []string{"Component", "Resource", "System", "API", "Domain"} {
			for _, name := range parts {
				d := Entity{Kind: kind, Metadata: Metadata{Name: name, Namespace: ns}}
				file, key := strings.ToLower(FileName(d)), refKey(kind, ns, name)
				if other, taken := owner[file]; taken && other != key {
					t.Fatalf("%s and %s both get %s", other, key, file)
				}
				owner[file] = key
			}
		}
	}
	if len(owner) < 10000 {
		t.Fatalf("only %d names checked", len(owner))
	}
}

func TestFileNameAndRef(t *testing.T) {
	d := Entity{Kind: "Component", Metadata: Metadata{Name: "payments", Namespace: "shop"}}
	if got := FileName(d); got != "shop-component-payments.yaml" {
		t.Errorf("FileName() = %q", got)
	}
	if got := Ref(d); got != "component:shop/payments" {
		t.Errorf("Ref() = %q", got)
	}
	d.Metadata.Namespace = ""
	if got := FileName(d); got != "default-component-payments.yaml" {
		t.Errorf("FileName() without namespace = %q", got)
	}
}
