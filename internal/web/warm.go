package web

import (
	"context"
	"log/slog"
	"time"

	"loupe.dev/loupe/internal/store"
)

// WarmOverviews reads every site's overview of the last 30 days, and the
// click heatmaps of its most viewed pages on desktops and phones, now and
// then every interval, until ctx ends. The store keeps what it read of
// closed days for an hour, so with an interval under that, these pages
// read only their open days when someone opens them.
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
			if err := warmSite(ctx, st, &site); err != nil && ctx.Err() == nil {
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

// warmPages is how many of a site's most viewed pages get their click
// heatmaps read ahead.
const warmPages = 3

func warmSite(ctx context.Context, st *store.Store, site *store.Site) error {
	rng, _ := dateRange(nil, site, time.Now())
	stats, err := st.Stats(ctx, site.ID, rng)
	if err != nil {
		return err
	}
	for _, page := range stats.TopPages[:min(warmPages, len(stats.TopPages))] {
		for _, device := range []string{"desktop", "mobile"} {
			q := store.HeatQuery{SiteID: site.ID, PageKey: page.Name, Device: device,
				FromDay: rng.FromDay, ToDay: rng.ToDay}
			if _, _, err := st.HeatSelectors(ctx, q, 20); err != nil {
				return err
			}
			if _, err := st.HeatElements(ctx, q); err != nil {
				return err
			}
			if _, err := st.HeatPoints(ctx, q, "click"); err != nil {
				return err
			}
		}
	}
	return nil
}
