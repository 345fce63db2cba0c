package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
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
// for dayCacheTTL. Its size is the sum of the values' weights (1 each when
// weigh is nil), bounded by limit (dayCacheSize when 0).
type dayCache[K comparable, V any] struct {
	weigh func(V) int
	limit int

	mu      sync.Mutex
	entries map[K]dayEntry[V]
	size    int
}

type dayEntry[V any] struct {
	value  V
	at     time.Time
	weight int
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
	limit, weight := cmp.Or(c.limit, dayCacheSize), 1
	if c.weigh != nil {
		weight = max(c.weigh(v), 1)
	}
	if weight > limit {
		return
	}
	if old, ok := c.entries[key]; ok {
		c.size -= old.weight
		delete(c.entries, key)
	}
	if c.size+weight > limit {
		// Expired days go first; if that is not enough, the cache starts
		// again.
		for k, e := range c.entries {
			if now.Sub(e.at) > dayCacheTTL {
				c.size -= e.weight
				delete(c.entries, k)
			}
		}
		if c.size+weight > limit {
			clear(c.entries)
			c.size = 0
		}
	}
	c.entries[key] = dayEntry[V]{v, now, weight}
	c.size += weight
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
	sums := map[string]int64{}
	var total int64
	err = overDays(s, &s.selectors, days, q.day,
		func(first, last int) (map[int]map[string]int64, error) {
			return s.selectorsByDay(ctx, q, first, last)
		},
		func(m map[string]int64) {
			for k, v := range m {
				sums[k] += v
				total += v
			}
		})
	if err != nil {
		return nil, 0, err
	}
	return ranked(sums, n), total, nil
}

// overDays feeds add the value of every day of days: kept values of closed
// days from c, the rest read at once by read (which is given the first and
// last day it must read), keeping those of closed days. A day read is
// given the zero value when read has nothing for it.
func overDays[K comparable, V any](s *Store, c *dayCache[K, V], days []int, key func(int) K,
	read func(first, last int) (map[int]V, error), add func(V)) error {
	now := s.now()
	closed := closedDay(now)
	var first, last int
	for _, d := range days {
		if v, ok := c.get(key(d), now); ok && d <= closed {
			add(v)
			continue
		}
		if first == 0 {
			first = d
		}
		last = d
	}
	if first == 0 {
		return nil
	}
	values, err := read(first, last)
	if err != nil {
		return err
	}
	for _, d := range days {
		if d < first || d > last {
			continue
		}
		if d <= closed {
			c.put(key(d), values[d], now)
		}
		add(values[d])
	}
	return nil
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

// maxElementCells bounds the cells a click heatmap answers.
const maxElementCells = 50000

// elementCellsKept bounds the roll-up cells kept for closed days, over all
// heatmaps: the month of a busy page is some 200,000 of about 70 bytes.
const elementCellsKept = 600_000

// HeatElements returns the click cells of a heatmap summed over its days,
// most clicked first, at most maxElementCells. The cells of closed days
// are kept, as for HeatSelectors.
func (s *Store) HeatElements(ctx context.Context, q HeatQuery) ([]ElementCell, error) {
	days, err := dayList(q.FromDay, q.ToDay)
	if err != nil {
		return nil, fmt.Errorf("heatmap elements: %w", err)
	}
	// Cells are summed and sorted by the number of their selector, not the
	// selector itself: a page has some dozens of elements and tens of
	// thousands of cells, and comparing strings was most of the work.
	type cellKey struct{ selector, offsetX, offsetY int }
	numbers := map[string]int{}
	var selectors []string
	sums := map[cellKey]int64{}
	err = overDays(s, &s.cells, days, q.day,
		func(first, last int) (map[int][]ElementCell, error) {
			return s.cellsByDay(ctx, q, first, last)
		},
		func(cells []ElementCell) {
			for _, c := range cells {
				n, ok := numbers[c.Selector]
				if !ok {
					n = len(selectors)
					numbers[c.Selector] = n
					selectors = append(selectors, c.Selector)
				}
				sums[cellKey{n, c.OffsetX, c.OffsetY}] += c.Count
			}
		})
	if err != nil {
		return nil, err
	}
	// rank orders the selectors' numbers as the selectors sort.
	order := make([]int, len(selectors))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(selectors[a], selectors[b]) })
	rank := make([]int, len(selectors))
	for r, n := range order {
		rank[n] = r
	}
	type cell struct {
		key cellKey
		n   int64
	}
	cells := make([]cell, 0, len(sums))
	for k, n := range sums {
		cells = append(cells, cell{k, n})
	}
	slices.SortFunc(cells, func(a, b cell) int {
		return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(rank[a.key.selector], rank[b.key.selector]),
			cmp.Compare(a.key.offsetX, b.key.offsetX), cmp.Compare(a.key.offsetY, b.key.offsetY))
	})
	out := make([]ElementCell, 0, min(len(cells), maxElementCells))
	for _, c := range cells[:min(len(cells), maxElementCells)] {
		out = append(out, ElementCell{Selector: selectors[c.key.selector], OffsetX: c.key.offsetX,
			OffsetY: c.key.offsetY, Count: c.n})
	}
	return out[:min(len(out), maxElementCells)], nil
}

