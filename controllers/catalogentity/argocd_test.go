package catalogentity_test

import (
	"context"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/catalogentity"
	"github.com/entityhub/entityhub/controllers/watches"
	"github.com/entityhub/entityhub/test/testenv"
)

var applicationGVK = schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "Application"}

// application builds an Application from YAML; Argo CD's CRD has no status
// subresource, so status is written with the object.
func application(manifest string) *unstructured.Unstructured {
	obj := map[string]any{}
	Expect(yaml.Unmarshal([]byte(manifest), &obj)).To(Succeed())
	u := &unstructured.Unstructured{Object: obj}
	u.SetGroupVersionKind(applicationGVK)
	return u
}

func clusterSecret(name, cluster, server string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "argocd", Labels: map[string]string{
			"argocd.argoproj.io/secret-type": "cluster",
		}},
		StringData: map[string]string{"name": cluster, "server": server, "config": `{"bearerToken":"secret"}`},
	}
}

var _ = Describe("Argo CD Applications", Ordered, func() {
	ctx := context.Background()
	const entity = "payments"

	BeforeAll(func() {
		By("installing Argo CD's CRDs while the manager runs")
		_, err := envtest.InstallCRDs(cfg, envtest.CRDInstallOptions{Paths: []string{
			filepath.Join(testenv.RepoRoot(), "test", "fixtures", "crds", "argoproj.io_applications.yaml"),
			filepath.Join(testenv.RepoRoot(), "test", "fixtures", "crds", "argoproj.io_applicationsets.yaml"),
		}})
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() watches.State {
			s, _, _ := engine.Watches.StateOf(applicationGVK)
			return s
		}).WithTimeout(15 * time.Second).Should(Equal(watches.Synced))

		Expect(client.IgnoreAlreadyExists(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "argocd"}}))).To(Succeed())
		Expect(k8sClient.Create(ctx, clusterSecret("cluster-prod-eu", "prod-eu", "https://prod-eu.example.com"))).To(Succeed())
		Expect(k8sClient.Create(ctx, clusterSecret("cluster-prod-us", "prod-us", "https://prod-us.example.com/"))).To(Succeed())
	})

	It("makes an entity of the Applications labelled for it, one source per destination cluster", func() {
		Expect(k8sClient.Create(ctx, application(`
metadata: {name: payments-eu, namespace: argocd, labels: {backstage.io/kubernetes-id: payments}}
spec:
  destination: {server: "https://prod-eu.example.com", namespace: payments}
  source: {repoURL: "https://git.example.com/payments.git", path: deploy, targetRevision: main}
status:
  health: {status: Healthy}
  sync: {status: Synced, revision: 9f4c2e1}
  operationState: {phase: Succeeded}
`))).To(Succeed())
		Expect(k8sClient.Create(ctx, application(`
metadata: {name: payments-us, namespace: argocd, labels: {backstage.io/kubernetes-id: payments}}
spec:
  destination: {server: "https://prod-us.example.com", namespace: payments}
status:
  health: {status: Healthy}
  sync: {status: Synced, revision: 9f4c2e1}
`))).To(Succeed())

		Eventually(func(g Gomega) {
			got := getEntity(ctx, catalogNamespace, entity)(g)
			g.Expect(got.Spec.Kind).To(Equal(catalogv1alpha1.KindComponent), "an Application among the sources makes a Component")
			g.Expect(got.Status.Health).To(Equal(catalogv1alpha1.HealthHealthy))
			g.Expect(got.Status.Sync).To(Equal(catalogv1alpha1.SyncSynced))
			g.Expect(got.Status.Ready).To(Equal("2/2"))
			g.Expect(got.Status.Revision).To(Equal("9f4c2e1"))
			g.Expect(got.Status.Clusters).To(Equal("prod-eu,prod-us"))
			g.Expect(got.Status.Sources).To(HaveLen(2))
			clusters := []string{got.Status.Sources[0].Cluster, got.Status.Sources[1].Cluster}
			g.Expect(clusters).To(ConsistOf("prod-eu", "prod-us"))
		}).WithTimeout(10 * time.Second).Should(Succeed())
	})

	It("turns Degraded with the worst Application's message, its Ready condition and one Warning event", func() {
		app := &unstructured.Unstructured{}
		app.SetGroupVersionKind(applicationGVK)
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: "argocd", Name: "payments-us"}, app)).To(Succeed())
		Expect(unstructured.SetNestedMap(app.Object, map[string]any{
			"status": "Degraded", "message": "Deployment payments: 1 of 3 replicas available",
		}, "status", "health")).To(Succeed())
		Expect(k8sClient.Update(ctx, app)).To(Succeed())

		Eventually(func(g Gomega) {
			got := getEntity(ctx, catalogNamespace, entity)(g)
			g.Expect(got.Status.Health).To(Equal(catalogv1alpha1.HealthDegraded))
			g.Expect(got.Status.Ready).To(Equal("1/2"))
			g.Expect(got.Status.Message).To(Equal(
				"Application argocd/payments-us on prod-us is Degraded: Deployment payments: 1 of 3 replicas available"))
			ready := meta.FindStatusCondition(got.Status.Conditions, catalogv1alpha1.ConditionReady)
			g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(ready.Reason).To(Equal("Degraded"))
		}).WithTimeout(10 * time.Second).Should(Succeed())
		Eventually(func() map[string]int { return entityEvents(ctx, catalogNamespace, entity) }).
			WithTimeout(5 * time.Second).Should(HaveKeyWithValue(catalogentity.ReasonHealthWorsened, 1))
		Consistently(func() map[string]int { return entityEvents(ctx, catalogNamespace, entity) }).
			WithTimeout(2 * time.Second).Should(HaveKeyWithValue(catalogentity.ReasonHealthWorsened, 1))
	})

	It("follows a cluster Secret's name", func() {
		secret := &corev1.Secret{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: "argocd", Name: "cluster-prod-us"}, secret)).To(Succeed())
		secret.Data["name"] = []byte("prod-us-east")
		Expect(k8sClient.Update(ctx, secret)).To(Succeed())
		Eventually(func(g Gomega) string {
			return getEntity(ctx, catalogNamespace, entity)(g).Status.Clusters
		}).WithTimeout(10 * time.Second).Should(Equal("prod-eu,prod-us-east"))
	})

	It("keeps only the destination of an Application's spec, and no cluster credentials, in the cache", func() {
		cached := &unstructured.Unstructured{}
		cached.SetGroupVersionKind(applicationGVK)
		Expect(engine.Sources.Get(ctx, client.ObjectKey{Namespace: "argocd", Name: "payments-eu"}, cached)).To(Succeed())
		spec, _, _ := unstructured.NestedMap(cached.Object, "spec")
		Expect(spec).To(HaveKey("destination"))
		Expect(spec).NotTo(HaveKey("source"))

		var secrets corev1.SecretList
		Expect(engine.Sources.List(ctx, &secrets, client.InNamespace("argocd"))).To(Succeed())
		Expect(secrets.Items).NotTo(BeEmpty())
		for _, s := range secrets.Items {
			Expect(s.Data).To(HaveKey("server"))
			Expect(s.Data).NotTo(HaveKey("config"), "credentials are dropped as Secrets enter the cache")
		}
	})

	It("relates an entity to the entity of an object its Application deploys to the hub", func() {
		installWidgets()
		ns := newNamespace(ctx)
		createWidget(ctx, widget(ns, "payments-db", kubernetesID("payments-db"), metav1.ConditionTrue, ""))
		createWidget(ctx, widget(ns, "ledger-db", kubernetesID("ledger-db"), metav1.ConditionTrue, ""))
		Eventually(func(g Gomega) {
			g.Expect(getEntity(ctx, catalogNamespace, "payments-db")(g).Status.Health).To(Equal(catalogv1alpha1.HealthHealthy))
			g.Expect(getEntity(ctx, catalogNamespace, "ledger-db")(g).Status.Health).To(Equal(catalogv1alpha1.HealthHealthy))
		}).WithTimeout(10 * time.Second).Should(Succeed())

		By("an Application deploying to another cluster: its objects are not the hub's")
		app := &unstructured.Unstructured{}
		app.SetGroupVersionKind(applicationGVK)
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: "argocd", Name: "payments-eu"}, app)).To(Succeed())
		Expect(unstructured.SetNestedSlice(app.Object, []any{
			map[string]any{"group": "example.entityhub.dev", "version": "v1", "kind": "Widget", "namespace": ns, "name": "ledger-db"},
		}, "status", "resources")).To(Succeed())
		Expect(k8sClient.Update(ctx, app)).To(Succeed())

		By("an Application deploying to the hub, written after it")
		Expect(k8sClient.Create(ctx, application(`
metadata: {name: payments-hub, namespace: argocd, labels: {backstage.io/kubernetes-id: payments}}
spec:
  destination: {server: "https://kubernetes.default.svc", namespace: payments}
status:
  health: {status: Healthy}
  sync: {status: Synced, revision: 9f4c2e1}
  resources:
  - {group: apps, version: v1, kind: Deployment, namespace: payments, name: payments}
  - {group: example.entityhub.dev, version: v1, kind: Widget, namespace: `+ns+`, name: payments-db}
  - a malformed entry
`))).To(Succeed())

		// The reconcile that sees the second Application sees the first one's change too
		// (one watch, in order): only the hub's object relates.
		Eventually(func(g Gomega) {
			got := getEntity(ctx, catalogNamespace, entity)(g)
			g.Expect(got.Status.SourceCount).To(BeEquivalentTo(3))
			g.Expect(got.Status.Relations).To(Equal([]string{"component:default/payments-db"}))
		}).WithTimeout(10 * time.Second).Should(Succeed())
	})

	It("relates an entity to one that comes, is relabelled for or renamed after its Application", func() {
		installWidgets()
		ns := newNamespace(ctx)
		Expect(k8sClient.Create(ctx, application(`
metadata: {name: storefront, namespace: argocd, labels: {backstage.io/kubernetes-id: storefront}}
spec:
  destination: {name: in-cluster, namespace: storefront}
status:
  health: {status: Healthy}
  sync: {status: Synced}
  resources:
  - {group: apps, version: v1, kind: Deployment, namespace: storefront, name: storefront}
  - {group: example.entityhub.dev, version: v1, kind: Widget, namespace: `+ns+`, name: catalog-db}
`))).To(Succeed())
		relations := func(g Gomega) []string { return getEntity(ctx, catalogNamespace, "storefront")(g).Status.Relations }
		Eventually(func(g Gomega) {
			got := getEntity(ctx, catalogNamespace, "storefront")(g)
			g.Expect(got.Status.Health).To(Equal(catalogv1alpha1.HealthHealthy))
			g.Expect(got.Status.Relations).To(BeEmpty(), "what it deploys is not there yet")
		}).WithTimeout(10 * time.Second).Should(Succeed())

		By("relating it once the deployed object and its discovered entity appear")
		createWidget(ctx, widget(ns, "catalog-db", kubernetesID("catalog-db"), metav1.ConditionTrue, ""))
		Eventually(relations).WithTimeout(10 * time.Second).Should(Equal([]string{"component:default/catalog-db"}))

		By("following the object when it is labelled for another entity")
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(widgetGVK)
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "catalog-db"}, u)).To(Succeed())
		u.SetLabels(kubernetesID("catalog-store"))
		Expect(k8sClient.Update(ctx, u)).To(Succeed())
		Eventually(relations).WithTimeout(10 * time.Second).Should(Equal([]string{"component:default/catalog-store"}))

		By("following it to an entity that exists already, which brings no event of its own")
		mirror := &catalogv1alpha1.CatalogEntity{ObjectMeta: metav1.ObjectMeta{Name: "catalog-mirror", Namespace: catalogNamespace}}
		Expect(k8sClient.Create(ctx, mirror)).To(Succeed())
		Eventually(func(g Gomega) int64 {
			return getEntity(ctx, catalogNamespace, "catalog-mirror")(g).Status.ObservedGeneration
		}).WithTimeout(10 * time.Second).Should(BeNumerically(">", 0))
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "catalog-db"}, u)).To(Succeed())
		u.SetLabels(kubernetesID("catalog-mirror"))
		Expect(k8sClient.Update(ctx, u)).To(Succeed())
		Eventually(relations).WithTimeout(10 * time.Second).Should(Equal([]string{"component:default/catalog-mirror"}))

		By("naming the other entity anew when its kind changes")
		Eventually(func(g Gomega) {
			e := getEntity(ctx, catalogNamespace, "catalog-mirror")(g)
			e.Spec.Kind = catalogv1alpha1.KindResource
			g.Expect(k8sClient.Update(ctx, e)).To(Succeed())
		}).WithTimeout(10 * time.Second).Should(Succeed())
		Eventually(relations).WithTimeout(10 * time.Second).Should(Equal([]string{"resource:default/catalog-mirror"}))
	})

	It("reads an ApplicationSet's conditions when it reports no health", func() {
		set := &unstructured.Unstructured{}
		Expect(yaml.Unmarshal([]byte(`
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: payments-previews, namespace: argocd, labels: {backstage.io/kubernetes-id: payments-previews}}
spec: {generators: [], template: {metadata: {}, spec: {}}}
`), &set.Object)).To(Succeed())
		Expect(k8sClient.Create(ctx, set)).To(Succeed())
		Expect(unstructured.SetNestedSlice(set.Object, []any{map[string]any{
			"type": "ErrorOccurred", "status": "True", "reason": "ApplicationGenerationFromParamsError",
			"message": "failed to generate applications: repository not found", "lastTransitionTime": "2026-01-01T00:00:00Z",
		}}, "status", "conditions")).To(Succeed())
		Expect(k8sClient.Status().Update(ctx, set)).To(Succeed())

		Eventually(func(g Gomega) {
			got := getEntity(ctx, catalogNamespace, "payments-previews")(g)
			g.Expect(got.Status.Health).To(Equal(catalogv1alpha1.HealthDegraded))
			g.Expect(got.Status.Message).To(ContainSubstring("repository not found"))
		}).WithTimeout(10 * time.Second).Should(Succeed())
	})
})
