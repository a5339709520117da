package catalogentity_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/watches"
	"github.com/entityhub/entityhub/test/testenv"
)

var (
	instanceGVK    = schema.GroupVersionKind{Group: "rds.aws.upbound.io", Version: "v1beta1", Kind: "Instance"}
	subnetGroupGVK = schema.GroupVersionKind{Group: "rds.aws.upbound.io", Version: "v1beta1", Kind: "SubnetGroup"}
	instanceV2GVK  = schema.GroupVersionKind{Group: "rds.aws.m.upbound.io", Version: "v1beta1", Kind: "Instance"}
	xpgGVK         = schema.GroupVersionKind{Group: "database.example.org", Version: "v1alpha1", Kind: "XPostgreSQLInstance"}
	claimGVK       = schema.GroupVersionKind{Group: "database.example.org", Version: "v1alpha1", Kind: "PostgreSQLInstance"}
	xdbGVK         = schema.GroupVersionKind{Group: "platform.example.org", Version: "v1alpha1", Kind: "XDatabase"}
)

var crossplaneCRDs = []string{
	"rds.aws.upbound.io_instances.yaml",
	"rds.aws.upbound.io_subnetgroups.yaml",
	"rds.aws.m.upbound.io_instances.yaml",
	"database.example.org_xpostgresqlinstances.yaml",
	"database.example.org_postgresqlinstances.yaml",
	"platform.example.org_xdatabases.yaml",
}

// crossplaneObject builds an object from YAML and writes it, status included.
func crossplaneObject(ctx context.Context, gvk schema.GroupVersionKind, manifest string) *unstructured.Unstructured {
	obj := map[string]any{}
	Expect(yaml.Unmarshal([]byte(manifest), &obj)).To(Succeed())
	u := &unstructured.Unstructured{Object: obj}
	u.SetGroupVersionKind(gvk)
	status := u.Object["status"]
	Expect(k8sClient.Create(ctx, u)).To(Succeed())
	if status != nil {
		u.Object["status"] = status
		Expect(k8sClient.Status().Update(ctx, u)).To(Succeed())
	}
	return u
}

// conditions returns Crossplane Ready and Synced conditions as YAML.
func conditions(ready, readyReason, synced, syncedReason, msg string) string {
	return fmt.Sprintf(`
  conditions:
  - {type: Ready, status: %q, reason: %s, lastTransitionTime: "2026-01-01T00:00:00Z"}
  - {type: Synced, status: %q, reason: %s, message: %q, lastTransitionTime: "2026-01-01T00:00:00Z"}`,
		ready, readyReason, synced, syncedReason, msg)
}

// setConditions replaces an object's conditions and writes its status.
func setConditions(ctx context.Context, gvk schema.GroupVersionKind, ns, name, conds string) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, u)).To(Succeed())
	status := map[string]any{}
	Expect(yaml.Unmarshal([]byte(conds), &status)).To(Succeed())
	u.Object["status"] = status
	Expect(k8sClient.Status().Update(ctx, u)).To(Succeed())
}

// countingReader counts the source objects (unstructured) a reconcile reads from the
// cache. The entity's own reads are left out: whether a reconcile writes status, and so
// reads its entity back, depends on what the running manager wrote just before, not on
// how many sources the cluster holds.
type countingReader struct {
	client.Reader
	objects atomic.Int64
}

func (c *countingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	err := c.Reader.Get(ctx, key, obj, opts...)
	if _, source := obj.(*unstructured.Unstructured); err == nil && source {
		c.objects.Add(1)
	}
	return err
}

func (c *countingReader) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	err := c.Reader.List(ctx, list, opts...)
	if err == nil {
		if n := listLen(list); n > 0 {
			c.objects.Add(int64(n))
		}
	}
	return err
}

func listLen(list client.ObjectList) int {
	if u, ok := list.(*unstructured.UnstructuredList); ok {
		return len(u.Items)
	}
	return 0
}

func reconcileRequest(ns, name string) ctrl.Request {
	return ctrl.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}}
}

