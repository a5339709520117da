package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/catalog"
)

// entity is a CatalogEntity in Kubernetes namespace ns with Backstage namespace
// catalogNamespace.
func entity(ns, name, catalogNamespace string) catalogv1alpha1.CatalogEntity {
	return catalogv1alpha1.CatalogEntity{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       catalogv1alpha1.CatalogEntitySpec{CatalogNamespace: catalogNamespace},
	}
}

// files lists the names in dir.
func files(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestExportDirNamesThatWouldCollide: two tenants whose plain file names are the same,
// x + component-y and x-component + y, each get a file, and so does everyone else.
func TestExportDirNamesThatWouldCollide(t *testing.T) {
	dir := t.TempDir()
	o := exportOptions{dir: dir, defaultOwner: defaultOwner, catalogNamespace: "entityhub-system"}
	entities := []catalogv1alpha1.CatalogEntity{
		entity("team-a", "component-y", "x"),
		entity("team-b", "y", "x-component"),
		entity("team-c", "payments", "shop"),
	}
	var stdout, stderr bytes.Buffer
	if err := o.write(entities, &stdout, &stderr); err != nil {
		t.Fatalf("write = %v\n%s", err, stderr.String())
	}
	want := []string{"shop-component-payments.yaml", "x--component--component-y.yaml", "x-component--component--y.yaml"}
	if diff := cmp.Diff(want, files(t, dir)); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	body, err := os.ReadFile(filepath.Join(dir, "x-component--component--y.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), "name: \"y\"\n") || !strings.Contains(string(body), "namespace: x-component\n") {
		t.Errorf("x-component--component--y.yaml holds another entity:\n%s", body)
	}
	if !strings.Contains(stderr.String(), "export: 3 descriptors in") {
		t.Errorf("stderr: %s", stderr.String())
	}
}

// TestWriteDirSkipsOnlyWhatCollides: should two descriptors still meet in one file
// (here two that are not one Build's, differing in case only), those two are skipped and
// reported, and the others written.
func TestWriteDirSkipsOnlyWhatCollides(t *testing.T) {
	dir := t.TempDir()
	doc := func(ns, name string) catalog.Entity {
		return catalog.Entity{APIVersion: catalog.APIVersion, Kind: "Component", Metadata: catalog.Metadata{Namespace: ns, Name: name}}
	}
	docs := []catalog.Entity{doc("shop", "Payments"), doc("shop", "cart"), doc("shop", "payments"), doc("web", "front")}
	changed, skipped, err := writeDir(dir, docs)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"shop-component-cart.yaml", "web-component-front.yaml"}, files(t, dir)); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if changed != 2 || len(skipped) != 2 {
		t.Fatalf("changed %d, skipped %v; want 2 and 2", changed, skipped)
	}
	want := "component:shop/Payments not written: its file, shop-component-Payments.yaml, would also be that of component:shop/payments"
	if skipped[0].Error() != want {
		t.Errorf("skipped[0] = %q\nwant %q", skipped[0], want)
	}

	// Written again, nothing changes.
	if changed, _, _ := writeDir(dir, docs); changed != 0 {
		t.Errorf("a second run changed %d files", changed)
	}
}

// TestExportDuplicatesFollowTheCatalogNamespace: export publishes what the manager's
// endpoint does: the catalog namespace's entity, not a tenant's of the same name.
func TestExportDuplicatesFollowTheCatalogNamespace(t *testing.T) {
	tenant := entity("dev", "payments-api", "")
	tenant.Spec.Owner = "group:default/mallory"
	entities := []catalogv1alpha1.CatalogEntity{tenant, entity("entityhub-system", "payments-api", "")}
	o := exportOptions{defaultOwner: defaultOwner, catalogNamespace: "entityhub-system"}
	var stdout, stderr bytes.Buffer
	if err := o.write(entities, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stdout.String(), "mallory") || !strings.Contains(stdout.String(), "owner: "+defaultOwner) {
		t.Errorf("exported the tenant's entity:\n%s", stdout.String())
	}
	if !slices.ContainsFunc(strings.Split(stderr.String(), "\n"), func(l string) bool {
		return strings.HasPrefix(l, "export: left out: CatalogEntity dev/payments-api: it is the same Backstage entity")
	}) {
		t.Errorf("stderr does not report the tenant's entity:\n%s", stderr.String())
	}
}
