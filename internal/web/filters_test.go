package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"loupe.dev/loupe/internal/store"
)

func TestSessionFilterParams(t *testing.T) {
	site := &store.Site{ID: 7, Domains: []string{"shop.example.com", "*.shop.example.com"}}
	rng := store.Range{From: 1, To: 2, FromDay: 20261201, ToDay: 20261201}
	base := store.SessionFilter{SiteID: 7, Range: rng, Limit: 50}
	for _, tt := range []struct {
		name  string
		query string
		set   func(*store.SessionFilter)
		error string
	}{
		{"none", "", func(*store.SessionFilter) {}, ""},
		{"everything", "?min_duration=2.5&max_duration=60&device=mobile&browser=Firefox" +
			"&os=Android&country=de&page=https%3A%2F%2Fwww.Shop.example.com%2Fcart%2F%3Fx%3D1" +
			"&entry=shop.example.com/&referrer=News.YCombinator.com&event=signup&user=u-1" +
			"&rage=1&error=1&before=1796000000000.00000000000000ff",
			func(f *store.SessionFilter) {
				f.MinDuration, f.MaxDuration, f.Device = 2500, 60000, "mobile"
				f.Browser, f.OS, f.Country = "Firefox", "Android", "DE"
				f.PageKey, f.EntryPage = "shop.example.com/cart", "shop.example.com/"
				f.Referrer, f.Event, f.UserID = "news.ycombinator.com", "signup", "u-1"
				f.HasRage, f.HasError = true, true
				f.Before, f.BeforeID = 1796000000000, 0xff
			}, ""},
		{"any user", "?user=*", func(f *store.SessionFilter) { f.UserID = "*" }, ""},
		{"url is page", "?url=shop.example.com/a", func(f *store.SessionFilter) {
			f.PageKey = "shop.example.com/a"
		}, ""},
		{"page before url", "?url=shop.example.com/a&page=shop.example.com/b",
			func(f *store.SessionFilter) { f.PageKey = "shop.example.com/b" }, ""},
		{"API cursor", "?cursor=1796000000000-00000000000000ff", func(f *store.SessionFilter) {
			f.Before, f.BeforeID = 1796000000000, 0xff
		}, ""},
		{"flags off", "?rage=0&error=", func(*store.SessionFilter) {}, ""},
		{"flags as words", "?rage=true&error=on", func(f *store.SessionFilter) {
			f.HasRage, f.HasError = true, true
		}, ""},
		{"blank values", "?browser=+&country=", func(*store.SessionFilter) {}, ""},
		{"paths on the site", "?page=/pricing/&entry=/&exit=/checkout?step=2",
			func(f *store.SessionFilter) {
				f.PageKey, f.EntryPage = "shop.example.com/pricing", "shop.example.com/"
				f.ExitPage = "shop.example.com/checkout"
			}, ""},
		{"utm source", "?utm_source=newsletter", func(f *store.SessionFilter) {
			f.UTMSource = "newsletter"
		}, ""},
		{"not a number", "?min_duration=NaN", nil, "min_duration: want a number of seconds"},
		{"digit groups", "?max_duration=1_0", nil, "max_duration: want a number of seconds"},
		{"bad cursor", "?cursor=12", nil,
			"cursor: use the link to the next page (or the API's next_cursor)"},
		{"bad device", "?device=watch", nil, "device: want desktop, tablet or mobile"},
		{"bad min", "?min_duration=soon", nil, "min_duration: want a number of seconds"},
		{"negative max", "?max_duration=-1", nil, "max_duration: want a number of seconds"},
		{"zero max", "?max_duration=0", nil, "max_duration: want seconds above 0"},
		{"min above max", "?min_duration=10&max_duration=5", nil,
			"min_duration must not be above max_duration"},
		{"bad country", "?country=Germany", nil,
			"country: want a two-letter ISO code such as DE"},
		{"bad flag", "?rage=yes", nil, "rage: want 1 or 0"},
		{"bad cursor", "?before=yesterday", nil,
			"before: use the link to the next page (or the API's next_cursor)"},
		{"cursor without id", "?before=1796000000000.zz", nil,
			"before: use the link to the next page (or the API's next_cursor)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/x"+tt.query, nil)
			got, err := sessionFilter(r, site, rng)
			if tt.error != "" {
				var ce *clientError
				if !errors.As(err, &ce) || ce.status != 400 || ce.msg != tt.error {
					t.Errorf("error = %v, want 400 %q", err, tt.error)
				}
				return
			}
			want := base
			tt.set(&want)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("sessionFilter =\n%+v, %v\nwant\n%+v", got, err, want)
			}
		})
	}
}

