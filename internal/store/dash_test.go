package store_test

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"loupe.dev/loupe/internal/store"
	"loupe.dev/loupe/internal/store/storetest"
)

// The tests below read one small seeded site, written once per run.
var shared struct {
	once sync.Once
	dir  string
	sum  storetest.SeedSummary
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// seeded opens a store on the small seeded site, and a plain connection to
// the same file for answering the same questions the slow and obvious way.
// Tests must not write to it.
func seeded(t *testing.T) (*store.Store, *sql.DB, storetest.SeedSummary) {
	t.Helper()
	ctx := context.Background()
	shared.once.Do(func() {
		if shared.dir, shared.err = os.MkdirTemp("", "loupe-store-test"); shared.err != nil {
			return
		}
		st, err := store.OpenSQLite(ctx, filepath.Join(shared.dir, "loupe.db"))
		if err != nil {
			shared.err = err
			return
		}
		shared.sum, shared.err = storetest.Seed(ctx, st, smallSeed)
		shared.err = errors.Join(shared.err, st.Close())
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	path := filepath.Join(shared.dir, "loupe.db")
	st, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return st, db, shared.sum
}

// smallSeed is a site small enough to seed in a second, in a time zone
// whose days are not UTC's.
var smallSeed = storetest.SeedOptions{Seed: 7, Sessions: 2000, Clicks: 16000, Days: 10,
	Timezone: "Europe/Berlin"}

func TestStatsMatchPlainSQL(t *testing.T) {
	st, db, sum := seeded(t)
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		rng  store.Range
	}{
		{"seeded days", sum.Range},
		{"three days", withDays(sum.Range, sum.Range.FromDay+2, sum.Range.FromDay+4)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := st.Stats(ctx, sum.Site.ID, tt.rng)
			if err != nil {
				t.Fatal(err)
			}
			want := plainStats(t, db, sum.Site.ID, tt.rng)
			got.Series = nil
			// Float sums in another order may differ in the last bits.
			if math.Abs(got.AvgDurationSecs-want.AvgDurationSecs) > 1e-9 {
				t.Errorf("average duration %v, plain SQL %v", got.AvgDurationSecs,
					want.AvgDurationSecs)
			}
			got.AvgDurationSecs = want.AvgDurationSecs
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Stats =\n%+v\nplain SQL =\n%+v", got, want)
			}
			if got.Sessions == 0 || len(got.Countries) < 5 || len(got.UTMSources) < 3 {
				t.Errorf("seeded site too thin to test: %+v", got)
			}
		})
	}
}

// withDays narrows r to the days first to last (in the first days of a
// month, as the seed's are).
func withDays(r store.Range, first, last int) store.Range {
	r.FromDay, r.ToDay = first, last
	return r
}

