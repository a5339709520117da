package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Label and annotation keys that other tools read or write.
const (
	// AnnotationPrefix is the prefix of entityhub's own labels and annotations, on
	// entities and on sources (DESIGN.md §1): the API group and a slash.
	AnnotationPrefix = Group + "/"
	// KubernetesIDLabel is the label the Backstage Kubernetes plugin selects on. A source
	// with it belongs to the entity it names; every CatalogEntity carries it with its
	// own name.
	KubernetesIDLabel = "backstage.io/kubernetes-id"
	// ManagedByLabel marks entities the controller created, and so may delete.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	// ManagedByValue is the value of ManagedByLabel on auto-created entities.
	ManagedByValue = "entityhub"
)

// Condition types of a CatalogEntity. The reason of Ready and Synced is the health or
// sync word; SourcesResolved has reasons of its own (Reason*), because what is wrong with
// a spec.sources entry is not a health.
const (
	// ConditionReady is True when the entity's health is Healthy.
	ConditionReady = "Ready"
	// ConditionSynced is True when every source that has a sync state is Synced.
	ConditionSynced = "Synced"
	// ConditionSourcesResolved is True when every spec.sources entry could be read: its
	// apiVersion and selector are valid, its kind is watched and listable, and the object
	// it names exists. When False, its reason says what to fix in the first entry that
	// could not, and its message names each such entry by index.
	ConditionSourcesResolved = "SourcesResolved"
)

// ConditionPublished is False when the catalog endpoint leaves the entity out because
// another CatalogEntity names the same Backstage entity (reason DuplicateEntity); it is
// absent otherwise.
const ConditionPublished = "Published"

// ReasonDuplicateEntity is the Published reason when another CatalogEntity names the same Backstage entity, and this
// one is not the one published (the catalog namespace's wins; without it none does).
const ReasonDuplicateEntity = "DuplicateEntity"

// ConditionRolledUp is False when the entity's spec.system or spec.domain names the
// entity itself, or one of its own members: following that reference would make the
// entity a member of itself, so it is not followed (reason RollUpCycle); it is absent
// otherwise. Health, ready and the members the entity has are computed as usual.
const ConditionRolledUp = "RolledUp"

// ReasonRollUpCycle is the RolledUp reason when spec.system or spec.domain names the
// entity itself, or one of its own members; the message names the field and the entity.
const ReasonRollUpCycle = "RollUpCycle"

// Reasons of the SourcesResolved condition.
const (
	// ReasonResolved: every spec.sources entry was read.
	ReasonResolved = "Resolved"
	// ReasonInvalidAPIVersion: an entry's apiVersion is not <group>/<version>.
	ReasonInvalidAPIVersion = "InvalidAPIVersion"
	// ReasonInvalidSelector: an entry's label selector does not parse.
	ReasonInvalidSelector = "InvalidSelector"
	// ReasonKindNotWatched: an entry's kind has no CRD installed, or is not a source kind.
	ReasonKindNotWatched = "KindNotWatched"
	// ReasonKindNotListable: the manager may not list and watch an entry's kind.
	ReasonKindNotListable = "KindNotListable"
	// ReasonSourceNotFound: the object an entry names does not exist.
	ReasonSourceNotFound = "SourceNotFound"
	// ReasonNamespaceNotAllowed: an entry names another namespace, or a cluster-scoped
	// kind, while the entity's namespace may take sources only from itself (see the
	// manager's --cluster-wide-source-namespaces).
	ReasonNamespaceNotAllowed = "NamespaceNotAllowed"
	// ReasonTooManyObjects: an entry's selector matches more objects than one entry may
	// take (MaxSelectedObjects); the rest are counted, not read.
	ReasonTooManyObjects = "TooManyObjects"
)

// MaxSelectedObjects is how many objects one spec.sources selector may take: a selector
// is read on every reconcile of its entity, and one that matches a whole fleet would
// occupy the workers and fill the status with other teams' objects.
const MaxSelectedObjects = 500

// Health is how a source or an entity is doing, in Argo CD's words.
// +kubebuilder:validation:Enum=Healthy;Suspended;Progressing;Missing;Degraded;Unknown
type Health string

// The health words, from best to worst; an entity's health is the worst of its sources.
const (
	HealthHealthy     Health = "Healthy"
	HealthSuspended   Health = "Suspended"
	HealthProgressing Health = "Progressing"
	HealthMissing     Health = "Missing"
	HealthDegraded    Health = "Degraded"
	HealthUnknown     Health = "Unknown"
)

