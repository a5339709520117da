package helm

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/entityhub/entityhub/test/testenv"
)

// everything turns on, or away from its default, every value that changes what the
// chart renders.
var everything = map[string]any{
	"fullnameOverride": "hub",
	"image": map[string]any{
		"repository": "registry.example/entityhub", "tag": "v9.9.9", "pullPolicy": "Always",
		"pullSecrets": []any{map[string]any{"name": "regcred"}},
	},
	"replicas":       2,
	"leaderElection": map[string]any{"namespace": "leases"},
	"resources":      map[string]any{"limits": map[string]any{"memory": "1Gi"}},
	"manager": map[string]any{
		"catalogNamespace":            "catalog",
		"clusterWideSourceNamespaces": []any{"platform", "ops"},
		"defaultOwner":                "group:default/sre",
		"orphanGracePeriod":           "30m",
		"workers":                     8,
		"sourceKinds": []any{
			map[string]any{"apiVersion": "tf.upbound.io/v1beta1", "kind": "Workspace"},
			map[string]any{"apiVersion": "example.org/v1", "kind": "Policy", "resource": "policies"},
			map[string]any{"apiVersion": "other.example.org/v1", "kind": "Thing", "readRole": false},
		},
		"logLevel":  "debug",
		"extraArgs": []any{"--pprof-bind-address=127.0.0.1:6060"},
		"extraEnv":  []any{map[string]any{"name": "TZ", "value": "UTC"}},
	},
	"argocd":    map[string]any{"namespaces": []any{"argocd", "argocd-two"}, "staleAfter": "0"},
	"workflows": map[string]any{"controllerLease": "workflows/argo-controller"},
	"catalog": map[string]any{
		"port": 9443, "url": "https://catalog.example", "auth": true, "maxRenders": 2,
		"tls": map[string]any{"secretName": "catalog-tls"},
	},
	"metrics":          map[string]any{"port": 9000, "readers": []any{map[string]any{"name": "prometheus", "namespace": "monitoring"}}},
	"serviceMonitor":   map[string]any{"enabled": true, "labels": map[string]any{"release": "prometheus"}},
	"prometheusRule":   map[string]any{"enabled": true},
	"grafanaDashboard": map[string]any{"enabled": true},
	"backstage":        map[string]any{"enabled": true, "longLivedToken": true},
	"networkPolicy":    map[string]any{"metricsFrom": []any{}},
	"crds":             map[string]any{"templated": true},
	"serviceAccount":   map[string]any{"name": "hub-manager", "annotations": map[string]any{"example.org/role": "x"}},
	"podAnnotations":   map[string]any{"example.org/scrape": "false"},
	"podLabels":        map[string]any{"team": "platform"},
	"podSecurityContext": map[string]any{
		"runAsNonRoot": true, "runAsUser": 65532, "seccompProfile": map[string]any{"type": "RuntimeDefault"},
	},
	"nodeSelector": map[string]any{"kubernetes.io/os": "linux"},
	"tolerations":  []any{map[string]any{"key": "dedicated", "operator": "Equal", "value": "platform", "effect": "NoSchedule"}},
	"affinity": map[string]any{"nodeAffinity": map[string]any{"requiredDuringSchedulingIgnoredDuringExecution": map[string]any{
		"nodeSelectorTerms": []any{map[string]any{"matchExpressions": []any{map[string]any{
			"key": "kubernetes.io/arch", "operator": "In", "values": []any{"amd64", "arm64"},
		}}}},
	}}},
	"topologySpreadConstraints": []any{map[string]any{
		"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway",
		"labelSelector": map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/instance": ReleaseName}},
	}},
	"priorityClassName":             "system-cluster-critical",
	"terminationGracePeriodSeconds": 60,
}

func TestLint(t *testing.T) {
	for name, values := range map[string]map[string]any{"default values": nil, "every value changed": everything} {
		t.Run(name, func(t *testing.T) {
			for _, m := range Lint(values) {
				t.Error(m)
			}
		})
	}
}

// find returns the rendered object of kind and name, or fails.
func find(t *testing.T, objs []*unstructured.Unstructured, kind, namespace, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetNamespace() == namespace && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s %s/%s rendered", kind, namespace, name)
	return nil
}

// kinds returns the kind and name of every object, sorted.
func kinds(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		out = append(out, key(o))
	}
	slices.Sort(out)
	return out
}

