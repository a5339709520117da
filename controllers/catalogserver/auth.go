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

	"golang.org/x/time/rate"
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
	// DefaultReviewErrorTTL is how long a review that failed (the API server did not
	// answer) is remembered: briefly, so that a burst of requests while the API server
	// is away costs one review a second, and it is asked again soon after it is back.
	DefaultReviewErrorTTL = time.Second
	// DefaultAuthCacheSize bounds the decisions remembered, each of known tokens and of
	// others, so that callers sending made-up tokens cannot grow memory, nor push out
	// the decisions of real callers.
	DefaultAuthCacheSize = 1024
	// DefaultReviewRate and DefaultReviewBurst bound the TokenReviews of tokens that
	// have not passed one before: a caller sending a new made-up token with every
	// request costs the API server at most 5 reviews a second (after a burst of 20),
	// and is answered 503 beyond that. A token that has passed a review (Backstage's)
	// is checked again when its decision expires without waiting for this budget, so
	// such a caller cannot lock it out.
	DefaultReviewRate  = rate.Limit(5)
	DefaultReviewBurst = 20
	// reviewTimeout bounds the two API calls of one check.
	reviewTimeout = 10 * time.Second
)

// TokenAuthorizer admits a request whose bearer token belongs to a user or
// ServiceAccount allowed to list catalogentities.catalog.entityhub.dev in all
// namespaces — what the endpoint shows — the same question the API server would ask
// that caller. It asks the API server with a TokenReview, then a SubjectAccessReview,
// and remembers each answer, allowed or not, for TTL, and a review that failed for
// ReviewErrorTTL. Reviews of tokens it has not seen pass a review are rate-limited
// (ReviewRate, ReviewBurst); beyond that it answers 503.
type TokenAuthorizer struct {
	// Client creates the reviews; they are never cached by controller-runtime, so the
	// manager's client does.
	Client client.Client
	// TTL is how long a decision is remembered; DefaultAuthTTL when zero.
	TTL time.Duration
	// ReviewErrorTTL is how long a failed review is remembered; DefaultReviewErrorTTL
	// when zero.
	ReviewErrorTTL time.Duration
	// MaxEntries bounds each of the two sets of remembered decisions (of tokens that
	// passed a TokenReview, and of others); DefaultAuthCacheSize when zero.
	MaxEntries int
	// ReviewRate and ReviewBurst bound the reviews of tokens not known to be valid;
	// DefaultReviewRate and DefaultReviewBurst when zero.
	ReviewRate  rate.Limit
	ReviewBurst int
	// Now is the clock, for tests; time.Now when nil.
	Now func() time.Time

	mu sync.Mutex
	// known holds the decisions of tokens that passed a TokenReview, allowed or not;
	// others holds those of tokens that did not, and failed reviews. Tokens are
	// remembered by their hash only.
	known, others map[[sha256.Size]byte]decision
	limiter       *rate.Limiter
}

// decision is a remembered answer.
type decision struct {
	status  int
	err     error
	expires time.Time
}

// NewTokenAuthorizer returns a TokenAuthorizer that asks through c (the manager's client)
// with the default TTLs, size and rate.
func NewTokenAuthorizer(c client.Client) *TokenAuthorizer {
	return &TokenAuthorizer{Client: c}
}

var (
	// errNoToken is the answer to a request without a bearer token.
	errNoToken = errors.New("this endpoint needs a bearer token: send Authorization: Bearer <token> of a ServiceAccount allowed to list catalogentities.catalog.entityhub.dev")
	// errTooManyReviews is the answer when the review budget is spent.
	errTooManyReviews = errors.New("too many unknown tokens to review right now; try again shortly")
)

// Authorize implements Authorizer.
func (a *TokenAuthorizer) Authorize(r *http.Request) (int, error) {
	token, ok := bearerToken(r.Header.Get("Authorization"))
	if !ok {
		return http.StatusUnauthorized, errNoToken
	}
	key := sha256.Sum256([]byte(token))
	now := a.now()
	d, fresh, known := a.cached(key, now)
	if fresh {
		return d.status, d.err
	}
	if !known && !a.allowReview(now) {
		return http.StatusServiceUnavailable, errTooManyReviews
	}
	ctx, cancel := context.WithTimeout(r.Context(), reviewTimeout)
	defer cancel()
	status, err := a.review(ctx, token)
	a.remember(key, status, err, now)
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

// cached returns the remembered decision about the token of key; fresh when it has not
// expired, known when the token passed a TokenReview before.
func (a *TokenAuthorizer) cached(key [sha256.Size]byte, now time.Time) (d decision, fresh, known bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if d, ok := a.others[key]; ok && now.Before(d.expires) {
		return d, true, false
	}
	d, known = a.known[key]
	return d, known && now.Before(d.expires), known
}

// allowReview reports whether the review budget allows one more review now.
func (a *TokenAuthorizer) allowReview(now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.limiter == nil {
		r, b := a.ReviewRate, a.ReviewBurst
		if r <= 0 {
			r = DefaultReviewRate
		}
		if b <= 0 {
			b = DefaultReviewBurst
		}
		a.limiter = rate.NewLimiter(r, b)
	}
	return a.limiter.AllowN(now, 1)
}

// remember keeps the answer of a review: among the known tokens when the token passed
// the TokenReview (allowed or forbidden), else among the others — for TTL, or
// ReviewErrorTTL when the review failed. A token that was known and is no longer
// valid leaves the known ones; a failed review does not make a known token unknown.
func (a *TokenAuthorizer) remember(key [sha256.Size]byte, status int, err error, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.known == nil {
		a.known, a.others = map[[sha256.Size]byte]decision{}, map[[sha256.Size]byte]decision{}
	}
	d := decision{status: status, err: err, expires: now.Add(a.ttl())}
	switch status {
	case http.StatusOK, http.StatusForbidden:
		delete(a.others, key)
		a.keep(a.known, key, d, now)
	case http.StatusUnauthorized:
		delete(a.known, key)
		a.keep(a.others, key, d, now)
	default:
		d.expires = now.Add(a.reviewErrorTTL())
		a.keep(a.others, key, d, now)
	}
}

// keep puts d into m, first making room when m is full: expired decisions go, then the
// one that expires soonest.
func (a *TokenAuthorizer) keep(m map[[sha256.Size]byte]decision, key [sha256.Size]byte, d decision, now time.Time) {
	if _, ok := m[key]; !ok && len(m) >= a.maxEntries() {
		for k, old := range m {
			if !now.Before(old.expires) {
				delete(m, k)
			}
		}
		for len(m) >= a.maxEntries() {
			var soonest [sha256.Size]byte
			first := true
			for k, old := range m {
				if first || old.expires.Before(m[soonest].expires) {
					soonest, first = k, false
				}
			}
			delete(m, soonest)
		}
	}
	m[key] = d
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

func (a *TokenAuthorizer) reviewErrorTTL() time.Duration {
	if a.ReviewErrorTTL > 0 {
		return a.ReviewErrorTTL
	}
	return DefaultReviewErrorTTL
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
