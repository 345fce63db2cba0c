// Package process owns everything behind the log: it decodes the batches
// ingest appended, drops bots and spam, enriches, sessionises, detects rage
// clicks, writes sessions, page views, clicks, events and heatmap roll-ups to
// the SQL store and recording chunks to the blob store. Writing the same
// (session, seq) twice changes nothing, so the log may deliver again.
package process

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"loupe.dev/loupe/internal/blob"
	"loupe.dev/loupe/internal/enrich"
	"loupe.dev/loupe/internal/heatmap"
	"loupe.dev/loupe/internal/queue"
	"loupe.dev/loupe/internal/store"
	"loupe.dev/loupe/internal/wire"
)

// Rage clicks: this many clicks within rageWindow and rageRadius CSS pixels
// of each other on one page.
const (
	rageClicks = 3
	rageWindow = 1000 // ms
	rageRadius = 30.0
)

// A browser clock may be wrong; events are placed by the server's clock, and
// an event claiming to be older than this before its batch arrived is put at
// this bound, so it never falls outside its day or its retention.
const maxEventAge = 24 * time.Hour

// Processor turns log messages into stored data.
type Processor struct {
	store   *store.Store
	blobs   blob.Store
	agents  *enrich.Parser
	spam    *enrich.SpamList
	logger  *slog.Logger
	metrics *Metrics

	mu    sync.Mutex
	sites map[int64]*siteEntry
}

type siteEntry struct {
	site   *store.Site
	loc    *time.Location
	loaded time.Time
}

// New returns a processor. spam may be nil: then no referrer is spam.
func New(st *store.Store, blobs blob.Store, agents *enrich.Parser, spam *enrich.SpamList,
	logger *slog.Logger, metrics *Metrics) *Processor {
	if metrics == nil {
		metrics = NewMetrics(nil)
	}
	return &Processor{store: st, blobs: blobs, agents: agents, spam: spam, logger: logger,
		metrics: metrics, sites: map[int64]*siteEntry{}}
}

// Run consumes the log until ctx ends.
func (p *Processor) Run(ctx context.Context, log *queue.Log) error {
	return log.Consume(ctx, 128, p.Handle)
}

// item is one decoded record on its way to the store.
type item struct {
	rec   wire.Record
	batch *wire.Batch
	site  *siteEntry
	agent enrich.Client
	chunk *store.Chunk
}

// Handle writes a group of log messages in one transaction. It returns an
// error only when the group should be delivered again (a store failure);
// malformed records are counted and dropped.
func (p *Processor) Handle(ctx context.Context, msgs []queue.Message) error {
	var items []*item
	for _, m := range msgs {
		if !m.Appended.IsZero() {
			p.metrics.lag.Observe(time.Since(m.Appended).Seconds())
		}
		recs, err := wire.DecodeRecords(m.Data)
		if err != nil {
			p.metrics.dropped.WithLabelValues("bad_record").Inc()
			p.logger.Error("decode log message", "err", err)
			continue
		}
		for _, rec := range recs {
			it, err := p.prepare(ctx, rec)
			if err != nil {
				return err
			}
			if it != nil {
				items = append(items, it)
			}
		}
	}

	if err := p.write(ctx, items); err == nil || len(items) == 1 {
		return err
	}
	// One bad batch must not hold back the others: write each alone. If
	// none can be written the store itself is failing, and the whole group
	// is delivered again later; otherwise the ones that fail alone are
	// dropped and counted.
	var failed int
	for _, it := range items {
		if err := p.write(ctx, []*item{it}); err != nil {
			failed++
		}
	}
	if failed == len(items) {
		return errors.New("write batches: every batch failed")
	}
	p.metrics.dropped.WithLabelValues("write_failed").Add(float64(failed))
	return nil
}

// write applies items in one transaction.
func (p *Processor) write(ctx context.Context, items []*item) error {
	err := p.store.Write(ctx, func(tx *store.Tx) error {
		for _, it := range items {
			if err := p.apply(tx, it); err != nil {
				return fmt.Errorf("session %s seq %d: %w",
					wire.FormatID(it.rec.SessionID), it.rec.Seq, err)
			}
		}
		return nil
	})
	if err != nil {
		p.metrics.errors.Inc()
		p.logger.Error("write batches", "batches", len(items), "err", err)
		return err
	}
	p.metrics.batches.Add(float64(len(items)))
	return nil
}