func render(t *testing.T, opts Options) []*unstructured.Unstructured {
	t.Helper()
	objs, err := Objects(opts)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// Every value reaches the object it is for.
func TestEveryValueRenders(t *testing.T) {
	objs := render(t, Options{Values: everything})
	dashboard := as[corev1.ConfigMap](t, find(t, objs, "ConfigMap", ReleaseNamespace, "hub-dashboard"))
	if dashboard.Labels["grafana_dashboard"] != "1" || !json.Valid([]byte(dashboard.Data["entityhub.json"])) {
		t.Errorf("the dashboard ConfigMap: labels %v, valid JSON %v", dashboard.Labels, json.Valid([]byte(dashboard.Data["entityhub.json"])))
	}
	deploy := as[appsv1.Deployment](t, find(t, objs, "Deployment", ReleaseNamespace, "hub-controller-manager"))
	pod := deploy.Spec.Template.Spec
	c := pod.Containers[0]

	wantArgs := []string{
		"--leader-elect", "--leader-election-namespace=leases",
		"--health-probe-bind-address=:8081", "--metrics-bind-address=:9000",
		"--argocd-namespace=argocd", "--argocd-namespace=argocd-two", "--argocd-stale-after=0",
		"--catalog-bind-address=:9443", "--catalog-url=https://catalog.example", "--catalog-auth",
		"--catalog-cert-dir=/etc/entityhub/catalog-tls", "--catalog-max-renders=2",
		"--catalog-namespace=catalog", "--cluster-wide-source-namespaces=platform,ops",
		"--default-owner=group:default/sre", "--orphan-grace-period=30m", "--max-concurrent-reconciles=8",
		"--source-kind=tf.upbound.io/v1beta1/Workspace", "--source-kind=example.org/v1/Policy",
		"--source-kind=other.example.org/v1/Thing",
		"--workflows-controller-lease=workflows/argo-controller", "--zap-log-level=debug",
		"--pprof-bind-address=127.0.0.1:6060",
	}
	if diff := cmp.Diff(wantArgs, c.Args); diff != "" {
		t.Errorf("args (-want +got):\n%s", diff)
	}
	checks := map[string][2]any{
		"image":            {"registry.example/entityhub:v9.9.9", c.Image},
		"pull policy":      {corev1.PullAlways, c.ImagePullPolicy},
		"pull secrets":     {[]corev1.LocalObjectReference{{Name: "regcred"}}, pod.ImagePullSecrets},
		"replicas":         {int32(2), *deploy.Spec.Replicas},
		"service account":  {"hub-manager", pod.ServiceAccountName},
		"run as user":      {int64(65532), *pod.SecurityContext.RunAsUser},
		"node selector":    {map[string]string{"kubernetes.io/os": "linux"}, pod.NodeSelector},
		"tolerations":      {1, len(pod.Tolerations)},
		"affinity":         {true, pod.Affinity != nil && pod.Affinity.NodeAffinity != nil},
		"topology spread":  {1, len(pod.TopologySpreadConstraints)},
		"priority class":   {"system-cluster-critical", pod.PriorityClassName},
		"grace period":     {int64(60), *pod.TerminationGracePeriodSeconds},
		"pod annotation":   {"false", deploy.Spec.Template.Annotations["example.org/scrape"]},
		"pod label":        {"platform", deploy.Spec.Template.Labels["team"]},
		"env":              {[]string{"GOMEMLIMIT", "TZ"}, envNames(c.Env)},
		"catalog TLS":      {"catalog-tls", pod.Volumes[0].Secret.SecretName},
		"catalog TLS path": {"/etc/entityhub/catalog-tls", c.VolumeMounts[0].MountPath},
	}
	for name, check := range checks {
		if diff := cmp.Diff(check[0], check[1]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}

	// Roles go to the namespaces the values name.
	for _, want := range []string{
		"Role catalog/hub-catalog-namespace-writer", "RoleBinding catalog/hub-catalog-namespace-writer",
		"Role leases/hub-leader-election-role", "Role workflows/hub-workflows-lease-reader",
		"Role argocd/hub-manager-role", "Role argocd-two/hub-manager-role", "RoleBinding argocd-two/hub-manager-rolebinding",
		"ClusterRole /hub-source-workspaces.tf.upbound.io", "ClusterRole /hub-source-policies.example.org",
		"ClusterRoleBinding /hub-metrics-reader", "ServiceMonitor entityhub-system/hub-controller-manager-metrics-monitor",
		"Secret entityhub-system/hub-backstage-token", "CustomResourceDefinition /catalogentities.catalog.entityhub.dev",
	} {
		if !slices.Contains(kinds(objs), want) {
			t.Errorf("no %s among %v", want, kinds(objs))
		}
	}
	if slices.ContainsFunc(kinds(objs), func(k string) bool { return strings.Contains(k, "things.other.example.org") }) {
		t.Error("readRole false still renders a read role")
	}
	workspaces := as[rbacv1.ClusterRole](t, find(t, objs, "ClusterRole", "", "hub-source-workspaces.tf.upbound.io"))
	if diff := cmp.Diff([]rbacv1.PolicyRule{{
		APIGroups: []string{"tf.upbound.io"}, Resources: []string{"workspaces"}, Verbs: []string{"get", "list", "watch"},
	}}, workspaces.Rules); diff != "" {
		t.Errorf("the source kind's read role (-want +got):\n%s", diff)
	}
	if workspaces.Labels["catalog.entityhub.dev/aggregate-to-source-reader"] != "true" {
		t.Errorf("the source kind's read role is not aggregated: labels %v", workspaces.Labels)
	}
	for _, o := range objs {
		if o.GetKind() == "CustomResourceDefinition" && o.GetAnnotations()["helm.sh/resource-policy"] != "keep" &&
			o.GetLabels()["app.kubernetes.io/managed-by"] == "Helm" {
			t.Errorf("the templated CRD is not kept on uninstall: annotations %v", o.GetAnnotations())
		}
	}
}

func envNames(env []corev1.EnvVar) []string {
	var out []string
	for _, e := range env {
		out = append(out, e.Name)
	}
	return out
}

// Values that turn parts off leave those parts out.
func TestOffSwitches(t *testing.T) {
	cases := map[string]struct {
		values     map[string]any
		apis       []string
		args       []string // args the manager gets that it does not at defaults
		absent     []string // objects rendered at defaults that must be gone
		present    []string // objects not rendered at defaults that must be there
		absentArgs []string
	}{
		"Argo CD clusters by URL": {
			values: map[string]any{"argocd": map[string]any{"clusterNames": "none"}},
			args:   []string{"--argocd-cluster-names=none"},
			absent: []string{"Role argocd/entityhub-manager-role", "RoleBinding argocd/entityhub-manager-rolebinding"},
		},
		"no Argo Workflows lease check": {
			values: map[string]any{"workflows": map[string]any{"leaseCheck": false}},
			args:   []string{"--workflows-controller-lease="},
			absent: []string{"Role argo/entityhub-workflows-lease-reader", "RoleBinding argo/entityhub-workflows-lease-reader"},
		},
		"no catalog endpoint": {
			values:     map[string]any{"catalog": map[string]any{"enabled": false}},
			absent:     []string{"Service entityhub-system/entityhub-catalog"},
			absentArgs: []string{"--catalog-bind-address=:8090"},
		},
		"no metrics": {
			values:     map[string]any{"metrics": map[string]any{"enabled": false}},
			args:       []string{"--metrics-bind-address=0"},
			absent:     []string{"Service entityhub-system/entityhub-controller-manager-metrics-service"},
			absentArgs: []string{"--metrics-bind-address=:8443"},
		},
		"plain HTTP metrics": {
			values: map[string]any{"metrics": map[string]any{"secure": false}},
			args:   []string{"--metrics-secure=false"},
		},
		"no leader election": {
			values:     map[string]any{"leaderElection": map[string]any{"enabled": false}},
			absent:     []string{"Role entityhub-system/entityhub-leader-election-role", "RoleBinding entityhub-system/entityhub-leader-election-rolebinding"},
			absentArgs: []string{"--leader-elect"},
		},
		"no NetworkPolicy": {
			values: map[string]any{"networkPolicy": map[string]any{"enabled": false}},
			absent: []string{"NetworkPolicy entityhub-system/entityhub-controller-manager"},
		},
		"an existing ServiceAccount": {
			values: map[string]any{"serviceAccount": map[string]any{"create": false, "name": "mine"}},
			absent: []string{"ServiceAccount entityhub-system/entityhub-controller-manager"},
		},
		"a ServiceMonitor where the cluster serves them": {
			apis:    []string{"monitoring.coreos.com/v1/ServiceMonitor"},
			present: []string{"ServiceMonitor entityhub-system/entityhub-controller-manager-metrics-monitor"},
		},
		"no ServiceMonitor when told so": {
			values: map[string]any{"serviceMonitor": map[string]any{"enabled": false}},
			apis:   []string{"monitoring.coreos.com/v1/ServiceMonitor"},
		},
	}
	defaults := render(t, Options{})
	defaultArgs := managerArgs(t, defaults)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			objs := render(t, Options{Values: tc.values, APIVersions: tc.apis})
			got := kinds(objs)
			for _, k := range kinds(defaults) {
				if !slices.Contains(got, k) && !slices.Contains(tc.absent, k) {
					t.Errorf("%s is gone", k)
				}
			}
			for _, k := range tc.absent {
				if slices.Contains(got, k) {
					t.Errorf("%s is still rendered", k)
				}
			}
			for _, k := range got {
				if !slices.Contains(kinds(defaults), k) && !slices.Contains(tc.present, k) {
					t.Errorf("%s is rendered too", k)
				}
			}
			for _, k := range tc.present {
				if !slices.Contains(got, k) {
					t.Errorf("%s is not rendered", k)
				}
			}
			args := managerArgs(t, objs)
			var added []string
			for _, a := range args {
				if !slices.Contains(defaultArgs, a) {
					added = append(added, a)
				}
			}
			if diff := cmp.Diff(tc.args, added); diff != "" {
				t.Errorf("args added (-want +got):\n%s", diff)
			}
			for _, a := range tc.absentArgs {
				if slices.Contains(args, a) {
					t.Errorf("args still hold %s", a)
				}
			}
		})
	}
}

