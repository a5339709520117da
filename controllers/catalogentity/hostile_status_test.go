package catalogentity_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
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

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/entitystatus"
	"github.com/entityhub/entityhub/controllers/watches"
	"github.com/entityhub/entityhub/test/testenv"
)

// sourceOfKind returns the entity's status entry of the given kind, nil when none.
func sourceOfKind(e *catalogv1alpha1.CatalogEntity, kind string) *catalogv1alpha1.SourceStatus {
	for i := range e.Status.Sources {
		if e.Status.Sources[i].Kind == kind {
			return &e.Status.Sources[i]
		}
	}
	return nil
}

// refusedWrites returns the errors logged since mark of status writes of entity.
func refusedWrites(mark int, entity string) []string {
	var out []string
	for _, l := range managerLog.ErrorsSince(mark) {
		if strings.Contains(l, entity) && strings.Contains(l, "writing status") {
			out = append(out, l)
		}
	}
	return out
}

// The issue "Hostile input and tenants": whoever can write an Application, a Workflow, a
// claim or a spec.sources entry can put a string over its CRD bound into an entity's
// status. Uncut, the API server refuses every status write of that entity (422), retried
// forever, while its status goes on saying what it said before.
var _ = Describe("Status of sources over every bound", Ordered, func() {
	ctx := context.Background()
	var (
		ns, entity, app string
		// Each is over the bound of the status field it ends up in, but for the
		// composite's name and the widget's apiVersion, which are within theirs and
		// make ids over theirs.
		cluster     = strings.Repeat("c", 300) // sources[].cluster: 253
		phase       = strings.Repeat("P", 100) // runs[].phase and lastRun: 64
		composite   = strings.Repeat("x", 250) // sources[].name: 253
		compositeNS = strings.Repeat("m", 300) // sources[].namespace: 63; with the name, id: 512
		group       = strings.Repeat("g", 300) + ".example.com"
		widgetName  = strings.Repeat("n", 253)
		rv          string
	)

	BeforeAll(func() {
		By("installing the CRDs of Argo CD Applications, Argo Workflows and a Crossplane claim")
		var paths []string
		for _, f := range []string{
			"argoproj.io_applications.yaml", "argoproj.io_workflows.yaml",
			"database.example.org_postgresqlinstances.yaml", "database.example.org_xpostgresqlinstances.yaml",
		} {
			paths = append(paths, filepath.Join(testenv.RepoRoot(), "test", "fixtures", "crds", f))
		}
		_, err := envtest.InstallCRDs(cfg, envtest.CRDInstallOptions{Paths: paths})
		Expect(err).NotTo(HaveOccurred())
		for _, gvk := range []schema.GroupVersionKind{applicationGVK, workflowGVK, claimGVK, xpgGVK} {
			Eventually(func() watches.State {
				s, _, _ := engine.Watches.StateOf(gvk)
				return s
			}).WithTimeout(15*time.Second).Should(Equal(watches.Synced), gvk.String())
		}
		Expect(client.IgnoreAlreadyExists(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "argocd"}}))).To(Succeed())
		ns = newNamespace(ctx)
		entity = "hostile-" + ns
		app = "hostile-" + ns
	})

	It("writes the status with every field cut to its bound and every source listed", func() {
		mark := managerLog.Mark()
		By("an entity whose spec.sources names a kind of a 300-character group: the CRD takes it")
		Expect(k8sClient.Create(ctx, &catalogv1alpha1.CatalogEntity{
			ObjectMeta: metav1.ObjectMeta{Name: entity, Namespace: catalogNamespace},
			Spec: catalogv1alpha1.CatalogEntitySpec{Sources: []catalogv1alpha1.SourceSelector{
				{APIVersion: group + "/v1", Kind: "Widget", Namespace: ns, Name: widgetName},
			}},
		})).To(Succeed())

		By("an Application whose destination name is 300 characters")
		Expect(k8sClient.Create(ctx, application(fmt.Sprintf(`
metadata: {name: %s, namespace: argocd, labels: {backstage.io/kubernetes-id: %s}}
spec:
  destination: {name: %s, namespace: payments}
status:
  health: {status: Healthy}
  sync: {status: Synced, revision: 9f4c2e1}
`, app, entity, cluster)))).To(Succeed())

		By("a Workflow whose status.phase is 100 characters")
		argoObject(ctx, workflowGVK, fmt.Sprintf(`
metadata: {name: deploy-1, namespace: %s, labels: {backstage.io/kubernetes-id: %s}}
status: {phase: %s, startedAt: "2026-11-20T02:00:00Z"}
`, ns, entity, phase))

		By("a claim whose spec.resourceRef names a missing composite, in a namespace of 300 characters")
		crossplaneObject(ctx, claimGVK, fmt.Sprintf(`
metadata: {name: payments-db, namespace: %s, labels: {backstage.io/kubernetes-id: %s}}
spec:
  resourceRef: {apiVersion: database.example.org/v1alpha1, kind: XPostgreSQLInstance, namespace: %s, name: %s}
status:%s`, ns, entity, compositeNS, composite, conditions("True", "Available", "True", "ReconcileSuccess", "")))

		Eventually(func(g Gomega) {
			got := getEntity(ctx, catalogNamespace, entity)(g)
			g.Expect(got.Status.SourceCount).To(BeEquivalentTo(5),
				"the Application, the Workflow, the claim, its missing composite and the spec.sources entry")
			g.Expect(got.Status.Sources).To(HaveLen(5))
			ids := map[string]bool{}
			for _, s := range got.Status.Sources {
				g.Expect(len(s.ID)).To(BeNumerically("<=", catalogv1alpha1.MaxSourceIDLength), s.Kind)
				ids[s.ID] = true
			}
			g.Expect(ids).To(HaveLen(5), "ids stay unique")

			a := sourceOfKind(got, "Application")
			g.Expect(a).NotTo(BeNil())
			g.Expect(a.Cluster).To(Equal(cluster[:catalogv1alpha1.MaxClusterLength]))
			g.Expect(a.Health).To(Equal(catalogv1alpha1.HealthHealthy))
			g.Expect(got.Status.Clusters).To(Equal(a.Cluster))

			w := sourceOfKind(got, "Workflow")
			g.Expect(w).NotTo(BeNil())
			g.Expect(w.Phase).To(Equal(phase), "within sources[].phase's 128")
			g.Expect(w.Health).To(Equal(catalogv1alpha1.HealthUnknown), "a phase Argo Workflows does not have")
			cut := phase[:catalogv1alpha1.MaxRunPhaseLength-len("…")] + "…"
			g.Expect(got.Status.LastRun).To(Equal(cut))
			g.Expect(got.Status.Runs).To(HaveLen(1))
			g.Expect(got.Status.Runs[0].Phase).To(Equal(cut))

			x := sourceOfKind(got, "XPostgreSQLInstance")
			g.Expect(x).NotTo(BeNil())
			g.Expect(x.Health).To(Equal(catalogv1alpha1.HealthMissing))
			g.Expect(x.Name).To(Equal(composite))
			g.Expect(x.Namespace).To(Equal(compositeNS[:catalogv1alpha1.MaxNamespaceLength]))
			g.Expect(x.ID).To(Equal(entitystatus.BoundedID(
				"database.example.org/XPostgreSQLInstance/" + compositeNS + "/" + composite)))
			claim := sourceOfKind(got, "PostgreSQLInstance")
			g.Expect(claim).NotTo(BeNil())
			g.Expect(claim.Ready).To(Equal("0/1"))

			wd := sourceOfKind(got, "Widget")
			g.Expect(wd).NotTo(BeNil())
			g.Expect(wd.APIVersion).To(Equal(group + "/v1"))
			g.Expect(wd.Name).To(Equal(widgetName))
			g.Expect(wd.ID).To(Equal(entitystatus.BoundedID(group + "/Widget/" + ns + "/" + widgetName)))
			g.Expect(wd.ID).To(HaveLen(catalogv1alpha1.MaxSourceIDLength))
			resolved := meta.FindStatusCondition(got.Status.Conditions, catalogv1alpha1.ConditionSourcesResolved)
			g.Expect(resolved).NotTo(BeNil())
			g.Expect(resolved.Reason).To(Equal(catalogv1alpha1.ReasonKindNotWatched))

			g.Expect(got.Status.Health).To(Equal(catalogv1alpha1.HealthUnknown))
			g.Expect(got.Status.Ready).To(Equal("2/5"))
			rv = got.ResourceVersion
		}).WithTimeout(15 * time.Second).Should(Succeed())
		Expect(refusedWrites(mark, entity)).To(BeEmpty(), "no status write of the entity was refused")
	})

	It("keeps following its sources: an Application turning Degraded shows", func() {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(applicationGVK)
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: "argocd", Name: app}, u)).To(Succeed())
		Expect(unstructured.SetNestedMap(u.Object, map[string]any{
			"status": "Degraded", "message": "Deployment payments: 0 of 3 replicas available",
		}, "status", "health")).To(Succeed())
		Expect(k8sClient.Update(ctx, u)).To(Succeed())

		Eventually(func(g Gomega) {
			got := getEntity(ctx, catalogNamespace, entity)(g)
			g.Expect(got.ResourceVersion).NotTo(Equal(rv), "the status is written again")
			a := sourceOfKind(got, "Application")
			g.Expect(a).NotTo(BeNil())
			g.Expect(a.Health).To(Equal(catalogv1alpha1.HealthDegraded))
			g.Expect(a.Message).To(ContainSubstring("0 of 3 replicas available"))
			g.Expect(got.Status.Ready).To(Equal("1/5"))
			rv = got.ResourceVersion
		}).WithTimeout(15 * time.Second).Should(Succeed())

		By("writing nothing more while nothing changes: what was cut reads back as it was written")
		Consistently(func(g Gomega) string {
			return getEntity(ctx, catalogNamespace, entity)(g).ResourceVersion
		}).WithTimeout(3 * time.Second).Should(Equal(rv))
	})
})
