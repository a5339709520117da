package catalogserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
)

// These tests answer TokenReviews and SubjectAccessReviews with an interceptor, to check
// what TokenAuthorizer asks and how it remembers; the reviews against a real API server
// (and RBAC) are in the end-to-end suite.

const backstageSA = "system:serviceaccount:backstage:backstage"

// reviewer plays the API server: token "backstage" is Backstage's ServiceAccount, which
// may list entities; "someone" is a user who may not; "broken" makes the review fail.
type reviewer struct {
	mu       sync.Mutex
	tokens   int
	accesses int
	lastSAR  authorizationv1.SubjectAccessReviewSpec
}

func (rv *reviewer) client(t *testing.T) client.Client {
	s := runtime.NewScheme()
	if err := authenticationv1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := authorizationv1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return interceptor.NewClient(fake.NewClientBuilder().WithScheme(s).Build(), interceptor.Funcs{
		Create: func(_ context.Context, _ client.WithWatch, obj client.Object, _ ...client.CreateOption) error {
			rv.mu.Lock()
			defer rv.mu.Unlock()
			switch o := obj.(type) {
			case *authenticationv1.TokenReview:
				rv.tokens++
				switch o.Spec.Token {
				case "backstage":
					o.Status = authenticationv1.TokenReviewStatus{Authenticated: true, User: authenticationv1.UserInfo{
						Username: backstageSA, UID: "uid-1",
						Groups: []string{"system:serviceaccounts", "system:serviceaccounts:backstage", "system:authenticated"},
						Extra:  map[string]authenticationv1.ExtraValue{"authentication.kubernetes.io/pod-name": {"backstage-0"}},
					}}
				case "someone":
					o.Status = authenticationv1.TokenReviewStatus{Authenticated: true, User: authenticationv1.UserInfo{Username: "someone"}}
				case "broken":
					return errors.New("the API server is down")
				default:
					o.Status = authenticationv1.TokenReviewStatus{Authenticated: false, Error: "invalid token"}
				}
				return nil
			case *authorizationv1.SubjectAccessReview:
				rv.accesses++
				rv.lastSAR = o.Spec
				o.Status.Allowed = o.Spec.User == backstageSA
				return nil
			}
			return fmt.Errorf("unexpected create of %T", obj)
		},
	})
}

func (rv *reviewer) calls() (int, int) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return rv.tokens, rv.accesses
}

func request(authorization string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if authorization != "" {
		r.Header.Set("Authorization", authorization)
	}
	return r
}

func TestTokenAuthorizer(t *testing.T) {
	tests := map[string]struct {
		header     string
		wantStatus int
		wantErr    string
		wantCalls  [2]int // TokenReviews, SubjectAccessReviews
	}{
		"no header":              {"", http.StatusUnauthorized, "needs a bearer token", [2]int{0, 0}},
		"basic auth":             {"Basic YTpi", http.StatusUnauthorized, "needs a bearer token", [2]int{0, 0}},
		"empty bearer":           {"Bearer ", http.StatusUnauthorized, "needs a bearer token", [2]int{0, 0}},
		"two words":              {"Bearer a b", http.StatusUnauthorized, "needs a bearer token", [2]int{0, 0}},
		"invalid token":          {"Bearer nope", http.StatusUnauthorized, "not valid", [2]int{1, 0}},
		"user without access":    {"Bearer someone", http.StatusForbidden, "someone may not list catalogentities.catalog.entityhub.dev", [2]int{1, 1}},
		"allowed ServiceAccount": {"Bearer backstage", http.StatusOK, "", [2]int{1, 1}},
		"scheme is case-blind":   {"bearer backstage", http.StatusOK, "", [2]int{1, 1}},
		"review fails":           {"Bearer broken", http.StatusInternalServerError, "cannot review the token", [2]int{1, 0}},
		"surrounding spaces":     {"  Bearer   backstage  ", http.StatusOK, "", [2]int{1, 1}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			rv := &reviewer{}
			a := NewTokenAuthorizer(rv.client(t))
			status, err := a.Authorize(request(tt.header))
			if status != tt.wantStatus {
				t.Errorf("status = %d, want %d (err %v)", status, tt.wantStatus, err)
			}
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
			if tokens, accesses := rv.calls(); [2]int{tokens, accesses} != tt.wantCalls {
				t.Errorf("reviews = %d, %d; want %v", tokens, accesses, tt.wantCalls)
			}
		})
	}
}

