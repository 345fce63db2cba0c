package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"io/fs"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"loupe.dev/loupe/internal/blob"
	"loupe.dev/loupe/internal/browsertest"
	"loupe.dev/loupe/internal/tracker"
)

// What the visitor types into the login form. No stored byte may hold any
// of it, nor a recognisable piece of it.
const (
	typedEmail    = "e2e-secret-mail@example.test"
	typedPassword = "Pa55-e2e-SECRET"
)

var secrets = []string{typedEmail, typedPassword, "e2e-secret-mail", "Pa55-e2e"}

// visit is what one browser did on the corpus pages, as the test saw it.
type visit struct {
	session string   // the tracker's session id
	urls    []string // location.href of every page view, in order
	pages   []string // the page key Loupe should give each page view
	titles  []string // the title of each page view
	hits    []hit    // every click, in order
	scroll  int64    // the page view scrolled to the bottom
}

// TestVisit browses the corpus pages on a desktop and on a phone, then reads
// the visit back from Loupe: the session and its page views, every click
// looked up again on its page, the heatmap, the replayed recording, and every
// byte Loupe stored, searched for what was typed into a login form.
func TestVisit(t *testing.T) {
	tests := []struct {
		name   string
		device browsertest.Device
		class  string // the device class Loupe should see
		// closeTab ends the visit by closing the tab; otherwise the tab
		// goes to another site.
		closeTab bool
	}{
		{"desktop", browsertest.Desktop(), "desktop", true},
		{"phone", browsertest.Phone(), "mobile", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			headline := innerText(t, "creative/index.html", `<header class="masthead"`, "</h1>")
			l := startLoupe(t)
			tracked := browsertest.ServePages(t, corpusPages, l.snippet())
			// The same pages without the snippet, to look clicked elements
			// up again without adding to the session.
			plain := browsertest.ServePages(t, corpusPages, "")
			browser := newBrowser(t, tt.device)

			v := browse(t, browser, tt.device, tracked.URL, l.site.Key, tt.closeTab)
			// The last page's scroll depth comes with its last batch.
			s := l.waitSession(t, v.session, func(s *session) bool {
				return len(s.PageViews) >= len(v.urls) && len(s.ClickEvents) >= len(v.hits) &&
					s.PageViews[len(s.PageViews)-1].MaxScroll > 0
			})

			l.waitRecording(t, v.session, func(events []recordingEvent) bool {
				return recordedVisit(events)
			})

			t.Run("session", func(t *testing.T) {
				checkSession(t, l, s, v, tt.class)
			})
			t.Run("clicks", func(t *testing.T) {
				ctx := browser.tab(t)
				checkClicks(t, ctx, s, v, plain.URL)
			})
			t.Run("heatmap", func(t *testing.T) {
				checkHeatmap(t, l, s, v, tt.class)
			})
			t.Run("replay", func(t *testing.T) {
				checkReplay(t, l, browser, v, headline)
			})
			t.Run("privacy", func(t *testing.T) {
				// Everything is on disk once the server has stopped.
				l.stop(t)
				checkStoredBytes(t, l, headline, v)
			})
		})
	}
}

// recordedVisit reports whether a recording holds what the replay of a visit
// needs: the opening (a meta event, type 4) and the full snapshot (type 2) of
// each page loaded, and the login form typed to its end.
func recordedVisit(events []recordingEvent) bool {
	loads := []string{"/creative/index.html", "/sb-admin/login.html", "/resume/index.html"}
	opened := map[string]bool{}
	snapshots := 0
	typed := map[int]bool{}
	for _, e := range events {
		var data struct {
			Href   string `json:"href"`
			Source int    `json:"source"`
			Text   string `json:"text"`
		}
		if json.Unmarshal(e.Data, &data) != nil {
			continue
		}
		switch {
		case e.Type == 4:
			for _, page := range loads {
				opened[page] = opened[page] || strings.HasSuffix(data.Href, page)
			}
		case e.Type == 2:
			snapshots++
		case e.Type == 3 && data.Source == 5:
			typed[len(data.Text)] = true
		}
	}
	for _, page := range loads {
		if !opened[page] {
			return false
		}
	}
	return snapshots == len(loads) && typed[len(typedEmail)] && typed[len(typedPassword)]
}