// plainStats computes Stats without the series, one plain query a figure.
func plainStats(t *testing.T, db *sql.DB, site int64, r store.Range) *store.Stats {
	t.Helper()
	var st store.Stats
	var bounces int64
	var avg float64
	row := db.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT COALESCE(visitor_id, id)),
		COALESCE(SUM(page_count <= 1), 0), COALESCE(AVG(last_at - started_at), 0)
		FROM sessions WHERE site_id = ? AND day BETWEEN ? AND ?`, site, r.FromDay, r.ToDay)
	if err := row.Scan(&st.Sessions, &st.Visitors, &bounces, &avg); err != nil {
		t.Fatal(err)
	}
	if st.Sessions > 0 {
		st.BounceRate = float64(bounces) / float64(st.Sessions)
		st.AvgDurationSecs = avg / 1000
	}
	if err := db.QueryRow(`SELECT COUNT(*) FROM page_views
		WHERE site_id = ? AND day BETWEEN ? AND ?`, site, r.FromDay, r.ToDay).
		Scan(&st.PageViews); err != nil {
		t.Fatal(err)
	}
	st.TopPages = plainCounts(t, db, `SELECT page_key, COUNT(*) FROM page_views
		WHERE site_id = ? AND day BETWEEN ? AND ? GROUP BY page_key
		ORDER BY COUNT(*) DESC, page_key LIMIT 20`, site, r.FromDay, r.ToDay)
	for _, b := range []struct {
		dst    *[]store.Count
		column string
	}{
		{&st.EntryPages, "entry_page"}, {&st.ExitPages, "exit_page"},
		{&st.Referrers, "referrer_host"}, {&st.UTMSources, "utm_source"},
		{&st.Devices, "device"}, {&st.Browsers, "browser"}, {&st.OSes, "os"},
		{&st.Countries, "country"},
	} {
		*b.dst = plainCounts(t, db, `SELECT `+b.column+`, COUNT(*) FROM sessions
			WHERE site_id = ? AND day BETWEEN ? AND ? AND `+b.column+` != ''
			GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 20`, site, r.FromDay, r.ToDay)
	}
	return &st
}

func plainCounts(t *testing.T, db *sql.DB, query string, args ...any) []store.Count {
	t.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := []store.Count{}
	for rows.Next() {
		var c store.Count
		if err := rows.Scan(&c.Name, &c.Count); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSeries(t *testing.T) {
	st, db, sum := seeded(t)
	// Three days before the seeded ones and two after: those are zero, and
	// the last ones catch the page views of visits that ran past midnight.
	first, _ := time.Parse("20060102", strconv.Itoa(sum.Range.FromDay))
	last, _ := time.Parse("20060102", strconv.Itoa(sum.Range.ToDay))
	rng := withDays(sum.Range, day(first.AddDate(0, 0, -3)), day(last.AddDate(0, 0, 2)))
	stats, err := st.Stats(context.Background(), sum.Site.ID, rng)
	if err != nil {
		t.Fatal(err)
	}
	s := stats.Series
	n := len(s.Days)
	if n != smallSeed.Days+5 || len(s.Sessions) != n || len(s.Visitors) != n ||
		len(s.PageViews) != n {
		t.Fatalf("series of %d days (%d, %d, %d values), want %d", n, len(s.Sessions),
			len(s.Visitors), len(s.PageViews), smallSeed.Days+5)
	}
	if s.Days[0] != first.AddDate(0, 0, -3).Format(time.DateOnly) ||
		s.Days[3] != first.Format(time.DateOnly) ||
		s.Days[n-1] != last.AddDate(0, 0, 2).Format(time.DateOnly) {
		t.Errorf("days %v", s.Days)
	}
	for i := range 3 {
		if s.Sessions[i] != 0 || s.Visitors[i] != 0 || s.PageViews[i] != 0 {
			t.Errorf("day %s before the seeded ones: %d, %d, %d", s.Days[i], s.Sessions[i],
				s.Visitors[i], s.PageViews[i])
		}
	}
	if s.Sessions[n-1] != 0 {
		t.Errorf("sessions on %s, after the seeded days", s.Days[n-1])
	}
	if total(s.Sessions) != stats.Sessions || stats.Sessions != sum.Sessions {
		t.Errorf("sessions: series sum %d, total %d, seeded %d", total(s.Sessions),
			stats.Sessions, sum.Sessions)
	}
	if total(s.PageViews) != stats.PageViews || stats.PageViews != sum.PageViews {
		t.Errorf("page views: series sum %d, total %d, seeded %d", total(s.PageViews),
			stats.PageViews, sum.PageViews)
	}
	// Each day against plain SQL.
	for i, d := range s.Days {
		dd, _ := time.Parse(time.DateOnly, d)
		var sessions, visitors, views int64
		if err := db.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT COALESCE(visitor_id, id))
			FROM sessions WHERE site_id = ? AND day = ?`, sum.Site.ID, day(dd)).
			Scan(&sessions, &visitors); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(`SELECT COUNT(*) FROM page_views WHERE site_id = ? AND day = ?`,
			sum.Site.ID, day(dd)).Scan(&views); err != nil {
			t.Fatal(err)
		}
		if s.Sessions[i] != sessions || s.Visitors[i] != visitors || s.PageViews[i] != views {
			t.Errorf("%s: %d sessions, %d visitors, %d page views; plain SQL %d, %d, %d", d,
				s.Sessions[i], s.Visitors[i], s.PageViews[i], sessions, visitors, views)
		}
	}
	// A visitor back on another day counts once in the total.
	if stats.Visitors >= total(s.Visitors) {
		t.Errorf("visitors %d, daily visitors add up to %d: no one came back", stats.Visitors,
			total(s.Visitors))
	}
}

