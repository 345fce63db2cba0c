package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"loupe.dev/loupe/internal/blob"
	"loupe.dev/loupe/internal/store"
	"loupe.dev/loupe/internal/store/storetest"
	"loupe.dev/loupe/internal/web/ui"
	"loupe.dev/loupe/internal/wire"
)

// BenchmarkDashboardPages measures each dashboard page, rendered in full
// through the HTTP handler, on a site with a million stored clicks.
func BenchmarkDashboardPages(b *testing.B) {
	path, sum, err := storetest.SeededFile(context.Background(), storetest.SeedOptions{Seed: 1},
		b.Logf)
	if err != nil {
		b.Fatal(err)
	}
	st, err := store.OpenSQLite(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	ctx := context.Background()
	assets, err := ui.New()
	if err != nil {
		b.Fatal(err)
	}
	blobs, err := blob.NewDir(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	h, err := NewHandler(Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Store: st, Blobs: blobs, UI: assets})
	if err != nil {
		b.Fatal(err)
	}

	// A signed-in administrator; the user survives in the cached file, so
	// make it only once.
	u, err := st.UserByEmail(ctx, "bench@example.com")
	if err != nil {
		token, err := st.CreateInvite(ctx, store.Invite{Email: "bench@example.com",
			ExpiresAt: time.Now().Add(time.Hour).UnixMilli()})
		if err != nil {
			b.Fatal(err)
		}
		if u, err = st.AcceptInvite(ctx, token, "", "x"); err != nil {
			b.Fatal(err)
		}
		if err := st.GrantSite(ctx, u.ID, sum.Site.ID, store.RoleOwner); err != nil {
			b.Fatal(err)
		}
	}
	cookie, _, err := st.CreateLogin(ctx, u.ID, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	sessions, err := st.Sessions(ctx, store.SessionFilter{SiteID: sum.Site.ID, Range: sum.Range,
		Limit: 1})
	if err != nil || len(sessions) == 0 {
		b.Fatalf("no seeded session: %v", err)
	}

	// Cold: a store just opened, which keeps no figures of closed days yet
	// (every seeded day is closed: they end on 1 December 2026).
	rv := viewRange(sum.Range)
	for _, page := range []struct{ name, path string }{
		{"overview_cold", "/sites/" + sum.Site.Key + "/overview?from=" + rv.From + "&to=" + rv.To},
		{"heatmap_click_cold", "/sites/" + sum.Site.Key + "/heatmaps?from=" + rv.From + "&to=" +
			rv.To + "&type=click&url=" + sum.Pages[0]},
		{"api_heatmap_cold", "/api/v1/sites/" + sum.Site.Key + "/heatmap?from=" + rv.From +
			"&to=" + rv.To + "&url=" + sum.Pages[0]},
	} {
		b.Run(page.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				fresh, err := store.OpenSQLite(ctx, path)
				if err != nil {
					b.Fatal(err)
				}
				h, err := NewHandler(Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
					Store: fresh, Blobs: blobs, UI: assets})
				if err != nil {
					b.Fatal(err)
				}
				req := httptest.NewRequest(http.MethodGet, page.path, nil)
				req.AddCookie(&http.Cookie{Name: sessionCookie, Value: cookie})
				rec := httptest.NewRecorder()
				b.StartTimer()
				h.ServeHTTP(rec, req)
				b.StopTimer()
				if rec.Code != http.StatusOK {
					b.Fatalf("%s = %d", page.path, rec.Code)
				}
				fresh.Close()
				b.StartTimer()
			}
		})
	}

	// Warm: the same store throughout, as a running server.
	dates := "from=" + rv.From + "&to=" + rv.To
	site := "/sites/" + sum.Site.Key
	top := sum.Pages[0]
	for _, page := range []struct{ name, path string }{
		{"overview", site + "/overview?" + dates},
		{"recordings", site + "/recordings?" + dates},
		{"recordings_filtered", site + "/recordings?" + dates + "&device=mobile&rage=1&page=" + top},
		{"recordings_rare_event", site + "/recordings?" + dates + "&event=" + sum.RareEvent},
		{"replay", site + "/recordings/" + wire.FormatID(sessions[0].ID)},
		{"heatmap_click", site + "/heatmaps?" + dates + "&type=click&url=" + top},
		{"heatmap_move", site + "/heatmaps?" + dates + "&type=move&url=" + top},
		{"heatmap_scroll", site + "/heatmaps?" + dates + "&type=scroll&url=" + top},
		{"settings", site + "/settings"},
		{"api_stats", "/api/v1/sites/" + sum.Site.Key + "/stats?" + dates},
		{"api_heatmap", "/api/v1/sites/" + sum.Site.Key + "/heatmap?" + dates + "&url=" + top},
	} {
		b.Run(page.name, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, page.path, nil)
				req.AddCookie(&http.Cookie{Name: sessionCookie, Value: cookie})
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%s = %d:\n%.500s", page.path, rec.Code, rec.Body.String())
				}
			}
		})
	}
}
