package process

import (
	"errors"
	"math"

	"loupe.dev/loupe/internal/enrich"
	"loupe.dev/loupe/internal/heatmap"
	"loupe.dev/loupe/internal/store"
	"loupe.dev/loupe/internal/wire"
)

// apply applies one batch to the group.
func (p *Processor) apply(g *group, it *item) error {
	rec, batch := it.rec, it.batch
	if !g.claimed(store.BatchKey{SessionID: rec.SessionID, Seq: rec.Seq}) {
		p.metrics.dropped.WithLabelValues("duplicate").Inc()
		return nil
	}
	st := g.sessions[rec.SessionID]
	if st.ignored {
		return nil
	}

	c := clock{received: rec.ReceivedAt}
	if batch.Sent > 0 {
		c.offset = rec.ReceivedAt - batch.Sent
	}
	switch {
	case st.sess == nil:
		if p.spamReferred(it) {
			p.metrics.dropped.WithLabelValues("spam").Inc()
			g.ignore(st, rec.SessionID, "referrer spam")
			return nil
		}
		st.sess = p.newSession(it, c)
	case st.sess.SiteID != rec.SiteID:
		p.metrics.dropped.WithLabelValues("session_site").Inc()
		return nil
	}
	st.dirty = true

	w := writer{g: g, p: p, it: it, st: st, sess: st.sess, clock: c}
	if err := w.events(); err != nil {
		return err
	}
	if it.chunk != nil {
		g.chunks = append(g.chunks, it.chunk)
		st.sess.RecordingBytes += it.chunk.Bytes
	}
	return nil
}

func (p *Processor) newSession(it *item, c clock) *store.Session {
	start := c.received
	for _, ev := range it.batch.Events {
		start = min(start, c.at(ev.Time))
	}
	s := &store.Session{
		ID:             it.rec.SessionID,
		SiteID:         it.rec.SiteID,
		StartedAt:      start,
		LastAt:         start,
		Day:            Day(start, it.site.loc),
		ClockOffset:    c.offset,
		Browser:        it.agent.Browser,
		BrowserVersion: it.agent.BrowserVersion,
		OS:             it.agent.OS,
		OSVersion:      it.agent.OSVersion,
		Device:         it.agent.Device,
		Country:        it.rec.Country,
	}
	if vid, err := wire.ParseID(it.batch.VisitorID); err == nil {
		s.VisitorID = vid
	}
	return s
}

// writer applies the events of one batch to its session.
type writer struct {
	g     *group
	p     *Processor
	it    *item
	st    *sessionState
	sess  *store.Session
	clock clock
}

// spamReferred reports whether the batch opens a session from a spam
// referrer: such a visit is not traffic.
func (p *Processor) spamReferred(it *item) bool {
	for _, ev := range it.batch.Events {
		if ev.Type == wire.TypePageView && ev.Referrer != "" {
			return p.spam.Listed(enrich.ParseReferrer(ev.Referrer, it.site.site.Domains).Host)
		}
	}
	return false
}

