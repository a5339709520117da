// Package sources defines what a source kind is — a GroupVersionKind and a mapper that
// reads one object of it into a normalized health — and the registry that decides,
// from each CustomResourceDefinition, which kinds are sources. It is the first step of
// the way data flows (DESIGN.md §6): source object → mapper → entity status → write.
//
// Families of kinds plug in here, one package each: argocd, crossplane, workflows, and
// kstatus for the kinds named in configuration. They read objects with the helpers of
// fields, and their tests share sourcetest. Everything under sources is pure: object in,
// Result out, no client and no cluster; the watches and the entity reconciler wire it to
// the cluster.
package sources

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/sources/fields"
)

// Result is what a mapper reads from one source object.
type Result struct {
	// Health of the source, in Argo CD's words.
	Health catalogv1alpha1.Health
	// Sync state, for kinds that have one; empty otherwise.
	Sync catalogv1alpha1.SyncStatus
	// Phase is the kind's own word for where the object is, e.g. Running or ReconcileError.
	Phase string
	// Message says why the source is not healthy, or what was wrong with the object.
	Message string
	// Cluster the source describes, e.g. an Argo CD Application's destination.
	Cluster string
	// Revision deployed, for kinds that deploy one (Argo CD).
	Revision string
	// Deploys lists objects the source deploys (an Argo CD Application's resources): when
	// one of them belongs to another entity, this entity depends on that one.
	Deploys []ObjectRef
}

// ObjectRef names an object by group, kind, namespace and name; the namespace is empty
// for a cluster-scoped object.
type ObjectRef struct {
	// Group is the API group, empty for the core group; the version is not part of a
	// ref, as an object is the same object at every version.
	Group string
	// Kind, Namespace and Name name the object within its group.
	Kind, Namespace, Name string
}

// Key is the ref as an index value: <group>/<Kind>/<namespace>/<name>.
func (r ObjectRef) Key() string { return r.Group + "/" + r.Kind + "/" + r.Namespace + "/" + r.Name }

// IndexDeploys is the cache index of a kind whose objects deploy others (an Argo CD
// Application), by the Key of each object deployed that could be a source. An entity's
// relations come from what its sources deploy and the Backstage label of each of those
// objects: when such an object comes, goes or is labelled anew, or the entity it is
// labelled for comes or goes, the entities of what deploys it are recomputed through
// this index.
const IndexDeploys = "entityhub.deploys"

// DeployKeys returns the IndexDeploys values of refs: the Keys of those that could be
// sources (see CouldBeSource).
func DeployKeys(refs []ObjectRef) []string {
	var out []string
	for _, r := range refs {
		if CouldBeSource(r.Group) {
			out = append(out, r.Key())
		}
	}
	return out
}

// CouldBeSource reports whether objects of an API group could be sources. Source kinds
// are defined by CRDs, whose groups have a dot; the built-in kinds an Application
// deploys most of (Deployments, Services, ConfigMaps) never are.
func CouldBeSource(group string) bool { return strings.Contains(group, ".") }

// KeepAnnotations removes from obj, as it enters the cache, every annotation but those
// under catalogv1alpha1.AnnotationPrefix (catalog.entityhub.dev/owner and the others
// that fill the spec of the entity created for a source) and those named in keep;
// metadata.annotations goes when none is left. Annotations of another shape than a map are left for the mapper to report.
func KeepAnnotations(obj *unstructured.Unstructured, keep []string) {
	md, ok := obj.Object["metadata"].(map[string]any)
	if !ok {
		return
	}
	a, ok := md["annotations"].(map[string]any)
	if !ok {
		return
	}
	for k := range a {
		if !strings.HasPrefix(k, catalogv1alpha1.AnnotationPrefix) && !slices.Contains(keep, k) {
			delete(a, k)
		}
	}
	if len(a) == 0 {
		delete(md, "annotations")
	}
}

// KeepKeys removes from m every key keep does not hold: the one loop of the Trims that
// cut a status, or each of its conditions, down to what a mapper reads.
func KeepKeys(m map[string]any, keep map[string]bool) {
	for k := range m {
		if !keep[k] {
			delete(m, k)
		}
	}
}

// KeepMetadata removes from obj's metadata, as it enters the cache, every field but
// those the cache itself keeps (name, namespace, resourceVersion, labels, annotations)
// and those named: a kind's Trim names what its functions read, such as generation or
// ownerReferences, and drops creationTimestamp, finalizers and the like with it.
func KeepMetadata(obj *unstructured.Unstructured, read ...string) {
	md, ok := obj.Object["metadata"].(map[string]any)
	if !ok {
		return
	}
	for k := range md {
		switch k {
		case "name", "namespace", "resourceVersion", "labels", "annotations":
		default:
			if !slices.Contains(read, k) {
				delete(md, k)
			}
		}
	}
}

// Mapper reads one source object. It never panics and never fails: a malformed object
// yields Unknown with a message that says what was wrong with it.
type Mapper func(obj *unstructured.Unstructured) Result

