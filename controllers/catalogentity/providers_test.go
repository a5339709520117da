package catalogentity_test

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/watches"
	"github.com/entityhub/entityhub/test/testenv"
)

var (
	providerGVK         = schema.GroupVersionKind{Group: "pkg.crossplane.io", Version: "v1", Kind: "Provider"}
	providerRevisionGVK = schema.GroupVersionKind{Group: "pkg.crossplane.io", Version: "v1", Kind: "ProviderRevision"}
	// sqlInstanceGVK is a managed resource kind this spec installs as a provider would.
	sqlInstanceGVK = schema.GroupVersionKind{Group: "sql.gcp.upbound.io", Version: "v1beta2", Kind: "DatabaseInstance"}
)

// packageConditions returns status conditions of a Crossplane package object, each
// given as "<type> <status> <reason>", as YAML.
func packageConditions(conds ...string) string {
	out := "\nconditions:"
	for _, c := range conds {
		var typ, status, reason string
		_, err := fmt.Sscanf(c, "%s %s %s", &typ, &status, &reason)
		Expect(err).NotTo(HaveOccurred(), c)
		out += fmt.Sprintf(`
- {type: %s, status: %q, reason: %s, message: %q, lastTransitionTime: "2026-01-01T00:00:00Z"}`, typ, status, reason, messageOf(reason))
	}
	return out
}

// messageOf is the message the spec gives a package condition of reason.
func messageOf(reason string) string {
	switch reason {
	case "UnhealthyPackageRevision":
		return "Package runtime health is False with message: Deployment does not have minimum availability."
	case "AwaitingActivation":
		return "Package runtime is scaled to zero; awaiting the first ManagedResourceDefinition to be activated"
	}
	return ""
}

