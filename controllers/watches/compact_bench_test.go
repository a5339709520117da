package watches

import (
	"fmt"
	"runtime"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/entityhub/entityhub/controllers/sources"
	"github.com/entityhub/entityhub/controllers/sources/crossplane"
)

// managedResource is a managed resource as the API server sends it to an informer, like
// those of the bench's fleet: a composed RDS Instance, Ready and Synced.
const managedResource = `{"apiVersion":"rds.aws.upbound.io/v1beta1","kind":"Instance","metadata":{` +
	`"annotations":{"crossplane.io/composition-resource-name":"instance","crossplane.io/external-name":"xdb-%05d-mr-%d"},` +
	`"creationTimestamp":"2026-11-24T10:00:00Z","generation":1,"labels":{"crossplane.io/composite":"xdb-%05d"},` +
	`"managedFields":[{"apiVersion":"rds.aws.upbound.io/v1beta1","fieldsType":"FieldsV1","fieldsV1":{"f:spec":{".":{},"f:forProvider":{".":{},"f:instanceClass":{},"f:region":{}}}},"manager":"crossplane","operation":"Apply","time":"2026-11-24T10:00:00Z"}],` +
	`"name":"xdb-%05d-mr-%d","ownerReferences":[{"apiVersion":"database.example.org/v1alpha1","blockOwnerDeletion":true,"controller":true,"kind":"XPostgreSQLInstance","name":"xdb-%05d","uid":"0b0e7c1e-4f5e-4a4b-9a4e-1c2d3e4f5a6b"}],` +
	`"resourceVersion":"%d","uid":"1b0e7c1e-4f5e-4a4b-9a4e-1c2d%08d"},` +
	`"spec":{"forProvider":{"instanceClass":"db.t3.micro","region":"eu-west-1","allocatedStorage":20,"engine":"postgres"}},` +
	`"status":{"atProvider":{"address":"xdb.example.internal","arn":"arn:aws:rds:eu-west-1:123456789012:db:xdb-%05d","status":"available"},` +
	`"conditions":[{"lastTransitionTime":"2026-01-01T00:00:00Z","reason":"ReconcileSuccess","status":"True","type":"Synced"},` +
	`{"lastTransitionTime":"2026-01-01T00:00:00Z","reason":"Available","status":"True","type":"Ready"}]}}`

// BenchmarkCacheMemory reports the heap a cached managed resource takes, with its share
// of the informer's store and indexes: kept as the manager cache kept it before
// (stripped, as unstructured maps) and as compact.
//
//	go test -run '^$' -bench CacheMemory ./controllers/watches
func BenchmarkCacheMemory(b *testing.B) {
	const n = 20000
	m := newManager(Options{})
	m.remember(sources.Kind{GVK: mrGVK, KeepSpec: crossplane.KeepSpec(), Trim: crossplane.TrimResource})
	indexes := kindIndexes(nil)
	for _, tc := range []struct {
		name      string
		transform toolscache.TransformFunc
	}{
		{"unstructured", func(obj any) (any, error) { return m.stripSource(obj), nil }},
		{"compact", compactor(m.stripSource, indexes)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for range b.N {
				raw := make([][]byte, n)
				for i := range raw {
					c := i / 5
					raw[i] = fmt.Appendf(nil, managedResource, c, i%5, c, c, i%5, c, 1000+i, i, c)
				}
				store := toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc, indexers(indexes, false))
				before := heapInUse()
				for _, r := range raw {
					obj, _, err := unstructured.UnstructuredJSONScheme.Decode(r, nil, nil)
					if err != nil {
						b.Fatal(err)
					}
					item, _ := tc.transform(obj)
					if err := store.Add(item); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(heapInUse()-before)/n, "heap-bytes/object")
				runtime.KeepAlive(raw)
				runtime.KeepAlive(store)
			}
		})
	}
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
