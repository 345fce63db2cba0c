package web

import (
	"cmp"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"loupe.dev/loupe/internal/store"
	"loupe.dev/loupe/internal/wire"
)

// breakdown is one ranked table of the overview.
type breakdown struct {
	ID    string // bd-<ID> in the page
	Title string
	Param string // the recordings filter a row links to
	Rows  []store.Count
	Total int64
}

// overviewView is the overview page.
type overviewView struct {
	Stats      *store.Stats
	Series     string // JSON for the chart
	Breakdowns []breakdown
	NoData     bool // nothing ever received: show how to install
	Query      url.Values
}

func (d *dash) overviewPage(w http.ResponseWriter, r *http.Request, v *view) error {
	rng, err := dateRange(r, v.Site, d.now())
	if err != nil {
		return err
	}
	st, err := d.store.Stats(r.Context(), v.Site.ID, rng)
	if err != nil {
		return err
	}
	series, err := json.Marshal(st.Series)
	if err != nil {
		return err
	}
	page := &overviewView{Stats: st, Query: rangeQuery(r), Series: string(series)}
	if st.Sessions == 0 {
		last, _, err := d.store.LastEventAt(r.Context(), v.Site.ID)
		if err != nil {
			return err
		}
		page.NoData = last == 0
	}
	for _, b := range []breakdown{
		{"top_pages", "Pages", "page", st.TopPages, st.PageViews},
		{"entry_pages", "Entry pages", "entry", st.EntryPages, st.Sessions},
		{"exit_pages", "Exit pages", "exit", st.ExitPages, st.Sessions},
		{"referrers", "Referrers", "referrer", st.Referrers, st.Sessions},
		{"utm_sources", "UTM sources", "utm_source", st.UTMSources, st.Sessions},
		{"devices", "Devices", "device", st.Devices, st.Sessions},
		{"browsers", "Browsers", "browser", st.Browsers, st.Sessions},
		{"oses", "Operating systems", "os", st.OSes, st.Sessions},
		{"countries", "Countries", "country", st.Countries, st.Sessions},
	} {
		page.Breakdowns = append(page.Breakdowns, b)
	}
	v.Title, v.Nav, v.Range, v.Page = "Overview · "+v.Site.Name, "overview", viewRange(rng), page
	d.render(w, http.StatusOK, "overview", v)
	return nil
}

// rangeQuery keeps only the date range of r's query, for links that carry
// it to another page.
func rangeQuery(r *http.Request) url.Values {
	q := url.Values{}
	for _, k := range []string{"from", "to"} {
		if val := r.FormValue(k); val != "" {
			q.Set(k, val)
		}
	}
	return q
}

// recordingsView is the recordings list.
type recordingsView struct {
	Sessions []store.Session
	Query    url.Values
	Next     string
	Location *time.Location
	Filtered bool
	NoData   bool
	// MoreFilters counts the filters set that the folded part of the form
	// holds, so it opens when one is set.
	MoreFilters int
}

// recordingsPageSize is how many sessions one page of the list shows.
const recordingsPageSize = 50

func (d *dash) recordingsPage(w http.ResponseWriter, r *http.Request, v *view) error {
	rng, err := dateRange(r, v.Site, d.now())
	if err != nil {
		return err
	}
	f, err := sessionFilter(r, v.Site, rng)
	if err != nil {
		return err
	}
	f.Limit = recordingsPageSize + 1
	sessions, err := d.store.Sessions(r.Context(), f)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	page := &recordingsView{Sessions: sessions, Query: q, Location: v.Site.Location()}
	if len(sessions) > recordingsPageSize {
		page.Sessions = sessions[:recordingsPageSize]
		last := page.Sessions[recordingsPageSize-1]
		page.Next = query(r.URL.Path, q, "before", sessionCursor(&last))
	}
	for k := range q {
		if k != "from" && k != "to" && k != "before" && q.Get(k) != "" {
			page.Filtered = true
		}
	}
	for _, k := range []string{"entry", "exit", "browser", "os", "country", "referrer",
		"utm_source", "event", "user", "min_duration", "max_duration"} {
		if q.Get(k) != "" {
			page.MoreFilters++
		}
	}
	if len(sessions) == 0 && !page.Filtered {
		last, _, err := d.store.LastEventAt(r.Context(), v.Site.ID)
		if err != nil {
			return err
		}
		page.NoData = last == 0
	}
	v.Title, v.Nav, v.Range, v.Page = "Recordings · "+v.Site.Name, "recordings", viewRange(rng),
		page
	d.render(w, http.StatusOK, "recordings", v)
	return nil
}

// mark is a moment of a recording the replay timeline shows.
type mark struct {
	T     int64  `json:"t"` // in the recording's (the browser's) clock
	Kind  string `json:"kind"`
	Label string `json:"label"`
}

// replayView is the replay page.
type replayView struct {
	Session      *store.Session
	Pages        []store.PageView
	PageTimes    []int64 // each page view's time in the recording's clock
	Clicks       int
	Events       []store.CustomEvent
	Errors       []store.PageError
	Marks        []mark
	RecordingURL string
	Location     *time.Location
	Traits       []trait
}

// trait is one of an identified user's traits.
type trait struct{ Name, Value string }

