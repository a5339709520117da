package backstage

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

// entityName is the entity whose page the specs load: the demo's payments-api, which
// the manager finds Degraded from its Argo CD Applications.
const entityName = "payments-api"

// systemName is the System whose page the specs load too: the demo's payments, which
// rolls up payments-api, payments-db and every other entity whose spec.system names it.
const systemName = "payments"

// memberKind is the kind of a System's members among its status.sources.
const memberKind = "CatalogEntity"

// pluginDefaults is the hub-only app-config without objectTypes: the plugin then lists
// its 13 default kinds too, which the shipped role refuses.
const pluginDefaults = "app-config.plugin-defaults.yaml"

// objectsResponse is the Kubernetes plugin's answer to POST /api/kubernetes/services/:id,
// which its Kubernetes tab shows: per cluster, the objects found by kind, and errors.
type objectsResponse struct {
	Items []struct {
		Cluster struct {
			Name string `json:"name"`
		} `json:"cluster"`
		Resources []struct {
			Type      string           `json:"type"`
			Resources []map[string]any `json:"resources"`
		} `json:"resources"`
		Errors []struct {
			ErrorType    string `json:"errorType"`
			StatusCode   int    `json:"statusCode"`
			ResourcePath string `json:"resourcePath"`
			Message      string `json:"message"`
		} `json:"errors"`
	} `json:"items"`
}

// byCluster returns, for each cluster in the response, its objects as "type/name" and
// its errors as "statusCode resourcePath errorType message".
func (r objectsResponse) byCluster() (objects, errs map[string][]string) {
	objects, errs = map[string][]string{}, map[string][]string{}
	for _, item := range r.Items {
		for _, res := range item.Resources {
			for _, o := range res.Resources {
				objects[item.Cluster.Name] = append(objects[item.Cluster.Name], res.Type+"/"+nestedString(o, "metadata", "name"))
			}
		}
		for _, e := range item.Errors {
			errs[item.Cluster.Name] = append(errs[item.Cluster.Name],
				strings.TrimSpace(fmt.Sprintf("%d %s %s %s", e.StatusCode, e.ResourcePath, e.ErrorType, e.Message)))
		}
	}
	return objects, errs
}

// catalogEntity returns the CatalogEntity named name from the hub cluster's answer.
func (r objectsResponse) catalogEntity(name string) map[string]any {
	for _, item := range r.Items {
		if item.Cluster.Name != "hub" {
			continue
		}
		for _, res := range item.Resources {
			for _, o := range res.Resources {
				if res.Type == "customresources" && o["kind"] == "CatalogEntity" && nestedString(o, "metadata", "name") == name {
					return o
				}
			}
		}
	}
	return nil
}

// members returns the names of the sources of kind CatalogEntity in a CatalogEntity's
// status, as the plugin returns it: a System's members.
func members(o map[string]any) []string {
	status, _ := o["status"].(map[string]any)
	sources, _ := status["sources"].([]any)
	var out []string
	for _, s := range sources {
		if src, ok := s.(map[string]any); ok && src["kind"] == memberKind {
			out = append(out, nestedString(src, "name"))
		}
	}
	return out
}

// liveMembers returns the names of the members in a System's status as the manager
// wrote it.
func liveMembers(e *catalogv1alpha1.CatalogEntity) []string {
	var out []string
	for _, s := range e.Status.Sources {
		if s.Kind == memberKind {
			out = append(out, s.Name)
		}
	}
	return out
}

// nestedString is the string at path in o, or "".
func nestedString(o map[string]any, path ...string) string {
	var cur any = o
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = m[p]
	}
	s, _ := cur.(string)
	return s
}