// TestSessionsAPI runs the filters through the API, page after page.
func TestSessionsAPI(t *testing.T) {
	f := newAPIFixture(t)
	at := time.Date(2023, 5, 1, 10, 0, 0, 0, time.UTC).UnixMilli()
	for i, v := range []struct{ url, device string }{
		{"http://localhost:3000/", "desktop"}, {"http://localhost:3000/", "mobile"},
		{"http://localhost:3000/a", "desktop"}, {"http://localhost:3000/", "desktop"},
		{"http://localhost:3000/a", "mobile"},
	} {
		f.recorded(int64(i+1), v.url, v.device, at+int64(i)*1000, 0)
	}
	type list struct {
		Sessions []struct {
			ID     string `json:"id"`
			Device string `json:"device"`
		} `json:"sessions"`
		NextCursor string `json:"next_cursor"`
	}
	ids := func(l list) string {
		var out []string
		for _, s := range l.Sessions {
			out = append(out, s.ID[14:])
		}
		return strings.Join(out, " ")
	}
	for _, tt := range []struct {
		query, want string
	}{
		{"", "05 04 03 02 01"},
		{"&device=desktop", "04 03 01"},
		{"&page=localhost:3000/a", "05 03"},
		{"&page=http://localhost:3000/a&device=mobile", "05"},
		{"&max_duration=4", ""}, // each lasts 5 s
		{"&min_duration=5&max_duration=5", "05 04 03 02 01"},
	} {
		var got list
		code, body := f.get("/sessions?from=2023-05-01&to=2023-05-01" + tt.query)
		if err := json.Unmarshal(body, &got); err != nil || code != 200 || ids(got) != tt.want {
			t.Errorf("sessions%s = %d %s, want %s", tt.query, code, body, tt.want)
		}
	}

	var seen []string
	path := "/sessions?from=2023-05-01&to=2023-05-01&limit=2"
	for range 5 {
		var got list
		code, body := f.get(path)
		if err := json.Unmarshal(body, &got); err != nil || code != 200 {
			t.Fatalf("%s = %d %s", path, code, body)
		}
		seen = append(seen, ids(got))
		if got.NextCursor == "" {
			break
		}
		path = "/sessions?from=2023-05-01&to=2023-05-01&limit=2&cursor=" + got.NextCursor
	}
	if strings.Join(seen, " | ") != "05 04 | 03 02 | 01" {
		t.Errorf("pages: %q", seen)
	}
	if code, _ := f.get("/sessions?country=Germany"); code != 400 {
		t.Errorf("bad country: %d", code)
	}
}

// TestHeatmapPositions checks that click cells carry where their element's
// clicks land on the page.
func TestHeatmapPositions(t *testing.T) {
	f := newAPIFixture(t)
	at := time.Date(2023, 5, 1, 10, 0, 0, 0, time.UTC).UnixMilli()
	f.recorded(1, "http://localhost:3000/", "desktop", at, 0)
	var rollUps store.RollUps
	var clicks []store.Click
	for i, c := range []struct {
		sel  string
		x, y float64
	}{{"#buy", 100, 200}, {"#buy", 110, 220}, {"#logo", 10, 20}} {
		clicks = append(clicks, store.Click{SessionID: 1, PID: 1, SiteID: f.site.ID,
			At: at + int64(i), PageKey: "localhost:3000/", Selector: c.sel, OffsetX: 0.5,
			OffsetY: 0.5, X: c.x, Y: c.y})
		rollUps.Element(store.ElementKey{Heat: store.HeatKey{SiteID: f.site.ID,
			PageKey: "localhost:3000/", Device: "desktop", Day: 20230501}, Selector: c.sel,
			OffsetX: 50, OffsetY: 50}, 1)
	}
	err := f.store.Write(context.Background(), func(tx *store.Tx) error {
		if err := tx.AddClicks(clicks); err != nil {
			return err
		}
		return tx.AddRollUps(&rollUps)
	})
	if err != nil {
		t.Fatal(err)
	}
	code, body := f.get("/heatmap?url=http://localhost:3000/&from=2023-05-01&to=2023-05-01")
	var got struct {
		Elements []elementJSON `json:"elements"`
	}
	if err := json.Unmarshal(body, &got); err != nil || code != 200 || len(got.Elements) != 2 {
		t.Fatalf("heatmap = %d %s", code, body)
	}
	for _, e := range got.Elements {
		want := map[string][2]float64{"#buy": {105, 210}, "#logo": {10, 20}}[e.Selector]
		if e.X == nil || e.Y == nil || *e.X != want[0] || *e.Y != want[1] {
			t.Errorf("%s at %v, %v; want %v", e.Selector, e.X, e.Y, want)
		}
	}
}

// FuzzRecordingsQuery feeds any query string to the recordings list's
// parsers: they must answer a filter or a client error, never panic or fail
// otherwise.
func FuzzRecordingsQuery(f *testing.F) {
	for _, seed := range []string{"", "from=2026-11-01&to=2026-11-30&page=/pricing&rage=1",
		"before=1796000000000.00000000000000ff&min_duration=2.5&max_duration=60",
		"cursor=1-0&country=de&user=*&event=signup&device=mobile", "from=0202-01-01",
		"min_duration=NaN", "page=https%3A%2F%2Fwww.a.example%2Fx%3Fy"} {
		f.Add(seed)
	}
	site := &store.Site{ID: 1, Domains: []string{"a.example"}, Timezone: "Europe/Berlin"}
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, query string) {
		r := httptest.NewRequest("GET", "/x", nil)
		r.URL.RawQuery = query
		var ce *clientError
		rng, err := dateRange(r, site, now)
		if err != nil {
			if !errors.As(err, &ce) {
				t.Fatalf("dateRange(%q): %v is not a client error", query, err)
			}
			return
		}
		if rng.From >= rng.To || rng.FromDay > rng.ToDay {
			t.Fatalf("dateRange(%q) = %+v", query, rng)
		}
		if _, err := sessionFilter(r, site, rng); err != nil && !errors.As(err, &ce) {
			t.Fatalf("sessionFilter(%q): %v is not a client error", query, err)
		}
	})
}
