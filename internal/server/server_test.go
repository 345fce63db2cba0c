package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"loupe.dev/loupe/internal/config"
	"loupe.dev/loupe/internal/enrich"
	"loupe.dev/loupe/internal/store"
)

// testServer is a running Loupe with one site and a token for it.
type testServer struct {
	url   string
	data  string
	site  *store.Site
	token string
	log   *syncBuffer // what the server logged
}

// syncBuffer is a bytes.Buffer safe to write from the server and read from
// the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

const desktopUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) " +
	"Chrome/131.0.0.0 Safari/537.36"

func startServer(t testing.TB, domains ...string) *testServer {
	t.Helper()
	return startServerWith(t, func(*config.Config) {}, domains...)
}

func startServerWith(t testing.TB, change func(*config.Config), domains ...string) *testServer {
	t.Helper()
	cfg := config.Default()
	cfg.Data = t.TempDir()
	cfg.Addr = "127.0.0.1:0"
	cfg.SiteRefresh = 100 * time.Millisecond
	change(&cfg)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	logs := &syncBuffer{}
	var logOut io.Writer = logs
	if os.Getenv("LOUPE_TEST_LOG") != "" {
		logOut = io.MultiWriter(logs, os.Stderr)
	}
	logger := slog.New(slog.NewTextHandler(logOut, nil))
	go func() { done <- Run(ctx, cfg, logger, "test", ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("server did not start: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server stopped with %v", err)
		}
	})

	// Add the site through a second store on the same file, as the CLI does.
	st, err := store.OpenSQLite(context.Background(), filepath.Join(cfg.Data, "loupe.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	site := &store.Site{Domains: domains, Timezone: "Europe/Berlin", SampleRate: 1}
	if err := st.CreateSite(context.Background(), site); err != nil {
		t.Fatal(err)
	}
	token, err := st.CreateToken(context.Background(), "test", []int64{site.ID})
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{url: "http://" + addr, data: cfg.Data, site: site, token: token, log: logs}
	// The server sees the new site within its refresh interval.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(ts.url + "/s/" + site.Key + ".js")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("server never saw the new site")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return ts
}

// post sends a batch body as the tracker does and returns the response.
func (ts *testServer) post(t testing.TB, sid string, seq int, body []byte,
	header map[string]string) (int, string) {
	t.Helper()
	u := fmt.Sprintf("%s/i?k=%s&s=%s&n=%d", ts.url, ts.site.Key, sid, seq)
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("User-Agent", desktopUA)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(msg)
}

// get reads an API path with the site's token into v.
func (ts *testServer) get(t testing.TB, path string, v any) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, ts.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+ts.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil && resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}

