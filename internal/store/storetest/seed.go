// Package storetest fills a store with a realistic site for tests and
// benchmarks: sessions, page views, clicks, custom events, errors, recording
// chunk lists and heatmap roll-ups, written through the same store methods
// the processor uses. It writes no recording blobs and knows nothing of HTTP.
package storetest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"loupe.dev/loupe/internal/store"
)

// SeedVersion changes whenever Seed writes different data for the same
// options, so that a database file cached under it is never stale.
const SeedVersion = 2

// SeedOptions shape the seeded site. The zero value seeds the default:
// 100,000 sessions over the 30 days before 2026-12-01 (UTC), about 300,000
// page views over 50 pages and 1,000,000 clicks.
type SeedOptions struct {
	Seed     uint64    // random seed; the same options always write the same rows
	Sessions int       // sessions to write; default 100,000
	Clicks   int       // clicks over all sessions, exactly; default 10 per session
	Pages    int       // distinct page keys, most popular first; default 50
	Days     int       // days the sessions start on; default 30
	End      time.Time // end of the last day; default 2026-12-01 00:00 in Timezone
	Timezone string    // the site's time zone; default UTC
	// Recorded is the share of sessions with a recording; default 0.25.
	Recorded float64
}

func (o *SeedOptions) defaults() error {
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Sessions == 0 {
		o.Sessions = 100_000
	}
	if o.Clicks == 0 {
		o.Clicks = 10 * o.Sessions
	}
	if o.Pages == 0 {
		o.Pages = 50
	}
	if o.Days == 0 {
		o.Days = 30
	}
	if o.Timezone == "" {
		o.Timezone = "UTC"
	}
	if o.Recorded == 0 {
		o.Recorded = 0.25
	}
	loc, err := time.LoadLocation(o.Timezone)
	if err != nil {
		return fmt.Errorf("seed: time zone: %w", err)
	}
	if o.End.IsZero() {
		o.End = time.Date(2026, 12, 1, 0, 0, 0, 0, loc)
	}
	if o.Pages < 8 || o.Sessions < 1 || o.Clicks < 0 || o.Days < 1 {
		return fmt.Errorf("seed: want at least 8 pages, 1 session and 1 day: %+v", *o)
	}
	return nil
}

// SeedSummary tells what Seed wrote, so tests and benchmarks can ask for
// things that exist.
type SeedSummary struct {
	Site         *store.Site
	Range        store.Range // the seeded days
	Sessions     int64
	PageViews    int64
	Clicks       int64
	CustomEvents int64
	Errors       int64
	Recorded     int64    // sessions with a recording
	Pages        []string // page keys, most viewed first
	// Rare values, for filters that must find few sessions: the least
	// common country and referrer host, an event few sessions send, an
	// identified user and the least common entry page.
	RareCountry  string
	RareReferrer string
	RareEvent    string
	UserID       string
	RareEntry    string
}

// Seed creates a site and writes a realistic history of it to st.
func Seed(ctx context.Context, st *store.Store, opts SeedOptions) (SeedSummary, error) {
	if err := opts.defaults(); err != nil {
		return SeedSummary{}, err
	}
	site := &store.Site{Name: "Seeded shop", Domains: []string{host}, Timezone: opts.Timezone,
		SampleRate: opts.Recorded}
	if err := st.CreateSite(ctx, site); err != nil {
		return SeedSummary{}, fmt.Errorf("seed: %w", err)
	}
	g := newGenerator(opts, site)
	const perWrite = 1000
	for start := 0; start < opts.Sessions; start += perWrite {
		n := min(perWrite, opts.Sessions-start)
		var w writeSet
		for i := start; i < start+n; i++ {
			g.session(i, &w)
		}
		if err := st.Write(ctx, w.write); err != nil {
			return SeedSummary{}, fmt.Errorf("seed sessions %d to %d: %w", start, start+n, err)
		}
	}
	return g.summary(), nil
}

// writeSet is one transaction's worth of rows.
type writeSet struct {
	sessions []*store.Session
	pages    []*store.PageView
	clicks   []store.Click
	events   []store.CustomEvent
	errors   []store.PageError
	chunks   []*store.Chunk
	rollUps  store.RollUps
}

func (w *writeSet) write(tx *store.Tx) error {
	if err := tx.SaveSessions(w.sessions); err != nil {
		return err
	}
	if err := tx.SavePageViews(w.pages); err != nil {
		return err
	}
	if err := tx.AddClicks(w.clicks); err != nil {
		return err
	}
	if err := tx.AddCustomEvents(w.events); err != nil {
		return err
	}
	if err := tx.AddErrors(w.errors); err != nil {
		return err
	}
	if err := tx.AddChunks(w.chunks); err != nil {
		return err
	}
	return tx.AddRollUps(&w.rollUps)
}

// weighted picks among names by weight.
type weighted struct {
	names []string
	cum   []float64
}

func newWeighted(names []string, weights []float64) *weighted {
	w := &weighted{names: names}
	var sum float64
	for _, x := range weights {
		sum += x
		w.cum = append(w.cum, sum)
	}
	for i := range w.cum {
		w.cum[i] /= sum
	}
	return w
}

// zipf weights n names as 1/(rank+1)^s: a head and a long tail.
func zipf(names []string, s float64) *weighted {
	weights := make([]float64, len(names))
	for i := range weights {
		weights[i] = 1 / math.Pow(float64(i+1), s)
	}
	return newWeighted(names, weights)
}

func (w *weighted) index(r *rand.Rand) int {
	x := r.Float64()
	lo, hi := 0, len(w.cum)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if w.cum[mid] < x {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

func (w *weighted) pick(r *rand.Rand) string { return w.names[w.index(r)] }
