package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"loupe.dev/loupe/internal/blob"
	"loupe.dev/loupe/internal/enrich"
	"loupe.dev/loupe/internal/heatmap"
	"loupe.dev/loupe/internal/store"
	"loupe.dev/loupe/internal/wire"
)

// maxRecording bounds one decompressed recording chunk.
const maxRecording = 256 << 20

// api serves /api/v1/.
type api struct {
	auth  *auth // nil: bearer tokens only
	store *store.Store
	blobs blob.Store
	now   func() time.Time
}

// authorise returns the sites the request may read: those of its bearer
// token or, without one, those of the dashboard login its cookie stands for.
func (a *api) authorise(r *http.Request) ([]int64, error) {
	header := r.Header.Get("Authorization")
	if header == "" && a.auth != nil {
		l, err := a.auth.login(r)
		if err != nil {
			return nil, err
		}
		if l == nil {
			return nil, errUnauthorized
		}
		access, err := a.store.UserSites(r.Context(), &l.User)
		if err != nil {
			return nil, err
		}
		sites := make([]int64, len(access))
		for i, s := range access {
			sites[i] = s.Site.ID
		}
		return sites, nil
	}
	token, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || token == "" {
		return nil, errUnauthorized
	}
	sites, err := a.store.TokenSites(r.Context(), token)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errUnauthorized
	}
	return sites, err
}

// site returns the site named in the path if the token may read it. A site
// the token may not read is "not found", so keys cannot be probed.
func (a *api) site(r *http.Request) (*store.Site, error) {
	allowed, err := a.authorise(r)
	if err != nil {
		return nil, err
	}
	site, err := a.store.SiteByKey(r.Context(), r.PathValue("site"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !slices.Contains(allowed, site.ID)) {
		return nil, notFound("site")
	}
	return site, err
}

// session returns the session named in the path if the token may read its
// site.
func (a *api) session(r *http.Request) (*store.Session, error) {
	allowed, err := a.authorise(r)
	if err != nil {
		return nil, err
	}
	id, err := wire.ParseID(r.PathValue("id"))
	if err != nil {
		return nil, notFound("session")
	}
	sess, err := a.store.SessionByID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !slices.Contains(allowed, sess.SiteID)) {
		return nil, notFound("session")
	}
	return sess, err
}

// siteRange returns the site named in the path, as site does, and the
// request's date range in its time zone.
func (a *api) siteRange(r *http.Request) (*store.Site, store.Range, error) {
	site, err := a.site(r)
	if err != nil {
		return nil, store.Range{}, err
	}
	rng, err := dateRange(r, site, a.now())
	return site, rng, err
}