var _ = Describe("Crossplane claims, composites and managed resources", Ordered, func() {
	ctx := context.Background()
	var ns, entity string
	const xr = "payments-db-x7k2p"

	BeforeAll(func() {
		By("installing provider and XRD CRDs while the manager runs")
		paths := make([]string, 0, len(crossplaneCRDs))
		for _, f := range crossplaneCRDs {
			paths = append(paths, filepath.Join(testenv.RepoRoot(), "test", "fixtures", "crds", f))
		}
		_, err := envtest.InstallCRDs(cfg, envtest.CRDInstallOptions{Paths: paths})
		Expect(err).NotTo(HaveOccurred())
		for _, gvk := range []schema.GroupVersionKind{instanceGVK, subnetGroupGVK, instanceV2GVK, xpgGVK, claimGVK, xdbGVK} {
			Eventually(func() watches.State {
				s, _, _ := engine.Watches.StateOf(gvk)
				return s
			}).WithTimeout(15*time.Second).Should(Equal(watches.Synced), gvk.String())
		}
		ns = newNamespace(ctx)
		entity = "payments-db-" + ns
	})

	It("shows which managed resource of a claim's tree fails, and the tree's ready count", func() {
		crossplaneObject(ctx, claimGVK, fmt.Sprintf(`
metadata: {name: payments-db, namespace: %s, labels: {backstage.io/kubernetes-id: %s}}
spec:
  parameters: {storageGB: 20}
  compositionRef: {name: xpostgresqlinstances.aws.database.example.org}
  resourceRef: {apiVersion: database.example.org/v1alpha1, kind: XPostgreSQLInstance, name: %s}
status:%s`, ns, entity, xr, conditions("False", "Waiting", "True", "ReconcileSuccess", "")))
		crossplaneObject(ctx, xpgGVK, fmt.Sprintf(`
metadata: {name: %s}
spec:
  claimRef: {apiVersion: database.example.org/v1alpha1, kind: PostgreSQLInstance, name: payments-db, namespace: %s}
  resourceRefs:
  - {apiVersion: rds.aws.upbound.io/v1beta1, kind: SubnetGroup, name: %s-subnets}
  - {apiVersion: rds.aws.upbound.io/v1beta1, kind: Instance, name: %s-primary}
  - {apiVersion: rds.aws.upbound.io/v1beta1, kind: Instance, name: %s-replica}
status:%s`, xr, ns, xr, xr, xr, conditions("False", "Creating", "True", "ReconcileSuccess", "")))
		owner := fmt.Sprintf(`ownerReferences: [{apiVersion: database.example.org/v1alpha1, kind: XPostgreSQLInstance, name: %s, uid: 00000000-0000-0000-0000-000000000001, controller: true}]`, xr)
		crossplaneObject(ctx, subnetGroupGVK, fmt.Sprintf(`
metadata: {name: %s-subnets, %s}
spec: {forProvider: {region: eu-west-1}}
status:%s`, xr, owner, conditions("True", "Available", "True", "ReconcileSuccess", "")))
		crossplaneObject(ctx, instanceGVK, fmt.Sprintf(`
metadata: {name: %s-primary, %s}
spec: {forProvider: {region: eu-west-1, instanceClass: db.t3.micro}}
status:%s`, xr, owner, conditions("False", "Creating", "False", "ReconcileError",
			"create failed: InvalidParameterValue: The parameter MasterUserPassword is not a valid password")))
		crossplaneObject(ctx, instanceGVK, fmt.Sprintf(`
metadata: {name: %s-replica, %s}
spec: {forProvider: {region: eu-west-1}}
status:%s`, xr, owner, conditions("True", "Available", "True", "ReconcileSuccess", "")))

		Eventually(func(g Gomega) {
			got := getEntity(ctx, catalogNamespace, entity)(g)
			g.Expect(got.Spec.Kind).To(Equal(catalogv1alpha1.KindResource), "only Crossplane sources make a Resource")
			g.Expect(got.Spec.Type).To(Equal("postgresqlinstance"))
			g.Expect(got.Status.Health).To(Equal(catalogv1alpha1.HealthDegraded))
			g.Expect(got.Status.SourceCount).To(BeEquivalentTo(5), "claim, composite and three managed resources")
			g.Expect(got.Status.Message).To(Equal("Instance " + xr + "-primary is Degraded: " +
				"create failed: InvalidParameterValue: The parameter MasterUserPassword is not a valid password"))
			var claim *catalogv1alpha1.SourceStatus
			for i := range got.Status.Sources {
				if got.Status.Sources[i].Kind == "PostgreSQLInstance" {
					claim = &got.Status.Sources[i]
				}
			}
			g.Expect(claim).NotTo(BeNil())
			g.Expect(claim.Ready).To(Equal("2/3"))
			g.Expect(claim.Message).To(ContainSubstring("2/3 ready; Instance " + xr + "-primary is Degraded (ReconcileError): create failed"))
		}).WithTimeout(10 * time.Second).Should(Succeed())
	})

	It("turns Healthy when the failing resource is fixed", func() {
		setConditions(ctx, instanceGVK, "", xr+"-primary", conditions("True", "Available", "True", "ReconcileSuccess", ""))
		setConditions(ctx, xpgGVK, "", xr, conditions("True", "Available", "True", "ReconcileSuccess", ""))
		setConditions(ctx, claimGVK, ns, "payments-db", conditions("True", "Available", "True", "ReconcileSuccess", ""))
		Eventually(func(g Gomega) {
			got := getEntity(ctx, catalogNamespace, entity)(g)
			g.Expect(got.Status.Health).To(Equal(catalogv1alpha1.HealthHealthy))
			g.Expect(got.Status.Ready).To(Equal("5/5"))
		}).WithTimeout(10 * time.Second).Should(Succeed())
	})

	It("reads a tree in proportion to its size, not to the managed resources in the cluster", func() {
		counting := &countingReader{Reader: engine.Sources}
		r := engine.Entities.With(nil, counting, nil)
		reconcileOnce := func() int64 {
			counting.objects.Store(0)
			_, err := r.Reconcile(ctx, reconcileRequest(catalogNamespace, entity))
			Expect(err).NotTo(HaveOccurred())
			return counting.objects.Load()
		}
		before := reconcileOnce()

		By("adding 300 managed resources that belong to nobody")
		for i := range 300 {
			crossplaneObject(ctx, instanceGVK, fmt.Sprintf(`
metadata: {name: unrelated-%s-%03d}
spec: {forProvider: {region: us-east-1}}
status:%s`, ns, i, conditions("True", "Available", "True", "ReconcileSuccess", "")))
		}
		Eventually(func(g Gomega) int {
			list := &unstructured.UnstructuredList{}
			list.SetGroupVersionKind(instanceGVK.GroupVersion().WithKind("InstanceList"))
			g.Expect(engine.Sources.List(ctx, list)).To(Succeed())
			return len(list.Items)
		}).WithTimeout(20 * time.Second).Should(BeNumerically(">=", 302))

		after := reconcileOnce()
		Expect(after).To(Equal(before), "objects read for the entity: %d before, %d after", before, after)
		Expect(before).To(BeNumerically("<=", 10), "the tree has 5 objects")
	})

	It("follows a Crossplane v2 namespaced composite", func() {
		name := "orders-db-" + ns
		crossplaneObject(ctx, xdbGVK, fmt.Sprintf(`
metadata: {name: orders-db, namespace: %s, labels: {backstage.io/kubernetes-id: %s}}
spec:
  crossplane:
    resourceRefs:
    - {apiVersion: rds.aws.m.upbound.io/v1beta1, kind: Instance, name: orders-db-main}
status:%s`, ns, name, conditions("True", "Available", "True", "ReconcileSuccess", "")))
		crossplaneObject(ctx, instanceV2GVK, fmt.Sprintf(`
metadata:
  name: orders-db-main
  namespace: %s
  ownerReferences: [{apiVersion: platform.example.org/v1alpha1, kind: XDatabase, name: orders-db, uid: 00000000-0000-0000-0000-000000000002, controller: true}]
status:%s`, ns, conditions("False", "Creating", "True", "ReconcileSuccess", "")))
		Eventually(func(g Gomega) {
			got := getEntity(ctx, catalogNamespace, name)(g)
			g.Expect(got.Status.Health).To(Equal(catalogv1alpha1.HealthProgressing))
			g.Expect(got.Status.Ready).To(Equal("1/2"))
		}).WithTimeout(10 * time.Second).Should(Succeed())

		By("an event on the unlabelled managed resource reaching the composite's entity")
		setConditions(ctx, instanceV2GVK, ns, "orders-db-main", conditions("True", "Available", "True", "ReconcileSuccess", ""))
		Eventually(func(g Gomega) string {
			return string(getEntity(ctx, catalogNamespace, name)(g).Status.Health)
		}).WithTimeout(10 * time.Second).Should(Equal("Healthy"))

		By("pausing it: the cache keeps the one annotation the mapper reads among those it drops")
		mr := &unstructured.Unstructured{}
		mr.SetGroupVersionKind(instanceV2GVK)
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "orders-db-main"}, mr)).To(Succeed())
		mr.SetAnnotations(map[string]string{"crossplane.io/paused": "true", "crossplane.io/external-name": "orders-db-main-7f3k"})
		Expect(k8sClient.Update(ctx, mr)).To(Succeed())
		Eventually(func(g Gomega) string {
			return string(getEntity(ctx, catalogNamespace, name)(g).Status.Health)
		}).WithTimeout(10 * time.Second).Should(Equal("Suspended"))
		cached := &unstructured.Unstructured{}
		cached.SetGroupVersionKind(instanceV2GVK)
		Expect(engine.Sources.Get(ctx, client.ObjectKey{Namespace: ns, Name: "orders-db-main"}, cached)).To(Succeed())
		Expect(cached.GetAnnotations()).To(Equal(map[string]string{"crossplane.io/paused": "true"}))
	})

	It("drops a provider's resources when its CRD is deleted, without errors in a loop", func() {
		mark := managerLog.Mark()
		crd := &apiextensionsv1.CustomResourceDefinition{ObjectMeta: metav1.ObjectMeta{Name: "subnetgroups.rds.aws.upbound.io"}}
		Expect(k8sClient.Delete(ctx, crd)).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(crd), crd))
		}).WithTimeout(30 * time.Second).Should(BeTrue())
		Eventually(func(g Gomega) {
			got := getEntity(ctx, catalogNamespace, entity)(g)
			g.Expect(got.Status.SourceCount).To(BeEquivalentTo(4))
			for _, s := range got.Status.Sources {
				g.Expect(s.Kind).NotTo(Equal("SubnetGroup"))
			}
		}).WithTimeout(15 * time.Second).Should(Succeed())
		Consistently(func() []string { return managerLog.ErrorsSince(mark) }).
			WithTimeout(3 * time.Second).Should(BeEmpty())
		Expect(strings.Join(managerLog.ErrorsSince(mark), "\n")).To(BeEmpty())
	})
})
