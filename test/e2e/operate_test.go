package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/test/testenv"
)

// Where the dashboard and the alerts are.
var (
	ruleGroupsFile     = filepath.Join("config", "prometheus", "entityhub-rule-groups.yaml")
	prometheusRuleFile = filepath.Join("config", "prometheus", "entityhub-rules.yaml")
	dashboardFile      = filepath.Join("config", "grafana", "entityhub.json")
)

// notFromTheManager are metrics the alerts read from elsewhere: Prometheus's own up, and
// kube-state-metrics' view of the Deployment.
var notFromTheManager = map[string]string{
	"up": "Prometheus, for every target it scrapes",
	"kube_deployment_status_replicas_available": "kube-state-metrics",
	"kube_deployment_spec_replicas":             "kube-state-metrics",
}

// notYetSet are metrics controllers/metrics defines that nothing sets yet (their doc
// comments say where it must): a query over them is checked against their definitions,
// not against /metrics. Once set, they appear there, and this test asks to remove them
// from this list.
var notYetSet = map[string]prometheus.Collector{}

// query is one PromQL query and where it is written.
type query struct{ where, expr string }

// promql parses PromQL as Prometheus does by default.
var promql = parser.NewParser(parser.Options{})

// grafanaVariables are what Grafana puts for the dashboard's variables before the query
// reaches Prometheus.
var grafanaVariables = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "${job}", "entityhub", "$job", "entityhub")

// labelValues is Grafana's variable query label_values(<selector>, <label>).
var labelValues = regexp.MustCompile(`^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$`)

// ruleQueries parses the rule groups with promtool's parser, checks that the
// PrometheusRule holds the same groups, and returns every alert's expression.
func ruleQueries(g Gomega) []query {
	body, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), ruleGroupsFile))
	g.Expect(err).NotTo(HaveOccurred())
	groups, errs := rulefmt.Parse(body, false, model.UTF8Validation, promql)
	g.Expect(errs).To(BeEmpty(), "%s does not parse as Prometheus rule groups", ruleGroupsFile)

	var bare, object map[string]any
	g.Expect(yaml.Unmarshal(body, &bare)).To(Succeed())
	obj, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), prometheusRuleFile))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(yaml.Unmarshal(obj, &object)).To(Succeed())
	g.Expect(object).To(HaveKeyWithValue("apiVersion", "monitoring.coreos.com/v1"))
	g.Expect(object).To(HaveKeyWithValue("kind", "PrometheusRule"))
	spec, _ := object["spec"].(map[string]any)
	g.Expect(cmp.Diff(bare["groups"], spec["groups"])).To(BeEmpty(), "%s and %s hold different groups", ruleGroupsFile, prometheusRuleFile)

	readme, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "README.md"))
	g.Expect(err).NotTo(HaveOccurred())
	var out []query
	for _, grp := range groups.Groups {
		for _, r := range grp.Rules {
			g.Expect(string(readme)).To(ContainSubstring("\n#### "+r.Alert+"\n"), "the README has no runbook for %s", r.Alert)
			g.Expect(r.Alert).NotTo(BeEmpty(), "only alerts, no recording rules")
			g.Expect(r.Annotations).To(HaveKey("runbook_url"), r.Alert)
			g.Expect(r.Annotations["runbook_url"]).To(HaveSuffix("README.md#"+strings.ToLower(r.Alert)), r.Alert)
			out = append(out, query{where: "alert " + r.Alert, expr: r.Expr})
		}
	}
	return out
}