// The names of the families of source kinds, defined here once so that the packages
// that weigh a source by its family (membership, to choose the kind of a new entity)
// need not import the families themselves. Each family package names its own as
// FamilyName.
const (
	// FamilyArgoCD is Argo CD's Applications and ApplicationSets (package argocd).
	FamilyArgoCD = "argocd"
	// FamilyCrossplane is Crossplane's managed resources, composites and claims
	// (package crossplane).
	FamilyCrossplane = "crossplane"
	// FamilyWorkflows is Argo Workflows' runs, schedules and templates (package
	// workflows).
	FamilyWorkflows = "workflows"
	// FamilyConfig is the kinds named in configuration, read with kstatus (package
	// kstatus).
	FamilyConfig = "config"
)

// Kind is a kind of source object and how to read it.
type Kind struct {
	// GVK is the kind watched, at the version it is read at.
	GVK schema.GroupVersionKind
	// Family names where the kind came from, one of the Family* names; it labels
	// metrics.
	Family string
	// Map reads one object of the kind.
	Map Mapper
	// KeepSpec lists the fields under .spec that Map reads, each as a path of keys. The
	// cache keeps only those, so memory grows with what is read, not with what sources
	// hold. Nil keeps no spec at all.
	KeepSpec [][]string
	// Annotations lists the annotations the kind's functions (Map, Children, Parents,
	// RunOf, Indexes) read. The cache keeps only those and the catalog.entityhub.dev/
	// ones (see KeepAnnotations), so that what tools record in annotations — Argo CD's
	// notification state, Crossplane's external names — costs no memory.
	Annotations []string
	// Trim, when set, drops from an object as it enters the cache the parts of its status
	// that Map never reads (an Application's sync history, a finished Workflow's node
	// graph), so that memory follows what is read. It must be idempotent and must not
	// change what Map returns.
	Trim func(obj *unstructured.Unstructured)
	// Children, for kinds made of other objects (Crossplane claims and composites),
	// returns what an object is made of; those objects belong to its entity too.
	Children func(obj *unstructured.Unstructured) []ObjectRef
	// Parents, for kinds that are parts of others (composed resources, composites),
	// returns what an object is part of, so that an event on a part reaches the entity
	// of the whole.
	Parents func(obj *unstructured.Unstructured) []ObjectRef
	// RunOf, for kinds whose objects are runs (Argo Workflows), reads one run: of the
	// runs of one group only the newest (Run.Newer) counts toward health, so that a
	// failure that a later run fixed does not keep an entity Degraded.
	RunOf func(obj *unstructured.Unstructured) (Run, bool)
	// Indexes are cache indexes to add to the kind's informer, by name.
	Indexes map[string]func(obj *unstructured.Unstructured) []string
	// Carrier kinds (a WorkflowTemplate) are no source themselves — they have no status —
	// but carry membership: their runs join the entity they are labelled for.
	Carrier bool
	// Runs, for kinds that start runs (a CronWorkflow, a WorkflowTemplate), finds an
	// object's runs: objects of kind RunKind in its namespace whose index RunIndex holds
	// RunKey(obj). Its runs belong to its entity.
	Runs *RunsOf
}

// RunsOf says where the runs of an object are.
type RunsOf struct {
	// RunKind is the kind of the runs, such as Argo Workflows' Workflow.
	RunKind schema.GroupKind
	// RunIndex is the cache index of RunKind that finds an object's runs.
	RunIndex string
	// RunKey is the value of RunIndex under which obj's runs are.
	RunKey func(obj *unstructured.Unstructured) string
}

// Run is one run of something scheduled or templated, such as an Argo Workflows
// Workflow, as the engine weighs it against the other runs of the same Group: only the
// newest run of each group counts toward health (see Newer).
type Run struct {
	// Group is what the run is one of, such as a cron schedule or a template, within
	// one namespace; each family says how it groups its runs.
	Group string
	// Name and Namespace of the run's object.
	Name, Namespace string
	// Phase is the run's own word for where it is, such as Succeeded; "" when unknown.
	Phase string
	// Created is metadata.creationTimestamp, which orders runs: unlike a start time it
	// is set from the start, by the API server, on every run. Zero when unknown.
	Created time.Time
	// Started and Finished are when the run started and finished, in UTC; zero when
	// unknown.
	Started, Finished time.Time
}

// Newer reports whether run a is to count rather than b, a run of the same Group: only
// the newest run of a group counts toward health, so that a failure a later run fixed
// does not keep an entity Degraded, and status.runs lists runs newest first. It
// compares, in order, until one differs:
//
//  1. Created, the later winning. A run without a creation time is older than any with
//     one.
//  2. Name, the greater winning: timestamps have no finer grain than a second, and a
//     CronWorkflow names its runs <cron>-<unix time>, so of runs created in the same
//     second the later name is the later run.
//  3. Namespace, the greater winning, so that runs of two namespaces are ordered too.
//  4. Started, then
//  5. Finished, the later winning: the same run read twice, and the copy that got
//     further counts.
//  6. Phase, the greater winning, so that only equal runs are left undecided.
//
// Newer is thus a strict total order over the runs of a group that differ in any of
// these fields: keeping the newer of each pair, or sorting by it, gives one answer
// whatever the order the runs were listed in.
func (a Run) Newer(b Run) bool {
	switch {
	case !a.Created.Equal(b.Created):
		return a.Created.After(b.Created)
	case a.Name != b.Name:
		return a.Name > b.Name
	case a.Namespace != b.Namespace:
		return a.Namespace > b.Namespace
	case !a.Started.Equal(b.Started):
		return a.Started.After(b.Started)
	case !a.Finished.Equal(b.Finished):
		return a.Finished.After(b.Finished)
	}
	return a.Phase > b.Phase
}

