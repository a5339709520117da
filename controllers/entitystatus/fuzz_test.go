package entitystatus

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

// isOneLine reports whether s is valid UTF-8, has no leading or trailing white space and
// separates its words by single ASCII spaces: the texts OneLine leaves as they are.
func isOneLine(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	prevSpace := true // a leading space is not allowed
	for _, r := range s {
		switch {
		case r == ' ':
			if prevSpace {
				return false
			}
			prevSpace = true
		case unicode.IsSpace(r):
			return false
		default:
			prevSpace = false
		}
	}
	return s == "" || !prevSpace
}

func FuzzOneLine(f *testing.F) {
	f.Add("hello world", 100)
	f.Add("line1\nline2\r\n\tline3", 10)
	f.Add("  leading and trailing  ", 5)
	f.Add("héllo wörld 😀 €", 7)
	f.Add("a\xffb\xfe\xfd", 4)
	f.Add("\xff a", 4)
	f.Add("abcd", 0)
	f.Add("abcd", 1)
	f.Add("éab", 2)
	f.Add("abcd", 3)
	f.Add("abc", -1)
	f.Add("a\u00a0b\u2028c\u0085d", 6)
	f.Add(strings.Repeat("x", 2000), 1024)
	f.Fuzz(func(t *testing.T, s string, maxBytes int) {
		got := OneLine(s, maxBytes)
		if !utf8.ValidString(got) {
			t.Errorf("OneLine(%q, %d) = %q: not valid UTF-8", s, maxBytes, got)
		}
		if strings.ContainsAny(got, "\n\r\t") {
			t.Errorf("OneLine(%q, %d) = %q: contains a line break or tab", s, maxBytes, got)
		}
		if !isOneLine(got) {
			t.Errorf("OneLine(%q, %d) = %q: not single-spaced and trimmed", s, maxBytes, got)
		}
		if len(got) > max(maxBytes, 0) {
			t.Errorf("OneLine(%q, %d) = %q: %d bytes", s, maxBytes, got, len(got))
		}
		if isOneLine(s) && len(s) <= maxBytes && got != s {
			t.Errorf("OneLine(%q, %d) = %q: want a short single-spaced line unchanged", s, maxBytes, got)
		}
		if again := OneLine(got, maxBytes); again != got {
			t.Errorf("OneLine not idempotent: OneLine(%q, %d) = %q, then %q", s, maxBytes, got, again)
		}
		// A cut text is a prefix of the whole one, marked with … when there is room.
		if full := OneLine(s, len(s)*3+3); got != full {
			kept := got
			if maxBytes >= len("…") {
				var ok bool
				if kept, ok = strings.CutSuffix(got, "…"); !ok {
					t.Errorf("OneLine(%q, %d) = %q: cut without …", s, maxBytes, got)
				}
			}
			if !strings.HasPrefix(full, kept) {
				t.Errorf("OneLine(%q, %d) = %q: not a prefix of %q", s, maxBytes, got, full)
			}
		}
	})
}

var (
	validHealth = map[catalogv1alpha1.Health]bool{
		"Healthy": true, "Suspended": true, "Progressing": true, "Missing": true, "Degraded": true, "Unknown": true,
	}
	validSync   = map[catalogv1alpha1.SyncStatus]bool{"": true, "Synced": true, "OutOfSync": true, "Unknown": true}
	healthCycle = []catalogv1alpha1.Health{"Healthy", "Degraded", "Suspended", "Progressing", "Missing", "Unknown"}
	syncCycle   = []catalogv1alpha1.SyncStatus{"Synced", "", "OutOfSync", "Unknown"}
)

// fuzzSources builds n sources (at most 159) from the fuzzed words: every third takes the
// fuzzed health, sync and message, the others cycle through valid words; every fourth
// shares the fuzzed id, so duplicates happen.
func fuzzSources(health, sync, message, id string, n uint8) []catalogv1alpha1.SourceStatus {
	count := int(n) % 160
	out := make([]catalogv1alpha1.SourceStatus, 0, count)
	for i := range count {
		s := catalogv1alpha1.SourceStatus{
			ID:         id + "/" + strconv.Itoa(i),
			APIVersion: "example.org/v1",
			Kind:       "Thing",
			Namespace:  id,
			Name:       strconv.Itoa(i),
			Health:     healthCycle[i%len(healthCycle)],
			Sync:       syncCycle[i%len(syncCycle)],
		}
		if i%4 == 0 {
			s.ID = id
		}
		if i%3 == 0 {
			s.Health = catalogv1alpha1.Health(health)
			s.Sync = catalogv1alpha1.SyncStatus(sync)
			s.Message = message
			s.Cluster = message
		}
		out = append(out, s)
	}
	return out
}

