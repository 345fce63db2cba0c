package store

import (
	"context"
	"fmt"
	"strings"
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
	Devices         []Count `json:"devices"`
	Browsers        []Count `json:"browsers"`
	OSes            []Count `json:"oses"`
	Countries       []Count `json:"countries"`
}

// Stats computes a site's figures; a session belongs to the range it
// started in.
func (s *Store) Stats(ctx context.Context, siteID int64, r Range) (*Stats, error) {
	var st Stats
	var bounces int64
	var avg float64
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*),
		COUNT(DISTINCT COALESCE(visitor_id, id)),
		COALESCE(SUM(CASE WHEN page_count <= 1 THEN 1 ELSE 0 END), 0),
		COALESCE(AVG(last_at - started_at), 0)
		FROM sessions WHERE site_id = ? AND started_at >= ? AND started_at < ?`,
		siteID, r.From, r.To).Scan(&st.Sessions, &st.Visitors, &bounces, &avg)
	if err != nil {
		return nil, wrap(err, "stats")
	}
	if st.Sessions > 0 {
		st.BounceRate = float64(bounces) / float64(st.Sessions)
	}
	st.AvgDurationSecs = avg / 1000
	err = s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM page_views
		WHERE site_id = ? AND at >= ? AND at < ?`, siteID, r.From, r.To).Scan(&st.PageViews)
	if err != nil {
		return nil, wrap(err, "stats page views")
	}

	if st.TopPages, err = s.counts(ctx, `SELECT page_key, COUNT(*) FROM page_views
		WHERE site_id = ? AND at >= ? AND at < ?`, "page_key", siteID, r); err != nil {
		return nil, err
	}
	breakdowns := []struct {
		dst    *[]Count
		column string
	}{
		{&st.EntryPages, "entry_page"}, {&st.ExitPages, "exit_page"},
		{&st.Referrers, "referrer_host"}, {&st.Devices, "device"},
		{&st.Browsers, "browser"}, {&st.OSes, "os"}, {&st.Countries, "country"},
	}
	for _, b := range breakdowns {
		*b.dst, err = s.counts(ctx, `SELECT `+b.column+`, COUNT(*) FROM sessions
			WHERE site_id = ? AND started_at >= ? AND started_at < ? AND `+b.column+` != ''`,
			b.column, siteID, r)
		if err != nil {
			return nil, err
		}
	}
	return &st, nil
}

// counts runs a ranked breakdown: query selects (name, count) and ends in
// its WHERE clause; it is grouped by column and cut to the top 20.
func (s *Store) counts(ctx context.Context, query, column string, siteID int64,
	r Range) ([]Count, error) {
	rows, err := s.read.QueryContext(ctx, query+` GROUP BY `+column+
		` ORDER BY COUNT(*) DESC, `+column+` LIMIT 20`, siteID, r.From, r.To)
	if err != nil {
		return nil, wrap(err, "breakdown "+column)
	}
	defer rows.Close()
	out := []Count{}
	for rows.Next() {
		var c Count
		if err := rows.Scan(&c.Name, &c.Count); err != nil {
			return nil, wrap(err, "breakdown "+column)
		}
		out = append(out, c)
	}
	return out, wrap(rows.Err(), "breakdown "+column)
}

// SessionFilter selects sessions for the recordings list.
type SessionFilter struct {
	SiteID      int64
	Range       Range
	PageKey     string // visited this page
	Device      string
	MinDuration int64 // milliseconds
	Before      int64 // cursor: sessions that started before this time...
	BeforeID    int64 // ...or at it with a smaller id
	Limit       int
}

