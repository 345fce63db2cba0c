package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"

	"loupe.dev/loupe/internal/queue"
	"loupe.dev/loupe/internal/store"
	"loupe.dev/loupe/internal/wire"
)

// memoryLog keeps appends in memory. It stands in for the log only in the
// fuzz target, where starting JetStream per input would make fuzzing crawl;
// the benchmark and the server tests use the real embedded log.
type memoryLog struct {
	mu   sync.Mutex
	msgs [][]byte
}

func (m *memoryLog) Append(_ context.Context, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = append(m.msgs, data)
	return nil
}

type fixedSites []store.Site

func (f fixedSites) SitesChangedSince(context.Context, int64) ([]store.Site, error) {
	return f, nil
}

func testSites(t testing.TB) *Sites {
	t.Helper()
	s, err := NewSites(context.Background(), fixedSites{{ID: 1, Key: "sitekey12345",
		Domains: []string{"shop.example.com", "*.example.org", "localhost:3000"}}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestOriginAllowed(t *testing.T) {
	site := testSites(t).Lookup("sitekey12345")
	tests := []struct {
		host string
		want bool
	}{
		{"shop.example.com", true},
		{"www.shop.example.com", true},
		{"SHOP.example.com.", true},
		{"shop.example.com:8443", true},
		{"evil.com", false},
		{"shop.example.com.evil.com", false},
		{"example.org", true},
		{"a.b.example.org", true},
		{"badexample.org", false},
		{"localhost:3000", true},
		{"localhost:3001", false},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			if got := originAllowed(site, tt.host); got != tt.want {
				t.Fatalf("originAllowed(%q) = %v, want %v", tt.host, got, tt.want)
			}
		})
	}
}

func TestAcceptedRecord(t *testing.T) {
	log := &memoryLog{}
	h := New(testSites(t), log, Options{MaxBody: 1 << 20, MaxBatch: 4 << 20})
	body := realisticBatch()
	req := httptest.NewRequest(http.MethodPost,
		"/i?k=sitekey12345&s=0123456789abcdef&n=7", bytes.NewReader(gzipBytes(body)))
	req.Header.Set("Origin", "https://shop.example.com")
	req.Header.Set("User-Agent", "Mozilla/5.0 test")
	req.Header.Set("Sec-CH-UA-Mobile", "?1")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	recs, err := wire.DecodeRecords(log.msgs[0])
	if err != nil || len(recs) != 1 {
		t.Fatalf("log holds %d records, %v", len(recs), err)
	}
	r := recs[0]
	if r.SiteID != 1 || r.Seq != 7 || wire.FormatID(r.SessionID) != "0123456789abcdef" ||
		r.UserAgent != "Mozilla/5.0 test" || r.Hints.Mobile != "?1" ||
		!bytes.Equal(r.Body, body) || r.ReceivedAt == 0 {
		t.Fatalf("record = %+v", r)
	}
}

// realisticBatch is about what the tracker sends every few seconds: a page
// view, clicks, a scroll, pointer moves and a few recorder events.
func realisticBatch() []byte {
	var b bytes.Buffer
	b.WriteString(`{"sent":1733312345678,"vid":"9f3a0c1b2d4e5f60","ev":[`)
	b.WriteString(`{"type":"pageview","t":1733312340000,"pid":1,"url":"https://shop.example.com/products/blue-shoes?utm_source=news","ref":"https://www.google.com/","title":"Blue shoes","vw":1440,"vh":900,"sw":2560,"sh":1440}`)
	for i := range 4 {
		fmt.Fprintf(&b, `,{"type":"click","t":%d,"pid":1,"sel":"#main > div.grid > div:nth-of-type(%d) > a","ox":0.4213,"oy":0.5521,"x":%d,"y":%d,"vw":1440,"pw":1440,"ph":5200,"dead":false}`,
			1733312341000+i*700, i+1, 300+i*200, 640)
	}
	b.WriteString(`,{"type":"scroll","t":1733312342000,"pid":1,"depth":63,"ph":5200}`)
	b.WriteString(`,{"type":"move","t":1733312342500,"pid":1,"vw":1440,"pw":1440,"ph":5200,"pts":[`)
	for i := range 20 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "[%d,%d,%d]", 400+i*13, 300+i*7, i*100)
	}
	b.WriteString(`]}],"rec":[`)
	for i := range 6 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"type":3,"data":{"source":1,"positions":[{"x":%d,"y":%d,"id":42,"timeOffset":-%d}]},"timestamp":%d}`,
			400+i, 300+i, i*50, 1733312343000+i*100)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// BenchmarkIngest measures POST /i end to end in one process: HTTP, checks,
// decompression and a durable append to the embedded JetStream log (synced
// on every write, gathered), against a bare net/http handler in the same run.
func BenchmarkIngest(b *testing.B) {
	body := gzipBytes(realisticBatch())
	b.Logf("batch: %d bytes, %d gzipped", len(realisticBatch()), len(body))

	log, err := queue.OpenEmbedded(context.Background(), filepath.Join(b.TempDir(), "log"),
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	defer log.Close()
	appender := queue.NewAppender(log, 2, nil)
	defer appender.Close()

	handlers := map[string]http.Handler{
		"bare": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusAccepted)
		}),
		"loupe": New(testSites(b), appender, Options{MaxBody: 1 << 20, MaxBatch: 4 << 20}),
	}
	for _, name := range []string{"bare", "loupe"} {
		b.Run(name, func(b *testing.B) {
			srv := httptest.NewServer(handlers[name])
			defer srv.Close()
			client := srv.Client()
			client.Transport.(*http.Transport).MaxIdleConnsPerHost = 256
			url := srv.URL + "/i?k=sitekey12345&s=0123456789abcdef&n=1"
			b.SetParallelism(32)
			b.SetBytes(int64(len(body)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
					req.Header.Set("Origin", "https://shop.example.com")
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusAccepted {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
		})
	}
}

// FuzzIngest sends arbitrary bodies and queries: every answer is 202 or a
// 4xx, never a 5xx or a panic, and what is appended decodes.
func FuzzIngest(f *testing.F) {
	f.Add([]byte(realisticBatch()), "k=sitekey12345&s=0123456789abcdef&n=1", false)
	f.Add([]byte(`{"sent":1}`), "k=sitekey12345&s=0123456789abcdef&n=2", true)
	f.Add([]byte{0x1f, 0x8b, 8, 0}, "k=sitekey12345&s=0123456789abcdef&n=3", false)
	sites := testSites(f)
	f.Fuzz(func(t *testing.T, body []byte, query string, compress bool) {
		log := &memoryLog{}
		h := New(sites, log, Options{MaxBody: 64 << 10, MaxBatch: 256 << 10})
		if compress {
			body = gzipBytes(body)
		}
		req := httptest.NewRequest(http.MethodPost, "/i", bytes.NewReader(body))
		req.URL.RawQuery = query
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusAccepted && (rec.Code < 400 || rec.Code > 499) {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		for _, m := range log.msgs {
			if _, err := wire.DecodeRecords(m); err != nil {
				t.Fatalf("appended an undecodable record: %v", err)
			}
		}
	})
}

// TestMultiMemberGzip accepts what the tracker sends from a page going away:
// a small fresh gzip member followed by the batch compressed earlier.
func TestMultiMemberGzip(t *testing.T) {
	log := &memoryLog{}
	h := New(testSites(t), log, Options{MaxBody: 1 << 20, MaxBatch: 4 << 20})
	whole := realisticBatch()
	head, rest := whole[:len(`{"sent":1733312345678,`)], whole[len(`{"sent":1733312345678,`):]
	body := append(gzipBytes(head), gzipBytes(rest)...)
	req := httptest.NewRequest(http.MethodPost, "/i?k=sitekey12345&s=0123456789abcdef&n=1",
		bytes.NewReader(body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	recs, err := wire.DecodeRecords(log.msgs[0])
	if err != nil || !bytes.Equal(recs[0].Body, whole) {
		t.Fatalf("appended body differs from the batch: %v", err)
	}
}
