// Package web owns Loupe's HTTP surface apart from ingest: the dashboard
// (accounts, overview, recordings, replay, heatmaps), the tracker files, the
// JSON API under /api/v1/, health checks and metrics. It reads the SQL and
// blob stores and writes only accounts and site settings; it never writes
// analytics data.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"loupe.dev/loupe/internal/blob"
	"loupe.dev/loupe/internal/ingest"
	"loupe.dev/loupe/internal/store"
	"loupe.dev/loupe/internal/tracker"
)

// Check is a readiness probe of one dependency.
type Check struct {
	Name string
	Run  func(context.Context) error
}

// Deps are what the HTTP surface is built from. Ingest is nil in a process
// that does not run the ingest role, Store nil in one without the web role.
type Deps struct {
	Logger   *slog.Logger
	Store    *store.Store
	Blobs    blob.Store
	Sites    *ingest.Sites
	Ingest   http.Handler
	Tracker  *tracker.Files
	Registry *prometheus.Registry
	Checks   []Check
	// UI are the dashboard's scripts and styles; nil serves no dashboard.
	UI Assets
	// TrustedProxies are believed about the client address (for the sign-in
	// rate limit) and about HTTPS (for Secure cookies).
	TrustedProxies []netip.Prefix
	// PublicURL is where browsers reach Loupe, for snippets and links; empty
	// takes the address each request came to.
	PublicURL string
}

// NewHandler returns the routes of one Loupe process.
func NewHandler(d Deps) (http.Handler, error) {
	mux := http.NewServeMux()
	if d.Ingest != nil {
		mux.Handle("/i", d.Ingest)
		mux.HandleFunc("GET /s/{file}", func(w http.ResponseWriter, r *http.Request) {
			key, ok := strings.CutSuffix(r.PathValue("file"), ".js")
			site := d.Sites.Lookup(key)
			if !ok || site == nil {
				http.Error(w, "unknown site", http.StatusNotFound)
				return
			}
			d.Tracker.ServeLoader(w, r, tracker.Settings{SiteKey: site.Key,
				SampleRate: site.SampleRate, MaskText: site.MaskText, HonourDNT: site.HonourDNT})
		})
		mux.HandleFunc("GET /t/{name}", func(w http.ResponseWriter, r *http.Request) {
			d.Tracker.ServeAsset(w, r, r.PathValue("name"))
		})
	}
	if d.Store != nil {
		au := newAuth(d.Store, d.TrustedProxies)
		a := &api{auth: au, store: d.Store, blobs: d.Blobs, now: time.Now}
		mux.Handle("GET /api/v1/sites/{site}/stats", handle(d.Logger, a.stats))
		mux.Handle("GET /api/v1/sites/{site}/sessions", handle(d.Logger, a.sessions))
		mux.Handle("GET /api/v1/sites/{site}/heatmap", handle(d.Logger, a.heatmap))
		mux.Handle("GET /api/v1/sites/{site}/status", handle(d.Logger, a.status))
		mux.Handle("GET /api/v1/sites/{site}/snapshot", handle(d.Logger, a.snapshot))
		mux.Handle("GET /api/v1/sites/{site}/pages", handle(d.Logger, a.pages))
		mux.Handle("GET /api/v1/sessions/{id}", handle(d.Logger, a.sessionDetail))
		mux.Handle("GET /api/v1/sessions/{id}/recording", handle(d.Logger, a.recording))
		mux.Handle("/api/", handle(d.Logger, func(http.ResponseWriter, *http.Request) error {
			return notFound("API path")
		}))
		if d.UI != nil {
			dash, err := newDash(d.Store, d.Blobs, au, d.UI, d.Logger, d.PublicURL)
			if err != nil {
				return nil, err
			}
			dash.routes(mux)
		}
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		status, code := map[string]string{}, http.StatusOK
		for _, c := range d.Checks {
			status[c.Name] = "ok"
			if err := c.Run(ctx); err != nil {
				status[c.Name] = err.Error()
				code = http.StatusServiceUnavailable
			}
		}
		writeJSON(w, code, status)
	})
	if d.Registry != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(d.Registry, promhttp.HandlerOpts{}))
	}
	return mux, nil
}