// dashboardQueries returns every query of the Grafana dashboard: its panels' targets and
// its variables' label_values, with Grafana's variables filled in; each panel reads the
// ${datasource} variable.
func dashboardQueries(g Gomega) []query {
	body, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), dashboardFile))
	g.Expect(err).NotTo(HaveOccurred())
	var dash struct {
		Panels []struct {
			Type, Title string
			Datasource  *struct{ Type, UID string }
			Targets     []struct {
				Expr       string
				Datasource struct{ Type, UID string }
			}
		}
		Templating struct {
			List []struct {
				Name, Type string
				Query      any
			}
		}
	}
	g.Expect(json.Unmarshal(body, &dash)).To(Succeed(), dashboardFile)
	var out []query
	var variables []string
	for _, v := range dash.Templating.List {
		variables = append(variables, v.Name+":"+v.Type)
		if q, ok := v.Query.(map[string]any); ok {
			m := labelValues.FindStringSubmatch(fmt.Sprint(q["query"]))
			g.Expect(m).NotTo(BeNil(), "variable %s: not label_values(<selector>, <label>)", v.Name)
			out = append(out, query{where: "variable " + v.Name, expr: m[1]})
		}
	}
	g.Expect(variables).To(ContainElement("datasource:datasource"))
	for _, p := range dash.Panels {
		if p.Type == "row" {
			continue
		}
		g.Expect(p.Datasource).NotTo(BeNil(), p.Title)
		g.Expect(p.Datasource.UID).To(Equal("${datasource}"), p.Title)
		g.Expect(p.Targets).NotTo(BeEmpty(), p.Title)
		for _, t := range p.Targets {
			g.Expect(t.Datasource.UID).To(Equal("${datasource}"), p.Title)
			out = append(out, query{where: "panel " + p.Title, expr: grafanaVariables.Replace(t.Expr)})
		}
	}
	return out
}

// metricNames returns the names of the metrics q selects; a query that does not parse
// fails g.
func metricNames(g Gomega, q query) []string {
	e, err := promql.ParseExpr(q.expr)
	g.Expect(err).NotTo(HaveOccurred(), "%s: %s", q.where, q.expr)
	var names []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			name := vs.Name
			for _, m := range vs.LabelMatchers {
				if m.Name == model.MetricNameLabel {
					name = m.Value
				}
			}
			g.Expect(name).NotTo(BeEmpty(), "%s selects no metric by name: %s", q.where, q.expr)
			names = append(names, name)
		}
		return nil
	})
	return names
}

// served returns the names of the samples the manager's /metrics serves: a histogram as
// its _bucket, _sum and _count, as PromQL names them.
func served(body string) (map[string]bool, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for name, f := range families {
		out[name] = true
		switch f.GetType() {
		case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			out[name+"_bucket"], out[name+"_sum"], out[name+"_count"] = true, true, true
		case dto.MetricType_SUMMARY:
			out[name+"_sum"], out[name+"_count"] = true, true
		}
	}
	return out, nil
}

// describedNames are the metric names a collector describes.
func describedNames(c prometheus.Collector) []string {
	ch := make(chan *prometheus.Desc, 16)
	c.Describe(ch)
	close(ch)
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	var names []string
	for d := range ch {
		if m := fqName.FindStringSubmatch(d.String()); m != nil {
			names = append(names, m[1])
		}
	}
	return names
}

