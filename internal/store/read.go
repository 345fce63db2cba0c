package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Range is a half-open time range in Unix milliseconds with the matching
// yyyymmdd days (inclusive) in the site's time zone.
type Range struct {
	From, To       int64
	FromDay, ToDay int
}

// Count is one row of a ranked breakdown.
type Count struct {
	Name  string `json:"name"`
	Count int64  `json:"count"`
}

// Stats are a site's traffic figures for a range.
type Stats struct {
	Visitors        int64   `json:"visitors"`
	Sessions        int64   `json:"sessions"`
	PageViews       int64   `json:"page_views"`
	BounceRate      float64 `json:"bounce_rate"`
	AvgDurationSecs float64 `json:"avg_duration_seconds"`
	TopPages        []Count `json:"top_pages"`
	EntryPages      []Count `json:"entry_pages"`
	ExitPages       []Count `json:"exit_pages"`
	Referrers       []Count `json:"referrers"`
	UTMSources      []Count `json:"utm_sources"`
	Devices         []Count `json:"devices"`
	Browsers        []Count `json:"browsers"`
	OSes            []Count `json:"oses"`
	Countries       []Count `json:"countries"`
	Series          *Series `json:"series"`
}

// Series are a site's daily figures: one entry per day of the range, zero
// on a day without traffic.
type Series struct {
	Days      []string `json:"days"` // YYYY-MM-DD in the site's time zone
	Visitors  []int64  `json:"visitors"`
	Sessions  []int64  `json:"sessions"`
	PageViews []int64  `json:"page_views"`
}

// breakdownSize is how many rows a ranked breakdown keeps.
const breakdownSize = 20

// Stats computes a site's figures for the days of r: a session counts on
// the day it started (its day column), a page view on its own day, so the
// daily series add up to the totals. Visitors are distinct visitor ids, a
// session without one counting as a visitor of its own.
//
// Each read groups rows by day and by the values counted, in the order of
// an index that starts with (site_id, day): SQLite groups while it reads,
// with no sort. The figures of closed days are kept (see dayCache), so
// only the days not kept are read, each read on its own connection at
// once; the visitors of the whole range, which do not add up by day, are
// always counted.
func (s *Store) Stats(ctx context.Context, siteID int64, r Range) (*Stats, error) {
	days, err := dayList(r.FromDay, r.ToDay)
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	now := s.now()
	closed := closedDay(now)
	byDay := make(map[int]*dayFigures, len(days))
	missing := []int{}
	for _, d := range days {
		if f, ok := s.days.get(siteDay{siteID, d}, now); d <= closed && ok {
			byDay[d] = f
		} else {
			missing = append(missing, d)
		}
	}

	var visitors int64
	var read map[int]*dayFigures
	tasks := []func(context.Context) error{func(ctx context.Context) (err error) {
		visitors, err = s.visitors(ctx, siteID, r)
		return err
	}}
	if len(missing) > 0 {
		tasks = append(tasks, func(ctx context.Context) (err error) {
			read, err = s.figuresByDay(ctx, siteID, missing[0], missing[len(missing)-1])
			return err
		})
	}
	if err := concurrently(ctx, tasks...); err != nil {
		return nil, err
	}
	for _, d := range missing {
		byDay[d] = read[d]
		if d <= closed {
			s.days.put(siteDay{siteID, d}, read[d], now)
		}
	}
	return sumDays(days, byDay, visitors), nil
}

// sumDays adds up the figures of days into Stats.
func sumDays(days []int, byDay map[int]*dayFigures, visitors int64) *Stats {
	st := &Stats{Visitors: visitors, Series: &Series{Days: make([]string, len(days)),
		Visitors: make([]int64, len(days)), Sessions: make([]int64, len(days)),
		PageViews: make([]int64, len(days))}}
	var bounces, durationMS int64
	pages := map[string]int64{}
	breakdowns := make([]map[string]int64, len(sessionBreakdowns))
	for i := range breakdowns {
		breakdowns[i] = map[string]int64{}
	}
	for i, d := range days {
		st.Series.Days[i] = fmt.Sprintf("%04d-%02d-%02d", d/10000, d/100%100, d%100)
		f := byDay[d]
		if f == nil {
			continue
		}
		st.Series.Sessions[i], st.Series.Visitors[i] = f.sessions, f.visitors
		st.Series.PageViews[i] = f.pageViews
		st.Sessions += f.sessions
		st.PageViews += f.pageViews
		bounces += f.bounces
		durationMS += f.durationMS
		for k, n := range f.pages {
			pages[k] += n
		}
		for j, b := range f.breakdowns {
			for k, n := range b {
				breakdowns[j][k] += n
			}
		}
	}
	if st.Sessions > 0 {
		st.BounceRate = float64(bounces) / float64(st.Sessions)
		st.AvgDurationSecs = float64(durationMS) / float64(st.Sessions) / 1000
	}
	st.TopPages = ranked(pages, breakdownSize)
	for i, b := range sessionBreakdowns {
		for j, dst := range b.into(st) {
			*dst = ranked(splitCounts(breakdowns[i], j), breakdownSize)
		}
	}
	return st
}

