package entitystatus

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

var (
	t0 = metav1.NewTime(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	t1 = metav1.NewTime(time.Date(2026, 3, 1, 10, 5, 0, 0, time.UTC))
	t2 = metav1.NewTime(time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC))
)

// app is an Argo CD Application source.
func app(ns, name string, h catalogv1alpha1.Health, s catalogv1alpha1.SyncStatus, msg string) catalogv1alpha1.SourceStatus {
	return catalogv1alpha1.SourceStatus{
		ID:         "argoproj.io/Application/" + ns + "/" + name,
		APIVersion: "argoproj.io/v1alpha1",
		Kind:       "Application",
		Namespace:  ns,
		Name:       name,
		Health:     h,
		Sync:       s,
		Message:    msg,
	}
}

// bucket is a cluster-scoped Crossplane managed resource: no namespace, no sync state.
func bucket(name string, h catalogv1alpha1.Health, msg string) catalogv1alpha1.SourceStatus {
	return catalogv1alpha1.SourceStatus{
		ID:         "s3.aws.upbound.io/Bucket//" + name,
		APIVersion: "s3.aws.upbound.io/v1beta1",
		Kind:       "Bucket",
		Name:       name,
		Health:     h,
		Message:    msg,
	}
}

// at returns s with its lastTransitionTime set to t.
func at(s catalogv1alpha1.SourceStatus, t metav1.Time) catalogv1alpha1.SourceStatus {
	s.LastTransitionTime = &t
	return s
}

// ids lists the ids of sources in order.
func ids(sources []catalogv1alpha1.SourceStatus) []string {
	out := make([]string, 0, len(sources))
	for _, s := range sources {
		out = append(out, s.ID)
	}
	return out
}

// manyApps makes n Applications named <prefix>-000, <prefix>-001, … with health h.
func manyApps(prefix string, n int, h catalogv1alpha1.Health, s catalogv1alpha1.SyncStatus) []catalogv1alpha1.SourceStatus {
	out := make([]catalogv1alpha1.SourceStatus, 0, n)
	for i := range n {
		out = append(out, app("argocd", fmt.Sprintf("%s-%03d", prefix, i), h, s, ""))
	}
	return out
}

func condition(st catalogv1alpha1.CatalogEntityStatus, typ string) *metav1.Condition {
	for i := range st.Conditions {
		if st.Conditions[i].Type == typ {
			return &st.Conditions[i]
		}
	}
	return nil
}

