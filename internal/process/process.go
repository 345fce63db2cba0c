// Package process owns everything behind the log: it decodes the batches
// ingest appended, drops bots and spam, enriches, sessionises, detects rage
// clicks, writes sessions, page views, clicks, events and heatmap roll-ups to
// the SQL store and recording chunks to the blob store. Writing the same
// (session, seq) twice changes nothing, so the log may deliver again.
package process

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"loupe.dev/loupe/internal/blob"
	"loupe.dev/loupe/internal/enrich"
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
	// chunkData is the compressed recording chunk, written to the blob
	// store before the transaction that lists it commits.
	chunkData []byte
}

// Handle writes a group of log messages in one transaction. It returns an
// error only when the group should be delivered again (a store failure);
// malformed records are counted and dropped.
func (p *Processor) Handle(ctx context.Context, msgs []queue.Message) error {
	// The recording chunks are written while the rest is decoded and the
	// transaction runs: each put waits on a disk sync or a network round
	// trip, and there is no reason to wait on them one by one. The
	// transaction commits only once every chunk it lists is durable.
	puts := newChunkPuts(p.blobs)
	items, err := p.prepareAll(ctx, msgs, puts)
	if err != nil {
		// The group comes again; the puts under way need only to end.
		_ = puts.wait()
		return err
	}
	err = p.write(ctx, items, puts.wait)
	if perr := puts.wait(); perr != nil {
		return perr
	}
	if err == nil || len(items) == 1 {
		return err
	}
	// One bad batch must not hold back the others: write each alone. If
	// none can be written the store itself is failing, and the whole group
	// is delivered again later; otherwise the ones that fail alone are
	// dropped and counted.
	var failed int
	for _, it := range items {
		if err := p.write(ctx, []*item{it}, puts.wait); err != nil {
			failed++
		}
	}
	if failed == len(items) {
		return errors.New("write batches: every batch failed")
	}
	p.metrics.dropped.WithLabelValues("write_failed").Add(float64(failed))
	return nil
}

// prepareAll decodes the records of msgs into items, starting the put of
// each recording chunk.
func (p *Processor) prepareAll(ctx context.Context, msgs []queue.Message,
	puts *chunkPuts) ([]*item, error) {
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
				return nil, err
			}
			if it == nil {
				continue
			}
			if it.chunk != nil {
				puts.put(ctx, it)
			}
			items = append(items, it)
		}
	}
	return items, nil
}

// write applies items in one transaction, which commits only once chunks
// returns nil.
func (p *Processor) write(ctx context.Context, items []*item, chunks func() error) error {
	err := p.store.Write(ctx, func(tx *store.Tx) error {
		g := newGroup(tx)
		if err := g.start(items); err != nil {
			return fmt.Errorf("start group: %w", err)
		}
		for _, it := range items {
			if err := p.apply(g, it); err != nil {
				return fmt.Errorf("session %s seq %d: %w",
					wire.FormatID(it.rec.SessionID), it.rec.Seq, err)
			}
		}
		if err := g.flush(); err != nil {
			return fmt.Errorf("write group: %w", err)
		}
		return chunks()
	})
	if err != nil {
		p.metrics.errors.Inc()
		p.logger.Error("write batches", "batches", len(items), "err", err)
		return err
	}
	p.metrics.batches.Add(float64(len(items)))
	return nil
}

// prepare decodes and checks a record and builds its recording chunk; it
// returns nil for a record to drop, and an error only for a failure worth a
// retry.
func (p *Processor) prepare(ctx context.Context, rec wire.Record) (*item, error) {
	batch, err := wire.DecodeBatch(rec.Body)
	if err != nil {
		p.metrics.dropped.WithLabelValues("bad_batch").Inc()
		return nil, nil
	}
	// A batch with nothing in it is no visit: it must not make a session of
	// no pages, nor tell the install check that events arrive.
	if len(batch.Events) == 0 && len(batch.Recording) == 0 {
		p.metrics.dropped.WithLabelValues("empty").Inc()
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
		it.chunk, it.chunkData = buildChunk(rec, batch.Recording)
	}
	return it, nil
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
