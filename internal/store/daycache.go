package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// dayFigures are one day's traffic figures of a site, in the shape Stats
// sums: every count it shows is a sum over days, but for the visitors of a
// range, which it counts apart.
type dayFigures struct {
	sessions, visitors, bounces, durationMS int64
	pageViews                               int64
	pages                                   map[string]int64
	breakdowns                              []map[string]int64 // as sessionBreakdowns
}

func newDayFigures() *dayFigures {
	return &dayFigures{pages: map[string]int64{},
		breakdowns: make([]map[string]int64, len(sessionBreakdowns))}
}

// Days that ended long enough ago change no more, but for the rare batch
// that arrives late, so their figures are kept rather than read again:
// an overview of thirty days then reads only its last days. A kept day is
// read again after dayCacheTTL, which bounds how late such a batch shows.
const (
	dayCacheTTL = time.Hour
	// closedAfter is how long after its end (in UTC) a day is closed: a
	// day of a site's time zone ends up to 14 hours after the UTC day, and
	// its last sessions may go on for a while.
	closedAfter = 40 * time.Hour
	// dayCacheSize bounds the days kept over all sites; about a year of
	// days for each of ten sites.
	dayCacheSize = 4000
)

// dayCache keeps values of closed days by key (a site and a day, say), each
// for dayCacheTTL.
type dayCache[K comparable, V any] struct {
	mu      sync.Mutex
	entries map[K]dayEntry[V]
}

type dayEntry[V any] struct {
	value V
	at    time.Time
}

func (c *dayCache[K, V]) get(key K, now time.Time) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || now.Sub(e.at) > dayCacheTTL {
		var zero V
		return zero, false
	}
	return e.value, true
}

func (c *dayCache[K, V]) put(key K, v V, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[K]dayEntry[V]{}
	}
	if len(c.entries) >= dayCacheSize {
		// Expired days go first; if none has, the cache starts again.
		for k, e := range c.entries {
			if now.Sub(e.at) > dayCacheTTL {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= dayCacheSize {
			clear(c.entries)
		}
	}
	c.entries[key] = dayEntry[V]{v, now}
}

// siteDay names one day of a site.
type siteDay struct {
	site int64
	day  int
}

// heatDay names one day of a page's heatmap for a device class.
type heatDay struct {
	site         int64
	page, device string
	day          int
}

// closedDay returns the last yyyymmdd day that is closed at now in every
// time zone.
func closedDay(now time.Time) int {
	t := now.UTC().Add(-closedAfter)
	y, m, d := t.AddDate(0, 0, -1).Date()
	return y*10000 + int(m)*100 + d
}

// figuresByDay reads the figures of each day from first to last, with the
// reads running at once.
func (s *Store) figuresByDay(ctx context.Context, siteID int64, first, last int) (
	map[int]*dayFigures, error) {
	out := map[int]*dayFigures{}
	days, err := dayList(first, last)
	if err != nil {
		return nil, err
	}
	for _, d := range days {
		out[d] = newDayFigures()
	}
	r := Range{FromDay: first, ToDay: last}
	// The results are kept apart by task and merged once all are in, so
	// the tasks share nothing while they run.
	sessions := map[int]*dayFigures{}
	pages := map[int]map[string]int64{}
	breakdowns := make([]map[int]map[string]int64, len(sessionBreakdowns))
	tasks := []func(context.Context) error{
		func(ctx context.Context) (err error) {
			sessions, err = s.dailySessions(ctx, siteID, r)
			return err
		},
		func(ctx context.Context) (err error) {
			pages, err = s.dailyPages(ctx, siteID, r)
			return err
		},
	}
	for i, b := range sessionBreakdowns {
		tasks = append(tasks, func(ctx context.Context) (err error) {
			breakdowns[i], err = s.breakdown(ctx, siteID, r, b)
			return err
		})
	}
	if err := concurrently(ctx, tasks...); err != nil {
		return nil, err
	}
	for d, f := range out {
		if t := sessions[d]; t != nil {
			f.sessions, f.visitors, f.bounces, f.durationMS = t.sessions, t.visitors,
				t.bounces, t.durationMS
		}
		if p := pages[d]; p != nil {
			f.pages = p
			for _, n := range p {
				f.pageViews += n
			}
		}
		for i := range sessionBreakdowns {
			f.breakdowns[i] = breakdowns[i][d]
		}
	}
	return out, nil
}

// dailySessions counts each day's sessions, visitors, bounces and time.
func (s *Store) dailySessions(ctx context.Context, siteID int64, r Range) (
	map[int]*dayFigures, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT day, COUNT(*),
		COUNT(DISTINCT visitor_id) + COUNT(*) - COUNT(visitor_id),
		SUM(CASE WHEN page_count <= 1 THEN 1 ELSE 0 END), SUM(last_at - started_at)
		FROM sessions WHERE site_id = ? AND day >= ? AND day <= ? GROUP BY day`,
		siteID, r.FromDay, r.ToDay)
	if err != nil {
		return nil, wrap(err, "stats sessions")
	}
	defer rows.Close()
	out := map[int]*dayFigures{}
	for rows.Next() {
		var day int
		f := &dayFigures{}
		if err := rows.Scan(&day, &f.sessions, &f.visitors, &f.bounces,
			&f.durationMS); err != nil {
			return nil, wrap(err, "stats sessions")
		}
		out[day] = f
	}
	return out, wrap(rows.Err(), "stats sessions")
}

// dailyPages counts each day's page views by page.
func (s *Store) dailyPages(ctx context.Context, siteID int64, r Range) (
	map[int]map[string]int64, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT day, page_key, COUNT(*) FROM page_views
		WHERE site_id = ? AND day >= ? AND day <= ? GROUP BY day, device, page_key`,
		siteID, r.FromDay, r.ToDay)
	if err != nil {
		return nil, wrap(err, "stats pages")
	}
	defer rows.Close()
	out := map[int]map[string]int64{}
	for rows.Next() {
		var day int
		var key string
		var n int64
		if err := rows.Scan(&day, &key, &n); err != nil {
			return nil, wrap(err, "stats pages")
		}
		if out[day] == nil {
			out[day] = map[string]int64{}
		}
		out[day][key] += n
	}
	return out, wrap(rows.Err(), "stats pages")
}

