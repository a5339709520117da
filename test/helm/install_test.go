package helm

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/entityhub/entityhub/test/testenv"
)

// dist/install.yaml is config/default as it is now (make build-installer writes it),
// but for the manager's image, which build-installer sets from IMG.
func TestInstallFileIsCurrent(t *testing.T) {
	stream, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "dist", "install.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	installed, err := Decode(string(stream))
	if err != nil {
		t.Fatal(err)
	}
	kustomized, err := Kustomize("default")
	if err != nil {
		t.Fatal(err)
	}
	// withoutImage indexes objects by kind and name, with the image left out.
	withoutImage := func(objs []*unstructured.Unstructured) map[string]map[string]any {
		out := map[string]map[string]any{}
		for _, o := range objs {
			o = o.DeepCopy()
			if o.GetKind() == "Deployment" {
				containers, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
				for _, c := range containers {
					delete(c.(map[string]any), "image")
				}
				_ = unstructured.SetNestedSlice(o.Object, containers, "spec", "template", "spec", "containers")
			}
			out[key(o)] = o.Object
		}
		return out
	}
	if diff := cmp.Diff(withoutImage(kustomized), withoutImage(installed)); diff != "" {
		t.Errorf("dist/install.yaml is out of date with config/default; run make build-installer (-config/default +dist/install.yaml):\n%s", diff)
	}
}