func TestSummarize(t *testing.T) {
	long := strings.Repeat("x", 5000)
	tests := map[string]struct {
		sources []catalogv1alpha1.SourceStatus
		want    Summary
	}{
		"nil sources": {
			sources: nil,
			want:    Summary{Health: "Unknown", Ready: "0/0", Message: "no sources found"},
		},
		"empty sources": {
			sources: []catalogv1alpha1.SourceStatus{},
			want:    Summary{Health: "Unknown", Ready: "0/0", Message: "no sources found"},
		},
		"one healthy source without sync": {
			sources: []catalogv1alpha1.SourceStatus{bucket("assets", "Healthy", "")},
			want:    Summary{Health: "Healthy", Ready: "1/1", Message: "Bucket assets is Healthy"},
		},
		"one healthy synced application": {
			sources: []catalogv1alpha1.SourceStatus{app("argocd", "payments", "Healthy", "Synced", "")},
			want: Summary{Health: "Healthy", Sync: "Synced", Ready: "1/1",
				Message: "Application argocd/payments is Healthy"},
		},
		"one healthy source keeps its message out": {
			sources: []catalogv1alpha1.SourceStatus{app("argocd", "payments", "Healthy", "Synced", "all good")},
			want: Summary{Health: "Healthy", Sync: "Synced", Ready: "1/1",
				Message: "Application argocd/payments is Healthy"},
		},
		"many healthy sources": {
			sources: []catalogv1alpha1.SourceStatus{
				app("argocd", "a", "Healthy", "Synced", ""),
				app("argocd", "b", "Healthy", "Synced", ""),
				bucket("c", "Healthy", ""),
			},
			want: Summary{Health: "Healthy", Sync: "Synced", Ready: "3/3", Message: "all 3 sources are Healthy"},
		},
		"many healthy sources without sync": {
			sources: []catalogv1alpha1.SourceStatus{bucket("a", "Healthy", ""), bucket("b", "Healthy", "")},
			want:    Summary{Health: "Healthy", Ready: "2/2", Message: "all 2 sources are Healthy"},
		},
		"one degraded among healthy": {
			sources: []catalogv1alpha1.SourceStatus{
				app("argocd", "payments-dev", "Healthy", "Synced", ""),
				app("argocd", "payments-prod", "Degraded", "Synced", "Deployment payments has 0/3 ready replicas"),
				bucket("assets", "Healthy", ""),
			},
			want: Summary{Health: "Degraded", Sync: "Synced", Ready: "2/3",
				Message: "Application argocd/payments-prod is Degraded: Deployment payments has 0/3 ready replicas"},
		},
		"worst without a message has no colon": {
			sources: []catalogv1alpha1.SourceStatus{app("argocd", "payments", "Progressing", "Synced", "")},
			want: Summary{Health: "Progressing", Sync: "Synced", Ready: "0/1",
				Message: "Application argocd/payments is Progressing"},
		},
		"several share the worst health": {
			sources: []catalogv1alpha1.SourceStatus{
				app("argocd", "a", "Healthy", "", ""),
				app("argocd", "b", "Degraded", "", "first"),
				app("argocd", "c", "Progressing", "", "slow"),
				app("argocd", "d", "Degraded", "", "second"),
				app("argocd", "e", "Degraded", "", "third"),
			},
			want: Summary{Health: "Degraded", Ready: "1/5",
				Message: "Application argocd/b is Degraded: first (and 2 more Degraded)"},
		},
		"a better health that was seen first does not count as more": {
			sources: []catalogv1alpha1.SourceStatus{
				app("argocd", "a", "Progressing", "", ""),
				app("argocd", "b", "Progressing", "", ""),
				app("argocd", "c", "Missing", "", "not found"),
			},
			want: Summary{Health: "Missing", Ready: "0/3", Message: "Application argocd/c is Missing: not found"},
		},
		"Unknown is worse than Degraded": {
			sources: []catalogv1alpha1.SourceStatus{
				app("argocd", "a", "Degraded", "", "broken"),
				app("argocd", "b", "Unknown", "", "cannot read status"),
			},
			want: Summary{Health: "Unknown", Ready: "0/2", Message: "Application argocd/b is Unknown: cannot read status"},
		},
		"Missing is worse than Progressing and Suspended": {
			sources: []catalogv1alpha1.SourceStatus{
				app("argocd", "a", "Suspended", "", ""),
				app("argocd", "b", "Missing", "", ""),
				app("argocd", "c", "Progressing", "", ""),
			},
			want: Summary{Health: "Missing", Ready: "0/3", Message: "Application argocd/b is Missing"},
		},
		"Progressing is worse than Suspended": {
			sources: []catalogv1alpha1.SourceStatus{
				app("argocd", "a", "Progressing", "", ""),
				app("argocd", "b", "Suspended", "", ""),
			},
			want: Summary{Health: "Progressing", Ready: "0/2", Message: "Application argocd/a is Progressing"},
		},
		"Suspended is worse than Healthy": {
			sources: []catalogv1alpha1.SourceStatus{
				app("argocd", "a", "Healthy", "", ""),
				app("argocd", "b", "Suspended", "", "paused"),
			},
			want: Summary{Health: "Suspended", Ready: "1/2", Message: "Application argocd/b is Suspended: paused"},
		},
		"cluster-scoped source has no namespace": {
			sources: []catalogv1alpha1.SourceStatus{
				bucket("assets", "Degraded", "ReconcileError: access denied"),
			},
			want: Summary{Health: "Degraded", Ready: "0/1", Message: "Bucket assets is Degraded: ReconcileError: access denied"},
		},
		"source on another cluster": {
			sources: []catalogv1alpha1.SourceStatus{
				func() catalogv1alpha1.SourceStatus {
					s := app("argocd", "payments-eu", "Progressing", "Synced", "waiting for rollout")
					s.Cluster = "prod-eu"
					return s
				}(),
			},
			want: Summary{Health: "Progressing", Sync: "Synced", Ready: "0/1",
				Message: "Application argocd/payments-eu on prod-eu is Progressing: waiting for rollout"},
		},
		"healthy but out of sync": {
			sources: []catalogv1alpha1.SourceStatus{
				app("argocd", "a", "Healthy", "Synced", ""),
				app("argocd", "b", "Healthy", "OutOfSync", "ignored message"),
				bucket("c", "Healthy", ""),
			},
			want: Summary{Health: "Healthy", Sync: "OutOfSync", Ready: "3/3",
				Message:     "Application argocd/b is OutOfSync",
				SyncMessage: "Application argocd/b is OutOfSync"},
		},
		"healthy, several out of sync": {
			sources: []catalogv1alpha1.SourceStatus{
				app("argocd", "a", "Healthy", "OutOfSync", ""),
				app("argocd", "b", "Healthy", "Synced", ""),
				app("argocd", "c", "Healthy", "OutOfSync", ""),
			},
			want: Summary{Health: "Healthy", Sync: "OutOfSync", Ready: "3/3",
				Message:     "Application argocd/a is OutOfSync (and 1 more OutOfSync)",
				SyncMessage: "Application argocd/a is OutOfSync (and 1 more OutOfSync)"},
		},
		"healthy, sync unknown": {
			sources: []catalogv1alpha1.SourceStatus{
				app("argocd", "a", "Healthy", "Synced", ""),
				app("argocd", "b", "Healthy", "Unknown", ""),
			},
			want: Summary{Health: "Healthy", Sync: "Unknown", Ready: "2/2",
				Message:     "Application argocd/b is Unknown",
				SyncMessage: "Application argocd/b is Unknown"},
		},
		"sync Unknown is worse than OutOfSync and counts only its own kind": {
			sources: []catalogv1alpha1.SourceStatus{
				app("argocd", "a", "Healthy", "OutOfSync", ""),
				app("argocd", "b", "Healthy", "OutOfSync", ""),
				app("argocd", "c", "Healthy", "Unknown", ""),
			},
			want: Summary{Health: "Healthy", Sync: "Unknown", Ready: "3/3",
				Message:     "Application argocd/c is Unknown",
				SyncMessage: "Application argocd/c is Unknown"},
		},
		"a better sync state seen after the worst does not count as more": {
			sources: []catalogv1alpha1.SourceStatus{
				app("argocd", "a", "Healthy", "Unknown", ""),
				app("argocd", "b", "Healthy", "OutOfSync", ""),
				app("argocd", "c", "Healthy", "Unknown", ""),
				app("argocd", "d", "Healthy", "OutOfSync", ""),
			},
			want: Summary{Health: "Healthy", Sync: "Unknown", Ready: "4/4",
				Message:     "Application argocd/a is Unknown (and 1 more Unknown)",
				SyncMessage: "Application argocd/a is Unknown (and 1 more Unknown)"},
		},
		"unhealthy wins the message over out of sync": {
			sources: []catalogv1alpha1.SourceStatus{
				app("argocd", "a", "Healthy", "OutOfSync", ""),
				app("argocd", "b", "Degraded", "Synced", "crash loop"),
			},
			want: Summary{Health: "Degraded", Sync: "OutOfSync", Ready: "1/2",
				Message:     "Application argocd/b is Degraded: crash loop",
				SyncMessage: "Application argocd/a is OutOfSync"},
		},
		"sync empty when no source has one": {
			sources: []catalogv1alpha1.SourceStatus{
				bucket("a", "Healthy", ""),
				bucket("b", "Progressing", "creating"),
			},
			want: Summary{Health: "Progressing", Ready: "1/2", Message: "Bucket b is Progressing: creating"},
		},
		"sync ignores sources without one": {
			sources: []catalogv1alpha1.SourceStatus{
				bucket("a", "Healthy", ""),
				app("argocd", "b", "Healthy", "Synced", ""),
			},
			want: Summary{Health: "Healthy", Sync: "Synced", Ready: "2/2", Message: "all 2 sources are Healthy"},
		},
		"ready counts only healthy sources": {
			sources: []catalogv1alpha1.SourceStatus{
				app("argocd", "a", "Healthy", "", ""),
				app("argocd", "b", "Suspended", "", ""),
				app("argocd", "c", "Progressing", "", ""),
				app("argocd", "d", "Healthy", "", ""),
				app("argocd", "e", "Missing", "", ""),
			},
			want: Summary{Health: "Missing", Ready: "2/5", Message: "Application argocd/e is Missing"},
		},
		"long message is bounded": {
			sources: []catalogv1alpha1.SourceStatus{app("argocd", "a", "Degraded", "", long)},
			want: Summary{Health: "Degraded", Ready: "0/1",
				Message: OneLine("Application argocd/a is Degraded: "+long, 1024)},
		},
		"multi-line message becomes one line": {
			sources: []catalogv1alpha1.SourceStatus{app("argocd", "a", "Degraded", "", "first line\n\tsecond line\n")},
			want: Summary{Health: "Degraded", Ready: "0/1",
				Message: "Application argocd/a is Degraded: first line second line"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := Summarize(tc.sources)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Summarize mismatch (-want +got):\n%s", diff)
			}
			if len(got.Message) > catalogv1alpha1.MaxMessageLength {
				t.Errorf("len(Message) = %d, want at most %d", len(got.Message), catalogv1alpha1.MaxMessageLength)
			}
		})
	}
}

