package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Tx is one write transaction of the processor. It is only valid inside the
// function given to Store.Write.
type Tx struct {
	tx  *sql.Tx
	ctx context.Context
}

// Write runs fn in one write transaction and commits it when fn returns nil.
// The processor writes many batches per transaction: one commit, one sync.
func (s *Store) Write(ctx context.Context, fn func(*Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin write: %w", err)
	}
	defer tx.Rollback()
	if err := fn(&Tx{tx: tx, ctx: ctx}); err != nil {
		return err
	}
	return wrap(tx.Commit(), "commit write")
}

func (t *Tx) exec(op, query string, args ...any) error {
	_, err := t.tx.ExecContext(t.ctx, query, args...)
	return wrap(err, op)
}

// ClaimBatch records (session, seq) and reports whether it is new; a batch
// seen before must not be written again.
func (t *Tx) ClaimBatch(sessionID, seq int64) (bool, error) {
	res, err := t.tx.ExecContext(t.ctx, `INSERT INTO batches (session_id, seq) VALUES (?, ?)
		ON CONFLICT DO NOTHING`, sessionID, seq)
	if err != nil {
		return false, wrap(err, "claim batch")
	}
	n, err := res.RowsAffected()
	return n == 1, wrap(err, "claim batch")
}

// Session is one visit, as stored.
type Session struct {
	ID             int64
	SiteID         int64
	VisitorID      int64 // 0 when the visitor asked not to be followed
	StartedAt      int64
	LastAt         int64
	Day            int
	ClockOffset    int64
	EntryPage      string
	ExitPage       string
	PageCount      int
	ClickCount     int
	RageCount      int
	DeadCount      int
	ErrorCount     int
	EventCount     int
	ReferrerHost   string
	ReferrerSource string
	UTMSource      string
	UTMMedium      string
	UTMCampaign    string
	Browser        string
	BrowserVersion string
	OS             string
	OSVersion      string
	Device         string
	Country        string
	ScreenW        int
	ScreenH        int
	UserID         string
	UserTraits     string
	RecordingBytes int64
}

const sessionColumns = `id, site_id, COALESCE(visitor_id, 0), started_at, last_at, day,
	clock_offset, entry_page, exit_page, page_count, click_count, rage_count, dead_count,
	error_count, event_count, referrer_host, referrer_source, utm_source, utm_medium,
	utm_campaign, browser, browser_version, os, os_version, device, country, screen_w,
	screen_h, user_id, user_traits, recording_bytes`

func (s *Session) fields() []any {
	return []any{&s.ID, &s.SiteID, &s.VisitorID, &s.StartedAt, &s.LastAt, &s.Day,
		&s.ClockOffset, &s.EntryPage, &s.ExitPage, &s.PageCount, &s.ClickCount,
		&s.RageCount, &s.DeadCount, &s.ErrorCount, &s.EventCount, &s.ReferrerHost,
		&s.ReferrerSource, &s.UTMSource, &s.UTMMedium, &s.UTMCampaign, &s.Browser,
		&s.BrowserVersion, &s.OS, &s.OSVersion, &s.Device, &s.Country, &s.ScreenW,
		&s.ScreenH, &s.UserID, &s.UserTraits, &s.RecordingBytes}
}

