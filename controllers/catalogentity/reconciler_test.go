package catalogentity_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/catalogentity"
	"github.com/entityhub/entityhub/controllers/entitystatus"
)

// newNamespace creates a namespace of its own for one test, so tests never see each
// other's entities.
func newNamespace(ctx context.Context) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "entities-"}}
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	return ns.Name
}

// settled fetches the entity once its status is computed for its current generation.
func settled(ctx context.Context, key client.ObjectKey) *catalogv1alpha1.CatalogEntity {
	entity := &catalogv1alpha1.CatalogEntity{}
	Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, key, entity)).To(Succeed())
		g.Expect(entity.Status.ObservedGeneration).To(Equal(entity.Generation))
		g.Expect(entity.Labels).To(HaveKeyWithValue(catalogv1alpha1.KubernetesIDLabel, key.Name))
	}).WithTimeout(10 * time.Second).Should(Succeed())
	return entity
}

var _ = Describe("CatalogEntity reconciler", func() {
	var (
		ctx context.Context
		ns  string
	)
	BeforeEach(func() {
		ctx = context.Background()
		ns = newNamespace(ctx)
	})

	It("labels an entity for Backstage and reports Unknown while it has no sources", func() {
		entity := &catalogv1alpha1.CatalogEntity{
			ObjectMeta: metav1.ObjectMeta{Name: "checkout", Namespace: ns},
			Spec:       catalogv1alpha1.CatalogEntitySpec{Owner: "group:default/payments", Type: "service"},
		}
		Expect(k8sClient.Create(ctx, entity)).To(Succeed())

		got := settled(ctx, client.ObjectKeyFromObject(entity))
		Expect(got.Spec.Kind).To(Equal(catalogv1alpha1.KindComponent), "the CRD defaults spec.kind")
		Expect(got.Spec.CatalogNamespace).To(Equal("default"), "the CRD defaults spec.catalogNamespace")
		Expect(got.Status.Health).To(Equal(catalogv1alpha1.HealthUnknown))
		Expect(got.Status.Ready).To(Equal("0/0"))
		Expect(got.Status.Message).To(Equal(entitystatus.MessageNoSources))
		Expect(got.Status.Sync).To(BeEmpty())
		Expect(got.Status.SourceCount).To(BeZero())
		for _, condType := range []string{catalogv1alpha1.ConditionReady, catalogv1alpha1.ConditionSynced} {
			cond := meta.FindStatusCondition(got.Status.Conditions, condType)
			Expect(cond).NotTo(BeNil(), condType)
			Expect(cond.Status).To(Equal(metav1.ConditionFalse), condType)
			Expect(cond.Reason).To(Equal("Unknown"), condType)
			Expect(cond.ObservedGeneration).To(Equal(got.Generation), condType)
		}
	})

	It("does not lose a status write when its cache lags behind it", func() {
		entity := &catalogv1alpha1.CatalogEntity{ObjectMeta: metav1.ObjectMeta{Name: "lagging", Namespace: ns}}
		Expect(k8sClient.Create(ctx, entity)).To(Succeed())
		key := client.ObjectKeyFromObject(entity)
		// The running manager writes the first status; with no sources and no spec
		// change, its own status writes give it nothing more to do with this entity.
		stale := settled(ctx, key)
		Expect(stale.Status.Health).To(Equal(catalogv1alpha1.HealthUnknown))
		r := catalogentity.NewForStatusWrites(k8sClient, nil)
		statusFrom := func(current catalogv1alpha1.CatalogEntityStatus, sources ...catalogv1alpha1.SourceStatus) catalogv1alpha1.CatalogEntityStatus {
			return entitystatus.Status(current, entitystatus.Input{Generation: stale.Generation, Sources: sources, Now: metav1.Now()})
		}

		By("writing Degraded from an up-to-date entity")
		fresh := stale.DeepCopy()
		current := r.CurrentStatus(fresh)
		degraded := catalogv1alpha1.SourceStatus{ID: "example.entityhub.dev/Widget/" + ns + "/w", APIVersion: "example.entityhub.dev/v1",
			Kind: "Widget", Namespace: ns, Name: "w", Health: catalogv1alpha1.HealthDegraded, Message: "broken"}
		wrote, err := r.PatchStatus(ctx, fresh, current, statusFrom(current, degraded))
		Expect(err).NotTo(HaveOccurred())
		Expect(wrote).To(BeTrue())

		By("going back to no sources from the entity as the cache still has it, before that write")
		lagging := stale.DeepCopy()
		current = r.CurrentStatus(lagging)
		_, err = r.PatchStatus(ctx, lagging, current, statusFrom(current))
		Expect(err).NotTo(HaveOccurred())

		got := &catalogv1alpha1.CatalogEntity{}
		Expect(k8sClient.Get(ctx, key, got)).To(Succeed())
		Expect(got.Status.Health).To(Equal(catalogv1alpha1.HealthUnknown), "the write went by the cache, which showed Unknown already")
		Expect(got.Status.Sources).To(BeEmpty())
		Expect(got.Status.Message).To(Equal(entitystatus.MessageNoSources))

		By("dropping what it remembers once the cache shows the write")
		Expect(r.CurrentStatus(got)).To(Equal(got.Status))
		r.SeenByCache(got)
		Expect(r.LedgerHolds(key)).To(BeFalse())

		By("forgetting at once a write its cache showed before the answer to it came")
		// Reading the API server itself is a cache that never lags.
		r = catalogentity.NewForStatusWrites(k8sClient, k8sClient)
		latest := got.DeepCopy()
		current = r.CurrentStatus(latest)
		wrote, err = r.PatchStatus(ctx, latest, current, statusFrom(current, degraded))
		Expect(err).NotTo(HaveOccurred())
		Expect(wrote).To(BeTrue())
		Expect(r.LedgerHolds(key)).To(BeFalse())

		By("the running manager's ledger forgetting its own write of this entity, from its cache")
		Eventually(func() bool { return engine.Entities.LedgerHolds(key) }).
			WithTimeout(10 * time.Second).Should(BeFalse())
	})

	It("puts the Backstage label back when someone changes it", func() {
		entity := &catalogv1alpha1.CatalogEntity{ObjectMeta: metav1.ObjectMeta{
			Name: "cart", Namespace: ns,
			Labels: map[string]string{catalogv1alpha1.KubernetesIDLabel: "something-else", "team": "shop"},
		}}
		Expect(k8sClient.Create(ctx, entity)).To(Succeed())
		got := settled(ctx, client.ObjectKeyFromObject(entity))
		Expect(got.Labels).To(HaveKeyWithValue("team", "shop"), "other labels are left alone")

		patch := client.MergeFrom(got.DeepCopy())
		delete(got.Labels, catalogv1alpha1.KubernetesIDLabel)
		Expect(k8sClient.Patch(ctx, got, patch)).To(Succeed())
		settled(ctx, client.ObjectKeyFromObject(entity))
	})

	It("follows spec changes and writes nothing when nothing changed", func() {
		entity := &catalogv1alpha1.CatalogEntity{ObjectMeta: metav1.ObjectMeta{Name: "search", Namespace: ns}}
		Expect(k8sClient.Create(ctx, entity)).To(Succeed())
		key := client.ObjectKeyFromObject(entity)
		got := settled(ctx, key)

		By("changing the spec, which bumps the generation")
		patch := client.MergeFrom(got.DeepCopy())
		got.Spec.Lifecycle = "production"
		Expect(k8sClient.Patch(ctx, got, patch)).To(Succeed())
		got = settled(ctx, key)
		Expect(got.Generation).To(BeNumerically(">", 1))
		settledVersion := got.ResourceVersion

		By("reconciling again with nothing changed, counting every write")
		writes := 0
		count := func() { writes++ }
		direct, err := client.NewWithWatch(cfg, client.Options{Scheme: k8sClient.Scheme()})
		Expect(err).NotTo(HaveOccurred())
		counting := interceptor.NewClient(direct, interceptor.Funcs{
			Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
				count()
				return c.Create(ctx, obj, opts...)
			},
			Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
				count()
				return c.Update(ctx, obj, opts...)
			},
			Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
				count()
				return c.Patch(ctx, obj, p, opts...)
			},
			SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
				count()
				return c.SubResource(sub).Update(ctx, obj, opts...)
			},
			SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
				count()
				return c.SubResource(sub).Patch(ctx, obj, p, opts...)
			},
		})
		// A different clock shows that timestamps are carried over, not re-stamped.
		later := func() time.Time { return time.Now().Add(time.Hour) }
		r := engine.Entities.With(counting, nil, later)
		for range 3 {
			_, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: key})
			Expect(err).NotTo(HaveOccurred())
		}
		Expect(writes).To(BeZero(), "a reconcile with nothing changed must not write")

		By("leaving the running manager alone for a while")
		Consistently(func(g Gomega) string {
			g.Expect(k8sClient.Get(ctx, key, got)).To(Succeed())
			return got.ResourceVersion
		}).WithTimeout(2 * time.Second).WithPolling(200 * time.Millisecond).Should(Equal(settledVersion))
	})
})
