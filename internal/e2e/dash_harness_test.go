package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"loupe.dev/loupe/internal/browsertest"
)

// The elements of the landing page the fed visits click, as JavaScript
// expressions. The button is clicked most, the headline by the rage click,
// the paragraph once.
const (
	mostClicked  = `document.querySelector('header.masthead a.btn')`
	rageClicked  = `document.querySelector('header.masthead h1')`
	onceClicked  = `document.querySelector('header.masthead p')`
	menuButton   = `document.querySelector('#mainNav .navbar-toggler')`
	landingPage  = "creative/index.html"
	secondPage   = "resume/index.html"
	otherSiteApp = "todomvc/index.html"
)

// fedSession is one visit the test made, and what Loupe should have of it.
type fedSession struct {
	name   string
	id     string
	device string   // the device class Loupe should see
	clicks int      // clicks made
	rage   bool     // whether it holds a rage click
	pages  []string // the page keys visited, in order, without repeats
}

// fedSite is what the test fed one Loupe site with, through the tracker in
// Chromium.
type fedSite struct {
	pagesURL string // where the tracked corpus pages are served
	landing  string // the page key of the landing page
	second   string // the page key of the second page
	sessions []*fedSession
	// The visits by role.
	replay, secondVisit, rage, phone *fedSession
}

// ids returns the sorted ids of the fed sessions pick accepts.
func (f *fedSite) ids(pick func(*fedSession) bool) []string {
	var out []string
	for _, s := range f.sessions {
		if pick(s) {
			out = append(out, s.id)
		}
	}
	slices.Sort(out)
	return out
}

// feedSite makes the visits the dashboard test reads back: three desktop
// visits to the landing page that click its button five times in all and its
// paragraph once, one of which goes on to a second page; a desktop visit
// with a rage click on the headline; and a visit on a phone.
func feedSite(t *testing.T, l *loupe, desktop, phone *chromium) *fedSite {
	t.Helper()
	pages := browsertest.ServePages(t, corpusPages, l.snippet())
	host := strings.TrimPrefix(pages.URL, "http://")
	f := &fedSite{pagesURL: pages.URL, landing: host + "/" + landingPage,
		second: host + "/" + secondPage}

	visit := func(name string, b *chromium, dev browsertest.Device, act func(context.Context,
		*fedSession)) *fedSession {
		s := &fedSession{name: name, device: "desktop", pages: []string{f.landing}}
		if dev.Mobile {
			s.device = "mobile"
		}
		ctx := b.tab(t)
		do(t, ctx, "open the landing page for "+name, chromedp.Navigate(pages.URL+"/"+landingPage))
		waitPage(t, ctx, "/"+landingPage)
		act(ctx, s)
		s.id = sessionID(t, ctx, l.site.Key)
		// Leaving sends what the tracker still holds.
		do(t, ctx, "leave after "+name, chromedp.Navigate("about:blank"))
		f.sessions = append(f.sessions, s)
		return s
	}
	tap := func(ctx context.Context, s *fedSession, dev browsertest.Device, what, expr string) {
		click(t, ctx, dev, what, expr, 0.5, 0.5)
		s.clicks++
	}
	dev := browsertest.Desktop()

	f.replay = visit("desktop visit 1", desktop, dev, func(ctx context.Context, s *fedSession) {
		tap(ctx, s, dev, "the button", mostClicked)
		waitFor(t, ctx, "the About section", `location.hash === '#about'`)
		tap(ctx, s, dev, "the button again", mostClicked)
	})
	visit("desktop visit 2", desktop, dev, func(ctx context.Context, s *fedSession) {
		tap(ctx, s, dev, "the button", mostClicked)
		waitFor(t, ctx, "the About section", `location.hash === '#about'`)
		tap(ctx, s, dev, "the button again", mostClicked)
	})
	f.secondVisit = visit("desktop visit 3", desktop, dev, func(ctx context.Context,
		s *fedSession) {
		tap(ctx, s, dev, "the paragraph", onceClicked)
		tap(ctx, s, dev, "the button", mostClicked)
		waitFor(t, ctx, "the About section", `location.hash === '#about'`)
		do(t, ctx, "open the second page", chromedp.Navigate(pages.URL+"/"+secondPage))
		waitPage(t, ctx, "/"+secondPage)
		s.pages = append(s.pages, f.second)
	})
	f.rage = visit("rage visit", desktop, dev, func(ctx context.Context, s *fedSession) {
		h := aim(t, ctx, "the headline", rageClicked, 0.5, 0.5)
		// Three clicks on one spot as fast as input goes: well within the
		// second and the 30 pixels of a rage click.
		do(t, ctx, "rage-click the headline", chromedp.MouseClickXY(h.X, h.Y),
			chromedp.MouseClickXY(h.X, h.Y), chromedp.MouseClickXY(h.X, h.Y))
		s.clicks += 3
		s.rage = true
	})
	f.phone = visit("phone visit", phone, browsertest.Phone(), func(ctx context.Context,
		s *fedSession) {
		tap(ctx, s, browsertest.Phone(), "the menu button", menuButton)
		waitFor(t, ctx, "the menu to open",
			`document.querySelector('#navbarResponsive').className.includes('show')`)
	})
	return f
}

