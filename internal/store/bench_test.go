package store_test

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"loupe.dev/loupe/internal/store"
	"loupe.dev/loupe/internal/store/storetest"
)

// The benchmarks run every dashboard query on a seeded site of 100,000
// sessions, about 300,000 page views and 1,000,000 clicks over 30 days. The
// database is built once and kept in the temporary folder, under a name
// that changes with the seed and the migrations, so later runs start at
// once:
//
//	go test ./internal/store -run '^$' -bench . -benchtime 20x
var bench struct {
	once sync.Once
	path string
	sum  storetest.SeedSummary
	err  error
}

// benchStore opens the seeded benchmark database, building it on first use.
func benchStore(b *testing.B) (*store.Store, storetest.SeedSummary) {
	b.Helper()
	bench.once.Do(func() { bench.path, bench.sum, bench.err = seededFile(b) })
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	st, err := store.OpenSQLite(context.Background(), bench.path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st, bench.sum
}

// seededFile returns the path of the seeded database and what it holds,
// seeding it when no earlier run left it behind.
func seededFile(b *testing.B) (string, storetest.SeedSummary, error) {
	ctx := context.Background()
	opts := storetest.SeedOptions{Seed: 1}
	key, err := seedKey(opts)
	if err != nil {
		return "", storetest.SeedSummary{}, err
	}
	path := filepath.Join(os.TempDir(), "loupe-bench-"+key+".db")
	var sum storetest.SeedSummary
	if data, err := os.ReadFile(path + ".json"); err == nil {
		if err := json.Unmarshal(data, &sum); err == nil {
			return path, sum, nil
		}
	}
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	st, err := store.OpenSQLite(ctx, tmp)
	if err != nil {
		return "", storetest.SeedSummary{}, err
	}
	start := time.Now()
	sum, err = storetest.Seed(ctx, st, opts)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return "", sum, err
	}
	b.Logf("seeded %d sessions, %d page views, %d clicks in %s", sum.Sessions,
		sum.PageViews, sum.Clicks, time.Since(start).Round(time.Second))
	if err := os.Rename(tmp, path); err != nil {
		return "", sum, err
	}
	data, err := json.Marshal(sum)
	if err != nil {
		return "", sum, err
	}
	return path, sum, os.WriteFile(path+".json", data, 0o644)
}

