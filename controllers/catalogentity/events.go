package catalogentity

import (
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/entitystatus"
)

// Event reasons on CatalogEntities.
const (
	// ReasonHealthImproved: the entity's health got better (a Normal event).
	ReasonHealthImproved = "HealthImproved"
	// ReasonHealthWorsened: the entity's health got worse (a Warning event).
	ReasonHealthWorsened = "HealthWorsened"
	// ReasonDiscovered: the entity was created for sources labelled with its name.
	ReasonDiscovered = "Discovered"
	// ReasonInvalidAnnotation: a catalog.entityhub.dev/* annotation on a source was
	// ignored because Backstage would reject its value.
	ReasonInvalidAnnotation = "InvalidAnnotation"
)

// Event actions: what the manager did when it recorded an event (events.k8s.io/v1
// requires one).
const (
	// ActionCreate: the manager created the entity.
	ActionCreate = "Create"
	// ActionReconcile: the manager recomputed the entity's status.
	ActionReconcile = "Reconcile"
)

// Health events of one entity: a burst of healthEventBurst, then one per
// healthEventEvery. A flapping source (a rollout that goes Progressing and back on every
// sync, a probe that fails now and then) would otherwise make an Event per change: noise
// for people, and as many writes to the API server as the status itself.
const (
	healthEventBurst = 5
	healthEventEvery = time.Minute
)

// recordsEvents reports whether events are recorded on entity: only in the catalog
// namespace, the one namespace where the manager may write events (config/rbac). An
// entity elsewhere belongs to a tenant, whose namespace the manager writes nothing into
// but the entity's label and status: its state is in its status and conditions.
func (r *Reconciler) recordsEvents(entity *catalogv1alpha1.CatalogEntity) bool {
	return r.recorder != nil && entity.Namespace == r.catalogNamespace
}

// recordHealthTransition emits one event when the entity's health changed: Normal when
// it got better, Warning when worse. The first status of an entity is no transition.
// Transitions beyond the entity's event budget are counted, and the next event that is
// recorded says how many it stands for; the status always tells the current health.
func (r *Reconciler) recordHealthTransition(entity *catalogv1alpha1.CatalogEntity, before catalogv1alpha1.Health, next catalogv1alpha1.CatalogEntityStatus) {
	if !r.recordsEvents(entity) || before == "" || before == next.Health {
		return
	}
	ok, folded := r.events.allow(client.ObjectKeyFromObject(entity), r.now())
	if !ok {
		return
	}
	msg := fmt.Sprintf("%s → %s: %s", before, next.Health, next.Message)
	if folded > 0 {
		msg += fmt.Sprintf(" (after %d more health changes not recorded as events)", folded)
	}
	if entitystatus.Rank(next.Health) < entitystatus.Rank(before) {
		r.recorder.Eventf(entity, nil, corev1.EventTypeNormal, ReasonHealthImproved, ActionReconcile, "%s", msg)
		return
	}
	r.recorder.Eventf(entity, nil, corev1.EventTypeWarning, ReasonHealthWorsened, ActionReconcile, "%s", msg)
}

// eventLimiter keeps the health-event budget of each entity; nil allows every event.
type eventLimiter struct {
	mu       sync.Mutex
	entities map[types.NamespacedName]*eventBudget
}

type eventBudget struct {
	limiter *rate.Limiter
	folded  int // transitions not recorded since the last event
}

// allow reports whether an entity's transition at now may be recorded, and how many
// transitions were folded since its last recorded one.
func (l *eventLimiter) allow(key types.NamespacedName, now time.Time) (ok bool, folded int) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.entities == nil {
		l.entities = map[types.NamespacedName]*eventBudget{}
	}
	b, found := l.entities[key]
	if !found {
		b = &eventBudget{limiter: rate.NewLimiter(rate.Every(healthEventEvery), healthEventBurst)}
		l.entities[key] = b
	}
	if !b.limiter.AllowN(now, 1) {
		b.folded++
		return false, 0
	}
	folded, b.folded = b.folded, 0
	return true, folded
}

// forget drops an entity's budget when the entity is gone.
func (l *eventLimiter) forget(key types.NamespacedName) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.entities, key)
}
