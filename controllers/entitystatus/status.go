package entitystatus

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

// MessageNoSources is the entity message while nothing belongs to it.
const MessageNoSources = "no sources found"

// MessageResolved is the SourcesResolved message when every spec.sources entry was read.
const MessageResolved = "every spec.sources entry was read"

// messageNoSyncState is the Synced condition's message when sources exist but none of
// them has a sync state (Crossplane resources and workflows have none).
const messageNoSyncState = "no source has a sync state"

// joinUnique joins the distinct non-empty values, sorted and comma-separated, within
// maxBytes; what does not fit is counted as "+N more". Each value is cut to maxBytes
// first.
func joinUnique(values []string, maxBytes int) string {
	set := make(map[string]bool, len(values))
	var uniq []string
	for _, v := range values {
		v = catalogv1alpha1.Truncate(v, maxBytes)
		if v != "" && !set[v] {
			set[v] = true
			uniq = append(uniq, v)
		}
	}
	sort.Strings(uniq)
	joined := strings.Join(uniq, ",")
	if len(joined) <= maxBytes {
		return joined
	}
	for n := len(uniq) - 1; n > 0; n-- {
		s := strings.Join(uniq[:n], ",") + fmt.Sprintf(",+%d more", len(uniq)-n)
		if len(s) <= maxBytes {
			return s
		}
	}
	return OneLine(uniq[0], maxBytes)
}

// Input is everything the entity status is computed from.
type Input struct {
	// Generation is the entity's metadata.generation.
	Generation int64
	// Sources are the entity's sources, in any order, possibly more than status lists.
	Sources []catalogv1alpha1.SourceStatus
	// Revisions are the revisions its sources deploy (Argo CD), in any order.
	Revisions []string
	// Relations are references of entities this one depends on, found from what its
	// sources deploy.
	Relations []string
	// LastRun is the phase of the entity's newest workflow run.
	LastRun string
	// Runs are the entity's recent workflow runs, newest first; status keeps the first
	// catalogv1alpha1.MaxStatusRuns.
	Runs []catalogv1alpha1.RunStatus
	// Unresolved are the spec.sources entries that could not be read, in spec order.
	Unresolved []Unresolved
	// Now stamps transitions: a condition or source whose state changed gets it, one
	// whose state did not keeps the time it had.
	Now metav1.Time
}

// Unresolved is a spec.sources entry that could not be read: a SourcesResolved reason
// (catalogv1alpha1.Reason*) and a message that names the entry.
type Unresolved struct {
	// Reason says what is wrong with the entry, one of catalogv1alpha1.Reason*.
	Reason string
	// Message names the entry, by its index in spec.sources, and says what to fix.
	Message string
}

// Summary is the entity-level answer to "how is it doing", from its sources alone.
type Summary struct {
	// Health is the worst health of the sources; Unknown when there are none.
	Health catalogv1alpha1.Health
	// Sync is the worst sync state over the sources that have one; empty when none has.
	Sync catalogv1alpha1.SyncStatus
	// Ready is "<healthy sources>/<sources>".
	Ready string
	// Message names the worst source and says why, on one line within
	// catalogv1alpha1.MaxMessageLength.
	Message string
	// SyncMessage names the worst source that is not Synced; empty when none is.
	SyncMessage string
}

