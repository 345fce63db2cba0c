package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"loupe.dev/loupe/internal/enrich"
	"loupe.dev/loupe/internal/store"
	"loupe.dev/loupe/internal/wire"
)

// status answers whether a site receives data, for the install check:
// {"last_event_at": RFC3339 or null, "sessions": N}, N being the sessions
// started in the day up to the latest one.
func (a *api) status(w http.ResponseWriter, r *http.Request) error {
	site, err := a.site(r)
	if err != nil {
		return err
	}
	last, sessions, err := a.store.LastEventAt(r.Context(), site.ID)
	if err != nil {
		return err
	}
	out := struct {
		LastEventAt *string `json:"last_event_at"`
		Sessions    int64   `json:"sessions_last_day"`
	}{Sessions: sessions}
	if last > 0 {
		at := time.UnixMilli(last).UTC().Format(time.RFC3339)
		out.LastEventAt = &at
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// maxRankedPages is how many pages the page list answers.
const maxRankedPages = 200

// pages answers the site's pages ranked by views in the date range, for the
// heatmap page's URL list: ?device= narrows to a device class and ?q= to
// page keys holding the text (any case).
func (a *api) pages(w http.ResponseWriter, r *http.Request) error {
	site, rng, err := a.siteRange(r)
	if err != nil {
		return err
	}
	device, err := deviceParam(r, "")
	if err != nil {
		return err
	}
	q := strings.ToLower(strings.TrimSpace(r.FormValue("q")))

	ranked, err := a.store.PageRanking(r.Context(), site.ID, device, rng, 0)
	if err != nil {
		return err
	}
	out := struct {
		Pages []store.Count `json:"pages"`
	}{Pages: []store.Count{}}
	for _, p := range ranked {
		if len(out.Pages) == maxRankedPages {
			break
		}
		if q == "" || strings.Contains(strings.ToLower(p.Name), q) {
			out.Pages = append(out.Pages, p)
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// snapshotCandidates is how many recorded page views the snapshot search
// looks at before it gives up.
const snapshotCandidates = 5

// errNoSnapshot answers a page no recording shows in full.
var errNoSnapshot = &clientError{status: http.StatusNotFound, msg: "no recorded snapshot"}

// snapshot answers a picture of a page to draw a heatmap over: the rrweb
// Meta event and full snapshot of the most recent recorded view of the page
// (?url=, a URL or page key) on a device class (?device=, desktop by
// default) that has one.
func (a *api) snapshot(w http.ResponseWriter, r *http.Request) error {
	site, err := a.site(r)
	if err != nil {
		return err
	}
	raw := strings.TrimSpace(r.FormValue("url"))
	if raw == "" {
		return badRequest("url: name the page")
	}
	device, err := deviceParam(r, "desktop")
	if err != nil {
		return err
	}
	key := sitePageKey(site, raw)

	sources, err := a.store.SnapshotSources(r.Context(), site.ID, key, device,
		snapshotCandidates)
	if err != nil {
		return err
	}
	for _, src := range sources {
		snap, ok, err := a.findSnapshot(r.Context(), key, src.Chunks)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if snap.Width == 0 {
			snap.Width = src.ViewW
		}
		snap.SessionID = wire.FormatID(src.SessionID)
		// A snapshot may be megabytes: its events go out as recorded, neither
		// indented nor escaped again.
		var body bytes.Buffer
		enc := json.NewEncoder(&body)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(snap); err != nil {
			return fmt.Errorf("encode snapshot: %w", err)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "private, max-age=60")
		_, err = w.Write(body.Bytes())
		return err
	}
	return errNoSnapshot
}

// snapshotJSON is a page as one recording saw it.
type snapshotJSON struct {
	SessionID string            `json:"session_id"`
	Width     int               `json:"width"`
	Height    int               `json:"height"`
	URL       string            `json:"url"`
	Events    []json.RawMessage `json:"events"` // the Meta event, then the full snapshot
}

// rrweb event types.
const (
	rrwebFullSnapshot = 2
	rrwebMeta         = 4
)

// findSnapshot reads chunks in order until a Meta event of the page is
// followed by a full snapshot, and returns the two; ok is false when none
// is.
func (a *api) findSnapshot(ctx context.Context, key string,
	chunks []store.Chunk) (found snapshotJSON, ok bool, err error) {
	var meta json.RawMessage
	for _, c := range chunks {
		body, err := a.chunk(ctx, c.BlobKey)
		if err != nil {
			return found, false, err
		}
		var events []json.RawMessage
		array := append(append([]byte{'['}, body...), ']')
		if err := json.Unmarshal(array, &events); err != nil {
			return found, false, fmt.Errorf("recording chunk %s: %w", c.BlobKey, err)
		}
		for _, ev := range events {
			var head struct {
				Type int `json:"type"`
				Data struct {
					Href   string `json:"href"`
					Width  int    `json:"width"`
					Height int    `json:"height"`
				} `json:"data"`
			}
			if json.Unmarshal(ev, &head) != nil {
				continue
			}
			switch head.Type {
			case rrwebMeta:
				meta = nil
				if k, err := enrich.PageKey(head.Data.Href); err == nil && k == key {
					meta = ev
					found.URL, found.Width, found.Height = head.Data.Href,
						head.Data.Width, head.Data.Height
				}
			case rrwebFullSnapshot:
				if meta != nil {
					found.Events = []json.RawMessage{meta, ev}
					return found, true, nil
				}
			}
		}
	}
	return found, false, nil
}
