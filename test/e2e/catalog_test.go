package e2e

import (
	"context"
	"io"
	"net/http"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

var _ = Describe("The catalog endpoint, with authentication on", Ordered, func() {
	ctx := context.Background()
	var reader, stranger string

	// token creates a ServiceAccount in ns, bound to clusterRole when set, and returns
	// a token for it from the TokenRequest API.
	token := func(ns, name, clusterRole string) string {
		Expect(client.IgnoreAlreadyExists(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))).To(Succeed())
		_, stderr, err := kubectl(ctx, "create", "serviceaccount", name, "-n", ns)
		Expect(err).NotTo(HaveOccurred(), stderr)
		if clusterRole != "" {
			_, stderr, err = kubectl(ctx, "create", "clusterrolebinding", name, "--clusterrole="+clusterRole, "--serviceaccount="+ns+":"+name)
			Expect(err).NotTo(HaveOccurred(), stderr)
		}
		stdout, stderr, err := kubectl(ctx, "create", "token", name, "-n", ns)
		Expect(err).NotTo(HaveOccurred(), stderr)
		return strings.TrimSpace(stdout)
	}

	request := func(tok, accept, ifNoneMatch, query string) (*http.Response, string) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+catalogAddr+"/entities"+query, nil)
		Expect(err).NotTo(HaveOccurred())
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		if ifNoneMatch != "" {
			req.Header.Set("If-None-Match", ifNoneMatch)
		}
		resp, err := catalogClient.Do(req)
		Expect(err).NotTo(HaveOccurred())
		defer func() { _ = resp.Body.Close() }()
		body, err := io.ReadAll(resp.Body)
		Expect(err).NotTo(HaveOccurred())
		return resp, string(body)
	}

	BeforeAll(func() {
		// The shipped reader role is created by config/default in another spec; this
		// one makes its own with the same rules, so that it stands alone.
		_, stderr, err := kubectlStdin(ctx, `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: catalog-e2e-reader}
rules:
- {apiGroups: [catalog.entityhub.dev], resources: [catalogentities], verbs: [get, list, watch]}
`, "apply", "-f", "-")
		Expect(err).NotTo(HaveOccurred(), stderr)
		reader = token("catalog-e2e", "portal", "catalog-e2e-reader")
		stranger = token("catalog-e2e", "stranger", "")

		Expect(client.IgnoreAlreadyExists(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "catalog-e2e"}}))).To(Succeed())
		e := &catalogv1alpha1.CatalogEntity{
			ObjectMeta: metav1.ObjectMeta{Name: "ledger", Namespace: "catalog-e2e"},
			Spec: catalogv1alpha1.CatalogEntitySpec{
				Kind: catalogv1alpha1.KindComponent, Type: "service", Lifecycle: "production",
				Owner: "group:default/payments", Tags: []catalogv1alpha1.Tag{"go"},
			},
		}
		Expect(k8sClient.Create(ctx, e)).To(Succeed())
	})

	It("refuses a request without a token, and one whose token may not list catalogentities", func() {
		Eventually(func() int {
			resp, _ := request("", "", "", "")
			return resp.StatusCode
		}).WithTimeout(10 * time.Second).Should(Equal(http.StatusUnauthorized))
		resp, _ := request("not-a-token", "", "", "")
		Expect(resp.StatusCode).To(Equal(http.StatusUnauthorized))
		resp, _ = request(stranger, "", "", "")
		Expect(resp.StatusCode).To(Equal(http.StatusForbidden))
	})

	It("serves Backstage descriptors that round-trip, with an ETag and 304 Not Modified", func() {
		var resp *http.Response
		var body string
		Eventually(func(g Gomega) {
			resp, body = request(reader, "", "", "?namespace=default")
			g.Expect(resp.StatusCode).To(Equal(http.StatusOK), body)
			g.Expect(body).To(ContainSubstring("name: ledger"))
		}).WithTimeout(10 * time.Second).Should(Succeed())
		Expect(resp.Header.Get("Content-Type")).To(HavePrefix("application/yaml"))

		var found map[string]any
		for _, doc := range strings.Split(body, "\n---\n") {
			d := map[string]any{}
			Expect(yaml.Unmarshal([]byte(doc), &d)).To(Succeed(), doc)
			if d["metadata"].(map[string]any)["name"] == "ledger" {
				found = d
			}
		}
		Expect(found).NotTo(BeNil())
		Expect(found["apiVersion"]).To(Equal("backstage.io/v1alpha1"))
		Expect(found["kind"]).To(Equal("Component"))
		meta := found["metadata"].(map[string]any)
		Expect(meta["namespace"]).To(Equal("default"))
		Expect(meta["annotations"]).To(HaveKeyWithValue("backstage.io/kubernetes-id", "ledger"))
		Expect(meta["annotations"]).To(HaveKeyWithValue("backstage.io/managed-by-location",
			"url:https://"+catalogAddr+"/entities?namespace=default"))
		spec := found["spec"].(map[string]any)
		Expect(spec).To(HaveKeyWithValue("owner", "group:default/payments"))
		Expect(spec).To(HaveKeyWithValue("lifecycle", "production"))

		etag := resp.Header.Get("ETag")
		Expect(etag).To(MatchRegexp(`^"[0-9a-f]+"$`))
		resp, body = request(reader, "", etag, "?namespace=default")
		Expect(resp.StatusCode).To(Equal(http.StatusNotModified))
		Expect(body).To(BeEmpty())

		By("the same filter spelt otherwise is the same body")
		resp, _ = request(reader, "", etag, "?namespace=DEFAULT,%64efault")
		Expect(resp.StatusCode).To(Equal(http.StatusNotModified))

		By("JSON on Accept: application/json")
		resp, body = request(reader, "application/json", "", "?namespace=default")
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		Expect(resp.Header.Get("Content-Type")).To(HavePrefix("application/json"))
		Expect(body).To(ContainSubstring(`"name":"ledger"`))
	})

	It("speaks only HTTPS", func() {
		resp, err := http.Get("http://" + catalogAddr + "/entities")
		Expect(err).NotTo(HaveOccurred())
		_ = resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusBadRequest), "Go's TLS server answers plain HTTP with 400")
	})

	It("publishes the catalog namespace's entity, not a tenant's of the same name", func() {
		Expect(client.IgnoreAlreadyExists(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "entityhub-system"}}))).To(Succeed())
		entity := func(ns, owner, link string) *catalogv1alpha1.CatalogEntity {
			e := &catalogv1alpha1.CatalogEntity{
				ObjectMeta: metav1.ObjectMeta{Name: "billing-api", Namespace: ns},
				Spec: catalogv1alpha1.CatalogEntitySpec{
					Kind: catalogv1alpha1.KindComponent, Owner: catalogv1alpha1.EntityRef(owner),
					CatalogNamespace: "tenancy",
				},
			}
			if link != "" {
				e.Spec.Links = []catalogv1alpha1.Link{{URL: link, Title: "Sign in"}}
			}
			return e
		}
		// The tenant's namespace sorts before the catalog namespace.
		Expect(k8sClient.Create(ctx, entity("catalog-e2e", "group:default/mallory", "https://login.example.net/"))).To(Succeed())
		Expect(k8sClient.Create(ctx, entity("entityhub-system", "group:default/payments", ""))).To(Succeed())
		Eventually(func(g Gomega) {
			resp, body := request(reader, "", "", "?namespace=tenancy")
			g.Expect(resp.StatusCode).To(Equal(http.StatusOK))
			g.Expect(body).To(ContainSubstring("owner: group:default/payments"))
			g.Expect(body).NotTo(ContainSubstring("mallory"))
			g.Expect(body).NotTo(ContainSubstring("login.example.net"))
		}).WithTimeout(10 * time.Second).Should(Succeed())
	})
})