// SyncStatus is whether what is deployed matches what is declared, in Argo CD's words.
// +kubebuilder:validation:Enum=Synced;OutOfSync;Unknown
type SyncStatus string

// The sync words, from best to worst.
const (
	SyncSynced    SyncStatus = "Synced"
	SyncOutOfSync SyncStatus = "OutOfSync"
	SyncUnknown   SyncStatus = "Unknown"
)

// EntityKind is the Backstage kind an entity is published as.
// +kubebuilder:validation:Enum=Component;Resource;System;API;Domain
type EntityKind string

// The Backstage kinds a CatalogEntity can be.
const (
	KindComponent EntityKind = "Component"
	KindResource  EntityKind = "Resource"
	KindSystem    EntityKind = "System"
	KindAPI       EntityKind = "API"
	KindDomain    EntityKind = "Domain"
)

// EntityRef is a Backstage entity reference, [<kind>:][<namespace>/]<name>, such as
// group:default/payments or payments-db. Each part follows Backstage's catalog-model
// rules, so that a reference the API server accepts is one Backstage accepts too.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=191
// +kubebuilder:validation:XValidation:rule="self.matches('^([a-zA-Z][a-zA-Z0-9]*:)?([a-z0-9]+(-[a-z0-9]+)*/)?[a-zA-Z0-9]+([-_.][a-zA-Z0-9]+)*$') && self.matches('^([^:/]{1,63}:)?([^/]{1,63}/)?[^:/]{1,63}$')",message="must be a Backstage entity reference [<kind>:][<namespace>/]<name>, such as group:default/payments: kind of letters and digits, namespace of lowercase letters, digits and '-', name of letters and digits separated by single '-', '_' or '.', each part at most 63 characters"
type EntityRef string

// Tag is a Backstage tag: lowercase letters, digits, '+' and '#', in words joined by
// single '-', at most 63 characters.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=63
// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9+#]+(-[a-z0-9+#]+)*$')",message="must be a Backstage tag: lowercase letters, digits, '+' and '#', in words joined by single '-', such as java or team-payments"
type Tag string

// Link is a link shown on the entity's page in Backstage.
type Link struct {
	// URL the link points to; an absolute URL such as https://grafana.example.com/d/abc.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() != ''",message="must be an absolute URL with a scheme, such as https://example.com/dashboard"
	URL string `json:"url"`

	// Title is the text shown for the link.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Title string `json:"title,omitempty"`

	// Icon is the key of a Backstage system icon, such as dashboard or docs.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Icon string `json:"icon,omitempty"`

	// Type is a free-form classification of the link, such as runbook or dashboard.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Type string `json:"type,omitempty"`
}

// SourceSelector names objects that belong to the entity, besides those labelled
// backstage.io/kubernetes-id with its name. It selects either one object by name or
// many by label selector.
// +kubebuilder:validation:XValidation:rule="has(self.name) != has(self.selector)",message="a source sets exactly one of name (one object) or selector (objects by label)"
// +kubebuilder:validation:XValidation:rule="!has(self.selector) || (has(self.selector.matchLabels) && size(self.selector.matchLabels) > 0) || (has(self.selector.matchExpressions) && size(self.selector.matchExpressions) > 0)",message="a selector must have at least one term: an empty selector would select every object of the kind"
type SourceSelector struct {
	// APIVersion of the source objects, such as argoproj.io/v1alpha1.
	// +required
	// +kubebuilder:validation:MaxLength=317
	// +kubebuilder:validation:XValidation:rule="self.matches('^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?v[0-9]+((alpha|beta)[0-9]+)?$')",message="must be an API version such as argoproj.io/v1alpha1 or v1"
	APIVersion string `json:"apiVersion"`

	// Kind of the source objects, such as Application.
	// +required
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="self.matches('^[A-Z][A-Za-z0-9]*$')",message="must be a Kubernetes kind such as Application: a capital letter, then letters and digits"
	Kind string `json:"kind"`

	// Namespace of the source objects. Empty means the entity's own namespace, or, for an
	// entity in a namespace allowed cluster-wide sources (the catalog namespace), every
	// namespace; a cluster-scoped kind has none. An entity elsewhere may name only its own
	// namespace.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="must be a Kubernetes namespace name: lowercase letters, digits and '-'"
	Namespace string `json:"namespace,omitempty"`

	// Name of one source object. A named object that does not exist is reported as a
	// Missing source, never silently dropped.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="must be a Kubernetes object name: lowercase letters, digits, '-' and '.'"
	Name string `json:"name,omitempty"`

	// Selector selects source objects by label.
	// +optional
	Selector *metav1.LabelSelector `json:"selector,omitempty"`
}

