package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"loupe.dev/loupe/internal/blob"
	"loupe.dev/loupe/internal/store"
	"loupe.dev/loupe/internal/wire"
)

// posthogRecording is a real rrweb recording of two browser windows on a
// page at http://localhost:3000/ (see the corpus's SOURCES.md).
const posthogRecording = "../../../shared/corpus/posthog/frontend/src/scenes/" +
	"session-recordings/__mocks__/recording_snapshots.jsonl"

// readRecording returns the events of each window of the recording; without
// the corpus the test fails under CI=true and is skipped elsewhere.
func readRecording(t *testing.T) [][]json.RawMessage {
	t.Helper()
	f, err := os.Open(posthogRecording)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("read corpus: %v", err)
		}
		t.Skipf("corpus missing (set CI=true to fail instead): %v", err)
	}
	defer f.Close()
	var windows [][]json.RawMessage
	lines := bufio.NewScanner(f)
	lines.Buffer(nil, 1<<20)
	for lines.Scan() {
		var w struct {
			Data []json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(lines.Bytes(), &w); err != nil {
			t.Fatal(err)
		}
		windows = append(windows, w.Data)
	}
	if err := lines.Err(); err != nil || len(windows) != 2 {
		t.Fatalf("recording: %d windows, %v", len(windows), err)
	}
	return windows
}

// apiFixture is an API over a fresh store and blob folder, with one site
// and a token that may read it.
type apiFixture struct {
	t     *testing.T
	store *store.Store
	blobs *blob.Dir
	site  *store.Site
	token string
	h     http.Handler
}

func newAPIFixture(t *testing.T) *apiFixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "loupe.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	blobs, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	site := &store.Site{Domains: []string{"localhost"}, Timezone: "Europe/Berlin"}
	if err := st.CreateSite(ctx, site); err != nil {
		t.Fatal(err)
	}
	token, err := st.CreateToken(ctx, "test", []int64{site.ID})
	if err != nil {
		t.Fatal(err)
	}
	a := &api{store: st, blobs: blobs,
		now: func() time.Time { return time.Date(2023, 5, 2, 12, 0, 0, 0, time.UTC) }}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	mux := http.NewServeMux()
	mux.Handle("GET /api/v1/sites/{site}/status", handle(logger, a.status))
	mux.Handle("GET /api/v1/sites/{site}/snapshot", handle(logger, a.snapshot))
	mux.Handle("GET /api/v1/sites/{site}/pages", handle(logger, a.pages))
	mux.Handle("GET /api/v1/sites/{site}/sessions", handle(logger, a.sessions))
	mux.Handle("GET /api/v1/sites/{site}/heatmap", handle(logger, a.heatmap))
	return &apiFixture{t: t, store: st, blobs: blobs, site: site, token: token, h: mux}
}

