package web

import (
	"context"
	"log/slog"
	"time"

	"loupe.dev/loupe/internal/store"
)

// WarmOverviews reads every site's overview of the last 30 days now and
// then every interval, until ctx ends. The store keeps the figures of
// closed days for an hour, so with an interval under that, a site's
// overview reads only its open days when someone opens it.
func WarmOverviews(ctx context.Context, st *store.Store, every time.Duration,
	logger *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		sites, err := st.SitesChangedSince(ctx, 0)
		if err != nil && ctx.Err() == nil {
			logger.Warn("warm overviews: list sites", "err", err)
		}
		for _, site := range sites {
			rng, _ := dateRange(nil, &site, time.Now())
			if _, err := st.Stats(ctx, site.ID, rng); err != nil && ctx.Err() == nil {
				logger.Warn("warm overviews", "site_id", site.ID, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
