// Package browsertest drives a real Chromium from Go tests: it starts a
// headless browser with a throw-away profile that presents itself as a
// desktop or a phone, opens tabs that emulate that device, and serves web
// pages with a snippet injected.
//
// It is a library for _test.go files only. Every tab refuses any request that
// is not to a loopback address, so a test can load real pages without the
// machine reaching the internet.
package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/cdp/jsonv2"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// unavailable ends a test that lacks something it needs from the machine: a
// failure in CI, where the thing must be there, a skip elsewhere.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// Chromium returns the path of the Chromium binary: /usr/bin/chromium, or
// chromium on PATH.
func Chromium(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	p, err := exec.LookPath("chromium")
	if err != nil {
		unavailable(t, "no chromium to run browser tests with: %v", err)
	}
	return p
}

// NewBrowser starts a headless Chromium with a fresh profile for tabs that
// emulate dev, and returns its context; the browser stops when the test ends.
// Open tabs with NewTab, for the same device.
//
// The whole browser presents the user agent NewTab emulates for dev. A tab
// emulates its device through DevTools, which does not reach the requests a
// page sends while it goes away (the beacons of pagehide): without the
// browser-wide user agent those would say "HeadlessChrome", and a server that
// drops bots would drop them.
func NewBrowser(t testing.TB, dev Device) context.Context {
	t.Helper()
	path := Chromium(t)
	major := chromiumMajor(t, path)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("hide-scrollbars", true),
		// Belt and braces under the request interception of every tab: name
		// resolution fails for every host but the loopback ones, so nothing
		// the browser does on its own can reach out either.
		chromedp.Flag("host-resolver-rules",
			"MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE [::1]"),
		chromedp.Flag("user-agent", identify(dev, major).userAgent),
		chromedp.UserDataDir(t.TempDir()),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

var chromiumVersion = regexp.MustCompile(`(\d+)\.\d+\.\d+\.\d+`)

// chromiumMajor asks the Chromium at path for its major version. The browser
// is asked before it starts, since its user agent is a start-up flag.
func chromiumMajor(t testing.TB, path string) string {
	t.Helper()
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		t.Fatalf("ask %s for its version: %v", path, err)
	}
	m := chromiumVersion.FindSubmatch(out)
	if m == nil {
		t.Fatalf("no version in the answer of %s --version: %q", path, out)
	}
	return string(m[1])
}

// Device is the screen and the identity a tab presents to pages.
type Device struct {
	// Width and Height are the viewport in CSS pixels.
	Width, Height int64
	// Scale is the device pixel ratio.
	Scale float64
	// Mobile emulates a phone: mobile viewport rules, touch, and a phone's
	// user agent.
	Mobile bool
}

// Desktop is a 1440×900 laptop screen.
func Desktop() Device { return Device{Width: 1440, Height: 900, Scale: 1} }

// Phone is a 390×844 phone at three device pixels per CSS pixel.
func Phone() Device { return Device{Width: 390, Height: 844, Scale: 3, Mobile: true} }

// NewTab opens a tab in the browser of NewBrowser, emulating dev, and returns
// its context; the tab closes when the test ends. Every request to a host
// other than 127.0.0.1, localhost or [::1] fails. The user agent is the one
// of a normal desktop Chrome or of Chrome on an Android phone: never a
// headless one, which servers treat as a bot. dev should be the device the
// browser was started for: the requests a page sends while it goes away
// carry the browser's user agent, not the tab's.
func NewTab(t testing.TB, browserCtx context.Context, dev Device) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserCtx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open tab: %v", err)
	}

	// The paused requests are read raw: the typed event fails to decode when
	// a request body is binary (Chrome puts lone surrogates in postData), and
	// a request nobody answers hangs the page.
	paused, unsubscribe := chromedp.FromContext(ctx).Target.Subscribe(fetch.RequestPaused.Method)
	t.Cleanup(unsubscribe)
	go guard(t, ctx, paused)
	// Clean-ups run last first: the tab is closed, and waited for, before
	// the guard's subscription ends, so that no request of the closing page
	// waits for an answer that never comes.
	t.Cleanup(func() { _ = chromedp.Cancel(ctx) })
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{}); err != nil {
		t.Fatalf("enable request interception: %v", err)
	}

	version, err := chromedp.CallBrowser(ctx, browser.GetVersion, cdp.Empty{})
	if err != nil {
		t.Fatalf("read browser version: %v", err)
	}
	if err := emulate(ctx, dev, version.Product); err != nil {
		t.Fatalf("emulate %+v: %v", dev, err)
	}
	return ctx
}

