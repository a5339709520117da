// Package argocd reads Argo CD's Applications and ApplicationSets (DESIGN.md §4). It
// reads them as unstructured objects rather than through Argo CD's Go types: importing
// Argo CD's module would tie entityhub to one Argo CD release and pull in most of its
// dependencies, while the few fields read here keep their shape across releases.
package argocd

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/sources"
	"github.com/entityhub/entityhub/controllers/sources/fields"
)

// FamilyName labels Argo CD's kinds, in metrics and in sources.Kind.Family.
const FamilyName = sources.FamilyArgoCD

// Group is the API group of Argo CD's kinds; it is how a CustomResourceDefinition is
// recognised as Argo CD's, whichever version it serves.
const Group = "argoproj.io"

// Messages for objects Argo CD has not said anything about yet. They are constants
// because people and tests look for them.
const (
	// MessageNotReconciled is the message of an Application Argo CD has not assessed
	// yet: one just created, or one Argo CD's controller does not watch (another
	// namespace, another instance, the controller down).
	MessageNotReconciled = "not yet reconciled by Argo CD"
	// MessageNoStatus is the message of an ApplicationSet whose controller has not
	// written a status yet.
	MessageNoStatus = "no status yet"
)

// ClusterNamer resolves an Application's destination server URL to the name Argo CD
// knows the cluster by; it returns "" when it knows none. It is a function rather than
// a map because the names come from Argo CD's cluster Secrets, which change while
// Applications are read (see ClusterNames.Name). A nil ClusterNamer resolves nothing.
type ClusterNamer func(server string) string

// KeepSpecApplication returns the fields under an Application's .spec that
// MapApplication reads, for sources.Kind.KeepSpec: only the destination. An
// Application's spec can hold whole Helm values files and Kustomize patches, and the
// cache keeps one copy per Application, so everything else is dropped.
func KeepSpecApplication() [][]string {
	return [][]string{{"destination"}}
}

// healthWords are Argo CD's health words, which are also the API's: a health Argo CD
// reports is passed through as is.
var healthWords = map[string]catalogv1alpha1.Health{
	string(catalogv1alpha1.HealthHealthy):     catalogv1alpha1.HealthHealthy,
	string(catalogv1alpha1.HealthSuspended):   catalogv1alpha1.HealthSuspended,
	string(catalogv1alpha1.HealthProgressing): catalogv1alpha1.HealthProgressing,
	string(catalogv1alpha1.HealthMissing):     catalogv1alpha1.HealthMissing,
	string(catalogv1alpha1.HealthDegraded):    catalogv1alpha1.HealthDegraded,
	string(catalogv1alpha1.HealthUnknown):     catalogv1alpha1.HealthUnknown,
}

// syncWords are Argo CD's sync words, which are also the API's.
var syncWords = map[string]catalogv1alpha1.SyncStatus{
	string(catalogv1alpha1.SyncSynced):    catalogv1alpha1.SyncSynced,
	string(catalogv1alpha1.SyncOutOfSync): catalogv1alpha1.SyncOutOfSync,
	string(catalogv1alpha1.SyncUnknown):   catalogv1alpha1.SyncUnknown,
}

// failedPhases are the operation phases whose message says why a sync did not work;
// a Running or Succeeded operation's message ("successfully synced") explains nothing.
var failedPhases = map[string]bool{"Failed": true, "Error": true}

// MapApplication reads an Argo CD Application. Health and sync are Argo CD's own words,
// passed through; the message is the first of status.health.message, the first error
// condition (ComparisonError, SyncError, InvalidSpecError, ...) and the message of a
// failed operation — so a Healthy Application whose manifests no longer render still
// says why. The cluster is the destination's name, else its server resolved through
// clusters, else the server URL itself.
//
// An Application without a health (just created, or not watched by any Argo CD
// controller) is Unknown, never Healthy: nothing has checked it. A field that is not
// what Argo CD writes (a number for a string, an object for a list) makes it Unknown
// with a message naming the field. MapApplication never panics and never modifies obj,
// which comes from the informer cache.
func MapApplication(obj *unstructured.Unstructured, clusters ClusterNamer) sources.Result {
	// SafeMap guards against clusters, which is the caller's code, as much as this
	// package's.
	return sources.SafeMap(func(obj *unstructured.Unstructured) sources.Result {
		return mapApplication(obj, clusters)
	}, obj)
}