var _ = Describe("A real Backstage backend, configured as the README says", Ordered, func() {
	ctx := context.Background()
	var live, liveSystem catalogv1alpha1.CatalogEntity

	BeforeAll(func() {
		By("waiting for the manager to write " + entityName + "'s status from its sources")
		Eventually(func(g Gomega) {
			g.Expect(hub.client.Get(ctx, client.ObjectKey{Namespace: "entityhub-system", Name: entityName}, &live)).To(Succeed())
			g.Expect(live.Status.Health).To(BeEquivalentTo("Degraded"))
			g.Expect(live.Status.Message).NotTo(BeEmpty())
		}).WithTimeout(60 * time.Second).Should(Succeed())

		By("waiting for the manager to roll " + systemName + " up from its members, and to leave it be")
		var version string
		Eventually(func(g Gomega) {
			seen := version
			g.Expect(hub.client.Get(ctx, client.ObjectKey{Namespace: "entityhub-system", Name: systemName}, &liveSystem)).To(Succeed())
			version = liveSystem.ResourceVersion
			g.Expect(liveMembers(&liveSystem)).To(ContainElements(entityName, "payments-db"))
			g.Expect(liveSystem.Status.Health).To(BeEquivalentTo("Degraded"), "the worst of its members")
			g.Expect(liveSystem.Status.Message).To(HavePrefix(memberKind + " "))
			g.Expect(version).To(Equal(seen), "no write for a second")
		}).WithTimeout(60 * time.Second).WithPolling(time.Second).Should(Succeed())
	})

	// hubEnv is what the app-config files' variables name for the hub.
	hubEnv := func() map[string]string {
		return map[string]string{"HUB_URL": hub.url, "HUB_CA_DATA": hub.caData, "ENTITYHUB_BACKSTAGE_TOKEN": hub.token}
	}

	// ingested waits until the catalog has ingested the endpoint's entities and returns
	// the entity the page is for, as the catalog has it.
	ingested := func(b *backend, setup string) map[string]any {
		start := time.Now()
		var entity map[string]any
		Eventually(func(g Gomega) {
			code, body := b.get("/api/catalog/entities/by-name/component/default/" + entityName)
			g.Expect(code).To(Equal(http.StatusOK), string(body))
			g.Expect(json.Unmarshal(body, &entity)).To(Succeed())
		}).WithTimeout(2 * time.Minute).WithPolling(100 * time.Millisecond).Should(Succeed())
		record("catalog ingestion ("+setup+")", time.Since(start))
		return entity
	}

	// catalogSystem returns the System as the catalog ingested it, once it has.
	catalogSystem := func(b *backend) map[string]any {
		var entity map[string]any
		Eventually(func(g Gomega) {
			code, body := b.get("/api/catalog/entities/by-name/system/default/" + systemName)
			g.Expect(code).To(Equal(http.StatusOK), string(body))
			g.Expect(json.Unmarshal(body, &entity)).To(Succeed())
		}).WithTimeout(time.Minute).WithPolling(100 * time.Millisecond).Should(Succeed())
		return entity
	}

	// services asks the Kubernetes plugin for the objects of the entity called name, as
	// its Kubernetes tab does.
	services := func(b *backend, name string, entity map[string]any) objectsResponse {
		code, body := b.post("/api/kubernetes/services/"+name, map[string]any{"entity": entity})
		Expect(code).To(Equal(http.StatusOK), string(body))
		var r objectsResponse
		Expect(json.Unmarshal(body, &r)).To(Succeed(), string(body))
		objects, errs := r.byCluster()
		GinkgoWriter.Printf("POST /api/kubernetes/services/%s: objects %v, errors %v\n", name, objects, errs)
		return r
	}

	// expectStatus checks that the hub's answer is the CatalogEntity with the status
	// the manager wrote, want.
	expectStatus := func(r objectsResponse, want *catalogv1alpha1.CatalogEntity) map[string]any {
		got := r.catalogEntity(want.Name)
		Expect(got).NotTo(BeNil(), "the hub returns the CatalogEntity %s: %+v", want.Name, r)
		status, ok := got["status"].(map[string]any)
		Expect(ok).To(BeTrue(), "the CatalogEntity comes with its status: %v", got)
		Expect(status).To(HaveKeyWithValue("health", string(want.Status.Health)))
		Expect(status).To(HaveKeyWithValue("ready", want.Status.Ready))
		Expect(status).To(HaveKeyWithValue("message", want.Status.Message))
		return got
	}

	// expectRollUp loads the System's page as setup has it and checks that the hub's
	// answer is the System rolled up from its members: their health and ready count, and
	// each member a source of kind CatalogEntity, with no error.
	expectRollUp := func(b *backend, setup string) {
		By("loading the page of the System " + systemName + " (" + setup + ")")
		r := services(b, systemName, catalogSystem(b))
		got := expectStatus(r, &liveSystem)
		GinkgoWriter.Printf("%s: %s %s, members %v\n", systemName, liveSystem.Status.Health, liveSystem.Status.Ready, members(got))
		Expect(members(got)).To(ConsistOf(liveMembers(&liveSystem)), "the System's members, each a source of kind %s", memberKind)
		Expect(members(got)).To(ContainElements(entityName, "payments-db"))
		objects, errs := r.byCluster()
		Expect(errs).To(BeEmpty())
		Expect(objects).To(Equal(map[string][]string{"hub": {"customresources/" + systemName}}))
	}

	It("ingests the catalog endpoint's entities, with their location annotations and relations", func() {
		b := startBackend("app-config.hub-only.yaml", hubEnv())
		entity := ingested(b, "check")
		Expect(entity).To(HaveKeyWithValue("metadata", HaveKeyWithValue("annotations", And(
			HaveKeyWithValue("backstage.io/kubernetes-id", entityName),
			HaveKeyWithValue("backstage.io/managed-by-location", "url:http://"+catalogAddr+"/entities"),
			HaveKeyWithValue("backstage.io/managed-by-origin-location", "url:http://"+catalogAddr+"/entities"),
		))))
		Expect(entity).To(HaveKeyWithValue("relations", ContainElement(And(
			HaveKeyWithValue("type", "dependsOn"),
			HaveKeyWithValue("targetRef", "resource:default/payments-db"),
		))))
		for _, ref := range []string{"resource/default/payments-db", "system/default/payments"} {
			code, body := b.get("/api/catalog/entities/by-name/" + ref)
			Expect(code).To(Equal(http.StatusOK), "%s: %s", ref, body)
		}
	})

	It("with the plugin's default object types, gets a 403 for each of them on the hub (the trouble the setups below avoid)", func() {
		b := startBackend(pluginDefaults, hubEnv())
		r := services(b, entityName, ingested(b, "plugin defaults"))
		expectStatus(r, &live)
		_, errs := r.byCluster()
		Expect(errs["hub"]).To(HaveLen(13))
		Expect(errs["hub"]).To(HaveEach(HavePrefix("403 ")))
		Expect(errs["hub"]).To(ContainElement(HavePrefix("403 /api/v1/pods ")))
	})

	It("setup 1, hub only: returns the CatalogEntity with its status, and the System rolled up from its members, with no errors and only the shipped read-only role", func() {
		b := startBackend("app-config.hub-only.yaml", hubEnv())
		r := services(b, entityName, ingested(b, "setup 1, hub only"))
		expectStatus(r, &live)
		objects, errs := r.byCluster()
		Expect(errs).To(BeEmpty())
		Expect(objects).To(Equal(map[string][]string{"hub": {"customresources/" + entityName}}))
		expectRollUp(b, "setup 1")
	})

	It("setup 2, hub and a workload cluster: returns the CatalogEntity from the hub and the workload's objects, and the System rolled up, with no errors", func() {
		By("applying config/backstage/default-kinds on the hub: objectTypes is the same for every cluster")
		kubectl(hub, "apply", "-k", "config/backstage/default-kinds")
		prepareWorkload(ctx)

		b := startBackend("app-config.workload-clusters.yaml", map[string]string{
			"HUB_URL": hub.url, "HUB_CA_DATA": hub.caData, "ENTITYHUB_BACKSTAGE_TOKEN": hub.token,
			"PROD_EU_URL": workload.url, "PROD_EU_CA_DATA": workload.caData, "PROD_EU_TOKEN": workload.token,
		})
		r := services(b, entityName, ingested(b, "setup 2, workload clusters"))
		expectStatus(r, &live)
		objects, errs := r.byCluster()
		Expect(errs).To(BeEmpty())
		Expect(objects).To(HaveLen(2))
		Expect(objects).To(HaveKeyWithValue("hub", ConsistOf("customresources/"+entityName)))
		Expect(objects).To(HaveKeyWithValue("prod-eu", ConsistOf("services/"+entityName, "deployments/"+entityName)))
		expectRollUp(b, "setup 2")
	})
})