// guard answers every paused request: loopback ones go on, the rest fail.
func guard(t testing.TB, ctx context.Context, paused <-chan jsonv2.Value) {
	for {
		var raw jsonv2.Value
		var open bool
		select {
		case <-ctx.Done():
			return
		case raw, open = <-paused:
		}
		if !open {
			// The tab is gone; its requests went with it.
			return
		}
		// encoding/json, unlike the protocol's decoder, turns a lone
		// surrogate into U+FFFD instead of failing.
		var ev struct {
			RequestID fetch.RequestID `json:"requestId"`
			Request   struct {
				URL string `json:"url"`
			} `json:"request"`
		}
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Errorf("decode %s: %v", fetch.RequestPaused.Method, err)
			continue
		}
		var err error
		if Local(ev.Request.URL) {
			_, err = chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{
				RequestID: ev.RequestID,
			})
		} else {
			_, err = chromedp.Call(ctx, fetch.FailRequest, fetch.FailRequestParams{
				RequestID:   ev.RequestID,
				ErrorReason: network.ErrorReasonBlockedByClient,
			})
		}
		if err != nil && ctx.Err() == nil {
			t.Logf("answer paused request %s: %v", ev.Request.URL, err)
		}
	}
}

// Local reports whether a request to rawURL may leave the browser: only
// requests to a loopback host may, and data: and blob: URLs, which never
// reach a network.
func Local(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	switch u.Scheme {
	case "data", "blob":
		return true
	case "http", "https", "ws", "wss":
	default:
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.Equal(net.IPv4(127, 0, 0, 1)) || ip.Equal(net.IPv6loopback))
}

var chromeVersion = regexp.MustCompile(`Chrome/(\d+)`)

// agent is what a browser tells pages about itself.
type agent struct {
	userAgent, platform string
	meta                *emulation.UserAgentMetadata
}

// identify returns what a normal Chrome of the major version tells pages on
// dev: desktop Chrome on Linux, or Chrome on an Android phone.
func identify(dev Device, major string) agent {
	id := agent{
		userAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) " +
			"Chrome/" + major + ".0.0.0 Safari/537.36",
		platform: "Linux x86_64",
		meta:     &emulation.UserAgentMetadata{Platform: "Linux", Architecture: "x86", Bitness: "64"},
	}
	if dev.Mobile {
		id.userAgent = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 " +
			"(KHTML, like Gecko) Chrome/" + major + ".0.0.0 Mobile Safari/537.36"
		id.platform = "Linux armv8l"
		id.meta = &emulation.UserAgentMetadata{
			Platform: "Android", PlatformVersion: "14.0.0", Model: "Pixel 8", Mobile: true,
		}
	}
	id.meta.Brands = []*emulation.UserAgentBrandVersion{
		{Brand: "Chromium", Version: major},
		{Brand: "Google Chrome", Version: major},
		{Brand: "Not_A Brand", Version: "24"},
	}
	return id
}

func emulate(ctx context.Context, dev Device, product string) error {
	major := "120"
	if m := chromeVersion.FindStringSubmatch(product); m != nil {
		major = m[1]
	}
	id := identify(dev, major)
	if _, err := chromedp.Call(ctx, emulation.SetUserAgentOverride,
		emulation.SetUserAgentOverrideParams{
			UserAgent: id.userAgent, Platform: id.platform, UserAgentMetadata: id.meta,
		},
	); err != nil {
		return fmt.Errorf("set user agent: %w", err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride,
		emulation.SetDeviceMetricsOverrideParams{
			Width: dev.Width, Height: dev.Height, DeviceScaleFactor: dev.Scale, Mobile: dev.Mobile,
			ScreenWidth: dev.Width, ScreenHeight: dev.Height,
		}); err != nil {
		return fmt.Errorf("set device metrics: %w", err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetTouchEmulationEnabled,
		emulation.SetTouchEmulationEnabledParams{Enabled: dev.Mobile, MaxTouchPoints: touchPoints(dev)},
	); err != nil {
		return fmt.Errorf("set touch emulation: %w", err)
	}
	return nil
}

func touchPoints(dev Device) int64 {
	if dev.Mobile {
		return 5
	}
	return 0
}

// ServePages serves the files under root on 127.0.0.1 with snippet inserted
// just before </head> of every HTML page. Answers are never cached, so a
// test sees each page as a first visit would. The server stops when the test
// ends.
func ServePages(t testing.TB, root, snippet string) *httptest.Server {
	t.Helper()
	if info, err := os.Stat(root); err != nil || !info.IsDir() {
		unavailable(t, "no pages to serve at %s: %v", root, err)
	}
	files := http.FileServer(http.Dir(root))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		name := path.Clean("/" + r.URL.Path)
		if strings.HasSuffix(r.URL.Path, "/") {
			name = path.Join(name, "index.html")
		}
		if !strings.HasSuffix(name, ".html") {
			files.ServeHTTP(w, r)
			return
		}
		page, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		// The client may be gone; nothing to tell it.
		_, _ = w.Write(inject(page, snippet))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// inject puts snippet before the first </head>, or at the start of a page
// that has none.
func inject(page []byte, snippet string) []byte {
	i := bytes.Index(bytes.ToLower(page), []byte("</head>"))
	if i < 0 {
		return append([]byte(snippet), page...)
	}
	out := make([]byte, 0, len(page)+len(snippet))
	out = append(out, page[:i]...)
	out = append(out, snippet...)
	return append(out, page[i:]...)
}
