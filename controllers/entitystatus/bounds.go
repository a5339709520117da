package entitystatus

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"slices"
	"sort"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

// This file cuts what status holds to the bounds of catalogv1alpha1 (bounds.go), the
// same table the CRD's markers state. Every string of a source, a run, a relation or a
// condition passes through here on its way into status, whoever wrote it: an
// Application's destination, a Workflow's phase, a claim's resourceRef and a
// spec.sources entry are all set by people, and one value over its bound would make the
// API server refuse every status write of the entity.
//
// Names and words are cut with catalogv1alpha1.Truncate; texts people read (messages,
// phases) with OneLine, which marks the cut with "…"; ids keep a hash of what was cut
// off, so that they stay unique.

// idHashLength is how many hex digits of the SHA-256 of a whole id end an id that had to
// be cut: 64 bits, so that the ids of one entity's sources, at most a few thousand,
// never meet by chance.
const idHashLength = 16

// idCutMark separates the kept part of a cut id from its hash.
const idCutMark = "…"

// BoundedID is the id status lists for a source whose id is id: id itself when it is
// valid UTF-8 within catalogv1alpha1.MaxSourceIDLength, else its first bytes, "…" and a
// hash of the whole id. Two ids that differ anywhere stay different (unless a hash
// collides), and the same id always gives the same result, so that status does not
// change between reconciles. Compare an id with a status entry's id through it.
func BoundedID(id string) string {
	if len(id) <= catalogv1alpha1.MaxSourceIDLength && utf8.ValidString(id) {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	hash := hex.EncodeToString(sum[:])[:idHashLength]
	keep := catalogv1alpha1.MaxSourceIDLength - len(idCutMark) - idHashLength
	return catalogv1alpha1.Truncate(id, keep) + idCutMark + hash
}

// boundSource returns s with every field within its bound: words outside the API's set
// become Unknown, names are cut, and the message and phase are made one line.
func boundSource(s catalogv1alpha1.SourceStatus) catalogv1alpha1.SourceStatus {
	s.ID = BoundedID(s.ID)
	s.APIVersion = catalogv1alpha1.Truncate(s.APIVersion, catalogv1alpha1.MaxAPIVersionLength)
	s.Kind = catalogv1alpha1.Truncate(s.Kind, catalogv1alpha1.MaxKindLength)
	s.Namespace = catalogv1alpha1.Truncate(s.Namespace, catalogv1alpha1.MaxNamespaceLength)
	s.Name = catalogv1alpha1.Truncate(s.Name, catalogv1alpha1.MaxNameLength)
	s.Cluster = catalogv1alpha1.Truncate(s.Cluster, catalogv1alpha1.MaxClusterLength)
	s.Health = Normalize(s.Health)
	s.Sync = normalizeSync(s.Sync)
	s.Phase = OneLine(s.Phase, catalogv1alpha1.MaxPhaseLength)
	s.Ready = catalogv1alpha1.Truncate(s.Ready, catalogv1alpha1.MaxReadyLength)
	s.Message = OneLine(s.Message, catalogv1alpha1.MaxMessageLength)
	return s
}

// boundRuns returns the first catalogv1alpha1.MaxStatusRuns runs with their names cut
// and their phases made one line; nil when there are none.
func boundRuns(in []catalogv1alpha1.RunStatus) []catalogv1alpha1.RunStatus {
	if len(in) == 0 {
		return nil
	}
	out := append([]catalogv1alpha1.RunStatus(nil), in[:min(len(in), catalogv1alpha1.MaxStatusRuns)]...)
	for i := range out {
		r := &out[i]
		r.Name = catalogv1alpha1.Truncate(r.Name, catalogv1alpha1.MaxNameLength)
		r.Namespace = catalogv1alpha1.Truncate(r.Namespace, catalogv1alpha1.MaxNamespaceLength)
		r.Phase = OneLine(r.Phase, catalogv1alpha1.MaxRunPhaseLength)
	}
	return out
}

// relations returns the distinct references, sorted and bounded; nil when none, so that
// an entity without relations compares equal to one that never had any. A reference
// longer than catalogv1alpha1.MaxRelationLength, or not UTF-8, is left out rather than
// cut: no entity has such a reference, and a cut one would name another entity.
func relations(in []string) []string {
	out := make([]string, 0, len(in))
	for _, r := range in {
		if r != "" && len(r) <= catalogv1alpha1.MaxRelationLength && utf8.ValidString(r) {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil
	}
	sort.Strings(out)
	out = slices.Compact(out)
	if len(out) > catalogv1alpha1.MaxRelations {
		out = out[:catalogv1alpha1.MaxRelations]
	}
	return out
}

// conditionReason is the pattern metav1.Condition's reason must match.
var conditionReason = regexp.MustCompile(`^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$`)

// reasonUnknown stands for a condition reason the API server would refuse.
const reasonUnknown = "Unknown"

// validReason returns reason when the API server accepts it as a condition's reason,
// else reasonUnknown.
func validReason(reason string) string {
	if len(reason) <= catalogv1alpha1.MaxConditionReasonLength && conditionReason.MatchString(reason) {
		return reason
	}
	return reasonUnknown
}

// ownConditions are the condition types Status sets.
var ownConditions = []string{
	catalogv1alpha1.ConditionReady, catalogv1alpha1.ConditionSynced, catalogv1alpha1.ConditionSourcesResolved,
}

// boundConditions cuts each condition's reason and message to its bound, and the list to
// catalogv1alpha1.MaxStatusConditions: conditions of types Status does not set, carried
// from the last status, go first, the last of them first.
func boundConditions(conds []metav1.Condition) []metav1.Condition {
	for i := range conds {
		c := &conds[i]
		c.Reason = validReason(c.Reason)
		c.Message = catalogv1alpha1.Truncate(c.Message, catalogv1alpha1.MaxConditionMessageLength)
	}
	for i := len(conds) - 1; i >= 0 && len(conds) > catalogv1alpha1.MaxStatusConditions; i-- {
		if !slices.Contains(ownConditions, conds[i].Type) {
			conds = slices.Delete(conds, i, i+1)
		}
	}
	return conds
}