var _ = Describe("Crossplane provider health", Ordered, func() {
	ctx := context.Background()
	const (
		provider = "provider-gcp-sql"
		revision = "provider-gcp-sql-3d5f1c9a7b2e"
	)
	var entity string

	// providerStatus and revisionStatus write the Provider's and its revision's status.
	providerStatus := func(conds ...string) {
		setConditions(ctx, providerGVK, "", provider, "currentRevision: "+revision+packageConditions(conds...))
	}
	revisionStatus := func(conds ...string) {
		setConditions(ctx, providerRevisionGVK, "", revision, `
objectRefs:
- {apiVersion: apiextensions.crossplane.io/v1alpha1, kind: ManagedResourceDefinition, name: databaseinstances.sql.gcp.upbound.io}`+
			packageConditions(conds...))
	}
	// health waits for the entity's health and returns its one source.
	health := func(want catalogv1alpha1.Health) catalogv1alpha1.SourceStatus {
		var got *catalogv1alpha1.CatalogEntity
		Eventually(func(g Gomega) {
			got = getEntity(ctx, catalogNamespace, entity)(g)
			g.Expect(got.Status.Health).To(Equal(want))
			g.Expect(got.Status.Sources).To(HaveLen(1))
		}).WithTimeout(10 * time.Second).WithPolling(50 * time.Millisecond).Should(Succeed())
		return got.Status.Sources[0]
	}

	BeforeAll(func() {
		By("installing Crossplane's package CRDs while the manager runs")
		var paths []string
		for _, f := range []string{"pkg.crossplane.io_providers.yaml", "pkg.crossplane.io_providerrevisions.yaml"} {
			paths = append(paths, filepath.Join(testenv.RepoRoot(), "test", "fixtures", "crds", f))
		}
		_, err := envtest.InstallCRDs(cfg, envtest.CRDInstallOptions{Paths: paths})
		Expect(err).NotTo(HaveOccurred())

		By("installing a provider, its active revision, and the managed resource kind the revision controls")
		p := crossplaneObject(ctx, providerGVK, fmt.Sprintf(`
metadata: {name: %s}
spec: {package: xpkg.example/upbound/provider-gcp-sql:v1.14.0}`, provider))
		crossplaneObject(ctx, providerRevisionGVK, fmt.Sprintf(`
metadata:
  name: %s
  labels: {pkg.crossplane.io/package: %s}
  ownerReferences: [{apiVersion: pkg.crossplane.io/v1, kind: Provider, name: %s, uid: %s, controller: true}]
spec: {desiredState: Active, image: xpkg.example/upbound/provider-gcp-sql:v1.14.0, revision: 1}`,
			revision, provider, provider, p.GetUID()))
		revisionStatus("RevisionHealthy True HealthyPackageRevision", "RuntimeHealthy True HealthyPackageRevision",
			"RuntimeActive True ActiveRuntime")
		providerStatus("Installed True ActivePackageRevision", "Healthy True HealthyPackageRevision")

		rev := &unstructured.Unstructured{}
		rev.SetGroupVersionKind(providerRevisionGVK)
		Expect(k8sClient.Get(ctx, client.ObjectKey{Name: revision}, rev)).To(Succeed())
		crd := &apiextensionsv1.CustomResourceDefinition{
			ObjectMeta: metav1.ObjectMeta{
				Name: "databaseinstances.sql.gcp.upbound.io",
				// As Crossplane v2 makes it from a ManagedResourceDefinition: owned by it,
				// and controlled by the revision that controls the MRD.
				OwnerReferences: []metav1.OwnerReference{
					{APIVersion: "apiextensions.crossplane.io/v1alpha1", Kind: "ManagedResourceDefinition",
						Name: "databaseinstances.sql.gcp.upbound.io", UID: "6c0e2f4a-8b1d-4e3f-9a7c-5d2b1e0f3a4c"},
					{APIVersion: "pkg.crossplane.io/v1", Kind: "ProviderRevision", Name: revision, UID: rev.GetUID(),
						Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)},
				},
			},
			Spec: apiextensionsv1.CustomResourceDefinitionSpec{
				Group: sqlInstanceGVK.Group,
				Names: apiextensionsv1.CustomResourceDefinitionNames{
					Kind: sqlInstanceGVK.Kind, ListKind: sqlInstanceGVK.Kind + "List", Plural: "databaseinstances",
					Singular: "databaseinstance", Categories: []string{"crossplane", "managed", "gcp"},
				},
				Scope: apiextensionsv1.ClusterScoped,
				Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
					Name: sqlInstanceGVK.Version, Served: true, Storage: true,
					Subresources: &apiextensionsv1.CustomResourceSubresources{Status: &apiextensionsv1.CustomResourceSubresourceStatus{}},
					Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
						Type: "object", XPreserveUnknownFields: ptr.To(true),
					}},
				}},
			},
		}
		Expect(k8sClient.Create(ctx, crd)).To(Succeed())
		Eventually(func() watches.State {
			s, _, _ := engine.Watches.StateOf(sqlInstanceGVK)
			return s
		}).WithTimeout(15 * time.Second).Should(Equal(watches.Synced))

		By("a Ready managed resource of that kind, labelled for an entity")
		entity = "orders-sql-" + newNamespace(ctx)
		crossplaneObject(ctx, sqlInstanceGVK, fmt.Sprintf(`
metadata: {name: orders-sql-main, labels: {backstage.io/kubernetes-id: %s}}
spec: {forProvider: {region: europe-west1, databaseVersion: POSTGRES_16}}
status:%s`, entity, conditions("True", "Available", "True", "ReconcileSuccess", "")))
		health(catalogv1alpha1.HealthHealthy)
	})

	It("shows the managed resources of an unhealthy provider as Unknown, and Healthy once it is back", func() {
		providerStatus("Installed True ActivePackageRevision", "Healthy False UnhealthyPackageRevision")
		faultAt := time.Now()
		src := health(catalogv1alpha1.HealthUnknown)
		AddReportEntry("provider down: fault to Unknown", time.Since(faultAt).Round(10*time.Millisecond).String())
		Expect(src.Message).To(Equal("provider provider-gcp-sql is unhealthy (UnhealthyPackageRevision: " +
			messageOf("UnhealthyPackageRevision") + "); last known: Healthy"))
		Expect(src.Phase).To(Equal("Available"), "the phase is what the resource last said")
		Expect(getEntity(ctx, catalogNamespace, entity)(Default).Status.Message).To(ContainSubstring("provider provider-gcp-sql is unhealthy"))

		providerStatus("Installed True ActivePackageRevision", "Healthy True HealthyPackageRevision")
		recoveredAt := time.Now()
		src = health(catalogv1alpha1.HealthHealthy)
		AddReportEntry("provider down: recovery to Healthy", time.Since(recoveredAt).Round(10*time.Millisecond).String())
		Expect(src.Message).To(BeEmpty())
	})

	It("shows them Unknown when the active revision's runtime is unhealthy, but not while it awaits activation", func() {
		revisionStatus("RevisionHealthy True HealthyPackageRevision", "RuntimeHealthy False UnhealthyPackageRevision",
			"RuntimeActive True ActiveRuntime")
		src := health(catalogv1alpha1.HealthUnknown)
		Expect(src.Message).To(HavePrefix("provider provider-gcp-sql runtime is unhealthy (UnhealthyPackageRevision: "))

		By("a runtime scaled to zero on purpose")
		revisionStatus("RevisionHealthy True HealthyPackageRevision", "RuntimeHealthy True HealthyPackageRevision",
			"RuntimeActive False AwaitingActivation")
		providerStatus("Installed True ActivePackageRevision", "Healthy True AwaitingActivation")
		health(catalogv1alpha1.HealthHealthy)
		Consistently(func(g Gomega) catalogv1alpha1.Health {
			return getEntity(ctx, catalogNamespace, entity)(g).Status.Health
		}).WithTimeout(time.Second).Should(Equal(catalogv1alpha1.HealthHealthy))
	})
})
