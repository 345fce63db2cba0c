package store

import "context"

// CustomEvents returns a session's custom events in order.
func (s *Store) CustomEvents(ctx context.Context, sessionID int64) ([]CustomEvent, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT session_id, pid, site_id, at, name, props
		FROM custom_events WHERE session_id = ? ORDER BY at, id`, sessionID)
	if err != nil {
		return nil, wrap(err, "custom events")
	}
	defer rows.Close()
	out := []CustomEvent{}
	for rows.Next() {
		var e CustomEvent
		if err := rows.Scan(&e.SessionID, &e.PID, &e.SiteID, &e.At, &e.Name,
			&e.Props); err != nil {
			return nil, wrap(err, "custom events")
		}
		out = append(out, e)
	}
	return out, wrap(rows.Err(), "custom events")
}

// PageErrors returns a session's page errors in order.
func (s *Store) PageErrors(ctx context.Context, sessionID int64) ([]PageError, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT session_id, pid, site_id, at, message,
		source, line, col FROM page_errors WHERE session_id = ? ORDER BY at, id`, sessionID)
	if err != nil {
		return nil, wrap(err, "page errors")
	}
	defer rows.Close()
	out := []PageError{}
	for rows.Next() {
		var e PageError
		if err := rows.Scan(&e.SessionID, &e.PID, &e.SiteID, &e.At, &e.Message, &e.Source,
			&e.Line, &e.Column); err != nil {
			return nil, wrap(err, "page errors")
		}
		out = append(out, e)
	}
	return out, wrap(rows.Err(), "page errors")
}