// mapApplication is MapApplication without the guard against panics.
func mapApplication(obj *unstructured.Unstructured, clusters ClusterNamer) sources.Result {
	r := &reader{}
	status, _ := r.Object(obj.Object, "status", "status")
	h := r.health(status)
	sync, syncNote := r.sync(status)
	revision := r.revision(status)
	phase, opMessage := r.operation(status)
	condMessage := r.errorCondition(status)
	cluster := r.cluster(obj.Object, clusters)

	res := sources.Result{
		Sync:     sync,
		Phase:    fields.Printable(phase),
		Cluster:  fields.Printable(cluster),
		Revision: fields.Printable(revision),
	}
	if r.Problem() != "" {
		res.Health = catalogv1alpha1.HealthUnknown
		res.Message = fields.Printable(r.Problem())
		return res
	}
	res.Health = h.health
	// The health's own message first: it is Argo CD's summary. Argo CD 3 leaves it
	// empty, and then an error condition is what a person can act on.
	message := fields.FirstNonEmpty(h.message, condMessage)
	if failedPhases[phase] {
		message = fields.FirstNonEmpty(message, opMessage)
	}
	switch {
	case h.note != "":
		message = fields.Join(h.note, message)
	case h.word == "" && message == "":
		message = MessageNotReconciled
	}
	if message == "" {
		message = syncNote
	}
	res.Message = fields.Printable(message)
	return res
}

// MapApplicationSet reads an Argo CD ApplicationSet; it is a sources.Mapper. An
// ApplicationSet has no health of its own in today's Argo CD, so unless
// status.health.status is set (by a later Argo CD, or by a health check that writes
// it), health comes from its conditions, worst first: ErrorOccurred=True is Degraded
// (its templates or generators fail, so its Applications are not what Git says),
// RolloutProgressing=True is Progressing, ResourcesUpToDate=True is Healthy. The phase
// is the deciding condition's reason, else its type. It has no sync state, cluster or
// revision: its Applications have, and they are sources of their own.
//
// Like MapApplication it never panics, never modifies obj, and makes a malformed
// field Unknown with a message naming it.
func MapApplicationSet(obj *unstructured.Unstructured) sources.Result {
	return sources.SafeMap(mapApplicationSet, obj)
}

// appSetVerdicts are the conditions that decide an ApplicationSet's health when they
// are True, worst first, so that an error is never hidden by a rollout or by a
// ResourcesUpToDate left over from before it.
var appSetVerdicts = []struct {
	condition string
	health    catalogv1alpha1.Health
}{
	{"ErrorOccurred", catalogv1alpha1.HealthDegraded},
	{"RolloutProgressing", catalogv1alpha1.HealthProgressing},
	{"ResourcesUpToDate", catalogv1alpha1.HealthHealthy},
}

// mapApplicationSet is MapApplicationSet without the guard against panics.
func mapApplicationSet(obj *unstructured.Unstructured) sources.Result {
	r := &reader{}
	status, _ := r.Object(obj.Object, "status", "status")
	h := r.health(status)
	conds := r.Conditions(status, true)
	if r.Problem() != "" {
		return sources.Unknown(r.Problem())
	}

	var decided *fields.Condition
	var health catalogv1alpha1.Health
	for _, v := range appSetVerdicts {
		if c, ok := fields.FirstTrue(conds, v.condition); ok {
			decided, health = &c, v.health
			break
		}
	}

	res := sources.Result{}
	if decided != nil {
		res.Phase = fields.Printable(fields.FirstNonEmpty(decided.Reason, decided.Type))
	}
	switch {
	case h.word != "":
		// A health written on the object is someone's considered verdict; the
		// conditions only explain it.
		res.Health = h.health
		message := h.message
		if decided != nil {
			message = fields.FirstNonEmpty(message, decided.Message)
		}
		res.Message = fields.Printable(fields.Join(h.note, message))
	case decided != nil:
		res.Health = health
		res.Message = fields.Printable(decided.Message)
	case len(conds) == 0:
		res.Health = catalogv1alpha1.HealthUnknown
		res.Message = MessageNoStatus
	default:
		// Conditions, but none that says how the ApplicationSet is doing, e.g. only
		// ParametersGenerated.
		res.Health = catalogv1alpha1.HealthUnknown
		res.Message = "none of ErrorOccurred, RolloutProgressing or ResourcesUpToDate is True"
	}
	return res
}

// healthStatus is what status.health says.
type healthStatus struct {
	// word is status.health.status as written; "" when it is not set.
	word string
	// health is word when it is one of the six, else Unknown.
	health catalogv1alpha1.Health
	// message is status.health.message.
	message string
	// note says why health is Unknown although word is set.
	note string
}

