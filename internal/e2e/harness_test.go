package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"loupe.dev/loupe/internal/browsertest"
	"loupe.dev/loupe/internal/config"
	"loupe.dev/loupe/internal/server"
	"loupe.dev/loupe/internal/store"
)

// corpusPages is the shared corpus of real web pages, seen from this folder.
const corpusPages = "../../../shared/corpus/pages"

// processWait bounds how long a test waits for Loupe to show what the browser
// sent. Batches go out every five seconds and on page hide, and this machine
// is slow and shared; the wait ends as soon as the data is there.
const processWait = 30 * time.Second

// missing ends a test that lacks something the machine should provide: a
// failure in CI, where it must be there, a skip elsewhere.
func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// corpusFile reads a file of the page corpus, or ends the test when the
// corpus is not there.
func corpusFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpusPages, filepath.FromSlash(name)))
	if err != nil {
		missing(t, "read the page corpus: %v", err)
	}
	return b
}

var (
	titlePattern = regexp.MustCompile(`(?s)<title>(.*?)</title>`)
	tagPattern   = regexp.MustCompile(`<[^>]*>`)
	spacePattern = regexp.MustCompile(`\s+`)
)

// pageTitle returns the <title> of a corpus page as its file has it.
func pageTitle(t testing.TB, name string) string {
	t.Helper()
	m := titlePattern.FindSubmatch(corpusFile(t, name))
	if m == nil {
		t.Fatalf("%s has no <title>", name)
	}
	return strings.TrimSpace(string(m[1]))
}

// innerText returns the text of the first element that opens with open and
// closes with close in a corpus page, tags dropped and spaces collapsed.
func innerText(t testing.TB, name, open, close string) string {
	t.Helper()
	page := string(corpusFile(t, name))
	_, rest, ok := strings.Cut(page, open)
	if !ok {
		t.Fatalf("%s has no %s", name, open)
	}
	_, rest, _ = strings.Cut(rest, ">")
	inner, _, ok := strings.Cut(rest, close)
	if !ok {
		t.Fatalf("%s: %s is not closed by %s", name, open, close)
	}
	text := tagPattern.ReplaceAllString(inner, " ")
	return strings.TrimSpace(spacePattern.ReplaceAllString(text, " "))
}

// lockedBuffer is the server's log output, written by many goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// loupe is a complete Loupe running in the test process, with one site on
// 127.0.0.1 and an API token for it.
type loupe struct {
	url   string // base URL, http://127.0.0.1:port
	data  string // the data folder
	site  *store.Site
	token string
	logs  *lockedBuffer // every line the server logged

	stopOnce sync.Once
	cancel   context.CancelFunc
	done     chan error
}

