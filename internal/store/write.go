package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/bits"
	"strings"
)

// Tx is one write transaction of the processor. It is only valid inside the
// function given to Store.Write.
//
// The processor gathers what a group of batches writes and hands it over in
// slices, so that a group costs a few statements rather than a few per
// event: one statement carries many rows, and each distinct statement is
// parsed once per transaction.
type Tx struct {
	tx    *sql.Tx
	ctx   context.Context
	stmts map[string]*sql.Stmt
}

// Write runs fn in one write transaction and commits it when fn returns nil.
// The processor writes many batches per transaction: one commit, one sync.
func (s *Store) Write(ctx context.Context, fn func(*Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin write: %w", err)
	}
	defer tx.Rollback()
	if err := fn(&Tx{tx: tx, ctx: ctx, stmts: map[string]*sql.Stmt{}}); err != nil {
		return err
	}
	return wrap(tx.Commit(), "commit write")
}

// stmt returns the transaction's prepared statement for query, preparing it
// on first use; it is closed with the transaction.
func (t *Tx) stmt(query string) (*sql.Stmt, error) {
	if st := t.stmts[query]; st != nil {
		return st, nil
	}
	st, err := t.tx.PrepareContext(t.ctx, query)
	if err != nil {
		return nil, err
	}
	t.stmts[query] = st
	return st, nil
}

func (t *Tx) exec(query string, args ...any) error {
	st, err := t.stmt(query)
	if err != nil {
		return err
	}
	_, err = st.ExecContext(t.ctx, args...)
	return err
}

func (t *Tx) query(query string, args ...any) (*sql.Rows, error) {
	st, err := t.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(t.ctx, args...)
}

// maxRows bounds the rows of one multi-row statement: 64 rows of the widest
// table (31 columns) is 1984 parameters, well inside the limits of SQLite
// (32766) and PostgreSQL (65535).
const maxRows = 64

// rowsAtOnce returns how many of n rows go in the next statement: a power of
// two, so that a transaction prepares at most seven shapes of a statement
// whatever the number of rows.
func rowsAtOnce(n int) int {
	return 1 << (bits.Len(uint(min(n, maxRows))) - 1)
}

// valuesList returns the VALUES list of n rows of width placeholders each.
func valuesList(n, width int) string {
	row := "(" + strings.Repeat("?, ", width-1) + "?)"
	return " VALUES " + strings.Repeat(row+", ", n-1) + row
}

// execRows runs head, a VALUES list and tail over every row in args, each
// row being width arguments, with as few statements as it can.
func (t *Tx) execRows(op, head, tail string, width int, args []any) error {
	for len(args) > 0 {
		n := rowsAtOnce(len(args) / width)
		if err := t.exec(head+valuesList(n, width)+tail, args[:n*width]...); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		args = args[n*width:]
	}
	return nil
}

// queryRows is execRows for a statement that returns rows: it hands every
// row to scan.
func (t *Tx) queryRows(op, head, tail string, width int, args []any,
	scan func(*sql.Rows) error) error {
	for len(args) > 0 {
		n := rowsAtOnce(len(args) / width)
		rows, err := t.query(head+valuesList(n, width)+tail, args[:n*width]...)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if err := scanAll(rows, scan); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		args = args[n*width:]
	}
	return nil
}

// queryIn runs head, which ends in "IN ", with a parenthesised list of ids,
// and hands every row to scan; like execRows it takes the ids a power of two
// at a time.
func (t *Tx) queryIn(op, head string, ids []int64, scan func(*sql.Rows) error) error {
	for len(ids) > 0 {
		n := rowsAtOnce(len(ids))
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = id
		}
		rows, err := t.query(head+"("+strings.Repeat("?, ", n-1)+"?)", args...)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if err := scanAll(rows, scan); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		ids = ids[n:]
	}
	return nil
}

func scanAll(rows *sql.Rows, scan func(*sql.Rows) error) error {
	for rows.Next() {
		if err := scan(rows); err != nil {
			rows.Close()
			return err
		}
	}
	return errors.Join(rows.Err(), rows.Close())
}