func TestSummarizeLongMessageShape(t *testing.T) {
	got := Summarize([]catalogv1alpha1.SourceStatus{app("argocd", "a", "Degraded", "", strings.Repeat("x", 5000))})
	if len(got.Message) != catalogv1alpha1.MaxMessageLength {
		t.Errorf("len(Message) = %d, want exactly %d (cut to fill the bound)", len(got.Message), catalogv1alpha1.MaxMessageLength)
	}
	if !strings.HasPrefix(got.Message, "Application argocd/a is Degraded: xxx") || !strings.HasSuffix(got.Message, "x…") {
		t.Errorf("Message = %q, want the source named first and the cut marked with …", got.Message)
	}
}

// TestStatus checks one whole status, field by field.
func TestStatus(t *testing.T) {
	prod := app("argocd", "payments-prod", "Degraded", "OutOfSync", "Deployment payments:\n0/3 ready")
	prod.Cluster = "prod-eu"
	prod.Phase = "Running"
	in := Input{
		Generation: 7,
		Now:        t0,
		Sources: []catalogv1alpha1.SourceStatus{
			app("argocd", "payments-dev", "Healthy", "Synced", ""),
			bucket("payments-assets", "Healthy", ""),
			prod,
		},
	}
	wantProd := prod
	wantProd.Message = "Deployment payments: 0/3 ready"
	const msg = "Application argocd/payments-prod on prod-eu is Degraded: Deployment payments: 0/3 ready"
	want := catalogv1alpha1.CatalogEntityStatus{
		Health:             "Degraded",
		Sync:               "OutOfSync",
		Ready:              "2/3",
		Message:            msg,
		Clusters:           "prod-eu",
		ObservedGeneration: 7,
		SourceCount:        3,
		Conditions: []metav1.Condition{
			{Type: "Ready", Status: metav1.ConditionFalse, Reason: "Degraded", Message: msg,
				ObservedGeneration: 7, LastTransitionTime: t0},
			{Type: "Synced", Status: metav1.ConditionFalse, Reason: "OutOfSync",
				Message:            "Application argocd/payments-prod on prod-eu is OutOfSync",
				ObservedGeneration: 7, LastTransitionTime: t0},
			{Type: "SourcesResolved", Status: metav1.ConditionTrue, Reason: "Resolved", Message: MessageResolved,
				ObservedGeneration: 7, LastTransitionTime: t0},
		},
		Sources: []catalogv1alpha1.SourceStatus{
			at(wantProd, t0),
			at(app("argocd", "payments-dev", "Healthy", "Synced", ""), t0),
			at(bucket("payments-assets", "Healthy", ""), t0),
		},
	}
	got := Status(catalogv1alpha1.CatalogEntityStatus{}, in)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Status mismatch (-want +got):\n%s", diff)
	}
}

func TestStatusObservedGenerationAndCount(t *testing.T) {
	prev := catalogv1alpha1.CatalogEntityStatus{ObservedGeneration: 3, SourceCount: 9}
	got := Status(prev, Input{Generation: 4, Now: t0, Sources: manyApps("a", 5, "Healthy", "")})
	if got.ObservedGeneration != 4 {
		t.Errorf("ObservedGeneration = %d, want 4", got.ObservedGeneration)
	}
	if got.SourceCount != 5 {
		t.Errorf("SourceCount = %d, want 5", got.SourceCount)
	}
	for _, c := range got.Conditions {
		if c.ObservedGeneration != 4 {
			t.Errorf("condition %s: ObservedGeneration = %d, want 4", c.Type, c.ObservedGeneration)
		}
	}
	got = Status(got, Input{Generation: 5, Now: t1})
	if got.ObservedGeneration != 5 || got.SourceCount != 0 || got.Sources != nil {
		t.Errorf("after all sources went: ObservedGeneration %d, SourceCount %d, Sources %v; want 5, 0, nil",
			got.ObservedGeneration, got.SourceCount, got.Sources)
	}
}

func TestStatusSortsWorstFirstThenByID(t *testing.T) {
	in := []catalogv1alpha1.SourceStatus{
		app("argocd", "h2", "Healthy", "", ""),
		bucket("m1", "Missing", ""),
		app("argocd", "p1", "Progressing", "", ""),
		app("argocd", "u2", "Unknown", "", ""),
		app("argocd", "d1", "Degraded", "", ""),
		app("argocd", "h1", "Healthy", "", ""),
		app("argocd", "s1", "Suspended", "", ""),
		app("argocd", "u1", "Unknown", "", ""),
		app("apps", "d2", "Degraded", "", ""),
		app("argocd", "x", "Bogus", "", ""), // normalized to Unknown
	}
	want := []string{
		"argoproj.io/Application/argocd/u1",
		"argoproj.io/Application/argocd/u2",
		"argoproj.io/Application/argocd/x",
		"argoproj.io/Application/apps/d2",
		"argoproj.io/Application/argocd/d1",
		"s3.aws.upbound.io/Bucket//m1",
		"argoproj.io/Application/argocd/p1",
		"argoproj.io/Application/argocd/s1",
		"argoproj.io/Application/argocd/h1",
		"argoproj.io/Application/argocd/h2",
	}
	got := Status(catalogv1alpha1.CatalogEntityStatus{}, Input{Now: t0, Sources: in})
	if diff := cmp.Diff(want, ids(got.Sources)); diff != "" {
		t.Errorf("source order mismatch (-want +got):\n%s", diff)
	}
	// Input order does not matter.
	reversed := slices.Clone(in)
	slices.Reverse(reversed)
	again := Status(catalogv1alpha1.CatalogEntityStatus{}, Input{Now: t0, Sources: reversed})
	if diff := cmp.Diff(got, again); diff != "" {
		t.Errorf("status depends on input order (-forward +reversed):\n%s", diff)
	}
	// The message names the first of the worst in that order.
	if want := "Application argocd/u1 is Unknown (and 2 more Unknown)"; got.Message != want {
		t.Errorf("Message = %q, want %q", got.Message, want)
	}
}

