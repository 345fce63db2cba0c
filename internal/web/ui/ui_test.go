package ui

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// built are the files build.mjs writes; the templates name them.
var built = []string{"common.js", "dash.css", "heatmap.js", "overview.js", "replay.js"}

func newAssets(t testing.TB) *Assets {
	t.Helper()
	a, err := New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a
}

func get(t testing.TB, h http.Handler, method, target string, header http.Header) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func readBody(t testing.TB, res *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return b
}

func TestNewNamesEveryBuiltFile(t *testing.T) {
	a := newAssets(t)
	if got := a.Names(); !slices.Equal(got, built) {
		t.Fatalf("Names() = %v, want %v", got, built)
	}
	pattern := regexp.MustCompile(`^/assets/([a-z]+)\.([0-9a-f]{8,16})\.(js|css)$`)
	for _, name := range built {
		url := a.URL(name)
		m := pattern.FindStringSubmatch(url)
		if m == nil {
			t.Errorf("URL(%q) = %q, want /assets/<base>.<hex>.<ext>", name, url)
			continue
		}
		if m[1]+"."+m[3] != name {
			t.Errorf("URL(%q) = %q names another file", name, url)
		}
	}
	if got := a.URL("missing.js"); got != "" {
		t.Errorf(`URL("missing.js") = %q, want ""`, got)
	}
}