func day(t time.Time) int { return t.Year()*10000 + int(t.Month())*100 + t.Day() }

func total(list []int64) int64 {
	var n int64
	for _, v := range list {
		n += v
	}
	return n
}

func TestPageRanking(t *testing.T) {
	st, db, sum := seeded(t)
	for _, device := range []string{"", "desktop", "tablet"} {
		t.Run(cmp.Or(device, "all"), func(t *testing.T) {
			got, err := st.PageRanking(context.Background(), sum.Site.ID, device, sum.Range, 0)
			if err != nil {
				t.Fatal(err)
			}
			want := plainCounts(t, db, `SELECT page_key, COUNT(*) FROM page_views
				WHERE site_id = ? AND day BETWEEN ? AND ? AND (? = '' OR device = ?)
				GROUP BY 1 ORDER BY 2 DESC, 1`, sum.Site.ID, sum.Range.FromDay,
				sum.Range.ToDay, device, device)
			if !reflect.DeepEqual(got, want) || len(got) < 20 {
				t.Errorf("PageRanking =\n%v\nplain SQL =\n%v", got, want)
			}
			top, err := st.PageRanking(context.Background(), sum.Site.ID, device, sum.Range, 3)
			if err != nil || !reflect.DeepEqual(top, want[:3]) {
				t.Errorf("top 3 = %v, %v; want %v", top, err, want[:3])
			}
		})
	}
}

