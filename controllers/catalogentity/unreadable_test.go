package catalogentity_test

import (
	"context"
	"fmt"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus/testutil"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/catalogentity"
	"github.com/entityhub/entityhub/controllers/metrics"
	"github.com/entityhub/entityhub/controllers/watches"
)

// sourceOf returns the status entry of the entity's source of kind and name.
func sourceOf(e *catalogv1alpha1.CatalogEntity, kind, name string) *catalogv1alpha1.SourceStatus {
	for i := range e.Status.Sources {
		if s := &e.Status.Sources[i]; s.Kind == kind && s.Name == name {
			return s
		}
	}
	return nil
}

var _ = Describe("A source kind that cannot be read", Ordered, func() {
	ctx := context.Background()
	var ns, name string

	BeforeAll(func() {
		installWidgets()
		ns = newNamespace(ctx)
		name = "gadget-" + ns
		createWidget(ctx, widget(ns, "gadget", kubernetesID(name), metav1.ConditionTrue, "fine"))
		Eventually(func(g Gomega) {
			got := getEntity(ctx, catalogNamespace, name)(g)
			g.Expect(got.Status.Health).To(Equal(catalogv1alpha1.HealthHealthy))
		}).WithTimeout(15 * time.Second).Should(Succeed())
	})

	It("keeps its sources as Unknown with what was last known, orphans nothing, and recovers", func() {
		By("refusing the manager every read of Widgets, as when its RBAC is revoked")
		faultAt := time.Now()
		restore := proxy.Fail("/widgets", http.StatusForbidden)
		DeferCleanup(restore)
		Eventually(func(g Gomega) {
			got := getEntity(ctx, catalogNamespace, name)(g)
			src := sourceOf(got, "Widget", "gadget")
			g.Expect(src).NotTo(BeNil(), "the source stays listed")
			g.Expect(src.Health).To(Equal(catalogv1alpha1.HealthUnknown))
			g.Expect(src.Message).To(And(ContainSubstring("cannot read Widget.example.entityhub.dev"),
				HaveSuffix("; last known: Healthy")))
			g.Expect(got.Status.Health).To(Equal(catalogv1alpha1.HealthUnknown))
		}).WithTimeout(30 * time.Second).WithPolling(100 * time.Millisecond).Should(Succeed())
		AddReportEntry("unreadable kind: fault to Unknown", time.Since(faultAt).Round(100*time.Millisecond).String())
		state, _, _ := engine.Watches.StateOf(widgetGVK)
		Expect(state).To(Equal(watches.Unavailable))
		unreadable := func() float64 {
			return testutil.ToFloat64(metrics.SourceKindUnreadable.WithLabelValues("Widget.example.entityhub.dev"))
		}
		Expect(unreadable()).To(BeEquivalentTo(1), "entityhub_source_kind_unreadable says so")

		By("not marking the entity orphaned, nor deleting it, past the grace period")
		Consistently(func(g Gomega) {
			got := getEntity(ctx, catalogNamespace, name)(g)
			g.Expect(got.Annotations).NotTo(HaveKey(catalogentity.OrphanedSinceAnnotation))
			g.Expect(got.Status.SourceCount).To(BeEquivalentTo(1))
		}).WithTimeout(2 * gracePeriod).WithPolling(200 * time.Millisecond).Should(Succeed())

		By("reading Widgets again")
		recoveredAt := time.Now()
		restore()
		Eventually(func(g Gomega) {
			got := getEntity(ctx, catalogNamespace, name)(g)
			g.Expect(got.Status.Health).To(Equal(catalogv1alpha1.HealthHealthy))
			g.Expect(sourceOf(got, "Widget", "gadget").Message).NotTo(ContainSubstring("last known"))
		}).WithTimeout(30 * time.Second).WithPolling(100 * time.Millisecond).Should(Succeed())
		AddReportEntry("unreadable kind: recovery to Healthy", time.Since(recoveredAt).Round(100*time.Millisecond).String())
		Expect(unreadable()).To(BeEquivalentTo(0))
	})
})