func (a *api) stats(w http.ResponseWriter, r *http.Request) error {
	site, rng, err := a.siteRange(r)
	if err != nil {
		return err
	}
	st, err := a.store.Stats(r.Context(), site.ID, rng)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// sessionJSON is a session as the API shows it.
type sessionJSON struct {
	ID             string  `json:"id"`
	StartedAt      string  `json:"started_at"`
	DurationSecs   float64 `json:"duration_seconds"`
	Pages          int     `json:"pages"`
	EntryPage      string  `json:"entry_page"`
	ExitPage       string  `json:"exit_page"`
	Device         string  `json:"device"`
	Browser        string  `json:"browser"`
	BrowserVersion string  `json:"browser_version"`
	OS             string  `json:"os"`
	Country        string  `json:"country"`
	Referrer       string  `json:"referrer"`
	Clicks         int     `json:"clicks"`
	RageClicks     int     `json:"rage_clicks"`
	DeadClicks     int     `json:"dead_clicks"`
	Errors         int     `json:"errors"`
	Events         int     `json:"events"`
	UserID         string  `json:"user_id,omitempty"`
	HasRecording   bool    `json:"has_recording"`
	ClockOffsetMS  int64   `json:"clock_offset_ms"`
}

func toSessionJSON(s *store.Session) sessionJSON {
	return sessionJSON{
		ID:             wire.FormatID(s.ID),
		StartedAt:      time.UnixMilli(s.StartedAt).UTC().Format(time.RFC3339Nano),
		DurationSecs:   float64(s.LastAt-s.StartedAt) / 1000,
		Pages:          s.PageCount,
		EntryPage:      s.EntryPage,
		ExitPage:       s.ExitPage,
		Device:         s.Device,
		Browser:        s.Browser,
		BrowserVersion: s.BrowserVersion,
		OS:             s.OS,
		Country:        s.Country,
		Referrer:       s.ReferrerHost,
		Clicks:         s.ClickCount,
		RageClicks:     s.RageCount,
		DeadClicks:     s.DeadCount,
		Errors:         s.ErrorCount,
		Events:         s.EventCount,
		UserID:         s.UserID,
		HasRecording:   s.RecordingBytes > 0,
		ClockOffsetMS:  s.ClockOffset,
	}
}

func (a *api) sessions(w http.ResponseWriter, r *http.Request) error {
	site, rng, err := a.siteRange(r)
	if err != nil {
		return err
	}
	f, err := sessionFilter(r, site, rng)
	if err != nil {
		return err
	}
	if v := r.FormValue("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit < 1 || f.Limit > 500 {
			return badRequest("limit: want 1 to 500")
		}
	}
	// One more than a page tells whether another page follows.
	pageSize := f.Limit
	f.Limit++
	list, err := a.store.Sessions(r.Context(), f)
	if err != nil {
		return err
	}
	more := len(list) > pageSize
	list = list[:min(len(list), pageSize)]
	out := struct {
		Sessions   []sessionJSON `json:"sessions"`
		NextCursor string        `json:"next_cursor,omitempty"`
	}{Sessions: []sessionJSON{}}
	for i := range list {
		out.Sessions = append(out.Sessions, toSessionJSON(&list[i]))
	}
	if more {
		last := list[len(list)-1]
		out.NextCursor = fmt.Sprintf("%d-%s", last.StartedAt, wire.FormatID(last.ID))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// deviceParam reads the device parameter: a device class, or def when absent.
func deviceParam(r *http.Request, def string) (string, error) {
	switch d := r.FormValue("device"); d {
	case "":
		return def, nil
	case "desktop", "tablet", "mobile":
		return d, nil
	default:
		return "", badRequest("device: want desktop, tablet or mobile")
	}
}

// sitePageKey is pageKey for a site, which also takes a path: /pricing is
// the page at that path on the site's first domain.
func sitePageKey(site *store.Site, v string) string {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "/") && len(site.Domains) > 0 {
		v = "https://" + strings.TrimPrefix(site.Domains[0], "*.") + v
	}
	return pageKey(v)
}

// pageKey accepts a full URL or a page key as the API returns them.
func pageKey(v string) string {
	if strings.Contains(v, "://") {
		if k, err := enrich.PageKey(v); err == nil {
			return k
		}
	}
	return v
}

func (a *api) sessionDetail(w http.ResponseWriter, r *http.Request) error {
	sess, err := a.session(r)
	if err != nil {
		return err
	}
	pages, err := a.store.PageViews(r.Context(), sess.ID)
	if err != nil {
		return err
	}
	clicks, err := a.store.Clicks(r.Context(), sess.ID)
	if err != nil {
		return err
	}
	type pageJSON struct {
		PID       int64  `json:"pid"`
		At        string `json:"at"`
		URL       string `json:"url"`
		Page      string `json:"page"`
		Title     string `json:"title"`
		MaxScroll int    `json:"max_scroll"`
	}
	type clickJSON struct {
		PID      int64   `json:"pid"`
		At       string  `json:"at"`
		Page     string  `json:"page"`
		Selector string  `json:"selector"`
		OffsetX  float64 `json:"offset_x"`
		OffsetY  float64 `json:"offset_y"`
		X        float64 `json:"x"`
		Y        float64 `json:"y"`
		Dead     bool    `json:"dead"`
		Rage     bool    `json:"rage"`
	}
	out := struct {
		sessionJSON
		PageViews []pageJSON  `json:"page_views"`
		Clicks    []clickJSON `json:"click_events"`
	}{sessionJSON: toSessionJSON(sess), PageViews: []pageJSON{}, Clicks: []clickJSON{}}
	for _, p := range pages {
		out.PageViews = append(out.PageViews, pageJSON{p.PID, stamp(p.At), p.URL, p.PageKey,
			p.Title, p.MaxScroll})
	}
	for _, c := range clicks {
		out.Clicks = append(out.Clicks, clickJSON{c.PID, stamp(c.At), c.PageKey, c.Selector,
			c.OffsetX, c.OffsetY, c.X, c.Y, c.Dead, c.Rage})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func stamp(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano) }

// recording answers the session's rrweb events as one JSON array, in order,
// joining the stored chunks without decoding the events.
func (a *api) recording(w http.ResponseWriter, r *http.Request) error {
	sess, err := a.session(r)
	if err != nil {
		return err
	}
	chunks, err := a.store.Chunks(r.Context(), sess.ID)
	if err != nil {
		return err
	}
	if len(chunks) == 0 {
		return notFound("recording")
	}
	var out bytes.Buffer
	out.WriteByte('[')
	first := true
	for _, c := range chunks {
		events, err := a.chunk(r.Context(), c.BlobKey)
		if err != nil {
			return err
		}
		if len(events) == 0 {
			continue
		}
		if !first {
			out.WriteByte(',')
		}
		out.Write(events)
		first = false
	}
	out.WriteByte(']')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "private, max-age=60")
	_, err = w.Write(out.Bytes())
	return err
}

// chunk returns the events of one stored chunk without the brackets.
func (a *api) chunk(ctx context.Context, key string) ([]byte, error) {
	data, err := a.blobs.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("read recording chunk %s: %w", key, err)
	}
	events, err := blob.Decompress(data, maxRecording)
	if err != nil {
		return nil, fmt.Errorf("read recording chunk %s: %w", key, err)
	}
	events = bytes.TrimSpace(events)
	if len(events) < 2 || events[0] != '[' || events[len(events)-1] != ']' {
		return nil, fmt.Errorf("recording chunk %s: not a JSON array", key)
	}
	return bytes.TrimSpace(events[1 : len(events)-1]), nil
}