// BatchKey names one batch: a session and its sequence number.
type BatchKey struct {
	SessionID int64
	Seq       int64
}

// ClaimBatches records batches as written and returns those that were not
// before; a batch seen before must not be written again. A key given twice
// is claimed once.
func (t *Tx) ClaimBatches(keys []BatchKey) (map[BatchKey]bool, error) {
	seen := make(map[BatchKey]bool, len(keys))
	args := make([]any, 0, 2*len(keys))
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			args = append(args, k.SessionID, k.Seq)
		}
	}
	fresh := make(map[BatchKey]bool, len(seen))
	err := t.queryRows("claim batches", `INSERT INTO batches (session_id, seq)`,
		` ON CONFLICT DO NOTHING RETURNING session_id, seq`, 2, args,
		func(rows *sql.Rows) error {
			var k BatchKey
			if err := rows.Scan(&k.SessionID, &k.Seq); err != nil {
				return err
			}
			fresh[k] = true
			return nil
		})
	return fresh, err
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

// Sessions returns those of the given sessions that are stored, by id.
func (t *Tx) Sessions(ids []int64) (map[int64]*Session, error) {
	out := make(map[int64]*Session, len(ids))
	err := t.queryIn("sessions", `SELECT `+sessionColumns+` FROM sessions WHERE id IN `, ids,
		func(rows *sql.Rows) error {
			var s Session
			if err := rows.Scan(s.fields()...); err != nil {
				return err
			}
			out[s.ID] = &s
			return nil
		})
	return out, err
}

// SaveSessions inserts each session or replaces every field of the stored
// one. A session may be given only once.
func (t *Tx) SaveSessions(sessions []*Session) error {
	const width = 31
	args := make([]any, 0, len(sessions)*width)
	for _, s := range sessions {
		var visitor any
		if s.VisitorID != 0 {
			visitor = s.VisitorID
		}
		args = append(args, s.ID, s.SiteID, visitor, s.StartedAt, s.LastAt, s.Day,
			s.ClockOffset, s.EntryPage, s.ExitPage, s.PageCount, s.ClickCount, s.RageCount,
			s.DeadCount, s.ErrorCount, s.EventCount, s.ReferrerHost, s.ReferrerSource,
			s.UTMSource, s.UTMMedium, s.UTMCampaign, s.Browser, s.BrowserVersion, s.OS,
			s.OSVersion, s.Device, s.Country, s.ScreenW, s.ScreenH, s.UserID, s.UserTraits,
			s.RecordingBytes)
	}
	return t.execRows("save sessions", `INSERT INTO sessions (id, site_id, visitor_id,
		started_at, last_at, day, clock_offset, entry_page, exit_page, page_count,
		click_count, rage_count, dead_count, error_count, event_count, referrer_host,
		referrer_source, utm_source, utm_medium, utm_campaign, browser, browser_version,
		os, os_version, device, country, screen_w, screen_h, user_id, user_traits,
		recording_bytes)`, `
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
		recording_bytes = excluded.recording_bytes`, width, args)
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
	st, err := t.stmt(`SELECT session_id, pid, site_id, at, day, url, page_key, title,
		device, view_w, max_scroll, page_h FROM page_views WHERE session_id = ? AND pid = ?`)
	if err != nil {
		return nil, wrap(err, "page view")
	}
	var p PageView
	err = st.QueryRowContext(t.ctx, sessionID, pid).Scan(&p.SessionID, &p.PID, &p.SiteID,
		&p.At, &p.Day, &p.URL, &p.PageKey, &p.Title, &p.Device, &p.ViewW, &p.MaxScroll,
		&p.PageH)
	if err != nil {
		return nil, wrap(err, "page view")
	}
	return &p, nil
}

