package helm

import (
	"path/filepath"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/entityhub/entityhub/test/testenv"
)

// Kustomize builds a kustomization under config/, such as "default", as `kustomize
// build` does, with the kustomize API that kubectl embeds.
func Kustomize(dir string) ([]*unstructured.Unstructured, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resources, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(testenv.RepoRoot(), "config", dir))
	if err != nil {
		return nil, err
	}
	stream, err := resources.AsYaml()
	if err != nil {
		return nil, err
	}
	return Decode(string(stream))
}
