package store

import (
	"context"
	"fmt"
	"slices"
	"testing"
)

// filterFixture is a site of ten sessions, each unlike the others in one
// way a recordings filter can tell, started a minute apart from t0.
const filterT0 = int64(1796000000000) // 2026-11-30T00:53:20Z

func filterFixture(t *testing.T) *Store {
	t.Helper()
	s := openWithSite(t)
	base := func(n int64) *Session {
		return &Session{ID: 100 + n, SiteID: 1, VisitorID: 500 + n,
			StartedAt: filterT0 + n*60000, LastAt: filterT0 + n*60000 + 10000, Day: 20261130,
			EntryPage: "shop.example.com/", ExitPage: "shop.example.com/", PageCount: 1,
			Device: "desktop", Browser: "Firefox", OS: "Linux", Country: "DE",
			ReferrerHost: "google.com"}
	}
	sessions := []*Session{base(0), base(1), base(2), base(3), base(4), base(5), base(6),
		base(7), base(8), base(9)}
	sessions[1].Device, sessions[1].Browser, sessions[1].OS = "mobile", "Mobile Safari", "iOS"
	sessions[2].Country = "FR"
	sessions[3].EntryPage = "shop.example.com/pricing"
	sessions[4].ReferrerHost = "news.ycombinator.com"
	sessions[4].ExitPage = "shop.example.com/checkout"
	sessions[2].UTMSource = "newsletter"
	sessions[5].UserID = "user-5"
	sessions[6].UserID = "user-6"
	sessions[7].RageCount = 1
	sessions[8].ErrorCount = 2
	sessions[9].LastAt = sessions[9].StartedAt + 3600000 // an hour long
	sessions[0].LastAt = sessions[0].StartedAt           // no time at all

	pages := []*PageView{}
	for _, sess := range sessions {
		pages = append(pages, &PageView{SessionID: sess.ID, PID: 1, SiteID: 1,
			At: sess.StartedAt, Day: 20261130, URL: "https://" + sess.EntryPage,
			PageKey: sess.EntryPage, Device: sess.Device})
	}
	// Session 103 goes on to the cart, and 104 to the checkout many times:
	// more page views than make a filter rare.
	pages = append(pages, &PageView{SessionID: 103, PID: 2, SiteID: 1,
		At: sessions[3].StartedAt + 5000, Day: 20261130, URL: "https://shop.example.com/cart",
		PageKey: "shop.example.com/cart", Device: "desktop"})
	for i := range manyRows {
		pages = append(pages, &PageView{SessionID: 104, PID: int64(2 + i), SiteID: 1,
			At: sessions[4].StartedAt + 10, Day: 20261130,
			URL: "https://shop.example.com/checkout", PageKey: "shop.example.com/checkout",
			Device: "desktop"})
	}
	events := []CustomEvent{{SessionID: 106, PID: 1, SiteID: 1,
		At: sessions[6].StartedAt + 1000, Name: "signup"}}
	for range manyRows {
		events = append(events, CustomEvent{SessionID: 102, PID: 1, SiteID: 1,
			At: sessions[2].StartedAt + 1000, Name: "scroll_tick"})
	}
	write(t, s, func(tx *Tx) error {
		if err := tx.SaveSessions(sessions); err != nil {
			return err
		}
		if err := tx.SavePageViews(pages); err != nil {
			return err
		}
		return tx.AddCustomEvents(events)
	})
	return s
}

