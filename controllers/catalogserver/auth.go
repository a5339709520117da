package catalogserver

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
)

// The manager creates TokenReviews and SubjectAccessReviews to check callers of the
// catalog endpoint when its authentication is on.
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create

// Authorizer decides whether a request may read the catalog.
type Authorizer interface {
	// Authorize returns http.StatusOK and no error when r may read the catalog; else
	// the status to answer (401 when the caller is not known, 403 when it is not
	// allowed, 5xx when it could not be checked) and an error whose text is sent to the
	// caller, so it says what to fix and nothing secret.
	Authorize(r *http.Request) (status int, err error)
}

// Defaults of a TokenAuthorizer.
const (
	// DefaultAuthTTL is how long a decision is remembered: long enough that a Backstage
	// polling every few seconds costs no API call per request, short enough that a
	// revoked token or a removed RoleBinding stops working soon.
	DefaultAuthTTL = 10 * time.Second
	// DefaultAuthCacheSize bounds the decisions remembered, so that callers sending
	// made-up tokens cannot grow memory.
	DefaultAuthCacheSize = 1024
	// reviewTimeout bounds the two API calls of one check.
	reviewTimeout = 10 * time.Second
)

// TokenAuthorizer admits a request whose bearer token belongs to a user or
// ServiceAccount allowed to list catalogentities.catalog.entityhub.dev in all
// namespaces — what the endpoint shows — the same question the API server would ask
// that caller. It asks the API server with a TokenReview, then a SubjectAccessReview,
// and remembers each answer, allowed or not, for TTL.
type TokenAuthorizer struct {
	// Client creates the reviews; they are never cached by controller-runtime, so the
	// manager's client does.
	Client client.Client
	// TTL is how long a decision is remembered; DefaultAuthTTL when zero.
	TTL time.Duration
	// MaxEntries bounds the remembered decisions; DefaultAuthCacheSize when zero.
	MaxEntries int
	// Now is the clock, for tests; time.Now when nil.
	Now func() time.Time

	mu      sync.Mutex
	entries map[[sha256.Size]byte]decision
}

// decision is a remembered answer. Tokens are remembered by their hash only.
type decision struct {
	status  int
	err     error
	expires time.Time
}

// NewTokenAuthorizer returns a TokenAuthorizer that asks through c (the manager's client)
// and has the default TTL and size.
func NewTokenAuthorizer(c client.Client) *TokenAuthorizer {
	return &TokenAuthorizer{Client: c}
}

// errNoToken is the answer to a request without a bearer token.
var errNoToken = errors.New("this endpoint needs a bearer token: send Authorization: Bearer <token> of a ServiceAccount allowed to list catalogentities.catalog.entityhub.dev")

// Authorize implements Authorizer.
func (a *TokenAuthorizer) Authorize(r *http.Request) (int, error) {
	token, ok := bearerToken(r.Header.Get("Authorization"))
	if !ok {
		return http.StatusUnauthorized, errNoToken
	}
	key := sha256.Sum256([]byte(token))
	now := a.now()
	if d, ok := a.cached(key, now); ok {
		return d.status, d.err
	}
	ctx, cancel := context.WithTimeout(r.Context(), reviewTimeout)
	defer cancel()
	status, err := a.review(ctx, token)
	if status < 500 {
		// Allowed, unauthenticated and forbidden are answers worth remembering; a failed
		// review is not: the next request should try again.
		a.remember(key, decision{status: status, err: err, expires: now.Add(a.ttl())})
	}
	return status, err
}

// review asks the API server who the token is and whether that caller may list entities.
func (a *TokenAuthorizer) review(ctx context.Context, token string) (int, error) {
	tr := &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token}}
	if err := a.Client.Create(ctx, tr); err != nil {
		return http.StatusInternalServerError, fmt.Errorf("cannot review the token: %w", err)
	}
	if !tr.Status.Authenticated {
		return http.StatusUnauthorized, errors.New("the bearer token is not valid")
	}
	u := tr.Status.User
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:   u.Username,
		Groups: u.Groups,
		UID:    u.UID,
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Group:    catalogv1alpha1.GroupVersion.Group,
			Resource: "catalogentities",
			Verb:     "list",
		},
	}}
	if len(u.Extra) > 0 {
		sar.Spec.Extra = make(map[string]authorizationv1.ExtraValue, len(u.Extra))
		for k, v := range u.Extra {
			sar.Spec.Extra[k] = authorizationv1.ExtraValue(v)
		}
	}
	if err := a.Client.Create(ctx, sar); err != nil {
		return http.StatusInternalServerError, fmt.Errorf("cannot review %s's access: %w", u.Username, err)
	}
	if !sar.Status.Allowed || sar.Status.Denied {
		return http.StatusForbidden, fmt.Errorf("%s may not list catalogentities.%s in all namespaces",
			u.Username, catalogv1alpha1.GroupVersion.Group)
	}
	return http.StatusOK, nil
}

func (a *TokenAuthorizer) cached(key [sha256.Size]byte, now time.Time) (decision, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	d, ok := a.entries[key]
	if !ok || !now.Before(d.expires) {
		return decision{}, false
	}
	return d, true
}

func (a *TokenAuthorizer) remember(key [sha256.Size]byte, d decision) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.entries == nil {
		a.entries = map[[sha256.Size]byte]decision{}
	}
	if _, ok := a.entries[key]; !ok && len(a.entries) >= a.maxEntries() {
		now := a.now()
		for k, old := range a.entries {
			if !now.Before(old.expires) {
				delete(a.entries, k)
			}
		}
		for k := range a.entries {
			if len(a.entries) < a.maxEntries() {
				break
			}
			delete(a.entries, k) // all still fresh: forget an arbitrary one
		}
	}
	a.entries[key] = d
}

func (a *TokenAuthorizer) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *TokenAuthorizer) ttl() time.Duration {
	if a.TTL > 0 {
		return a.TTL
	}
	return DefaultAuthTTL
}

func (a *TokenAuthorizer) maxEntries() int {
	if a.MaxEntries > 0 {
		return a.MaxEntries
	}
	return DefaultAuthCacheSize
}

// bearerToken returns the token of an "Authorization: Bearer <token>" header; the scheme
// is case-insensitive (RFC 9110 §11.1).
func bearerToken(h string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	if token == "" || strings.ContainsAny(token, " \t") {
		return "", false
	}
	return token, true
}