func TestStatusDuplicateIDs(t *testing.T) {
	tests := map[string]struct {
		sources    []catalogv1alpha1.SourceStatus
		wantHealth catalogv1alpha1.Health
		wantMsg    string
		wantReady  string
	}{
		"worse second": {
			sources: []catalogv1alpha1.SourceStatus{
				app("argocd", "a", "Healthy", "Synced", "fine"),
				app("argocd", "a", "Degraded", "Synced", "broken"),
			},
			wantHealth: "Degraded", wantMsg: "broken", wantReady: "0/1",
		},
		"worse first": {
			sources: []catalogv1alpha1.SourceStatus{
				app("argocd", "a", "Missing", "Synced", "gone"),
				app("argocd", "a", "Healthy", "Synced", "fine"),
			},
			wantHealth: "Missing", wantMsg: "gone", wantReady: "0/1",
		},
		"three copies and another source": {
			sources: []catalogv1alpha1.SourceStatus{
				app("argocd", "a", "Progressing", "", "one"),
				app("argocd", "b", "Healthy", "", ""),
				app("argocd", "a", "Unknown", "", "two"),
				app("argocd", "a", "Suspended", "", "three"),
			},
			wantHealth: "Unknown", wantMsg: "two", wantReady: "1/2",
		},
		"invalid word counts as Unknown": {
			sources: []catalogv1alpha1.SourceStatus{
				app("argocd", "a", "Degraded", "", "broken"),
				app("argocd", "a", "Bogus", "", "unreadable"),
			},
			wantHealth: "Unknown", wantMsg: "unreadable", wantReady: "0/1",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := Status(catalogv1alpha1.CatalogEntityStatus{}, Input{Now: t0, Sources: tc.sources})
			var found *catalogv1alpha1.SourceStatus
			seen := map[string]bool{}
			for i, s := range got.Sources {
				if seen[s.ID] {
					t.Errorf("id %s listed twice", s.ID)
				}
				seen[s.ID] = true
				if s.Name == "a" {
					found = &got.Sources[i]
				}
			}
			if found == nil {
				t.Fatalf("source a missing from %v", ids(got.Sources))
			}
			if found.Health != tc.wantHealth || found.Message != tc.wantMsg {
				t.Errorf("source a = %s %q, want %s %q", found.Health, found.Message, tc.wantHealth, tc.wantMsg)
			}
			if got.Health != tc.wantHealth {
				t.Errorf("Health = %s, want %s", got.Health, tc.wantHealth)
			}
			if got.Ready != tc.wantReady {
				t.Errorf("Ready = %q, want %q", got.Ready, tc.wantReady)
			}
			if int(got.SourceCount) != len(seen) {
				t.Errorf("SourceCount = %d, want %d (one per id)", got.SourceCount, len(seen))
			}
		})
	}
}

