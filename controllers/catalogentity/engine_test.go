package catalogentity_test

import (
	"context"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/catalogentity"
	"github.com/entityhub/entityhub/controllers/watches"
	"github.com/entityhub/entityhub/test/testenv"
)

const widgetCRD = "widgets.example.entityhub.dev"

var widgetCRDPath = filepath.Join(testenv.RepoRoot(), "test", "fixtures", "crds", widgetCRD+".yaml")

// installWidgets installs the test source kind and waits until the engine watches it.
func installWidgets() {
	_, err := envtest.InstallCRDs(cfg, envtest.CRDInstallOptions{Paths: []string{widgetCRDPath}})
	Expect(err).NotTo(HaveOccurred())
	Eventually(func() watches.State {
		s, _, _ := engine.Watches.StateOf(widgetGVK)
		return s
	}).WithTimeout(15 * time.Second).Should(Equal(watches.Synced))
}

// uninstallWidgets deletes the test source kind's CRD and waits until it is gone.
func uninstallWidgets(ctx context.Context) {
	crd := &apiextensionsv1.CustomResourceDefinition{ObjectMeta: metav1.ObjectMeta{Name: widgetCRD}}
	Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, crd))).To(Succeed())
	Eventually(func() bool {
		return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(crd), crd))
	}).WithTimeout(30 * time.Second).Should(BeTrue())
}

// widget returns a Widget whose Ready condition is ready, with message msg.
func widget(ns, name string, labels map[string]string, ready metav1.ConditionStatus, msg string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(widgetGVK)
	u.SetNamespace(ns)
	u.SetName(name)
	u.SetLabels(labels)
	setReady(u, ready, msg)
	return u
}

func setReady(u *unstructured.Unstructured, ready metav1.ConditionStatus, msg string) {
	reason := "Available"
	if ready != metav1.ConditionTrue {
		reason = "Unavailable"
	}
	Expect(unstructured.SetNestedSlice(u.Object, []any{map[string]any{
		"type": "Ready", "status": string(ready), "reason": reason, "message": msg,
		"lastTransitionTime": "2026-01-01T00:00:00Z",
	}}, "status", "conditions")).To(Succeed())
}

// createWidget creates u with its status (a subresource, so written separately).
func createWidget(ctx context.Context, u *unstructured.Unstructured) {
	status := u.Object["status"]
	Expect(k8sClient.Create(ctx, u)).To(Succeed())
	u.Object["status"] = status
	Expect(k8sClient.Status().Update(ctx, u)).To(Succeed())
}

// updateWidgetStatus sets the Ready condition of an existing widget.
func updateWidgetStatus(ctx context.Context, ns, name string, ready metav1.ConditionStatus, msg string) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(widgetGVK)
	Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, u)).To(Succeed())
	setReady(u, ready, msg)
	Expect(k8sClient.Status().Update(ctx, u)).To(Succeed())
}

func kubernetesID(name string) map[string]string {
	return map[string]string{catalogv1alpha1.KubernetesIDLabel: name}
}

// getEntity reads an entity straight from the API server.
func getEntity(ctx context.Context, ns, name string) func(Gomega) *catalogv1alpha1.CatalogEntity {
	return func(g Gomega) *catalogv1alpha1.CatalogEntity {
		e := &catalogv1alpha1.CatalogEntity{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, e)).To(Succeed())
		return e
	}
}

// entityEvents lists the events recorded on an entity, by reason.
func entityEvents(ctx context.Context, ns, name string) map[string]int {
	var list corev1.EventList
	Expect(k8sClient.List(ctx, &list, client.InNamespace(ns))).To(Succeed())
	out := map[string]int{}
	for _, e := range list.Items {
		if e.InvolvedObject.Kind == "CatalogEntity" && e.InvolvedObject.Name == name {
			// Events of the events.k8s.io API count repeats in their series.
			n := max(int(e.Count), 1)
			if e.Series != nil {
				n = int(e.Series.Count)
			}
			out[e.Reason] += n
		}
	}
	return out
}