// cellsByDay reads the click roll-up of a heatmap, day by day, in the order
// of its primary key: a read with no sort.
func (s *Store) cellsByDay(ctx context.Context, q HeatQuery, first, last int) (
	map[int][]ElementCell, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT day, selector, offset_x, offset_y, count
		FROM heat_elements WHERE site_id = ? AND page_key = ? AND device = ?
		AND day >= ? AND day <= ?`, q.SiteID, q.PageKey, q.Device, first, last)
	if err != nil {
		return nil, wrap(err, "heatmap elements")
	}
	defer rows.Close()
	out := map[int][]ElementCell{}
	for rows.Next() {
		var day int
		var c ElementCell
		if err := rows.Scan(&day, &c.Selector, &c.OffsetX, &c.OffsetY, &c.Count); err != nil {
			return nil, wrap(err, "heatmap elements")
		}
		out[day] = append(out[day], c)
	}
	return out, wrap(rows.Err(), "heatmap elements")
}

// pointCellsKept bounds the page cells kept for closed days, for clicks and
// for moves each.
const pointCellsKept = 400_000

// maxPointCells bounds the cells a click or move heatmap answers.
const maxPointCells = 100000

// HeatPoints returns the page-coordinate cells (10 px) of clicks or moves,
// summed over the heatmap's days, most counted first, at most
// maxPointCells; x and y are the cells' centres. The cells of closed days
// are kept, as for HeatElements.
func (s *Store) HeatPoints(ctx context.Context, q HeatQuery, kind string) ([]PointCell, error) {
	days, err := dayList(q.FromDay, q.ToDay)
	if err != nil {
		return nil, fmt.Errorf("heatmap points: %w", err)
	}
	type cellKey struct{ x, y int }
	sums := map[cellKey]int64{}
	cache := &s.clickPoints
	if kind != "click" {
		cache = &s.movePoints
	}
	err = overDays(s, cache, days, q.day,
		func(first, last int) (map[int][]PointCell, error) {
			return s.pointsByDay(ctx, q, kind, first, last)
		},
		func(cells []PointCell) {
			for _, c := range cells {
				sums[cellKey{c.X, c.Y}] += c.Count
			}
		})
	if err != nil {
		return nil, err
	}
	out := make([]PointCell, 0, len(sums))
	for k, n := range sums {
		out = append(out, PointCell{X: k.x*10 + 5, Y: k.y*10 + 5, Count: n})
	}
	slices.SortFunc(out, func(a, b PointCell) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Y, b.Y), cmp.Compare(a.X, b.X))
	})
	return out[:min(len(out), maxPointCells)], nil
}

// pointsByDay reads the page-coordinate roll-up of a heatmap, day by day,
// in the order of its primary key. X and Y are cell numbers.
func (s *Store) pointsByDay(ctx context.Context, q HeatQuery, kind string, first, last int) (
	map[int][]PointCell, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT day, x, y, count FROM heat_points
		WHERE site_id = ? AND page_key = ? AND device = ? AND kind = ? AND day >= ? AND day <= ?`,
		q.SiteID, q.PageKey, q.Device, kind, first, last)
	if err != nil {
		return nil, wrap(err, "heatmap points")
	}
	defer rows.Close()
	out := map[int][]PointCell{}
	for rows.Next() {
		var day int
		var c PointCell
		if err := rows.Scan(&day, &c.X, &c.Y, &c.Count); err != nil {
			return nil, wrap(err, "heatmap points")
		}
		out[day] = append(out[day], c)
	}
	return out, wrap(rows.Err(), "heatmap points")
}

// day names one day of q, for the caches.
func (q HeatQuery) day(d int) heatDay { return heatDay{q.SiteID, q.PageKey, q.Device, d} }
