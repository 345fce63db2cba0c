package process

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"loupe.dev/loupe/internal/blob"
	"loupe.dev/loupe/internal/queue"
	"loupe.dev/loupe/internal/wire"
)

// handleInGroups hands recs to the processor in groups of the given sizes,
// taken in turn; the last size repeats until every record is handled.
func handleInGroups(t testing.TB, tp *testProcessor, recs []wire.Record, sizes ...int) {
	t.Helper()
	for i := 0; len(recs) > 0; i++ {
		n := min(sizes[min(i, len(sizes)-1)], len(recs))
		if err := tp.Handle(context.Background(), messages(recs[:n])); err != nil {
			t.Fatal(err)
		}
		recs = recs[n:]
	}
}

// blobSums returns the SHA-256 of every object in the blob folder, by path.
func (tp *testProcessor) blobSums(t testing.TB) map[string][32]byte {
	t.Helper()
	root := filepath.Join(tp.dir, "blobs")
	sums := map[string][32]byte{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		sums[rel] = sha256.Sum256(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return sums
}

// diffDumps reports the first difference between two dumps.
func diffDumps(t testing.TB, got, want map[string][]string) {
	t.Helper()
	for _, table := range slices.Sorted(maps.Keys(want)) {
		g, w := got[table], want[table]
		if len(g) != len(w) {
			t.Errorf("%s: %d rows, want %d", table, len(g), len(w))
			continue
		}
		for i := range w {
			if g[i] != w[i] {
				t.Errorf("%s row %d:\n got  %s\n want %s", table, i, g[i], w[i])
				break
			}
		}
	}
}

// TestGroupsMatchBatchByBatch writes one load of batches one batch per
// transaction, which leaves nothing for a group to share, and again in
// groups of several sizes: every row and every recording chunk must come
// out the same. The load has sessions with several batches in one group,
// rage clicks across batches, spam sessions with later batches, batches
// sent twice and events on page views that do not exist.
func TestGroupsMatchBatchByBatch(t *testing.T) {
	const batches = 1000
	l := newLoad(t, testSiteID, 3)
	recs := make([]wire.Record, batches)
	for i := range recs {
		recs[i] = l.record(0.6)
	}

	one := newTestProcessor(t)
	handleInGroups(t, one, recs, 1)
	want, wantBlobs := one.dump(t), one.blobSums(t)
	for table, min := range map[string]int{"sessions": 300, "clicks": 1500, "page_views": 500,
		"ignored_sessions": 5, "custom_events": 20, "page_errors": 10, "heat_scroll": 100} {
		if len(want[table]) < min {
			t.Fatalf("the load made %d rows of %s, want at least %d to judge by",
				len(want[table]), table, min)
		}
	}
	if rage := countRage(want["clicks"]); rage < 50 {
		t.Fatalf("the load made %d rage clicks, want at least 50 to judge by", rage)
	}

	for _, sizes := range [][]int{{128}, {batches}, {7, 1, 300, 2}} {
		t.Run(fmt.Sprint(sizes), func(t *testing.T) {
			tp := newTestProcessor(t)
			handleInGroups(t, tp, recs, sizes...)
			diffDumps(t, tp.dump(t), want)
			if got := tp.blobSums(t); !maps.Equal(got, wantBlobs) {
				t.Errorf("blobs differ: %d objects, want %d", len(got), len(wantBlobs))
			}
		})
	}
}

// countRage counts the dumped clicks marked as rage clicks (the last
// column).
func countRage(clicks []string) int {
	var n int
	for _, c := range clicks {
		if strings.HasSuffix(c, " | 1") {
			n++
		}
	}
	return n
}

// TestRedeliveredGroupChangesNothing hands groups to the processor again, as
// the log does when an acknowledgement is lost: no row may change and none
// may be added.
func TestRedeliveredGroupChangesNothing(t *testing.T) {
	tp := newTestProcessor(t)
	l := newLoad(t, tp.site.ID, 5)
	var groups [][]queue.Message
	for range 4 {
		recs := make([]wire.Record, 100)
		for i := range recs {
			recs[i] = l.record(0.5)
		}
		groups = append(groups, messages(recs))
	}
	ctx := context.Background()
	for _, g := range groups {
		if err := tp.Handle(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	before, blobsBefore := tp.dump(t), tp.blobSums(t)
	if len(before["sessions"]) == 0 || len(before["heat_points"]) == 0 {
		t.Fatalf("nothing written: %d sessions", len(before["sessions"]))
	}

	for _, g := range [][]queue.Message{groups[1], slices.Concat(groups...), groups[3]} {
		if err := tp.Handle(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	diffDumps(t, tp.dump(t), before)
	if got := tp.blobSums(t); !maps.Equal(got, blobsBefore) {
		t.Errorf("blobs changed: %d objects, had %d", len(got), len(blobsBefore))
	}
}

// TestRageClicksAcrossGroups sends three clicks on one spot within a second,
// split over two batches, and a slower pair; whichever way the batches are
// grouped, only the third quick click is a rage click.
func TestRageClicksAcrossGroups(t *testing.T) {
	const sid = 0x5e5510
	now := int64(1796000000000)
	click := func(t, x, y int64) wire.Event {
		return wire.Event{Type: wire.TypeClick, Time: now + t, PageID: 1, Selector: "#pay",
			OffsetX: 0.5, OffsetY: 0.5, X: float64(x), Y: float64(y)}
	}
	batch := func(seq, sent int64, events ...wire.Event) wire.Record {
		body, err := json.Marshal(wire.Batch{Sent: now + sent, Events: events})
		if err != nil {
			t.Fatal(err)
		}
		return wire.Record{SiteID: testSiteID, ReceivedAt: now + sent, SessionID: sid, Seq: seq,
			UserAgent: chromeUA, Body: body}
	}
	recs := []wire.Record{
		batch(1, 900,
			wire.Event{Type: wire.TypePageView, Time: now, PageID: 1,
				URL: "https://shop.example.com/cart"},
			click(100, 300, 300),
			wire.Event{Type: wire.TypeScroll, Time: now + 800, PageID: 1, Depth: 50}),
		batch(2, 5000,
			click(400, 302, 301),
			click(700, 301, 299), // the third within a second: rage
			click(3000, 600, 600),
			click(3900, 601, 601)), // only two near each other: not rage
	}
	for _, sizes := range [][]int{{2}, {1}} {
		t.Run(fmt.Sprint(sizes), func(t *testing.T) {
			tp := newTestProcessor(t)
			handleInGroups(t, tp, recs, sizes...)
			ctx := context.Background()
			sess, err := tp.store.SessionByID(ctx, sid)
			if err != nil {
				t.Fatal(err)
			}
			if sess.ClickCount != 5 || sess.RageCount != 1 || sess.PageCount != 1 {
				t.Errorf("session has %d clicks, %d rage clicks, %d pages; want 5, 1, 1",
					sess.ClickCount, sess.RageCount, sess.PageCount)
			}
			clicks, err := tp.store.Clicks(ctx, sid)
			if err != nil {
				t.Fatal(err)
			}
			var rage []bool
			for _, c := range clicks {
				rage = append(rage, c.Rage)
			}
			if want := []bool{false, false, true, false, false}; !slices.Equal(rage, want) {
				t.Errorf("rage marks = %v, want %v", rage, want)
			}
			pages, err := tp.store.PageViews(ctx, sid)
			if err != nil || len(pages) != 1 || pages[0].MaxScroll != 50 {
				t.Errorf("page views = %+v, %v; want one scrolled to 50", pages, err)
			}
		})
	}
}

// failingBlobs is a blob store whose puts fail while fail is set.
type failingBlobs struct {
	blob.Store
	fail bool
}

var errPutFailed = errors.New("disk full")

func (f *failingBlobs) Put(ctx context.Context, key string, data []byte) error {
	if f.fail {
		return errPutFailed
	}
	return f.Store.Put(ctx, key, data)
}

// TestChunkFailureWritesNothing fails the recording chunk puts of a group:
// the group must be delivered again with nothing of it in the SQL store, so
// no listed chunk is missing from the blob store, and must write in full
// once the blob store is back.
func TestChunkFailureWritesNothing(t *testing.T) {
	tp := newTestProcessor(t)
	blobs := &failingBlobs{Store: tp.blobs, fail: true}
	tp.blobs = blobs
	l := newLoad(t, tp.site.ID, 9)
	recs := make([]wire.Record, 50)
	for i := range recs {
		recs[i] = l.record(0.5)
	}
	ctx := context.Background()
	if err := tp.Handle(ctx, messages(recs)); !errors.Is(err, errPutFailed) {
		t.Fatalf("Handle = %v, want the put's error", err)
	}
	for table, rows := range tp.dump(t) {
		if len(rows) > 0 {
			t.Errorf("%s has %d rows after a failed group", table, len(rows))
		}
	}

	blobs.fail = false
	if err := tp.Handle(ctx, messages(recs)); err != nil {
		t.Fatal(err)
	}
	d, sums := tp.dump(t), tp.blobSums(t)
	if len(d["batches"]) == 0 || len(d["recording_chunks"]) == 0 {
		t.Fatalf("after the retry: %d batches, %d chunks", len(d["batches"]),
			len(d["recording_chunks"]))
	}
	for _, row := range d["recording_chunks"] {
		key := strings.Split(row, " | ")[2]
		if _, ok := sums[filepath.FromSlash(key)]; !ok {
			t.Errorf("chunk %s is listed but not stored", key)
		}
	}
}