var _ = Describe("A source kind whose first list is late", Ordered, func() {
	ctx := context.Background()
	gizmoGVK := schema.GroupVersionKind{Group: "late.entityhub.dev", Version: "v1", Kind: "Gizmo"}

	It("shows its sources Unknown while it is not listed, and right once it is", func() {
		ns := newNamespace(ctx)
		By("refusing the manager every list of Gizmos, then installing their CRD, a Crossplane managed kind")
		restore := proxy.Fail("/gizmos", http.StatusForbidden)
		DeferCleanup(restore)
		crd := &apiextensionsv1.CustomResourceDefinition{
			ObjectMeta: metav1.ObjectMeta{Name: "gizmos.late.entityhub.dev"},
			Spec: apiextensionsv1.CustomResourceDefinitionSpec{
				Group: gizmoGVK.Group,
				Names: apiextensionsv1.CustomResourceDefinitionNames{Kind: "Gizmo", ListKind: "GizmoList", Plural: "gizmos",
					Singular: "gizmo", Categories: []string{"crossplane", "managed"}},
				Scope: apiextensionsv1.NamespaceScoped,
				Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{Name: "v1", Served: true, Storage: true,
					Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
						Type: "object", XPreserveUnknownFields: ptr.To(true)}}}},
			},
		}
		Expect(k8sClient.Create(ctx, crd)).To(Succeed())
		DeferCleanup(func() { Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, crd))).To(Succeed()) })
		Eventually(func() bool { _, _, ok := engine.Watches.StateOf(gizmoGVK); return ok }).WithTimeout(15 * time.Second).Should(BeTrue())

		gizmo := &unstructured.Unstructured{}
		gizmo.SetGroupVersionKind(gizmoGVK)
		gizmo.SetNamespace(ns)
		gizmo.SetName("g1")
		Expect(unstructured.SetNestedSlice(gizmo.Object, []any{
			map[string]any{"type": "Ready", "status": "True", "reason": "Available"},
			map[string]any{"type": "Synced", "status": "True", "reason": "ReconcileSuccess"},
		}, "status", "conditions")).To(Succeed())
		Expect(k8sClient.Create(ctx, gizmo)).To(Succeed())
		entity := &catalogv1alpha1.CatalogEntity{
			ObjectMeta: metav1.ObjectMeta{Name: "late", Namespace: ns},
			Spec: catalogv1alpha1.CatalogEntitySpec{Sources: []catalogv1alpha1.SourceSelector{{
				APIVersion: gizmoGVK.GroupVersion().String(), Kind: "Gizmo", Namespace: ns, Name: "g1",
			}}},
		}
		Expect(k8sClient.Create(ctx, entity)).To(Succeed())

		By("showing the source Unknown, never Missing, while the kind is not listed")
		Eventually(func(g Gomega) {
			got := getEntity(ctx, ns, "late")(g)
			src := sourceOf(got, "Gizmo", "g1")
			g.Expect(src).NotTo(BeNil())
			g.Expect(src.Health).To(Equal(catalogv1alpha1.HealthUnknown))
			g.Expect(src.Message).To(ContainSubstring("cannot list Gizmo.late.entityhub.dev"))
			resolved := meta.FindStatusCondition(got.Status.Conditions, catalogv1alpha1.ConditionSourcesResolved)
			g.Expect(resolved).NotTo(BeNil())
			g.Expect(resolved.Reason).To(Equal(catalogv1alpha1.ReasonKindNotListable))
		}).WithTimeout(kindSyncTimeout + 15*time.Second).WithPolling(100 * time.Millisecond).Should(Succeed())
		Expect(getEntity(ctx, ns, "late")(Default).Status.Health).NotTo(Equal(catalogv1alpha1.HealthMissing))

		By("listing the kind at last")
		listedAt := time.Now()
		restore()
		Eventually(func(g Gomega) {
			got := getEntity(ctx, ns, "late")(g)
			g.Expect(got.Status.Health).To(Equal(catalogv1alpha1.HealthHealthy), fmt.Sprint(got.Status.Message))
			g.Expect(got.Status.Ready).To(Equal("1/1"))
		}).WithTimeout(30 * time.Second).WithPolling(100 * time.Millisecond).Should(Succeed())
		AddReportEntry("late first list: list to Healthy", time.Since(listedAt).Round(100*time.Millisecond).String())
		state, _, _ := engine.Watches.StateOf(gizmoGVK)
		Expect(state).To(Equal(watches.Synced))
	})
})
