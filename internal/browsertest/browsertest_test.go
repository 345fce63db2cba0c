package browsertest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const corpusPages = "../../../shared/corpus/pages"

func TestLocal(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want bool
	}{
		{"http://127.0.0.1:8080/i", true},
		{"https://localhost/x", true},
		{"http://[::1]:9000/", true},
		{"ws://127.0.0.1:1/socket", true},
		{"data:text/plain,hi", true},
		{"blob:http://127.0.0.1:1/0b6c", true},
		{"http://127.0.0.2/", false},
		{"http://example.com/", false},
		{"https://localhost.example.com/", false},
		{"http://10.0.0.1/", false},
		{"ftp://127.0.0.1/", false},
		{"chrome-extension://abc/x.js", false},
		{"::", false},
	} {
		t.Run(tc.url, func(t *testing.T) {
			if got := Local(tc.url); got != tc.want {
				t.Errorf("Local(%q) = %v, want %v", tc.url, got, tc.want)
			}
		})
	}
}

func TestInject(t *testing.T) {
	for _, tc := range []struct {
		name, page, want string
	}{
		{"head", "<head><title>x</title></head><body>", "<head><title>x</title>S</head><body>"},
		{"upper case", "<HEAD></HEAD>", "<HEAD>S</HEAD>"},
		{"first only", "<head></head><p></head></p>", "<head>S</head><p></head></p>"},
		{"no head", "<p>hi</p>", "S<p>hi</p>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(inject([]byte(tc.page), "S")); got != tc.want {
				t.Errorf("inject(%q) = %q, want %q", tc.page, got, tc.want)
			}
		})
	}
}

func TestServePages(t *testing.T) {
	const snippet = "<script>/*snippet*/</script>"
	srv := ServePages(t, corpusPages, snippet)

	for _, tc := range []struct {
		name, path string
		status     int
		injected   bool
		contains   string
	}{
		{"page", "/creative/index.html", 200, true, "<title>Creative"},
		{"folder", "/sb-admin/", 200, true, "<title>Dashboard"},
		{"style sheet", "/creative/css/styles.css", 200, false, "bootstrap"},
		{"missing page", "/creative/nope.html", 404, false, ""},
		{"outside the root", "/../../DESIGN.md", 404, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := http.Get(srv.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, err := io.ReadAll(res.Body)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d", res.StatusCode, tc.status)
			}
			text := string(body)
			if got := strings.Contains(text, snippet+"</head>"); got != tc.injected {
				t.Errorf("snippet before </head>: %v, want %v", got, tc.injected)
			}
			if strings.Count(text, snippet) > 1 {
				t.Errorf("snippet injected %d times", strings.Count(text, snippet))
			}
			if !strings.Contains(strings.ToLower(text), strings.ToLower(tc.contains)) {
				t.Errorf("body lacks %q", tc.contains)
			}
		})
	}
}

type identity struct {
	UA        string
	Brands    string
	Width     int
	Height    int
	Touch     int
	Webdriver bool
}

// beacon is the identity a request sent while a page goes away carried.
type beacon struct {
	UA, Brands string
}

func TestTabs(t *testing.T) {
	srv := ServePages(t, corpusPages, "")
	// The page's beacon on pagehide comes here.
	beacons := make(chan beacon, 1)
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case beacons <- beacon{r.UserAgent(), r.Header.Get("Sec-CH-UA")}:
		default:
		}
	}))
	t.Cleanup(sink.Close)

	for _, tc := range []struct {
		name   string
		dev    Device
		width  int
		mobile bool
	}{
		{"desktop", Desktop(), 1440, false},
		{"phone", Phone(), 390, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tab := NewTab(t, NewBrowser(t, tc.dev), tc.dev)
			ctx, cancel := context.WithTimeout(tab, 30*time.Second)
			defer cancel()

			if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/resume/index.html")); err != nil {
				t.Fatalf("open a local page: %v", err)
			}
			id, err := chromedp.Run(ctx, chromedp.Evaluate[identity](`({
				UA: navigator.userAgent,
				Brands: JSON.stringify(navigator.userAgentData && navigator.userAgentData.brands),
				Width: innerWidth, Height: innerHeight, Touch: navigator.maxTouchPoints,
			})`))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(id.UA+id.Brands, "Headless") {
				t.Errorf("the tab tells it is headless: %s %s", id.UA, id.Brands)
			}
			if strings.Contains(id.UA, "Mobile") != tc.mobile || (id.Touch > 0) != tc.mobile {
				t.Errorf("user agent %q with %d touch points, want mobile %v", id.UA, id.Touch, tc.mobile)
			}
			if id.Width != tc.width || id.Height != int(tc.dev.Height) {
				t.Errorf("viewport %d×%d, want %d×%d", id.Width, id.Height, tc.width, tc.dev.Height)
			}

			// A request the page sends as it goes away is the browser's, not
			// the tab's: it must tell the same user agent.
			if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`addEventListener('pagehide',
				() => navigator.sendBeacon('`+sink.URL+`/bye', 'bye'))`)); err != nil {
				t.Fatalf("listen for pagehide: %v", err)
			}
			if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
				t.Fatalf("leave the page: %v", err)
			}
			select {
			case b := <-beacons:
				if b.UA != id.UA || strings.Contains(b.Brands, "Headless") {
					t.Errorf("the beacon of pagehide says %q, brands %s; the page said %q", b.UA,
						b.Brands, id.UA)
				}
			case <-ctx.Done():
				t.Fatalf("no beacon on pagehide: %v", ctx.Err())
			}

			// A name under .invalid never resolves; the error must be the
			// interception's, which stops the request before any lookup.
			err = chromedp.Do(ctx, chromedp.Navigate("http://blocked.invalid/"))
			var load *chromedp.LoadError
			if !errors.As(err, &load) || load.ErrorText != "net::ERR_BLOCKED_BY_CLIENT" {
				t.Errorf("open a page on another host: err = %v, want net::ERR_BLOCKED_BY_CLIENT", err)
			}
		})
	}
}