// prepare decodes and checks a record and writes its recording chunk; it
// returns nil for a record to drop, and an error only for a failure worth a
// retry.
func (p *Processor) prepare(ctx context.Context, rec wire.Record) (*item, error) {
	batch, err := wire.DecodeBatch(rec.Body)
	if err != nil {
		p.metrics.dropped.WithLabelValues("bad_batch").Inc()
		return nil, nil
	}
	site, err := p.site(ctx, rec.SiteID)
	if errors.Is(err, store.ErrNotFound) {
		p.metrics.dropped.WithLabelValues("unknown_site").Inc()
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	agent := p.agents.Parse(rec.UserAgent, enrich.Hints(rec.Hints))
	if agent.Bot {
		p.metrics.dropped.WithLabelValues("bot").Inc()
		return nil, nil
	}
	it := &item{rec: rec, batch: batch, site: site, agent: agent}
	if len(batch.Recording) > 0 {
		if it.chunk, err = p.writeChunk(ctx, rec, batch.Recording); err != nil {
			return nil, err
		}
	}
	return it, nil
}

// writeChunk stores a batch's rrweb events as one compressed JSON array.
// The key is fixed by (site, session, seq), so a redelivery overwrites the
// same object with the same bytes.
func (p *Processor) writeChunk(ctx context.Context, rec wire.Record,
	events []json.RawMessage) (*store.Chunk, error) {
	chunk := &store.Chunk{
		SessionID: rec.SessionID,
		Seq:       rec.Seq,
		BlobKey: fmt.Sprintf("rec/%d/%s/%010d", rec.SiteID,
			wire.FormatID(rec.SessionID), rec.Seq),
		Events: len(events),
	}
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i, ev := range events {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(ev)
		var head struct {
			Timestamp int64 `json:"timestamp"`
		}
		if json.Unmarshal(ev, &head) == nil && head.Timestamp != 0 {
			if chunk.FirstTS == 0 || head.Timestamp < chunk.FirstTS {
				chunk.FirstTS = head.Timestamp
			}
			chunk.LastTS = max(chunk.LastTS, head.Timestamp)
		}
	}
	buf.WriteByte(']')
	data := blob.Compress(buf.Bytes())
	chunk.Bytes = int64(len(data))
	if err := p.blobs.Put(ctx, chunk.BlobKey, data); err != nil {
		return nil, fmt.Errorf("write recording chunk: %w", err)
	}
	return chunk, nil
}

// site returns the cached site, loading it when missing or a minute old.
func (p *Processor) site(ctx context.Context, id int64) (*siteEntry, error) {
	p.mu.Lock()
	e := p.sites[id]
	p.mu.Unlock()
	if e != nil && time.Since(e.loaded) < time.Minute {
		return e, nil
	}
	site, err := p.store.SiteByID(ctx, id)
	if err != nil {
		return nil, err
	}
	e = &siteEntry{site: site, loc: site.Location(), loaded: time.Now()}
	p.mu.Lock()
	p.sites[id] = e
	p.mu.Unlock()
	return e, nil
}

// clock places a browser time on the server's clock.
type clock struct {
	received int64
	offset   int64
}

func (c clock) at(t int64) int64 {
	if t <= 0 {
		return c.received
	}
	return min(max(t+c.offset, c.received-maxEventAge.Milliseconds()), c.received)
}

// Day returns the yyyymmdd day of a Unix-millisecond time in loc.
func Day(ms int64, loc *time.Location) int {
	y, m, d := time.UnixMilli(ms).In(loc).Date()
	return y*10000 + int(m)*100 + d
}

// apply writes one batch inside tx.
func (p *Processor) apply(tx *store.Tx, it *item) error {
	rec, batch := it.rec, it.batch
	fresh, err := tx.ClaimBatch(rec.SessionID, rec.Seq)
	if err != nil || !fresh {
		if err == nil {
			p.metrics.dropped.WithLabelValues("duplicate").Inc()
		}
		return err
	}
	if ignored, err := tx.Ignored(rec.SessionID); err != nil || ignored {
		return err
	}

	c := clock{received: rec.ReceivedAt}
	if batch.Sent > 0 {
		c.offset = rec.ReceivedAt - batch.Sent
	}
	sess, err := tx.Session(rec.SessionID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if p.spamReferred(it) {
			p.metrics.dropped.WithLabelValues("spam").Inc()
			return tx.IgnoreSession(rec.SessionID, "referrer spam")
		}
		// Saved now so that what follows can refer to it; saved again at
		// the end with its counts.
		sess = p.newSession(it, c)
		if err := tx.SaveSession(sess); err != nil {
			return err
		}
	case err != nil:
		return err
	case sess.SiteID != rec.SiteID:
		p.metrics.dropped.WithLabelValues("session_site").Inc()
		return nil
	}

	w := writer{tx: tx, p: p, it: it, sess: sess, clock: c, pages: map[int64]*store.PageView{}}
	if err := w.events(); err != nil {
		return err
	}
	if it.chunk != nil {
		if err := tx.AddChunk(it.chunk); err != nil {
			return err
		}
		sess.RecordingBytes += it.chunk.Bytes
	}
	return tx.SaveSession(sess)
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
	tx    *store.Tx
	p     *Processor
	it    *item
	sess  *store.Session
	clock clock
	pages map[int64]*store.PageView
	moves map[moveCell]int64
}

type moveCell struct {
	key  store.HeatKey
	x, y int
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

// events writes every event of the batch.
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
			err = w.tx.AddCustomEvent(w.sess.SiteID, w.sess.ID, ev.PageID, at,
				limit(ev.Name, 200), limit(string(ev.Props), 4000))
		case wire.TypeIdentify:
			w.sess.UserID = limit(ev.UserID, 200)
			w.sess.UserTraits = limit(string(ev.Traits), 4000)
		case wire.TypeError:
			w.sess.ErrorCount++
			err = w.tx.AddError(w.sess.SiteID, w.sess.ID, ev.PageID, at,
				limit(ev.Message, 1000), limit(ev.Source, 1000), ev.Line, ev.Column)
		default:
			w.p.metrics.dropped.WithLabelValues("unknown_event").Inc()
		}
		if err != nil {
			return err
		}
	}
	for cell, n := range w.moves {
		if err := w.tx.BumpPoint(cell.key, "move", cell.x, cell.y, n); err != nil {
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
	w.pages[pv.PID] = pv
	// Page views are numbered from 1 in order, so the newest is the one whose
	// number has reached the count.
	if pv.PID >= int64(w.sess.PageCount) {
		w.sess.ExitPage = key
	}
	return w.tx.SavePageView(pv)
}

// page returns a page view of the session, from this batch or the store.
func (w *writer) page(pid int64) (*store.PageView, error) {
	if pv := w.pages[pid]; pv != nil {
		return pv, nil
	}
	pv, err := w.tx.PageView(w.sess.ID, pid)
	if err != nil {
		return nil, err
	}
	w.pages[pid] = pv
	return pv, nil
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
	c := &store.Click{
		SessionID: w.sess.ID, PID: ev.PageID, SiteID: w.sess.SiteID, At: at,
		PageKey: pv.PageKey, Selector: limit(ev.Selector, 1000),
		OffsetX: clamp01(ev.OffsetX), OffsetY: clamp01(ev.OffsetY),
		X: ev.X, Y: ev.Y, ViewW: ev.ViewW, Dead: ev.Dead,
	}
	recent, err := w.tx.RecentClicks(w.sess.ID, at-rageWindow)
	if err != nil {
		return err
	}
	near := 1
	for _, r := range recent {
		if r.PID == c.PID && r.At <= at && math.Hypot(r.X-c.X, r.Y-c.Y) <= rageRadius {
			near++
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
	if err := w.tx.AddClick(c); err != nil {
		return err
	}
	key := w.heatKey(pv, at)
	if c.Selector != "" {
		if err := w.tx.BumpElement(key, c.Selector, percent(c.OffsetX), percent(c.OffsetY),
			1); err != nil {
			return err
		}
	}
	return w.tx.BumpPoint(key, "click", cell(c.X), cell(c.Y), 1)
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
		if err := w.tx.BumpScroll(key, pv.MaxScroll, -1); err != nil {
			return err
		}
	}
	if err := w.tx.BumpScroll(key, depth, 1); err != nil {
		return err
	}
	pv.MaxScroll = depth
	pv.PageH = max(pv.PageH, ev.PageH)
	return w.tx.SavePageView(pv)
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
	if w.moves == nil {
		w.moves = map[moveCell]int64{}
	}
	key := w.heatKey(pv, at)
	for i, pt := range ev.Points {
		if i >= 600 || len(pt) < 2 {
			break
		}
		w.moves[moveCell{key: key, x: cell(pt[0]), y: cell(pt[1])}]++
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
