package controllers

import (
	corev1 "k8s.io/api/core/v1"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/health"
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

// recordHealthTransition emits one event when the entity's health changed: Normal when
// it got better, Warning when worse. The first status of an entity is no transition.
func (r *CatalogEntityReconciler) recordHealthTransition(entity *catalogv1alpha1.CatalogEntity, before catalogv1alpha1.Health, next catalogv1alpha1.CatalogEntityStatus) {
	if r.Recorder == nil || before == "" || before == next.Health {
		return
	}
	if health.Rank(next.Health) < health.Rank(before) {
		r.Recorder.Eventf(entity, corev1.EventTypeNormal, ReasonHealthImproved, "%s → %s: %s", before, next.Health, next.Message)
		return
	}
	r.Recorder.Eventf(entity, corev1.EventTypeWarning, ReasonHealthWorsened, "%s → %s: %s", before, next.Health, next.Message)
}