// health reads status.health, which Applications and ApplicationSets share.
func (r *reader) health(status map[string]any) healthStatus {
	h := healthStatus{health: catalogv1alpha1.HealthUnknown}
	hs, _ := r.Object(status, "health", "status.health")
	h.word, _ = r.Str(hs, "status", "status.health.status")
	h.message, _ = r.Str(hs, "message", "status.health.message")
	if h.word == "" {
		return h
	}
	if known, ok := healthWords[h.word]; ok {
		h.health = known
	} else {
		// A word a later Argo CD or a custom health check might write: say which,
		// rather than guess where it ranks.
		h.note = fmt.Sprintf("Argo CD reports health %q, which entityhub does not know", h.word)
	}
	return h
}

// sync reads status.sync.status. It returns "" only when status.sync is absent, as
// for an Application Argo CD has never compared; a sync state that is there but not
// readable is Unknown, with a note for the message when the word is merely unknown.
func (r *reader) sync(status map[string]any) (catalogv1alpha1.SyncStatus, string) {
	if status["sync"] == nil {
		return "", ""
	}
	ss, ok := r.Object(status, "sync", "status.sync")
	if !ok {
		return catalogv1alpha1.SyncUnknown, "" // r has the problem
	}
	word, _ := r.Str(ss, "status", "status.sync.status")
	if known, ok := syncWords[word]; ok {
		return known, ""
	}
	if word == "" {
		return catalogv1alpha1.SyncUnknown, ""
	}
	return catalogv1alpha1.SyncUnknown, fmt.Sprintf("Argo CD reports sync status %q, which entityhub does not know", word)
}

// revision reads the revision Argo CD compared against: status.sync.revisions, one per
// source, for an Application with several sources, else status.sync.revision.
func (r *reader) revision(status map[string]any) string {
	ss, _ := r.Object(status, "sync", "status.sync")
	single, _ := r.Str(ss, "revision", "status.sync.revision")
	list, _ := r.List(ss, "revisions", "status.sync.revisions")
	if len(list) == 0 {
		return single
	}
	revs := make([]string, len(list))
	for i, v := range list {
		path := fmt.Sprintf("status.sync.revisions[%d]", i)
		if v == nil {
			// Keep the place: the revisions line up with spec.sources.
			continue
		}
		s, ok := r.StrValue(v, path)
		if !ok {
			return ""
		}
		revs[i] = s
	}
	return strings.Join(revs, ",")
}

// operation reads status.operationState: its phase, and its message, which says why
// the last sync failed when it did.
func (r *reader) operation(status map[string]any) (phase, message string) {
	op, _ := r.Object(status, "operationState", "status.operationState")
	phase, _ = r.Str(op, "phase", "status.operationState.phase")
	message, _ = r.Str(op, "message", "status.operationState.message")
	return phase, message
}

// errorCondition returns "<type>: <message>" for the first condition whose type ends in
// Error (ComparisonError, SyncError, InvalidSpecError, UnknownError, ...), or "".
// Warnings such as OrphanedResourceWarning are left out: they need no action for the
// Application to work.
func (r *reader) errorCondition(status map[string]any) string {
	for _, c := range r.Conditions(status, true) {
		if strings.HasSuffix(c.Type, "Error") {
			return c.Summary()
		}
	}
	return ""
}

// cluster reads the Application's destination cluster. spec.destination is the only
// part of spec read here (see KeepSpecApplication): Argo CD takes the name when both
// are set, and a server is resolved the way Argo CD resolves it, through its cluster
// Secrets, with the in-cluster URL named as Argo CD names it when no Secret does.
func (r *reader) cluster(obj map[string]any, clusters ClusterNamer) string {
	spec, _ := r.Object(obj, "spec", "spec")
	dest, _ := r.Object(spec, "destination", "spec.destination")
	name, _ := r.Str(dest, "name", "spec.destination.name")
	server, _ := r.Str(dest, "server", "spec.destination.server")
	if name != "" {
		return name
	}
	if server == "" {
		return ""
	}
	if clusters != nil {
		if n := clusters(server); n != "" {
			return n
		}
	}
	if strings.TrimRight(server, "/") == InClusterServer {
		return InClusterName
	}
	// An unresolved URL still tells a person where the Application deploys.
	return server
}

// reader reads an Application's or ApplicationSet's fields; its own methods read the
// parts of status that Argo CD's two kinds share. Argo CD omits empty fields, so a
// missing field is never a problem, and objects built in code are read leniently (see
// fields.Reader).
type reader struct {
	fields.Reader
}
