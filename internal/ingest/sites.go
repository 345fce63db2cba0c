package ingest

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"loupe.dev/loupe/internal/store"
)

// SiteLister is what the site cache needs from the SQL store.
type SiteLister interface {
	SitesChangedSince(ctx context.Context, since int64) ([]store.Site, error)
}

// Sites is an in-memory copy of every site, kept fresh by polling for
// changes, so that the hot path never queries SQL. Lookups are lock-free.
type Sites struct {
	store   SiteLister
	current atomic.Pointer[map[string]*store.Site]
	mu      sync.Mutex // serialises refreshes
	since   int64
}

// NewSites loads every site once.
func NewSites(ctx context.Context, lister SiteLister) (*Sites, error) {
	s := &Sites{store: lister}
	empty := map[string]*store.Site{}
	s.current.Store(&empty)
	return s, s.Refresh(ctx)
}

// Lookup returns the site with the given key, or nil.
func (s *Sites) Lookup(key string) *store.Site {
	return (*s.current.Load())[key]
}

// Refresh loads the sites changed since the last refresh.
func (s *Sites) Refresh(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	changed, err := s.store.SitesChangedSince(ctx, s.since)
	if err != nil || len(changed) == 0 {
		return err
	}
	old := *s.current.Load()
	next := make(map[string]*store.Site, len(old)+len(changed))
	for k, v := range old {
		next[k] = v
	}
	for i := range changed {
		site := changed[i]
		next[site.Key] = &site
		// Changes in the same millisecond as the last one seen are read again
		// next time rather than missed.
		s.since = max(s.since, site.UpdatedAt)
	}
	s.current.Store(&next)
	return nil
}

// Run refreshes every interval until ctx ends.
func (s *Sites) Run(ctx context.Context, every time.Duration, logger *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
				logger.Warn("refresh sites", "err", err)
			}
		}
	}
}

// originAllowed reports whether a page on hostPort may send for the site:
// the host is one of its domains, with or without "www.", or below a domain
// listed as "*.example.com". A domain listed with a port matches that port
// only; one without matches any.
func originAllowed(site *store.Site, hostPort string) bool {
	hostPort = strings.ToLower(hostPort)
	host := hostPort
	if h, _, err := net.SplitHostPort(hostPort); err == nil {
		host = h
	}
	host = strings.TrimSuffix(host, ".")
	bare := strings.TrimPrefix(host, "www.")
	for _, d := range site.Domains {
		d = strings.ToLower(d)
		if _, _, err := net.SplitHostPort(d); err == nil {
			if strings.TrimPrefix(hostPort, "www.") == strings.TrimPrefix(d, "www.") {
				return true
			}
			continue
		}
		if parent, ok := strings.CutPrefix(d, "*."); ok {
			if host == parent || strings.HasSuffix(host, "."+parent) {
				return true
			}
			continue
		}
		if bare == strings.TrimPrefix(d, "www.") {
			return true
		}
	}
	return false
}