// Session returns the stored session, or ErrNotFound.
func (t *Tx) Session(id int64) (*Session, error) {
	var s Session
	err := t.tx.QueryRowContext(t.ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = ?`,
		id).Scan(s.fields()...)
	if err != nil {
		return nil, wrap(err, "session")
	}
	return &s, nil
}

// SaveSession inserts the session or replaces every field of the stored one.
func (t *Tx) SaveSession(s *Session) error {
	var visitor any
	if s.VisitorID != 0 {
		visitor = s.VisitorID
	}
	return t.exec("save session", `INSERT INTO sessions (id, site_id, visitor_id,
		started_at, last_at, day, clock_offset, entry_page, exit_page, page_count,
		click_count, rage_count, dead_count, error_count, event_count, referrer_host,
		referrer_source, utm_source, utm_medium, utm_campaign, browser, browser_version,
		os, os_version, device, country, screen_w, screen_h, user_id, user_traits,
		recording_bytes)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
			?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET visitor_id = excluded.visitor_id,
		started_at = excluded.started_at, last_at = excluded.last_at, day = excluded.day,
		clock_offset = excluded.clock_offset, entry_page = excluded.entry_page,
		exit_page = excluded.exit_page, page_count = excluded.page_count,
		click_count = excluded.click_count, rage_count = excluded.rage_count,
		dead_count = excluded.dead_count, error_count = excluded.error_count,
		event_count = excluded.event_count, referrer_host = excluded.referrer_host,
		referrer_source = excluded.referrer_source, utm_source = excluded.utm_source,
		utm_medium = excluded.utm_medium, utm_campaign = excluded.utm_campaign,
		browser = excluded.browser, browser_version = excluded.browser_version,
		os = excluded.os, os_version = excluded.os_version, device = excluded.device,
		country = excluded.country, screen_w = excluded.screen_w, screen_h = excluded.screen_h,
		user_id = excluded.user_id, user_traits = excluded.user_traits,
		recording_bytes = excluded.recording_bytes`,
		s.ID, s.SiteID, visitor, s.StartedAt, s.LastAt, s.Day, s.ClockOffset, s.EntryPage,
		s.ExitPage, s.PageCount, s.ClickCount, s.RageCount, s.DeadCount, s.ErrorCount,
		s.EventCount, s.ReferrerHost, s.ReferrerSource, s.UTMSource, s.UTMMedium,
		s.UTMCampaign, s.Browser, s.BrowserVersion, s.OS, s.OSVersion, s.Device, s.Country,
		s.ScreenW, s.ScreenH, s.UserID, s.UserTraits, s.RecordingBytes)
}

// PageView is one URL shown in a session.
type PageView struct {
	SessionID int64
	PID       int64
	SiteID    int64
	At        int64
	Day       int
	URL       string
	PageKey   string
	Title     string
	Device    string
	ViewW     int
	MaxScroll int // deepest point reached, per cent; -1 before any scroll report
	PageH     int
}

// PageView returns a stored page view, or ErrNotFound.
func (t *Tx) PageView(sessionID, pid int64) (*PageView, error) {
	var p PageView
	err := t.tx.QueryRowContext(t.ctx, `SELECT session_id, pid, site_id, at, day, url,
		page_key, title, device, view_w, max_scroll, page_h FROM page_views
		WHERE session_id = ? AND pid = ?`, sessionID, pid).Scan(&p.SessionID, &p.PID,
		&p.SiteID, &p.At, &p.Day, &p.URL, &p.PageKey, &p.Title, &p.Device, &p.ViewW,
		&p.MaxScroll, &p.PageH)
	if err != nil {
		return nil, wrap(err, "page view")
	}
	return &p, nil
}

// SavePageView inserts a page view or replaces the stored one.
func (t *Tx) SavePageView(p *PageView) error {
	return t.exec("save page view", `INSERT INTO page_views (session_id, pid, site_id, at,
		day, url, page_key, title, device, view_w, max_scroll, page_h)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (session_id, pid) DO UPDATE SET at = excluded.at, day = excluded.day,
		url = excluded.url, page_key = excluded.page_key, title = excluded.title,
		device = excluded.device, view_w = excluded.view_w,
		max_scroll = excluded.max_scroll, page_h = excluded.page_h`,
		p.SessionID, p.PID, p.SiteID, p.At, p.Day, p.URL, p.PageKey, p.Title, p.Device,
		p.ViewW, p.MaxScroll, p.PageH)
}

// Click is one click, as stored.
type Click struct {
	SessionID int64
	PID       int64
	SiteID    int64
	At        int64
	PageKey   string
	Selector  string
	OffsetX   float64
	OffsetY   float64
	X, Y      float64
	ViewW     int
	Dead      bool
	Rage      bool
}

// RecentClicks returns the session's clicks at or after since, oldest first.
func (t *Tx) RecentClicks(sessionID, since int64) ([]Click, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT session_id, pid, site_id, at, page_key,
		selector, offset_x, offset_y, x, y, view_w, dead, rage FROM clicks
		WHERE session_id = ? AND at >= ? ORDER BY at, id`, sessionID, since)
	if err != nil {
		return nil, wrap(err, "recent clicks")
	}
	defer rows.Close()
	var out []Click
	for rows.Next() {
		var c Click
		if err := rows.Scan(&c.SessionID, &c.PID, &c.SiteID, &c.At, &c.PageKey, &c.Selector,
			&c.OffsetX, &c.OffsetY, &c.X, &c.Y, &c.ViewW, &c.Dead, &c.Rage); err != nil {
			return nil, wrap(err, "recent clicks")
		}
		out = append(out, c)
	}
	return out, wrap(rows.Err(), "recent clicks")
}

