// Package catalog turns CatalogEntities into Backstage catalog descriptors (DESIGN.md §5):
// it builds, validates and encodes them. Two callers share it, so that both give the
// same descriptors: the manager's catalog endpoint (controllers/catalogserver), which
// Backstage reads as a url location, and `entityhub export`, which writes them to stdout
// or to files for a catalog repository. It is pure: CatalogEntities in, descriptors and
// bytes out, with no client, server or metrics.
//
// Every descriptor it builds passes Backstage's catalog-model rules: what can be fixed is
// fixed, what cannot is left out of the body and reported, never served broken — one bad
// document makes Backstage refuse the entity, and a body that fails to parse makes it
// refuse them all.
//
// Where to look: Build (build.go) is the way in; convert.go makes one entity's
// descriptor, step by step; validate.go is the gate every descriptor passes; encode.go
// writes them out; rules.go, text.go and refs.go hold the rules the others share.
package catalog
