package trace

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

// lockedBuffer is a buffer the test reads while Watch writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestWatchRedrawsOnChange(t *testing.T) {
	e := readEntity(t, "payments-api")
	e.ResourceVersion = "10"
	c := fake.NewClientBuilder().WithScheme(newScheme(t)).WithObjects(e).Build()
	watchers := make(chan *watch.FakeWatcher, 4)
	var fromVersions []string
	var mu sync.Mutex
	out := &lockedBuffer{}
	tr := &Tracer{
		Client: c, Namespace: e.Namespace, Out: out,
		Printer: Printer{Output: OutputYAML, Now: func() time.Time { return now }},
		WatchEntity: func(_ context.Context, namespace, name, rv string) (watch.Interface, error) {
			if namespace != e.Namespace || name != e.Name {
				t.Errorf("watching %s/%s, want %s/%s", namespace, name, e.Namespace, e.Name)
			}
			mu.Lock()
			fromVersions = append(fromVersions, rv)
			mu.Unlock()
			w := watch.NewFake()
			watchers <- w
			return w, nil
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tr.Watch(ctx, e.Name) }()

	w := <-watchers
	healed := e.DeepCopy()
	healed.ResourceVersion = "11"
	healed.Status.Health, healed.Status.Ready, healed.Status.Message = catalogv1alpha1.HealthHealthy, "2/2", "all 2 sources are Healthy"
	healed.Status.Sources[0].Health, healed.Status.Sources[0].Message = catalogv1alpha1.HealthHealthy, ""
	w.Modify(healed)
	same := healed.DeepCopy()
	same.ResourceVersion = "12" // a change the trace does not show: no new frame
	w.Modify(same)
	w.Stop() // the API server ends the watch: it is opened again from version 12

	w = <-watchers
	w.Delete(same)
	w.Error(nil) // an expired version: watched again from the current state

	w = <-watchers
	w.Add(healed)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	frames := strings.Split(out.String(), "---\n")
	if len(frames) != 4 {
		t.Fatalf("got %d frames, want 4 (first, healed, deleted, back):\n%s", len(frames), out.String())
	}
	if !strings.Contains(frames[0], "health: Degraded") || !strings.Contains(frames[1], "message: all 2 sources are Healthy") {
		t.Errorf("frames 1 and 2 are not the entity before and after:\n%s", out.String())
	}
	if !strings.Contains(frames[2], "CatalogEntity entityhub-system/payments-api was deleted; waiting for it to come back") {
		t.Errorf("frame 3 does not say the entity was deleted:\n%s", frames[2])
	}
	if frames[3] != frames[1] {
		t.Errorf("frame 4 is not the entity back again:\n%s", frames[3])
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"10", "12", ""}; strings.Join(fromVersions, ",") != strings.Join(want, ",") {
		t.Errorf("watched from versions %q, want %q", fromVersions, want)
	}
}