var _ = Describe("The Grafana dashboard and the Prometheus alerts", func() {
	ctx := context.Background()

	It("parse: promtool's rule parser takes the rule groups, the PrometheusRule holds the same, every query is PromQL", func() {
		qs := append(ruleQueries(Default), dashboardQueries(Default)...)
		Expect(len(qs)).To(BeNumerically(">", 20))
		for _, q := range qs {
			Expect(metricNames(Default, q)).NotTo(BeEmpty(), q.where)
		}
	})

	It("name only metrics the manager binary serves, and config/prometheus applies", func() {
		want := map[string][]string{} // metric name → where it is used
		for _, q := range append(ruleQueries(Default), dashboardQueries(Default)...) {
			for _, name := range metricNames(Default, q) {
				want[name] = append(want[name], q.where)
			}
		}

		By("starting a control plane of its own, and the manager with leader election and the catalog endpoint on it")
		// Its own control plane, so that the manager may lead and fail without touching
		// the other specs: leader_election_master_status exists only once it leads.
		crds, err := testenv.ThirdPartyCRDs()
		Expect(err).NotTo(HaveOccurred())
		// The chart's test keeps a stand-in for the Prometheus Operator's CRDs, declaring
		// only what is written: a field the operator does not have fails the dry run.
		env, err := testenv.New(append(crds, filepath.Join(testenv.RepoRoot(), "test", "helm", "testdata", "monitoring.coreos.com.yaml"))...)
		Expect(err).NotTo(HaveOccurred())
		cfg, err := env.Start()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(env.Stop)
		scheme := runtime.NewScheme()
		utilruntime.Must(clientgoscheme.AddToScheme(scheme))
		utilruntime.Must(catalogv1alpha1.AddToScheme(scheme))
		c, err := client.New(cfg, client.Options{Scheme: scheme})
		Expect(err).NotTo(HaveOccurred())
		dir := GinkgoT().TempDir()
		kc, err := testenv.WriteKubeconfig(env, dir)
		Expect(err).NotTo(HaveOccurred())
		addr, err := testenv.FreePort()
		Expect(err).NotTo(HaveOccurred())
		probe, err := testenv.FreePort()
		Expect(err).NotTo(HaveOccurred())
		catalog, err := testenv.FreePort()
		Expect(err).NotTo(HaveOccurred())
		// The catalog namespace does not exist, so that creating a discovered entity
		// fails: entityhub_reconcile_errors_total exists once something failed.
		m, err := testenv.StartManager(managerBin, kc, filepath.Join(dir, "manager.log"),
			"--metrics-bind-address="+addr, "--metrics-secure=false", "--health-probe-bind-address="+probe,
			"--leader-elect", "--leader-election-namespace=default", "--catalog-bind-address="+catalog,
			"--catalog-namespace=not-created")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() {
			Expect(m.Stop(30 * time.Second)).To(Succeed())
		})

		By("applying config/prometheus with a server-side dry run")
		Expect(c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "entityhub-system"}})).To(Succeed())
		out, err := exec.CommandContext(ctx, kubectlPath, "--kubeconfig", kc, "apply", "--server-side", "--dry-run=server",
			"-k", filepath.Join(testenv.RepoRoot(), "config", "prometheus")).CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		Expect(string(out)).To(ContainSubstring("prometheusrule.monitoring.coreos.com/entityhub serverside-applied"))
		Expect(string(out)).To(ContainSubstring("servicemonitor.monitoring.coreos.com/entityhub-controller-manager-metrics-monitor serverside-applied"))

		By("giving it work: a labelled Application to discover, an entity to compute, a catalog read")
		Expect(c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "argocd"}})).To(Succeed())
		// "measured" has an entity beside it, which takes it as a source; "discovered"
		// has none, and the entity the manager creates for it cannot be created.
		for _, name := range []string{"measured", "discovered"} {
			Expect(c.Create(ctx, &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
				"metadata": map[string]any{"name": name, "namespace": "argocd",
					"labels": map[string]any{catalogv1alpha1.KubernetesIDLabel: name}},
				"spec":   map[string]any{"destination": map[string]any{"name": "in-cluster"}},
				"status": map[string]any{"health": map[string]any{"status": "Healthy"}, "sync": map[string]any{"status": "Synced"}},
			}})).To(Succeed())
		}
		Expect(c.Create(ctx, &catalogv1alpha1.CatalogEntity{
			ObjectMeta: metav1.ObjectMeta{Name: "measured", Namespace: "argocd"},
		})).To(Succeed())

		var got map[string]bool
		missing := func() []string {
			var out []string
			for name, where := range want {
				if _, elsewhere := notFromTheManager[name]; elsewhere {
					continue
				}
				if _, later := notYetSet[name]; later {
					continue
				}
				if !got[name] {
					out = append(out, fmt.Sprintf("%s (%s)", name, strings.Join(slices.Compact(slices.Sorted(slices.Values(where))), "; ")))
				}
			}
			sort.Strings(out)
			return out
		}
		Eventually(func(g Gomega) {
			resp, err := http.Get("http://" + catalog + "/entities")
			if err == nil {
				_ = resp.Body.Close()
			}
			body, err := scrape("http://" + addr + "/metrics")
			g.Expect(err).NotTo(HaveOccurred())
			got, err = served(body)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(missing()).To(BeEmpty(), "named by the dashboard or the alerts, not served by the manager")
		}).WithTimeout(90*time.Second).WithPolling(time.Second).Should(Succeed(), func() string {
			log, _ := os.ReadFile(m.LogPath)
			return "manager log:\n" + string(log)
		})

		for name, c := range notYetSet {
			Expect(describedNames(c)).To(ContainElement(name), "controllers/metrics defines %s", name)
			Expect(got).NotTo(HaveKey(name), "%s is served now: remove it from notYetSet", name)
			Expect(want).To(HaveKey(name), "%s is in notYetSet but nothing queries it", name)
		}
		for name := range notFromTheManager {
			Expect(want).To(HaveKey(name), "%s is in notFromTheManager but nothing queries it", name)
		}
	})
})

// scrape reads a /metrics page.
func scrape(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s answered %s", url, resp.Status)
	}
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}
