// Command installer writes dist/install.yaml: config/default in one file, for `kubectl
// apply -f`, with the manager's image set (make build-installer runs it with IMG).
//
// It builds with the kustomize API module go.mod pins — the one kubectl embeds — so that
// the file comes out the same on every machine, whatever kubectl or kustomize is on the
// PATH; make verify regenerates it and fails when the committed one differs.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/pkg/util"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// header opens the file, so that whoever finds it knows where it comes from.
const header = `# entityhub: config/default in one file, written by make build-installer; do not edit.
#   kubectl apply --server-side -f dist/install.yaml
`

func main() {
	image := flag.String("image", "controller:latest", "the manager's image, name:tag or name@digest")
	config := flag.String("config", "config", "the kustomize tree; its default directory is built")
	out := flag.String("out", "dist/install.yaml", "where to write the file")
	flag.Parse()
	stream, err := build(*config, *image)
	if err == nil {
		err = os.WriteFile(*out, append([]byte(header), stream...), 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "installer:", err)
		os.Exit(1)
	}
}

// build returns config/default, built as `kustomize build` does (resources in the
// legacy order: namespace and CRD before what lives in them), with image set on the
// manager's container. The tree is copied into memory, beside an overlay that sets
// the image, so that nothing under config/ is edited.
func build(config, image string) ([]byte, error) {
	mem := filesys.MakeFsInMemory()
	err := filepath.WalkDir(config, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(config, path)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return mem.WriteFile(filepath.Join("/config", rel), data)
	})
	if err != nil {
		return nil, err
	}
	name, tag, digest := util.SplitImageName(image)
	overlay, err := yaml.Marshal(types.Kustomization{
		Resources: []string{"../config/default"},
		Images:    []types.Image{{Name: "controller", NewName: name, NewTag: tag, Digest: digest}},
	})
	if err != nil {
		return nil, err
	}
	if err := mem.WriteFile("/installer/kustomization.yaml", overlay); err != nil {
		return nil, err
	}
	opts := krusty.MakeDefaultOptions()
	opts.Reorder = krusty.ReorderOptionLegacy
	resources, err := krusty.MakeKustomizer(opts).Run(mem, "/installer")
	if err != nil {
		return nil, err
	}
	stream, err := resources.AsYaml()
	return bytes.TrimLeft(stream, "\n"), err
}