// WithGVK returns k reading group/version/kind.
func (k Kind) WithGVK(group, version, kind string) Kind {
	k.GVK = schema.GroupVersionKind{Group: group, Version: version, Kind: kind}
	return k
}

// Family decides which CustomResourceDefinitions define source kinds.
type Family interface {
	// Name labels the kinds the family finds.
	Name() string
	// KindsFor returns the source kinds crd defines; none when the family does not
	// claim it.
	KindsFor(crd *apiextensionsv1.CustomResourceDefinition) []Kind
}

// Registry asks each family, in order, which kinds a CRD defines; the first family that
// claims a CRD wins, so a kind is never watched twice.
type Registry struct {
	families []Family
}

// NewRegistry returns a registry over families, asked in the order given.
func NewRegistry(families ...Family) *Registry {
	return &Registry{families: families}
}

// KindsFor returns the source kinds crd defines, or nil.
func (r *Registry) KindsFor(crd *apiextensionsv1.CustomResourceDefinition) []Kind {
	for _, f := range r.families {
		if kinds := f.KindsFor(crd); len(kinds) > 0 {
			return kinds
		}
	}
	return nil
}

// Families returns the names of the registry's families, for logs.
func (r *Registry) Families() []string {
	names := make([]string, 0, len(r.families))
	for _, f := range r.families {
		names = append(names, f.Name())
	}
	return names
}

// Unknown is the result for an object that cannot be read: Unknown, with why as the
// message, made printable, since an object built in code can carry any bytes.
func Unknown(why string) Result {
	return Result{Health: catalogv1alpha1.HealthUnknown, Message: fields.Printable(why)}
}

// SafeMap runs m on obj, which every mapper does, so that no object, however malformed,
// can stop the manager: a nil object is Unknown with the message "no object" and never
// reaches m, and a panic in m is Unknown with a message saying what it was.
func SafeMap(m Mapper, obj *unstructured.Unstructured) (res Result) {
	if obj == nil {
		return Unknown("no object")
	}
	defer func() {
		if r := recover(); r != nil {
			res = Unknown(fmt.Sprintf("cannot read this object: %v", r))
		}
	}()
	return m(obj)
}

// StorageVersion returns the version crd stores its objects at, or its first served
// version: reading at the storage version needs no conversion webhook.
func StorageVersion(crd *apiextensionsv1.CustomResourceDefinition) (string, bool) {
	for _, v := range crd.Spec.Versions {
		if v.Storage && v.Served {
			return v.Name, true
		}
	}
	for _, v := range crd.Spec.Versions {
		if v.Served {
			return v.Name, true
		}
	}
	return "", false
}

// Serves reports whether crd serves version.
func Serves(crd *apiextensionsv1.CustomResourceDefinition, version string) bool {
	for _, v := range crd.Spec.Versions {
		if v.Name == version && v.Served {
			return true
		}
	}
	return false
}

// ParseGVK parses "<apiVersion>/<Kind>", such as tf.upbound.io/v1beta1/Workspace or
// v1/ConfigMap, the way kinds are named in flags.
func ParseGVK(s string) (schema.GroupVersionKind, error) {
	i := strings.LastIndex(s, "/")
	if i <= 0 || i == len(s)-1 {
		return schema.GroupVersionKind{}, fmt.Errorf("%q is not <apiVersion>/<Kind>, such as tf.upbound.io/v1beta1/Workspace", s)
	}
	gv, err := schema.ParseGroupVersion(s[:i])
	if err != nil || gv.Version == "" {
		return schema.GroupVersionKind{}, fmt.Errorf("%q is not <apiVersion>/<Kind>, such as tf.upbound.io/v1beta1/Workspace", s)
	}
	return gv.WithKind(s[i+1:]), nil
}

// Static is a family of kinds named up front, such as in the --source-kind flag, each
// read with its own mapper.
type Static struct {
	// FamilyName is the family's Name, such as FamilyConfig; it is set as the Family
	// of each of its kinds.
	FamilyName string
	// Kinds are the kinds named, each with its mapper.
	Kinds []Kind
}

// Name implements Family.
func (s *Static) Name() string { return s.FamilyName }

// KindsFor implements Family: the named kinds crd defines and serves.
func (s *Static) KindsFor(crd *apiextensionsv1.CustomResourceDefinition) []Kind {
	var out []Kind
	for _, k := range s.Kinds {
		if k.GVK.Group == crd.Spec.Group && k.GVK.Kind == crd.Spec.Names.Kind && Serves(crd, k.GVK.Version) {
			k.Family = s.FamilyName
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GVK.String() < out[j].GVK.String() })
	return out
}
