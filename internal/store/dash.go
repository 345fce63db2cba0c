package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// This file holds the reads only the dashboard needs: whether a site
// receives data, its pages by popularity, where to find a recorded picture
// of a page and where clicked elements sit on it.

// LastEventAt returns the time (Unix ms) of the site's latest event and how
// many sessions started in the 24 hours up to the latest one; 0 and 0 when
// the site never received anything. It reads the newest sessions of the
// list index only, so an install check may poll it on a site with millions
// of sessions: no session lasts a day, so the latest event is one of theirs.
func (s *Store) LastEventAt(ctx context.Context, siteID int64) (lastAt, sessions int64,
	err error) {
	var latest sql.NullInt64
	err = s.read.QueryRowContext(ctx, `SELECT MAX(started_at) FROM sessions
		WHERE site_id = ?`, siteID).Scan(&latest)
	if err != nil || !latest.Valid {
		return 0, 0, wrap(err, "last event")
	}
	err = s.read.QueryRowContext(ctx, `SELECT MAX(last_at), COUNT(*) FROM sessions
		WHERE site_id = ? AND started_at > ?`, siteID, latest.Int64-oneDay.Milliseconds()).
		Scan(&lastAt, &sessions)
	if err != nil {
		return 0, 0, wrap(err, "last event")
	}
	return lastAt, sessions, nil
}

const oneDay = 24 * time.Hour

// PageRanking returns the site's page keys by page views in the days of r,
// most viewed first, ties by key; device "" counts every device class and
// limit 0 or less returns every page.
func (s *Store) PageRanking(ctx context.Context, siteID int64, device string, r Range,
	limit int) ([]Count, error) {
	counts, err := s.pageCounts(ctx, siteID, device, r, nil, nil)
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = len(counts)
	}
	return ranked(counts, limit), nil
}

// Snapshot search bounds: how far before a page view (browser clock) a
// chunk may end and still hold its snapshot, as the clocks of a session's
// batches differ by their network delay; how long after the page view the
// recorder may take to start; and how many chunks of one page view to offer.
const (
	snapshotSlack     = 5 * time.Second
	snapshotWindow    = time.Minute
	snapshotMaxChunks = 8
	// snapshotScan bounds the page views read in search of recorded ones,
	// so that a page seen often but never recorded costs little.
	snapshotScan = 5000
)

// SnapshotSource is a recorded page view where a full snapshot of its page
// may be found, with the chunks of the session's recording to look in.
type SnapshotSource struct {
	SessionID int64
	PID       int64
	At        int64 // the page view, on the server's clock
	URL       string
	ViewW     int
	// ClockOffset is the session's server time less browser time: the
	// page view happened at about At - ClockOffset in the recording's
	// clock, the rrweb timestamps.
	ClockOffset int64
	// Chunks are the session's recording chunks that end at or after the
	// page view (less snapshotSlack) and start within snapshotWindow of it,
	// in order, at most snapshotMaxChunks.
	Chunks []Chunk
}