func (a *api) heatmap(w http.ResponseWriter, r *http.Request) error {
	site, rng, err := a.siteRange(r)
	if err != nil {
		return err
	}
	url := r.FormValue("url")
	if url == "" {
		return badRequest("url: name the page")
	}
	kind := r.FormValue("type")
	if kind == "" {
		kind = "click"
	}
	if kind != "click" && kind != "move" && kind != "scroll" {
		return badRequest("type: want click, move or scroll")
	}
	device, err := deviceParam(r, "desktop")
	if err != nil {
		return err
	}
	format := r.FormValue("format")
	if format != "" && format != "json" && format != "png" {
		return badRequest("format: want json or png")
	}
	q := store.HeatQuery{SiteID: site.ID, PageKey: sitePageKey(site, url), Device: device,
		FromDay: rng.FromDay, ToDay: rng.ToDay}

	if kind == "scroll" {
		return a.scrollHeatmap(w, r, q, format)
	}
	points, err := a.store.HeatPoints(r.Context(), q, kind)
	if err != nil {
		return err
	}
	if format == "png" {
		return writeHeatPNG(w, points, device)
	}
	out := struct {
		Page     string            `json:"page"`
		Type     string            `json:"type"`
		Device   string            `json:"device"`
		Total    int64             `json:"total"`
		Elements *[]elementJSON    `json:"elements,omitempty"`
		Points   []store.PointCell `json:"points"`
	}{Page: q.PageKey, Type: kind, Device: device, Points: points}
	for _, p := range points {
		out.Total += p.Count
	}
	if kind == "click" {
		cells, err := a.store.HeatElements(r.Context(), q)
		if err != nil {
			return err
		}
		// Cells come most clicked first, so the first selectors are the
		// ones worth placing when a snapshot does not have them.
		var selectors []string
		seen := map[string]bool{}
		for _, c := range cells {
			if !seen[c.Selector] && len(selectors) < maxPlacedSelectors {
				seen[c.Selector] = true
				selectors = append(selectors, c.Selector)
			}
		}
		places, err := a.store.ElementPositions(r.Context(), q, selectors)
		if err != nil {
			return err
		}
		elements := []elementJSON{}
		for _, c := range cells {
			e := elementJSON{Selector: c.Selector, OffsetX: float64(c.OffsetX) / 100,
				OffsetY: float64(c.OffsetY) / 100, Count: c.Count}
			if p, ok := places[c.Selector]; ok {
				e.X, e.Y = &p.X, &p.Y
			}
			elements = append(elements, e)
		}
		out.Elements = &elements
	}
	// A busy page has tens of thousands of cells: no indenting.
	writeCompactJSON(w, http.StatusOK, out)
	return nil
}

