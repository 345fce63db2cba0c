package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"loupe.dev/loupe/internal/blob"
	"loupe.dev/loupe/internal/store"
	"loupe.dev/loupe/internal/store/storetest"
	"loupe.dev/loupe/internal/web/ui"
	"loupe.dev/loupe/internal/wire"
)

// benchDB is where the seeded database of the page benchmarks is kept
// between runs: seeding a million clicks takes minutes, reading it back
// milliseconds. The name changes with the seed's shape.
var benchDB = filepath.Join(os.TempDir(), "loupe-bench-dashboard-v1.db")

// seededDashboard opens (seeding on first use) a store holding the default
// seeded site: 100,000 sessions, ~300,000 page views and 1,000,000 clicks.
func seededDashboard(b *testing.B) (*store.Store, storetest.SeedSummary) {
	b.Helper()
	ctx := context.Background()
	var sum storetest.SeedSummary
	if saved, err := os.ReadFile(benchDB + ".json"); err == nil {
		if err := json.Unmarshal(saved, &sum); err != nil {
			b.Fatal(err)
		}
	} else {
		tmp := benchDB + ".tmp"
		os.Remove(tmp)
		st, err := store.OpenSQLite(ctx, tmp)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("seeding %s (once)…", benchDB)
		if sum, err = storetest.Seed(ctx, st, storetest.SeedOptions{}); err != nil {
			b.Fatal(err)
		}
		st.Close()
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Rename(tmp+suffix, benchDB+suffix); err != nil && suffix == "" {
				b.Fatal(err)
			}
		}
		saved, err := json.Marshal(sum)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(benchDB+".json", saved, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	st, err := store.OpenSQLite(ctx, benchDB)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st, sum
}

// BenchmarkDashboardPages measures each dashboard page, rendered in full
// through the HTTP handler, on a site with a million stored clicks.
func BenchmarkDashboardPages(b *testing.B) {
	st, sum := seededDashboard(b)
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

	rv := viewRange(sum.Range)
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