// sessionBreakdown is one read of the sessions: a group of columns covered
// by one index of (site_id, day, columns...), and where the count of each
// column goes.
type sessionBreakdown struct {
	columns []string
	into    func(*Stats) []*[]Count
}

var sessionBreakdowns = []sessionBreakdown{
	{[]string{"device", "browser", "os", "country"}, func(st *Stats) []*[]Count {
		return []*[]Count{&st.Devices, &st.Browsers, &st.OSes, &st.Countries}
	}},
	{[]string{"entry_page"}, func(st *Stats) []*[]Count { return []*[]Count{&st.EntryPages} }},
	{[]string{"exit_page"}, func(st *Stats) []*[]Count { return []*[]Count{&st.ExitPages} }},
	{[]string{"referrer_host", "utm_source"},
		func(st *Stats) []*[]Count { return []*[]Count{&st.Referrers, &st.UTMSources} }},
}

// splitCounts sums combined counts by the value of one column, leaving out
// the empty value.
func splitCounts(combined map[string]int64, column int) map[string]int64 {
	out := map[string]int64{}
	for key, n := range combined {
		if v := strings.Split(key, "\x00")[column]; v != "" {
			out[v] += n
		}
	}
	return out
}

// ranked returns the n largest counts, ties by name.
func ranked(counts map[string]int64, n int) []Count {
	out := make([]Count, 0, len(counts))
	for name, c := range counts {
		out = append(out, Count{Name: name, Count: c})
	}
	slices.SortFunc(out, func(a, b Count) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Name, b.Name))
	})
	return out[:min(n, len(out))]
}

// visitors counts the distinct visitors of the range, a session without a
// visitor id being a visitor of its own.
func (s *Store) visitors(ctx context.Context, siteID int64, r Range) (int64, error) {
	var n int64
	err := s.read.QueryRowContext(ctx, `SELECT
		COUNT(DISTINCT visitor_id) + COUNT(*) - COUNT(visitor_id)
		FROM sessions WHERE site_id = ? AND day >= ? AND day <= ?`,
		siteID, r.FromDay, r.ToDay).Scan(&n)
	return n, wrap(err, "stats visitors")
}

// pageCounts counts page views of the range by page and, into perDay, by
// day; device "" counts every device class. Page views being three times
// as many as sessions, the two halves of a range longer than a week are
// read at once.
func (s *Store) pageCounts(ctx context.Context, siteID int64, device string, r Range,
	index map[int]int, perDay []int64) (map[string]int64, error) {
	days, err := dayList(r.FromDay, r.ToDay)
	if err != nil {
		return nil, fmt.Errorf("page counts: %w", err)
	}
	parts := [][]int{days}
	if len(days) > 7 {
		parts = [][]int{days[:len(days)/2], days[len(days)/2:]}
	}
	counts := make([]map[string]int64, len(parts))
	tasks := make([]func(context.Context) error, len(parts))
	for i, part := range parts {
		tasks[i] = func(ctx context.Context) (err error) {
			counts[i], err = s.pageCountsOn(ctx, siteID, device, part, index, perDay)
			return err
		}
	}
	if err := concurrently(ctx, tasks...); err != nil {
		return nil, err
	}
	for _, c := range counts[1:] {
		for key, n := range c {
			counts[0][key] += n
		}
	}
	return counts[0], nil
}

