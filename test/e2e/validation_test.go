package e2e

import (
	"context"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// entityYAML is a valid CatalogEntity with every field set; each case below breaks one
// thing in it, so that the refusal can only come from that one rule.
const entityYAML = `
apiVersion: catalog.entityhub.dev/v1alpha1
kind: CatalogEntity
metadata:
  name: payments-api
spec:
  kind: Component
  type: service
  lifecycle: production
  owner: group:default/payments
  system: system:default/payments
  title: Payments API
  description: Takes payments.
  tags: [java, team-payments, c++, "#pci"]
  links:
  - url: https://grafana.example.com/d/payments
    title: Dashboard
    icon: dashboard
    type: dashboard
  dependsOn: [resource:default/payments-db, component:payments_worker.v2]
  catalogNamespace: default
  sources:
  - apiVersion: argoproj.io/v1alpha1
    kind: Application
    namespace: argocd
    name: payments-prod
  - apiVersion: v1
    kind: ConfigMap
    selector:
      matchLabels:
        app: payments
`

// entity returns the valid entity with edit applied to its map form.
func entity(edit func(obj map[string]any)) *unstructured.Unstructured {
	obj := map[string]any{}
	Expect(yaml.Unmarshal([]byte(entityYAML), &obj)).To(Succeed())
	if edit != nil {
		edit(obj)
	}
	return &unstructured.Unstructured{Object: obj}
}

func spec(obj map[string]any) map[string]any { return obj["spec"].(map[string]any) }

var _ = Describe("CatalogEntity validation by the API server", func() {
	const ns = "validation"
	ctx := context.Background()

	BeforeEach(func() {
		err := k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
		if err != nil {
			Expect(err.Error()).To(ContainSubstring("already exists"))
		}
	})

	create := func(u *unstructured.Unstructured) error {
		u.SetNamespace(ns)
		u.SetGenerateName("")
		return k8sClient.Create(ctx, u, client.DryRunAll)
	}

	It("accepts an entity with every field set", func() {
		Expect(create(entity(nil))).To(Succeed())
	})

	DescribeTable("refuses what Backstage would reject, saying what to fix",
		func(edit func(obj map[string]any), field, message string) {
			err := create(entity(edit))
			Expect(err).To(HaveOccurred(), "the API server must refuse it")
			Expect(err.Error()).To(ContainSubstring(field))
			Expect(err.Error()).To(ContainSubstring(message))
		},
		Entry("a name over 63 characters", func(o map[string]any) {
			o["metadata"].(map[string]any)["name"] = strings.Repeat("a", 64)
		}, "metadata.name", "at most 63 characters"),
		Entry("a name with a double separator", func(o map[string]any) {
			o["metadata"].(map[string]any)["name"] = "payments--api"
		}, "metadata.name", "separated by single '-' or '.'"),
		Entry("a kind Backstage has no page for", func(o map[string]any) {
			spec(o)["kind"] = "Service"
		}, "spec.kind", `supported values: "Component", "Resource", "System", "API", "Domain"`),
		Entry("an owner that is not an entity reference", func(o map[string]any) {
			spec(o)["owner"] = "group:default/payments team"
		}, "spec.owner", "must be a Backstage entity reference"),
		Entry("an owner with an upper-case namespace", func(o map[string]any) {
			spec(o)["owner"] = "group:Default/payments"
		}, "spec.owner", "must be a Backstage entity reference"),
		Entry("an owner whose name is over 63 characters", func(o map[string]any) {
			spec(o)["owner"] = "group:default/" + strings.Repeat("p", 64)
		}, "spec.owner", "each part at most 63 characters"),
		Entry("a system that is not an entity reference", func(o map[string]any) {
			spec(o)["system"] = "system:default/"
		}, "spec.system", "must be a Backstage entity reference"),
		Entry("a dependsOn entry that is not an entity reference", func(o map[string]any) {
			spec(o)["dependsOn"] = []any{"resource:default/payments-db", "resource:default/-db"}
		}, "spec.dependsOn[1]", "must be a Backstage entity reference"),
		Entry("an upper-case tag", func(o map[string]any) {
			spec(o)["tags"] = []any{"Java"}
		}, "spec.tags[0]", "must be a Backstage tag"),
		Entry("a tag with a space", func(o map[string]any) {
			spec(o)["tags"] = []any{"java", "team payments"}
		}, "spec.tags[1]", "must be a Backstage tag"),
		Entry("a tag over 63 characters", func(o map[string]any) {
			spec(o)["tags"] = []any{strings.Repeat("t", 64)}
		}, "spec.tags[0]", "may not be more than 63"),
		Entry("a link without a URL", func(o map[string]any) {
			spec(o)["links"] = []any{map[string]any{"title": "Runbook"}}
		}, "spec.links[0].url", "Required value"),
		Entry("a link to a relative URL", func(o map[string]any) {
			spec(o)["links"] = []any{map[string]any{"url": "/runbooks/payments"}}
		}, "spec.links[0].url", "must be an absolute URL"),
		Entry("a Backstage namespace with upper case", func(o map[string]any) {
			spec(o)["catalogNamespace"] = "Payments"
		}, "spec.catalogNamespace", "must be a Backstage namespace"),
		Entry("a Backstage namespace with a double dash", func(o map[string]any) {
			spec(o)["catalogNamespace"] = "pay--ments"
		}, "spec.catalogNamespace", "must be a Backstage namespace"),
		Entry("an owner whose namespace has a double dash", func(o map[string]any) {
			spec(o)["owner"] = "group:pay--ments/team"
		}, "spec.owner", "must be a Backstage entity reference"),
		Entry("a source with both name and selector", func(o map[string]any) {
			spec(o)["sources"] = []any{map[string]any{
				"apiVersion": "v1", "kind": "ConfigMap", "name": "a",
				"selector": map[string]any{"matchLabels": map[string]any{"app": "a"}},
			}}
		}, "spec.sources[0]", "exactly one of name (one object) or selector"),
		Entry("a source with neither name nor selector", func(o map[string]any) {
			spec(o)["sources"] = []any{map[string]any{"apiVersion": "v1", "kind": "ConfigMap"}}
		}, "spec.sources[0]", "exactly one of name (one object) or selector"),
		Entry("a source without a kind", func(o map[string]any) {
			spec(o)["sources"] = []any{map[string]any{"apiVersion": "v1", "name": "a"}}
		}, "spec.sources[0].kind", "Required value"),
		Entry("a source with a lower-case kind", func(o map[string]any) {
			spec(o)["sources"] = []any{map[string]any{"apiVersion": "argoproj.io/v1alpha1", "kind": "application", "name": "a"}}
		}, "spec.sources[0].kind", "must be a Kubernetes kind"),
		Entry("a source with a malformed apiVersion", func(o map[string]any) {
			spec(o)["sources"] = []any{map[string]any{"apiVersion": "argoproj.io", "kind": "Application", "name": "a"}}
		}, "spec.sources[0].apiVersion", "must be an API version"),
		Entry("more tags than one object should hold", func(o map[string]any) {
			tags := make([]any, 33)
			for i := range tags {
				tags[i] = "t" + strings.Repeat("x", i)
			}
			spec(o)["tags"] = tags
		}, "spec.tags", "must have at most 32 items"),
	)

	It("shows the refusal to a person using kubectl", func() {
		bad := strings.Replace(entityYAML, "owner: group:default/payments", "owner: payments team", 1)
		_, stderr, err := kubectlStdin(ctx, bad, "apply", "--dry-run=server", "-n", ns, "-f", "-")
		Expect(err).To(HaveOccurred())
		Expect(stderr).To(ContainSubstring("spec.owner"))
		Expect(stderr).To(ContainSubstring("must be a Backstage entity reference [<kind>:][<namespace>/]<name>, such as group:default/payments"))
	})
})
