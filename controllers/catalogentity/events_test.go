package catalogentity

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

func TestEventLimiter(t *testing.T) {
	var l eventLimiter
	key := types.NamespacedName{Namespace: "ns", Name: "flappy"}
	other := types.NamespacedName{Namespace: "ns", Name: "calm"}
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

	for i := range healthEventBurst {
		if ok, folded := l.allow(key, t0); !ok || folded != 0 {
			t.Fatalf("transition %d of the burst: allow = %v, %d; want true, 0", i, ok, folded)
		}
	}
	for i := range 3 {
		if ok, _ := l.allow(key, t0.Add(time.Duration(i)*time.Second)); ok {
			t.Fatalf("transition %d past the burst was allowed", i)
		}
	}
	if ok, folded := l.allow(other, t0); !ok || folded != 0 {
		t.Fatalf("another entity: allow = %v, %d; want its own budget", ok, folded)
	}
	if ok, folded := l.allow(key, t0.Add(healthEventEvery)); !ok || folded != 3 {
		t.Fatalf("after %s: allow = %v, %d; want true, 3 folded", healthEventEvery, ok, folded)
	}
	if ok, _ := l.allow(key, t0.Add(healthEventEvery)); ok {
		t.Fatal("a second transition in the same refill was allowed")
	}

	l.forget(key)
	if ok, folded := l.allow(key, t0.Add(healthEventEvery)); !ok || folded != 0 {
		t.Fatalf("after forget: allow = %v, %d; want a fresh budget", ok, folded)
	}

	var none *eventLimiter
	if ok, _ := none.allow(key, t0); !ok {
		t.Fatal("a nil limiter must allow every event")
	}
}