// dashSession is the API's detail of a session, with the fields the
// dashboard test reads.
type dashSession struct {
	ID           string `json:"id"`
	Device       string `json:"device"`
	Clicks       int    `json:"clicks"`
	RageClicks   int    `json:"rage_clicks"`
	HasRecording bool   `json:"has_recording"`
	PageViews    []struct {
		Page string `json:"page"`
	} `json:"page_views"`
	ClickEvents []struct {
		Page     string  `json:"page"`
		Selector string  `json:"selector"`
		OffsetX  float64 `json:"offset_x"`
		OffsetY  float64 `json:"offset_y"`
		X        float64 `json:"x"`
		Y        float64 `json:"y"`
		Rage     bool    `json:"rage"`
	} `json:"click_events"`
}

// pages returns the page keys the session visited, in order, without
// repeats in a row (anchor links on one page are page views of one key).
func (s *dashSession) pages() []string {
	var out []string
	for _, p := range s.PageViews {
		if len(out) == 0 || out[len(out)-1] != p.Page {
			out = append(out, p.Page)
		}
	}
	return out
}

// waitFed waits until Loupe holds every fed session whole: its clicks, its
// pages, and a recording that opens with a full snapshot. It returns the
// sessions as the API shows them, by id.
func waitFed(t *testing.T, l *loupe, f *fedSite) map[string]*dashSession {
	t.Helper()
	got := map[string]*dashSession{}
	for _, want := range f.sessions {
		var s dashSession
		poll(t, "the whole of the "+want.name+" ("+want.id+")", processWait,
			func() (bool, string) {
				code, body := l.get(t, "/api/v1/sessions/"+want.id)
				if code != http.StatusOK {
					return false, fmt.Sprintf("%d %s", code, body)
				}
				s = dashSession{}
				if err := json.Unmarshal(body, &s); err != nil {
					return false, err.Error()
				}
				done := s.Clicks >= want.clicks && s.HasRecording &&
					len(s.pages()) >= len(want.pages) && (s.RageClicks > 0) == want.rage
				return done, string(body)
			})
		if s.Device != want.device || s.Clicks != want.clicks ||
			!slices.Equal(s.pages(), want.pages) {
			t.Errorf("%s: device %s, %d clicks, pages %q; want %s, %d, %q", want.name,
				s.Device, s.Clicks, s.pages(), want.device, want.clicks, want.pages)
		}
		l.waitRecording(t, want.id, func(events []recordingEvent) bool {
			return slices.ContainsFunc(events, func(e recordingEvent) bool { return e.Type == 4 }) &&
				slices.ContainsFunc(events, func(e recordingEvent) bool { return e.Type == 2 })
		})
		got[want.id] = &s
	}
	return got
}

var setupPattern = regexp.MustCompile(`setup_url="?([^"\s]+)`)

// setupURL reads the one-time setup link the server logged on its first
// start.
func setupURL(t testing.TB, l *loupe) string {
	t.Helper()
	m := setupPattern.FindSubmatch(l.logs.Bytes())
	if m == nil {
		t.Fatalf("the server logged no setup_url; its log:\n%.3000s", l.logs.Bytes())
	}
	return string(m[1])
}

// openPage loads a dashboard page in the tab and waits until it is loaded.
func openPage(t testing.TB, ctx context.Context, rawURL string) {
	t.Helper()
	do(t, ctx, "open "+rawURL, chromedp.Navigate(rawURL))
	waitLoaded(t, ctx, rawURL)
}