func TestStatusBoundsSources(t *testing.T) {
	t.Run("150 sources, one degraded", func(t *testing.T) {
		sources := manyApps("app", 149, "Healthy", "Synced")
		// The degraded one has the id that would sort last by id alone.
		sources = append(sources, app("zzz", "broken", "Degraded", "Synced", "crash loop"))
		got := Status(catalogv1alpha1.CatalogEntityStatus{}, Input{Now: t0, Sources: sources})
		if got.SourceCount != 150 {
			t.Errorf("SourceCount = %d, want 150", got.SourceCount)
		}
		if len(got.Sources) != catalogv1alpha1.MaxStatusSources {
			t.Errorf("len(Sources) = %d, want %d", len(got.Sources), catalogv1alpha1.MaxStatusSources)
		}
		if got.Health != "Degraded" || got.Ready != "149/150" {
			t.Errorf("Health, Ready = %s, %q; want Degraded, \"149/150\"", got.Health, got.Ready)
		}
		if want := "Application zzz/broken is Degraded: crash loop"; got.Message != want {
			t.Errorf("Message = %q, want %q", got.Message, want)
		}
		want := []string{"argoproj.io/Application/zzz/broken"}
		for i := range 99 {
			want = append(want, fmt.Sprintf("argoproj.io/Application/argocd/app-%03d", i))
		}
		if diff := cmp.Diff(want, ids(got.Sources)); diff != "" {
			t.Errorf("listed sources mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("health, ready and sync count sources that are not listed", func(t *testing.T) {
		sources := manyApps("slow", 120, "Progressing", "Synced")
		sources = append(sources, manyApps("ok", 29, "Healthy", "Synced")...)
		// Healthy sorts after Progressing, so this one is cut from the list; its sync
		// state must still count.
		sources = append(sources, app("argocd", "zz-drifted", "Healthy", "OutOfSync", ""))
		got := Status(catalogv1alpha1.CatalogEntityStatus{}, Input{Now: t0, Sources: sources})
		for _, s := range got.Sources {
			if s.Health != "Progressing" {
				t.Fatalf("listed source %s is %s, want only Progressing ones listed", s.ID, s.Health)
			}
		}
		if got.SourceCount != 150 || len(got.Sources) != 100 {
			t.Errorf("SourceCount, len(Sources) = %d, %d; want 150, 100", got.SourceCount, len(got.Sources))
		}
		if got.Ready != "30/150" {
			t.Errorf("Ready = %q, want \"30/150\"", got.Ready)
		}
		if got.Sync != "OutOfSync" {
			t.Errorf("Sync = %q, want OutOfSync from a source that is not listed", got.Sync)
		}
		if want := "Application argocd/slow-000 is Progressing (and 119 more Progressing)"; got.Message != want {
			t.Errorf("Message = %q, want %q", got.Message, want)
		}
		if c := condition(got, "Synced"); c == nil || c.Message != "Application argocd/zz-drifted is OutOfSync" {
			t.Errorf("Synced condition = %+v, want it to name the unlisted out-of-sync source", c)
		}
	})
	t.Run("150 healthy", func(t *testing.T) {
		got := Status(catalogv1alpha1.CatalogEntityStatus{}, Input{Now: t0, Sources: manyApps("a", 150, "Healthy", "")})
		if got.SourceCount != 150 || len(got.Sources) != 100 || got.Ready != "150/150" ||
			got.Message != "all 150 sources are Healthy" {
			t.Errorf("got SourceCount %d, %d listed, Ready %q, Message %q", got.SourceCount, len(got.Sources), got.Ready, got.Message)
		}
	})
	t.Run("exactly 100", func(t *testing.T) {
		got := Status(catalogv1alpha1.CatalogEntityStatus{}, Input{Now: t0, Sources: manyApps("a", 100, "Healthy", "")})
		if got.SourceCount != 100 || len(got.Sources) != 100 {
			t.Errorf("SourceCount, len(Sources) = %d, %d; want 100, 100", got.SourceCount, len(got.Sources))
		}
	})
	t.Run("101 with duplicates is 100", func(t *testing.T) {
		sources := manyApps("a", 100, "Healthy", "")
		sources = append(sources, sources[42])
		got := Status(catalogv1alpha1.CatalogEntityStatus{}, Input{Now: t0, Sources: sources})
		if got.SourceCount != 100 || len(got.Sources) != 100 || got.Ready != "100/100" {
			t.Errorf("SourceCount %d, %d listed, Ready %q; want 100, 100, \"100/100\"", got.SourceCount, len(got.Sources), got.Ready)
		}
	})
}

func TestStatusConditions(t *testing.T) {
	resolved := metav1.Condition{Type: "SourcesResolved", Status: metav1.ConditionTrue, Reason: "Resolved", Message: MessageResolved}
	tests := map[string]struct {
		sources    []catalogv1alpha1.SourceStatus
		unresolved []Unresolved
		want       []metav1.Condition
	}{
		"no sources": {
			want: []metav1.Condition{
				{Type: "Ready", Status: metav1.ConditionFalse, Reason: "Unknown", Message: "no sources found"},
				{Type: "Synced", Status: metav1.ConditionFalse, Reason: "Unknown", Message: "no sources found"},
				resolved,
			},
		},
		"healthy and synced": {
			sources: []catalogv1alpha1.SourceStatus{app("argocd", "a", "Healthy", "Synced", "")},
			want: []metav1.Condition{
				{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Healthy", Message: "Application argocd/a is Healthy"},
				{Type: "Synced", Status: metav1.ConditionTrue, Reason: "Synced", Message: "every source with a sync state is Synced"},
				resolved,
			},
		},
		"healthy without sync state": {
			sources: []catalogv1alpha1.SourceStatus{bucket("a", "Healthy", ""), bucket("b", "Healthy", "")},
			want: []metav1.Condition{
				{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Healthy", Message: "all 2 sources are Healthy"},
				{Type: "Synced", Status: metav1.ConditionUnknown, Reason: "Unknown", Message: "no source has a sync state"},
				resolved,
			},
		},
		"healthy and out of sync": {
			sources: []catalogv1alpha1.SourceStatus{
				app("argocd", "a", "Healthy", "Synced", ""),
				app("argocd", "b", "Healthy", "OutOfSync", ""),
			},
			want: []metav1.Condition{
				{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Healthy", Message: "Application argocd/b is OutOfSync"},
				{Type: "Synced", Status: metav1.ConditionFalse, Reason: "OutOfSync", Message: "Application argocd/b is OutOfSync"},
				resolved,
			},
		},
		"sync unknown": {
			sources: []catalogv1alpha1.SourceStatus{app("argocd", "a", "Healthy", "Unknown", "")},
			want: []metav1.Condition{
				{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Healthy", Message: "Application argocd/a is Unknown"},
				{Type: "Synced", Status: metav1.ConditionFalse, Reason: "Unknown", Message: "Application argocd/a is Unknown"},
				resolved,
			},
		},
		"degraded and synced": {
			sources: []catalogv1alpha1.SourceStatus{app("argocd", "a", "Degraded", "Synced", "boom")},
			want: []metav1.Condition{
				{Type: "Ready", Status: metav1.ConditionFalse, Reason: "Degraded", Message: "Application argocd/a is Degraded: boom"},
				{Type: "Synced", Status: metav1.ConditionTrue, Reason: "Synced", Message: "every source with a sync state is Synced"},
				resolved,
			},
		},
		"suspended is not ready": {
			sources: []catalogv1alpha1.SourceStatus{bucket("a", "Suspended", "paused")},
			want: []metav1.Condition{
				{Type: "Ready", Status: metav1.ConditionFalse, Reason: "Suspended", Message: "Bucket a is Suspended: paused"},
				{Type: "Synced", Status: metav1.ConditionUnknown, Reason: "Unknown", Message: "no source has a sync state"},
				resolved,
			},
		},
		"invalid words": {
			sources: []catalogv1alpha1.SourceStatus{app("argocd", "a", "Bogus", "Junk", "")},
			want: []metav1.Condition{
				{Type: "Ready", Status: metav1.ConditionFalse, Reason: "Unknown", Message: "Application argocd/a is Unknown"},
				{Type: "Synced", Status: metav1.ConditionFalse, Reason: "Unknown", Message: "Application argocd/a is Unknown"},
				resolved,
			},
		},
		"an invalid selector": {
			sources: []catalogv1alpha1.SourceStatus{
				app("argocd", "a", "Healthy", "Synced", ""),
				app("argocd", "selector:tier Near (a)", "Unknown", "", "invalid selector: bad"),
			},
			unresolved: []Unresolved{{Reason: "InvalidSelector", Message: "spec.sources[1]: invalid selector: bad"}},
			want: []metav1.Condition{
				{Type: "Ready", Status: metav1.ConditionFalse, Reason: "Unknown", Message: "Application argocd/selector:tier Near (a) is Unknown: invalid selector: bad"},
				{Type: "Synced", Status: metav1.ConditionTrue, Reason: "Synced", Message: "every source with a sync state is Synced"},
				{Type: "SourcesResolved", Status: metav1.ConditionFalse, Reason: "InvalidSelector", Message: "spec.sources[1]: invalid selector: bad"},
			},
		},
		"several unresolved: the first entry's reason, three spelled out": {
			unresolved: []Unresolved{
				{Reason: "KindNotWatched", Message: "spec.sources[0]: a"},
				{Reason: "InvalidSelector", Message: "spec.sources[1]: b"},
				{Reason: "SourceNotFound", Message: "spec.sources[2]: c"},
				{Reason: "SourceNotFound", Message: "spec.sources[3]: d"},
				{Reason: "SourceNotFound", Message: "spec.sources[4]: e"},
			},
			want: []metav1.Condition{
				{Type: "Ready", Status: metav1.ConditionFalse, Reason: "Unknown", Message: "no sources found"},
				{Type: "Synced", Status: metav1.ConditionFalse, Reason: "Unknown", Message: "no sources found"},
				{Type: "SourcesResolved", Status: metav1.ConditionFalse, Reason: "KindNotWatched",
					Message: "spec.sources[0]: a; spec.sources[1]: b; spec.sources[2]: c; and 2 more"},
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			for i := range tc.want {
				tc.want[i].ObservedGeneration = 2
				tc.want[i].LastTransitionTime = t0
			}
			got := Status(catalogv1alpha1.CatalogEntityStatus{}, Input{Generation: 2, Now: t0, Sources: tc.sources, Unresolved: tc.unresolved})
			if diff := cmp.Diff(tc.want, got.Conditions); diff != "" {
				t.Errorf("conditions mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStatusNoSources(t *testing.T) {
	prev := Status(catalogv1alpha1.CatalogEntityStatus{}, Input{Generation: 1, Now: t0,
		Sources: []catalogv1alpha1.SourceStatus{app("argocd", "a", "Healthy", "Synced", "")}})
	got := Status(prev, Input{Generation: 1, Now: t1})
	want := catalogv1alpha1.CatalogEntityStatus{
		Health:             "Unknown",
		Ready:              "0/0",
		Message:            "no sources found",
		ObservedGeneration: 1,
		Conditions: []metav1.Condition{
			{Type: "Ready", Status: metav1.ConditionFalse, Reason: "Unknown", Message: "no sources found",
				ObservedGeneration: 1, LastTransitionTime: t1},
			{Type: "Synced", Status: metav1.ConditionFalse, Reason: "Unknown", Message: "no sources found",
				ObservedGeneration: 1, LastTransitionTime: t1},
			{Type: "SourcesResolved", Status: metav1.ConditionTrue, Reason: "Resolved", Message: MessageResolved,
				ObservedGeneration: 1, LastTransitionTime: t0},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Status mismatch (-want +got):\n%s", diff)
	}
}

func TestStatusNormalizesSources(t *testing.T) {
	long := strings.Repeat("é", 1000) // 2000 bytes
	in := []catalogv1alpha1.SourceStatus{
		app("argocd", "a", "Bogus", "Junk", "line one\r\n\tline two"),
		app("argocd", "b", "healthy", "synced", long),
		app("argocd", "c", "Healthy", "", "bad \xff byte"),
	}
	got := Status(catalogv1alpha1.CatalogEntityStatus{}, Input{Now: t0, Sources: in})
	want := []catalogv1alpha1.SourceStatus{
		at(app("argocd", "a", "Unknown", "Unknown", "line one line two"), t0),
		at(app("argocd", "b", "Unknown", "Unknown", OneLine(long, 1024)), t0),
		at(app("argocd", "c", "Healthy", "", "bad \uFFFD byte"), t0),
	}
	if diff := cmp.Diff(want, got.Sources); diff != "" {
		t.Errorf("sources mismatch (-want +got):\n%s", diff)
	}
	if m := got.Sources[1].Message; len(m) > 1024 || !strings.HasSuffix(m, "é…") {
		t.Errorf("long message: %d bytes ending %q; want at most 1024 ending in é…", len(m), m[max(0, len(m)-8):])
	}
	if got.Health != "Unknown" || got.Sync != "Unknown" || got.Ready != "1/3" {
		t.Errorf("Health, Sync, Ready = %q, %q, %q; want Unknown, Unknown, 1/3", got.Health, got.Sync, got.Ready)
	}
	if want := "Application argocd/a is Unknown: line one line two (and 1 more Unknown)"; got.Message != want {
		t.Errorf("Message = %q, want %q", got.Message, want)
	}
}

func TestStatusIsIdempotent(t *testing.T) {
	withCluster := app("argocd", "eu", "Progressing", "OutOfSync", "rolling\nout")
	withCluster.Cluster = "prod-eu"
	tests := map[string][]catalogv1alpha1.SourceStatus{
		"no sources":    nil,
		"one healthy":   {app("argocd", "a", "Healthy", "Synced", "")},
		"mixed":         {app("argocd", "a", "Healthy", "Synced", ""), bucket("b", "Degraded", "x"), withCluster},
		"invalid words": {app("argocd", "a", "Bogus", "Junk", "")},
		"duplicates": {
			app("argocd", "a", "Healthy", "Synced", ""),
			app("argocd", "a", "Degraded", "Synced", "worse"),
		},
		"long messages": {app("argocd", "a", "Degraded", "", strings.Repeat("word ", 1000))},
		"150 sources":   append(manyApps("a", 140, "Healthy", "Synced"), manyApps("b", 10, "Missing", "OutOfSync")...),
	}
	for name, sources := range tests {
		t.Run(name, func(t *testing.T) {
			prev := catalogv1alpha1.CatalogEntityStatus{Revision: "abc123", Clusters: "in-cluster"}
			first := Status(prev, Input{Generation: 3, Now: t0, Sources: sources})
			second := Status(first, Input{Generation: 3, Now: t1, Sources: sources})
			if diff := cmp.Diff(first, second); diff != "" {
				t.Errorf("second call changed the status (-first +second):\n%s", diff)
			}
			reversed := slices.Clone(sources)
			slices.Reverse(reversed)
			third := Status(second, Input{Generation: 3, Now: t2, Sources: reversed})
			if name != "duplicates" { // equal-health duplicates may keep either copy
				if diff := cmp.Diff(first, third); diff != "" {
					t.Errorf("reordered input changed the status (-first +third):\n%s", diff)
				}
			}
		})
	}
}

func TestStatusTransitions(t *testing.T) {
	start := []catalogv1alpha1.SourceStatus{
		app("argocd", "a", "Healthy", "Synced", ""),
		app("argocd", "b", "Healthy", "Synced", ""),
		bucket("c", "Progressing", "creating"),
	}
	first := Status(catalogv1alpha1.CatalogEntityStatus{}, Input{Generation: 1, Now: t0, Sources: start})

	t.Run("health change stamps only that source and flips Ready", func(t *testing.T) {
		next := slices.Clone(start)
		next[1].Health = "Degraded"
		next[1].Message = "crash loop"
		next[2].Health = "Healthy"
		next[2].Message = ""
		got := Status(first, Input{Generation: 1, Now: t1, Sources: next})
		want := []catalogv1alpha1.SourceStatus{
			at(app("argocd", "b", "Degraded", "Synced", "crash loop"), t1),
			at(app("argocd", "a", "Healthy", "Synced", ""), t0),
			at(bucket("c", "Healthy", ""), t1),
		}
		if diff := cmp.Diff(want, got.Sources); diff != "" {
			t.Errorf("sources mismatch (-want +got):\n%s", diff)
		}
		// Ready was False (Progressing) and stays False (Degraded): its time stays, its
		// reason follows the health.
		if c := condition(got, "Ready"); c == nil || c.Status != metav1.ConditionFalse || c.Reason != "Degraded" ||
			!c.LastTransitionTime.Equal(&t0) {
			t.Errorf("Ready = %+v, want False, Degraded, since %v", c, t0)
		}
		if c := condition(got, "Synced"); c == nil || !c.LastTransitionTime.Equal(&t0) {
			t.Errorf("Synced = %+v, want it unchanged since %v", c, t0)
		}

		// Everything becomes healthy: Ready flips to True at t2.
		for i := range next {
			next[i].Health, next[i].Message = "Healthy", ""
		}
		healthy := Status(got, Input{Generation: 1, Now: t2, Sources: next})
		if c := condition(healthy, "Ready"); c == nil || c.Status != metav1.ConditionTrue || !c.LastTransitionTime.Equal(&t2) {
			t.Errorf("Ready = %+v, want True since %v", c, t2)
		}
		wantTimes := map[string]metav1.Time{
			"argoproj.io/Application/argocd/a": t0, // never changed
			"argoproj.io/Application/argocd/b": t2, // Degraded → Healthy
			"s3.aws.upbound.io/Bucket//c":      t1, // Healthy since t1
		}
		for _, s := range healthy.Sources {
			if w := wantTimes[s.ID]; s.LastTransitionTime == nil || !s.LastTransitionTime.Equal(&w) {
				t.Errorf("source %s: lastTransitionTime %v, want %v", s.ID, s.LastTransitionTime, w)
			}
		}
	})

	t.Run("message change alone keeps the time", func(t *testing.T) {
		next := slices.Clone(start)
		next[2].Message = "still creating"
		got := Status(first, Input{Generation: 1, Now: t1, Sources: next})
		for _, s := range got.Sources {
			if !s.LastTransitionTime.Equal(&t0) {
				t.Errorf("source %s: lastTransitionTime %v, want %v", s.ID, s.LastTransitionTime, t0)
			}
		}
		if got.Sources[0].Message != "still creating" || got.Message != "Bucket c is Progressing: still creating" {
			t.Errorf("message not updated: source %q, entity %q", got.Sources[0].Message, got.Message)
		}
	})

	t.Run("new source gets now, gone source is dropped", func(t *testing.T) {
		next := append(slices.Clone(start[:2]), app("argocd", "d", "Healthy", "OutOfSync", ""))
		got := Status(first, Input{Generation: 2, Now: t1, Sources: next})
		want := []catalogv1alpha1.SourceStatus{
			at(app("argocd", "a", "Healthy", "Synced", ""), t0),
			at(app("argocd", "b", "Healthy", "Synced", ""), t0),
			at(app("argocd", "d", "Healthy", "OutOfSync", ""), t1),
		}
		if diff := cmp.Diff(want, got.Sources); diff != "" {
			t.Errorf("sources mismatch (-want +got):\n%s", diff)
		}
		if c := condition(got, "Synced"); c == nil || c.Status != metav1.ConditionFalse || !c.LastTransitionTime.Equal(&t1) {
			t.Errorf("Synced = %+v, want False since %v", c, t1)
		}
	})

	t.Run("previous source without a time gets now", func(t *testing.T) {
		prev := *first.DeepCopy()
		for i := range prev.Sources {
			prev.Sources[i].LastTransitionTime = nil
		}
		got := Status(prev, Input{Generation: 1, Now: t1, Sources: start})
		for _, s := range got.Sources {
			if s.LastTransitionTime == nil || !s.LastTransitionTime.Equal(&t1) {
				t.Errorf("source %s: lastTransitionTime %v, want %v", s.ID, s.LastTransitionTime, t1)
			}
		}
	})

	t.Run("time in the input is not trusted", func(t *testing.T) {
		next := slices.Clone(start)
		for i := range next {
			next[i] = at(next[i], t2)
		}
		got := Status(catalogv1alpha1.CatalogEntityStatus{}, Input{Generation: 1, Now: t1, Sources: next})
		for _, s := range got.Sources {
			if !s.LastTransitionTime.Equal(&t1) {
				t.Errorf("source %s: lastTransitionTime %v, want now (%v)", s.ID, s.LastTransitionTime, t1)
			}
		}
	})
}

func TestStatusRuns(t *testing.T) {
	runs := make([]catalogv1alpha1.RunStatus, 0, 15)
	for i := range 15 {
		runs = append(runs, catalogv1alpha1.RunStatus{Name: fmt.Sprintf("nightly-%02d", 15-i), Phase: "Succeeded"})
	}
	prev := catalogv1alpha1.CatalogEntityStatus{LastRun: "Failed", Runs: runs[:1]}
	got := Status(prev, Input{Now: t0})
	if got.LastRun != "" || got.Runs != nil {
		t.Errorf("LastRun, Runs = %q, %v; want them computed from the input, not carried over", got.LastRun, got.Runs)
	}
	got = Status(prev, Input{Now: t0, LastRun: "Succeeded", Runs: runs})
	if got.LastRun != "Succeeded" {
		t.Errorf("LastRun = %q, want Succeeded", got.LastRun)
	}
	if diff := cmp.Diff(runs[:catalogv1alpha1.MaxStatusRuns], got.Runs); diff != "" {
		t.Errorf("Runs mismatch, want the first %d (-want +got):\n%s", catalogv1alpha1.MaxStatusRuns, diff)
	}
}

func TestStatusRelations(t *testing.T) {
	many := make([]string, 0, 100)
	for i := range 100 {
		many = append(many, fmt.Sprintf("resource:default/db-%03d", 99-i))
	}
	tests := map[string]struct {
		prev []string
		in   []string
		want []string
	}{
		"none, and none before":    {},
		"gone when no longer seen": {prev: []string{"resource:default/old"}},
		"sorted and distinct": {
			in:   []string{"resource:default/payments-db", "component:default/auth", "resource:default/payments-db"},
			want: []string{"component:default/auth", "resource:default/payments-db"},
		},
		"bounded to the schema's 64": {in: many, want: func() []string {
			w := make([]string, 0, 64)
			for i := range 64 {
				w = append(w, fmt.Sprintf("resource:default/db-%03d", i))
			}
			return w
		}()},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := Status(catalogv1alpha1.CatalogEntityStatus{Relations: tc.prev}, Input{Now: t0, Relations: tc.in})
			if diff := cmp.Diff(tc.want, got.Relations); diff != "" {
				t.Errorf("Relations mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStatusRevisionAndClusters(t *testing.T) {
	onCluster := func(name, cluster string) catalogv1alpha1.SourceStatus {
		s := app("argocd", name, "Healthy", "Synced", "")
		s.Cluster = cluster
		return s
	}
	many := make([]catalogv1alpha1.SourceStatus, 0, 150)
	for i := range 150 {
		many = append(many, onCluster(fmt.Sprintf("app-%03d", i), fmt.Sprintf("cluster-%03d-%s", i, strings.Repeat("x", 40))))
	}
	tests := map[string]struct {
		prev      catalogv1alpha1.CatalogEntityStatus
		sources   []catalogv1alpha1.SourceStatus
		revisions []string
		wantRev   string
		wantClus  string
	}{
		"computed, not carried over": {
			prev:    catalogv1alpha1.CatalogEntityStatus{Revision: "old", Clusters: "gone"},
			sources: []catalogv1alpha1.SourceStatus{app("argocd", "a", "Healthy", "Synced", "")},
		},
		"sorted, distinct, comma-separated": {
			sources:   []catalogv1alpha1.SourceStatus{onCluster("a", "prod-us"), onCluster("b", "prod-eu"), onCluster("c", "prod-us"), onCluster("d", "")},
			revisions: []string{"4f2a9c1", "", "4f2a9c1"},
			wantRev:   "4f2a9c1",
			wantClus:  "prod-eu,prod-us",
		},
		"several revisions": {
			sources:   []catalogv1alpha1.SourceStatus{onCluster("a", "in-cluster")},
			revisions: []string{"b2", "a1"},
			wantRev:   "a1,b2",
			wantClus:  "in-cluster",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := Status(tc.prev, Input{Now: t0, Sources: tc.sources, Revisions: tc.revisions})
			if got.Revision != tc.wantRev || got.Clusters != tc.wantClus {
				t.Errorf("Revision, Clusters = %q, %q; want %q, %q", got.Revision, got.Clusters, tc.wantRev, tc.wantClus)
			}
		})
	}
	t.Run("bounded, counting what does not fit, over all sources", func(t *testing.T) {
		got := Status(catalogv1alpha1.CatalogEntityStatus{}, Input{Now: t0, Sources: many})
		if len(got.Clusters) > catalogv1alpha1.MaxClustersLength {
			t.Fatalf("Clusters is %d bytes, more than %d", len(got.Clusters), catalogv1alpha1.MaxClustersLength)
		}
		if !strings.HasPrefix(got.Clusters, "cluster-000-") || !regexp.MustCompile(`,\+\d+ more$`).MatchString(got.Clusters) {
			t.Errorf("Clusters = %q..., want the first clusters then ',+N more'", got.Clusters[:40])
		}
		listed := strings.Count(got.Clusters, "cluster-")
		var more int
		_, _ = fmt.Sscanf(got.Clusters[strings.LastIndex(got.Clusters, "+"):], "+%d more", &more)
		if listed+more != 150 {
			t.Errorf("%d listed + %d more = %d clusters, want 150", listed, more, listed+more)
		}
	})
}

func TestStatusDoesNotModifyItsInputs(t *testing.T) {
	sources := []catalogv1alpha1.SourceStatus{
		app("argocd", "a", "Bogus", "Junk", "multi\nline"),
		app("argocd", "a", "Healthy", "Synced", ""),
		at(bucket("b", "Degraded", "x"), t2),
	}
	prev := Status(catalogv1alpha1.CatalogEntityStatus{}, Input{Now: t0, Sources: sources[1:]})
	wantSources := make([]catalogv1alpha1.SourceStatus, len(sources))
	for i := range sources {
		sources[i].DeepCopyInto(&wantSources[i])
	}
	wantPrev := *prev.DeepCopy()

	got := Status(prev, Input{Now: t1, Sources: sources})
	if diff := cmp.Diff(wantSources, sources); diff != "" {
		t.Errorf("Status changed in.Sources (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(wantPrev, prev); diff != "" {
		t.Errorf("Status changed prev (-before +after):\n%s", diff)
	}
	// Nor does changing the result reach back into prev.
	got.Conditions[0].Message = "changed"
	*got.Sources[len(got.Sources)-1].LastTransitionTime = t2
	if diff := cmp.Diff(wantPrev, prev); diff != "" {
		t.Errorf("result shares memory with prev (-before +after):\n%s", diff)
	}
}
