package catalogentity

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

func TestDeleteIfOrphaned(t *testing.T) {
	const uid = types.UID("0b5c4bd2-7a51-4bd6-a1f4-9d2f3c7a2e10")
	var orphanIn func(ns string, managed bool, since string) *catalogv1alpha1.CatalogEntity
	stamp := func(ago time.Duration) string { return testNow.Add(-ago).Format(time.RFC3339) }
	// orphan is an entity in the catalog namespace, auto-created when managed, with
	// the orphaned-since mark when since is not empty.
	orphan := func(managed bool, since string) *catalogv1alpha1.CatalogEntity {
		return orphanIn(testCatalogNamespace, managed, since)
	}
	orphanIn = func(ns string, managed bool, since string) *catalogv1alpha1.CatalogEntity {
		e := namedEntity(t, ns, "orders", "  owner: group:default/orders")
		e.UID = uid
		if managed {
			e.Labels = map[string]string{catalogv1alpha1.ManagedByLabel: catalogv1alpha1.ManagedByValue}
		}
		if since != "" {
			e.Annotations = map[string]string{OrphanedSinceAnnotation: since}
		}
		return e
	}

	type args struct {
		entity *catalogv1alpha1.CatalogEntity
		// objects is how many source objects the entity has.
		objects int
		// stale: the entity was changed on the server after it was read.
		stale bool
	}
	type want struct {
		result ctrl.Result
		err    error
		// mark is the orphaned-since annotation the entity is left with, if it is left.
		mark    string
		deleted bool
		// writes are the client calls made: "patch" or "delete <precondition uid>
		// <precondition resourceVersion>".
		writes []string
	}
	tests := map[string]struct {
		reason string
		args   args
		want   want
	}{
		"NotManaged": {
			reason: "An entity that people or GitOps wrote is never touched, whatever its mark says.",
			args:   args{entity: orphan(false, stamp(time.Hour))},
			want:   want{mark: stamp(time.Hour)},
		},
		"HasSources": {
			reason: "An auto-created entity with sources and no mark is left as it is, without a write.",
			args:   args{entity: orphan(true, ""), objects: 1},
		},
		"FirstSeenOrphaned": {
			reason: "An auto-created entity first seen without sources is marked with the time, and looked at again after the grace period.",
			args:   args{entity: orphan(true, "")},
			want:   want{result: ctrl.Result{RequeueAfter: DefaultGracePeriod}, mark: stamp(0), writes: []string{"patch"}},
		},
		"InsideGracePeriod": {
			reason: "Inside the grace period the entity waits for the time left, without a write.",
			args:   args{entity: orphan(true, stamp(4*time.Minute))},
			want:   want{result: ctrl.Result{RequeueAfter: 6 * time.Minute}, mark: stamp(4 * time.Minute)},
		},
		"GracePeriodOver": {
			reason: "Once the grace period is over the entity is deleted, on condition it is still the one read.",
			args:   args{entity: orphan(true, stamp(DefaultGracePeriod))},
			want:   want{deleted: true, writes: []string{"delete " + string(uid) + " 999"}},
		},
		"OutsideCatalogNamespace": {
			reason: "An entity outside the catalog namespace is never deleted, whatever its labels and mark say: anyone there could have copied them.",
			args:   args{entity: orphanIn("team-a", true, stamp(24*time.Hour))},
			want:   want{mark: stamp(24 * time.Hour)},
		},
		"ChangedSinceRead": {
			reason: "An entity changed since it was read is not deleted, but judged again.",
			args:   args{entity: orphan(true, stamp(24*time.Hour)), stale: true},
			want: want{result: ctrl.Result{RequeueAfter: time.Second}, mark: stamp(24 * time.Hour),
				writes: []string{"delete " + string(uid) + " 999"}},
		},
		"LongPastGracePeriod": {
			reason: "A mark long past the grace period (the manager was down) deletes at once.",
			args:   args{entity: orphan(true, stamp(24*time.Hour))},
			want:   want{deleted: true, writes: []string{"delete " + string(uid) + " 999"}},
		},
		"SourcesBack": {
			reason: "When sources come back the mark is removed.",
			args:   args{entity: orphan(true, stamp(4*time.Minute)), objects: 2},
			want:   want{writes: []string{"patch"}},
		},
		"UnparsableMark": {
			reason: "A mark that is not a time is stamped anew, and the grace period starts again.",
			args:   args{entity: orphan(true, "yesterday")},
			want:   want{result: ctrl.Result{RequeueAfter: DefaultGracePeriod}, mark: stamp(0), writes: []string{"patch"}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var writes []string
			record := func(b *fake.ClientBuilder) {
				b.WithInterceptorFuncs(interceptor.Funcs{
					Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
						writes = append(writes, "patch")
						return c.Patch(ctx, obj, patch, opts...)
					},
					Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
						o := &client.DeleteOptions{}
						o.ApplyOptions(opts)
						var precondition types.UID
						var version string
						if o.Preconditions != nil && o.Preconditions.UID != nil {
							precondition = *o.Preconditions.UID
						}
						if o.Preconditions != nil && o.Preconditions.ResourceVersion != nil {
							version = *o.Preconditions.ResourceVersion
						}
						writes = append(writes, "delete "+string(precondition)+" "+version)
						return c.Delete(ctx, obj, opts...)
					},
				})
			}
			env := newUnitEnv(t, nil, nil, record, tc.args.entity.DeepCopy())
			read := &catalogv1alpha1.CatalogEntity{}
			if err := env.c.Get(context.Background(), client.ObjectKeyFromObject(tc.args.entity), read); err != nil {
				t.Fatal(err)
			}
			if tc.args.stale {
				changed := read.DeepCopy()
				changed.Spec.Lifecycle = "production"
				if err := env.c.Update(context.Background(), changed); err != nil {
					t.Fatal(err)
				}
			}

			var got want
			got.result, got.err = env.r.deleteIfOrphaned(context.Background(), read, tc.args.objects)
			got.writes = writes
			stored := &catalogv1alpha1.CatalogEntity{}
			switch err := env.c.Get(context.Background(), client.ObjectKeyFromObject(tc.args.entity), stored); {
			case apierrors.IsNotFound(err):
				got.deleted = true
			case err != nil:
				t.Fatal(err)
			default:
				got.mark = stored.Annotations[OrphanedSinceAnnotation]
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{}), cmpopts.EquateErrors(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("\n%s\ndeleteIfOrphaned(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