// pageCountsOn counts the page views of the given days, which follow each
// other. For one device class the days are listed one by one, so that
// SQLite seeks (day, device) in the index and reads that class's page
// views only.
func (s *Store) pageCountsOn(ctx context.Context, siteID int64, device string, days []int,
	index map[int]int, perDay []int64) (map[string]int64, error) {
	out := map[string]int64{}
	if len(days) == 0 {
		return out, nil
	}
	query := `SELECT day, page_key, COUNT(*) FROM page_views WHERE site_id = ?`
	args := []any{siteID}
	switch {
	case device != "" && len(days) <= maxListedDays:
		query += ` AND day IN (` + strings.Repeat("?, ", len(days)-1) + `?) AND device = ?`
		for _, d := range days {
			args = append(args, d)
		}
		args = append(args, device)
	case device != "":
		query += ` AND day >= ? AND day <= ? AND device = ?`
		args = append(args, days[0], days[len(days)-1], device)
	default:
		query += ` AND day >= ? AND day <= ?`
		args = append(args, days[0], days[len(days)-1])
	}
	rows, err := s.read.QueryContext(ctx, query+` GROUP BY day, device, page_key`, args...)
	if err != nil {
		return nil, wrap(err, "page counts")
	}
	defer rows.Close()
	for rows.Next() {
		var day int
		var key string
		var n int64
		if err := rows.Scan(&day, &key, &n); err != nil {
			return nil, wrap(err, "page counts")
		}
		out[key] += n
		if i, ok := index[day]; ok && perDay != nil {
			perDay[i] += n
		}
	}
	return out, wrap(rows.Err(), "page counts")
}

// maxListedDays bounds a list of days given to SQL one by one.
const maxListedDays = 400

// maxDays bounds a range of days: a century.
const maxDays = 36525

// dayList returns every yyyymmdd day from first to last.
func dayList(first, last int) ([]int, error) {
	from, err := time.Parse("20060102", fmt.Sprintf("%08d", first))
	if err != nil {
		return nil, fmt.Errorf("day %d: %w", first, err)
	}
	to, err := time.Parse("20060102", fmt.Sprintf("%08d", last))
	if err != nil {
		return nil, fmt.Errorf("day %d: %w", last, err)
	}
	if to.Sub(from) > maxDays*24*time.Hour {
		return nil, fmt.Errorf("days %d to %d: more than %d", first, last, maxDays)
	}
	var out []int
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		out = append(out, d.Year()*10000+int(d.Month())*100+d.Day())
	}
	return out, nil
}