func TestSessionFilters(t *testing.T) {
	s := filterFixture(t)
	all := []int64{109, 108, 107, 106, 105, 104, 103, 102, 101, 100}
	rng := Range{From: filterT0, To: filterT0 + 3600000, FromDay: 20261130, ToDay: 20261130}
	for _, tt := range []struct {
		name string
		set  func(*SessionFilter)
		want []int64
	}{
		{"none", func(*SessionFilter) {}, all},
		{"device", func(f *SessionFilter) { f.Device = "mobile" }, []int64{101}},
		{"browser", func(f *SessionFilter) { f.Browser = "Mobile Safari" }, []int64{101}},
		{"os", func(f *SessionFilter) { f.OS = "iOS" }, []int64{101}},
		{"country", func(f *SessionFilter) { f.Country = "FR" }, []int64{102}},
		{"entry page", func(f *SessionFilter) { f.EntryPage = "shop.example.com/pricing" },
			[]int64{103}},
		{"referrer", func(f *SessionFilter) { f.Referrer = "news.ycombinator.com" },
			[]int64{104}},
		{"exit page", func(f *SessionFilter) { f.ExitPage = "shop.example.com/checkout" },
			[]int64{104}},
		{"utm source", func(f *SessionFilter) { f.UTMSource = "newsletter" }, []int64{102}},
		{"page, rare", func(f *SessionFilter) { f.PageKey = "shop.example.com/cart" },
			[]int64{103}},
		{"page, common", func(f *SessionFilter) { f.PageKey = "shop.example.com/checkout" },
			[]int64{104}},
		{"page, entry", func(f *SessionFilter) { f.PageKey = "shop.example.com/pricing" },
			[]int64{103}},
		{"page, none", func(f *SessionFilter) { f.PageKey = "shop.example.com/nope" }, nil},
		{"event, rare", func(f *SessionFilter) { f.Event = "signup" }, []int64{106}},
		{"event, common", func(f *SessionFilter) { f.Event = "scroll_tick" }, []int64{102}},
		{"user", func(f *SessionFilter) { f.UserID = "user-5" }, []int64{105}},
		{"any user", func(f *SessionFilter) { f.UserID = "*" }, []int64{106, 105}},
		{"rage", func(f *SessionFilter) { f.HasRage = true }, []int64{107}},
		{"error", func(f *SessionFilter) { f.HasError = true }, []int64{108}},
		{"min duration", func(f *SessionFilter) { f.MinDuration = 60000 }, []int64{109}},
		{"max duration", func(f *SessionFilter) { f.MaxDuration = 5000 }, []int64{100}},
		{"duration between", func(f *SessionFilter) {
			f.MinDuration, f.MaxDuration = 10000, 10000
		}, []int64{108, 107, 106, 105, 104, 103, 102, 101}},
		{"combined", func(f *SessionFilter) {
			f.Device, f.Country, f.Event = "desktop", "FR", "scroll_tick"
		}, []int64{102}},
		{"combined, none", func(f *SessionFilter) { f.Device, f.Country = "mobile", "FR" },
			nil},
		{"common page and rare event", func(f *SessionFilter) {
			f.PageKey, f.Event = "shop.example.com/checkout", "signup"
		}, nil},
		{"cursor", func(f *SessionFilter) {
			f.Before, f.BeforeID = filterT0+5*60000, 105
		}, all[5:]},
		{"cursor and filter", func(f *SessionFilter) {
			f.Before, f.BeforeID, f.UserID = filterT0+6*60000, 106, "*"
		}, []int64{105}},
		{"range", func(f *SessionFilter) {
			f.Range.From, f.Range.To = filterT0+2*60000, filterT0+4*60000
		}, []int64{103, 102}},
		{"limit", func(f *SessionFilter) { f.Limit = 3 }, all[:3]},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := SessionFilter{SiteID: 1, Range: rng, Limit: 50}
			tt.set(&f)
			list, err := s.Sessions(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, sess := range list {
				got = append(got, sess.ID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("sessions = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestSessionFiltersOtherSite checks that no filter reaches another site's
// sessions through its page views or events.
func TestSessionFiltersOtherSite(t *testing.T) {
	s := filterFixture(t)
	rng := Range{From: filterT0, To: filterT0 + 3600000, FromDay: 20261130, ToDay: 20261130}
	for _, f := range []SessionFilter{
		{SiteID: 2, Range: rng, Limit: 50},
		{SiteID: 2, Range: rng, Limit: 50, PageKey: "shop.example.com/checkout"},
		{SiteID: 2, Range: rng, Limit: 50, Event: "signup"},
	} {
		list, err := s.Sessions(context.Background(), f)
		if err != nil || len(list) != 0 {
			t.Errorf("%+v: %d sessions, %v; want none", f, len(list), err)
		}
	}
}

func TestDayList(t *testing.T) {
	for _, tt := range []struct {
		first, last int
		want        string
	}{
		{20261130, 20261202, "[20261130 20261201 20261202]"},
		{20241228, 20250101, "[20241228 20241229 20241230 20241231 20250101]"},
		{20240228, 20240301, "[20240228 20240229 20240301]"},
		{20261202, 20261201, "[]"},
	} {
		got, err := dayList(tt.first, tt.last)
		if err != nil || fmt.Sprint(got) != tt.want {
			t.Errorf("dayList(%d, %d) = %v, %v; want %s", tt.first, tt.last, got, err, tt.want)
		}
	}
	if _, err := dayList(20261301, 20261302); err == nil {
		t.Error("dayList took month 13")
	}
	if _, err := dayList(10000101, 99991231); err == nil {
		t.Error("dayList took nine thousand years")
	}
	// A range that ends before it starts is empty, whatever is counted.
	s := openWithSite(t)
	st, err := s.Stats(context.Background(), 1, Range{FromDay: 20261202, ToDay: 20261201})
	if err != nil || len(st.Series.Days) != 0 || st.Sessions != 0 {
		t.Errorf("empty range: %+v, %v", st, err)
	}
	pages, err := s.PageRanking(context.Background(), 1, "mobile",
		Range{FromDay: 20261202, ToDay: 20261201}, 10)
	if err != nil || len(pages) != 0 {
		t.Errorf("empty range: pages %v, %v", pages, err)
	}
}