func TestTokenAuthorizerAsksTheRightQuestion(t *testing.T) {
	rv := &reviewer{}
	if status, err := NewTokenAuthorizer(rv.client(t)).Authorize(request("Bearer backstage")); status != http.StatusOK {
		t.Fatalf("= %d, %v", status, err)
	}
	want := authorizationv1.SubjectAccessReviewSpec{
		User: backstageSA, UID: "uid-1",
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:backstage", "system:authenticated"},
		Extra:  map[string]authorizationv1.ExtraValue{"authentication.kubernetes.io/pod-name": {"backstage-0"}},
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Group: "catalog.entityhub.dev", Resource: "catalogentities", Verb: "list", // all namespaces: Namespace ""
		},
	}
	if diff := cmp.Diff(want, rv.lastSAR); diff != "" {
		t.Errorf("SubjectAccessReview spec (-want +got):\n%s", diff)
	}
}

func TestTokenAuthorizerRemembers(t *testing.T) {
	rv := &reviewer{}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := NewTokenAuthorizer(rv.client(t))
	a.Now = func() time.Time { return now }

	for _, token := range []string{"backstage", "someone", "nope"} {
		first, _ := a.Authorize(request("Bearer " + token))
		tokens, accesses := rv.calls()
		for range 5 {
			if again, _ := a.Authorize(request("Bearer " + token)); again != first {
				t.Errorf("%s: remembered %d, first was %d", token, again, first)
			}
		}
		if t2, a2 := rv.calls(); t2 != tokens || a2 != accesses {
			t.Errorf("%s: repeated requests within the TTL made %d more reviews", token, t2-tokens+a2-accesses)
		}
	}

	// After the TTL it asks again: a revoked token stops working soon.
	tokens, _ := rv.calls()
	now = now.Add(DefaultAuthTTL)
	_, _ = a.Authorize(request("Bearer backstage"))
	if t2, _ := rv.calls(); t2 != tokens+1 {
		t.Errorf("after the TTL: %d new TokenReviews, want 1", t2-tokens)
	}

	// A failed review is remembered briefly: a burst while the API server is away
	// costs one review, and it is asked again soon.
	before, _ := rv.calls()
	for range 3 {
		if status, _ := a.Authorize(request("Bearer broken")); status != http.StatusInternalServerError {
			t.Errorf("a failed review: %d, want 500", status)
		}
	}
	if after, _ := rv.calls(); after != before+1 {
		t.Errorf("%d reviews for 3 requests with a failing review at once, want 1", after-before)
	}
	now = now.Add(DefaultReviewErrorTTL)
	_, _ = a.Authorize(request("Bearer broken"))
	if after, _ := rv.calls(); after != before+2 {
		t.Errorf("after the error TTL: %d reviews in all, want 2", after-before)
	}
}

