package tracker

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

// The size budgets of the files every visitor downloads.
const (
	loaderGzipMax = 1024
	coreGzipMax   = 8 * 1024
)

func newFiles(t testing.TB) *Files {
	t.Helper()
	f, err := New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return f
}

func gzipSize(t testing.TB, b []byte) int {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Len()
}

func TestNamesAreContentHashes(t *testing.T) {
	f := newFiles(t)
	for _, tc := range []struct {
		name string
		got  string
		file string
		base string
	}{
		{"core", f.CoreName(), "dist/core.js", "core"},
		{"recorder", f.RecorderName(), "dist/record.js", "record"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(body)
			want := tc.base + "." + hex.EncodeToString(sum[:])[:10] + ".js"
			if tc.got != want {
				t.Errorf("name = %q, want %q", tc.got, want)
			}
		})
	}

	again := newFiles(t)
	if again.CoreName() != f.CoreName() || again.RecorderName() != f.RecorderName() {
		t.Errorf("names differ between two loads: %s %s, then %s %s",
			f.CoreName(), f.RecorderName(), again.CoreName(), again.RecorderName())
	}
}

func TestNewFSRefusesStaleGzip(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write([]byte("old core")); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{
		"core.js":      {Data: []byte("new core")},
		"core.js.gz":   {Data: gz.Bytes()},
		"core.js.br":   {Data: []byte("x")},
		"record.js":    {Data: []byte("r")},
		"record.js.gz": {Data: gz.Bytes()},
		"record.js.br": {Data: []byte("x")},
		"replay.js":    {Data: []byte("p")},
		"replay.css":   {Data: []byte("c")},
	}
	_, err := NewFS(fsys)
	if err == nil || !strings.Contains(err.Error(), "core.js.gz") {
		t.Fatalf("NewFS with a stale core.js.gz: err = %v, want one naming core.js.gz", err)
	}
}

func TestSizeBudgets(t *testing.T) {
	f := newFiles(t)

	core := gzipSize(t, f.core.identity)
	t.Logf("core: %d B, %d B gzipped, %d B brotli", len(f.core.identity), core, len(f.core.brotli))
	if core > coreGzipMax {
		t.Errorf("core is %d B gzipped, budget %d B", core, coreGzipMax)
	}
	if len(f.core.gzip) > coreGzipMax {
		t.Errorf("served core.js.gz is %d B, budget %d B", len(f.core.gzip), coreGzipMax)
	}

	t.Logf("recorder: %d B, %d B gzipped, %d B brotli",
		len(f.recorder.identity), len(f.recorder.gzip), len(f.recorder.brotli))

	loader := f.loader(Settings{SiteKey: "abcdefghijklmnop", SampleRate: 0.125, HonourDNT: true})
	size := gzipSize(t, loader)
	t.Logf("loader: %d B, %d B gzipped", len(loader), size)
	if size > loaderGzipMax {
		t.Errorf("loader is %d B gzipped, budget %d B", size, loaderGzipMax)
	}
}

func get(t *testing.T, h http.HandlerFunc, method string,
	header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, "/t/x", nil)
	for k, v := range header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	h(w, r)
	return w
}

