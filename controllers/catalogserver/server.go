// Package catalogserver serves CatalogEntities as Backstage catalog descriptors over HTTP
// (DESIGN.md §5), so that Backstage's catalog can ingest hub-discovered entities with a
// plain `url` location. The descriptors themselves come from package catalog, which
// `entityhub export` shares; this package adds the server (HTTPS from a certificate
// directory that may rotate), the handler (handler.go: filters, ETag and 304), what
// bounds the work a request can cause (filter.go: canonical filters; render.go: shared
// and bounded renders; cache.go: rendered bodies) and token auth (auth.go, rate-limited).
package catalogserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// File names of the certificate and key in a Server's CertDir, by default.
const (
	DefaultCertName = "tls.crt"
	DefaultKeyName  = "tls.key"
)

// Timeouts of the Server. The body can be megabytes for a large fleet, so writes get
// more time than headers; slow or idle clients cannot hold connections forever.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 2 * time.Minute
	idleTimeout       = 2 * time.Minute
	// DefaultShutdownTimeout is how long Start waits for requests in flight once its
	// context is done.
	DefaultShutdownTimeout = 10 * time.Second
)

// Server serves Handler on Addr for as long as the manager runs. It is a
// manager.Runnable that does not need leader election: every replica reads the same
// entities from its own cache, so every replica can answer.
type Server struct {
	// Addr is the address to listen on, such as ":8082".
	Addr string
	// Handler answers requests, usually a *Handler.
	Handler http.Handler
	// CertDir, when set, makes the server speak HTTPS only, with the certificate and
	// key named CertName and KeyName in it (DefaultCertName and DefaultKeyName when
	// empty: the layout of a kubernetes.io/tls Secret, which cert-manager writes, and
	// the one controller-runtime's webhook and metrics servers read). They are read
	// again whenever they change (controller-runtime's certwatcher), so that a rotated
	// certificate is served without a restart.
	CertDir, CertName, KeyName string
	// TLSConfig, when set, makes the server speak HTTPS only with its certificates;
	// with CertDir, its other settings apply.
	TLSConfig *tls.Config
	// ShutdownTimeout bounds the graceful shutdown; DefaultShutdownTimeout when zero.
	ShutdownTimeout time.Duration
	// Log receives start and stop messages.
	Log logr.Logger
}

var (
	_ manager.Runnable               = (*Server)(nil)
	_ manager.LeaderElectionRunnable = (*Server)(nil)
)

// NeedLeaderElection implements manager.LeaderElectionRunnable: false, every replica serves.
func (s *Server) NeedLeaderElection() bool { return false }

// Start implements manager.Runnable: it listens on Addr, serves until ctx is done, then
// lets requests in flight finish within the shutdown timeout. It returns an error when
// it cannot listen, so that a taken port stops the manager instead of going unnoticed.
func (s *Server) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("catalog endpoint: listening on %s: %w", s.Addr, err)
	}
	return s.serve(ctx, ln)
}

// watchCertificate reads the certificate and key in CertDir and follows them until ctx
// is done; it returns the TLS configuration that serves them.
func (s *Server) watchCertificate(ctx context.Context) (*tls.Config, error) {
	certName, keyName := s.CertName, s.KeyName
	if certName == "" {
		certName = DefaultCertName
	}
	if keyName == "" {
		keyName = DefaultKeyName
	}
	w, err := certwatcher.New(filepath.Join(s.CertDir, certName), filepath.Join(s.CertDir, keyName))
	if err != nil {
		return nil, fmt.Errorf("catalog endpoint: reading its certificate: %w", err)
	}
	go func() {
		if err := w.Start(ctx); err != nil {
			s.Log.Error(err, "Cannot watch the catalog endpoint's certificate for rotation; serving the one read at start")
		}
	}()
	cfg := &tls.Config{}
	if s.TLSConfig != nil {
		cfg = s.TLSConfig.Clone()
	}
	cfg.Certificates, cfg.GetCertificate = nil, w.GetCertificate
	return cfg, nil
}

// serve is Start on a listener that is already open.
func (s *Server) serve(ctx context.Context, ln net.Listener) error {
	tlsConfig := s.TLSConfig
	if s.CertDir != "" {
		var err error
		if tlsConfig, err = s.watchCertificate(ctx); err != nil {
			_ = ln.Close()
			return err
		}
	}
	srv := &http.Server{
		Handler:           s.Handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		// No BaseContext from ctx: requests in flight at shutdown should finish, not
		// be cancelled with the manager's context.
		MaxHeaderBytes: 64 << 10,
		// Client errors such as failed TLS handshakes are noise at the default level.
		ErrorLog: log.New(logWriter{s.Log.V(1)}, "", 0),
	}
	scheme := "http"
	if tlsConfig != nil {
		cfg := tlsConfig.Clone()
		if len(cfg.NextProtos) == 0 {
			// HTTP/1.1 only: the body is one response, and HTTP/2 brings the Rapid
			// Reset class of problems for no gain here.
			cfg.NextProtos = []string{"http/1.1"}
		}
		if cfg.MinVersion == 0 {
			cfg.MinVersion = tls.VersionTLS12
		}
		srv.TLSConfig = cfg
		ln = tls.NewListener(ln, cfg)
		scheme = "https"
	}

	stopped := make(chan error, 1)
	go func() {
		<-ctx.Done()
		timeout := s.ShutdownTimeout
		if timeout <= 0 {
			timeout = DefaultShutdownTimeout
		}
		// The manager's context is done already: shutdown gets a fresh one.
		sctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		stopped <- srv.Shutdown(sctx)
	}()

	s.Log.Info("Serving the Backstage catalog", "address", ln.Addr().String(), "scheme", scheme)
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("catalog endpoint: %w", err)
	}
	if err := <-stopped; err != nil {
		s.Log.Error(err, "Catalog endpoint did not stop in time; requests in flight were cut")
		_ = srv.Close()
	}
	s.Log.Info("Stopped serving the Backstage catalog")
	return nil
}

// logWriter hands the http.Server's own log lines to a logr.Logger.
type logWriter struct{ log logr.Logger }

// Write implements io.Writer: the http.Server writes one line per call.
func (w logWriter) Write(p []byte) (int, error) {
	w.log.Info(strings.TrimSpace(string(p)))
	return len(p), nil
}