func managerArgs(t *testing.T, objs []*unstructured.Unstructured) []string {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == "Deployment" {
			return as[appsv1.Deployment](t, o).Spec.Template.Spec.Containers[0].Args
		}
	}
	t.Fatal("no Deployment rendered")
	return nil
}

// Values that contradict each other, or the manager's flags, fail the render with a
// message that says what to change.
func TestRefusedValues(t *testing.T) {
	cases := map[string]struct {
		values map[string]any
		want   string
	}{
		"auth in clear": {
			values: map[string]any{"catalog": map[string]any{"auth": true}},
			want:   "catalog.auth would take bearer tokens in clear",
		},
		"TLS and insecure": {
			values: map[string]any{"catalog": map[string]any{"insecure": true, "tls": map[string]any{"secretName": "x"}}},
			want:   "catalog.insecure with catalog.tls.secretName",
		},
		"cluster names": {
			values: map[string]any{"argocd": map[string]any{"clusterNames": "urls"}},
			want:   `argocd.clusterNames "urls" must be secrets or none`,
		},
		"lease": {
			values: map[string]any{"workflows": map[string]any{"controllerLease": "workflow-controller"}},
			want:   "workflows.controllerLease \"workflow-controller\" must be <namespace>/<name>",
		},
		"service monitor": {
			values: map[string]any{"serviceMonitor": map[string]any{"enabled": "maybe"}},
			want:   `serviceMonitor.enabled "maybe" must be auto, true or false`,
		},
		"no ServiceAccount": {
			values: map[string]any{"serviceAccount": map[string]any{"create": false}},
			want:   "serviceAccount.name is required",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Render(Options{Values: tc.values})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// The chart's CRD is config/crd's (make chart copies it), and its appVersion is the
// default tag of the image.
// TestChartAlertsAreCurrent: the chart's PrometheusRule carries config/prometheus's alerts.
func TestChartAlertsAreCurrent(t *testing.T) {
	want, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "prometheus", "entityhub-rule-groups.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(ChartDir(), "files", "prometheus-rules.yaml"))
	if err != nil || string(got) != string(want) {
		t.Errorf("dist/chart/files/prometheus-rules.yaml is not config/prometheus/entityhub-rule-groups.yaml (%v); run make chart", err)
	}
	want, err = os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "grafana", "entityhub.json"))
	if err != nil {
		t.Fatal(err)
	}
	got, err = os.ReadFile(filepath.Join(ChartDir(), "files", "grafana-dashboard.json"))
	if err != nil || string(got) != string(want) {
		t.Errorf("dist/chart/files/grafana-dashboard.json is not config/grafana/entityhub.json (%v); run make chart", err)
	}
}

func TestChartCRDIsCurrent(t *testing.T) {
	bases, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), "config", "crd", "bases", "*.yaml"))
	if err != nil || len(bases) == 0 {
		t.Fatalf("no CRD in config/crd/bases: %v", err)
	}
	for _, base := range bases {
		want, err := os.ReadFile(base)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(ChartDir(), "crds", filepath.Base(base)))
		if err != nil || string(got) != string(want) {
			t.Errorf("dist/chart/crds/%s is not config/crd/bases' (%v); run make chart", filepath.Base(base), err)
		}
	}
	ch, err := Chart()
	if err != nil {
		t.Fatal(err)
	}
	deploy := as[appsv1.Deployment](t, find(t, render(t, Options{}), "Deployment", ReleaseNamespace, "entityhub-controller-manager"))
	if got, want := deploy.Spec.Template.Spec.Containers[0].Image, "controller:"+ch.Metadata.AppVersion; got != want {
		t.Errorf("image %s, want %s", got, want)
	}
}
