// Package server wires Loupe's stages into one process: it opens the stores
// and the log a Config names, starts the roles it asks for (ingest, process,
// web) and serves HTTP until its context ends. It holds no logic of its own.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"loupe.dev/loupe/internal/blob"
	"loupe.dev/loupe/internal/config"
	"loupe.dev/loupe/internal/enrich"
	"loupe.dev/loupe/internal/ingest"
	"loupe.dev/loupe/internal/process"
	"loupe.dev/loupe/internal/queue"
	"loupe.dev/loupe/internal/store"
	"loupe.dev/loupe/internal/tracker"
	"loupe.dev/loupe/internal/web"
	"loupe.dev/loupe/internal/web/ui"
)

// Run starts every role of cfg and blocks until ctx ends. When ready is not
// nil it receives the listening address once the server accepts connections.
func Run(ctx context.Context, cfg config.Config, logger *slog.Logger, version string,
	ready chan<- string) error {
	if err := os.MkdirAll(cfg.Data, 0o750); err != nil {
		return fmt.Errorf("create data folder: %w", err)
	}
	var geo *enrich.Geo
	if cfg.GeoIPDB != "" {
		var err error
		if geo, err = enrich.OpenGeo(cfg.GeoIPDB); err != nil {
			return fmt.Errorf("--geoip-db: %w", err)
		}
		defer geo.Close()
	}
	st, err := store.OpenSQLite(ctx, cfg.SQLitePath())
	if err != nil {
		return err
	}
	defer st.Close()
	blobs, err := blob.NewDir(cfg.BlobDir())
	if err != nil {
		return err
	}
	log, err := queue.OpenEmbedded(ctx, cfg.LogDir(), logger)
	if err != nil {
		return err
	}
	defer log.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(
		collectors.ProcessCollectorOpts{}))
	deps := web.Deps{Logger: logger, Registry: reg, Checks: []web.Check{
		{Name: "store", Run: st.Check}, {Name: "log", Run: log.Check}}}

	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	if cfg.Has(config.RoleIngest) {
		sites, err := ingest.NewSites(ctx, st)
		if err != nil {
			return err
		}
		wg.Go(func() { sites.Run(ctx, cfg.SiteRefresh, logger) })
		files, err := tracker.New()
		if err != nil {
			return err
		}
		appendLatency := prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "loupe_log_append_duration_seconds",
			Help:    "Time to append one gathered message to the log, disk sync included.",
			Buckets: prometheus.ExponentialBuckets(0.0002, 2, 14),
		})
		appendSize := prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "loupe_log_append_batches",
			Help:    "Batches gathered into one log append.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10),
		})
		appendErrors := prometheus.NewCounter(prometheus.CounterOpts{
			Name: "loupe_log_append_errors_total",
			Help: "Log appends that failed; their requests were answered 503.",
		})
		reg.MustRegister(appendLatency, appendSize, appendErrors)
		appender := queue.NewAppender(log, 2, func(n, _ int, took time.Duration, err error) {
			if err != nil {
				appendErrors.Inc()
				return
			}
			appendLatency.Observe(took.Seconds())
			appendSize.Observe(float64(n))
		})
		defer appender.Close()
		opts := ingest.Options{TrustedProxies: cfg.TrustedProxies, MaxBody: cfg.MaxBody,
			MaxBatch: cfg.MaxBatch, Metrics: ingest.NewMetrics(reg)}
		if geo != nil {
			opts.Geo = geo
		}
		deps.Sites, deps.Tracker = sites, files
		deps.Ingest = ingest.New(sites, appender, opts)
	}
	if cfg.Has(config.RoleProcess) {
		agents, err := enrich.NewParser()
		if err != nil {
			return err
		}
		var spam *enrich.SpamList
		if cfg.ReferrerSpamList != "" {
			if spam, err = enrich.LoadSpamList(cfg.ReferrerSpamList); err != nil {
				return err
			}
		}
		proc := process.New(st, blobs, agents, spam, logger, process.NewMetrics(reg))
		wg.Go(func() {
			if err := proc.Run(ctx, log); err != nil {
				logger.Error("processor stopped", "err", err)
				cancel()
			}
		})
	}
	if cfg.Has(config.RoleWeb) {
		deps.Store, deps.Blobs = st, blobs
		deps.TrustedProxies, deps.PublicURL = cfg.TrustedProxies, cfg.PublicURL
		if deps.UI, err = ui.New(); err != nil {
			return err
		}
		wg.Go(func() { web.WarmOverviews(ctx, st, 20*time.Minute, logger) })
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	handler, err := web.NewHandler(deps)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("loupe serving", "addr", ln.Addr().String(), "data", cfg.Data,
		"roles", cfg.Roles, "version", version)
	if cfg.Has(config.RoleWeb) {
		if err := announceSetup(ctx, st, publicURL(cfg, ln.Addr()), logger); err != nil {
			return err
		}
	}
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, done := context.WithTimeout(context.Background(), 15*time.Second)
	defer done()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}

// setupTTL is how long the first start's setup link works.
const setupTTL = 24 * time.Hour

// announceSetup prints a one-time setup link while no user exists, so the
// first person at the terminal can create the administrator account. Each
// start makes a new link and revokes the previous one.
func announceSetup(ctx context.Context, st *store.Store, base string, logger *slog.Logger) error {
	users, err := st.CountUsers(ctx)
	if err != nil || users > 0 {
		return err
	}
	token, err := st.CreateInvite(ctx, store.Invite{Admin: true,
		ExpiresAt: time.Now().Add(setupTTL).UnixMilli()})
	if err != nil {
		return err
	}
	logger.Warn("no account yet: open the setup link to create the first one",
		"setup_url", base+"/setup/"+token, "valid_for", setupTTL.String())
	return nil
}

// publicURL is where browsers reach this server: --public-url, or
// localhost and the port listened on.
func publicURL(cfg config.Config, addr net.Addr) string {
	if cfg.PublicURL != "" {
		return strings.TrimSuffix(cfg.PublicURL, "/")
	}
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