// Sessions returns matching sessions, newest first.
func (s *Store) Sessions(ctx context.Context, f SessionFilter) ([]Session, error) {
	where := []string{"site_id = ?", "started_at >= ?", "started_at < ?"}
	args := []any{f.SiteID, f.Range.From, f.Range.To}
	if f.PageKey != "" {
		where = append(where, `EXISTS (SELECT 1 FROM page_views p
			WHERE p.session_id = sessions.id AND p.page_key = ?)`)
		args = append(args, f.PageKey)
	}
	if f.Device != "" {
		where = append(where, "device = ?")
		args = append(args, f.Device)
	}
	if f.MinDuration > 0 {
		where = append(where, "last_at - started_at >= ?")
		args = append(args, f.MinDuration)
	}
	if f.Before > 0 {
		where = append(where, "(started_at < ? OR (started_at = ? AND id < ?))")
		args = append(args, f.Before, f.Before, f.BeforeID)
	}
	args = append(args, f.Limit)
	rows, err := s.read.QueryContext(ctx, `SELECT `+sessionColumns+` FROM sessions
		WHERE `+strings.Join(where, " AND ")+` ORDER BY started_at DESC, id DESC LIMIT ?`,
		args...)
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
	rows, err := s.read.QueryContext(ctx, `SELECT session_id, seq, blob_key, first_ts,
		last_ts, events, bytes FROM recording_chunks WHERE session_id = ? ORDER BY seq`,
		sessionID)
	if err != nil {
		return nil, wrap(err, "recording chunks")
	}
	defer rows.Close()
	out := []Chunk{}
	for rows.Next() {
		var c Chunk
		if err := rows.Scan(&c.SessionID, &c.Seq, &c.BlobKey, &c.FirstTS, &c.LastTS,
			&c.Events, &c.Bytes); err != nil {
			return nil, wrap(err, "recording chunks")
		}
		out = append(out, c)
	}
	return out, wrap(rows.Err(), "recording chunks")
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

// HeatElements returns the click cells of a heatmap, most clicked first.
func (s *Store) HeatElements(ctx context.Context, q HeatQuery) ([]ElementCell, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT selector, offset_x, offset_y, SUM(count)
		FROM heat_elements WHERE site_id = ? AND page_key = ? AND device = ?
		AND day >= ? AND day <= ? GROUP BY selector, offset_x, offset_y
		ORDER BY SUM(count) DESC, selector, offset_x, offset_y LIMIT 50000`,
		q.SiteID, q.PageKey, q.Device, q.FromDay, q.ToDay)
	if err != nil {
		return nil, wrap(err, "heatmap elements")
	}
	defer rows.Close()
	out := []ElementCell{}
	for rows.Next() {
		var c ElementCell
		if err := rows.Scan(&c.Selector, &c.OffsetX, &c.OffsetY, &c.Count); err != nil {
			return nil, wrap(err, "heatmap elements")
		}
		out = append(out, c)
	}
	return out, wrap(rows.Err(), "heatmap elements")
}

// PointCell is a roll-up cell of page coordinates (10 px cells).
type PointCell struct {
	X     int   `json:"x"`
	Y     int   `json:"y"`
	Count int64 `json:"count"`
}

// HeatPoints returns the page-coordinate cells of clicks or moves.
func (s *Store) HeatPoints(ctx context.Context, q HeatQuery, kind string) ([]PointCell, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT x, y, SUM(count) FROM heat_points
		WHERE site_id = ? AND page_key = ? AND device = ? AND kind = ?
		AND day >= ? AND day <= ? GROUP BY x, y ORDER BY SUM(count) DESC, y, x LIMIT 100000`,
		q.SiteID, q.PageKey, q.Device, kind, q.FromDay, q.ToDay)
	if err != nil {
		return nil, wrap(err, "heatmap points")
	}
	defer rows.Close()
	out := []PointCell{}
	for rows.Next() {
		var c PointCell
		if err := rows.Scan(&c.X, &c.Y, &c.Count); err != nil {
			return nil, wrap(err, "heatmap points")
		}
		c.X, c.Y = c.X*10+5, c.Y*10+5
		out = append(out, c)
	}
	return out, wrap(rows.Err(), "heatmap points")
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
