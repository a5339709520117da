package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

// asServiceAccount returns a client configuration that authenticates with token alone,
// as Backstage does.
func asServiceAccount(token string) *rest.Config {
	c := rest.AnonymousClientConfig(restConfig)
	c.BearerToken = token
	return c
}

var _ = Describe("Backstage's access, with only the shipped ServiceAccount's token", Ordered, func() {
	ctx := context.Background()
	var token string

	BeforeAll(func() {
		for _, name := range []string{"entityhub-system", "argocd", "argo", "team-a", "team-b"} {
			Expect(client.IgnoreAlreadyExists(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}))).To(Succeed())
		}
		By("installing config/default for real")
		_, stderr, err := kubectl(ctx, "apply", "--server-side", "--force-conflicts", "-k", "config/default")
		Expect(err).NotTo(HaveOccurred(), stderr)

		By("getting a token for the backstage ServiceAccount through the TokenRequest API")
		stdout, stderr, err := kubectl(ctx, "create", "token", "entityhub-backstage", "-n", "entityhub-system", "--duration=1h")
		Expect(err).NotTo(HaveOccurred(), stderr)
		token = strings.TrimSpace(stdout)
		Expect(token).NotTo(BeEmpty())

		for _, ns := range []string{"team-a", "team-b"} {
			e := &catalogv1alpha1.CatalogEntity{ObjectMeta: metav1.ObjectMeta{Name: "storefront", Namespace: ns}}
			Expect(k8sClient.Create(ctx, e)).To(Succeed())
		}
		Eventually(func(g Gomega) {
			var list catalogv1alpha1.CatalogEntityList
			g.Expect(k8sClient.List(ctx, &list, client.MatchingLabels{"backstage.io/kubernetes-id": "storefront"})).To(Succeed())
			g.Expect(list.Items).To(HaveLen(2), "the manager labels both")
			for _, e := range list.Items {
				g.Expect(e.Status.Ready).NotTo(BeEmpty())
			}
		}).WithTimeout(30 * time.Second).Should(Succeed())
	})

	// get does what the Backstage Kubernetes plugin does: a GET of the custom resource
	// list with the entity's label selector.
	get := func(path string) (int, map[string]any) {
		httpClient, err := rest.HTTPClientFor(asServiceAccount(token))
		Expect(err).NotTo(HaveOccurred())
		q := url.Values{"labelSelector": {"backstage.io/kubernetes-id=storefront"}}
		base, _, err := rest.DefaultServerUrlFor(restConfig)
		Expect(err).NotTo(HaveOccurred())
		resp, err := httpClient.Get(strings.TrimSuffix(base.String(), "/") + path + "?" + q.Encode())
		Expect(err).NotTo(HaveOccurred())
		defer func() { _ = resp.Body.Close() }()
		body, err := io.ReadAll(resp.Body)
		Expect(err).NotTo(HaveOccurred())
		out := map[string]any{}
		Expect(json.Unmarshal(body, &out)).To(Succeed(), string(body))
		return resp.StatusCode, out
	}

	It("lists an entity's CatalogEntities by the plugin's label selector across all namespaces", func() {
		code, list := get("/apis/catalog.entityhub.dev/v1alpha1/catalogentities")
		Expect(code).To(Equal(http.StatusOK), "%v", list)
		Expect(list["kind"]).To(Equal("CatalogEntityList"))
		items := list["items"].([]any)
		Expect(items).To(HaveLen(2))
		status := items[0].(map[string]any)["status"].(map[string]any)
		for _, scalar := range []string{"health", "ready", "message"} {
			Expect(status[scalar]).To(BeAssignableToTypeOf(""), "status.%s is a scalar the plugin shows as a row", scalar)
		}
	})

	It("lists them in one namespace, for entities annotated backstage.io/kubernetes-namespace", func() {
		code, list := get("/apis/catalog.entityhub.dev/v1alpha1/namespaces/team-a/catalogentities")
		Expect(code).To(Equal(http.StatusOK), "%v", list)
		Expect(list["kind"]).To(Equal("CatalogEntityList"))
		Expect(list["items"]).To(HaveLen(1))
	})

	It("is refused everything else: Secrets, Pods, writing CatalogEntities", func() {
		c, err := client.New(asServiceAccount(token), client.Options{Scheme: k8sClient.Scheme()})
		Expect(err).NotTo(HaveOccurred())
		Expect(c.List(ctx, &corev1.SecretList{}, client.InNamespace("entityhub-system"))).To(Satisfy(apierrors.IsForbidden))
		Expect(c.List(ctx, &corev1.PodList{})).To(Satisfy(apierrors.IsForbidden))
		e := &catalogv1alpha1.CatalogEntity{ObjectMeta: metav1.ObjectMeta{Name: "intruder", Namespace: "team-a"}}
		Expect(c.Create(ctx, e)).To(Satisfy(apierrors.IsForbidden))
		got := &catalogv1alpha1.CatalogEntity{}
		Expect(c.Get(ctx, client.ObjectKey{Namespace: "team-a", Name: "storefront"}, got)).To(Succeed())
		got.Spec.Owner = "group:default/intruders"
		Expect(c.Update(ctx, got)).To(Satisfy(apierrors.IsForbidden))
		Expect(c.Delete(ctx, got)).To(Satisfy(apierrors.IsForbidden))
	})
})