func TestLastEventAt(t *testing.T) {
	st, db, sum := seeded(t)
	ctx := context.Background()
	last, n, err := st.LastEventAt(ctx, sum.Site.ID)
	if err != nil {
		t.Fatal(err)
	}
	var wantLast, wantN int64
	if err := db.QueryRow(`SELECT MAX(last_at) FROM sessions WHERE site_id = ?`,
		sum.Site.ID).Scan(&wantLast); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT COUNT(*) FROM sessions WHERE site_id = ? AND started_at >
		(SELECT MAX(started_at) FROM sessions WHERE site_id = ?) - 86400000`,
		sum.Site.ID, sum.Site.ID).Scan(&wantN); err != nil {
		t.Fatal(err)
	}
	if last != wantLast || n != wantN || n < 50 {
		t.Errorf("LastEventAt = %d, %d; want %d, %d", last, n, wantLast, wantN)
	}

	empty, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "loupe.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer empty.Close()
	site := &store.Site{Domains: []string{"new.example"}}
	if err := empty.CreateSite(ctx, site); err != nil {
		t.Fatal(err)
	}
	if last, n, err := empty.LastEventAt(ctx, site.ID); last != 0 || n != 0 || err != nil {
		t.Errorf("new site: LastEventAt = %d, %d, %v; want 0, 0, nil", last, n, err)
	}
}

// TestElementPositionsSeeded checks positions against the average of every
// click on each element: the seed places an element at one spot per device
// class, so the mean of a sample of 20 of its clicks lies within a few
// standard errors of the mean of all.
func TestElementPositionsSeeded(t *testing.T) {
	st, db, sum := seeded(t)
	ctx := context.Background()
	for _, device := range []string{"desktop", "mobile"} {
		q := store.HeatQuery{SiteID: sum.Site.ID, PageKey: sum.Pages[0], Device: device,
			FromDay: sum.Range.FromDay, ToDay: sum.Range.ToDay}
		cells, err := st.HeatElements(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var selectors []string
		for _, c := range cells {
			if !slices.Contains(selectors, c.Selector) {
				selectors = append(selectors, c.Selector)
			}
		}
		got, err := st.ElementPositions(ctx, q, append(selectors, "#never-clicked"))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(selectors) || len(selectors) < 10 {
			t.Fatalf("%s: %d positions for %d selectors", device, len(got), len(selectors))
		}
		for _, sel := range selectors {
			var x, y, xx, yy float64
			if err := db.QueryRow(`SELECT AVG(c.x), AVG(c.y), AVG(c.x * c.x), AVG(c.y * c.y)
				FROM clicks c
				JOIN page_views p ON p.session_id = c.session_id AND p.pid = c.pid
				WHERE c.site_id = ? AND c.page_key = ? AND c.selector = ? AND p.device = ?
				AND p.day BETWEEN ? AND ?`, q.SiteID, q.PageKey, sel, device, q.FromDay,
				q.ToDay).Scan(&x, &y, &xx, &yy); err != nil {
				t.Fatal(err)
			}
			// Four standard errors of a mean of 20, and a pixel for rounding.
			bound := func(mean, square float64) float64 {
				return 4*math.Sqrt(max(square-mean*mean, 0)/20) + 1
			}
			p := got[sel]
			if math.Abs(p.X-x) > bound(x, xx) || math.Abs(p.Y-y) > bound(y, yy) {
				t.Errorf("%s %s at (%.0f, %.0f), all clicks average (%.0f, %.0f)", device, sel,
					p.X, p.Y, x, y)
			}
		}
	}
}

func TestSnapshotSourcesSeeded(t *testing.T) {
	st, db, sum := seeded(t)
	page := sum.Pages[0]
	got, err := st.SnapshotSources(context.Background(), sum.Site.ID, page, "mobile", 5)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`SELECT p.session_id, p.pid, p.at, s.clock_offset FROM page_views p
		JOIN sessions s ON s.id = p.session_id WHERE p.site_id = ? AND p.page_key = ?
		AND p.device = 'mobile' AND s.recording_bytes > 0 ORDER BY p.at DESC LIMIT 5`,
		sum.Site.ID, page)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	i := 0
	for ; rows.Next(); i++ {
		var id, pid, at, offset int64
		if err := rows.Scan(&id, &pid, &at, &offset); err != nil {
			t.Fatal(err)
		}
		if i >= len(got) {
			t.Fatalf("%d sources, plain SQL has more", len(got))
		}
		src := got[i]
		if src.SessionID != id || src.PID != pid || src.At != at || src.ClockOffset != offset {
			t.Errorf("source %d = %+v, plain SQL (%d, %d, %d, %d)", i, src, id, pid, at, offset)
		}
		// The seed writes one chunk per page view, from the view to the
		// next in the browser's clock: the view's own chunk is there, with
		// the one before, which ends as it starts.
		browser := at - offset
		seqs := []int64{}
		for _, c := range src.Chunks {
			seqs = append(seqs, c.Seq)
			if c.LastTS < browser-5000 || c.FirstTS > browser+60000 {
				t.Errorf("source %d: chunk %+v outside the page view's time %d", i, c, browser)
			}
		}
		if !slices.Contains(seqs, pid) || !slices.IsSorted(seqs) ||
			(pid > 1 && seqs[0] != pid-1) {
			t.Errorf("source %d (page view %d): chunks %v", i, pid, seqs)
		}
	}
	if i != 5 || len(got) != 5 {
		t.Errorf("%d sources, plain SQL %d; want 5", len(got), i)
	}
}

func TestHeatSelectorsMatchPlainSQL(t *testing.T) {
	st, db, sum := seeded(t)
	ctx := context.Background()
	q := store.HeatQuery{SiteID: sum.Site.ID, PageKey: sum.Pages[0], Device: "desktop",
		FromDay: sum.Range.FromDay, ToDay: sum.Range.ToDay}
	rows, err := db.Query(`SELECT selector, SUM(count) FROM heat_elements WHERE site_id = ?
		AND page_key = ? AND device = ? AND day >= ? AND day <= ? GROUP BY selector
		ORDER BY SUM(count) DESC, selector LIMIT 5`, q.SiteID, q.PageKey, q.Device,
		q.FromDay, q.ToDay)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Count{}
	for rows.Next() {
		var c store.Count
		if err := rows.Scan(&c.Name, &c.Count); err != nil {
			t.Fatal(err)
		}
		want = append(want, c)
	}
	rows.Close()
	var wantTotal int64
	if err := db.QueryRow(`SELECT SUM(count) FROM heat_elements WHERE site_id = ?
		AND page_key = ? AND device = ? AND day >= ? AND day <= ?`, q.SiteID, q.PageKey,
		q.Device, q.FromDay, q.ToDay).Scan(&wantTotal); err != nil {
		t.Fatal(err)
	}
	if len(want) < 3 || wantTotal < 100 {
		t.Fatalf("seeded page too thin: %v, %d clicks", want, wantTotal)
	}
	// The second call reads the kept days (the seeded days are long over).
	for i := range 2 {
		got, total, err := st.HeatSelectors(ctx, q, 5)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) || total != wantTotal {
			t.Errorf("call %d: HeatSelectors = %v, %d; plain SQL %v, %d", i+1, got, total,
				want, wantTotal)
		}
	}
}

func TestHeatElementsMatchPlainSQL(t *testing.T) {
	st, db, sum := seeded(t)
	ctx := context.Background()
	q := store.HeatQuery{SiteID: sum.Site.ID, PageKey: sum.Pages[0], Device: "desktop",
		FromDay: sum.Range.FromDay, ToDay: sum.Range.ToDay}
	rows, err := db.Query(`SELECT selector, offset_x, offset_y, SUM(count) FROM heat_elements
		WHERE site_id = ? AND page_key = ? AND device = ? AND day >= ? AND day <= ?
		GROUP BY selector, offset_x, offset_y
		ORDER BY SUM(count) DESC, selector, offset_x, offset_y`, q.SiteID, q.PageKey,
		q.Device, q.FromDay, q.ToDay)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.ElementCell{}
	for rows.Next() {
		var c store.ElementCell
		if err := rows.Scan(&c.Selector, &c.OffsetX, &c.OffsetY, &c.Count); err != nil {
			t.Fatal(err)
		}
		want = append(want, c)
	}
	rows.Close()
	if len(want) < 100 {
		t.Fatalf("seeded page too thin: %d cells", len(want))
	}
	for i := range 2 { // the second call reads the kept days
		got, err := st.HeatElements(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("call %d: %d cells, plain SQL %d; first %v, want %v", i+1, len(got),
				len(want), got[:3], want[:3])
		}
	}
}

func TestHeatPointsMatchPlainSQL(t *testing.T) {
	st, db, sum := seeded(t)
	ctx := context.Background()
	q := store.HeatQuery{SiteID: sum.Site.ID, PageKey: sum.Pages[0], Device: "desktop",
		FromDay: sum.Range.FromDay, ToDay: sum.Range.ToDay}
	for _, kind := range []string{"click", "move"} {
		rows, err := db.Query(`SELECT x * 10 + 5, y * 10 + 5, SUM(count) FROM heat_points
			WHERE site_id = ? AND page_key = ? AND device = ? AND kind = ? AND day >= ?
			AND day <= ? GROUP BY x, y ORDER BY SUM(count) DESC, y, x`, q.SiteID, q.PageKey,
			q.Device, kind, q.FromDay, q.ToDay)
		if err != nil {
			t.Fatal(err)
		}
		want := []store.PointCell{}
		for rows.Next() {
			var c store.PointCell
			if err := rows.Scan(&c.X, &c.Y, &c.Count); err != nil {
				t.Fatal(err)
			}
			want = append(want, c)
		}
		rows.Close()
		if len(want) < 50 {
			t.Fatalf("%s: seeded page too thin: %d cells", kind, len(want))
		}
		for i := range 2 {
			got, err := st.HeatPoints(ctx, q, kind)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s call %d: %d cells, plain SQL %d", kind, i+1, len(got), len(want))
			}
		}
	}
}
