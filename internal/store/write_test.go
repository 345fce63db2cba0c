package store

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"
)

// write runs fn in a write transaction of s and fails the test on an error.
func write(t testing.TB, s *Store, fn func(tx *Tx) error) {
	t.Helper()
	if err := s.Write(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// openWithSite opens a new store with one site, whose id is 1.
func openWithSite(t testing.TB) *Store {
	t.Helper()
	s := openTest(t)
	site := &Site{Domains: []string{"shop.example.com"}}
	if err := s.CreateSite(context.Background(), site); err != nil {
		t.Fatal(err)
	}
	if site.ID != 1 {
		t.Fatalf("site id %d, want 1", site.ID)
	}
	return s
}

// testSessions returns n sessions of site 1 with distinct fields; every
// third has no visitor id.
func testSessions(n int) []*Session {
	var out []*Session
	for i := range n {
		s := &Session{ID: int64(1000 + i), SiteID: 1, VisitorID: int64(50 + i%7),
			StartedAt: int64(1796000000000 + i), LastAt: int64(1796000005000 + i),
			Day: 20261204, EntryPage: fmt.Sprintf("shop.example.com/p%d", i),
			PageCount: i % 5, ClickCount: i, Browser: "Firefox", Device: "desktop",
			Country: "DE", UserTraits: `{"plan":"pro"}`, RecordingBytes: int64(i * 100)}
		if i%3 == 0 {
			s.VisitorID = 0
		}
		out = append(out, s)
	}
	return out
}

func TestSaveAndReadSessions(t *testing.T) {
	s := openWithSite(t)
	// 100 sessions take statements of 64, 32 and 4 rows.
	sessions := testSessions(100)
	write(t, s, func(tx *Tx) error { return tx.SaveSessions(sessions) })

	sessions[7].ClickCount, sessions[7].ExitPage = 99, "shop.example.com/cart"
	sessions[99].VisitorID = 0
	write(t, s, func(tx *Tx) error { return tx.SaveSessions(sessions[5:]) })

	ids := []int64{1, 2}
	for _, sess := range sessions {
		ids = append(ids, sess.ID)
	}
	var got map[int64]*Session
	write(t, s, func(tx *Tx) (err error) {
		got, err = tx.Sessions(ids)
		return err
	})
	if len(got) != len(sessions) {
		t.Fatalf("read %d sessions, want %d", len(got), len(sessions))
	}
	for _, want := range sessions {
		if !reflect.DeepEqual(got[want.ID], want) {
			t.Errorf("session %d = %+v, want %+v", want.ID, got[want.ID], want)
		}
	}
}

func TestSavePageViewsReplaces(t *testing.T) {
	s := openWithSite(t)
	sess := testSessions(1)[0]
	first := &PageView{SessionID: sess.ID, PID: 1, SiteID: 1, At: 5, Day: 20261204,
		URL: "https://shop.example.com/", PageKey: "shop.example.com/", MaxScroll: -1}
	second := &PageView{SessionID: sess.ID, PID: 2, SiteID: 1, At: 9, Day: 20261204,
		URL: "https://shop.example.com/cart", PageKey: "shop.example.com/cart", MaxScroll: -1}
	write(t, s, func(tx *Tx) error {
		if err := tx.SaveSessions([]*Session{sess}); err != nil {
			return err
		}
		return tx.SavePageViews([]*PageView{first, second})
	})
	scrolled := *first
	scrolled.MaxScroll, scrolled.PageH, scrolled.Title = 80, 5200, "Home"
	write(t, s, func(tx *Tx) error { return tx.SavePageViews([]*PageView{&scrolled}) })

	got, err := s.PageViews(context.Background(), sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := []PageView{scrolled, *second}; !reflect.DeepEqual(got, want) {
		t.Fatalf("page views = %+v, want %+v", got, want)
	}
	write(t, s, func(tx *Tx) error {
		pv, err := tx.PageView(sess.ID, 1)
		if err != nil || !reflect.DeepEqual(*pv, scrolled) {
			t.Errorf("PageView = %+v, %v; want %+v", pv, err, scrolled)
		}
		return nil
	})
}

// TestAddRowsKeepOrder adds 150 clicks, custom events and errors at one
// time, so that only their ids order them: they must read back in the order
// given.
func TestAddRowsKeepOrder(t *testing.T) {
	s := openWithSite(t)
	sess := testSessions(1)[0]
	var clicks []Click
	var events []CustomEvent
	var errs []PageError
	for i := range 150 {
		clicks = append(clicks, Click{SessionID: sess.ID, PID: 1, SiteID: 1, At: 42,
			PageKey: "shop.example.com/", Selector: fmt.Sprintf("#b%d", i), OffsetX: 0.25,
			X: float64(i), Y: 7, ViewW: 1440, Dead: i%2 == 0, Rage: i%3 == 0})
		events = append(events, CustomEvent{SessionID: sess.ID, PID: 1, SiteID: 1, At: 42,
			Name: fmt.Sprintf("e%d", i), Props: "{}"})
		errs = append(errs, PageError{SessionID: sess.ID, PID: 1, SiteID: 1, At: 42,
			Message: fmt.Sprintf("TypeError %d", i), Source: "app.js", Line: i, Column: 3})
	}
	write(t, s, func(tx *Tx) error {
		if err := tx.SaveSessions([]*Session{sess}); err != nil {
			return err
		}
		if err := tx.AddClicks(clicks); err != nil {
			return err
		}
		if err := tx.AddCustomEvents(events); err != nil {
			return err
		}
		return tx.AddErrors(errs)
	})

	got, err := s.Clicks(context.Background(), sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, clicks) {
		t.Errorf("clicks differ: read %d, first %+v", len(got), got[0])
	}
	for _, table := range []struct {
		query string
		want  []string
	}{
		{`SELECT name FROM custom_events ORDER BY id`, names(events, func(e CustomEvent) string {
			return e.Name
		})},
		{`SELECT message FROM page_errors ORDER BY id`, names(errs, func(e PageError) string {
			return e.Message
		})},
	} {
		if got := column(t, s, table.query); !slices.Equal(got, table.want) {
			t.Errorf("%s = %d rows starting %v, want %d starting %v", table.query, len(got),
				got[:min(3, len(got))], len(table.want), table.want[:3])
		}
	}
}

func names[T any](rows []T, name func(T) string) []string {
	var out []string
	for _, r := range rows {
		out = append(out, name(r))
	}
	return out
}

// column returns the one text column a query selects.
func column(t testing.TB, s *Store, query string) []string {
	t.Helper()
	rows, err := s.read.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestChunksListedOnce(t *testing.T) {
	s := openWithSite(t)
	sess := testSessions(1)[0]
	chunk := func(seq int64, bytes int64) *Chunk {
		return &Chunk{SessionID: sess.ID, Seq: seq, BlobKey: fmt.Sprintf("rec/1/x/%d", seq),
			FirstTS: 1, LastTS: 2, Events: 3, Bytes: bytes}
	}
	write(t, s, func(tx *Tx) error {
		if err := tx.SaveSessions([]*Session{sess}); err != nil {
			return err
		}
		return tx.AddChunks([]*Chunk{chunk(1, 100), chunk(2, 200)})
	})
	// A redelivered chunk keeps what was listed first.
	write(t, s, func(tx *Tx) error { return tx.AddChunks([]*Chunk{chunk(2, 999), chunk(3, 300)}) })

	got, err := s.Chunks(context.Background(), sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []Chunk{*chunk(1, 100), *chunk(2, 200), *chunk(3, 300)}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("chunks = %+v, want %+v", got, want)
	}
}

func TestIgnoredSessions(t *testing.T) {
	s := openTest(t)
	write(t, s, func(tx *Tx) error {
		for _, id := range []int64{3, 5, 3} {
			if err := tx.IgnoreSession(id, "referrer spam"); err != nil {
				return err
			}
		}
		return nil
	})
	write(t, s, func(tx *Tx) error {
		got, err := tx.Ignored([]int64{1, 3, 4, 5, 6})
		if want := map[int64]bool{3: true, 5: true}; err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Ignored = %v, %v; want %v", got, err, want)
		}
		return nil
	})
}

// TestRollUps bumps more cells than one statement carries, some of them
// twice, over two transactions, and reads the heatmap back.
func TestRollUps(t *testing.T) {
	s := openTest(t)
	home := HeatKey{SiteID: 1, PageKey: "shop.example.com/", Device: "desktop", Day: 20261204}
	next := home
	next.Day++
	q := HeatQuery{SiteID: 1, PageKey: home.PageKey, Device: home.Device, FromDay: home.Day,
		ToDay: next.Day}

	for range 2 {
		var r RollUps
		for x := range 100 {
			r.Point(PointKey{Heat: home, Kind: "move", X: x, Y: 1}, 1)
		}
		r.Point(PointKey{Heat: home, Kind: "move", X: 0, Y: 1}, 2)
		r.Point(PointKey{Heat: next, Kind: "move", X: 0, Y: 1}, 1)
		r.Point(PointKey{Heat: home, Kind: "click", X: 5, Y: 5}, 1)
		r.Element(ElementKey{Heat: home, Selector: "#buy", OffsetX: 25, OffsetY: 75}, 1)
		r.Element(ElementKey{Heat: next, Selector: "#buy", OffsetX: 25, OffsetY: 75}, 1)
		r.Element(ElementKey{Heat: home, Selector: "#pay", OffsetX: 50, OffsetY: 50}, 1)
		// A page view scrolled to 40, then on to 100, in one transaction.
		r.Scroll(ScrollKey{Heat: home, Depth: 40}, 1)
		r.Scroll(ScrollKey{Heat: home, Depth: 40}, -1)
		r.Scroll(ScrollKey{Heat: home, Depth: 100}, 1)
		if r.Len() != 100+1+1+3+2 {
			t.Fatalf("Len = %d, want 107", r.Len())
		}
		write(t, s, func(tx *Tx) error { return tx.AddRollUps(&r) })
	}

	ctx := context.Background()
	moves, err := s.HeatPoints(ctx, q, "move")
	if err != nil {
		t.Fatal(err)
	}
	if len(moves) != 100 || moves[0] != (PointCell{X: 5, Y: 15, Count: 8}) ||
		moves[1] != (PointCell{X: 15, Y: 15, Count: 2}) {
		t.Errorf("move cells = %d, first %v", len(moves), moves[:min(2, len(moves))])
	}
	clicks, err := s.HeatPoints(ctx, q, "click")
	if err != nil || !reflect.DeepEqual(clicks, []PointCell{{X: 55, Y: 55, Count: 2}}) {
		t.Errorf("click cells = %v, %v", clicks, err)
	}
	elements, err := s.HeatElements(ctx, q)
	if want := []ElementCell{{"#buy", 25, 75, 4}, {"#pay", 50, 50, 2}}; err != nil ||
		!reflect.DeepEqual(elements, want) {
		t.Errorf("element cells = %v, %v; want %v", elements, err, want)
	}
	depths, err := s.HeatScroll(ctx, q)
	if err != nil || depths[40] != 0 || depths[100] != 2 {
		t.Errorf("scroll depths 40, 100 = %d, %d, %v; want 0, 2", depths[40], depths[100], err)
	}
	// Bumping a cell up and down again leaves its row, as bumping it one
	// bump at a time would.
	rows := column(t, s, `SELECT CAST(count AS TEXT) FROM heat_scroll WHERE depth = 40`)
	if !slices.Equal(rows, []string{"0"}) {
		t.Errorf("depth 40 rows = %v, want one of count 0", rows)
	}
}