// prepareWorkload gives the workload cluster what a user gives one: a ServiceAccount for
// Backstage with the plugin's default kinds readable (the same role, applied there), and
// an entity's Deployment and Service labelled with its kubernetes-id.
func prepareWorkload(ctx context.Context) {
	By("installing a ServiceAccount for Backstage and the entity's objects on the workload cluster")
	for _, ns := range []string{"entityhub-system", "payments"} {
		Expect(client.IgnoreAlreadyExists(workload.client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))).To(Succeed())
	}
	Expect(client.IgnoreAlreadyExists(workload.client.Create(ctx, &corev1.ServiceAccount{
		ObjectMeta: metav1.ObjectMeta{Name: "entityhub-backstage", Namespace: "entityhub-system"},
	}))).To(Succeed())
	kubectl(workload, "apply", "-k", "config/backstage/default-kinds")
	workload.token = strings.TrimSpace(kubectl(workload, "create", "token", "entityhub-backstage", "-n", "entityhub-system", "--duration=1h"))

	labels := map[string]string{"backstage.io/kubernetes-id": entityName}
	meta := metav1.ObjectMeta{Name: entityName, Namespace: "payments", Labels: labels}
	Expect(client.IgnoreAlreadyExists(workload.client.Create(ctx, &appsv1.Deployment{
		ObjectMeta: meta,
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "api", Image: "payments-api:1"}}},
			},
		},
	}))).To(Succeed())
	Expect(client.IgnoreAlreadyExists(workload.client.Create(ctx, &corev1.Service{
		ObjectMeta: meta,
		Spec:       corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{Port: 80}}},
	}))).To(Succeed())
}