// browse visits the corpus pages in a new tab the way a person would: menu,
// links and a button on the landing page, a scroll to its bottom, a
// portfolio tile, a login form filled in, another page, and away.
func browse(t *testing.T, browser *chromium, dev browsertest.Device, pages, siteKey string,
	closeTab bool) *visit {
	t.Helper()
	ctx := browser.tab(t)
	host := strings.TrimPrefix(pages, "http://")
	creative := host + "/creative/index.html"
	v := &visit{}
	// seen notes a page view the test caused.
	seen := func(pageKey, title string) {
		v.urls = append(v.urls, evaluate[string](t, ctx, `location.href`))
		v.pages = append(v.pages, pageKey)
		v.titles = append(v.titles, title)
	}
	tap := func(name, expr string, fx, fy float64) {
		h := click(t, ctx, dev, name, expr, fx, fy)
		h.Page, h.PID = creative, int64(len(v.urls))
		v.hits = append(v.hits, h)
	}
	creativeTitle := pageTitle(t, "creative/index.html")

	do(t, ctx, "open the landing page", chromedp.Navigate(pages+"/creative/index.html"))
	waitPage(t, ctx, "/creative/index.html")
	seen(creative, creativeTitle)

	// On a phone the links hide behind the menu button.
	menuButton := evaluate[bool](t, ctx,
		`getComputedStyle(document.querySelector('#mainNav .navbar-toggler')).display !== 'none'`)
	if menuButton != dev.Mobile {
		t.Fatalf("menu button shown: %v, on a device with mobile %v", menuButton, dev.Mobile)
	}
	const menu = `document.querySelector('#navbarResponsive')`
	if dev.Mobile {
		tap("the menu button", `document.querySelector('#mainNav .navbar-toggler')`, 0.3, 0.7)
		waitFor(t, ctx, "the menu to open", menu+`.className.includes('show')`)
	}
	tap("the About link", `document.querySelector('#navbarResponsive a[href="#about"]')`, 0.3, 0.7)
	waitFor(t, ctx, "the About section", `location.hash === '#about'`)
	seen(creative, creativeTitle)
	if dev.Mobile {
		// The page closes the menu after a link in it was followed.
		waitFor(t, ctx, "the menu to close", `!/show|collapsing/.test(`+menu+`.className)`)
	}
	tap("the Get Started button", `document.querySelector('#about a.btn')`, 0.7, 0.3)
	waitFor(t, ctx, "the Services section", `location.hash === '#services'`)
	seen(creative, creativeTitle)

	v.scroll = int64(len(v.urls))
	bottom := evaluate[bool](t, ctx, `(async () => {
		`+stillJS+`
		await still();
		scrollTo({top: document.documentElement.scrollHeight, behavior: 'instant'});
		await still();
		return Math.ceil(scrollY + innerHeight) >= document.documentElement.scrollHeight;
	})()`)
	if !bottom {
		t.Fatal("the landing page did not scroll to its bottom")
	}

	// The second tile opens the full-size picture.
	tap("a portfolio tile", `document.querySelectorAll('#portfolio a.portfolio-box')[1]`, 0.3, 0.7)
	lightbox := openedPicture(t, ctx)
	if lightbox {
		tap("the lightbox's close button", `document.querySelector('.sl-wrapper .sl-close')`,
			0.5, 0.5)
		waitFor(t, ctx, "the lightbox to close", `!document.querySelector('.sl-wrapper')`)
	}

	do(t, ctx, "open the login page", chromedp.Navigate(pages+"/sb-admin/login.html"))
	waitPage(t, ctx, "/sb-admin/login.html")
	seen(host+"/sb-admin/login.html", pageTitle(t, "sb-admin/login.html"))
	do(t, ctx, "type the credentials",
		chromedp.SendKeys(chromedp.CSS("#inputEmail"), typedEmail),
		chromedp.SendKeys(chromedp.CSS("#inputPassword"), typedPassword))
	typed := evaluate[[]string](t, ctx,
		`[document.querySelector('#inputEmail').value, document.querySelector('#inputPassword').value]`)
	if !slices.Equal(typed, []string{typedEmail, typedPassword}) {
		t.Fatalf("the login form holds %q", typed)
	}

	// Another page, the way a script sends the visitor there.
	do(t, ctx, "go to the resume", chromedp.Evaluate[chromedp.Void](
		`location.href = new URL('../resume/index.html', location.href).href`))
	waitPage(t, ctx, "/resume/index.html")
	seen(host+"/resume/index.html", pageTitle(t, "resume/index.html"))
	v.session = sessionID(t, ctx, siteKey)

	// Leave as a browser does, so the page is hidden and the tracker sends
	// what it still holds.
	if closeTab {
		if err := chromedp.Cancel(ctx); err != nil {
			t.Fatalf("close the tab: %v", err)
		}
	} else {
		do(t, ctx, "leave for another site", chromedp.Navigate("about:blank"))
	}
	return v
}