func TestServeHTTP(t *testing.T) {
	a := newAssets(t)
	for _, name := range built {
		t.Run(name, func(t *testing.T) {
			want, err := dist.ReadFile("dist/" + name)
			if err != nil {
				t.Fatal(err)
			}
			res := get(t, a, http.MethodGet, a.URL(name), nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200", res.StatusCode)
			}
			if got := readBody(t, res); !bytes.Equal(got, want) {
				t.Errorf("body is %d bytes, want the %d of dist/%s", len(got), len(want), name)
			}
			wantType := "text/css; charset=utf-8"
			if strings.HasSuffix(name, ".js") {
				wantType = "text/javascript; charset=utf-8"
			}
			h := res.Header
			checks := map[string]string{
				"Content-Type":           wantType,
				"Cache-Control":          "public, max-age=31536000, immutable",
				"X-Content-Type-Options": "nosniff",
				"Vary":                   "Accept-Encoding",
				"Content-Encoding":       "",
			}
			for k, v := range checks {
				if got := h.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if etag := h.Get("ETag"); !regexp.MustCompile(`^"[0-9a-f]{12}"$`).MatchString(etag) {
				t.Errorf("ETag = %q, want a quoted hash", etag)
			}
		})
	}
}

func TestServeHTTPGzip(t *testing.T) {
	a := newAssets(t)
	for _, name := range built {
		want, _ := dist.ReadFile("dist/" + name)
		res := get(t, a, http.MethodGet, a.URL(name),
			http.Header{"Accept-Encoding": {"br;q=1.0, gzip;q=0.8"}})
		if got := res.Header.Get("Content-Encoding"); got != "gzip" {
			t.Fatalf("%s: Content-Encoding = %q, want gzip", name, got)
		}
		zipped := readBody(t, res)
		if len(zipped) >= len(want) {
			t.Errorf("%s: gzip body of %d bytes is not smaller than %d", name, len(zipped), len(want))
		}
		zr, err := gzip.NewReader(bytes.NewReader(zipped))
		if err != nil {
			t.Fatalf("%s: open gzip: %v", name, err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%s: gunzip: %v", name, err)
		}
		if !bytes.Equal(plain, want) {
			t.Errorf("%s: gunzipped body differs from dist/%s", name, name)
		}
		if etag := res.Header.Get("ETag"); !strings.HasSuffix(etag, `-gz"`) {
			t.Errorf("%s: ETag of the gzip body = %q, want one of its own", name, etag)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  bool
	}{
		{"none", nil, false},
		{"gzip", []string{"gzip, deflate, br"}, true},
		{"x-gzip", []string{"x-gzip"}, true},
		{"star", []string{"*"}, true},
		{"refused", []string{"gzip;q=0, *"}, false},
		{"star refused", []string{"*;q=0"}, false},
		{"other only", []string{"br"}, false},
		{"two lines", []string{"br", "GZIP; q=0.5"}, true},
		{"bad q skipped", []string{"gzip;q=x"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := acceptsGzip(tt.lines); got != tt.want {
				t.Errorf("acceptsGzip(%q) = %v, want %v", tt.lines, got, tt.want)
			}
		})
	}
}

func TestServeHTTPConditionalAndHead(t *testing.T) {
	a := newAssets(t)
	url := a.URL("dash.css")
	first := get(t, a, http.MethodGet, url, nil)
	etag := first.Header.Get("ETag")

	res := get(t, a, http.MethodGet, url, http.Header{"If-None-Match": {etag}})
	if res.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match %s: status %d, want 304", etag, res.StatusCode)
	}
	if n := len(readBody(t, res)); n != 0 {
		t.Errorf("304 carries %d bytes", n)
	}

	res = get(t, a, http.MethodHead, url, nil)
	if res.StatusCode != http.StatusOK {
		t.Errorf("HEAD: status %d, want 200", res.StatusCode)
	}
	if n := len(readBody(t, res)); n != 0 {
		t.Errorf("HEAD carries %d bytes", n)
	}
	if got, want := res.Header.Get("Content-Length"), first.Header.Get("Content-Length"); got != want {
		t.Errorf("HEAD Content-Length = %q, want %q", got, want)
	}

	res = get(t, a, http.MethodPost, url, nil)
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d, want 405", res.StatusCode)
	}
}

func TestServeHTTPUnknownNames(t *testing.T) {
	a := newAssets(t)
	hashed := a.URL("overview.js")
	for _, target := range []string{
		"/assets/overview.js",
		"/assets/overview.000000000000.js",
		strings.Replace(hashed, "overview", "replay", 1),
		hashed + ".map",
		"/assets/",
		"/assets/../ui.go",
		"/overview.js",
	} {
		if res := get(t, a, http.MethodGet, target, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", target, res.StatusCode)
		}
	}
}

func TestServeHTTPBehindStripPrefix(t *testing.T) {
	a := newAssets(t)
	url := a.URL("common.js")
	for _, prefix := range []string{"/assets", "/assets/"} {
		h := http.StripPrefix(prefix, a)
		if res := get(t, h, http.MethodGet, url, nil); res.StatusCode != http.StatusOK {
			t.Errorf("behind StripPrefix(%q): GET %s: status %d, want 200", prefix, url, res.StatusCode)
		}
	}
}

// TestNewFSFollowsContent checks that a rebuild gets new names, so a
// browser holding the old file for a year never uses it with a new page.
func TestNewFSFollowsContent(t *testing.T) {
	one, err := NewFS(fstest.MapFS{"app.js": {Data: []byte("one()")}})
	if err != nil {
		t.Fatal(err)
	}
	two, err := NewFS(fstest.MapFS{"app.js": {Data: []byte("two()")}})
	if err != nil {
		t.Fatal(err)
	}
	if one.URL("app.js") == two.URL("app.js") {
		t.Fatalf("both builds are served as %s", one.URL("app.js"))
	}
	if res := get(t, two, http.MethodGet, one.URL("app.js"), nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("the old name: status %d, want 404", res.StatusCode)
	}
	// Too small to gain from gzip: served as it is, and says nothing of
	// encodings.
	res := get(t, two, http.MethodGet, two.URL("app.js"), http.Header{"Accept-Encoding": {"gzip"}})
	if got := string(readBody(t, res)); got != "two()" || res.Header.Get("Content-Encoding") != "" {
		t.Errorf("tiny file: body %q, Content-Encoding %q", got, res.Header.Get("Content-Encoding"))
	}
	if _, err := NewFS(fstest.MapFS{}); err == nil {
		t.Error("NewFS of an empty dist: no error")
	}
}

// Size budgets, gzipped: the dashboard loads common.js and dash.css on every
// page and one page script; going past a budget should be a decision.
var budgets = map[string]int{
	"common.js":   3 << 10,
	"dash.css":    10 << 10,
	"overview.js": 30 << 10,
	"heatmap.js":  36 << 10,
	"replay.js":   72 << 10,
}

func TestSizeBudgets(t *testing.T) {
	a := newAssets(t)
	for _, name := range built {
		f := a.byName[name]
		size := len(f.identity)
		if f.gzip != nil {
			size = len(f.gzip)
		}
		t.Logf("%-12s %7d B, %6d B gzipped", name, len(f.identity), size)
		if size > budgets[name] {
			t.Errorf("%s is %d bytes gzipped, over its budget of %d", name, size, budgets[name])
		}
	}
}

// TestStyleSheetIsSelfContained checks that dash.css loads nothing from
// anywhere: no web fonts, no imports, no URLs but data: ones.
func TestStyleSheetIsSelfContained(t *testing.T) {
	css, err := dist.ReadFile("dist/dash.css")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"@import", "@font-face", "http:", "https:"} {
		if bytes.Contains(css, []byte(bad)) {
			t.Errorf("dash.css contains %q", bad)
		}
	}
	for _, m := range regexp.MustCompile(`url\(\s*['"]?([^'")]{0,16})`).FindAllSubmatch(css, -1) {
		if !bytes.HasPrefix(m[1], []byte("data:")) {
			t.Errorf("dash.css refers to url(%s…)", m[1])
		}
	}
}