// SavePageViews inserts each page view or replaces the stored one. A page
// view may be given only once.
func (t *Tx) SavePageViews(pages []*PageView) error {
	const width = 12
	args := make([]any, 0, len(pages)*width)
	for _, p := range pages {
		args = append(args, p.SessionID, p.PID, p.SiteID, p.At, p.Day, p.URL, p.PageKey,
			p.Title, p.Device, p.ViewW, p.MaxScroll, p.PageH)
	}
	return t.execRows("save page views", `INSERT INTO page_views (session_id, pid, site_id,
		at, day, url, page_key, title, device, view_w, max_scroll, page_h)`, `
		ON CONFLICT (session_id, pid) DO UPDATE SET at = excluded.at, day = excluded.day,
		url = excluded.url, page_key = excluded.page_key, title = excluded.title,
		device = excluded.device, view_w = excluded.view_w,
		max_scroll = excluded.max_scroll, page_h = excluded.page_h`, width, args)
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
	rows, err := t.query(`SELECT session_id, pid, site_id, at, page_key,
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

// AddClicks stores clicks, in the order given.
func (t *Tx) AddClicks(clicks []Click) error {
	const width = 13
	args := make([]any, 0, len(clicks)*width)
	for _, c := range clicks {
		args = append(args, c.SessionID, c.PID, c.SiteID, c.At, c.PageKey, c.Selector,
			c.OffsetX, c.OffsetY, c.X, c.Y, c.ViewW, c.Dead, c.Rage)
	}
	return t.execRows("add clicks", `INSERT INTO clicks (session_id, pid, site_id, at,
		page_key, selector, offset_x, offset_y, x, y, view_w, dead, rage)`, "", width, args)
}

// CustomEvent is one event a page sent with loupe('event', name, props).
type CustomEvent struct {
	SessionID int64
	PID       int64
	SiteID    int64
	At        int64
	Name      string
	Props     string // JSON text
}

// AddCustomEvents stores custom events, in the order given.
func (t *Tx) AddCustomEvents(events []CustomEvent) error {
	const width = 6
	args := make([]any, 0, len(events)*width)
	for _, e := range events {
		args = append(args, e.SessionID, e.PID, e.SiteID, e.At, e.Name, e.Props)
	}
	return t.execRows("add custom events", `INSERT INTO custom_events (session_id, pid,
		site_id, at, name, props)`, "", width, args)
}

// PageError is one uncaught error of a page.
type PageError struct {
	SessionID int64
	PID       int64
	SiteID    int64
	At        int64
	Message   string
	Source    string
	Line      int
	Column    int
}

// AddErrors stores page errors, in the order given.
func (t *Tx) AddErrors(errs []PageError) error {
	const width = 8
	args := make([]any, 0, len(errs)*width)
	for _, e := range errs {
		args = append(args, e.SessionID, e.PID, e.SiteID, e.At, e.Message, e.Source, e.Line,
			e.Column)
	}
	return t.execRows("add errors", `INSERT INTO page_errors (session_id, pid, site_id, at,
		message, source, line, col)`, "", width, args)
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

// AddChunks lists recording chunks already written to the blob store; a
// chunk listed before is left as it is. A chunk may be given only once.
func (t *Tx) AddChunks(chunks []*Chunk) error {
	const width = 7
	args := make([]any, 0, len(chunks)*width)
	for _, c := range chunks {
		args = append(args, c.SessionID, c.Seq, c.BlobKey, c.FirstTS, c.LastTS, c.Events,
			c.Bytes)
	}
	return t.execRows("add recording chunks", `INSERT INTO recording_chunks (session_id, seq,
		blob_key, first_ts, last_ts, events, bytes)`, `
		ON CONFLICT (session_id, seq) DO NOTHING`, width, args)
}

// IgnoreSession marks a session as not traffic; its batches are dropped.
func (t *Tx) IgnoreSession(id int64, reason string) error {
	return wrap(t.exec(`INSERT INTO ignored_sessions (id, reason) VALUES (?, ?)
		ON CONFLICT (id) DO NOTHING`, id, reason), "ignore session")
}

// Ignored returns which of the given sessions are marked as not traffic.
func (t *Tx) Ignored(ids []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	err := t.queryIn("ignored sessions", `SELECT id FROM ignored_sessions WHERE id IN `, ids,
		func(rows *sql.Rows) error {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			out[id] = true
			return nil
		})
	return out, err
}