// CatalogEntitySpec is the Backstage descriptor of the entity, plus the sources it is
// made of. The controller never changes the spec of an entity it did not create.
type CatalogEntitySpec struct {
	// Kind is the Backstage kind the entity is published as.
	// +optional
	// +kubebuilder:default=Component
	Kind EntityKind `json:"kind,omitempty"`

	// Type of the entity within its kind, such as service, website or database.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Type string `json:"type,omitempty"`

	// Lifecycle stage, such as experimental, production or deprecated.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Lifecycle string `json:"lifecycle,omitempty"`

	// Owner is the entity reference of the group or user that owns the entity, such as
	// group:default/payments. Auto-created entities get the manager's --default-owner.
	// +optional
	Owner EntityRef `json:"owner,omitempty"`

	// System is the entity reference of the system the entity belongs to. A System
	// entity's status rolls up the health of the entities that name it here.
	// +optional
	System EntityRef `json:"system,omitempty"`

	// Domain is the entity reference of the domain a System belongs to. A Domain
	// entity's status rolls up the health of the Systems that name it here.
	// +optional
	Domain EntityRef `json:"domain,omitempty"`

	// Title is a human-readable name shown instead of metadata.name.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Title string `json:"title,omitempty"`

	// Description of the entity, shown on its page in Backstage.
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	Description string `json:"description,omitempty"`

	// Tags classify the entity in Backstage.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	Tags []Tag `json:"tags,omitempty"`

	// Links shown on the entity's page in Backstage.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	Links []Link `json:"links,omitempty"`

	// DependsOn lists entity references this entity depends on. Relations found from what
	// is deployed are added to them in status.relations, never here.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	DependsOn []EntityRef `json:"dependsOn,omitempty"`

	// CatalogNamespace is the Backstage namespace the entity is published in.
	// +optional
	// +kubebuilder:default=default
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]+(-[a-z0-9]+)*$')",message="must be a Backstage namespace: lowercase letters, digits and '-', such as default"
	CatalogNamespace string `json:"catalogNamespace,omitempty"`

	// Sources lists objects that belong to the entity besides those labelled
	// backstage.io/kubernetes-id with its name.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	Sources []SourceSelector `json:"sources,omitempty"`
}

// SourceStatus is how one source of the entity is doing.
type SourceStatus struct {
	// ID identifies the source as <group>/<Kind>/<namespace>/<name>.
	// +required
	// +kubebuilder:validation:MaxLength=512
	ID string `json:"id"`

	// APIVersion of the source.
	// +required
	// +kubebuilder:validation:MaxLength=317
	APIVersion string `json:"apiVersion"`

	// Kind of the source.
	// +required
	// +kubebuilder:validation:MaxLength=63
	Kind string `json:"kind"`

	// Namespace of the source; empty for a cluster-scoped source.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`

	// Name of the source.
	// +required
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Cluster the source describes, such as an Argo CD Application's destination.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Cluster string `json:"cluster,omitempty"`

	// Health of the source.
	// +required
	Health Health `json:"health"`

	// Sync state of the source, for kinds that have one.
	// +optional
	Sync SyncStatus `json:"sync,omitempty"`

	// Phase is the kind's own word for where the source is, such as Running or
	// ReconcileError.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	Phase string `json:"phase,omitempty"`

	// Ready is "<healthy>/<all>" of what the source is made of, for a Crossplane claim or
	// composite: its composed resources, nested composites included.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	Ready string `json:"ready,omitempty"`

	// Message says why the source is not healthy.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`

	// LastTransitionTime is when the source's health last changed.
	// +optional
	LastTransitionTime *metav1.Time `json:"lastTransitionTime,omitempty"`
}

// RunStatus is one recent run of a workflow of the entity.
type RunStatus struct {
	// Name of the Workflow.
	// +required
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Namespace of the Workflow.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`

	// Phase of the run, such as Running, Succeeded or Failed.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Phase string `json:"phase,omitempty"`

	// StartedAt is when the run started.
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty"`

	// FinishedAt is when the run finished.
	// +optional
	FinishedAt *metav1.Time `json:"finishedAt,omitempty"`
}

