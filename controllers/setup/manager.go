package setup

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"

	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	catalogv1alpha1 "github.com/entityhub/entityhub/api/v1alpha1"
	"github.com/entityhub/entityhub/controllers/catalog"
	"github.com/entityhub/entityhub/controllers/catalogserver"
	"github.com/entityhub/entityhub/controllers/metrics"
)

// LeaderElectionID names the Lease replicas elect their leader with.
const LeaderElectionID = "entityhub.catalog.entityhub.dev"

// ProcessOptions are the settings of the manager process around the engine: its
// endpoints and leader election, one per flag of cmd.
type ProcessOptions struct {
	// MetricsAddr is where metrics are served ("0": nowhere); SecureMetrics serves them
	// over HTTPS to callers allowed to GET /metrics; EnableHTTP2 allows HTTP/2 there.
	MetricsAddr                string
	SecureMetrics, EnableHTTP2 bool
	// ProbeAddr serves /healthz and /readyz.
	ProbeAddr string
	// LeaderElect elects a leader among replicas, in LeaderElectionNamespace (default:
	// the manager's own).
	LeaderElect             bool
	LeaderElectionNamespace string
	// PprofAddr serves Go's profiles; empty turns them off.
	PprofAddr string
	// CatalogAddr serves the Backstage catalog endpoint ("" or "0": off), CatalogURL is
	// its URL as Backstage reaches it, and CatalogAuth requires a bearer token.
	CatalogAddr, CatalogURL string
	CatalogAuth             bool
	// CatalogCertDir, when set, serves the catalog endpoint over HTTPS with the
	// certificate CatalogCertName and key CatalogKeyName in it (tls.crt and tls.key
	// when empty), read again when they rotate. CatalogAuth without it is refused unless
	// CatalogInsecure says that tokens may cross the network in clear.
	CatalogCertDir, CatalogCertName, CatalogKeyName string
	CatalogInsecure                                 bool
	// CatalogMaxRenders bounds the filtered catalog bodies rendered at once;
	// catalogserver.DefaultMaxRenders when zero.
	CatalogMaxRenders int
}

// NewManager makes the manager of cfg with the engine wired in (see Setup), the catalog
// endpoint when asked for, and the health probes.
func NewManager(ctx context.Context, cfg *rest.Config, p ProcessOptions, opts Options) (ctrl.Manager, *Engine, error) {
	var tlsOpts []func(*tls.Config)
	if !p.EnableHTTP2 {
		// HTTP/2 Stream Cancellation and Rapid Reset CVEs.
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	metricsOpts := metricsserver.Options{BindAddress: p.MetricsAddr, SecureServing: p.SecureMetrics, TLSOpts: tlsOpts}
	if p.SecureMetrics {
		metricsOpts.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                        Scheme(),
		Cache:                         CacheOptions(opts),
		Metrics:                       metricsOpts,
		HealthProbeBindAddress:        p.ProbeAddr,
		LeaderElection:                p.LeaderElect,
		LeaderElectionID:              LeaderElectionID,
		LeaderElectionNamespace:       p.LeaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		PprofBindAddress:              p.PprofAddr,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("creating the manager: %w", err)
	}
	engine, err := Setup(ctx, mgr, opts)
	if err != nil {
		return nil, nil, err
	}
	if err := addCatalogServer(ctx, mgr, p, opts); err != nil {
		return nil, nil, err
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return nil, nil, fmt.Errorf("adding the liveness check: %w", err)
	}
	ready, err := readiness(ctx, mgr, engine, p.LeaderElect)
	if err != nil {
		return nil, nil, err
	}
	if err := mgr.AddReadyzCheck("entities", ready); err != nil {
		return nil, nil, fmt.Errorf("adding the readiness check: %w", err)
	}
	return mgr, engine, nil
}

// readiness is the manager's readiness check. The leader is ready once every entity has
// been verified against complete lists of its sources (catalogentity's Verified): until
// then the statuses it serves were written by the process before it and nobody has
// checked them. A replica waiting to lead is ready once its cache of entities is in, as
// it serves the catalog endpoint from it; were it to wait for verification, which only a
// leader does, a rolling update would wait for it forever while the old replica leads.
// Without leader election the one replica leads from the start, whatever Elected says
// in its first moments.
func readiness(ctx context.Context, mgr ctrl.Manager, engine *Engine, leaderElect bool) (healthz.Checker, error) {
	inf, err := mgr.GetCache().GetInformer(ctx, &catalogv1alpha1.CatalogEntity{}, cache.BlockUntilSynced(false))
	if err != nil {
		return nil, fmt.Errorf("readiness: %w", err)
	}
	return func(req *http.Request) error {
		if !leaderElect {
			return engine.Entities.Verified(req.Context())
		}
		select {
		case <-mgr.Elected():
			return engine.Entities.Verified(req.Context())
		default:
		}
		if !inf.HasSynced() {
			return errors.New("waiting to lead; the cache of entities is not in yet")
		}
		return nil
	}, nil
}

// errCatalogAuthInClear refuses bearer tokens over plain HTTP, unless asked for.
var errCatalogAuthInClear = errors.New("the catalog endpoint's authentication needs TLS (a certificate directory), " +
	"or bearer tokens would cross the network in clear; allow that explicitly to go without")

// addCatalogServer serves the entities as Backstage descriptors when CatalogAddr is
// set; every replica serves, from its own cache.
func addCatalogServer(ctx context.Context, mgr ctrl.Manager, p ProcessOptions, opts Options) error {
	if p.CatalogAddr == "" || p.CatalogAddr == "0" {
		return nil
	}
	log := ctrl.Log.WithName("catalog")
	if p.CatalogAuth && p.CatalogCertDir == "" {
		if !p.CatalogInsecure {
			return errCatalogAuthInClear
		}
		log.Info("The catalog endpoint checks bearer tokens over plain HTTP: they cross the network in clear")
	}
	handler := &catalogserver.Handler{
		Reader: mgr.GetCache(),
		Options: catalog.Options{
			LocationURL:      p.CatalogURL,
			DefaultOwner:     opts.DefaultOwner,
			CatalogNamespace: opts.CatalogNamespace,
		},
		MaxRenders: p.CatalogMaxRenders,
		Log:        log,
	}
	// The handler learns of changes from the informer it lists from, so that a request
	// for a body already rendered costs no list.
	inf, err := mgr.GetCache().GetInformer(ctx, &catalogv1alpha1.CatalogEntity{}, cache.BlockUntilSynced(false))
	if err != nil {
		return fmt.Errorf("catalog endpoint: %w", err)
	}
	if err := handler.Follow(inf); err != nil {
		return err
	}
	if p.CatalogAuth {
		handler.Authorizer = catalogserver.NewTokenAuthorizer(mgr.GetClient())
	}
	return mgr.Add(&catalogserver.Server{
		Addr:     p.CatalogAddr,
		Handler:  metrics.InstrumentCatalog(handler),
		CertDir:  p.CatalogCertDir,
		CertName: p.CatalogCertName,
		KeyName:  p.CatalogKeyName,
		Log:      log,
	})
}
