package v1alpha1

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTruncate(t *testing.T) {
	tests := map[string]struct {
		s    string
		n    int
		want string
	}{
		"short":                    {s: "abc", n: 5, want: "abc"},
		"exact":                    {s: "abc", n: 3, want: "abc"},
		"ascii":                    {s: "abcdef", n: 3, want: "abc"},
		"on a boundary":            {s: "ab€c", n: 5, want: "ab€"},
		"inside a 3-byte rune":     {s: "ab€c", n: 4, want: "ab"},
		"inside a 4-byte rune":     {s: "a😀", n: 4, want: "a"},
		"first rune is too long":   {s: "😀", n: 3, want: ""},
		"zero":                     {s: "abc", n: 0, want: ""},
		"negative":                 {s: "abc", n: -1, want: ""},
		"rune ending on the limit": {s: "aé", n: 3, want: "aé"},
		"invalid byte repaired":    {s: "a\xffb", n: 10, want: "a\uFFFDb"},
		"run of invalid bytes":     {s: "\xff\xfe\xfdz", n: 10, want: "\uFFFDz"},
		// U+FFFD is three bytes: a repaired text can be longer than what came in, and
		// the bound holds on what comes out.
		"repair grows past n": {s: "a\xff", n: 2, want: "a"},
		"cut rune at the end": {s: "abc\xe2\x82", n: 4, want: "abc"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := Truncate(tc.s, tc.n)
			if got != tc.want {
				t.Errorf("Truncate(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
			}
		})
	}
}

func FuzzTruncate(f *testing.F) {
	f.Add("abc", 2)
	f.Add("ab€c", 4)
	f.Add("a\xff\xfeb", 3)
	f.Add(strings.Repeat("é", 300), 253)
	f.Fuzz(func(t *testing.T, s string, n int) {
		got := Truncate(s, n)
		if !utf8.ValidString(got) {
			t.Errorf("Truncate(%q, %d) = %q: not valid UTF-8", s, n, got)
		}
		if len(got) > max(n, 0) {
			t.Errorf("Truncate(%q, %d) = %q: %d bytes", s, n, got, len(got))
		}
		valid := strings.ToValidUTF8(s, "\uFFFD")
		if !strings.HasPrefix(valid, got) {
			t.Errorf("Truncate(%q, %d) = %q: not a prefix of %q", s, n, got, valid)
		}
		if len(valid) <= n && got != valid {
			t.Errorf("Truncate(%q, %d) = %q: want %q whole", s, n, got, valid)
		}
		if len(got) < n-utf8.UTFMax+1 && got != valid {
			t.Errorf("Truncate(%q, %d) = %q: cut more than a character short of the bound", s, n, got)
		}
		if again := Truncate(got, n); again != got {
			t.Errorf("Truncate not idempotent: %q, then %q", got, again)
		}
	})
}