// CatalogEntityStatus is how the entity is doing. The Backstage Kubernetes plugin shows
// every top-level scalar as a row, so the answer is in scalars; details follow in lists.
type CatalogEntityStatus struct {
	// Health is the worst health of the entity's sources.
	// +optional
	Health Health `json:"health,omitempty"`

	// Sync is the worst sync state over sources that have one; empty when none has.
	// +optional
	Sync SyncStatus `json:"sync,omitempty"`

	// Ready is "<healthy sources>/<sources>", such as "3/4".
	// +optional
	// +kubebuilder:validation:MaxLength=32
	Ready string `json:"ready,omitempty"`

	// Message is one line a person can act on: which source is worst, and why.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`

	// Revision is the revision Argo CD last synced, when an Application is a source.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Revision string `json:"revision,omitempty"`

	// Clusters lists the destination clusters of the entity's Applications, comma-separated.
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	Clusters string `json:"clusters,omitempty"`

	// LastRun is the phase of the entity's newest workflow run, such as Succeeded.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	LastRun string `json:"lastRun,omitempty"`

	// ObservedGeneration is the metadata.generation this status was computed for.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// SourceCount is the number of sources, also when status.sources lists fewer.
	// +optional
	SourceCount int32 `json:"sourceCount,omitempty"`

	// Relations are entity references this entity depends on, derived from what is
	// deployed; the catalog endpoint adds them to spec.dependsOn.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=191
	Relations []string `json:"relations,omitempty"`

	// Conditions are Ready (True when health is Healthy) and Synced, each with the health
	// or sync word as reason, and SourcesResolved (False when a spec.sources entry could
	// not be read, with a reason that says why); Published and RolledUp appear only when
	// False: the catalog leaves the entity out as a duplicate, or its spec.system or
	// spec.domain names the entity itself or one of its own members.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`

	// Runs are the entity's most recent workflow runs, newest first, at most 10. Only the
	// newest run of each template or schedule is a source; older ones are history.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=10
	Runs []RunStatus `json:"runs,omitempty"`

	// Sources lists the sources, worst first, at most 100, one entry per id;
	// sourceCount tells how many there are in all.
	//
	// The list is atomic, not a map keyed by id: only the manager writes status, always
	// the whole list, so per-entry merging serves no writer, while a map list makes the
	// API server track every entry's fields in managedFields on every write. For an
	// entity of 45 sources that doubled the object (22 kB against 13 kB) and halved the
	// status writes the API server could take (55/s against 98/s on 2 cores). The
	// manager keeps ids unique itself.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=100
	Sources []SourceStatus `json:"sources,omitempty"`
}

// CatalogEntity is one software entity — a Backstage Component, Resource, System, API or
// Domain — with the truth about how it is doing, gathered from the Argo CD Applications,
// Crossplane resources and Argo Workflows that make it up.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ce,categories=entityhub
// +kubebuilder:printcolumn:name="Kind",type=string,JSONPath=`.spec.kind`
// +kubebuilder:printcolumn:name="Owner",type=string,JSONPath=`.spec.owner`
// +kubebuilder:printcolumn:name="Health",type=string,JSONPath=`.status.health`
// +kubebuilder:printcolumn:name="Sync",type=string,JSONPath=`.status.sync`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.ready`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Message",type=string,JSONPath=`.status.message`,priority=1
// +kubebuilder:printcolumn:name="Clusters",type=string,JSONPath=`.status.clusters`,priority=1
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 63",message="metadata.name is the Backstage entity name and may have at most 63 characters"
// +kubebuilder:validation:XValidation:rule="self.metadata.name.matches('^[a-z0-9]+([-.][a-z0-9]+)*$')",message="metadata.name is the Backstage entity name: lowercase letters and digits separated by single '-' or '.'"
type CatalogEntity struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the entity's Backstage descriptor and the sources it is made of.
	// +optional
	// +kubebuilder:default={}
	Spec CatalogEntitySpec `json:"spec,omitempty"`

	// Status is how the entity is doing, written only by the controller.
	// +optional
	Status CatalogEntityStatus `json:"status,omitempty"`
}

// CatalogEntityList is a list of CatalogEntities.
//
// +kubebuilder:object:root=true
type CatalogEntityList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	// Items are the CatalogEntities listed.
	Items []CatalogEntity `json:"items"`
}