// Summarize computes worst-of health and sync, the ready count and one message naming
// the worst source. Sources must already be normalized (see Status).
func Summarize(sources []catalogv1alpha1.SourceStatus) Summary {
	if len(sources) == 0 {
		return Summary{Health: catalogv1alpha1.HealthUnknown, Ready: "0/0", Message: MessageNoSources}
	}
	var (
		sum                          = Summary{Health: catalogv1alpha1.HealthHealthy}
		healthy                      int
		worst, worstSync             *catalogv1alpha1.SourceStatus
		sameAsWorst, sameAsWorstSync int
	)
	for i := range sources {
		s := &sources[i]
		if s.Health == catalogv1alpha1.HealthHealthy {
			healthy++
		}
		switch {
		case worst == nil || Rank(s.Health) > Rank(worst.Health):
			worst, sameAsWorst = s, 0
		case Rank(s.Health) == Rank(worst.Health):
			sameAsWorst++
		}
		if SyncRank(s.Sync) > 0 {
			switch {
			case worstSync == nil || SyncRank(s.Sync) > SyncRank(worstSync.Sync):
				worstSync, sameAsWorstSync = s, 0
			case SyncRank(s.Sync) == SyncRank(worstSync.Sync):
				sameAsWorstSync++
			}
		}
		sum.Sync = WorstSync(sum.Sync, s.Sync)
	}
	sum.Health = worst.Health
	if worstSync != nil {
		sum.SyncMessage = OneLine(describe(worstSync, string(worstSync.Sync), "", sameAsWorstSync), catalogv1alpha1.MaxMessageLength)
	}
	sum.Ready = fmt.Sprintf("%d/%d", healthy, len(sources))
	switch {
	case worst.Health != catalogv1alpha1.HealthHealthy:
		sum.Message = describe(worst, string(worst.Health), worst.Message, sameAsWorst)
	case worstSync != nil:
		sum.Message = sum.SyncMessage
	case len(sources) == 1:
		sum.Message = describe(worst, string(worst.Health), "", 0)
	default:
		sum.Message = fmt.Sprintf("all %d sources are Healthy", len(sources))
	}
	sum.Message = OneLine(sum.Message, catalogv1alpha1.MaxMessageLength)
	return sum
}

// describe writes "<Kind> <namespace>/<name> is <state>: <why> (and N more)".
func describe(s *catalogv1alpha1.SourceStatus, state, why string, more int) string {
	var b strings.Builder
	b.WriteString(SourceLabel(s))
	b.WriteString(" is ")
	b.WriteString(state)
	if why != "" {
		b.WriteString(": ")
		b.WriteString(why)
	}
	if more > 0 {
		fmt.Fprintf(&b, " (and %d more %s)", more, state)
	}
	return b.String()
}

// SourceLabel names a source the way a person would look it up: its kind, namespace and
// name, and the cluster when the source describes another cluster.
func SourceLabel(s *catalogv1alpha1.SourceStatus) string {
	name := s.Name
	if s.Namespace != "" {
		name = s.Namespace + "/" + s.Name
	}
	label := s.Kind + " " + name
	if s.Cluster != "" {
		label += " on " + s.Cluster
	}
	return label
}

// Status computes the entity's status from what it was and its sources. Sources are
// normalized (valid words, every field cut to its bound, one-line messages, one entry
// per id, the worse kept), sorted worst first, and bounded to MaxStatusSources; health,
// sync, ready and message still account for all of them. Every string of the result is
// within its bound in catalogv1alpha1 (see bounds.go), whatever the input.
func Status(prev catalogv1alpha1.CatalogEntityStatus, in Input) catalogv1alpha1.CatalogEntityStatus {
	sources := normalize(in.Sources)
	carryTransitions(prev.Sources, sources, in.Now)
	sum := Summarize(sources)

	next := *prev.DeepCopy()
	next.Health = sum.Health
	next.Sync = sum.Sync
	next.Ready = catalogv1alpha1.Truncate(sum.Ready, catalogv1alpha1.MaxReadyLength)
	next.Message = sum.Message
	next.ObservedGeneration = in.Generation
	next.SourceCount = int32(len(sources))
	next.Revision = joinUnique(in.Revisions, catalogv1alpha1.MaxRevisionLength)
	clusters := make([]string, 0, len(sources))
	for _, s := range sources {
		clusters = append(clusters, s.Cluster)
	}
	next.Clusters = joinUnique(clusters, catalogv1alpha1.MaxClustersLength)
	next.Relations = relations(in.Relations)
	next.LastRun = OneLine(in.LastRun, catalogv1alpha1.MaxRunPhaseLength)
	next.Runs = boundRuns(in.Runs)
	if len(sources) > catalogv1alpha1.MaxStatusSources {
		sources = sources[:catalogv1alpha1.MaxStatusSources]
	}
	next.Sources = nil
	if len(sources) > 0 {
		next.Sources = sources
	}
	setConditions(&next, sum, len(sources) == 0, in)
	next.Conditions = boundConditions(next.Conditions)
	return next
}

