package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestKubectlPluginName(t *testing.T) {
	for arg0, want := range map[string]bool{
		"kubectl-entityhub":                 true,
		"/usr/local/bin/kubectl-entityhub":  true,
		`C:\bin\kubectl-entityhub.exe`:      false, // a Windows path only on Windows
		"kubectl-entityhub.exe":             true,
		"entityhub":                         false,
		"/usr/local/bin/kubectl-entityhubx": false,
	} {
		if got := isKubectlPlugin(arg0); got != want {
			t.Errorf("isKubectlPlugin(%q) = %v, want %v", arg0, got, want)
		}
	}
}

func TestPluginCommands(t *testing.T) {
	var stderr bytes.Buffer
	if code := runPlugin(nil, &stderr); code != 2 || !strings.Contains(stderr.String(), "kubectl entityhub trace <entity>") {
		t.Errorf("no command: exit %d, %q", code, stderr.String())
	}
	stderr.Reset()
	if code := runPlugin([]string{"--help"}, &stderr); code != 0 || !strings.Contains(stderr.String(), "kubectl entityhub export") {
		t.Errorf("--help: exit %d, %q", code, stderr.String())
	}
	stderr.Reset()
	if code := runPlugin([]string{"run"}, &stderr); code != 2 || !strings.Contains(stderr.String(), `unknown command "run": it has trace and export`) {
		t.Errorf("unknown command: exit %d, %q", code, stderr.String())
	}
}
