package workflows

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/entityhub/entityhub/controllers/sources"
)

// finishedStatusKept are the status fields of a finished Workflow that MapWorkflow and
// RunOf read. Completed Workflows pile up by the thousands, and their node graphs,
// stored templates and outputs are most of their size.
var finishedStatusKept = map[string]bool{
	"phase": true, "message": true, "progress": true, "startedAt": true, "finishedAt": true,
}

// TrimWorkflow drops, from a finished Workflow as it enters the cache, every status field
// the mapper does not read; a running one keeps its nodes, which tell whether it waits at
// a suspend step.
func TrimWorkflow(obj *unstructured.Unstructured) {
	status, ok := obj.Object["status"].(map[string]any)
	if !ok {
		return
	}
	switch status["phase"] {
	case "Succeeded", "Failed", "Error":
	default:
		return
	}
	sources.KeepKeys(status, finishedStatusKept)
}