// startLoupe starts every role of Loupe on 127.0.0.1 with a fresh data folder
// and adds a site for pages on 127.0.0.1 (any port), recording every session.
// The server stops when the test ends, or earlier through stop.
func startLoupe(t testing.TB) *loupe {
	t.Helper()
	cfg := config.Default()
	cfg.Data = t.TempDir()
	cfg.Addr = "127.0.0.1:0"
	cfg.SiteRefresh = 100 * time.Millisecond

	l := &loupe{data: cfg.Data, logs: &lockedBuffer{}, done: make(chan error, 1)}
	var out io.Writer = l.logs
	if os.Getenv("LOUPE_TEST_LOG") != "" {
		out = io.MultiWriter(l.logs, os.Stderr)
	}
	logger := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	ready := make(chan string, 1)
	go func() { l.done <- server.Run(ctx, cfg, logger, "e2e", ready) }()
	select {
	case addr := <-ready:
		l.url = "http://" + addr
	case err := <-l.done:
		cancel()
		t.Fatalf("start loupe: %v", err)
	}
	t.Cleanup(func() { l.stop(t) })

	// The site and token are added through a second store on the same file,
	// as the command line does while a server runs.
	st, err := store.OpenSQLite(context.Background(), cfg.SQLitePath())
	if err != nil {
		t.Fatalf("open the store: %v", err)
	}
	defer st.Close()
	l.site = &store.Site{Domains: []string{"127.0.0.1"}, Timezone: "UTC", SampleRate: 1}
	if err := st.CreateSite(context.Background(), l.site); err != nil {
		t.Fatalf("create the site: %v", err)
	}
	if l.token, err = st.CreateToken(context.Background(), "e2e", []int64{l.site.ID}); err != nil {
		t.Fatalf("create a token: %v", err)
	}

	// The server learns of new sites on its refresh; the loader answers once
	// it has.
	poll(t, "the server to serve the new site's loader", 15*time.Second, func() (bool, string) {
		resp, err := http.Get(l.url + "/s/" + l.site.Key + ".js")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
	return l
}

// stop ends the server and waits until it has flushed and closed its
// stores. It may be called more than once.
func (l *loupe) stop(t testing.TB) {
	t.Helper()
	l.stopOnce.Do(func() {
		l.cancel()
		select {
		case err := <-l.done:
			if err != nil {
				t.Errorf("loupe stopped with %v", err)
			}
		case <-time.After(60 * time.Second):
			t.Errorf("loupe did not stop within a minute")
		}
	})
}

// snippet is the tag a site owner pastes, in the form `loupe sites add`
// prints it.
func (l *loupe) snippet() string {
	return `<script>window.loupe=window.loupe||function(){(loupe.q=loupe.q||[]).push(arguments)}</script>
<script async src="` + l.url + `/s/` + l.site.Key + `.js"></script>`
}

// get reads an API path with the site's token and returns the status and
// the body.
func (l *loupe) get(t testing.TB, path string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, l.url+path, nil)
	if err != nil {
		t.Fatalf("build request for %s: %v", path, err)
	}
	req.Header.Set("Authorization", "Bearer "+l.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", path, err)
	}
	return resp.StatusCode, body
}

// getJSON reads an API path into v and fails the test on any answer but 200.
func (l *loupe) getJSON(t testing.TB, path string, v any) {
	t.Helper()
	code, body := l.get(t, path)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, code, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: decode %.200s: %v", path, body, err)
	}
}

// session is the API's detail of one session.
type session struct {
	ID           string `json:"id"`
	Pages        int    `json:"pages"`
	EntryPage    string `json:"entry_page"`
	ExitPage     string `json:"exit_page"`
	Device       string `json:"device"`
	Browser      string `json:"browser"`
	Clicks       int    `json:"clicks"`
	DeadClicks   int    `json:"dead_clicks"`
	HasRecording bool   `json:"has_recording"`
	PageViews    []struct {
		PID       int64  `json:"pid"`
		URL       string `json:"url"`
		Page      string `json:"page"`
		Title     string `json:"title"`
		MaxScroll int    `json:"max_scroll"`
	} `json:"page_views"`
	ClickEvents []struct {
		PID      int64   `json:"pid"`
		Page     string  `json:"page"`
		Selector string  `json:"selector"`
		OffsetX  float64 `json:"offset_x"`
		OffsetY  float64 `json:"offset_y"`
		X        float64 `json:"x"`
		Y        float64 `json:"y"`
		Dead     bool    `json:"dead"`
	} `json:"click_events"`
}

