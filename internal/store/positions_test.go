package store

import (
	"context"
	"fmt"
	"reflect"
	"testing"
)

func TestElementPositions(t *testing.T) {
	s := openWithSite(t)
	const t0 = int64(1796000000000) // 2026-11-30T00:53:20Z
	const page = "shop.example.com/"
	// Three sessions: two on desktops on 30 November, one on a phone. The
	// second desktop one also views the page on 2 December.
	var sessions []*Session
	var pages []*PageView
	var clicks []Click
	view := func(id, pid int64, device string, day int, at int64) {
		pages = append(pages, &PageView{SessionID: id, PID: pid, SiteID: 1, At: at, Day: day,
			URL: "https://" + page, PageKey: page, Device: device})
	}
	click := func(id, pid, at int64, sel string, x, y float64) {
		clicks = append(clicks, Click{SessionID: id, PID: pid, SiteID: 1, At: at,
			PageKey: page, Selector: sel, X: x, Y: y})
	}
	for i, device := range []string{"desktop", "desktop", "mobile"} {
		id := int64(10 + i)
		sessions = append(sessions, &Session{ID: id, SiteID: 1, StartedAt: t0, LastAt: t0,
			Day: 20261130, Device: device})
		view(id, 1, device, 20261130, t0)
	}
	view(11, 2, "desktop", 20261202, t0+2*86400000)
	click(10, 1, t0+1, "#buy", 100, 200)
	click(11, 1, t0+2, "#buy", 110, 220)
	click(12, 1, t0+3, "#buy", 30, 400) // a phone
	click(11, 2, t0+2*86400000, "#buy", 500, 500)
	click(10, 1, t0+4, "#logo", 10, 10)
	// 30 clicks on the menu: only the latest 20 count.
	for i := range 30 {
		click(10, 1, t0+100+int64(i), "nav a", float64(i), 0)
	}
	write(t, s, func(tx *Tx) error {
		if err := tx.SaveSessions(sessions); err != nil {
			return err
		}
		if err := tx.SavePageViews(pages); err != nil {
			return err
		}
		return tx.AddClicks(clicks)
	})

	for _, tt := range []struct {
		name           string
		device         string
		fromDay, toDay int
		want           map[string]Point
	}{
		{"desktop, one day", "desktop", 20261130, 20261130, map[string]Point{
			"#buy": {105, 210}, "#logo": {10, 10}, "nav a": {19.5, 0}}},
		{"desktop, three days", "desktop", 20261130, 20261202, map[string]Point{
			"#buy": {710.0 / 3, 920.0 / 3}, "#logo": {10, 10}, "nav a": {19.5, 0}}},
		{"desktop, later day", "desktop", 20261201, 20261202, map[string]Point{
			"#buy": {500, 500}}},
		{"mobile", "mobile", 20261130, 20261202, map[string]Point{"#buy": {30, 400}}},
		{"tablet", "tablet", 20261130, 20261202, map[string]Point{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			q := HeatQuery{SiteID: 1, PageKey: page, Device: tt.device, FromDay: tt.fromDay,
				ToDay: tt.toDay}
			got, err := s.ElementPositions(context.Background(), q,
				[]string{"#buy", "#logo", "nav a", "#none"})
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("positions = %v, want %v", got, tt.want)
			}
		})
	}
	got, err := s.ElementPositions(context.Background(), HeatQuery{SiteID: 1, PageKey: page,
		Device: "desktop", FromDay: 20261130, ToDay: 20261130}, nil)
	if err != nil || len(got) != 0 {
		t.Errorf("no selectors: %v, %v", got, err)
	}
}

func TestSnapshotSources(t *testing.T) {
	s := openWithSite(t)
	const t0 = int64(1796000000000)
	const page = "shop.example.com/pricing"
	// Session 20 (recorded, browser clock 2 s behind) views the page at t0+60 s;
	// 21 (recorded, clock 1 h ahead) at t0+120 s; 22 (not recorded) at t0+180 s;
	// 23 (recorded) on a phone at t0+240 s.
	sessions := []*Session{
		{ID: 20, SiteID: 1, StartedAt: t0, LastAt: t0, ClockOffset: 2000, RecordingBytes: 1,
			Device: "desktop"},
		{ID: 21, SiteID: 1, StartedAt: t0, LastAt: t0, ClockOffset: -3600000,
			RecordingBytes: 1, Device: "desktop"},
		{ID: 22, SiteID: 1, StartedAt: t0, LastAt: t0, Device: "desktop"},
		{ID: 23, SiteID: 1, StartedAt: t0, LastAt: t0, RecordingBytes: 1, Device: "mobile"},
	}
	var pages []*PageView
	for i, sess := range sessions {
		pages = append(pages, &PageView{SessionID: sess.ID, PID: 2, SiteID: 1,
			At: t0 + int64(i+1)*60000, Day: 20261130, URL: "https://" + page + "?a=1",
			PageKey: page, Device: sess.Device, ViewW: 1280 + i})
	}
	// Chunks in each session's browser clock. Session 20's page view is at
	// browser time t0+58 s: chunk 1 ended 10 s before it, chunk 2 ends 3 s
	// before it (within the slack), chunks 3 and 4 follow, chunk 5 starts 2
	// minutes later.
	chunk := func(id, seq, first, last int64) *Chunk {
		return &Chunk{SessionID: id, Seq: seq, BlobKey: fmt.Sprintf("rec/1/%d/%d", id, seq),
			FirstTS: first, LastTS: last, Events: 1, Bytes: 1}
	}
	b20 := t0 + 58000
	b21 := t0 + 120000 + 3600000
	chunks := []*Chunk{
		chunk(20, 1, b20-20000, b20-10000), chunk(20, 2, b20-10000, b20-3000),
		chunk(20, 3, b20-3000, b20+1000), chunk(20, 4, b20+1000, b20+50000),
		chunk(20, 5, b20+120000, b20+130000),
		chunk(21, 1, b21-1000, b21+1000),
	}
	write(t, s, func(tx *Tx) error {
		if err := tx.SaveSessions(sessions); err != nil {
			return err
		}
		if err := tx.SavePageViews(pages); err != nil {
			return err
		}
		return tx.AddChunks(chunks)
	})

	got, err := s.SnapshotSources(context.Background(), 1, page, "desktop", 5)
	if err != nil {
		t.Fatal(err)
	}
	want := []SnapshotSource{
		{SessionID: 21, PID: 2, At: t0 + 120000, URL: "https://" + page + "?a=1", ViewW: 1281,
			ClockOffset: -3600000, Chunks: []Chunk{*chunks[5]}},
		{SessionID: 20, PID: 2, At: t0 + 60000, URL: "https://" + page + "?a=1", ViewW: 1280,
			ClockOffset: 2000, Chunks: []Chunk{*chunks[1], *chunks[2], *chunks[3]}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SnapshotSources =\n%+v\nwant\n%+v", got, want)
	}
	if got, err := s.SnapshotSources(context.Background(), 1, page, "desktop", 1); err != nil ||
		len(got) != 1 || got[0].SessionID != 21 {
		t.Errorf("limit 1: %+v, %v", got, err)
	}
	if got, err := s.SnapshotSources(context.Background(), 1, page, "mobile", 5); err != nil ||
		len(got) != 1 || got[0].SessionID != 23 || len(got[0].Chunks) != 0 {
		t.Errorf("mobile: %+v, %v", got, err)
	}
	if got, err := s.SnapshotSources(context.Background(), 1, page, "tablet", 5); err != nil ||
		len(got) != 0 {
		t.Errorf("tablet: %+v, %v", got, err)
	}
}
