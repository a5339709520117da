package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/entityhub/entityhub/cmd/internal/trace"
)

// pluginName is the binary's name when it is installed as a kubectl plugin: kubectl runs
// `kubectl entityhub …` as `kubectl-entityhub …` when that is on PATH.
const pluginName = "kubectl-entityhub"

// isKubectlPlugin reports whether the binary was started under its kubectl plugin name.
func isKubectlPlugin(arg0 string) bool {
	return strings.TrimSuffix(filepath.Base(arg0), ".exe") == pluginName
}

// runTrace implements `entityhub trace` (and `kubectl entityhub trace`, called prog);
// args are the arguments after "trace".
func runTrace(prog string, args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return trace.Main(ctx, prog, args, os.Stdout, os.Stderr)
}

// runPlugin is the binary as `kubectl entityhub`: its subcommands, never the manager.
// It returns the exit code.
func runPlugin(args []string, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		_, _ = fmt.Fprintln(stderr, "Usage: kubectl entityhub trace <entity> [flags]   show an entity and its sources as a tree (trace -h)")
		_, _ = fmt.Fprintln(stderr, "       kubectl entityhub export [flags]           print CatalogEntities as Backstage descriptors (export -h)")
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	switch args[0] {
	case "trace":
		return exitCode(stderr, "kubectl entityhub trace", runTrace("kubectl entityhub trace", args[1:]))
	case "export":
		return exitCode(stderr, "kubectl entityhub export", runExport(args[1:]))
	}
	_, _ = fmt.Fprintf(stderr, "kubectl entityhub: unknown command %q: it has trace and export (kubectl entityhub -h)\n", args[0])
	return 2
}

// exitCode prints err, if any, after prog and returns the exit code for it: 0 for none
// or for -h, 1 otherwise.
func exitCode(stderr io.Writer, prog string, err error) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	_, _ = fmt.Fprintf(stderr, "%s: %v\n", prog, err)
	return 1
}