// openedPicture waits until a portfolio tile showed its picture, either in a
// lightbox on the page or as a page of its own, and reports whether it was
// the lightbox.
func openedPicture(t *testing.T, ctx context.Context) bool {
	t.Helper()
	var lightbox bool
	poll(t, "the portfolio picture", 20*time.Second, func() (bool, string) {
		state, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
			if (location.pathname.endsWith('.jpg')) return 'page';
			const box = document.querySelector('.sl-wrapper .sl-image img');
			return box && box.complete ? 'lightbox' : location.href;
		})()`))
		if err != nil {
			return false, err.Error()
		}
		lightbox = state == "lightbox"
		return state == "page" || lightbox, state
	})
	return lightbox
}

// checkSession compares the session Loupe stored with the visit.
func checkSession(t *testing.T, l *loupe, s *session, v *visit, class string) {
	if s.Device != class {
		t.Errorf("device %q, want %q", s.Device, class)
	}
	if s.Browser != "Chrome" {
		t.Errorf("browser %q, want Chrome", s.Browser)
	}
	if !s.HasRecording {
		t.Error("the session has no recording")
	}
	if s.ID != v.session || s.Clicks != len(v.hits) || s.DeadClicks != 0 {
		t.Errorf("session %s with %d clicks, %d dead; want %s with %d, none dead", s.ID,
			s.Clicks, s.DeadClicks, v.session, len(v.hits))
	}
	if s.Pages != len(v.urls) || len(s.PageViews) != len(v.urls) {
		t.Errorf("%d pages and %d page views, want %d", s.Pages, len(s.PageViews), len(v.urls))
	}
	for i, p := range s.PageViews {
		if i >= len(v.urls) {
			t.Errorf("page view %d (%s) was never visited", p.PID, p.URL)
			continue
		}
		if p.PID != int64(i+1) || p.URL != v.urls[i] || p.Page != v.pages[i] ||
			p.Title != v.titles[i] {
			t.Errorf("page view %d: pid %d, %s, page %s, title %q;\nwant pid %d, %s, page %s, "+
				"title %q", i+1, p.PID, p.URL, p.Page, p.Title, i+1, v.urls[i], v.pages[i],
				v.titles[i])
		}
		if p.PID == v.scroll && p.MaxScroll != 100 {
			t.Errorf("page view %d was scrolled to its bottom; max_scroll %d, want 100",
				p.PID, p.MaxScroll)
		}
	}
	if s.EntryPage != v.pages[0] || s.ExitPage != v.pages[len(v.pages)-1] {
		t.Errorf("entry %s and exit %s, want %s and %s", s.EntryPage, s.ExitPage, v.pages[0],
			v.pages[len(v.pages)-1])
	}

	var stats struct {
		Visitors  int64 `json:"visitors"`
		Sessions  int64 `json:"sessions"`
		PageViews int64 `json:"page_views"`
		Devices   []struct {
			Name  string `json:"name"`
			Count int64  `json:"count"`
		} `json:"devices"`
	}
	l.getJSON(t, "/api/v1/sites/"+l.site.Key+"/stats", &stats)
	if stats.Visitors != 1 || stats.Sessions != 1 || stats.PageViews != int64(len(v.urls)) ||
		len(stats.Devices) != 1 || stats.Devices[0].Name != class || stats.Devices[0].Count != 1 {
		t.Errorf("stats = %+v; want 1 visitor, 1 session, %d page views, 1 %s", stats,
			len(v.urls), class)
	}
}

// checkClicks looks every stored click up again on the page it was made on:
// its selector must name the element hit, or an element holding it, and its
// offsets must be where the pointer landed in that element.
func checkClicks(t *testing.T, ctx context.Context, s *session, v *visit, plainPages string) {
	if len(s.ClickEvents) != len(v.hits) {
		t.Errorf("%d clicks stored, want %d: %+v", len(s.ClickEvents), len(v.hits), s.ClickEvents)
	}
	loaded := ""
	for i, c := range s.ClickEvents {
		if i >= len(v.hits) {
			break
		}
		h := v.hits[i]
		if c.PID != h.PID || c.Page != h.Page {
			t.Errorf("click on %s: page view %d of %s, want %d of %s", h.Name, c.PID, c.Page,
				h.PID, h.Page)
		}
		if c.Dead {
			t.Errorf("click on %s is dead; it changed the page", h.Name)
		}
		// A phone scrolls by device pixels, a third of a CSS pixel.
		if math.Abs(c.X-h.PX) > 1 || math.Abs(c.Y-h.PY) > 1 {
			t.Errorf("click on %s at %v,%v on the page, want %.1f,%.1f", h.Name, c.X, c.Y,
				h.PX, h.PY)
		}
		// The click filed in the heatmap is relative to the element the
		// selector names; it is the element hit when the offsets agree.
		if math.Abs(c.OffsetX-h.FX) > 0.02 || math.Abs(c.OffsetY-h.FY) > 0.02 {
			t.Errorf("click on %s (%s) at offset %.4f,%.4f, want %.4f,%.4f", h.Name, c.Selector,
				c.OffsetX, c.OffsetY, h.FX, h.FY)
		}

		// Open the page as it was clicked, from the copy without the tracker.
		u, err := url.Parse(h.URL)
		if err != nil {
			t.Fatalf("parse %s: %v", h.URL, err)
		}
		same := plainPages + u.Path
		if same != loaded {
			do(t, ctx, "open "+same, chromedp.Navigate(same))
			loaded = same
		}
		if err := resolves(t, ctx, c.Selector, h.Path); err != nil {
			t.Errorf("click on %s: selector %q: %v", h.Name, c.Selector, err)
		}
		t.Logf("click on %s: %s at %.4f,%.4f (clicked %.4f,%.4f in a <%s>)", h.Name, c.Selector,
			c.OffsetX, c.OffsetY, h.FX, h.FY, h.Tag)
	}
}

// heatCell is one element of a click heatmap.
type heatCell struct {
	Selector string  `json:"selector"`
	OffsetX  float64 `json:"offset_x"`
	OffsetY  float64 `json:"offset_y"`
	Count    int64   `json:"count"`
}

// checkHeatmap reads the landing page's click heatmap, as JSON and as a PNG.
func checkHeatmap(t *testing.T, l *loupe, s *session, v *visit, class string) {
	creative := v.pages[0]
	var heat struct {
		Page     string     `json:"page"`
		Device   string     `json:"device"`
		Total    int64      `json:"total"`
		Elements []heatCell `json:"elements"`
	}
	base := "/api/v1/sites/" + l.site.Key + "/heatmap?url=" + url.QueryEscape(creative) +
		"&type=click&device="
	l.getJSON(t, base+class, &heat)

	want := map[string]int64{}
	var clicks int64
	for i, c := range s.ClickEvents {
		if i < len(v.hits) && v.hits[i].Page == creative {
			want[c.Selector]++
			clicks++
		}
	}
	if len(want) == 0 {
		t.Fatal("no clicks on the landing page to look for")
	}
	got := map[string]int64{}
	for _, e := range heat.Elements {
		got[e.Selector] += e.Count
	}
	if heat.Page != creative || heat.Device != class || heat.Total != clicks ||
		!maps.Equal(got, want) {
		t.Errorf("heatmap of %s for %s: page %s, device %s, total %d, elements %v;\nwant %v",
			creative, class, heat.Page, heat.Device, heat.Total, got, want)
	}
	for _, h := range v.hits {
		if h.Page != creative {
			continue
		}
		found := slices.ContainsFunc(heat.Elements, func(e heatCell) bool {
			return math.Abs(e.OffsetX-h.FX) <= 0.02 && math.Abs(e.OffsetY-h.FY) <= 0.02
		})
		if !found {
			t.Errorf("no heatmap element at %.2f,%.2f for the click on %s: %+v", h.FX, h.FY,
				h.Name, heat.Elements)
		}
	}

	// The other device classes saw none of these clicks.
	for _, other := range []string{"desktop", "mobile"} {
		if other == class {
			continue
		}
		var none struct {
			Total int64 `json:"total"`
		}
		l.getJSON(t, base+other, &none)
		if none.Total != 0 {
			t.Errorf("the %s heatmap counts %d clicks made on a %s", other, none.Total, class)
		}
	}

	code, body := l.get(t, base+class+"&format=png")
	if code != http.StatusOK {
		t.Fatalf("heatmap PNG: %d %s", code, body)
	}
	img, err := png.Decode(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("decode the heatmap PNG: %v", err)
	}
	b := img.Bounds()
	painted := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if _, _, _, a := img.At(x, y).RGBA(); a > 0 {
				painted++
			}
		}
	}
	if b.Dx() == 0 || b.Dy() == 0 || painted == 0 {
		t.Errorf("heatmap PNG of %v with %d painted pixels", b, painted)
	}
	t.Logf("heatmap PNG %dx%d, %d of its pixels painted", b.Dx(), b.Dy(), painted)
}

// replayed is what the replayer showed at three moments of the recording.
type replayed struct {
	Error string
	// On the landing page, before the visitor left it.
	LandingTitle, Headline string
	HeadlineInPage         bool
	// On the login page, after the last key typed.
	LoginTitle, Email, Password string
	// At the end.
	EndTitle string
}

// checkReplay plays the session's recording in the replayer Loupe ships,
// on a page of its own, and reads what the replayer shows.
func checkReplay(t *testing.T, l *loupe, browser *chromium, v *visit, headline string) {
	code, events := l.get(t, "/api/v1/sessions/"+v.session+"/recording")
	if code != http.StatusOK {
		t.Fatalf("recording: %d %.500s", code, events)
	}
	files, err := tracker.New()
	if err != nil {
		t.Fatalf("load the tracker files: %v", err)
	}
	js, css := files.Replay()
	player := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<!doctype html><html><head><meta charset="utf-8">`+
				`<link rel="stylesheet" href="/replay.css"><script src="/replay.js"></script>`+
				`</head><body><div id="player"></div></body></html>`)
		case "/replay.js":
			w.Header().Set("Content-Type", "text/javascript")
			_, _ = w.Write(js)
		case "/replay.css":
			w.Header().Set("Content-Type", "text/css")
			_, _ = w.Write(css)
		case "/recording.json":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(events)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(player.Close)

	ctx := browser.tab(t)
	do(t, ctx, "open the player", chromedp.Navigate(player.URL+"/"))
	got := evaluate[replayed](t, ctx, `(async () => {
		const events = await (await fetch('/recording.json')).json();
		if (!events.length) return {Error: 'no events'};
		const start = events[0].timestamp;
		// A meta event (4) opens the recording of each page.
		const metas = events.filter(e => e.type === 4);
		const opened = suffix => metas.find(e => e.data.href.endsWith(suffix));
		const login = opened('/sb-admin/login.html');
		if (!opened('/creative/index.html') || !login) {
			return {Error: 'pages recorded: ' + metas.map(e => e.data.href).join(' ')};
		}
		const after = metas.find(e => e.timestamp > login.timestamp);
		const loginEnd = after ? after.timestamp : Infinity;
		const replayer = new LoupeReplay.Replayer(events, {root: document.getElementById('player')});
		const doc = () => replayer.iframe.contentDocument;
		const out = {};

		replayer.pause(login.timestamp - 1 - start);
		const h1 = doc().querySelector('header.masthead h1');
		out.LandingTitle = doc().title;
		out.Headline = h1 ? h1.textContent.trim() : '';
		out.HeadlineInPage = doc().body.textContent.includes(`+jsString(headline)+`);

		// The last key typed on the login page: an input event (3, source 5).
		const typed = events.filter(e => e.type === 3 && e.data.source === 5 &&
			e.timestamp > login.timestamp && e.timestamp < loginEnd);
		if (typed.length) {
			replayer.pause(typed[typed.length - 1].timestamp + 1 - start);
			out.LoginTitle = doc().title;
			out.Email = doc().querySelector('#inputEmail').value;
			out.Password = doc().querySelector('#inputPassword').value;
		}

		// The replayer applies the events before the time it pauses at, not
		// one at that very time: the last may be the last page's snapshot.
		replayer.pause(events[events.length - 1].timestamp + 1 - start);
		out.EndTitle = doc().title;
		return out;
	})()`)
	want := replayed{
		LandingTitle: v.titles[0], Headline: headline, HeadlineInPage: true,
		LoginTitle: v.titles[len(v.titles)-2],
		Email:      strings.Repeat("*", len(typedEmail)),
		Password:   strings.Repeat("*", len(typedPassword)),
		EndTitle:   v.titles[len(v.titles)-1],
	}
	if got != want {
		t.Errorf("replayed %+v,\nwant     %+v", got, want)
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// checkStoredBytes reads every file Loupe left in its data folder, and the
// lines it logged, for what the visitor typed. So that the search cannot
// pass by reading nothing, it also finds what the visit did record: a page
// title and a page key in the SQL store, the headline in the recording
// chunks.
func checkStoredBytes(t *testing.T, l *loupe, headline string, v *visit) {
	kept := map[string][]byte{} // what each kind of store holds, joined
	files := 0
	err := filepath.WalkDir(l.data, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		rel, _ := filepath.Rel(l.data, path)
		kind := strings.SplitN(filepath.ToSlash(rel), "/", 2)[0]
		if strings.HasPrefix(kind, "loupe.db") {
			kind = "sql"
		}
		contents := [][]byte{data}
		if kind == "blobs" {
			plain, err := blob.Decompress(data, 256<<20)
			if err != nil {
				t.Errorf("decompress blob %s: %v", rel, err)
			}
			contents = append(contents, plain)
		}
		for _, c := range contents {
			for _, secret := range secrets {
				if bytes.Contains(c, []byte(secret)) {
					t.Errorf("%s holds %q, typed into the login form", rel, secret)
				}
			}
			kept[kind] = append(kept[kind], c...)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", l.data, err)
	}
	logs := l.logs.Bytes()
	for _, secret := range secrets {
		if bytes.Contains(logs, []byte(secret)) {
			t.Errorf("the server logged %q, typed into the login form", secret)
		}
	}
	t.Logf("searched %d files (%d bytes of SQL store, %d of blobs, %d of log) and %d bytes of "+
		"log lines", files, len(kept["sql"]), len(kept["blobs"]), len(kept["log"]), len(logs))

	// The log is a work queue: a processed batch leaves it, so after the
	// visit it holds no page data to find, only its own files.
	if len(kept["log"]) == 0 {
		t.Error("no log files were read")
	}
	found := []struct {
		store, what string
	}{
		{"sql", v.titles[len(v.titles)-2]},
		{"sql", v.hits[0].Page},
		{"blobs", headline},
	}
	for _, f := range found {
		if !bytes.Contains(kept[f.store], []byte(f.what)) {
			t.Errorf("the %s files do not hold %q: the search reads nothing", f.store, f.what)
		}
	}
}