// normalize returns a sorted copy of sources with valid words and every field within
// its bound, one entry per id (as cut, see BoundedID): readers (Backstage, people,
// scripts) take the id as the key of a source.
func normalize(in []catalogv1alpha1.SourceStatus) []catalogv1alpha1.SourceStatus {
	byID := make(map[string]int, len(in))
	out := make([]catalogv1alpha1.SourceStatus, 0, len(in))
	for _, s := range in {
		s = boundSource(s)
		if i, dup := byID[s.ID]; dup {
			if Rank(s.Health) > Rank(out[i].Health) {
				out[i] = s
			}
			continue
		}
		byID[s.ID] = len(out)
		out = append(out, s)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if ri, rj := Rank(out[i].Health), Rank(out[j].Health); ri != rj {
			return ri > rj
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// carryTransitions keeps a source's lastTransitionTime while its health stays the same,
// and stamps now when it changed or the source is new, so that an unchanged source
// compares equal to what was written before.
func carryTransitions(prev, next []catalogv1alpha1.SourceStatus, now metav1.Time) {
	before := make(map[string]*catalogv1alpha1.SourceStatus, len(prev))
	for i := range prev {
		before[prev[i].ID] = &prev[i]
	}
	for i := range next {
		if p, ok := before[next[i].ID]; ok && p.Health == next[i].Health && p.LastTransitionTime != nil {
			t := *p.LastTransitionTime
			next[i].LastTransitionTime = &t
			continue
		}
		t := now
		next[i].LastTransitionTime = &t
	}
}

// setConditions sets Ready, Synced and SourcesResolved. meta.SetStatusCondition keeps a
// condition's lastTransitionTime unless its status flips, so repeating the same input
// changes nothing.
func setConditions(st *catalogv1alpha1.CatalogEntityStatus, sum Summary, noSources bool, in Input) {
	ready := metav1.ConditionFalse
	if st.Health == catalogv1alpha1.HealthHealthy {
		ready = metav1.ConditionTrue
	}
	meta.SetStatusCondition(&st.Conditions, metav1.Condition{
		Type:               catalogv1alpha1.ConditionReady,
		Status:             ready,
		Reason:             string(st.Health),
		Message:            st.Message,
		ObservedGeneration: in.Generation,
		LastTransitionTime: in.Now,
	})

	synced := metav1.Condition{
		Type:               catalogv1alpha1.ConditionSynced,
		ObservedGeneration: in.Generation,
		LastTransitionTime: in.Now,
	}
	switch {
	case noSources:
		synced.Status, synced.Reason, synced.Message = metav1.ConditionFalse, string(catalogv1alpha1.SyncUnknown), MessageNoSources
	case st.Sync == "":
		synced.Status, synced.Reason, synced.Message = metav1.ConditionUnknown, string(catalogv1alpha1.SyncUnknown), messageNoSyncState
	case st.Sync == catalogv1alpha1.SyncSynced:
		synced.Status, synced.Reason, synced.Message = metav1.ConditionTrue, string(st.Sync), "every source with a sync state is Synced"
	default:
		synced.Status, synced.Reason, synced.Message = metav1.ConditionFalse, string(st.Sync), sum.SyncMessage
	}
	meta.SetStatusCondition(&st.Conditions, synced)
	meta.SetStatusCondition(&st.Conditions, resolvedCondition(in.Unresolved, in.Generation, in.Now))
}

// maxUnresolvedListed bounds how many entries the SourcesResolved message spells out.
const maxUnresolvedListed = 3

// resolvedCondition is SourcesResolved: True when every spec.sources entry was read,
// else False with the first entry's reason and a message naming the entries, the first
// few in full.
func resolvedCondition(unresolved []Unresolved, generation int64, now metav1.Time) metav1.Condition {
	c := metav1.Condition{
		Type:               catalogv1alpha1.ConditionSourcesResolved,
		Status:             metav1.ConditionTrue,
		Reason:             catalogv1alpha1.ReasonResolved,
		Message:            MessageResolved,
		ObservedGeneration: generation,
		LastTransitionTime: now,
	}
	if len(unresolved) == 0 {
		return c
	}
	parts := make([]string, 0, maxUnresolvedListed+1)
	for _, u := range unresolved[:min(len(unresolved), maxUnresolvedListed)] {
		parts = append(parts, u.Message)
	}
	if more := len(unresolved) - maxUnresolvedListed; more > 0 {
		parts = append(parts, fmt.Sprintf("and %d more", more))
	}
	c.Status = metav1.ConditionFalse
	c.Reason = unresolved[0].Reason
	c.Message = OneLine(strings.Join(parts, "; "), catalogv1alpha1.MaxMessageLength)
	return c
}