// maxPlacedSelectors bounds the selectors of a click heatmap given page
// coordinates: each costs the store one read.
const maxPlacedSelectors = 300

// elementJSON is a click cell of a heatmap: clicks on an element at an
// offset within it. X and Y are where the element's clicks land on the page
// on average, for a snapshot the selector matches nothing in; absent for the
// least clicked selectors.
type elementJSON struct {
	Selector string   `json:"selector"`
	OffsetX  float64  `json:"offset_x"`
	OffsetY  float64  `json:"offset_y"`
	Count    int64    `json:"count"`
	X        *float64 `json:"x,omitempty"`
	Y        *float64 `json:"y,omitempty"`
}

func (a *api) scrollHeatmap(w http.ResponseWriter, r *http.Request, q store.HeatQuery,
	format string) error {
	deepest, err := a.store.HeatScroll(r.Context(), q)
	if err != nil {
		return err
	}
	// reached[d] counts the page views whose deepest point is d or more.
	shares := make([]float64, len(deepest))
	var reached, total int64
	for _, n := range deepest {
		total += n
	}
	type depthJSON struct {
		Depth int     `json:"depth"`
		Share float64 `json:"share"`
	}
	out := struct {
		Page      string      `json:"page"`
		Type      string      `json:"type"`
		Device    string      `json:"device"`
		PageViews int64       `json:"page_views"`
		Depths    []depthJSON `json:"depths"`
	}{Page: q.PageKey, Type: "scroll", Device: q.Device, PageViews: total}
	for d := len(deepest) - 1; d >= 0; d-- {
		reached += deepest[d]
		if total > 0 {
			shares[d] = float64(reached) / float64(total)
		}
	}
	if format == "png" {
		w.Header().Set("Content-Type", "image/png")
		return heatmap.EncodePNG(w, heatmap.ScrollBands(shares, 400, 1000))
	}
	for d, s := range shares {
		out.Depths = append(out.Depths, depthJSON{d, s})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// writeHeatPNG draws points over a canvas as wide as the device's typical
// viewport and as tall as the deepest point.
func writeHeatPNG(w http.ResponseWriter, cells []store.PointCell, device string) error {
	width := map[string]int{"desktop": 1440, "tablet": 820, "mobile": 390}[device]
	height := 800
	points := make([]heatmap.Point, 0, len(cells))
	for _, c := range cells {
		points = append(points, heatmap.Point{X: c.X, Y: c.Y, Count: c.Count})
		width = max(width, c.X+20)
		height = max(height, c.Y+40)
	}
	w.Header().Set("Content-Type", "image/png")
	return heatmap.EncodePNG(w, heatmap.Render(points, width, height, 24))
}
