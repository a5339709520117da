package entitystatus

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

// healthBestToWorst is the order DESIGN.md §3 fixes, written out independently of the
// package's own table so that a change there is caught here.
var healthBestToWorst = []catalogv1alpha1.Health{
	"Healthy", "Suspended", "Progressing", "Missing", "Degraded", "Unknown",
}

// notHealthWords are strings that are not one of the API's health words.
var notHealthWords = []catalogv1alpha1.Health{
	"", "healthy", "HEALTHY", " Healthy", "Healthy ", "Bogus", "OutOfSync", "Synced", "Failed",
	"Unknown\n", "\xff",
}

func TestRank(t *testing.T) {
	tests := map[string]struct {
		in   catalogv1alpha1.Health
		want int
	}{
		"Healthy":            {in: "Healthy", want: 0},
		"Suspended":          {in: "Suspended", want: 1},
		"Progressing":        {in: "Progressing", want: 2},
		"Missing":            {in: "Missing", want: 3},
		"Degraded":           {in: "Degraded", want: 4},
		"Unknown":            {in: "Unknown", want: 5},
		"empty ranks worst":  {in: "", want: 5},
		"lowercase word":     {in: "healthy", want: 5},
		"padded word":        {in: " Healthy", want: 5},
		"garbage ranks last": {in: "Bogus", want: 5},
		"a sync word":        {in: "Synced", want: 5},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Rank(tc.in); got != tc.want {
				t.Errorf("Rank(%q) = %d, want %d", tc.in, got, tc.want)
			}
		})
	}
}

func TestRankOrder(t *testing.T) {
	for i := 1; i < len(healthBestToWorst); i++ {
		better, worse := healthBestToWorst[i-1], healthBestToWorst[i]
		if Rank(better) >= Rank(worse) {
			t.Errorf("Rank(%s) = %d, Rank(%s) = %d: want %s ranked better", better, Rank(better), worse, Rank(worse), better)
		}
	}
	for _, w := range notHealthWords {
		if got, want := Rank(w), Rank(catalogv1alpha1.HealthUnknown); got != want {
			t.Errorf("Rank(%q) = %d, want the rank of Unknown (%d)", w, got, want)
		}
	}
}

func TestNormalize(t *testing.T) {
	for _, w := range healthBestToWorst {
		if got := Normalize(w); got != w {
			t.Errorf("Normalize(%q) = %q, want it unchanged", w, got)
		}
	}
	for _, w := range notHealthWords {
		if got := Normalize(w); got != catalogv1alpha1.HealthUnknown {
			t.Errorf("Normalize(%q) = %q, want Unknown", w, got)
		}
	}
}

func TestSyncRank(t *testing.T) {
	tests := map[string]struct {
		in   catalogv1alpha1.SyncStatus
		want int
	}{
		"empty is no sync state": {in: "", want: -1},
		"Synced":                 {in: "Synced", want: 0},
		"OutOfSync":              {in: "OutOfSync", want: 1},
		"Unknown":                {in: "Unknown", want: 2},
		"lowercase":              {in: "synced", want: 2},
		"garbage":                {in: "Bogus", want: 2},
		"a health word":          {in: "Healthy", want: 2},
		"white space only":       {in: " ", want: 2},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := SyncRank(tc.in); got != tc.want {
				t.Errorf("SyncRank(%q) = %d, want %d", tc.in, got, tc.want)
			}
		})
	}
}

func TestWorstSync(t *testing.T) {
	tests := []struct {
		name string
		a, b catalogv1alpha1.SyncStatus
		want catalogv1alpha1.SyncStatus
	}{
		{name: "both empty", a: "", b: "", want: ""},
		{name: "empty and Synced", a: "", b: "Synced", want: "Synced"},
		{name: "Synced and empty", a: "Synced", b: "", want: "Synced"},
		{name: "empty and OutOfSync", a: "", b: "OutOfSync", want: "OutOfSync"},
		{name: "Synced and OutOfSync", a: "Synced", b: "OutOfSync", want: "OutOfSync"},
		{name: "OutOfSync and Synced", a: "OutOfSync", b: "Synced", want: "OutOfSync"},
		{name: "OutOfSync and Unknown", a: "OutOfSync", b: "Unknown", want: "Unknown"},
		{name: "Unknown and Synced", a: "Unknown", b: "Synced", want: "Unknown"},
		{name: "Synced and Synced", a: "Synced", b: "Synced", want: "Synced"},
		{name: "garbage and empty", a: "Bogus", b: "", want: "Unknown"},
		{name: "empty and garbage", a: "", b: "Bogus", want: "Unknown"},
		{name: "Synced and garbage", a: "Synced", b: "out-of-sync", want: "Unknown"},
		{name: "garbage and OutOfSync", a: "Bogus", b: "OutOfSync", want: "Unknown"},
		{name: "garbage and Unknown", a: "Bogus", b: "Unknown", want: "Unknown"},
		{name: "garbage and garbage", a: "Bogus", b: "Junk", want: "Unknown"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := WorstSync(tc.a, tc.b); got != tc.want {
				t.Errorf("WorstSync(%q, %q) = %q, want %q", tc.a, tc.b, got, tc.want)
			}
		})
	}
}