func TestTokenAuthorizerLimitsReviewsOfUnknownTokens(t *testing.T) {
	rv := &reviewer{}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := NewTokenAuthorizer(rv.client(t))
	a.Now = func() time.Time { return now }
	a.ReviewRate, a.ReviewBurst = 1, 3
	a.TTL = 100 * time.Millisecond // expires before the budget refills

	// Backstage's token passes a review first.
	if status, _ := a.Authorize(request("Bearer backstage")); status != http.StatusOK {
		t.Fatalf("backstage: %d", status)
	}
	// Made-up tokens, each new: two more are reviewed (the burst), the rest refused.
	refused := 0
	for i := range 10 {
		status, err := a.Authorize(request(fmt.Sprintf("Bearer made-up-%d", i)))
		if status == http.StatusServiceUnavailable {
			refused++
			if !errors.Is(err, errTooManyReviews) {
				t.Errorf("refused with %v", err)
			}
		}
	}
	if tokens, _ := rv.calls(); tokens != 3 || refused != 8 {
		t.Errorf("%d TokenReviews, %d refused; want 3 and 8", tokens, refused)
	}
	// Backstage's decision expires while the budget is spent: it is reviewed anyway.
	now = now.Add(a.TTL)
	if status, _ := a.Authorize(request("Bearer made-up-y")); status != http.StatusServiceUnavailable {
		t.Fatalf("the budget is not spent: %d", status)
	}
	if status, _ := a.Authorize(request("Bearer backstage")); status != http.StatusOK {
		t.Errorf("backstage, once its decision expired, with the budget spent: %d, want 200", status)
	}
	if tokens, _ := rv.calls(); tokens != 4 {
		t.Errorf("%d TokenReviews, want 4", tokens)
	}
	// The budget refills at ReviewRate.
	now = now.Add(time.Second)
	if status, _ := a.Authorize(request("Bearer made-up-x")); status != http.StatusUnauthorized {
		t.Errorf("a made-up token after the budget refilled: %d, want 401", status)
	}
}

// TestTokenAuthorizerKeepsKnownTokens: made-up tokens do not push out the decisions of
// real callers.
func TestTokenAuthorizerKeepsKnownTokens(t *testing.T) {
	rv := &reviewer{}
	a := NewTokenAuthorizer(rv.client(t))
	a.MaxEntries = 3
	_, _ = a.Authorize(request("Bearer backstage"))
	for i := range 20 {
		_, _ = a.Authorize(request(fmt.Sprintf("Bearer made-up-%d", i)))
	}
	before, _ := rv.calls()
	if status, _ := a.Authorize(request("Bearer backstage")); status != http.StatusOK {
		t.Fatalf("backstage: %d", status)
	}
	if after, _ := rv.calls(); after != before {
		t.Errorf("backstage's decision was pushed out by made-up tokens: %d more reviews", after-before)
	}
}

func TestTokenAuthorizerIsBounded(t *testing.T) {
	rv := &reviewer{}
	a := NewTokenAuthorizer(rv.client(t))
	a.MaxEntries = 3
	for i := range 20 {
		_, _ = a.Authorize(request(fmt.Sprintf("Bearer made-up-%d", i)))
	}
	if n := len(a.others); n > 3 {
		t.Errorf("%d decisions remembered, want at most 3", n)
	}
	for k := range a.others {
		if strings.Contains(string(k[:]), "made-up") {
			t.Error("a raw token is kept in memory")
		}
	}
}

// TestHandlerWithTokenAuthorizer checks the two together, as the manager wires them.
func TestHandlerWithTokenAuthorizer(t *testing.T) {
	rv := &reviewer{}
	f := newFixture(t, fleet()...)
	f.handler.Authorizer = NewTokenAuthorizer(rv.client(t))
	if w := f.do(http.MethodGet, "/"); w.Code != http.StatusUnauthorized || w.Header().Get("WWW-Authenticate") != `Bearer realm="entityhub"` {
		t.Errorf("without a token: %d, WWW-Authenticate %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}
	if w := f.do(http.MethodGet, "/", "Authorization", "Bearer someone"); w.Code != http.StatusForbidden {
		t.Errorf("someone: %d, want 403", w.Code)
	}
	if w := f.do(http.MethodGet, "/", "Authorization", "Bearer backstage"); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "kind: Component") {
		t.Errorf("backstage: %d %q", w.Code, w.Body)
	}
}