// events applies every event of the batch.
func (w *writer) events() error {
	var err error
	for i := range w.it.batch.Events {
		ev := &w.it.batch.Events[i]
		at := w.clock.at(ev.Time)
		w.sess.LastAt = max(w.sess.LastAt, at)
		w.sess.StartedAt = min(w.sess.StartedAt, at)
		switch ev.Type {
		case wire.TypePageView:
			err = w.pageView(ev, at)
		case wire.TypeClick:
			err = w.click(ev, at)
		case wire.TypeScroll:
			err = w.scroll(ev)
		case wire.TypeMove:
			err = w.move(ev, at)
		case wire.TypeCustom:
			w.sess.EventCount++
			w.g.customs = append(w.g.customs, store.CustomEvent{SessionID: w.sess.ID,
				PID: ev.PageID, SiteID: w.sess.SiteID, At: at, Name: limit(ev.Name, 200),
				Props: limit(string(ev.Props), 4000)})
		case wire.TypeIdentify:
			w.sess.UserID = limit(ev.UserID, 200)
			w.sess.UserTraits = limit(string(ev.Traits), 4000)
		case wire.TypeError:
			w.sess.ErrorCount++
			w.g.pageErrors = append(w.g.pageErrors, store.PageError{SessionID: w.sess.ID,
				PID: ev.PageID, SiteID: w.sess.SiteID, At: at, Message: limit(ev.Message, 1000),
				Source: limit(ev.Source, 1000), Line: ev.Line, Column: ev.Column})
		default:
			w.p.metrics.dropped.WithLabelValues("unknown_event").Inc()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (w *writer) pageView(ev *wire.Event, at int64) error {
	key, err := enrich.PageKey(ev.URL)
	if err != nil || ev.PageID < 1 {
		w.p.metrics.dropped.WithLabelValues("bad_page").Inc()
		return nil
	}
	existing, err := w.page(ev.PageID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if existing == nil {
		w.sess.PageCount++
	}
	if w.sess.EntryPage == "" || ev.PageID == 1 {
		ref := enrich.ParseReferrer(ev.Referrer, w.it.site.site.Domains)
		if !ref.Internal && !w.p.spam.Listed(ref.Host) {
			w.sess.ReferrerHost, w.sess.ReferrerSource = ref.Host, ref.Source
		}
		w.sess.UTMSource, w.sess.UTMMedium, w.sess.UTMCampaign = enrich.UTM(ev.URL)
		w.sess.EntryPage = key
		w.sess.ScreenW, w.sess.ScreenH = ev.ScreenW, ev.ScreenH
	}
	pv := &store.PageView{
		SessionID: w.sess.ID, PID: ev.PageID, SiteID: w.sess.SiteID, At: at,
		Day: Day(at, w.it.site.loc), URL: limit(ev.URL, 2000), PageKey: key,
		Title: limit(ev.Title, 500), Device: w.sess.Device, ViewW: ev.ViewW, MaxScroll: -1,
	}
	if existing != nil {
		pv.MaxScroll, pv.PageH = existing.MaxScroll, existing.PageH
	}
	// Page views are numbered from 1 in order, so the newest is the one whose
	// number has reached the count.
	if pv.PID >= int64(w.sess.PageCount) {
		w.sess.ExitPage = key
	}
	w.g.savePage(pv)
	return nil
}

// page returns a page view of the session, from the group or the store.
func (w *writer) page(pid int64) (*store.PageView, error) {
	return w.g.page(w.st, w.sess.ID, pid)
}

func (w *writer) heatKey(pv *store.PageView, at int64) store.HeatKey {
	return store.HeatKey{SiteID: w.sess.SiteID, PageKey: pv.PageKey, Device: w.sess.Device,
		Day: Day(at, w.it.site.loc)}
}

func (w *writer) click(ev *wire.Event, at int64) error {
	pv, err := w.page(ev.PageID)
	if errors.Is(err, store.ErrNotFound) {
		w.p.metrics.dropped.WithLabelValues("orphan_event").Inc()
		return nil
	}
	if err != nil {
		return err
	}
	c := store.Click{
		SessionID: w.sess.ID, PID: ev.PageID, SiteID: w.sess.SiteID, At: at,
		PageKey: pv.PageKey, Selector: limit(ev.Selector, 1000),
		OffsetX: clamp01(ev.OffsetX), OffsetY: clamp01(ev.OffsetY),
		X: ev.X, Y: ev.Y, ViewW: ev.ViewW, Dead: ev.Dead,
	}
	since := at - rageWindow
	stored, err := w.g.storedClicks(w.st, w.sess.ID, since)
	if err != nil {
		return err
	}
	near := 1
	for _, earlier := range [][]store.Click{stored, w.st.clicks} {
		for i := range earlier {
			r := &earlier[i]
			if r.PID == c.PID && r.At >= since && r.At <= at &&
				math.Hypot(r.X-c.X, r.Y-c.Y) <= rageRadius {
				near++
			}
		}
	}
	c.Rage = near >= rageClicks
	if near == rageClicks {
		w.sess.RageCount++
	}
	w.sess.ClickCount++
	if c.Dead {
		w.sess.DeadCount++
	}
	w.g.addClick(w.st, c)
	key := w.heatKey(pv, at)
	if c.Selector != "" {
		w.g.rollUps.Element(store.ElementKey{Heat: key, Selector: c.Selector,
			OffsetX: percent(c.OffsetX), OffsetY: percent(c.OffsetY)}, 1)
	}
	w.g.rollUps.Point(store.PointKey{Heat: key, Kind: "click", X: cell(c.X), Y: cell(c.Y)}, 1)
	return nil
}

func (w *writer) scroll(ev *wire.Event) error {
	pv, err := w.page(ev.PageID)
	if errors.Is(err, store.ErrNotFound) {
		w.p.metrics.dropped.WithLabelValues("orphan_event").Inc()
		return nil
	}
	if err != nil {
		return err
	}
	depth := heatmap.DepthBucket(ev.Depth)
	if depth <= pv.MaxScroll {
		return nil
	}
	// The roll-up counts each page view once, at its deepest point: move it
	// from the old depth to the new one. Both sit on the page view's day.
	key := w.heatKey(pv, pv.At)
	if pv.MaxScroll >= 0 {
		w.g.rollUps.Scroll(store.ScrollKey{Heat: key, Depth: pv.MaxScroll}, -1)
	}
	w.g.rollUps.Scroll(store.ScrollKey{Heat: key, Depth: depth}, 1)
	pv.MaxScroll = depth
	pv.PageH = max(pv.PageH, ev.PageH)
	w.g.savePage(pv)
	return nil
}

func (w *writer) move(ev *wire.Event, at int64) error {
	pv, err := w.page(ev.PageID)
	if errors.Is(err, store.ErrNotFound) {
		w.p.metrics.dropped.WithLabelValues("orphan_event").Inc()
		return nil
	}
	if err != nil {
		return err
	}
	key := w.heatKey(pv, at)
	for i, pt := range ev.Points {
		if i >= 600 || len(pt) < 2 {
			break
		}
		w.g.rollUps.Point(store.PointKey{Heat: key, Kind: "move", X: cell(pt[0]),
			Y: cell(pt[1])}, 1)
	}
	return nil
}

// cell is the 10-pixel roll-up cell of a page coordinate.
func cell(v float64) int {
	if v < 0 || math.IsNaN(v) {
		return 0
	}
	return int(math.Min(v, 1e6)) / 10
}

// percent rounds an in-element offset (0–1) to a whole per cent.
func percent(f float64) int {
	return int(math.Round(clamp01(f) * 100))
}

func clamp01(f float64) float64 {
	if math.IsNaN(f) {
		return 0
	}
	return math.Min(math.Max(f, 0), 1)
}

func limit(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