// AddClick stores a click.
func (t *Tx) AddClick(c *Click) error {
	return t.exec("add click", `INSERT INTO clicks (session_id, pid, site_id, at, page_key,
		selector, offset_x, offset_y, x, y, view_w, dead, rage)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.SessionID, c.PID, c.SiteID, c.At,
		c.PageKey, c.Selector, c.OffsetX, c.OffsetY, c.X, c.Y, c.ViewW, c.Dead, c.Rage)
}

// AddCustomEvent stores a custom event; props is its JSON text.
func (t *Tx) AddCustomEvent(siteID, sessionID, pid, at int64, name, props string) error {
	return t.exec("add custom event", `INSERT INTO custom_events (session_id, pid, site_id,
		at, name, props) VALUES (?, ?, ?, ?, ?, ?)`, sessionID, pid, siteID, at, name, props)
}

// AddError stores an uncaught page error.
func (t *Tx) AddError(siteID, sessionID, pid, at int64, message, source string,
	line, col int) error {
	return t.exec("add error", `INSERT INTO page_errors (session_id, pid, site_id, at,
		message, source, line, col) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		sessionID, pid, siteID, at, message, source, line, col)
}

// Chunk is one stored piece of a session's recording.
type Chunk struct {
	SessionID int64
	Seq       int64
	BlobKey   string
	FirstTS   int64
	LastTS    int64
	Events    int
	Bytes     int64
}

// AddChunk lists a recording chunk already written to the blob store.
func (t *Tx) AddChunk(c *Chunk) error {
	return t.exec("add recording chunk", `INSERT INTO recording_chunks (session_id, seq,
		blob_key, first_ts, last_ts, events, bytes) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (session_id, seq) DO NOTHING`,
		c.SessionID, c.Seq, c.BlobKey, c.FirstTS, c.LastTS, c.Events, c.Bytes)
}

// HeatKey names one heatmap: a page of a site, for a device class, on a day.
type HeatKey struct {
	SiteID  int64
	PageKey string
	Device  string
	Day     int
}

// BumpElement adds n to the roll-up cell of a click on selector at the given
// in-element offset (per cent).
func (t *Tx) BumpElement(k HeatKey, selector string, ox, oy int, n int64) error {
	return t.exec("bump element", `INSERT INTO heat_elements (site_id, page_key, device, day,
		selector, offset_x, offset_y, count) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (site_id, page_key, device, day, selector, offset_x, offset_y)
		DO UPDATE SET count = heat_elements.count + excluded.count`,
		k.SiteID, k.PageKey, k.Device, k.Day, selector, ox, oy, n)
}

// BumpPoint adds n to the roll-up cell of a click or move at page cell (x, y).
func (t *Tx) BumpPoint(k HeatKey, kind string, x, y int, n int64) error {
	return t.exec("bump point", `INSERT INTO heat_points (site_id, page_key, device, kind,
		day, x, y, count) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (site_id, page_key, device, kind, day, x, y)
		DO UPDATE SET count = heat_points.count + excluded.count`,
		k.SiteID, k.PageKey, k.Device, kind, k.Day, x, y, n)
}

// BumpScroll adds n (which may be negative) to the page views whose deepest
// point was depth per cent.
func (t *Tx) BumpScroll(k HeatKey, depth int, n int64) error {
	return t.exec("bump scroll", `INSERT INTO heat_scroll (site_id, page_key, device, day,
		depth, count) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (site_id, page_key, device, day, depth)
		DO UPDATE SET count = heat_scroll.count + excluded.count`,
		k.SiteID, k.PageKey, k.Device, k.Day, depth, n)
}

// IgnoreSession marks a session as not traffic; its batches are dropped.
func (t *Tx) IgnoreSession(id int64, reason string) error {
	return t.exec("ignore session", `INSERT INTO ignored_sessions (id, reason) VALUES (?, ?)
		ON CONFLICT (id) DO NOTHING`, id, reason)
}

// Ignored reports whether a session was marked as not traffic.
func (t *Tx) Ignored(id int64) (bool, error) {
	var n int
	err := t.tx.QueryRowContext(t.ctx, `SELECT COUNT(*) FROM ignored_sessions WHERE id = ?`,
		id).Scan(&n)
	return n > 0, wrap(err, "ignored session")
}
