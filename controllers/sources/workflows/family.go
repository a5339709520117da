package workflows

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/entityhub/entityhub/controllers/sources"
)

// IndexRunOwner indexes Workflows by what started them: "CronWorkflow/<name>" or
// "WorkflowTemplate/<name>", from the labels Argo Workflows sets on each run, so that a
// schedule's or template's runs are found without scanning the thousands of completed
// Workflows a namespace keeps.
const IndexRunOwner = "workflows.run-owner"

// +kubebuilder:rbac:groups=argoproj.io,resources=workflows;cronworkflows;workflowtemplates,verbs=get;list;watch

// Family is the source family of Argo Workflows: runs (Workflows), schedules
// (CronWorkflows) and the WorkflowTemplates that carry an entity's label to their runs.
type Family struct{}

// Name implements sources.Family.
func (Family) Name() string { return FamilyName }

// KindsFor implements sources.Family. Argo CD shares the argoproj.io group, so only
// these three kinds are claimed.
func (Family) KindsFor(crd *apiextensionsv1.CustomResourceDefinition) []sources.Kind {
	if crd.Spec.Group != Group {
		return nil
	}
	version, ok := sources.StorageVersion(crd)
	if !ok {
		return nil
	}
	k := sources.Kind{Family: FamilyName}.WithGVK(Group, version, crd.Spec.Names.Kind)
	switch crd.Spec.Names.Kind {
	case KindWorkflow:
		k.Map = MapWorkflow
		k.KeepSpec = KeepSpecWorkflow()
		k.Trim = TrimWorkflow
		k.RunOf = RunOf
		k.Parents = starters
		k.Indexes = map[string]func(*unstructured.Unstructured) []string{IndexRunOwner: runOwners}
	case KindCronWorkflow:
		k.Map = MapCronWorkflow
		k.KeepSpec = KeepSpecCronWorkflow()
		k.Runs = runsOf(KindCronWorkflow)
	case KindWorkflowTemplate:
		k.Carrier = true
		k.Runs = runsOf(KindWorkflowTemplate)
	default:
		return nil
	}
	return []sources.Kind{k}
}

// runsOf finds the runs of a CronWorkflow or WorkflowTemplate through IndexRunOwner.
func runsOf(kind string) *sources.RunsOf {
	return &sources.RunsOf{
		RunKind:  schema.GroupKind{Group: Group, Kind: KindWorkflow},
		RunIndex: IndexRunOwner,
		RunKey:   func(obj *unstructured.Unstructured) string { return kind + "/" + obj.GetName() },
	}
}

// runOwners is IndexRunOwner's value of a Workflow.
func runOwners(obj *unstructured.Unstructured) []string {
	var keys []string
	labels := obj.GetLabels()
	if v := labels[LabelCronWorkflow]; v != "" {
		keys = append(keys, KindCronWorkflow+"/"+v)
	}
	if v := labels[LabelWorkflowTemplate]; v != "" {
		keys = append(keys, KindWorkflowTemplate+"/"+v)
	}
	return keys
}

// starters returns the CronWorkflow and WorkflowTemplate a run was started from, so that
// an event on an unlabelled run reaches the entity they are labelled for.
func starters(obj *unstructured.Unstructured) []sources.ObjectRef {
	var refs []sources.ObjectRef
	labels := obj.GetLabels()
	if v := labels[LabelCronWorkflow]; v != "" {
		refs = append(refs, sources.ObjectRef{Group: Group, Kind: KindCronWorkflow, Namespace: obj.GetNamespace(), Name: v})
	}
	if v := labels[LabelWorkflowTemplate]; v != "" {
		refs = append(refs, sources.ObjectRef{Group: Group, Kind: KindWorkflowTemplate, Namespace: obj.GetNamespace(), Name: v})
	}
	return refs
}