// waitSession reads a session from the API until done accepts it: the
// processor works behind the log, so what the browser sent shows up a little
// later. When the session exists but never satisfies done, the test goes on
// with what Loupe has, so that every check reports what is wrong.
func (l *loupe) waitSession(t testing.TB, id string, done func(*session) bool) *session {
	t.Helper()
	var last *session
	var state string
	deadline := time.Now().Add(processWait)
	for time.Now().Before(deadline) {
		code, body := l.get(t, "/api/v1/sessions/"+id)
		state = fmt.Sprintf("%d %s", code, body)
		if code == http.StatusOK {
			s := new(session)
			if err := json.Unmarshal(body, s); err != nil {
				t.Fatalf("decode session %s: %v", body, err)
			}
			if last = s; done(s) {
				return s
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if last == nil {
		t.Fatalf("session %s never showed up in %v: %.500s", id, processWait, state)
	}
	t.Errorf("session %s is not complete after %v; going on with %.3000s", id, processWait, state)
	return last
}

// recordingEvent is one rrweb event of a session's recording, as the API
// returns it.
type recordingEvent struct {
	Type      int             `json:"type"`
	Timestamp int64           `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// waitRecording reads a session's recording from the API until done accepts
// it, and returns it raw. Analytics events and the recording travel in
// batches of their own, which Loupe may take in any order: a session can show
// its page views before the recording of the same moments is in.
func (l *loupe) waitRecording(t testing.TB, id string,
	done func([]recordingEvent) bool) []byte {
	t.Helper()
	var raw []byte
	poll(t, "the recording of session "+id, processWait, func() (bool, string) {
		code, body := l.get(t, "/api/v1/sessions/"+id+"/recording")
		var events []recordingEvent
		if code != http.StatusOK || json.Unmarshal(body, &events) != nil {
			return false, fmt.Sprintf("%d %s", code, body)
		}
		raw = body
		kinds := map[int]int{}
		for _, e := range events {
			kinds[e.Type]++
		}
		return done(events), fmt.Sprintf("%d events by type %v", len(events), kinds)
	})
	return raw
}

// poll calls check until it reports success, failing the test with the last
// state check described when timeout passes first.
func poll(t testing.TB, what string, timeout time.Duration, check func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := check()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s; last state: %.2000s", timeout, what, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// chromium is a browser started for one device.
type chromium struct {
	ctx context.Context
	dev browsertest.Device
}

// newBrowser starts a headless Chromium for tabs that emulate dev; the
// requests its pages send as they go away tell the same user agent.
func newBrowser(t testing.TB, dev browsertest.Device) *chromium {
	t.Helper()
	return &chromium{ctx: browsertest.NewBrowser(t, dev), dev: dev}
}

// tab opens a browser tab emulating the browser's device, with a deadline so
// that a hung page fails the test instead of stalling it.
func (b *chromium) tab(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(browsertest.NewTab(t, b.ctx, b.dev), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// do runs browser actions and fails the test on an error.
func do(t testing.TB, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// evaluate runs a JavaScript expression in the page, awaiting a promise, and
// returns its value.
func evaluate[T any](t testing.TB, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %.300s: %v", js, err)
	}
	return v
}

// waitPage waits until the tab shows a page whose URL ends with suffix,
// fully loaded, with the tracker and its recorder running. It asks from Go
// so that it outlives the navigation it waits for.
func waitPage(t testing.TB, ctx context.Context, suffix string) {
	t.Helper()
	js := fmt.Sprintf(`location.href.endsWith(%q) && document.readyState === 'complete' &&
		!!window.__loupeCore && !!window.__loupeRecord`, suffix)
	poll(t, "the page "+suffix+" with the tracker", 30*time.Second, func() (bool, string) {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		if err != nil {
			// The page is between documents.
			return false, err.Error()
		}
		href, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href`))
		return ok, href
	})
}

// waitFor waits until a JavaScript condition holds in the page.
func waitFor(t testing.TB, ctx context.Context, what, cond string) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond,
		chromedp.WithPollingInterval(20*time.Millisecond),
		chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		t.Fatalf("wait for %s (%s): %v", what, cond, err)
	}
}

// sessionID reads the id of the tab's Loupe session from session storage,
// where the tracker keeps it.
func sessionID(t testing.TB, ctx context.Context, siteKey string) string {
	t.Helper()
	id := evaluate[string](t, ctx, fmt.Sprintf(
		`(JSON.parse(sessionStorage.getItem(%q) || '{}').id || '')`, "loupe:"+siteKey+":s"))
	if len(id) != 16 {
		t.Fatalf("no Loupe session in the tab's storage: %q", id)
	}
	return id
}

// hit is one click the test made: where, on what, and how far into it.
type hit struct {
	Name string
	// X and Y are the point clicked, in viewport pixels; PX and PY the same
	// point on the page.
	X, Y, PX, PY float64
	// FX and FY are the point as fractions of the box of the element hit.
	FX, FY float64
	// Path leads from <html> to the element hit through child indexes, a
	// way of naming the element that owes nothing to Loupe's selectors.
	Path []int
	// Tag is the element hit.
	Tag string
	// URL is the page's address when it was clicked.
	URL string
	// Error says why the point cannot be clicked.
	Error string
	// Page is the key Loupe should file the click under; PID the page view
	// it should belong to. Both are what the test expects.
	Page string `json:"-"`
	PID  int64  `json:"-"`
}