func TestOneLine(t *testing.T) {
	tests := map[string]struct {
		in   string
		max  int
		want string
	}{
		"short text unchanged":         {in: "hello world", max: 100, want: "hello world"},
		"empty":                        {in: "", max: 10, want: ""},
		"white space only":             {in: " \t\r\n ", max: 10, want: ""},
		"newline becomes space":        {in: "line1\nline2", max: 100, want: "line1 line2"},
		"CRLF becomes one space":       {in: "line1\r\nline2", max: 100, want: "line1 line2"},
		"tabs collapse":                {in: "a\t\t\tb", max: 100, want: "a b"},
		"runs collapse and trim":       {in: "  a \n\t b\r\n\n  c  ", max: 100, want: "a b c"},
		"unicode spaces collapse":      {in: "a\u00a0b\u2028c\u0085d", max: 100, want: "a b c d"},
		"exact fit":                    {in: "abcdefghij", max: 10, want: "abcdefghij"},
		"one byte over":                {in: "abcdefghijk", max: 10, want: "abcdefg…"},
		"fits after collapsing":        {in: "a\n\n\n\nb", max: 3, want: "a b"},
		"no space before ellipsis":     {in: "abcdef ghijk", max: 10, want: "abcdef…"},
		"cut inside a 2-byte rune":     {in: "héllo", max: 5, want: "h…"},
		"cut after a 2-byte rune":      {in: "héllo", max: 6, want: "héllo"},
		"cut inside a 4-byte rune":     {in: "😀😀😀", max: 8, want: "😀…"},
		"cut right after a 4-byte one": {in: "😀😀😀", max: 7, want: "😀…"},
		"invalid byte replaced":        {in: "a\xffb", max: 100, want: "a\uFFFDb"},
		"run of invalid bytes":         {in: "\xff\xfe\xfd", max: 100, want: "\uFFFD"},
		"truncated rune at end":        {in: "abc\xe2\x82", max: 100, want: "abc\uFFFD"},
		"invalid bytes around spaces":  {in: "\xff \n\xfe", max: 100, want: "\uFFFD \uFFFD"},
		// Replacing one invalid byte with U+FFFD grows the text from 3 to 5 bytes:
		// the bound holds on what comes out, not on what went in.
		"repair grows past max": {in: "\xff a", max: 4, want: "…"},
		"max 0":                 {in: "abcd", max: 0, want: ""},
		"max 1":                 {in: "abcd", max: 1, want: "a"},
		"max 2":                 {in: "abcd", max: 2, want: "ab"},
		"max 3":                 {in: "abcd", max: 3, want: "…"},
		"max 3 exact fit":       {in: "abc", max: 3, want: "abc"},
		"max 4":                 {in: "abcde", max: 4, want: "a…"},
		"max 1 multibyte":       {in: "éa", max: 1, want: ""},
		"max 2 multibyte":       {in: "éab", max: 2, want: "é"},
		"max 2 three-byte rune": {in: "€€", max: 2, want: ""},
		"negative max":          {in: "abc", max: -1, want: ""},
		"negative max empty":    {in: "", max: -5, want: ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := OneLine(tc.in, tc.max)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("OneLine(%q, %d) mismatch (-want +got):\n%s", tc.in, tc.max, diff)
			}
		})
	}
}

// TestOneLineEveryLength cuts one mixed text at every length and checks what must hold
// for all of them.
func TestOneLineEveryLength(t *testing.T) {
	const in = "Application\targocd/payments is Degraded:\n\n  pod crash-looping — 😀 héllo \xff wörld\r\n end"
	full := OneLine(in, 1<<20)
	if want := "Application argocd/payments is Degraded: pod crash-looping — 😀 héllo \uFFFD wörld end"; full != want {
		t.Fatalf("OneLine without a bound = %q, want %q", full, want)
	}
	for maxBytes := 0; maxBytes <= len(full)+2; maxBytes++ {
		got := OneLine(in, maxBytes)
		if len(got) > maxBytes {
			t.Errorf("max %d: len(%q) = %d", maxBytes, got, len(got))
		}
		if !utf8.ValidString(got) {
			t.Errorf("max %d: %q is not valid UTF-8", maxBytes, got)
		}
		if strings.ContainsAny(got, "\n\r\t") || strings.Contains(got, "  ") {
			t.Errorf("max %d: %q is not single-spaced on one line", maxBytes, got)
		}
		if strings.HasPrefix(got, " ") || strings.HasSuffix(got, " ") {
			t.Errorf("max %d: %q has a leading or trailing space", maxBytes, got)
		}
		switch {
		case maxBytes >= len(full):
			if got != full {
				t.Errorf("max %d: got %q, want the whole text %q", maxBytes, got, full)
			}
		case maxBytes >= len("…"):
			kept, ok := strings.CutSuffix(got, "…")
			if !ok || !strings.HasPrefix(full, kept) {
				t.Errorf("max %d: got %q, want a prefix of %q ending in …", maxBytes, got, full)
			}
			// The cut keeps as much as fits: it loses at most the 3 trailing bytes of a
			// 4-byte character and the single space trimmed before the "…".
			if minKept := maxBytes - len("…") - 3 - 1; len(kept) < minKept {
				t.Errorf("max %d: got %q, kept %d bytes, want at least %d", maxBytes, got, len(kept), minKept)
			}
		default:
			if !strings.HasPrefix(full, got) {
				t.Errorf("max %d: got %q, want a prefix of %q", maxBytes, got, full)
			}
		}
		if again := OneLine(got, maxBytes); again != got {
			t.Errorf("max %d: OneLine is not idempotent: %q then %q", maxBytes, got, again)
		}
	}
}