func TestServeAsset(t *testing.T) {
	f := newFiles(t)
	serveCore := func(w http.ResponseWriter, r *http.Request) { f.ServeAsset(w, r, f.CoreName()) }
	hash := strings.TrimSuffix(strings.TrimPrefix(f.CoreName(), "core."), ".js")

	tests := []struct {
		name     string
		accept   []string
		encoding string
		body     []byte
	}{
		{"no header", nil, "", f.core.identity},
		{"chrome", []string{"gzip, deflate, br, zstd"}, "br", f.core.brotli},
		{"gzip only", []string{"gzip"}, "gzip", f.core.gzip},
		{"x-gzip", []string{"x-gzip"}, "gzip", f.core.gzip},
		{"upper case", []string{"GZIP, BR"}, "br", f.core.brotli},
		{"gzip preferred by q", []string{"br;q=0.5, gzip;q=0.9"}, "gzip", f.core.gzip},
		{"brotli refused", []string{"gzip, br;q=0"}, "gzip", f.core.gzip},
		{"all refused but identity", []string{"br;q=0, gzip;q=0"}, "", f.core.identity},
		{"identity preferred", []string{"identity;q=1, gzip;q=0.5"}, "", f.core.identity},
		{"star", []string{"*"}, "br", f.core.brotli},
		{"star refused, gzip named", []string{"gzip;q=0.1, *;q=0"}, "gzip", f.core.gzip},
		{"two header lines", []string{"deflate", "br"}, "br", f.core.brotli},
		{"malformed q skipped", []string{"br;q=2, gzip"}, "gzip", f.core.gzip},
		{"deflate only", []string{"deflate"}, "", f.core.identity},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := get(t, serveCore, http.MethodGet, http.Header{"Accept-Encoding": tc.accept})
			if w.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200", w.Code)
			}
			h := w.Header()
			if got := h.Get("Content-Encoding"); got != tc.encoding {
				t.Errorf("Content-Encoding = %q, want %q", got, tc.encoding)
			}
			if !bytes.Equal(w.Body.Bytes(), tc.body) {
				t.Errorf("body is %d B, want the %d B of the %q file", w.Body.Len(), len(tc.body),
					tc.encoding)
			}
			want := map[string]string{
				"Cache-Control":  "public, max-age=31536000, immutable",
				"Vary":           "Accept-Encoding",
				"Content-Type":   "text/javascript; charset=utf-8",
				"Content-Length": strconv.Itoa(len(tc.body)),
			}
			for k, v := range want {
				if got := h.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if etag := h.Get("ETag"); !strings.HasPrefix(etag, `"`+hash) {
				t.Errorf("ETag = %q, want it to start with the content hash %s", etag, hash)
			}
		})
	}
}

func TestServeAssetConditional(t *testing.T) {
	f := newFiles(t)
	serveCore := func(w http.ResponseWriter, r *http.Request) { f.ServeAsset(w, r, f.CoreName()) }
	first := get(t, serveCore, http.MethodGet, http.Header{"Accept-Encoding": {"br"}})
	brTag := first.Header().Get("ETag")
	plain := get(t, serveCore, http.MethodGet, nil)
	plainTag := plain.Header().Get("ETag")
	if brTag == plainTag {
		t.Fatalf("brotli and identity bodies share the ETag %s", brTag)
	}

	tests := []struct {
		name   string
		accept string
		match  string
		status int
	}{
		{"same tag", "br", brTag, http.StatusNotModified},
		{"weak form", "br", "W/" + brTag, http.StatusNotModified},
		{"in a list", "br", `"zzz", ` + brTag, http.StatusNotModified},
		{"star", "br", "*", http.StatusNotModified},
		{"tag of another encoding", "gzip", brTag, http.StatusOK},
		{"other tag", "br", `"0000000000-br"`, http.StatusOK},
		{"malformed", "br", strings.Trim(brTag, `"`), http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := get(t, serveCore, http.MethodGet, http.Header{
				"Accept-Encoding": {tc.accept},
				"If-None-Match":   {tc.match},
			})
			if w.Code != tc.status {
				t.Fatalf("status = %d, want %d", w.Code, tc.status)
			}
			if tc.status == http.StatusNotModified {
				if w.Body.Len() != 0 {
					t.Errorf("304 carries a %d B body", w.Body.Len())
				}
				if w.Header().Get("ETag") == "" || w.Header().Get("Cache-Control") == "" {
					t.Errorf("304 lacks ETag or Cache-Control: %v", w.Header())
				}
			}
		})
	}
}

func TestServeAssetRefuses(t *testing.T) {
	f := newFiles(t)
	tests := []struct {
		name   string
		method string
		file   string
		status int
	}{
		{"unknown name", http.MethodGet, "core.0000000000.js", http.StatusNotFound},
		{"unhashed name", http.MethodGet, "core.js", http.StatusNotFound},
		{"replayer is not served", http.MethodGet, "replay.js", http.StatusNotFound},
		{"post", http.MethodPost, f.CoreName(), http.StatusMethodNotAllowed},
		{"head", http.MethodHead, f.RecorderName(), http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := func(w http.ResponseWriter, r *http.Request) { f.ServeAsset(w, r, tc.file) }
			w := get(t, h, tc.method, nil)
			if w.Code != tc.status {
				t.Fatalf("status = %d, want %d", w.Code, tc.status)
			}
			if tc.method == http.MethodHead && w.Body.Len() != 0 {
				t.Errorf("HEAD answer carries a %d B body", w.Body.Len())
			}
		})
	}
}