func (d *dash) replayPage(w http.ResponseWriter, r *http.Request, v *view) error {
	id, err := wire.ParseID(r.PathValue("id"))
	if err != nil {
		return notFound("recording")
	}
	ctx := r.Context()
	sess, err := d.store.SessionByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && sess.SiteID != v.Site.ID) {
		return notFound("recording")
	}
	if err != nil {
		return err
	}
	page := &replayView{Session: sess, Location: v.Site.Location(),
		RecordingURL: "/api/v1/sessions/" + wire.FormatID(sess.ID) + "/recording"}
	if page.Pages, err = d.store.PageViews(ctx, id); err != nil {
		return err
	}
	clicks, err := d.store.Clicks(ctx, id)
	if err != nil {
		return err
	}
	if page.Events, err = d.store.CustomEvents(ctx, id); err != nil {
		return err
	}
	if page.Errors, err = d.store.PageErrors(ctx, id); err != nil {
		return err
	}
	page.Clicks = len(clicks)
	page.Traits = traits(sess.UserTraits)

	// Stored times are on the server's clock; the recording's events carry
	// the browser's, which differs by the session's clock offset.
	local := func(at int64) int64 { return at - sess.ClockOffset }
	marks := []mark{}
	for _, p := range page.Pages {
		page.PageTimes = append(page.PageTimes, local(p.At))
		marks = append(marks, mark{local(p.At), "page", cmp.Or(p.Title, p.PageKey)})
	}
	for _, c := range clicks {
		kind := "click"
		if c.Rage {
			kind = "rage"
		}
		marks = append(marks, mark{local(c.At), kind, c.Selector})
	}
	for _, e := range page.Events {
		marks = append(marks, mark{local(e.At), "event", e.Name})
	}
	for _, e := range page.Errors {
		marks = append(marks, mark{local(e.At), "error", e.Message})
	}
	slices.SortStableFunc(marks, func(a, b mark) int { return cmp.Compare(a.T, b.T) })
	page.Marks = marks
	v.Title, v.Nav, v.Page = "Recording · "+v.Site.Name, "recordings", page
	d.render(w, http.StatusOK, "replay", v)
	return nil
}

// traits turns an identified user's traits (a JSON object) into sorted
// name–value pairs; anything else shows as one raw value.
func traits(raw string) []trait {
	if raw == "" {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return []trait{{"traits", raw}}
	}
	out := make([]trait, 0, len(m))
	for k, val := range m {
		s, ok := val.(string)
		if !ok {
			b, _ := json.Marshal(val)
			s = string(b)
		}
		out = append(out, trait{k, s})
	}
	slices.SortFunc(out, func(a, b trait) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// heatmapsView is the heatmap page.
type heatmapsView struct {
	URL, Device, Type string
	Pages             []store.Count
	Elements          []rankedElement
	Total             int64
	SnapshotURL       string
	HeatURL           string
	PNGURL            string
	Query             url.Values
}

// rankedElement is an element of the page by how often it was clicked.
type rankedElement struct {
	Selector string
	Count    int64
	Share    float64
}

func (d *dash) heatmapsPage(w http.ResponseWriter, r *http.Request, v *view) error {
	rng, err := dateRange(r, v.Site, d.now())
	if err != nil {
		return err
	}
	device, err := deviceParam(r, "desktop")
	if err != nil {
		return err
	}
	kind := cmp.Or(r.FormValue("type"), "click")
	if kind != "click" && kind != "move" && kind != "scroll" {
		return badRequest("type: want click, move or scroll")
	}
	ctx := r.Context()
	page := &heatmapsView{Device: device, Type: kind, Query: r.URL.Query()}
	if page.Pages, err = d.store.PageRanking(ctx, v.Site.ID, device, rng, 200); err != nil {
		return err
	}
	page.URL = r.FormValue("url")
	if page.URL == "" && len(page.Pages) > 0 {
		page.URL = page.Pages[0].Name
	}
	v.Title, v.Nav, v.Range, v.Page = "Heatmaps · "+v.Site.Name, "heatmaps", viewRange(rng), page
	if page.URL == "" {
		d.render(w, http.StatusOK, "heatmaps", v)
		return nil
	}

	key := sitePageKey(v.Site, page.URL)
	q := store.HeatQuery{SiteID: v.Site.ID, PageKey: key, Device: device,
		FromDay: rng.FromDay, ToDay: rng.ToDay}
	switch kind {
	case "click":
		counts, total, err := d.store.HeatSelectors(ctx, q, 20)
		if err != nil {
			return err
		}
		page.Total = total
		for _, c := range counts {
			page.Elements = append(page.Elements, rankedElement{Selector: c.Name,
				Count: c.Count, Share: share(c.Count, total)})
		}
	case "move":
		points, err := d.store.HeatPoints(ctx, q, "move")
		if err != nil {
			return err
		}
		for _, p := range points {
			page.Total += p.Count
		}
	case "scroll":
		depths, err := d.store.HeatScroll(ctx, q)
		if err != nil {
			return err
		}
		for _, n := range depths {
			page.Total += n
		}
	}
	api := "/api/v1/sites/" + v.Site.Key
	heat := url.Values{"url": {key}, "device": {device}, "type": {kind},
		"from": {v.Range.From}, "to": {v.Range.To}}
	page.HeatURL = api + "/heatmap?" + heat.Encode()
	heat.Set("format", "png")
	page.PNGURL = api + "/heatmap?" + heat.Encode()
	page.SnapshotURL = api + "/snapshot?" + url.Values{"url": {key}, "device": {device}}.Encode()
	d.render(w, http.StatusOK, "heatmaps", v)
	return nil
}

// sessionCursor is the recordings list's position after sess.
func sessionCursor(s *store.Session) string {
	return strconv.FormatInt(s.StartedAt, 10) + "." + wire.FormatID(s.ID)
}