// stillJS defines still(), which waits until the page has not scrolled for a
// few frames: pages with smooth scrolling keep moving after a jump.
const stillJS = `const still = async () => {
	let last = NaN, frames = 0;
	while (frames < 4) {
		await new Promise(r => requestAnimationFrame(r));
		if (scrollX + ',' + scrollY === last) frames++;
		else { frames = 0; last = scrollX + ',' + scrollY; }
	}
};`

// aim brings the element expr names into view, waits until the page stops
// scrolling, and returns the point at fractions fx, fy of its box. It fails
// the test when something else covers that point.
func aim(t testing.TB, ctx context.Context, name, expr string, fx, fy float64) hit {
	t.Helper()
	// A box measured while a smooth scroll runs is stale by the time the
	// click lands.
	js := fmt.Sprintf(`(async () => {
		`+stillJS+`
		const el = %s;
		if (!el) return {Error: 'no such element'};
		await still();
		const box = el.getBoundingClientRect();
		if (box.top < 0 || box.bottom > innerHeight || box.left < 0 || box.right > innerWidth) {
			el.scrollIntoView({block: 'center', inline: 'center', behavior: 'instant'});
			await still();
		}
		const r = el.getBoundingClientRect();
		// Input arrives at whole pixels.
		const x = Math.round(r.left + r.width * %g), y = Math.round(r.top + r.height * %g);
		const at = document.elementFromPoint(x, y);
		if (!at || !el.contains(at)) {
			return {Error: 'the point is covered by ' + (at ? at.outerHTML.slice(0, 200) : 'nothing')};
		}
		const h = at.getBoundingClientRect();
		const path = [];
		for (let n = at; n !== document.documentElement; n = n.parentElement) {
			path.unshift(Array.prototype.indexOf.call(n.parentElement.children, n));
		}
		return {X: x, Y: y, PX: x + scrollX, PY: y + scrollY,
			FX: (x - h.left) / h.width, FY: (y - h.top) / h.height,
			Path: path, Tag: at.localName, URL: location.href};
	})()`, expr, fx, fy)
	h := evaluate[hit](t, ctx, js)
	if h.Error != "" {
		t.Fatalf("aim at %s (%s): %s", name, expr, h.Error)
	}
	h.Name = name
	return h
}

// click aims at the element as aim does and clicks there the way the device
// would: a tap on a phone, a mouse click elsewhere.
func click(t testing.TB, ctx context.Context, dev browsertest.Device, name, expr string,
	fx, fy float64) hit {
	t.Helper()
	h := aim(t, ctx, name, expr, fx, fy)
	action := chromedp.MouseClickXY(h.X, h.Y)
	if dev.Mobile {
		action = chromedp.TapXY(h.X, h.Y)
	}
	do(t, ctx, "click "+name, action)
	return h
}

// errNotFound marks a selector that finds nothing on the page.
var errNotFound = errors.New("selector finds nothing")

// resolves reports whether selector, on the page of ctx, names the element
// at path or one of its ancestors.
func resolves(t testing.TB, ctx context.Context, selector string, path []int) error {
	t.Helper()
	sel, _ := json.Marshal(selector)
	p, _ := json.Marshal(path)
	js := fmt.Sprintf(`(() => {
		let el;
		try { el = document.querySelector(%s); } catch (e) { return 'invalid: ' + e.message; }
		if (!el) return 'none';
		let at = document.documentElement;
		for (const i of %s) at = at && at.children[i];
		if (!at) return 'the clicked element is gone';
		if (el === at || el.contains(at)) return '';
		return 'it names ' + el.outerHTML.slice(0, 160) + ', not an ancestor of ' +
			at.outerHTML.slice(0, 160);
	})()`, sel, p)
	switch msg := evaluate[string](t, ctx, js); msg {
	case "":
		return nil
	case "none":
		return errNotFound
	default:
		return errors.New(msg)
	}
}