func TestServeLoader(t *testing.T) {
	f := newFiles(t)
	settings := Settings{SiteKey: "k3y</script>", SampleRate: 0.25, MaskText: true, HonourDNT: true}
	serve := func(s Settings) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { f.ServeLoader(w, r, s) }
	}

	w := get(t, serve(settings), http.MethodGet, nil)
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", w.Code)
	}
	body := w.Body.String()
	for _, want := range []string{
		`"/t/` + f.CoreName() + `"`,
		`"/t/` + f.RecorderName() + `"`,
		`k="k3y\u003c/script\u003e"`,
		`sample:0.25,`,
		`maskText:true,`,
		`dnt:true}`,
		`lastIndexOf("/s/")`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("loader lacks %s:\n%s", want, body)
		}
	}
	if strings.Contains(body, "</script>") {
		t.Errorf("loader carries a raw </script>:\n%s", body)
	}
	if got := w.Header().Get("Cache-Control"); got != "max-age=60" {
		t.Errorf("Cache-Control = %q, want max-age=60", got)
	}
	etag := w.Header().Get("ETag")

	again := get(t, serve(settings), http.MethodGet, http.Header{"If-None-Match": {etag}})
	if again.Code != http.StatusNotModified || again.Body.Len() != 0 {
		t.Errorf("revalidation: status %d with %d B, want 304 and no body", again.Code, again.Body.Len())
	}

	changed := settings
	changed.SampleRate = 0.5
	other := get(t, serve(changed), http.MethodGet, http.Header{"If-None-Match": {etag}})
	if other.Code != http.StatusOK || other.Header().Get("ETag") == etag {
		t.Errorf("changed settings: status %d, ETag %s; want 200 and a new ETag",
			other.Code, other.Header().Get("ETag"))
	}
}

func TestFormatRate(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   float64
		want string
	}{
		{"zero", 0, "0"},
		{"fraction", 0.1, "0.1"},
		{"all", 1, "1"},
		{"above one", 7, "1"},
		{"negative", -0.5, "0"},
		{"not a number", math.NaN(), "0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := formatRate(tc.in); got != tc.want {
				t.Errorf("formatRate(%v) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestEtagMatch(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []string
		want  bool
	}{
		{"none", nil, false},
		{"exact", []string{`"abc"`}, true},
		{"weak", []string{`W/"abc"`}, true},
		{"list", []string{`"x", "y" , "abc"`}, true},
		{"second line", []string{`"x"`, `"abc"`}, true},
		{"comma inside a tag", []string{`"a,bc", "abc"`}, true},
		{"star", []string{`*`}, true},
		{"other", []string{`"abd"`}, false},
		{"unquoted", []string{`abc`}, false},
		{"unterminated", []string{`"abc`}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := etagMatch(tc.lines, `"abc"`); got != tc.want {
				t.Errorf("etagMatch(%q) = %v, want %v", tc.lines, got, tc.want)
			}
		})
	}
}

var codingPattern = regexp.MustCompile(`^(br|gzip|)$`)

func FuzzNegotiate(f *testing.F) {
	seeds := []string{"gzip, deflate, br, zstd", "br;q=0", "*;q=0.5, gzip;q=1", ";;,q=", ""}
	for _, seed := range seeds {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		got := negotiate([]string{header})
		if !codingPattern.MatchString(got) {
			t.Fatalf("negotiate(%q) = %q", header, got)
		}
		if got != "" && !strings.Contains(strings.ToLower(header), got) &&
			!strings.Contains(header, "*") {
			t.Fatalf("negotiate(%q) = %q, a coding the header does not offer", header, got)
		}
	})
}

func FuzzEtagMatch(f *testing.F) {
	for _, seed := range []string{`"a", W/"b"`, `*`, `W/`, `"`, `,,"x"`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		etagMatch([]string{header}, `"abc"`)
		if !etagMatch([]string{`"abc", ` + header}, `"abc"`) {
			t.Fatalf("a list that starts with the tag does not match: %q", header)
		}
	})
}