func FuzzStatus(f *testing.F) {
	f.Add("Healthy", "Synced", "", "argoproj.io/Application/argocd/a", uint8(1))
	f.Add("Degraded", "OutOfSync", "crash loop\nback-off", "id", uint8(7))
	f.Add("Bogus", "Junk", "\xff\xfe", "", uint8(12))
	f.Add("", "", strings.Repeat("long message ", 200), "x", uint8(150))
	f.Add("Unknown", "Unknown", "é😀\t\r\n", "same", uint8(101))
	f.Add("Missing", "", "gone", "a/b/c/d", uint8(0))
	f.Add("healthy", "synced", " ", "dup", uint8(159))
	f.Fuzz(func(t *testing.T, health, sync, message, id string, n uint8) {
		sources := fuzzSources(health, sync, message, id, n)
		now := metav1.NewTime(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
		in := Input{Generation: int64(n), Now: now, Sources: sources}
		got := Status(catalogv1alpha1.CatalogEntityStatus{}, in)

		if !validHealth[got.Health] {
			t.Errorf("Health = %q, not an API word", got.Health)
		}
		if !validSync[got.Sync] {
			t.Errorf("Sync = %q, not an API word", got.Sync)
		}
		if len(got.Message) > catalogv1alpha1.MaxMessageLength || !utf8.ValidString(got.Message) ||
			strings.ContainsAny(got.Message, "\n\r\t") {
			t.Errorf("Message %q: %d bytes, want one valid line of at most %d", got.Message, len(got.Message), catalogv1alpha1.MaxMessageLength)
		}
		if len(got.Sources) > catalogv1alpha1.MaxStatusSources {
			t.Errorf("len(Sources) = %d, want at most %d", len(got.Sources), catalogv1alpha1.MaxStatusSources)
		}
		distinct := map[string]bool{}
		for _, s := range sources {
			distinct[s.ID] = true
		}
		if int(got.SourceCount) != len(distinct) {
			t.Errorf("SourceCount = %d, want %d distinct ids", got.SourceCount, len(distinct))
		}
		if want := min(len(distinct), catalogv1alpha1.MaxStatusSources); len(got.Sources) != want {
			t.Errorf("len(Sources) = %d, want %d", len(got.Sources), want)
		}
		if len(distinct) == 0 && got.Sources != nil {
			t.Errorf("Sources = %v, want nil without sources", got.Sources)
		}
		seen := map[string]bool{}
		for i, s := range got.Sources {
			if seen[s.ID] {
				t.Errorf("id %q listed twice", s.ID)
			}
			seen[s.ID] = true
			if !validHealth[s.Health] || !validSync[s.Sync] {
				t.Errorf("source %q: health %q, sync %q, not API words", s.ID, s.Health, s.Sync)
			}
			if len(s.Message) > catalogv1alpha1.MaxMessageLength || !utf8.ValidString(s.Message) {
				t.Errorf("source %q: message of %d bytes or invalid UTF-8", s.ID, len(s.Message))
			}
			if s.LastTransitionTime == nil || !s.LastTransitionTime.Equal(&now) {
				t.Errorf("source %q: lastTransitionTime %v, want %v", s.ID, s.LastTransitionTime, now)
			}
			if Rank(s.Health) > Rank(got.Health) {
				t.Errorf("source %q is %s, worse than the entity's %s", s.ID, s.Health, got.Health)
			}
			if i > 0 {
				p := got.Sources[i-1]
				if Rank(p.Health) < Rank(s.Health) || (p.Health == s.Health && p.ID >= s.ID) {
					t.Errorf("sources %d and %d out of order: %s %q before %s %q", i-1, i, p.Health, p.ID, s.Health, s.ID)
				}
			}
		}
		if len(got.Sources) > 0 && got.Sources[0].Health != got.Health {
			t.Errorf("first source is %s, entity is %s: want the worst first", got.Sources[0].Health, got.Health)
		}
		if want := fmt.Sprintf("/%d", len(distinct)); !strings.HasSuffix(got.Ready, want) {
			t.Errorf("Ready = %q, want it to end in %q", got.Ready, want)
		}
		ready := condition(got, catalogv1alpha1.ConditionReady)
		synced := condition(got, catalogv1alpha1.ConditionSynced)
		resolved := condition(got, catalogv1alpha1.ConditionSourcesResolved)
		if len(got.Conditions) != 3 || ready == nil || synced == nil || resolved == nil {
			t.Fatalf("conditions = %+v, want Ready, Synced and SourcesResolved", got.Conditions)
		}
		if (ready.Status == metav1.ConditionTrue) != (got.Health == catalogv1alpha1.HealthHealthy) ||
			ready.Reason != string(got.Health) {
			t.Errorf("Ready = %s %s, entity health %s", ready.Status, ready.Reason, got.Health)
		}

		// A later call with the same sources changes nothing.
		later := in
		later.Now = metav1.NewTime(now.Add(time.Hour))
		again := Status(got, later)
		// reflect.DeepEqual first: cmp.Diff is slow, and the fuzzer should spend its time
		// on inputs; metav1.Time values here are all built the same way, so DeepEqual is
		// exact for them.
		if !reflect.DeepEqual(got, again) {
			t.Errorf("second call changed the status (-first +second):\n%s", cmp.Diff(got, again))
		}
	})
}

// fuzzPick returns one of the fuzzed texts, or one of them made long: the index chooses.
func fuzzPick(texts []string, repeat int, i int) string {
	s := texts[i%len(texts)]
	if (i/len(texts))%2 == 1 && s != "" {
		// Over the largest bound of a source's field (a message's 1024), but not so long
		// that building the input is most of the fuzzer's time.
		s = strings.Repeat(s, min(repeat, 1100/len(s)+1))
	}
	return s
}

// fuzzInput builds an entity's input where every string comes from the fuzzed texts:
// ids, names, clusters, phases, messages, runs, relations, revisions, reasons.
func fuzzInput(a, b, c string, repeat uint16, n uint8) (catalogv1alpha1.CatalogEntityStatus, Input) {
	texts := []string{a, b, c, "", "Healthy", "Synced"}
	r := int(repeat)%700 + 1
	pick := func(i int) string { return fuzzPick(texts, r, i) }
	count := int(n) % 130
	in := Input{
		Generation: int64(n),
		Now:        metav1.NewTime(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)),
		LastRun:    pick(count + 3),
	}
	for i := range count {
		in.Sources = append(in.Sources, catalogv1alpha1.SourceStatus{
			ID:         pick(i) + "/" + strconv.Itoa(i%40),
			APIVersion: pick(i + 1),
			Kind:       pick(i + 2),
			Namespace:  pick(i + 3),
			Name:       pick(i + 4),
			Cluster:    pick(i + 5),
			Health:     catalogv1alpha1.Health(pick(i + 6)),
			Sync:       catalogv1alpha1.SyncStatus(pick(i + 7)),
			Phase:      pick(i + 8),
			Ready:      pick(i + 9),
			Message:    pick(i + 10),
		})
		in.Relations = append(in.Relations, pick(i+11), "component:default/r"+strconv.Itoa(i%70))
		in.Revisions = append(in.Revisions, pick(i+12))
	}
	started := metav1.NewTime(in.Now.Add(-time.Minute))
	for i := range count % 14 {
		in.Runs = append(in.Runs, catalogv1alpha1.RunStatus{
			Name: pick(i), Namespace: pick(i + 1), Phase: pick(i + 2), StartedAt: &started,
		})
	}
	for i := range count % 5 {
		in.Unresolved = append(in.Unresolved, Unresolved{Reason: pick(i), Message: pick(i + 1)})
	}
	var prev catalogv1alpha1.CatalogEntityStatus
	if n%3 == 0 {
		prev.Conditions = foreignConditions(catalogv1alpha1.MaxStatusConditions)
	}
	return prev, in
}

