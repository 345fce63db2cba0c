package process

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"loupe.dev/loupe/internal/blob"
	"loupe.dev/loupe/internal/enrich"
	"loupe.dev/loupe/internal/queue"
	"loupe.dev/loupe/internal/store"
	"loupe.dev/loupe/internal/wire"
)

const chromeUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) " +
	"Chrome/131.0.0.0 Safari/537.36"

// testSiteID is the id of the one site of a testProcessor, so that batches
// can be made before it.
const testSiteID = 1

// testProcessor is a processor on a real SQLite file and a real blob folder,
// with one site.
type testProcessor struct {
	*Processor
	store *store.Store
	site  *store.Site
	dir   string // holds loupe.db and the blobs folder
}

func newTestProcessor(t testing.TB) *testProcessor {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.OpenSQLite(ctx, filepath.Join(dir, "loupe.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	blobs, err := blob.NewDir(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	agents, err := enrich.NewParser()
	if err != nil {
		t.Fatal(err)
	}
	site := &store.Site{Domains: []string{"shop.example.com"}, Timezone: "Europe/Berlin",
		SampleRate: 1}
	if err := st.CreateSite(ctx, site); err != nil {
		t.Fatal(err)
	}
	if site.ID != testSiteID {
		t.Fatalf("site id %d, want %d", site.ID, testSiteID)
	}
	spam, err := enrich.ParseSpamList(strings.NewReader("spam.example\n"))
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	return &testProcessor{Processor: New(st, blobs, agents, spam, logger, nil), store: st,
		site: site, dir: dir}
}

// dump returns every row the processor writes, table by table in a fixed
// order, as text: two stores hold the same data when their dumps are equal.
func (tp *testProcessor) dump(t testing.TB) map[string][]string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(tp.dir, "loupe.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string][]string{}
	for _, table := range []string{"batches", "ignored_sessions", "sessions", "page_views",
		"clicks", "custom_events", "page_errors", "recording_chunks", "heat_elements",
		"heat_points", "heat_scroll"} {
		rows, err := db.Query(`SELECT * FROM ` + table)
		if err != nil {
			t.Fatal(err)
		}
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fields := make([]string, len(vals))
			for i, v := range vals {
				fields[i] = fmt.Sprint(v)
			}
			out[table] = append(out[table], strings.Join(fields, " | "))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		slices.Sort(out[table])
	}
	return out
}

// load makes tracker batches as a busy site sends them: new sessions that
// open with a page view, clicks, a scroll, pointer moves and a few rrweb
// events, and follow-up batches of sessions under way that click, scroll
// further, move, sometimes open the next page, send a custom event, an
// error or who the user is. Some follow-ups come right after the session's
// previous batch and click again where it last clicked, so that rage clicks
// span batches; a few sessions come from a spam referrer, a few batches are
// sent twice, and a few events name a page view that does not exist.
type load struct {
	tb     testing.TB
	rng    *rand.Rand
	siteID int64
	// unrecorded leaves out the rrweb events, as for sessions not sampled
	// for recording.
	unrecorded bool
	now        int64 // the server clock, moved on by every batch
	nextID     int64
	live       []*loadSession
	sent       []wire.Record
}

type loadSession struct {
	id, seq, pages int64
	depth          float64
	skew           int64 // the server clock minus the browser's
	sent           int64 // when the browser sent the last batch, by its clock
	lastX, lastY   float64
}

func newLoad(tb testing.TB, siteID int64, seed uint64) *load {
	return &load{tb: tb, rng: rand.New(rand.NewPCG(seed, seed)), siteID: siteID,
		now: time.Now().Add(-time.Hour).UnixMilli(), nextID: int64(seed)<<32 + 1}
}

// record returns the next batch: a follow-up of a live session with
// probability followUp, else the first batch of a new session.
func (l *load) record(followUp float64) wire.Record {
	l.now += 20
	var r wire.Record
	switch {
	case len(l.sent) > 0 && l.rng.IntN(50) == 0:
		r = l.sent[l.rng.IntN(len(l.sent))]
	case len(l.live) > 0 && l.rng.Float64() < followUp:
		pick := l.rng.IntN(len(l.live))
		if l.rng.IntN(3) == 0 {
			pick = max(0, len(l.live)-1-l.rng.IntN(8))
		}
		r = l.followUp(l.live[pick])
	default:
		s := &loadSession{id: l.nextID, skew: int64(l.rng.IntN(7200000)) - 3600000}
		l.nextID++
		l.live = append(l.live, s)
		if len(l.live) > 2000 {
			l.live = l.live[1:]
		}
		r = l.first(s)
	}
	if len(l.sent) < 1000 {
		l.sent = append(l.sent, r)
	} else {
		l.sent[l.rng.IntN(len(l.sent))] = r
	}
	return r
}

func (l *load) first(s *loadSession) wire.Record {
	s.seq, s.pages, s.depth = 1, 1, 20
	sent := l.now - s.skew
	ref := "https://www.google.com/"
	if l.rng.IntN(25) == 0 {
		ref = "https://spam.example/offer"
	}
	events := []wire.Event{
		{Type: wire.TypePageView, Time: sent - 4000, PageID: 1,
			URL: fmt.Sprintf("https://shop.example.com/products/shoe-%d?utm_source=news",
				l.rng.IntN(40)),
			Referrer: ref, Title: "Blue shoes", ViewW: 1440, ViewH: 900,
			ScreenW: 2560, ScreenH: 1440},
		l.click(s, sent-3000, 1, 300, 640),
		l.click(s, sent-2300, 1, 500, 640),
		{Type: wire.TypeScroll, Time: sent - 2000, PageID: 1, Depth: s.depth, PageH: 5200},
		l.move(sent-1500, 1),
	}
	return l.wrap(s, sent, events)
}

func (l *load) followUp(s *loadSession) wire.Record {
	s.seq++
	sent := l.now - s.skew
	step := max(1, (sent-s.sent)/12)
	t := func(k int64) int64 { return s.sent + k*step }
	var events []wire.Event
	if l.rng.IntN(3) == 0 {
		s.pages++
		s.depth = 0
		events = append(events, wire.Event{Type: wire.TypePageView, Time: t(1),
			PageID: s.pages, URL: "https://shop.example.com/cart/",
			Referrer: "https://shop.example.com/products/", Title: "Cart", ViewW: 1440})
		s.lastX, s.lastY = float64(100+l.rng.IntN(1200)), float64(l.rng.IntN(3000))
	}
	if l.rng.IntN(2) == 0 {
		s.lastX, s.lastY = float64(100+l.rng.IntN(1200)), float64(l.rng.IntN(3000))
	}
	x, y := s.lastX, s.lastY
	for i := range 1 + l.rng.IntN(3) {
		events = append(events, l.click(s, t(2+int64(i)), s.pages, x+float64(3*i), y))
	}
	s.depth = min(100, s.depth+float64(l.rng.IntN(40)))
	events = append(events,
		wire.Event{Type: wire.TypeScroll, Time: t(5), PageID: s.pages, Depth: s.depth,
			PageH: 5200},
		l.move(t(6), s.pages))
	if l.rng.IntN(10) == 0 {
		events = append(events, wire.Event{Type: wire.TypeCustom, Time: t(7),
			PageID: s.pages, Name: "add_to_cart", Props: json.RawMessage(`{"sku":"B-42"}`)})
	}
	if l.rng.IntN(20) == 0 {
		events = append(events, wire.Event{Type: wire.TypeIdentify, Time: t(8),
			PageID: s.pages, UserID: fmt.Sprintf("user-%d", s.id%1000)})
	}
	if l.rng.IntN(20) == 0 {
		events = append(events, wire.Event{Type: wire.TypeError, Time: t(9),
			PageID: s.pages, Message: "TypeError: x is undefined", Source: "app.js",
			Line: 12, Column: 7})
	}
	if l.rng.IntN(30) == 0 {
		events = append(events, l.click(s, t(10), s.pages+5, 10, 10))
	}
	return l.wrap(s, sent, events)
}

func (l *load) click(s *loadSession, t, pid int64, x, y float64) wire.Event {
	s.lastX, s.lastY = x, y
	return wire.Event{Type: wire.TypeClick, Time: t, PageID: pid,
		Selector: fmt.Sprintf("#main > div.grid > div:nth-of-type(%d) > a", 1+l.rng.IntN(12)),
		OffsetX:  l.rng.Float64(), OffsetY: l.rng.Float64(), X: x, Y: y, ViewW: 1440,
		PageW: 1440, PageH: 5200, Dead: l.rng.IntN(8) == 0}
}

func (l *load) move(t, pid int64) wire.Event {
	ev := wire.Event{Type: wire.TypeMove, Time: t, PageID: pid, ViewW: 1440, PageW: 1440,
		PageH: 5200}
	x, y := float64(l.rng.IntN(1400)), float64(l.rng.IntN(3000))
	for i := range 10 {
		ev.Points = append(ev.Points, []float64{x + float64(13*i), y + float64(7*i),
			float64(100 * i)})
	}
	return ev
}

// wrap encodes a batch of the session, with three rrweb events unless the
// load is unrecorded, as ingest records it.
func (l *load) wrap(s *loadSession, sent int64, events []wire.Event) wire.Record {
	s.sent = sent
	var rec []json.RawMessage
	for i := range 3 {
		if l.unrecorded {
			break
		}
		rec = append(rec, json.RawMessage(fmt.Sprintf(`{"type":3,"data":{"source":1,`+
			`"positions":[{"x":%d,"y":%d,"id":42,"timeOffset":0}]},"timestamp":%d}`,
			400+i, 300+i, sent-int64(100*(3-i)))))
	}
	body, err := json.Marshal(wire.Batch{Sent: sent, VisitorID: wire.FormatID(s.id),
		Events: events, Recording: rec})
	if err != nil {
		l.tb.Fatal(err)
	}
	return wire.Record{SiteID: l.siteID, ReceivedAt: l.now, SessionID: s.id, Seq: s.seq,
		Country: "DE", UserAgent: chromeUA, Body: body}
}

// messages wraps each record in a log message of its own.
func messages(recs []wire.Record) []queue.Message {
	out := make([]queue.Message, len(recs))
	for i := range recs {
		out[i] = queue.Message{Data: wire.AppendRecord(nil, &recs[i])}
	}
	return out
}