// breakdown counts each day's sessions by each combination of b's
// columns; the key joins the values with a zero byte.
func (s *Store) breakdown(ctx context.Context, siteID int64, r Range,
	b sessionBreakdown) (map[int]map[string]int64, error) {
	columns := strings.Join(b.columns, ", ")
	op := "breakdown " + columns
	rows, err := s.read.QueryContext(ctx, `SELECT day, `+columns+`, COUNT(*) FROM sessions
		WHERE site_id = ? AND day >= ? AND day <= ? GROUP BY day, `+columns,
		siteID, r.FromDay, r.ToDay)
	if err != nil {
		return nil, wrap(err, op)
	}
	defer rows.Close()
	out := map[int]map[string]int64{}
	values := make([]string, len(b.columns))
	var day int
	var n int64
	dest := []any{&day}
	for i := range values {
		dest = append(dest, &values[i])
	}
	dest = append(dest, &n)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, wrap(err, op)
		}
		if out[day] == nil {
			out[day] = map[string]int64{}
		}
		out[day][strings.Join(values, "\x00")] += n
	}
	return out, wrap(rows.Err(), op)
}

// HeatSelectors returns the clicks on each element of a heatmap, most
// clicked first, and the clicks in all. The roll-up holds a row for every
// element, spot in it and day, which for a busy page is a row for about
// every click; the sums of closed days are kept, so a range re-reads only
// its open days.
func (s *Store) HeatSelectors(ctx context.Context, q HeatQuery, n int) ([]Count, int64, error) {
	days, err := dayList(q.FromDay, q.ToDay)
	if err != nil {
		return nil, 0, fmt.Errorf("heatmap selectors: %w", err)
	}
	now := s.now()
	closed := closedDay(now)
	sums := map[string]int64{}
	var first, last int
	for _, d := range days {
		if m, ok := s.selectors.get(heatDay{q.SiteID, q.PageKey, q.Device, d}, now); ok &&
			d <= closed {
			for k, v := range m {
				sums[k] += v
			}
			continue
		}
		if first == 0 {
			first = d
		}
		last = d
	}
	if first != 0 {
		read, err := s.selectorsByDay(ctx, q, first, last)
		if err != nil {
			return nil, 0, err
		}
		for _, d := range days {
			if d < first || d > last {
				continue
			}
			m := read[d]
			if m == nil {
				m = map[string]int64{}
			}
			if d <= closed {
				s.selectors.put(heatDay{q.SiteID, q.PageKey, q.Device, d}, m, now)
			}
			for k, v := range m {
				sums[k] += v
			}
		}
	}
	var total int64
	for _, v := range sums {
		total += v
	}
	return ranked(sums, n), total, nil
}

// selectorsByDay sums the click roll-up of a heatmap by day and element,
// in the order of its primary key, so SQLite sums while it reads.
func (s *Store) selectorsByDay(ctx context.Context, q HeatQuery, first, last int) (
	map[int]map[string]int64, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT day, selector, SUM(count) FROM heat_elements
		WHERE site_id = ? AND page_key = ? AND device = ? AND day >= ? AND day <= ?
		GROUP BY day, selector`, q.SiteID, q.PageKey, q.Device, first, last)
	if err != nil {
		return nil, wrap(err, "heatmap selectors")
	}
	defer rows.Close()
	out := map[int]map[string]int64{}
	for rows.Next() {
		var day int
		var selector string
		var n int64
		if err := rows.Scan(&day, &selector, &n); err != nil {
			return nil, wrap(err, "heatmap selectors")
		}
		if out[day] == nil {
			out[day] = map[string]int64{}
		}
		out[day][selector] += n
	}
	return out, wrap(rows.Err(), "heatmap selectors")
}