// FuzzStatusSchema checks that whatever the sources say, Status writes what the API
// server takes: every string and list within the generated CRD's schema, and read back
// as written; and that the same input an hour later changes nothing.
func FuzzStatusSchema(f *testing.F) {
	v := newStatusValidator(f, crdStatusSchema(f))
	f.Add("argoproj.io/Application/argocd/a", "Degraded", "crash loop\nback-off", uint16(1), uint8(7))
	f.Add("x", "é😀\t", "\xff\xfe", uint16(300), uint8(129))
	f.Add(strings.Repeat("a", 300)+".example.com", "OutOfSync", "not a reason!", uint16(2), uint8(12))
	f.Add("", "", "", uint16(0), uint8(0))
	f.Add("Running", "component:default/b", "a,b", uint16(40), uint8(101))
	f.Fuzz(func(t *testing.T, a, b, c string, repeat uint16, n uint8) {
		prev, in := fuzzInput(a, b, c, repeat, n)
		got := Status(prev, in)
		checkWritable(t, v, got)

		later := in
		later.Now = metav1.NewTime(in.Now.Add(time.Hour))
		if again := Status(got, later); !equality.Semantic.DeepEqual(got, again) {
			t.Errorf("the same input an hour later changed the status (-first +second):\n%s", shorten(cmp.Diff(got, again)))
		}
	})
}
