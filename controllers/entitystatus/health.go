// Package entitystatus turns the states of an entity's sources into the entity's status:
// worst-of health and sync, the ready count, one message a person can act on, and the
// Ready, Synced and SourcesResolved conditions. It is the third step of the way data
// flows (DESIGN.md §6): source object → mapper (package sources) → entity status →
// write. Everything here is a pure function of its inputs, so the entity reconciler only
// wires it to the cluster, and a status that did not change compares equal and is not
// written. What it writes is cut to the bounds of catalogv1alpha1 (bounds.go).
//
// health.go ranks the health and sync words; status.go computes the status (Status,
// Summarize); bounds.go cuts every string and list of it to its bound.
package entitystatus

import (
	"strings"
	"unicode"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

// healthOrder ranks the health words from best to worst, as DESIGN.md fixes them.
var healthOrder = map[catalogv1alpha1.Health]int{
	catalogv1alpha1.HealthHealthy:     0,
	catalogv1alpha1.HealthSuspended:   1,
	catalogv1alpha1.HealthProgressing: 2,
	catalogv1alpha1.HealthMissing:     3,
	catalogv1alpha1.HealthDegraded:    4,
	catalogv1alpha1.HealthUnknown:     5,
}

// syncOrder ranks the sync words from best to worst.
var syncOrder = map[catalogv1alpha1.SyncStatus]int{
	catalogv1alpha1.SyncSynced:    0,
	catalogv1alpha1.SyncOutOfSync: 1,
	catalogv1alpha1.SyncUnknown:   2,
}

// Rank is the position of h from best (0, Healthy) to worst (Unknown). A word outside
// the API's set ranks as Unknown: what cannot be understood is never reported as better.
func Rank(h catalogv1alpha1.Health) int {
	if r, ok := healthOrder[h]; ok {
		return r
	}
	return healthOrder[catalogv1alpha1.HealthUnknown]
}

// Normalize returns h when it is one of the API's health words, else Unknown, so that
// nothing a source says can put an invalid word into status.
func Normalize(h catalogv1alpha1.Health) catalogv1alpha1.Health {
	if _, ok := healthOrder[h]; ok {
		return h
	}
	return catalogv1alpha1.HealthUnknown
}

// SyncRank is the position of s from best (0, Synced) to worst (Unknown); -1 when s is
// empty, meaning the source has no sync state at all. Any other word ranks as Unknown.
func SyncRank(s catalogv1alpha1.SyncStatus) int {
	if s == "" {
		return -1
	}
	if r, ok := syncOrder[s]; ok {
		return r
	}
	return syncOrder[catalogv1alpha1.SyncUnknown]
}

// WorstSync returns the worse of a and b; empty only when both are empty.
func WorstSync(a, b catalogv1alpha1.SyncStatus) catalogv1alpha1.SyncStatus {
	worst := a
	if SyncRank(b) > SyncRank(a) {
		worst = b
	}
	return normalizeSync(worst)
}

// normalizeSync returns s when it is one of the API's sync words or empty (no sync
// state), else Unknown, as Normalize does for health.
func normalizeSync(s catalogv1alpha1.SyncStatus) catalogv1alpha1.SyncStatus {
	if _, ok := syncOrder[s]; ok || s == "" {
		return s
	}
	return catalogv1alpha1.SyncUnknown
}

// OneLine makes s a single line of at most maxBytes bytes: runs of white space, line
// breaks included, become one space, and a longer text is cut at a character boundary
// and ends in "…". Status fields are bounded in the schema, so every message a source
// contributes passes through here before it is written.
func OneLine(s string, maxBytes int) string {
	s = strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= maxBytes {
		return s
	}
	const ellipsis = "…"
	if maxBytes < len(ellipsis) {
		return catalogv1alpha1.Truncate(s, maxBytes)
	}
	return strings.TrimRight(catalogv1alpha1.Truncate(s, maxBytes-len(ellipsis)), " ") + ellipsis
}
