package catalogentity_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/catalogentity"
)

// sourceNames lists an entity's sources as <namespace>/<name>.
func sourceNames(e *catalogv1alpha1.CatalogEntity) []string {
	out := make([]string, 0, len(e.Status.Sources))
	for _, s := range e.Status.Sources {
		out = append(out, s.Namespace+"/"+s.Name)
	}
	return out
}

var _ = Describe("Tenants on a shared hub", Ordered, func() {
	ctx := context.Background()
	var teamA, teamB, name string
	web := map[string]string{"tier": "web"}

	BeforeAll(func() {
		installWidgets()
		teamA, teamB = newNamespace(ctx), newNamespace(ctx)
		name = "storefront-" + teamA
		createWidget(ctx, widget(teamA, "a-web", web, metav1.ConditionTrue, "fine"))
		createWidget(ctx, widget(teamB, "b-web", web, metav1.ConditionFalse, "team b's trouble"))
		createWidget(ctx, widget(teamB, "b-labelled", kubernetesID(name), metav1.ConditionTrue, "fine"))
		// The catalog namespace's entity is made for the labelled source before team a
		// writes one of the same name, as on a hub where the platform's came first: a
		// team's entity of that name, once it exists, keeps another from being made.
		Eventually(getEntity(ctx, catalogNamespace, name)).WithTimeout(15 * time.Second).ShouldNot(BeNil())
	})

	It("gives an entity outside the catalog namespace only sources of its own namespace", func() {
		entity := &catalogv1alpha1.CatalogEntity{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: teamA},
			Spec: catalogv1alpha1.CatalogEntitySpec{Sources: []catalogv1alpha1.SourceSelector{
				{APIVersion: widgetGVK.GroupVersion().String(), Kind: "Widget", Selector: &metav1.LabelSelector{MatchLabels: web}},
				{APIVersion: widgetGVK.GroupVersion().String(), Kind: "Widget", Namespace: teamB, Name: "b-web"},
			}},
		}
		Expect(k8sClient.Create(ctx, entity)).To(Succeed())
		Eventually(func(g Gomega) {
			got := getEntity(ctx, teamA, name)(g)
			g.Expect(sourceNames(got)).To(ConsistOf(teamA+"/a-web", teamB+"/b-web"))
			src := sourceOf(got, "Widget", "b-web")
			g.Expect(src.Health).To(Equal(catalogv1alpha1.HealthUnknown))
			g.Expect(src.Message).To(ContainSubstring("namespace " + teamB + " is not the entity's"))
			g.Expect(src.Message).NotTo(ContainSubstring("team b's trouble"), "nothing of team b's object is shown")
			resolved := meta.FindStatusCondition(got.Status.Conditions, catalogv1alpha1.ConditionSourcesResolved)
			g.Expect(resolved).NotTo(BeNil())
			g.Expect(resolved.Reason).To(Equal(catalogv1alpha1.ReasonNamespaceNotAllowed))
		}).WithTimeout(15 * time.Second).Should(Succeed())
	})

	It("still lets the catalog namespace's entity of that name take the labelled source of another namespace", func() {
		Eventually(func(g Gomega) []string {
			return sourceNames(getEntity(ctx, catalogNamespace, name)(g))
		}).WithTimeout(15 * time.Second).Should(ConsistOf(teamB + "/b-labelled"))
		Consistently(func(g Gomega) []string {
			return sourceNames(getEntity(ctx, teamA, name)(g))
		}).WithTimeout(time.Second).Should(Not(ContainElement(teamB+"/b-labelled")), "team a's entity of the same name does not claim it")
	})

	It("tells a tenant's entity that names the platform's Backstage entity that it is left out of the catalog", func() {
		Eventually(func(g Gomega) {
			got := getEntity(ctx, teamA, name)(g)
			published := meta.FindStatusCondition(got.Status.Conditions, catalogv1alpha1.ConditionPublished)
			g.Expect(published).NotTo(BeNil())
			g.Expect(published.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(published.Reason).To(Equal(catalogv1alpha1.ReasonDuplicateEntity))
			g.Expect(published.Message).To(ContainSubstring(catalogNamespace + "/" + name + ", which is published instead"))
		}).WithTimeout(15 * time.Second).Should(Succeed())
		Expect(meta.FindStatusCondition(getEntity(ctx, catalogNamespace, name)(Default).Status.Conditions,
			catalogv1alpha1.ConditionPublished)).To(BeNil(), "the platform's entity is published, and says nothing")
	})

	It("lets an entity of the catalog namespace select across namespaces", func() {
		entity := &catalogv1alpha1.CatalogEntity{
			ObjectMeta: metav1.ObjectMeta{Name: "web-tier-" + teamA, Namespace: catalogNamespace},
			Spec: catalogv1alpha1.CatalogEntitySpec{Sources: []catalogv1alpha1.SourceSelector{
				{APIVersion: widgetGVK.GroupVersion().String(), Kind: "Widget", Selector: &metav1.LabelSelector{MatchLabels: web}},
			}},
		}
		Expect(k8sClient.Create(ctx, entity)).To(Succeed())
		Eventually(func(g Gomega) []string {
			return sourceNames(getEntity(ctx, catalogNamespace, entity.Name)(g))
		}).WithTimeout(15 * time.Second).Should(ContainElements(teamA+"/a-web", teamB+"/b-web"))
	})

	It("refuses an empty selector", func() {
		entity := &catalogv1alpha1.CatalogEntity{
			ObjectMeta: metav1.ObjectMeta{Name: "everything", Namespace: teamA},
			Spec: catalogv1alpha1.CatalogEntitySpec{Sources: []catalogv1alpha1.SourceSelector{
				{APIVersion: "argoproj.io/v1alpha1", Kind: "Application", Selector: &metav1.LabelSelector{}},
			}},
		}
		err := k8sClient.Create(ctx, entity)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("a selector must have at least one term"))
	})

	It("never deletes a team's copy of an entity the manager made, whatever its labels say", func() {
		copied := &catalogv1alpha1.CatalogEntity{ObjectMeta: metav1.ObjectMeta{
			Name: "copied", Namespace: teamA,
			Labels: map[string]string{catalogv1alpha1.ManagedByLabel: catalogv1alpha1.ManagedByValue},
		}}
		Expect(k8sClient.Create(ctx, copied)).To(Succeed())
		Consistently(func(g Gomega) {
			got := getEntity(ctx, teamA, "copied")(g)
			g.Expect(got.Annotations).NotTo(HaveKey(catalogentity.OrphanedSinceAnnotation))
		}).WithTimeout(3 * gracePeriod).WithPolling(250 * time.Millisecond).Should(Succeed())
	})
})