// waitLoaded waits until the tab holds a document that is fully loaded and
// does not carry the mark submitAndWait leaves on the page it leaves.
func waitLoaded(t testing.TB, ctx context.Context, what string) {
	t.Helper()
	poll(t, "the page "+what+" to load", 30*time.Second, func() (bool, string) {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
			`document.readyState === 'complete' && !window.__loupeTestLeft`))
		if err != nil {
			return false, err.Error()
		}
		href, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href`))
		return ok, href
	})
}

// typeInto replaces the value of the field the CSS selector names with
// text typed key by key.
func typeInto(t testing.TB, ctx context.Context, selector, text string) {
	t.Helper()
	evaluate[bool](t, ctx, fmt.Sprintf(`(() => {
		const el = document.querySelector(%s);
		if (el) el.value = '';
		return !!el;
	})()`, jsString(selector)))
	do(t, ctx, "type into "+selector, chromedp.SendKeys(chromedp.CSS(selector), text))
}

// submitAndWait clicks a form's submit button with the mouse and waits for
// the page the browser is sent to.
func submitAndWait(t testing.TB, ctx context.Context, what, button string) {
	t.Helper()
	evaluate[bool](t, ctx, `window.__loupeTestLeft = true`)
	click(t, ctx, browsertest.Desktop(), what, button, 0.5, 0.5)
	waitLoaded(t, ctx, "after "+what)
}

// tabPath returns the tab's location without its origin.
func tabPath(t testing.TB, ctx context.Context) string {
	t.Helper()
	return evaluate[string](t, ctx, `location.pathname + location.search`)
}

// navigationStatus returns the HTTP status of the response that made the
// tab's document.
func navigationStatus(t testing.TB, ctx context.Context) int {
	t.Helper()
	return evaluate[int](t, ctx, `performance.getEntriesByType('navigation')[0].responseStatus`)
}

// fetchStatus requests a path from the tab's page, with its cookies, and
// returns the status, following no redirect.
func fetchStatus(t testing.TB, ctx context.Context, method, path string, form url.Values) int {
	t.Helper()
	body := "undefined"
	if form != nil {
		body = "new URLSearchParams(" + jsString(form.Encode()) + ")"
	}
	return evaluate[int](t, ctx, fmt.Sprintf(
		`fetch(%s, {method: %s, body: %s, redirect: 'manual'}).then(r => r.status)`,
		jsString(path), jsString(method), body))
}

// fetchJSON reads an API path from the tab's page, with its cookies, into v.
func fetchJSON(t testing.TB, ctx context.Context, path string, v any) {
	t.Helper()
	raw := evaluate[string](t, ctx, fmt.Sprintf(`fetch(%s).then(async r =>
		r.ok ? r.text() : 'HTTP ' + r.status + ' ' + await r.text())`, jsString(path)))
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		t.Fatalf("GET %s from the page: %.300s: %v", path, raw, err)
	}
}

// cookie returns the value of a cookie the browser holds for base, or "".
func cookie(t testing.TB, ctx context.Context, base, name string) string {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base}})
	if err != nil {
		t.Fatalf("read the browser's cookies: %v", err)
	}
	for _, c := range res.Cookies {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// postForm posts a form from Go with the browser's login cookie, as a
// forged request would, and returns the status.
func postForm(t testing.TB, base, path, login string, form url.Values) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatalf("build POST %s: %v", path, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "loupe_session", Value: login})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// screenshotDir is where the dashboard test writes its screenshots: the
// folder LOUPE_SCREENSHOTS names, or screenshots/ at the top of the
// repository.
func screenshotDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("LOUPE_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "screenshots")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatalf("screenshot folder: %v", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("make the screenshot folder: %v", err)
	}
	return dir
}

// screenshot writes the whole page of the tab, beyond the viewport, as a PNG
// at one image pixel per CSS pixel, and checks that the image is as wide as
// the device: a page wider than its screen shows as a wider image.
func screenshot(t testing.TB, ctx context.Context, dev browsertest.Device, file string) {
	t.Helper()
	metrics, err := chromedp.Call(ctx, page.GetLayoutMetrics, cdp.Empty{})
	if err != nil {
		t.Fatalf("measure the page for %s: %v", file, err)
	}
	size := metrics.CSSContentSize
	capture := true
	shot, err := chromedp.Call(ctx, page.CaptureScreenshot, page.CaptureScreenshotParams{
		Format: page.CaptureScreenshotFormatPng, CaptureBeyondViewport: &capture,
		FromSurface: &capture,
		Clip:        &page.Viewport{Width: size.Width, Height: size.Height, Scale: 1 / dev.Scale},
	})
	if err != nil {
		t.Fatalf("screenshot %s: %v", file, err)
	}
	if err := os.WriteFile(file, shot.Data, 0o644); err != nil {
		t.Fatalf("write %s: %v", file, err)
	}
	img, err := png.Decode(bytes.NewReader(shot.Data))
	if err != nil {
		t.Fatalf("%s is not a PNG: %v", file, err)
	}
	b := img.Bounds()
	if int64(b.Dx()) != dev.Width || b.Dy() < int(dev.Height)/2 {
		t.Errorf("%s is %dx%d; want %d wide and a page tall", file, b.Dx(), b.Dy(), dev.Width)
	}
	t.Logf("wrote %s, %dx%d, %d bytes", file, b.Dx(), b.Dy(), len(shot.Data))
}