// seedKey names a seeded database by the seed's version and options and by
// the migrations, which shape the file.
func seedKey(opts storetest.SeedOptions) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%d %+v\n", storetest.SeedVersion, opts)
	names, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(names) == 0 {
		return "", fmt.Errorf("list migrations: %v", err)
	}
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", name, len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// BenchmarkDashboard runs each query a dashboard page makes. Filters that
// find few sessions read the most, so the list is timed with rare values.
func BenchmarkDashboard(b *testing.B) {
	st, sum := benchStore(b)
	ctx := context.Background()
	site := sum.Site.ID
	last7 := sum.Range
	last7.FromDay = last7.ToDay - 6
	last7.From = last7.To - 7*24*time.Hour.Milliseconds()
	top, rare := sum.Pages[0], sum.Pages[len(sum.Pages)-1]
	heat := store.HeatQuery{SiteID: site, PageKey: top, Device: "desktop",
		FromDay: sum.Range.FromDay, ToDay: sum.Range.ToDay}
	cells, err := st.HeatElements(ctx, heat)
	if err != nil {
		b.Fatal(err)
	}
	selectors := distinctSelectors(cells)

	run := func(name string, query func() (int, error)) {
		b.Run(name, func(b *testing.B) {
			var n, loops int
			before := cpuTime(b)
			for b.Loop() {
				var err error
				if n, err = query(); err != nil {
					b.Fatal(err)
				}
				loops++
			}
			b.ReportMetric(float64(n), "rows")
			// On a shared machine the wall time of a query swings with
			// others' load; the CPU time it costs much less.
			cpu := cpuTime(b) - before
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(loops), "cpu-ms/op")
		})
	}
	stats := func(r store.Range) func() (int, error) {
		return func() (int, error) {
			s, err := st.Stats(ctx, site, r)
			if err != nil {
				return 0, err
			}
			return int(s.Sessions), nil
		}
	}
	run("stats/30_days", stats(sum.Range))
	run("stats/7_days", stats(last7))

	for _, f := range []struct {
		name string
		set  func(*store.SessionFilter)
	}{
		{"none", func(*store.SessionFilter) {}},
		{"page_top", func(f *store.SessionFilter) { f.PageKey = top }},
		{"page_rare", func(f *store.SessionFilter) { f.PageKey = rare }},
		{"entry_rare", func(f *store.SessionFilter) { f.EntryPage = sum.RareEntry }},
		{"device_tablet", func(f *store.SessionFilter) { f.Device = "tablet" }},
		{"browser_opera", func(f *store.SessionFilter) { f.Browser = "Opera" }},
		{"os_chrome_os", func(f *store.SessionFilter) { f.OS = "Chrome OS" }},
		{"country_rare", func(f *store.SessionFilter) { f.Country = sum.RareCountry }},
		{"referrer_rare", func(f *store.SessionFilter) { f.Referrer = sum.RareReferrer }},
		{"event_common", func(f *store.SessionFilter) { f.Event = "add_to_cart" }},
		{"event_rare", func(f *store.SessionFilter) { f.Event = sum.RareEvent }},
		{"user_one", func(f *store.SessionFilter) { f.UserID = sum.UserID }},
		{"user_any", func(f *store.SessionFilter) { f.UserID = "*" }},
		{"rage", func(f *store.SessionFilter) { f.HasRage = true }},
		{"error", func(f *store.SessionFilter) { f.HasError = true }},
		{"min_duration_30m", func(f *store.SessionFilter) { f.MinDuration = 30 * 60000 }},
		{"max_duration_2s", func(f *store.SessionFilter) { f.MaxDuration = 2000 }},
		{"combined", func(f *store.SessionFilter) {
			f.Device, f.HasRage, f.PageKey = "mobile", true, top
		}},
	} {
		filter := store.SessionFilter{SiteID: site, Range: sum.Range, Limit: 51}
		f.set(&filter)
		run("sessions/"+f.name, func() (int, error) {
			list, err := st.Sessions(ctx, filter)
			return len(list), err
		})
	}

	for _, device := range []string{"", "desktop", "tablet"} {
		run("page_ranking/"+cmp.Or(device, "all"), func() (int, error) {
			list, err := st.PageRanking(ctx, site, device, sum.Range, 200)
			return len(list), err
		})
	}
	run("heat_elements", func() (int, error) {
		list, err := st.HeatElements(ctx, heat)
		return len(list), err
	})
	for _, kind := range []string{"click", "move"} {
		run("heat_points/"+kind, func() (int, error) {
			list, err := st.HeatPoints(ctx, heat, kind)
			return len(list), err
		})
	}
	run("heat_scroll", func() (int, error) {
		list, err := st.HeatScroll(ctx, heat)
		return len(list), err
	})
	run("element_positions", func() (int, error) {
		m, err := st.ElementPositions(ctx, heat, selectors)
		return len(m), err
	})
	for _, s := range []struct{ name, page, device string }{
		{"top", top, "desktop"}, {"rare_tablet", rare, "tablet"},
	} {
		run("snapshot_sources/"+s.name, func() (int, error) {
			list, err := st.SnapshotSources(ctx, site, s.page, s.device, 5)
			return len(list), err
		})
	}
	run("last_event_at", func() (int, error) {
		_, n, err := st.LastEventAt(ctx, site)
		return int(n), err
	})
}

// cpuTime returns the CPU time the process has used so far.
func cpuTime(b *testing.B) time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		b.Fatal(err)
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

func distinctSelectors(cells []store.ElementCell) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range cells {
		if !seen[c.Selector] {
			seen[c.Selector] = true
			out = append(out, c.Selector)
		}
	}
	return out
}