// concurrently runs tasks on their own goroutines, each query on its own
// connection of the read pool, and returns the first error; the first
// error cancels the tasks still running.
func concurrently(ctx context.Context, tasks ...func(context.Context) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for _, task := range tasks {
		wg.Go(func() {
			if err := task(ctx); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

// SessionFilter selects sessions for the recordings list. Every field set
// narrows the list; the zero value of a field leaves it out.
type SessionFilter struct {
	SiteID      int64
	Range       Range
	PageKey     string // visited this page
	EntryPage   string // entered the site on this page
	ExitPage    string // left the site from this page
	Device      string
	Browser     string
	OS          string
	Country     string // ISO code
	Referrer    string // referrer host
	UTMSource   string // the visit's utm_source
	Event       string // sent a custom event of this name
	UserID      string // identified as this user; "*" for any identified user
	HasRage     bool   // had a rage click
	HasError    bool   // had an uncaught page error
	MinDuration int64  // milliseconds
	MaxDuration int64  // milliseconds; 0 for no bound
	Before      int64  // cursor: sessions that started before this time...
	BeforeID    int64  // ...or at it with a smaller id
	Limit       int
}

// Sessions returns matching sessions, newest first.
//
// SQLite reads the range newest first in an index that holds every column
// filtered on, and stops at the limit; a filter few sessions pass reads the
// range's index entries, not its rows. Page and event filters first list
// the matching sessions from their own index when there are few of them.
func (s *Store) Sessions(ctx context.Context, f SessionFilter) ([]Session, error) {
	q := sessionQuery{where: []string{"site_id = ?", "started_at >= ?", "started_at < ?"},
		args: []any{f.SiteID, f.Range.From, f.Range.To}}
	for _, eq := range []struct{ column, value string }{
		{"entry_page", f.EntryPage}, {"device", f.Device}, {"browser", f.Browser},
		{"os", f.OS}, {"country", f.Country}, {"referrer_host", f.Referrer},
		{"exit_page", f.ExitPage}, {"utm_source", f.UTMSource},
	} {
		if eq.value != "" {
			q.add(eq.column+" = ?", eq.value)
		}
	}
	switch f.UserID {
	case "":
	case "*":
		q.add("user_id != ''")
	default:
		q.add("user_id = ?", f.UserID)
	}
	if f.HasRage {
		q.add("rage_count > 0")
	}
	if f.HasError {
		q.add("error_count > 0")
	}
	if f.MinDuration > 0 {
		q.add("last_at - started_at >= ?", f.MinDuration)
	}
	if f.MaxDuration > 0 {
		q.add("last_at - started_at <= ?", f.MaxDuration)
	}
	if f.Before > 0 {
		q.add("(started_at < ? OR (started_at = ? AND id < ?))", f.Before, f.Before, f.BeforeID)
	}
	if err := s.visitFilters(ctx, f, &q); err != nil {
		return nil, err
	}
	return s.listSessions(ctx, q, f.Limit)
}

// sessionQuery is the WHERE clause of a list of sessions.
type sessionQuery struct {
	where []string
	args  []any
}

func (q *sessionQuery) add(cond string, args ...any) {
	q.where = append(q.where, cond)
	q.args = append(q.args, args...)
}

// visitFilters adds the page and event filters: a session that viewed the
// page or sent the event. When few page views or events match, the list of
// their sessions is read first; when many do, each session is asked in
// turn, last, after every other test, and the newest ones soon fill the
// page. A page view or an event is never earlier than its session's start.
func (s *Store) visitFilters(ctx context.Context, f SessionFilter, q *sessionQuery) error {
	for _, sub := range []struct {
		value, few, many string
	}{
		{f.PageKey, `SELECT session_id FROM page_views WHERE site_id = ? AND page_key = ?
			AND at >= ?`, `SELECT 1 FROM page_views p WHERE p.session_id = sessions.id
			AND p.page_key = ?`},
		{f.Event, `SELECT session_id FROM custom_events WHERE site_id = ? AND name = ?
			AND at >= ?`, `SELECT 1 FROM custom_events e WHERE e.session_id = sessions.id
			AND e.name = ?`},
	} {
		if sub.value == "" {
			continue
		}
		args := []any{f.SiteID, sub.value, f.Range.From}
		few, err := s.fewerThan(ctx, sub.few, args, manyRows)
		if err != nil {
			return err
		}
		if few {
			q.add("id IN ("+sub.few+")", args...)
		} else {
			q.add("EXISTS ("+sub.many+")", sub.value)
		}
	}
	return nil
}

// manyRows is how many matching page views or events make a filter common
// enough to test session by session.
const manyRows = 5000

// fewerThan reports whether query, given args, returns fewer than n rows,
// reading n rows at most.
func (s *Store) fewerThan(ctx context.Context, query string, args []any, n int) (bool, error) {
	var count int
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM (`+query+` LIMIT ?) t`,
		append(args, n)...).Scan(&count)
	return count < n, wrap(err, "count matches")
}

func (s *Store) listSessions(ctx context.Context, q sessionQuery,
	limit int) ([]Session, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+sessionColumns+` FROM sessions
		WHERE `+strings.Join(q.where, " AND ")+` ORDER BY started_at DESC, id DESC LIMIT ?`,
		append(q.args, limit)...)
	if err != nil {
		return nil, wrap(err, "list sessions")
	}
	defer rows.Close()
	out := []Session{}
	for rows.Next() {
		var sess Session
		if err := rows.Scan(sess.fields()...); err != nil {
			return nil, wrap(err, "list sessions")
		}
		out = append(out, sess)
	}
	return out, wrap(rows.Err(), "list sessions")
}

// SessionByID returns one session.
func (s *Store) SessionByID(ctx context.Context, id int64) (*Session, error) {
	var sess Session
	err := s.read.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = ?`,
		id).Scan(sess.fields()...)
	if err != nil {
		return nil, wrap(err, "session")
	}
	return &sess, nil
}

// PageViews returns a session's page views in order.
func (s *Store) PageViews(ctx context.Context, sessionID int64) ([]PageView, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT session_id, pid, site_id, at, day, url,
		page_key, title, device, view_w, max_scroll, page_h FROM page_views
		WHERE session_id = ? ORDER BY pid`, sessionID)
	if err != nil {
		return nil, wrap(err, "page views")
	}
	defer rows.Close()
	out := []PageView{}
	for rows.Next() {
		var p PageView
		if err := rows.Scan(&p.SessionID, &p.PID, &p.SiteID, &p.At, &p.Day, &p.URL,
			&p.PageKey, &p.Title, &p.Device, &p.ViewW, &p.MaxScroll, &p.PageH); err != nil {
			return nil, wrap(err, "page views")
		}
		out = append(out, p)
	}
	return out, wrap(rows.Err(), "page views")
}

// Clicks returns a session's clicks in order.
func (s *Store) Clicks(ctx context.Context, sessionID int64) ([]Click, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT session_id, pid, site_id, at, page_key,
		selector, offset_x, offset_y, x, y, view_w, dead, rage FROM clicks
		WHERE session_id = ? ORDER BY at, id`, sessionID)
	if err != nil {
		return nil, wrap(err, "clicks")
	}
	defer rows.Close()
	out := []Click{}
	for rows.Next() {
		var c Click
		if err := rows.Scan(&c.SessionID, &c.PID, &c.SiteID, &c.At, &c.PageKey, &c.Selector,
			&c.OffsetX, &c.OffsetY, &c.X, &c.Y, &c.ViewW, &c.Dead, &c.Rage); err != nil {
			return nil, wrap(err, "clicks")
		}
		out = append(out, c)
	}
	return out, wrap(rows.Err(), "clicks")
}

// Chunks returns the recording chunks of a session in order.
func (s *Store) Chunks(ctx context.Context, sessionID int64) ([]Chunk, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+chunkColumns+` FROM recording_chunks
		WHERE session_id = ? ORDER BY seq`, sessionID)
	if err != nil {
		return nil, wrap(err, "recording chunks")
	}
	return scanChunks(rows, "recording chunks")
}

// chunkColumns are the columns scanChunks reads.
const chunkColumns = `session_id, seq, blob_key, first_ts, last_ts, events, bytes`

// scanChunks reads rows of chunkColumns and closes them.
func scanChunks(rows *sql.Rows, op string) ([]Chunk, error) {
	defer rows.Close()
	out := []Chunk{}
	for rows.Next() {
		var c Chunk
		if err := rows.Scan(&c.SessionID, &c.Seq, &c.BlobKey, &c.FirstTS, &c.LastTS,
			&c.Events, &c.Bytes); err != nil {
			return nil, wrap(err, op)
		}
		out = append(out, c)
	}
	return out, wrap(rows.Err(), op)
}

// HeatQuery selects one heatmap: a page, a device class and a day range.
type HeatQuery struct {
	SiteID          int64
	PageKey, Device string
	FromDay, ToDay  int
}

// ElementCell is a roll-up cell of clicks on an element.
type ElementCell struct {
	Selector string `json:"selector"`
	OffsetX  int    `json:"offset_x"` // per cent of the element's width
	OffsetY  int    `json:"offset_y"`
	Count    int64  `json:"count"`
}

// PointCell is a roll-up cell of page coordinates (10 px cells).
type PointCell struct {
	X     int   `json:"x"`
	Y     int   `json:"y"`
	Count int64 `json:"count"`
}

// HeatScroll returns how many page views had their deepest point at each
// depth (index 0–100).
func (s *Store) HeatScroll(ctx context.Context, q HeatQuery) ([]int64, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT depth, SUM(count) FROM heat_scroll
		WHERE site_id = ? AND page_key = ? AND device = ? AND day >= ? AND day <= ?
		GROUP BY depth`, q.SiteID, q.PageKey, q.Device, q.FromDay, q.ToDay)
	if err != nil {
		return nil, wrap(err, "heatmap scroll")
	}
	defer rows.Close()
	out := make([]int64, 101)
	for rows.Next() {
		var depth int
		var n int64
		if err := rows.Scan(&depth, &n); err != nil {
			return nil, wrap(err, "heatmap scroll")
		}
		if depth < 0 || depth > 100 {
			return nil, fmt.Errorf("heatmap scroll: depth %d out of range", depth)
		}
		out[depth] = n
	}
	return out, wrap(rows.Err(), "heatmap scroll")
}