// get asks the API for path under the site and returns the status and body.
func (f *apiFixture) get(path string) (int, []byte) {
	f.t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/api/v1/sites/"+f.site.Key+path, nil)
	req.Header.Set("Authorization", "Bearer "+f.token)
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// recorded stores a recorded session with one page view of url at the
// given server time, its recording cut into chunks of events.
func (f *apiFixture) recorded(id int64, url, device string, at, clockOffset int64,
	chunks ...[]json.RawMessage) {
	f.t.Helper()
	ctx := context.Background()
	sess := &store.Session{ID: id, SiteID: f.site.ID, StartedAt: at, LastAt: at + 5000,
		Day: 20230501, ClockOffset: clockOffset, Device: device, PageCount: 1}
	var rows []*store.Chunk
	for i, events := range chunks {
		var buf bytes.Buffer
		buf.WriteByte('[')
		c := &store.Chunk{SessionID: id, Seq: int64(i + 1), Events: len(events),
			BlobKey: "rec/1/" + wire.FormatID(id) + "/" + string(rune('a'+i))}
		for j, ev := range events {
			if j > 0 {
				buf.WriteByte(',')
			}
			buf.Write(ev)
			var head struct {
				Timestamp int64 `json:"timestamp"`
			}
			if err := json.Unmarshal(ev, &head); err != nil {
				f.t.Fatal(err)
			}
			if c.FirstTS == 0 {
				c.FirstTS = head.Timestamp
			}
			c.LastTS = head.Timestamp
		}
		buf.WriteByte(']')
		data := blob.Compress(buf.Bytes())
		c.Bytes = int64(len(data))
		sess.RecordingBytes += c.Bytes
		if err := f.blobs.Put(ctx, c.BlobKey, data); err != nil {
			f.t.Fatal(err)
		}
		rows = append(rows, c)
	}
	key := pageKey(url)
	err := f.store.Write(ctx, func(tx *store.Tx) error {
		if err := tx.SaveSessions([]*store.Session{sess}); err != nil {
			return err
		}
		if err := tx.SavePageViews([]*store.PageView{{SessionID: id, PID: 1,
			SiteID: f.site.ID, At: at, Day: 20230501, URL: url, PageKey: key, Device: device,
			ViewW: 1280, MaxScroll: -1}}); err != nil {
			return err
		}
		return tx.AddChunks(rows)
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

func TestSnapshot(t *testing.T) {
	windows := readRecording(t)
	first, second := windows[0], windows[1]
	meta, full := first[0], first[1]
	const offset = 1500 // the server's clock is 1.5 s ahead of the browser's
	browserAt := func(ev json.RawMessage) int64 {
		var head struct{ Timestamp int64 }
		if err := json.Unmarshal(ev, &head); err != nil {
			t.Fatal(err)
		}
		return head.Timestamp
	}

	f := newAPIFixture(t)
	// The oldest view has the snapshot, its Meta event alone in the first
	// chunk and the snapshot opening the second.
	f.recorded(0x1a, "http://localhost:3000/", "desktop", browserAt(meta)+offset, offset,
		first[:1], first[1:])
	// A newer view of the page whose chunks hold only incremental events.
	f.recorded(0x2b, "http://localhost:3000/?ref=x", "desktop",
		browserAt(second[2])+offset, offset, second[2:])
	// The newest view's recording shows another address (a route change the
	// recorder took no snapshot of).
	other := bytes.Replace(second[0], []byte(`http://localhost:3000/`),
		[]byte(`http://localhost:3000/settings`), 1)
	f.recorded(0x3c, "http://localhost:3000/", "desktop", browserAt(second[0])+60000+offset,
		offset+60000, []json.RawMessage{other, second[1]})

	code, body := f.get("/snapshot?url=" + "http%3A%2F%2Flocalhost%3A3000%2F")
	if code != http.StatusOK {
		t.Fatalf("snapshot = %d %s", code, body)
	}
	var got struct {
		SessionID string            `json:"session_id"`
		Width     int               `json:"width"`
		Height    int               `json:"height"`
		URL       string            `json:"url"`
		Events    []json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if got.SessionID != wire.FormatID(0x1a) || got.Width != 2560 || got.Height != 1304 ||
		got.URL != "http://localhost:3000/" || len(got.Events) != 2 {
		t.Fatalf("snapshot = %s %d×%d %s, %d events", got.SessionID, got.Width, got.Height,
			got.URL, len(got.Events))
	}
	for i, want := range []json.RawMessage{meta, full} {
		if !jsonEqual(t, got.Events[i], want) {
			t.Errorf("event %d is not the recorded one:\n%.300s", i, got.Events[i])
		}
	}

	// The page key works as well as the URL; the device class narrows.
	if code, body := f.get("/snapshot?url=localhost:3000/&device=desktop"); code != 200 {
		t.Errorf("by page key: %d %s", code, body)
	}
	for _, tt := range []struct {
		query string
		code  int
		error string
	}{
		{"?url=localhost:3000/&device=mobile", 404, "no recorded snapshot"},
		{"?url=localhost:3000/pricing", 404, "no recorded snapshot"},
		{"?url=localhost:3000/settings", 404, "no recorded snapshot"},
		{"", 400, "url: name the page"},
		{"?url=localhost:3000/&device=watch", 400, "device: want desktop, tablet or mobile"},
	} {
		code, body := f.get("/snapshot" + tt.query)
		var e struct{ Error string }
		if err := json.Unmarshal(body, &e); err != nil || code != tt.code || e.Error != tt.error {
			t.Errorf("snapshot%s = %d %s, want %d %q", tt.query, code, body, tt.code, tt.error)
		}
	}
}

// jsonEqual reports whether two JSON texts hold the same value.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var ca, cb bytes.Buffer
	if err := json.Compact(&ca, a); err != nil {
		t.Fatal(err)
	}
	if err := json.Compact(&cb, b); err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}

func TestStatus(t *testing.T) {
	f := newAPIFixture(t)
	var st struct {
		LastEventAt *string `json:"last_event_at"`
		Sessions    int64   `json:"sessions_last_day"`
	}
	code, body := f.get("/status")
	if err := json.Unmarshal(body, &st); err != nil || code != 200 || st.LastEventAt != nil ||
		st.Sessions != 0 || !strings.Contains(string(body), `"last_event_at": null`) {
		t.Fatalf("new site: status = %d %s", code, body)
	}

	at := time.Date(2023, 5, 1, 14, 46, 20, 0, time.UTC).UnixMilli()
	f.recorded(1, "http://localhost:3000/", "desktop", at-2*86400000, 0)
	f.recorded(2, "http://localhost:3000/", "desktop", at-3600000, 0)
	f.recorded(3, "http://localhost:3000/a", "mobile", at-5000, 0)
	code, body = f.get("/status")
	if err := json.Unmarshal(body, &st); err != nil || code != 200 || st.LastEventAt == nil ||
		*st.LastEventAt != "2023-05-01T14:46:20Z" || st.Sessions != 2 {
		t.Errorf("status = %d %s, want the last event at 14:46:20 and 2 sessions", code, body)
	}

	req := httptest.NewRequest(http.MethodGet, "/api/v1/sites/"+f.site.Key+"/status", nil)
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("without a token: %d", rec.Code)
	}
}

func TestPages(t *testing.T) {
	f := newAPIFixture(t)
	at := time.Date(2023, 5, 1, 10, 0, 0, 0, time.UTC).UnixMilli()
	for i, v := range []struct{ url, device string }{
		{"http://localhost:3000/", "desktop"}, {"http://localhost:3000/", "desktop"},
		{"http://localhost:3000/", "mobile"}, {"http://localhost:3000/Pricing", "desktop"},
		{"http://localhost:3000/Pricing", "mobile"}, {"http://localhost:3000/docs", "mobile"},
	} {
		f.recorded(int64(i+1), v.url, v.device, at+int64(i), 0)
	}
	for _, tt := range []struct {
		query string
		want  string
	}{
		{"?from=2023-05-01&to=2023-05-01", `[{"name":"localhost:3000/","count":3},` +
			`{"name":"localhost:3000/Pricing","count":2},` +
			`{"name":"localhost:3000/docs","count":1}]`},
		{"?from=2023-05-01&to=2023-05-01&device=mobile", `[{"name":"localhost:3000/",` +
			`"count":1},{"name":"localhost:3000/Pricing","count":1},` +
			`{"name":"localhost:3000/docs","count":1}]`},
		{"?from=2023-05-01&to=2023-05-01&q=PRIC", `[{"name":"localhost:3000/Pricing",` +
			`"count":2}]`},
		{"?from=2023-05-02&to=2023-05-02", `[]`},
		{"?q=docs", `[{"name":"localhost:3000/docs","count":1}]`}, // the last 30 days
	} {
		code, body := f.get("/pages" + tt.query)
		var got struct{ Pages json.RawMessage }
		if err := json.Unmarshal(body, &got); err != nil || code != 200 ||
			!jsonEqual(t, got.Pages, []byte(tt.want)) {
			t.Errorf("pages%s = %d %s, want %s", tt.query, code, body, tt.want)
		}
	}
	if code, _ := f.get("/pages?device=fridge"); code != http.StatusBadRequest {
		t.Errorf("bad device: %d", code)
	}
}
