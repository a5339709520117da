package trace

import (
	"os"
	"strings"

	"golang.org/x/term"
)

// ANSI styles: the health words in the colours Argo CD's UI gives them, as far as a
// terminal's eight colours go.
const (
	reset        = "\x1b[0m"
	styleHeading = "\x1b[1m"
)

var wordStyles = map[string]string{
	"Healthy":     "\x1b[32m",
	"Synced":      "\x1b[32m",
	"Suspended":   "\x1b[34m",
	"Progressing": "\x1b[36m",
	"Missing":     "\x1b[33m",
	"OutOfSync":   "\x1b[33m",
	"Degraded":    "\x1b[1;31m",
	"Unknown":     "\x1b[35m",
}

// Colour modes of --color.
const (
	ColorAuto   = "auto"
	ColorAlways = "always"
	ColorNever  = "never"
)

// UseColor decides whether to colour output written to out: always or never when told,
// else only on a terminal and when NO_COLOR (no-color.org) is not set.
func UseColor(mode string, out any) bool {
	switch mode {
	case ColorAlways:
		return true
	case ColorNever:
		return false
	}
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	return IsTerminal(out)
}

// IsTerminal reports whether out is a terminal.
func IsTerminal(out any) bool {
	f, ok := out.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func (p Printer) style(s string) string {
	if !p.Color {
		return ""
	}
	return s
}

// wordStyle colours a health or sync cell by its first word ("Healthy Synced*" by
// "Healthy").
func (p Printer) wordStyle(cell string) string {
	if !p.Color {
		return ""
	}
	word, _, _ := strings.Cut(cell, " ")
	return wordStyles[strings.TrimSuffix(word, "*")]
}
