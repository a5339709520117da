package testenv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

// Proxy stands between a manager and the test API server and fails requests on purpose:
// a resource the manager may no longer read (RBAC revoked), and with it the watches
// already open on it. Everything else passes through unchanged, watches streamed. It
// also counts requests, so that a spec can tell how many writes the manager made.
type Proxy struct {
	server    *http.Server
	transport http.RoundTripper
	target    *url.URL
	mu        sync.Mutex
	faults    map[string]int
	// drops are requests to carry out upstream but answer with a dropped connection.
	drops []*drop
	// streams are the requests in flight, with the function that ends each.
	streams map[*http.Request]context.CancelFunc
	// counters count the requests that match them.
	counters []*Counter
}

// Counter counts the requests of one method whose path contains a part, from when
// Proxy.Count made it: refused, dropped and passed ones alike, since each is a request
// the manager made.
type Counter struct {
	method, part string
	n            atomic.Int64
}

// N returns how many requests the counter has counted.
func (c *Counter) N() int { return int(c.n.Load()) }

// StartProxy starts a Proxy in front of the API server of upstream and returns it with
// a config that reaches the API server through it, as the same user.
func StartProxy(upstream *rest.Config) (*Proxy, *rest.Config, error) {
	target, err := url.Parse(upstream.Host)
	if err != nil {
		return nil, nil, err
	}
	transport, err := rest.TransportFor(upstream)
	if err != nil {
		return nil, nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	p := &Proxy{faults: map[string]int{}, streams: map[*http.Request]context.CancelFunc{}, transport: transport, target: target}
	forward := &httputil.ReverseProxy{
		Rewrite:       func(r *httputil.ProxyRequest) { r.SetURL(target) },
		Transport:     transport,
		FlushInterval: -1, // watches are streams
	}
	p.server = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.count(r)
		if code, ok := p.faultFor(r.URL.Path); ok {
			writeStatus(w, code, r.URL.Path)
			return
		}
		if d := p.dropFor(r); d != nil {
			p.carryOutAndDrop(w, r, d)
			return
		}
		ctx, cancel := context.WithCancel(r.Context())
		r = r.WithContext(ctx)
		p.mu.Lock()
		p.streams[r] = cancel
		p.mu.Unlock()
		defer func() {
			p.mu.Lock()
			delete(p.streams, r)
			p.mu.Unlock()
			cancel()
		}()
		forward.ServeHTTP(w, r)
	})}
	go func() { _ = p.server.Serve(l) }()
	cfg := rest.CopyConfig(upstream)
	cfg.Host = "http://" + l.Addr().String()
	// The proxy authenticates upstream; the manager speaks to it in plain HTTP.
	cfg.TLSClientConfig = rest.TLSClientConfig{}
	cfg.BearerToken, cfg.BearerTokenFile, cfg.Username, cfg.Password = "", "", "", ""
	cfg.Impersonate = rest.ImpersonationConfig{}
	return p, cfg, nil
}

// Fail answers every request whose path contains part with code (and a Status the
// client decodes, such as Forbidden for 403) until the returned function is called, and
// ends the requests in flight that match, so that open watches fail too.
func (p *Proxy) Fail(part string, code int) (restore func()) {
	p.mu.Lock()
	p.faults[part] = code
	for r, cancel := range p.streams {
		if strings.Contains(r.URL.Path, part) {
			cancel()
		}
	}
	p.mu.Unlock()
	return func() {
		p.mu.Lock()
		delete(p.faults, part)
		p.mu.Unlock()
	}
}

// Count counts, from now on, the requests of method whose path contains part, such as
// PATCH requests to "/namespaces/shop/catalogentities/web/status": the status writes of
// one entity.
func (p *Proxy) Count(method, part string) *Counter {
	c := &Counter{method: method, part: part}
	p.mu.Lock()
	p.counters = append(p.counters, c)
	p.mu.Unlock()
	return c
}

func (p *Proxy) count(r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.counters {
		if r.Method == c.method && strings.Contains(r.URL.Path, c.part) {
			c.n.Add(1)
		}
	}
}

// drop is a DropAnswers rule.
type drop struct {
	part, method string
	left         int
	done         chan struct{}
}

// DropAnswers carries out upstream the next n requests of method whose path contains
// part, then drops the connection instead of answering, as a network that fails on the
// way back does: the client cannot tell whether its write landed. The channel closes
// once n have been dropped.
func (p *Proxy) DropAnswers(part, method string, n int) <-chan struct{} {
	d := &drop{part: part, method: method, left: n, done: make(chan struct{})}
	p.mu.Lock()
	p.drops = append(p.drops, d)
	p.mu.Unlock()
	return d.done
}

func (p *Proxy) dropFor(r *http.Request) *drop {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, d := range p.drops {
		if d.left > 0 && r.Method == d.method && strings.Contains(r.URL.Path, d.part) {
			d.left--
			return d
		}
	}
	return nil
}

// carryOutAndDrop sends r upstream, waits for the answer, and closes the client's
// connection without passing it on.
func (p *Proxy) carryOutAndDrop(w http.ResponseWriter, r *http.Request, d *drop) {
	out := r.Clone(r.Context())
	out.URL.Scheme, out.URL.Host, out.Host, out.RequestURI = p.target.Scheme, p.target.Host, p.target.Host, ""
	if resp, err := p.transport.RoundTrip(out); err == nil {
		_ = resp.Body.Close()
	}
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
		}
	}
	p.mu.Lock()
	if d.left == 0 {
		select {
		case <-d.done:
		default:
			close(d.done)
		}
	}
	p.mu.Unlock()
}

// Stop closes the proxy and every request in flight.
func (p *Proxy) Stop() error {
	err := p.server.Close()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func (p *Proxy) faultFor(path string) (int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for part, code := range p.faults {
		if strings.Contains(path, part) {
			return code, true
		}
	}
	return 0, false
}

// writeStatus answers as the API server does when it refuses a request.
func writeStatus(w http.ResponseWriter, code int, path string) {
	reason := metav1.StatusReasonUnknown
	switch code {
	case http.StatusForbidden:
		reason = metav1.StatusReasonForbidden
	case http.StatusNotFound:
		reason = metav1.StatusReasonNotFound
	case http.StatusInternalServerError:
		reason = metav1.StatusReasonInternalError
	}
	status := metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure,
		Message:  fmt.Sprintf("%s is refused by the test proxy", path),
		Reason:   reason,
		Code:     int32(code),
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(status)
}