var _ = Describe("Source kinds that come and go", Ordered, func() {
	ctx := context.Background()
	var ns string
	BeforeAll(func() {
		uninstallWidgets(ctx)
		ns = newNamespace(ctx)
	})
	AfterAll(installWidgets)

	It("reports a listed source of a kind that is not installed as not watched", func() {
		e := &catalogv1alpha1.CatalogEntity{
			ObjectMeta: metav1.ObjectMeta{Name: "gadget", Namespace: ns},
			Spec: catalogv1alpha1.CatalogEntitySpec{Sources: []catalogv1alpha1.SourceSelector{
				{APIVersion: "example.entityhub.dev/v1", Kind: "Widget", Namespace: ns, Name: "listed"},
			}},
		}
		Expect(k8sClient.Create(ctx, e)).To(Succeed())
		Eventually(func(g Gomega) {
			got := getEntity(ctx, ns, "gadget")(g)
			g.Expect(got.Status.Sources).To(HaveLen(1))
			g.Expect(got.Status.Sources[0].Health).To(Equal(catalogv1alpha1.HealthUnknown))
			g.Expect(got.Status.Sources[0].Message).To(ContainSubstring("is not watched"))
		}).WithTimeout(10 * time.Second).Should(Succeed())
	})

	It("starts watching a kind whose CRD is installed after the manager started", func() {
		installWidgets()
		createWidget(ctx, widget(ns, "listed", nil, metav1.ConditionTrue, ""))
		createWidget(ctx, widget(ns, "labelled", kubernetesID("gadget"), metav1.ConditionTrue, ""))
		Eventually(func(g Gomega) {
			got := getEntity(ctx, ns, "gadget")(g)
			g.Expect(got.Status.Health).To(Equal(catalogv1alpha1.HealthHealthy))
			g.Expect(got.Status.Ready).To(Equal("2/2"))
			g.Expect(got.Status.SourceCount).To(BeEquivalentTo(2))
		}).WithTimeout(10 * time.Second).Should(Succeed())
	})

	It("stops the watch and drops the kind's sources when the CRD is deleted", func() {
		mark := managerLog.Mark()
		uninstallWidgets(ctx)
		Eventually(func(g Gomega) {
			got := getEntity(ctx, ns, "gadget")(g)
			g.Expect(got.Status.SourceCount).To(BeEquivalentTo(1), "only the listed, now unwatched, source is left")
			g.Expect(got.Status.Sources[0].Message).To(ContainSubstring("is not watched"))
		}).WithTimeout(15 * time.Second).Should(Succeed())
		_, _, watched := engine.Watches.StateOf(widgetGVK)
		Expect(watched).To(BeFalse())
		for _, k := range engine.Watches.Kinds() {
			Expect(k.GVK).NotTo(Equal(widgetGVK))
		}
		Consistently(func() []string { return managerLog.ErrorsSince(mark) }).
			WithTimeout(3*time.Second).Should(BeEmpty(), "no watch of the deleted kind fails in a loop")
	})
})

