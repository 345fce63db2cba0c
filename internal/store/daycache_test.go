package store

import (
	"context"
	"testing"
	"time"
)

func TestStatsKeepClosedDays(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	site := &Site{Domains: []string{"a.example"}}
	if err := s.CreateSite(ctx, site); err != nil {
		t.Fatal(err)
	}
	nextID := int64(1)
	add := func(day int, at time.Time, entry string) {
		t.Helper()
		sess := &Session{ID: nextID, SiteID: site.ID, VisitorID: nextID, StartedAt: at.UnixMilli(),
			LastAt: at.UnixMilli() + 5000, Day: day, EntryPage: entry, ExitPage: entry,
			PageCount: 1, Device: "desktop"}
		nextID++
		if err := s.Write(ctx, func(tx *Tx) error { return tx.SaveSessions([]*Session{sess}) }); err != nil {
			t.Fatal(err)
		}
	}
	// Closed: 1 December; open: today, 4 December (and 2 December, which
	// ended less than closedAfter ago).
	add(20261201, time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), "a.example/old")
	add(20261204, time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC), "a.example/new")
	r := Range{From: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).UnixMilli(),
		To: time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC).UnixMilli(), FromDay: 20261201, ToDay: 20261204}
	stats := func() *Stats {
		t.Helper()
		st, err := s.Stats(ctx, site.ID, r)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	if st := stats(); st.Sessions != 2 || st.Visitors != 2 || len(st.EntryPages) != 2 {
		t.Fatalf("first stats = %+v", st)
	}

	// A late session on the closed day waits for the kept day to expire;
	// one on an open day shows at once, and visitors are always counted.
	add(20261201, time.Date(2026, 12, 1, 11, 0, 0, 0, time.UTC), "a.example/old")
	add(20261204, time.Date(2026, 12, 4, 11, 0, 0, 0, time.UTC), "a.example/new")
	st := stats()
	if st.Sessions != 3 || st.Series.Sessions[0] != 1 || st.Series.Sessions[3] != 2 {
		t.Errorf("with the closed day kept: sessions %d, series %v", st.Sessions,
			st.Series.Sessions)
	}
	if st.Visitors != 4 {
		t.Errorf("visitors = %d, want 4 (counted for the whole range every time)", st.Visitors)
	}
	now = now.Add(dayCacheTTL + time.Minute)
	if st := stats(); st.Sessions != 4 || st.Series.Sessions[0] != 2 {
		t.Errorf("after the kept day expired: sessions %d, series %v", st.Sessions,
			st.Series.Sessions)
	}
}

func TestClosedDay(t *testing.T) {
	for now, want := range map[time.Time]int{
		time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC): 20261201,
		time.Date(2026, 12, 4, 23, 0, 0, 0, time.UTC): 20261202,
		time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC):   20260226,
	} {
		if got := closedDay(now); got != want {
			t.Errorf("closedDay(%s) = %d, want %d", now, got, want)
		}
	}
}

func TestDayCacheWeight(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	c := dayCache[int, []int]{weigh: func(v []int) int { return len(v) }, limit: 10}
	c.put(1, make([]int, 4), now)
	c.put(2, make([]int, 4), now)
	c.put(1, make([]int, 5), now) // replaces: 5 + 4
	if c.size != 9 {
		t.Errorf("size = %d, want 9", c.size)
	}
	if v, ok := c.get(1, now); !ok || len(v) != 5 {
		t.Errorf("get(1) = %v, %v", v, ok)
	}
	c.put(3, make([]int, 11), now) // heavier than the limit: not kept
	if _, ok := c.get(3, now); ok || c.size != 9 {
		t.Errorf("an over-weight value was kept; size %d", c.size)
	}
	later := now.Add(dayCacheTTL + time.Second)
	c.put(4, make([]int, 3), later) // 9 + 3 > 10: the expired go
	if _, ok := c.get(4, later); !ok || c.size != 3 {
		t.Errorf("after eviction: size %d", c.size)
	}
	if _, ok := c.get(1, later); ok {
		t.Error("an expired value is returned")
	}
}
