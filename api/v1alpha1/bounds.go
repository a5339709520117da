package v1alpha1

import (
	"strings"
	"unicode/utf8"
)

// The bounds of a CatalogEntity's status, one for each string and list field: the table
// the controller cuts what it writes to, so that no source, however written, can make a
// status write fail validation, and one CatalogEntity stays far below etcd's object size
// limit however many sources it has.
//
// The CRD states each bound again in a +kubebuilder:validation marker on the field,
// because markers cannot name Go constants. TestStatusBounds reads the generated CRD and
// checks that every bounded field of status has its constant here, with the same value,
// and that no string or list field of status is left without a bound.
//
// The API server counts a maxLength in characters; the controller cuts to bytes, which
// is never more characters.
const (
	// MaxReadyLength bounds status.ready and every status.sources[].ready, a count
	// "<healthy>/<all>".
	MaxReadyLength = 32
	// MaxMessageLength bounds status.message and every status.sources[].message.
	MaxMessageLength = 1024
	// MaxRevisionLength bounds status.revision, the revisions Argo CD last synced.
	MaxRevisionLength = 1024
	// MaxClustersLength bounds status.clusters, the comma-separated destination
	// clusters.
	MaxClustersLength = 4096

	// MaxRelations is how many entity references status.relations holds at most.
	MaxRelations = 64
	// MaxRelationLength bounds each entry of status.relations, an entity reference.
	MaxRelationLength = MaxEntityRefLength

	// MaxStatusConditions is how many conditions status.conditions holds at most.
	MaxStatusConditions = 8
	// MaxConditionTypeLength bounds status.conditions[].type; like the next two it is
	// metav1.Condition's own bound, which the CRD takes from apimachinery.
	MaxConditionTypeLength = 316
	// MaxConditionReasonLength bounds status.conditions[].reason.
	MaxConditionReasonLength = 1024
	// MaxConditionMessageLength bounds status.conditions[].message.
	MaxConditionMessageLength = 32768

	// MaxStatusRuns is how many recent workflow runs status.runs keeps.
	MaxStatusRuns = 10
	// MaxRunPhaseLength bounds every status.runs[].phase and status.lastRun, which is
	// the phase of the newest run.
	MaxRunPhaseLength = 64

	// MaxStatusSources is how many entries status.sources lists at most; sourceCount
	// still tells the real number, and health is the worst over all of them.
	MaxStatusSources = 100
	// MaxSourceIDLength bounds status.sources[].id, <group>/<Kind>/<namespace>/<name>.
	MaxSourceIDLength = 512
	// MaxAPIVersionLength bounds status.sources[].apiVersion: a group of at most 253
	// characters, a slash and a version of at most 63.
	MaxAPIVersionLength = 317
	// MaxKindLength bounds status.sources[].kind.
	MaxKindLength = 63
	// MaxNamespaceLength bounds status.sources[].namespace and status.runs[].namespace,
	// Kubernetes namespace names.
	MaxNamespaceLength = 63
	// MaxNameLength bounds status.sources[].name and status.runs[].name, Kubernetes
	// object names.
	MaxNameLength = 253
	// MaxClusterLength bounds status.sources[].cluster, the cluster a source describes.
	MaxClusterLength = 253
	// MaxPhaseLength bounds status.sources[].phase, a kind's own word for where a source
	// is.
	MaxPhaseLength = 128
)

// The bounds of the spec fields the controller writes itself, when it creates an entity
// from its sources' annotations, and of the names it checks before it writes them.
// TestStatusBounds checks them against the CRD too, and TestValidatorsMatchCRDRules the
// entity name's, which is a CEL rule.
const (
	// MaxEntityNameLength bounds metadata.name, which is the Backstage entity name.
	MaxEntityNameLength = 63
	// MaxEntityRefLength bounds an EntityRef, such as spec.owner and spec.system.
	MaxEntityRefLength = 191
	// MaxTypeLength bounds spec.type.
	MaxTypeLength = 63
	// MaxLifecycleLength bounds spec.lifecycle.
	MaxLifecycleLength = 63
	// MaxTitleLength bounds spec.title.
	MaxTitleLength = 256
	// MaxDescriptionLength bounds spec.description.
	MaxDescriptionLength = 4096
)

// Truncate returns s as valid UTF-8 of at most maxBytes bytes: each run of bytes that
// is not UTF-8 becomes U+FFFD, and a longer text is cut at a character boundary. It is
// the one cut for every string the controller writes to a bounded field: the API server
// would store invalid UTF-8 as U+FFFD, so a value written unrepaired would never compare
// equal to what was stored and be written again on every reconcile.
func Truncate(s string, maxBytes int) string {
	if maxBytes <= 0 {
		return ""
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) <= maxBytes {
		return s
	}
	for maxBytes > 0 && !utf8.RuneStart(s[maxBytes]) {
		maxBytes--
	}
	return s[:maxBytes]
}