var _ = Describe("Entities and their sources", func() {
	ctx := context.Background()
	var ns string
	BeforeEach(func() {
		installWidgets()
		ns = newNamespace(ctx)
	})

	It("creates an entity for a label, moves a source from A to B, and cleans up A after the grace period", func() {
		createWidget(ctx, widget(ns, "mover", kubernetesID("alpha-"+ns), metav1.ConditionTrue, ""))
		alpha, beta := "alpha-"+ns, "beta-"+ns
		Eventually(func(g Gomega) {
			got := getEntity(ctx, catalogNamespace, alpha)(g)
			g.Expect(got.Labels).To(HaveKeyWithValue(catalogv1alpha1.ManagedByLabel, catalogv1alpha1.ManagedByValue))
			g.Expect(got.Spec.Kind).To(Equal(catalogv1alpha1.KindComponent))
			g.Expect(got.Spec.Owner).To(BeEquivalentTo("group:default/platform-team"))
			g.Expect(got.Status.Ready).To(Equal("1/1"))
			g.Expect(got.Status.Health).To(Equal(catalogv1alpha1.HealthHealthy))
		}).WithTimeout(10 * time.Second).Should(Succeed())

		By("moving the source to entity B")
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(widgetGVK)
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "mover"}, u)).To(Succeed())
		u.SetLabels(kubernetesID(beta))
		Expect(k8sClient.Update(ctx, u)).To(Succeed())

		Eventually(func(g Gomega) {
			got := getEntity(ctx, catalogNamespace, beta)(g)
			g.Expect(got.Status.Ready).To(Equal("1/1"))
		}).WithTimeout(10 * time.Second).Should(Succeed())
		Eventually(func(g Gomega) {
			got := getEntity(ctx, catalogNamespace, alpha)(g)
			g.Expect(got.Status.Ready).To(Equal("0/0"))
			g.Expect(got.Annotations).To(HaveKey(catalogentity.OrphanedSinceAnnotation))
		}).WithTimeout(10 * time.Second).Should(Succeed())

		By("deleting A once its sources have been gone for the grace period")
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKey{Namespace: catalogNamespace, Name: alpha}, &catalogv1alpha1.CatalogEntity{}))
		}).WithTimeout(gracePeriod + 10*time.Second).Should(BeTrue())
		Expect(getEntity(ctx, catalogNamespace, beta)(Default).Annotations).NotTo(HaveKey(catalogentity.OrphanedSinceAnnotation))
	})

	It("keeps a hand-written entity whose sources are gone", func() {
		Expect(k8sClient.Create(ctx, &catalogv1alpha1.CatalogEntity{ObjectMeta: metav1.ObjectMeta{Name: "handmade", Namespace: ns}})).To(Succeed())
		w := widget(ns, "only", kubernetesID("handmade"), metav1.ConditionTrue, "")
		createWidget(ctx, w)
		Eventually(func(g Gomega) string {
			return getEntity(ctx, ns, "handmade")(g).Status.Ready
		}).WithTimeout(10 * time.Second).Should(Equal("1/1"))
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: catalogNamespace, Name: "handmade"}, &catalogv1alpha1.CatalogEntity{})).
			To(Satisfy(apierrors.IsNotFound), "a hand-written entity elsewhere takes the label's sources: none is created")

		Expect(k8sClient.Delete(ctx, w)).To(Succeed())
		Eventually(func(g Gomega) string {
			return getEntity(ctx, ns, "handmade")(g).Status.Ready
		}).WithTimeout(10 * time.Second).Should(Equal("0/0"))
		Consistently(func(g Gomega) {
			got := getEntity(ctx, ns, "handmade")(g)
			g.Expect(got.Annotations).NotTo(HaveKey(catalogentity.OrphanedSinceAnnotation))
		}).WithTimeout(gracePeriod + time.Second).Should(Succeed())
	})

	It("reports a listed source that does not exist as Missing", func() {
		e := &catalogv1alpha1.CatalogEntity{
			ObjectMeta: metav1.ObjectMeta{Name: "listing", Namespace: ns},
			Spec: catalogv1alpha1.CatalogEntitySpec{Sources: []catalogv1alpha1.SourceSelector{
				{APIVersion: "example.entityhub.dev/v1", Kind: "Widget", Namespace: ns, Name: "absent"},
				{APIVersion: "example.entityhub.dev/v1", Kind: "Widget", Namespace: ns, Selector: &metav1.LabelSelector{
					MatchLabels: map[string]string{"tier": "web"}}},
			}},
		}
		Expect(k8sClient.Create(ctx, e)).To(Succeed())
		createWidget(ctx, widget(ns, "web-1", map[string]string{"tier": "web"}, metav1.ConditionTrue, ""))
		Eventually(func(g Gomega) {
			got := getEntity(ctx, ns, "listing")(g)
			g.Expect(got.Status.Health).To(Equal(catalogv1alpha1.HealthMissing))
			g.Expect(got.Status.Ready).To(Equal("1/2"))
			g.Expect(got.Status.Message).To(Equal("Widget " + ns + "/absent is Missing: not found"))
			resolved := meta.FindStatusCondition(got.Status.Conditions, catalogv1alpha1.ConditionSourcesResolved)
			g.Expect(resolved).NotTo(BeNil())
			g.Expect(resolved.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(resolved.Reason).To(Equal(catalogv1alpha1.ReasonSourceNotFound))
			g.Expect(resolved.Message).To(Equal("spec.sources[0]: not found"))
		}).WithTimeout(10 * time.Second).Should(Succeed())

		By("creating the missing source")
		createWidget(ctx, widget(ns, "absent", nil, metav1.ConditionTrue, ""))
		Eventually(func(g Gomega) {
			got := getEntity(ctx, ns, "listing")(g)
			g.Expect(got.Status.Health).To(Equal(catalogv1alpha1.HealthHealthy))
			g.Expect(meta.IsStatusConditionTrue(got.Status.Conditions, catalogv1alpha1.ConditionSourcesResolved)).To(BeTrue())
		}).WithTimeout(10 * time.Second).Should(Succeed())
	})

	It("reports a syntactically invalid selector in spec.sources, without a crash loop", func() {
		e := &catalogv1alpha1.CatalogEntity{
			ObjectMeta: metav1.ObjectMeta{Name: "picky", Namespace: ns},
			Spec: catalogv1alpha1.CatalogEntitySpec{Sources: []catalogv1alpha1.SourceSelector{
				{APIVersion: "example.entityhub.dev/v1", Kind: "Widget", Namespace: ns, Selector: &metav1.LabelSelector{
					MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: "Near", Values: []string{"web"}}},
				}},
			}},
		}
		Expect(k8sClient.Create(ctx, e)).To(Succeed(), "the API server cannot tell a bad operator")
		Eventually(func(g Gomega) {
			got := getEntity(ctx, ns, "picky")(g)
			g.Expect(got.Status.Health).To(Equal(catalogv1alpha1.HealthUnknown))
			g.Expect(got.Status.Message).To(ContainSubstring("invalid selector"))
			g.Expect(got.Status.Message).To(ContainSubstring(`"Near" is not a valid label selector operator`))
			ready := meta.FindStatusCondition(got.Status.Conditions, catalogv1alpha1.ConditionReady)
			g.Expect(ready.Message).To(ContainSubstring("invalid selector"))
			resolved := meta.FindStatusCondition(got.Status.Conditions, catalogv1alpha1.ConditionSourcesResolved)
			g.Expect(resolved).NotTo(BeNil())
			g.Expect(resolved.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(resolved.Reason).To(Equal(catalogv1alpha1.ReasonInvalidSelector))
			g.Expect(resolved.Message).To(HavePrefix("spec.sources[0]: invalid selector: "))
			g.Expect(resolved.Message).To(ContainSubstring(`"Near" is not a valid label selector operator`))
		}).WithTimeout(10 * time.Second).Should(Succeed())
		version := getEntity(ctx, ns, "picky")(Default).ResourceVersion
		Consistently(func(g Gomega) string {
			return getEntity(ctx, ns, "picky")(g).ResourceVersion
		}).WithTimeout(2*time.Second).Should(Equal(version), "settled, not retried in a loop")
	})

	It("reports a malformed source as Unknown with what is wrong, and keeps running", func() {
		w := widget(ns, "garbled", kubernetesID("garbled-"+ns), metav1.ConditionTrue, "")
		w.Object["status"] = map[string]any{"conditions": "all good, trust me"}
		createWidget(ctx, w)
		Eventually(func(g Gomega) {
			got := getEntity(ctx, catalogNamespace, "garbled-"+ns)(g)
			g.Expect(got.Status.Health).To(Equal(catalogv1alpha1.HealthUnknown))
			g.Expect(got.Status.Message).To(ContainSubstring("status.conditions"))
		}).WithTimeout(10 * time.Second).Should(Succeed())

		By("still serving other entities")
		createWidget(ctx, widget(ns, "fine", kubernetesID("fine-"+ns), metav1.ConditionTrue, ""))
		Eventually(func(g Gomega) string {
			return string(getEntity(ctx, catalogNamespace, "fine-"+ns)(g).Status.Health)
		}).WithTimeout(10 * time.Second).Should(Equal("Healthy"))
	})

	It("emits one event per health transition and writes nothing once settled", func() {
		name := "flappy-" + ns
		createWidget(ctx, widget(ns, "w", kubernetesID(name), metav1.ConditionTrue, ""))
		Eventually(func(g Gomega) string {
			return string(getEntity(ctx, catalogNamespace, name)(g).Status.Health)
		}).WithTimeout(10 * time.Second).Should(Equal("Healthy"))

		By("getting worse, then worse in other words, then better")
		updateWidgetStatus(ctx, ns, "w", metav1.ConditionFalse, "disk full")
		Eventually(func(g Gomega) {
			got := getEntity(ctx, catalogNamespace, name)(g)
			g.Expect(got.Status.Health).To(Equal(catalogv1alpha1.HealthProgressing))
			g.Expect(got.Status.Message).To(ContainSubstring("disk full"))
			ready := meta.FindStatusCondition(got.Status.Conditions, catalogv1alpha1.ConditionReady)
			g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(ready.Reason).To(Equal("Progressing"))
		}).WithTimeout(10 * time.Second).Should(Succeed())
		updateWidgetStatus(ctx, ns, "w", metav1.ConditionFalse, "disk still full")
		Eventually(func(g Gomega) string {
			return getEntity(ctx, catalogNamespace, name)(g).Status.Message
		}).WithTimeout(10 * time.Second).Should(ContainSubstring("disk still full"))
		updateWidgetStatus(ctx, ns, "w", metav1.ConditionTrue, "")
		Eventually(func(g Gomega) string {
			return string(getEntity(ctx, catalogNamespace, name)(g).Status.Health)
		}).WithTimeout(10 * time.Second).Should(Equal("Healthy"))

		Eventually(func() map[string]int { return entityEvents(ctx, catalogNamespace, name) }).
			WithTimeout(5 * time.Second).Should(And(
			HaveKeyWithValue(catalogentity.ReasonHealthWorsened, 1),
			HaveKeyWithValue(catalogentity.ReasonHealthImproved, 1),
		))

		By("staying quiet")
		settledVersion := getEntity(ctx, catalogNamespace, name)(Default).ResourceVersion
		Consistently(func(g Gomega) string {
			return getEntity(ctx, catalogNamespace, name)(g).ResourceVersion
		}).WithTimeout(2 * time.Second).WithPolling(200 * time.Millisecond).Should(Equal(settledVersion))
		Expect(entityEvents(ctx, catalogNamespace, name)).To(And(
			HaveKeyWithValue(catalogentity.ReasonHealthWorsened, 1),
			HaveKeyWithValue(catalogentity.ReasonHealthImproved, 1),
		))
		Expect(strings.Count(getEntity(ctx, catalogNamespace, name)(Default).Status.Message, "Healthy")).To(Equal(1))
	})
})