// SnapshotSources returns the most recent page views of a page on a device
// class in recorded sessions, newest first, at most limit, each with the
// chunks that may hold its snapshot. Only the latest snapshotScan views of
// the page are looked at.
func (s *Store) SnapshotSources(ctx context.Context, siteID int64, pageKey, device string,
	limit int) ([]SnapshotSource, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT p.session_id, p.pid, p.at, p.url,
		p.view_w, s.clock_offset
		FROM (SELECT session_id, pid, at, url, view_w FROM page_views
			WHERE site_id = ? AND page_key = ? AND device = ? ORDER BY at DESC LIMIT ?) p
		JOIN sessions s ON s.id = p.session_id
		WHERE s.recording_bytes > 0 ORDER BY p.at DESC LIMIT ?`,
		siteID, pageKey, device, snapshotScan, limit)
	if err != nil {
		return nil, wrap(err, "snapshot sources")
	}
	out := []SnapshotSource{}
	for rows.Next() {
		var src SnapshotSource
		if err := rows.Scan(&src.SessionID, &src.PID, &src.At, &src.URL, &src.ViewW,
			&src.ClockOffset); err != nil {
			rows.Close()
			return nil, wrap(err, "snapshot sources")
		}
		out = append(out, src)
	}
	if err := rows.Close(); err != nil {
		return nil, wrap(err, "snapshot sources")
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "snapshot sources")
	}
	for i := range out {
		if out[i].Chunks, err = s.snapshotChunks(ctx, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Store) snapshotChunks(ctx context.Context, src *SnapshotSource) ([]Chunk, error) {
	at := src.At - src.ClockOffset
	rows, err := s.read.QueryContext(ctx, `SELECT `+chunkColumns+` FROM recording_chunks
		WHERE session_id = ? AND last_ts >= ? AND first_ts <= ? ORDER BY seq LIMIT ?`,
		src.SessionID, at-snapshotSlack.Milliseconds(), at+snapshotWindow.Milliseconds(),
		snapshotMaxChunks)
	if err != nil {
		return nil, wrap(err, "snapshot chunks")
	}
	return scanChunks(rows, "snapshot chunks")
}

// Point is a position on a page, in CSS pixels.
type Point struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// Element positions are averaged over a sample: the latest clicks on the
// element from the device class, out of its latest clicks from any. An
// element keeps its place on a page, so a few clicks place it as well as
// thousands, and the cost stays the same however busy the page.
const (
	positionSample = 20
	positionScan   = 1000
)

// ElementPositions returns, for each selector clicked on the heatmap's
// page, device class and days, the average page coordinates of its clicks:
// where to draw its cells when the selector matches nothing in the page's
// snapshot. The average is that of its latest positionSample clicks from the
// device class among its latest positionScan clicks; a selector without
// such a click is left out. Each selector costs one indexed read, so the
// caller bounds the list.
func (s *Store) ElementPositions(ctx context.Context, q HeatQuery,
	selectors []string) (map[string]Point, error) {
	out := map[string]Point{}
	if len(selectors) == 0 {
		return out, nil
	}
	// Clicks know their time, not their day in the site's time zone: read
	// every click that may fall on the days, and let the page view's day
	// decide.
	from, to, err := dayBounds(q.FromDay, q.ToDay)
	if err != nil {
		return nil, fmt.Errorf("element positions: %w", err)
	}
	stmt, err := s.read.PrepareContext(ctx, `SELECT COUNT(*), AVG(x), AVG(y) FROM (
		SELECT c.x, c.y FROM (
			SELECT session_id, pid, x, y FROM clicks
			WHERE site_id = ? AND page_key = ? AND selector = ? AND at >= ? AND at < ?
			ORDER BY at DESC LIMIT ?) c
		JOIN page_views p ON p.session_id = c.session_id AND p.pid = c.pid
		WHERE p.device = ? AND p.day >= ? AND p.day <= ? LIMIT ?) t`)
	if err != nil {
		return nil, wrap(err, "element positions")
	}
	defer stmt.Close()
	for _, sel := range selectors {
		var n int
		var x, y sql.NullFloat64
		err := stmt.QueryRowContext(ctx, q.SiteID, q.PageKey, sel, from, to, positionScan,
			q.Device, q.FromDay, q.ToDay, positionSample).Scan(&n, &x, &y)
		if err != nil {
			return nil, wrap(err, "element positions")
		}
		if n > 0 {
			out[sel] = Point{X: x.Float64, Y: y.Float64}
		}
	}
	return out, nil
}

// dayBounds returns a time range (Unix ms, half-open) that holds the days
// first to last in any time zone: UTC offsets run from -12 to +14 hours.
func dayBounds(first, last int) (from, to int64, err error) {
	start, err := time.Parse("20060102", fmt.Sprintf("%08d", first))
	if err != nil {
		return 0, 0, fmt.Errorf("day %d: %w", first, err)
	}
	end, err := time.Parse("20060102", fmt.Sprintf("%08d", last))
	if err != nil {
		return 0, 0, fmt.Errorf("day %d: %w", last, err)
	}
	return start.Add(-14 * time.Hour).UnixMilli(), end.Add(36 * time.Hour).UnixMilli(), nil
}