// waitSession polls the API until the session has at least n clicks and
// pages.
func (ts *testServer) waitSession(t testing.TB, sid string, ok func(s sessionDetail) bool) sessionDetail {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var s sessionDetail
		if ts.get(t, "/api/v1/sessions/"+sid, &s) == http.StatusOK && ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("session %s never reached the expected state; last %+v", sid, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type sessionDetail struct {
	ID            string  `json:"id"`
	Pages         int     `json:"pages"`
	Device        string  `json:"device"`
	Browser       string  `json:"browser"`
	ClickCount    int     `json:"clicks"`
	RageClicks    int     `json:"rage_clicks"`
	DeadClicks    int     `json:"dead_clicks"`
	Errors        int     `json:"errors"`
	Events        int     `json:"events"`
	UserID        string  `json:"user_id"`
	HasRecording  bool    `json:"has_recording"`
	ClockOffsetMS int64   `json:"clock_offset_ms"`
	StartedAt     string  `json:"started_at"`
	Duration      float64 `json:"duration_seconds"`
	Referrer      string  `json:"referrer"`
	PageViews     []struct {
		PID       int64  `json:"pid"`
		Page      string `json:"page"`
		MaxScroll int    `json:"max_scroll"`
	} `json:"page_views"`
	Clicks []struct {
		Selector string  `json:"selector"`
		OffsetX  float64 `json:"offset_x"`
		Rage     bool    `json:"rage"`
		Dead     bool    `json:"dead"`
	} `json:"click_events"`
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func batchJSON(t testing.TB, sent int64, events []map[string]any, rec []map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"sent": sent, "vid": "00000000000000aa",
		"ev": events, "rec": rec})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEndToEnd(t *testing.T) {
	ts := startServer(t, "shop.example.com")
	now := time.Now().UnixMilli()
	sid := "0123456789abcdef"

	first := batchJSON(t, now, []map[string]any{
		{"type": "pageview", "t": now - 3000, "pid": 1, "url": "https://shop.example.com/?utm_source=news",
			"ref": "https://www.google.com/search?q=x", "title": "Home", "vw": 1440, "vh": 900},
		{"type": "click", "t": now - 2000, "pid": 1, "sel": "#buy", "ox": 0.25, "oy": 0.75,
			"x": 100, "y": 200, "vw": 1440, "pw": 1440, "ph": 3000},
		{"type": "scroll", "t": now - 1500, "pid": 1, "depth": 40, "ph": 3000},
		{"type": "scroll", "t": now - 1400, "pid": 1, "depth": 100, "ph": 3000},
		{"type": "event", "t": now - 1000, "pid": 1, "name": "signup", "props": map[string]any{"plan": "pro"}},
		{"type": "identify", "t": now - 900, "pid": 1, "id": "user-42"},
		{"type": "error", "t": now - 800, "pid": 1, "msg": "TypeError: x", "src": "app.js", "line": 3},
	}, []map[string]any{{"type": 4, "data": map[string]any{"href": "https://shop.example.com/"},
		"timestamp": now - 3000}})
	if code, msg := ts.post(t, sid, 1, gzipped(first), map[string]string{
		"Origin": "https://www.shop.example.com"}); code != http.StatusAccepted {
		t.Fatalf("first batch: %d %s", code, msg)
	}
	// Three quick clicks on one spot make a rage click; the page changes too.
	second := batchJSON(t, now+500, []map[string]any{
		{"type": "pageview", "t": now, "pid": 2, "url": "https://shop.example.com/cart/"},
		{"type": "click", "t": now + 100, "pid": 2, "sel": "#pay", "ox": 0.5, "oy": 0.5, "x": 300, "y": 300, "dead": true},
		{"type": "click", "t": now + 200, "pid": 2, "sel": "#pay", "ox": 0.5, "oy": 0.5, "x": 302, "y": 301},
		{"type": "click", "t": now + 300, "pid": 2, "sel": "#pay", "ox": 0.5, "oy": 0.5, "x": 301, "y": 299},
	}, nil)
	if code, msg := ts.post(t, sid, 2, second, nil); code != http.StatusAccepted {
		t.Fatalf("second batch: %d %s", code, msg)
	}
	// The same batch again changes nothing.
	if code, _ := ts.post(t, sid, 2, second, nil); code != http.StatusAccepted {
		t.Fatalf("repeated batch: %d", code)
	}

	s := ts.waitSession(t, sid, func(s sessionDetail) bool { return len(s.Clicks) >= 4 })
	if s.Pages != 2 || s.ClickCount != 4 || s.RageClicks != 1 || s.DeadClicks != 1 ||
		s.Errors != 1 || s.Events != 1 || s.UserID != "user-42" || !s.HasRecording ||
		s.Device != "desktop" || s.Browser != "Chrome" || s.Referrer != "google.com" {
		t.Fatalf("session = %+v", s)
	}
	if len(s.PageViews) != 2 || s.PageViews[0].Page != "shop.example.com/" ||
		s.PageViews[1].Page != "shop.example.com/cart" || s.PageViews[0].MaxScroll != 100 {
		t.Fatalf("page views = %+v", s.PageViews)
	}
	if s.Clicks[0].Selector != "#buy" || s.Clicks[0].OffsetX != 0.25 ||
		!s.Clicks[3].Rage || !s.Clicks[1].Dead {
		t.Fatalf("clicks = %+v", s.Clicks)
	}

	var heat struct {
		Total    int64 `json:"total"`
		Elements []struct {
			Selector string  `json:"selector"`
			OffsetX  float64 `json:"offset_x"`
			OffsetY  float64 `json:"offset_y"`
			Count    int64   `json:"count"`
		} `json:"elements"`
	}
	if code := ts.get(t, "/api/v1/sites/"+ts.site.Key+"/heatmap?url=https://shop.example.com/cart&type=click", &heat); code != 200 {
		t.Fatalf("heatmap: %d", code)
	}
	if heat.Total != 3 || len(heat.Elements) != 1 || heat.Elements[0].Selector != "#pay" ||
		heat.Elements[0].Count != 3 || heat.Elements[0].OffsetX != 0.5 {
		t.Fatalf("click heatmap = %+v", heat)
	}

	var scroll struct {
		PageViews int64 `json:"page_views"`
		Depths    []struct {
			Depth int     `json:"depth"`
			Share float64 `json:"share"`
		} `json:"depths"`
	}
	ts.get(t, "/api/v1/sites/"+ts.site.Key+"/heatmap?url=shop.example.com/&type=scroll", &scroll)
	if scroll.PageViews != 1 || scroll.Depths[100].Share != 1 || scroll.Depths[40].Share != 1 {
		t.Fatalf("scroll heatmap = %+v", scroll)
	}

	var stats struct {
		Visitors  int64 `json:"visitors"`
		Sessions  int64 `json:"sessions"`
		PageViews int64 `json:"page_views"`
		TopPages  []struct {
			Name  string `json:"name"`
			Count int64  `json:"count"`
		} `json:"top_pages"`
	}
	ts.get(t, "/api/v1/sites/"+ts.site.Key+"/stats", &stats)
	if stats.Visitors != 1 || stats.Sessions != 1 || stats.PageViews != 2 || len(stats.TopPages) != 2 {
		t.Fatalf("stats = %+v", stats)
	}

	var rec []map[string]any
	if code := ts.get(t, "/api/v1/sessions/"+sid+"/recording", &rec); code != 200 || len(rec) != 1 ||
		rec[0]["timestamp"].(float64) != float64(now-3000) {
		t.Fatalf("recording = %d %v", code, rec)
	}
}

func TestIngestRejects(t *testing.T) {
	ts := startServer(t, "shop.example.com")
	good := []byte(`{"sent":1,"ev":[]}`)
	bomb := gzipped(bytes.Repeat([]byte{' '}, 20<<20))
	tests := []struct {
		name   string
		query  string
		body   []byte
		header map[string]string
		code   int
		want   string
	}{
		{"unknown site", "k=nope&s=0123456789abcdef&n=1", good, nil, 403, "unknown site"},
		{"bad session", "k=KEY&s=xyz&n=1", good, nil, 400, "session id"},
		{"bad seq", "k=KEY&s=0123456789abcdef&n=0", good, nil, 400, "sequence"},
		{"foreign origin", "k=KEY&s=0123456789abcdef&n=1", good,
			map[string]string{"Origin": "https://evil.example.net"}, 403, "origin"},
		{"not json", "k=KEY&s=0123456789abcdef&n=1", []byte(`{"sent":`), nil, 400, "JSON"},
		{"bad gzip", "k=KEY&s=0123456789abcdef&n=1", []byte{0x1f, 0x8b, 1, 2, 3}, nil, 400, "gzip"},
		{"too large", "k=KEY&s=0123456789abcdef&n=1", make([]byte, 5<<20), nil, 413, `"limit":"body"`},
		{"bomb", "k=KEY&s=0123456789abcdef&n=1", bomb, nil, 413, `"limit":"decompressed"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := ts.url + "/i?" + strings.ReplaceAll(tt.query, "KEY", ts.site.Key)
			req, _ := http.NewRequest(http.MethodPost, u, bytes.NewReader(tt.body))
			req.Header.Set("Origin", "https://shop.example.com")
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.code || !strings.Contains(string(body), tt.want) {
				t.Fatalf("got %d %s, want %d with %q", resp.StatusCode, body, tt.code, tt.want)
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != req.Header.Get("Origin") {
				t.Fatalf("Access-Control-Allow-Origin = %q on an error", got)
			}
		})
	}

	// The preflight a page triggers when it adds headers.
	req, _ := http.NewRequest(http.MethodOptions, ts.url+"/i", nil)
	req.Header.Set("Origin", "https://shop.example.com")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://shop.example.com" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") ||
		resp.Header.Get("Access-Control-Allow-Headers") != "content-type" {
		t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
}

// TestBadClocksAndBots checks that a browser clock years off is placed at the
// server's time, and that bots and spam never become sessions.
func TestBadClocksAndBots(t *testing.T) {
	spam := filepath.Join("..", "..", "..", "shared", "corpus", "referrer-spam-list", "spammers.txt")
	if _, err := os.Stat(spam); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	ts := startServerWith(t, func(c *config.Config) { c.ReferrerSpamList = spam },
		"shop.example.com")
	wrong := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	body := batchJSON(t, wrong, []map[string]any{
		{"type": "pageview", "t": wrong - 1000, "pid": 1, "url": "https://shop.example.com/"}}, nil)
	ts.post(t, "00000000000000b1", 1, body, nil)
	s := ts.waitSession(t, "00000000000000b1", func(s sessionDetail) bool { return s.Pages == 1 })
	started, _ := time.Parse(time.RFC3339Nano, s.StartedAt)
	if d := time.Since(started); d < 0 || d > time.Minute {
		t.Fatalf("session started at %v with a clock years ahead", started)
	}
	if s.ClockOffsetMS > -365*24*3600*1000 {
		t.Fatalf("clock offset %d not stored", s.ClockOffsetMS)
	}

	pv := batchJSON(t, time.Now().UnixMilli(), []map[string]any{
		{"type": "pageview", "t": time.Now().UnixMilli(), "pid": 1, "url": "https://shop.example.com/",
			"ref": "https://semalt.semalt.com/"}}, nil)
	ts.post(t, "00000000000000b2", 1, pv, map[string]string{
		"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"})
	ts.post(t, "00000000000000b3", 1, pv, nil)
	ts.post(t, "00000000000000b4", 1, body, nil) // a marker processed after the others
	ts.waitSession(t, "00000000000000b4", func(s sessionDetail) bool { return s.Pages == 1 })
	for _, sid := range []string{"00000000000000b2", "00000000000000b3"} {
		if code := ts.get(t, "/api/v1/sessions/"+sid, nil); code != http.StatusNotFound {
			t.Errorf("session %s (bot or spam) answered %d, want 404", sid, code)
		}
	}
}

func TestAPIAccess(t *testing.T) {
	ts := startServer(t, "shop.example.com")
	body := batchJSON(t, time.Now().UnixMilli(), []map[string]any{{"type": "pageview",
		"t": time.Now().UnixMilli(), "pid": 1, "url": "https://shop.example.com/"}},
		[]map[string]any{{"type": 4, "data": map[string]any{}, "timestamp": 1}})
	ts.post(t, "00000000000000c1", 1, body, nil)
	ts.waitSession(t, "00000000000000c1", func(s sessionDetail) bool { return s.Pages == 1 })

	// A second site in the same Loupe, with its own token.
	st, err := store.OpenSQLite(context.Background(), filepath.Join(ts.data, "loupe.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	other := &store.Site{Domains: []string{"other.example.org"}}
	if err := st.CreateSite(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	otherToken, err := st.CreateToken(context.Background(), "other", []int64{other.ID})
	if err != nil {
		t.Fatal(err)
	}

	paths := []string{
		"/api/v1/sites/" + ts.site.Key + "/stats",
		"/api/v1/sites/" + ts.site.Key + "/sessions",
		"/api/v1/sites/" + ts.site.Key + "/heatmap?url=shop.example.com/",
		"/api/v1/sessions/00000000000000c1",
		"/api/v1/sessions/00000000000000c1/recording",
	}
	own := ts.token
	for _, path := range paths {
		ts.token = own
		if code := ts.get(t, path, nil); code != http.StatusOK {
			t.Errorf("%s with the site's token: %d, want 200", path, code)
		}
		ts.token = otherToken
		if code := ts.get(t, path, nil); code != http.StatusNotFound {
			t.Errorf("%s with another site's token: %d, want 404", path, code)
		}
		ts.token = "lpt_wrong"
		if code := ts.get(t, path, nil); code != http.StatusUnauthorized {
			t.Errorf("%s with an unknown token: %d, want 401", path, code)
		}
	}
}

// TestCountryBehindProxy resolves the visitor's country from the address a
// trusted proxy forwards, and ignores the header from anyone else.
func TestCountryBehindProxy(t *testing.T) {
	geo := filepath.Join("..", "..", "..", "shared", "corpus", "maxmind-db", "test-data",
		"GeoIP2-City-Test.mmdb")
	if _, err := os.Stat(geo); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	for _, tt := range []struct {
		name    string
		trusted string
		want    string
	}{
		{"trusted proxy", "127.0.0.0/8", "GB"},
		{"untrusted peer", "10.0.0.0/8", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts := startServerWith(t, func(c *config.Config) {
				c.GeoIPDB = geo
				c.TrustedProxies, _ = enrich.ParsePrefixes(tt.trusted)
			}, "shop.example.com")
			now := time.Now().UnixMilli()
			body := batchJSON(t, now, []map[string]any{{"type": "pageview", "t": now, "pid": 1,
				"url": "https://shop.example.com/"}}, nil)
			ts.post(t, "00000000000000d1", 1, body, map[string]string{
				"X-Forwarded-For": "81.2.69.142"})
			var list struct {
				Sessions []struct {
					Country string `json:"country"`
				} `json:"sessions"`
			}
			deadline := time.Now().Add(15 * time.Second)
			for len(list.Sessions) == 0 && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
				ts.get(t, "/api/v1/sites/"+ts.site.Key+"/sessions", &list)
			}
			if len(list.Sessions) != 1 || list.Sessions[0].Country != tt.want {
				t.Fatalf("sessions = %+v, want country %q", list.Sessions, tt.want)
			}
		})
	}
}

func TestHealthAndMetrics(t *testing.T) {
	ts := startServer(t, "shop.example.com")
	now := time.Now().UnixMilli()
	ts.post(t, "00000000000000e1", 1, batchJSON(t, now, []map[string]any{{"type": "pageview",
		"t": now, "pid": 1, "url": "https://shop.example.com/"}}, nil), nil)
	ts.post(t, "00000000000000e1", 2, []byte("not json"), nil)
	ts.waitSession(t, "00000000000000e1", func(s sessionDetail) bool { return s.Pages == 1 })

	for path, want := range map[string]string{"/healthz": `"ok"`, "/readyz": `"log": "ok"`} {
		resp, err := http.Get(ts.url + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}

	resp, err := http.Get(ts.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`loupe_ingest_requests_total{code="202"} 1`,
		`loupe_ingest_requests_total{code="400"} 1`,
		`loupe_ingest_rejected_total{reason="body"} 1`,
		`loupe_ingest_request_duration_seconds_count 2`,
		`loupe_log_append_duration_seconds_count`,
		`loupe_process_batches_total 1`,
		`loupe_process_lag_seconds_count`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestEmptyBatchMakesNoSession(t *testing.T) {
	ts := startServer(t, "shop.example.com")
	now := time.Now().UnixMilli()
	origin := map[string]string{"Origin": "https://shop.example.com"}
	for i, body := range [][]byte{batchJSON(t, now, []map[string]any{}, nil), []byte("null")} {
		sid := fmt.Sprintf("00000000000000e%d", i)
		if code, msg := ts.post(t, sid, 1, body, origin); code != http.StatusAccepted {
			t.Fatalf("empty batch %d: %d %s", i, code, msg)
		}
	}
	// A real visit sent after them is processed after them.
	real := batchJSON(t, now, []map[string]any{{"type": "pageview", "t": now - 1000, "pid": 1,
		"url": "https://shop.example.com/"}}, nil)
	if code, msg := ts.post(t, "00000000000000f1", 1, real, origin); code != http.StatusAccepted {
		t.Fatalf("real batch: %d %s", code, msg)
	}
	ts.waitSession(t, "00000000000000f1", func(s sessionDetail) bool { return s.Pages == 1 })
	for _, sid := range []string{"00000000000000e0", "00000000000000e1"} {
		if code := ts.get(t, "/api/v1/sessions/"+sid, nil); code != http.StatusNotFound {
			t.Errorf("empty batch %s made a session: %d", sid, code)
		}
	}
	var status struct {
		Sessions int64 `json:"sessions_last_day"`
	}
	if ts.get(t, "/api/v1/sites/"+ts.site.Key+"/status", &status); status.Sessions != 1 {
		t.Errorf("status counts %d sessions, want 1", status.Sessions)
	}
}
