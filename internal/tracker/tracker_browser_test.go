package tracker

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"loupe.dev/loupe/internal/browsertest"
)

const (
	corpusPages = "../../../shared/corpus/pages"
	testSiteKey = "testsite"
	// What the test types into the login form; none of it may leave the
	// browser.
	typedEmail    = "wilma.secret@example.org"
	typedPassword = "Hunter2-Correct-Horse"
)

// received is one batch as the ingest endpoint would see it.
type received struct {
	site, session string
	seq           int
	status        int // the answer given
	referer       string
	gzipped       bool
	// beacon marks a request made by sendBeacon: the page's own fetches are
	// CORS requests, a beacon of a text/plain body is not.
	beacon      bool
	contentType string
	raw         []byte // the body as sent
	plain       []byte // decompressed
	body        struct {
		Sent int64             `json:"sent"`
		Vid  string            `json:"vid"`
		Ev   []map[string]any  `json:"ev"`
		Rec  []json.RawMessage `json:"rec"`
	}
}

// collector stands in for the Loupe server: it serves the loader and the
// tracker files and keeps every batch posted to /i.
type collector struct {
	files  *Files
	server string // its own base URL

	mu sync.Mutex
	// answer gives the status for the attempt-th request (from 1) carrying
	// batch b; nil accepts everything.
	answer     func(b received, attempt int) int
	attempts   map[int]int
	batches    []received
	preflights int
	encodings  []string // Content-Encoding of each /t/ answer
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/s/"+testSiteKey+".js":
		c.files.ServeLoader(w, r, Settings{SiteKey: testSiteKey, SampleRate: 1, HonourDNT: true})
	case strings.HasPrefix(r.URL.Path, "/t/"):
		c.files.ServeAsset(w, r, strings.TrimPrefix(r.URL.Path, "/t/"))
		c.mu.Lock()
		c.encodings = append(c.encodings, w.Header().Get("Content-Encoding"))
		c.mu.Unlock()
	case r.URL.Path == "/replay.html":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html><head><link rel="stylesheet" href="/replay.css">`+
			`<script src="/replay.js"></script></head><body></body></html>`)
	case r.URL.Path == "/replay.js" || r.URL.Path == "/replay.css":
		js, css := c.files.Replay()
		if strings.HasSuffix(r.URL.Path, ".css") {
			w.Header().Set("Content-Type", "text/css")
			_, _ = w.Write(css)
			return
		}
		w.Header().Set("Content-Type", "text/javascript")
		_, _ = w.Write(js)
	case r.URL.Path == "/recording.json":
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(c.recording())
	case r.URL.Path == "/i" && r.Method == http.MethodOptions:
		c.mu.Lock()
		c.preflights++
		c.mu.Unlock()
		w.WriteHeader(http.StatusMethodNotAllowed)
	case r.URL.Path == "/i" && r.Method == http.MethodPost:
		w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		b, err := c.decode(r)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"error":%q}`, err.Error())
			return
		}
		c.mu.Lock()
		if c.attempts == nil {
			c.attempts = map[int]int{}
		}
		c.attempts[b.seq]++
		b.status = http.StatusAccepted
		if c.answer != nil {
			b.status = c.answer(b, c.attempts[b.seq])
		}
		c.batches = append(c.batches, b)
		c.mu.Unlock()
		w.WriteHeader(b.status)
	default:
		http.NotFound(w, r)
	}
}

func (c *collector) decode(r *http.Request) (received, error) {
	b := received{contentType: r.Header.Get("Content-Type"), referer: r.Header.Get("Referer"),
		beacon: r.Header.Get("Sec-Fetch-Mode") == "no-cors"}
	q := r.URL.Query()
	b.site, b.session = q.Get("k"), q.Get("s")
	seq, err := strconv.Atoi(q.Get("n"))
	if err != nil {
		return b, fmt.Errorf("read seq: %w", err)
	}
	b.seq = seq
	b.raw, err = io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		return b, fmt.Errorf("read body: %w", err)
	}
	b.plain = b.raw
	if bytes.HasPrefix(b.raw, []byte{0x1f, 0x8b}) {
		b.gzipped = true
		zr, err := gzip.NewReader(bytes.NewReader(b.raw))
		if err != nil {
			return b, fmt.Errorf("open gzip body: %w", err)
		}
		if b.plain, err = io.ReadAll(zr); err != nil {
			return b, fmt.Errorf("decompress body: %w", err)
		}
	}
	if err := json.Unmarshal(b.plain, &b.body); err != nil {
		return b, fmt.Errorf("decode body: %w", err)
	}
	return b, nil
}

func (c *collector) snapshot() []received {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.batches)
}

func (c *collector) setAnswer(answer func(b received, attempt int) int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.answer = answer
}

// events returns every event accepted so far, each batch's copy once.
func (c *collector) events() []map[string]any {
	var out []map[string]any
	seen := map[int]bool{}
	for _, b := range c.snapshot() {
		if seen[b.seq] || b.status != http.StatusAccepted {
			continue
		}
		seen[b.seq] = true
		out = append(out, b.body.Ev...)
	}
	return out
}

// waitEvent waits until an event satisfying match has arrived, and returns it.
func (c *collector) waitEvent(t *testing.T, ctx context.Context, what string,
	match func(map[string]any) bool) map[string]any {
	t.Helper()
	for {
		for _, e := range c.events() {
			if match(e) {
				return e
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v; received events:\n%s", what, ctx.Err(), c.dump())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// recording returns the accepted recording events, in batch order.
func (c *collector) recording() []json.RawMessage {
	batches := c.snapshot()
	slices.SortStableFunc(batches, func(a, b received) int { return a.seq - b.seq })
	var out []json.RawMessage
	seen := map[int]bool{}
	for _, b := range batches {
		if !seen[b.seq] && b.status == http.StatusAccepted {
			seen[b.seq] = true
			out = append(out, b.body.Rec...)
		}
	}
	return out
}

// waitBatch waits until a request satisfying match has arrived, and returns
// it.
func (c *collector) waitBatch(t *testing.T, ctx context.Context, what string,
	match func(received) bool) received {
	t.Helper()
	for {
		for _, b := range c.snapshot() {
			if match(b) {
				return b
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v; received events:\n%s", what, ctx.Err(), c.dump())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// complete reports whether a batch was accepted for every number up to the
// highest one seen.
func (c *collector) complete() bool {
	accepted := map[int]bool{}
	last := 0
	for _, b := range c.snapshot() {
		last = max(last, b.seq)
		accepted[b.seq] = accepted[b.seq] || b.status == http.StatusAccepted
	}
	for n := 1; n <= last; n++ {
		if !accepted[n] {
			return false
		}
	}
	return last > 0
}

func (c *collector) attemptsOf(seq int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.attempts[seq]
}

func (c *collector) dump() string {
	var b strings.Builder
	for _, e := range c.events() {
		line, _ := json.Marshal(e)
		if len(line) > 300 {
			line = append(line[:300], "…"...)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.String()
}

func is(kind string, pid float64) func(map[string]any) bool {
	return func(e map[string]any) bool { return e["type"] == kind && e["pid"] == pid }
}

// point is where the test clicked and what box it clicked in.
type point struct {
	X, Y   float64 // viewport
	PX, PY float64 // page
	FX, FY float64 // fractions of the hit element's box
}

// clickIn clicks at fractions fx, fy of the box of the element expr names.
func clickIn(t *testing.T, ctx context.Context, expr string, fx, fy float64) point {
	t.Helper()
	p := locate(t, ctx, expr, fx, fy)
	run(t, ctx, "click "+expr, chromedp.MouseClickXY(p.X, p.Y))
	return p
}

// locate finds the point at fractions fx, fy of the box of the element expr
// names, after scrolling it into view. The element actually there is kept in
// window.__hit, and the returned fractions are relative to its box.
func locate(t *testing.T, ctx context.Context, expr string, fx, fy float64) point {
	t.Helper()
	js := fmt.Sprintf(`(() => {
		const el = %s;
		el.scrollIntoView({block: 'center', behavior: 'instant'});
		const r = el.getBoundingClientRect();
		// Whole pixels: the input pipeline delivers clicks at whole pixels.
		const x = Math.round(r.left + r.width * %g), y = Math.round(r.top + r.height * %g);
		const hit = document.elementFromPoint(x, y);
		window.__hit = hit;
		const h = hit.getBoundingClientRect();
		return {X: x, Y: y, PX: x + scrollX, PY: y + scrollY,
			FX: (x - h.left) / h.width, FY: (y - h.top) / h.height};
	})()`, expr, fx, fy)
	return eval[point](t, ctx, js)
}

func run(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// waitFor waits until the JavaScript condition cond holds in the page.
func waitFor(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	run(t, ctx, "wait for "+what, chromedp.Evaluate[chromedp.Void](`new Promise(resolve => {
		const check = () => (`+cond+`) ? resolve() : setTimeout(check, 20);
		check();
	})`, chromedp.EvalAwaitPromise))
}

// waitReady waits until the page loaded and the tracker, with its recorder,
// runs on it.
func waitReady(t *testing.T, ctx context.Context) {
	t.Helper()
	waitFor(t, ctx, "the tracker",
		`document.readyState === 'complete' && window.__loupeCore && window.__loupeRecord`)
}

func near(a, b float64) bool { return math.Abs(a-b) <= 0.02 }

// setUp starts the stand-in server, the corpus pages with the snippet, and a
// desktop tab.
func setUp(t *testing.T) (c *collector, pages *httptest.Server, ctx context.Context) {
	t.Helper()
	// Most of a browser test is waiting for the next batch: run them side by
	// side.
	t.Parallel()
	c = &collector{files: newFiles(t)}
	server := httptest.NewServer(c)
	t.Cleanup(server.Close)
	c.server = server.URL

	snippet := `<script>` +
		`window.loupe=window.loupe||function(){(loupe.q=loupe.q||[]).push(arguments)};` +
		`loupe('event','queued',{from:'snippet'});</script>` +
		`<script async src="` + server.URL + `/s/` + testSiteKey + `.js"></script>`
	pages = browsertest.ServePages(t, corpusPages, snippet)
	tab := browsertest.NewTab(t, browsertest.NewBrowser(t, browsertest.Desktop()),
		browsertest.Desktop())
	ctx, cancel := context.WithTimeout(tab, 90*time.Second)
	t.Cleanup(cancel)
	return c, pages, ctx
}

func TestTrackerInChromium(t *testing.T) {
	c, pages, ctx := setUp(t)

	creative := pages.URL + "/creative/index.html"
	run(t, ctx, "open creative", chromedp.Navigate(creative))
	waitReady(t, ctx)

	// A click on a heading changes nothing: a dead click.
	heading := clickIn(t, ctx, `document.querySelector('header.masthead h1')`, 0.5, 0.5)
	dead := c.waitEvent(t, ctx, "the click on the heading", is("click", 1))

	// Pointer moves, a custom identity, an error and a rejected promise.
	for i := range 4 {
		run(t, ctx, "move the pointer",
			chromedp.MouseEvent(chromedp.MouseMoved, 200+float64(i)*40, 300),
			chromedp.Sleep(120*time.Millisecond))
	}
	run(t, ctx, "identify, throw and reject", chromedp.Evaluate[chromedp.Void](`
		loupe('identify', 'user-42', {plan: 'pro'});
		setTimeout(() => { throw new Error('loupe-test-boom') });
		Promise.reject(new Error('loupe-test-reject'));`))

	// The "About" link: a hash route, so a second page view.
	nav := clickIn(t, ctx, `document.querySelector('#navbarResponsive a[href="#about"]')`, 0.25, 0.75)
	c.waitEvent(t, ctx, "the page view of #about", is("pageview", 2))

	run(t, ctx, "scroll to the bottom", chromedp.Evaluate[chromedp.Void](
		`window.scrollTo({top: document.documentElement.scrollHeight, behavior: 'instant'})`))
	c.waitEvent(t, ctx, "scroll depth 100", func(e map[string]any) bool {
		return e["type"] == "scroll" && e["depth"] == 100.0
	})

	// A portfolio tile links to a full-size image. (The lightbox that should
	// open it in place fails to start on this page, also without the tracker.)
	// The caption that covers the tile takes the click.
	const tileSel = "#portfolio > div > div > div:nth-of-type(1) > a > div"
	tile := locate(t, ctx, `document.querySelector('#portfolio a.portfolio-box')`, 0.25, 0.75)
	if !eval[bool](t, ctx, fmt.Sprintf(`document.querySelector(%q) === window.__hit`, tileSel)) {
		t.Errorf("the element hit in the tile is not %s", tileSel)
	}
	run(t, ctx, "click the tile", chromedp.MouseClickXY(tile.X, tile.Y))
	tileClick := c.waitEvent(t, ctx, "the click on the tile", func(e map[string]any) bool {
		return e["type"] == "click" && e["sel"] == tileSel
	})

	// Type into a login form: the recorder runs, but must mask the fields.
	run(t, ctx, "open the login page", chromedp.Navigate(pages.URL+"/sb-admin/login.html"))
	waitReady(t, ctx)
	run(t, ctx, "type credentials",
		chromedp.SendKeys(chromedp.CSS("#inputEmail"), typedEmail),
		chromedp.SendKeys(chromedp.CSS("#inputPassword"), typedPassword))

	// A single-page app with hash routes.
	todo := pages.URL + "/todomvc/index.html"
	run(t, ctx, "open todomvc", chromedp.Navigate(todo))
	waitReady(t, ctx)
	run(t, ctx, "add todos",
		chromedp.SendKeys(chromedp.CSS("#new-todo"), "water the plants"+kb.Enter),
		chromedp.SendKeys(chromedp.CSS("#new-todo"), "call the plumber"+kb.Enter),
		chromedp.Click(chromedp.CSS("#todo-list li .toggle")))
	for _, route := range []string{"#/active", "#/completed"} {
		clickIn(t, ctx, `document.querySelector('#filters a[href="`+route+`"]')`, 0.5, 0.5)
		waitFor(t, ctx, "the route "+route,
			`document.querySelector('#filters a.selected').getAttribute('href') === '`+route+`'`)
	}
	run(t, ctx, "leave", chromedp.Navigate("about:blank"))
	last := c.waitEvent(t, ctx, "the page view of #/completed", func(e map[string]any) bool {
		return e["type"] == "pageview" && e["url"] == todo+"#/completed"
	})
	lastPid := last["pid"].(float64)
	// The beacon of the last page carries its clicks too.
	c.waitEvent(t, ctx, "the click on Completed", is("click", lastPid-1))
	// The batches of the way out travel side by side and may arrive in any
	// order.
	c.waitBatch(t, ctx, "every batch up to the last", func(received) bool {
		return c.complete()
	})

	batches := c.snapshot()
	events := c.events()

	t.Run("batches", func(t *testing.T) {
		checkBatches(t, batches, c)
	})

	t.Run("page views", func(t *testing.T) {
		want := []string{creative, creative + "#about", pages.URL + "/sb-admin/login.html",
			todo, todo + "#/active", todo + "#/completed"}
		var got []string
		for _, e := range events {
			if e["type"] != "pageview" {
				continue
			}
			if e["pid"] != float64(len(got)+1) {
				t.Errorf("page view %d has pid %v: %v", len(got)+1, e["pid"], e)
			}
			if e["vw"] != 1440.0 || e["vh"] != 900.0 || e["title"] == "" {
				t.Errorf("page view %v: want vw 1440, vh 900 and a title", e)
			}
			got = append(got, e["url"].(string))
		}
		if !slices.Equal(got, want) {
			t.Errorf("page views:\n got %q\nwant %q", got, want)
		}
	})

	t.Run("clicks", func(t *testing.T) {
		const headingSel = "#page-top > header > div > div > div:nth-of-type(1) > h1"
		if dead["dead"] != true || dead["sel"] != headingSel {
			t.Errorf("heading click = %v, want dead and its selector", dead)
		}
		if !near(dead["ox"].(float64), heading.FX) || !near(dead["oy"].(float64), heading.FY) {
			t.Errorf("heading click offset %v,%v, want %.3f,%.3f", dead["ox"], dead["oy"],
				heading.FX, heading.FY)
		}

		var navClick map[string]any
		for _, e := range events {
			if e["type"] == "click" && e["sel"] == "#navbarResponsive > ul > li:nth-of-type(1) > a" {
				navClick = e
			}
		}
		if navClick == nil {
			t.Fatalf("no click on the About link; events:\n%s", c.dump())
		}
		if navClick["dead"] != false || navClick["pid"] != 1.0 {
			t.Errorf("About click = %v, want live, on page view 1", navClick)
		}
		if !near(navClick["ox"].(float64), 0.25) || !near(navClick["oy"].(float64), 0.75) ||
			!near(nav.FX, 0.25) || !near(nav.FY, 0.75) {
			t.Errorf("About click offset %v,%v (hit at %.3f,%.3f), want 0.25,0.75",
				navClick["ox"], navClick["oy"], nav.FX, nav.FY)
		}
		if navClick["x"] != nav.PX || navClick["y"] != nav.PY {
			t.Errorf("About click at %v,%v, want %.0f,%.0f", navClick["x"], navClick["y"], nav.PX, nav.PY)
		}
		if navClick["vw"] != 1440.0 || navClick["pw"] != 1440.0 || navClick["ph"].(float64) <= 900 {
			t.Errorf("About click page size %v×%v in a %v viewport", navClick["pw"], navClick["ph"],
				navClick["vw"])
		}

		if tileClick["dead"] != false || tileClick["pid"] != 2.0 || tileClick["y"] != tile.PY {
			t.Errorf("tile click = %v, want live, on page view 2, at y %.0f", tileClick, tile.PY)
		}
		if !near(tileClick["ox"].(float64), tile.FX) || !near(tileClick["oy"].(float64), tile.FY) {
			t.Errorf("tile click offset %v,%v, want %.3f,%.3f", tileClick["ox"], tileClick["oy"],
				tile.FX, tile.FY)
		}
	})

	t.Run("scroll, moves, custom events, errors", func(t *testing.T) {
		checkOtherEvents(t, events)
	})

	t.Run("recording", func(t *testing.T) {
		checkRecording(t, batches)
	})

	t.Run("replay", func(t *testing.T) {
		// Play the recording up to the last input on the login page: the
		// replayed fields hold as many asterisks as characters were typed.
		run(t, ctx, "open the replayer", chromedp.Navigate(c.server+"/replay.html"))
		got := eval[[]string](t, ctx, `(async () => {
			const events = await (await fetch('/recording.json')).json();
			const metas = events.filter(e => e.type === 4);
			const login = metas.findIndex(e => e.data.href.endsWith('/login.html'));
			const inputs = events.filter(e => e.type === 3 && e.data.source === 5 &&
				e.timestamp < metas[login + 1].timestamp);
			const last = inputs[inputs.length - 1].timestamp;
			const replayer = new LoupeReplay.Replayer(events, {root: document.body});
			replayer.pause(last - events[0].timestamp + 1);
			const doc = replayer.iframe.contentDocument;
			return [doc.title, doc.querySelector('#inputEmail').value,
				doc.querySelector('#inputPassword').value];
		})()`)
		want := []string{"Login - SB Admin", strings.Repeat("*", len(typedEmail)),
			strings.Repeat("*", len(typedPassword))}
		if !slices.Equal(got, want) {
			t.Errorf("replayed login page: title and fields %q, want %q", got, want)
		}
	})
}

var sessionPattern = regexp.MustCompile(`^[0-9a-f]{16}$`)

func checkBatches(t *testing.T, batches []received, c *collector) {
	bySeq := map[int]received{}
	var gzipped, plain int
	for _, b := range batches {
		if b.site != testSiteKey {
			t.Errorf("batch %d: site %q, want %q", b.seq, b.site, testSiteKey)
		}
		if !sessionPattern.MatchString(b.session) || b.session == "0000000000000000" {
			t.Errorf("batch %d: session id %q", b.seq, b.session)
		}
		if b.session != batches[0].session {
			t.Errorf("batch %d: session %s, want one session, %s", b.seq, b.session, batches[0].session)
		}
		if !sessionPattern.MatchString(b.body.Vid) || b.body.Vid != batches[0].body.Vid {
			t.Errorf("batch %d: visitor id %q, want one 16-hex id", b.seq, b.body.Vid)
		}
		if !strings.HasPrefix(b.contentType, "text/plain") {
			t.Errorf("batch %d: Content-Type %q", b.seq, b.contentType)
		}
		if d := time.Since(time.UnixMilli(b.body.Sent)); d < 0 || d > 5*time.Minute {
			t.Errorf("batch %d: sent %d is not a recent time", b.seq, b.body.Sent)
		}
		if b.gzipped {
			gzipped++
		} else {
			plain++
		}
		checkSizes(t, b)
		if first, ok := bySeq[b.seq]; ok {
			// A re-sent batch must be the same batch.
			a, _ := json.Marshal([]any{first.body.Ev, first.body.Rec})
			z, _ := json.Marshal([]any{b.body.Ev, b.body.Rec})
			if !bytes.Equal(a, z) {
				t.Errorf("batch %d arrived twice with different contents", b.seq)
			}
			continue
		}
		bySeq[b.seq] = b
	}
	for n := 1; n <= len(bySeq); n++ {
		if _, ok := bySeq[n]; !ok {
			t.Errorf("batch numbers have a gap at %d: %d distinct batches", n, len(bySeq))
		}
	}
	t.Logf("%d requests, %d distinct batches, %d gzipped, %d plain (beacons)",
		len(batches), len(bySeq), gzipped, plain)
	if gzipped == 0 || plain == 0 {
		t.Errorf("%d gzipped and %d plain batches; want both: fetches compress, the analytics "+
			"beacons of page hide do not", gzipped, plain)
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.preflights != 0 {
		t.Errorf("%d CORS preflights; batches must be simple requests", c.preflights)
	}
	if !slices.Contains(c.encodings, "br") {
		t.Errorf("tracker files were served with encodings %q, want brotli for Chromium", c.encodings)
	}
}

// beaconMax is the largest body the tracker hands to a beacon: the requests
// that outlive a page share 64 KiB in Chromium.
const beaconMax = 60000

// checkSizes holds a request to the sending rules: what is not a beacon is
// compressed (Chromium can), a beacon fits the browser's budget, and a batch
// with analytics events is small enough for a beacon uncompressed, so that
// no recording can hold its events back when the page goes away.
func checkSizes(t *testing.T, b received) {
	t.Helper()
	if !b.beacon && !b.gzipped {
		t.Errorf("batch %d was fetched uncompressed", b.seq)
	}
	if b.beacon && len(b.raw) > beaconMax {
		t.Errorf("batch %d: a beacon of %d B, over %d", b.seq, len(b.raw), beaconMax)
	}
	if len(b.body.Ev) > 0 && len(b.plain) > beaconMax {
		t.Errorf("batch %d carries %d events in %d B, too large for a beacon uncompressed",
			b.seq, len(b.body.Ev), len(b.plain))
	}
}

// snapshots counts the full snapshots (rrweb type 2) a batch carries.
func snapshots(b received) int {
	n := 0
	for _, raw := range b.body.Rec {
		var ev struct {
			Type int `json:"type"`
		}
		if json.Unmarshal(raw, &ev) == nil && ev.Type == 2 {
			n++
		}
	}
	return n
}

func checkOtherEvents(t *testing.T, events []map[string]any) {
	var depth100, moves, queued, identify, boom, reject bool
	for _, e := range events {
		switch e["type"] {
		case "scroll":
			if e["depth"] == 100.0 && e["pid"] == 2.0 && e["ph"].(float64) > 900 {
				depth100 = true
			}
		case "move":
			pts, _ := e["pts"].([]any)
			moves = moves || (e["pid"] == 1.0 && len(pts) >= 2)
		case "event":
			queued = queued || (e["name"] == "queued" && e["pid"] == 1.0 &&
				fmt.Sprint(e["props"]) == "map[from:snippet]")
		case "identify":
			identify = identify || (e["id"] == "user-42" && fmt.Sprint(e["traits"]) == "map[plan:pro]")
		case "error":
			msg, _ := e["msg"].(string)
			boom = boom || (strings.Contains(msg, "loupe-test-boom") && e["pid"] == 1.0)
			reject = reject || msg == "Error: loupe-test-reject"
		}
	}
	for what, ok := range map[string]bool{
		"scroll depth 100 on page view 2": depth100,
		"pointer moves on page view 1":    moves,
		"the event queued by the snippet": queued,
		"identify user-42":                identify,
		"the uncaught error":              boom,
		"the unhandled rejection":         reject,
	} {
		if !ok {
			t.Errorf("no %s", what)
		}
	}
}

func checkRecording(t *testing.T, batches []received) {
	var snapshots, maskedInputs int
	for _, b := range batches {
		for _, secret := range []string{typedEmail, typedPassword, "wilma", "Hunter2"} {
			if bytes.Contains(b.plain, []byte(secret)) || bytes.Contains(b.raw, []byte(secret)) {
				t.Errorf("batch %d carries the typed text %q", b.seq, secret)
			}
		}
		for _, raw := range b.body.Rec {
			var ev struct {
				Type int `json:"type"`
				Data struct {
					Source int    `json:"source"`
					Text   string `json:"text"`
				} `json:"data"`
			}
			if err := json.Unmarshal(raw, &ev); err != nil {
				t.Fatalf("batch %d: recording event %.100s: %v", b.seq, raw, err)
			}
			if ev.Type == 2 {
				snapshots++
			}
			// Incremental snapshot (3) from an input (5).
			if ev.Type == 3 && ev.Data.Source == 5 && ev.Data.Text != "" &&
				strings.Trim(ev.Data.Text, "*") == "" {
				maskedInputs++
			}
		}
	}
	if snapshots < 3 {
		t.Errorf("%d full snapshots, want one per page load (3)", snapshots)
	}
	if maskedInputs == 0 {
		t.Errorf("no masked input event recorded for the login form")
	}
}

func carries(b received, name string) bool {
	return bytes.Contains(b.plain, []byte(`"name":"`+name+`"`))
}

// pending lists the batch numbers the page keeps in session storage.
func pending(t *testing.T, ctx context.Context) []int {
	t.Helper()
	return eval[[]int](t, ctx, `Object.keys(sessionStorage)
		.filter(k => k.startsWith('loupe:`+testSiteKey+`:b:'))
		.map(k => +k.split(':').pop()).sort((a, b) => a - b)`)
}

func TestTrackerKeepsBatchesUntilAnswered(t *testing.T) {
	c, pages, ctx := setUp(t)
	const busy, refused = http.StatusServiceUnavailable, http.StatusBadRequest

	// The server is busy for the first two attempts at every batch: the
	// third gets through, with the same contents and a fresh "sent".
	c.setAnswer(func(_ received, attempt int) int {
		if attempt <= 2 {
			return busy
		}
		return http.StatusAccepted
	})
	run(t, ctx, "open creative", chromedp.Navigate(pages.URL+"/creative/index.html"))
	waitReady(t, ctx)
	c.waitBatch(t, ctx, "batch 1 accepted", func(b received) bool {
		return b.seq == 1 && b.status == http.StatusAccepted
	})
	var tries []received
	for _, b := range c.snapshot() {
		if b.seq == 1 {
			tries = append(tries, b)
		}
	}
	if len(tries) != 3 {
		t.Fatalf("batch 1 took %d attempts, want 3", len(tries))
	}
	for i, b := range tries[1:] {
		a, _ := json.Marshal(tries[0].body.Ev)
		z, _ := json.Marshal(b.body.Ev)
		if !bytes.Equal(a, z) {
			t.Errorf("attempt %d of batch 1 carries other events than the first", i+2)
		}
		if b.body.Sent <= tries[i].body.Sent {
			t.Errorf("attempt %d of batch 1 has sent %d, not after %d", i+2, b.body.Sent,
				tries[i].body.Sent)
		}
	}

	// The full snapshot goes in a batch of its own, and later changes in
	// more: wait until every batch made so far is in.
	waitFor(t, ctx, "every batch accepted", `!Object.keys(sessionStorage)
		.some(k => k.startsWith('loupe:`+testSiteKey+`:b:'))`)

	// The server is down: a batch stays stored, also after its beacon on page
	// hide, and the next page sends it.
	c.setAnswer(func(received, int) int { return busy })
	run(t, ctx, "send an event", chromedp.Evaluate[chromedp.Void](`loupe('event', 'while-down')`))
	down := c.waitBatch(t, ctx, "the batch sent while down", func(b received) bool {
		return carries(b, "while-down")
	})
	if got := pending(t, ctx); !slices.Contains(got, down.seq) {
		t.Errorf("batch %d refused with 503 is not kept in session storage: %v", down.seq, got)
	}
	run(t, ctx, "open the login page", chromedp.Navigate(pages.URL+"/sb-admin/login.html"))
	waitReady(t, ctx)
	c.waitBatch(t, ctx, "the beacon of the batch sent while down", func(b received) bool {
		return b.seq == down.seq && b.beacon
	})
	c.setAnswer(nil)
	c.waitBatch(t, ctx, "the batch sent while down, accepted", func(b received) bool {
		return b.seq == down.seq && b.status == http.StatusAccepted
	})

	// A batch the server refuses is dropped, not retried: the next batch
	// follows it and it never comes again.
	c.setAnswer(func(b received, _ int) int {
		if carries(b, "refuse-me") {
			return refused
		}
		return http.StatusAccepted
	})
	run(t, ctx, "send a refused event",
		chromedp.Evaluate[chromedp.Void](`loupe('event', 'refuse-me')`))
	bad := c.waitBatch(t, ctx, "the refused batch", func(b received) bool {
		return carries(b, "refuse-me")
	})
	waitFor(t, ctx, "the refused batch to leave session storage",
		`!sessionStorage.getItem('loupe:`+testSiteKey+`:b:`+bad.session+`:`+strconv.Itoa(bad.seq)+`')`)
	run(t, ctx, "send another event", chromedp.Evaluate[chromedp.Void](`loupe('event', 'after')`))
	c.waitBatch(t, ctx, "the batch after the refused one", func(b received) bool {
		return carries(b, "after") && b.status == http.StatusAccepted
	})
	if n := c.attemptsOf(bad.seq); n != 1 {
		t.Errorf("refused batch %d was sent %d times, want once", bad.seq, n)
	}
}

func TestTrackerHonoursGlobalPrivacyControl(t *testing.T) {
	c, pages, ctx := setUp(t)
	// Chromium has no switch for the signal; the page sees it as a browser
	// that sends it would show it.
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})`,
		}); err != nil {
		t.Fatalf("add the privacy signal: %v", err)
	}
	run(t, ctx, "open creative", chromedp.Navigate(pages.URL+"/creative/index.html"))
	waitReady(t, ctx)
	b := c.waitBatch(t, ctx, "a batch", func(received) bool { return true })
	if b.body.Vid != "" || bytes.Contains(b.plain, []byte(`"vid"`)) {
		t.Errorf("batch carries a visitor id under Global Privacy Control: %q", b.body.Vid)
	}
	if eval[bool](t, ctx, `localStorage.getItem('loupe:vid') !== null`) {
		t.Errorf("a visitor id is stored under Global Privacy Control")
	}
	if !sessionPattern.MatchString(b.session) {
		t.Errorf("session id %q: the session is still tracked", b.session)
	}
}

// TestTrackerLeavesWithTheSnapshot leaves a page whose full snapshot the
// server has not taken yet: on the way out the page's analytics go first, in
// a beacon of their own, uncompressed, and the snapshot follows in a beacon,
// compressed in the background while the page lived and stamped afresh.
func TestTrackerLeavesWithTheSnapshot(t *testing.T) {
	c, pages, ctx := setUp(t)
	// The server is busy whenever the snapshot comes by fetch: only the
	// beacon of page hide can bring it in.
	c.setAnswer(func(b received, _ int) int {
		if snapshots(b) > 0 && !b.beacon {
			return http.StatusServiceUnavailable
		}
		return http.StatusAccepted
	})
	run(t, ctx, "open the resume", chromedp.Navigate(pages.URL+"/resume/index.html"))
	waitReady(t, ctx)
	// The fetch compresses the batch first: once it is here, so is the
	// compressed copy in the page.
	fetched := c.waitBatch(t, ctx, "the full snapshot, fetched", func(b received) bool {
		return snapshots(b) > 0 && !b.beacon
	})

	// The last event of the page is made as it goes away, before the
	// tracker's own pagehide listener runs (a capturing listener comes
	// first): it can only leave in the batch made then.
	run(t, ctx, "send an event on the way out", chromedp.Evaluate[chromedp.Void](
		`addEventListener('pagehide', () => loupe('event', 'bye'), {capture: true})`))
	clickIn(t, ctx, `document.querySelector('#experience h2')`, 0.5, 0.5)
	run(t, ctx, "leave", chromedp.Navigate("about:blank"))

	last := c.waitBatch(t, ctx, "the batch of the way out", func(b received) bool {
		return carries(b, "bye")
	})
	if !last.beacon || last.gzipped || len(last.body.Rec) != 0 {
		t.Errorf("the analytics of the way out came in batch %d: beacon %v, gzipped %v, %d "+
			"recording events; want an uncompressed beacon of analytics alone", last.seq,
			last.beacon, last.gzipped, len(last.body.Rec))
	}
	snap := c.waitBatch(t, ctx, "the beacon of the full snapshot", func(b received) bool {
		return b.seq == fetched.seq && b.beacon
	})
	if !snap.gzipped || len(snap.raw) > beaconMax || snap.status != http.StatusAccepted {
		t.Errorf("the full snapshot's beacon: gzipped %v, %d B, status %d; want compressed, "+
			"within %d B, accepted", snap.gzipped, len(snap.raw), snap.status, beaconMax)
	}
	if snap.body.Sent <= fetched.body.Sent {
		t.Errorf("the beacon of batch %d has sent %d, not after the fetch's %d", snap.seq,
			snap.body.Sent, fetched.body.Sent)
	}
	a, _ := json.Marshal([]any{fetched.body.Ev, fetched.body.Rec})
	z, _ := json.Marshal([]any{snap.body.Ev, snap.body.Rec})
	if !bytes.Equal(a, z) {
		t.Errorf("the beacon of batch %d carries other events than its fetch", snap.seq)
	}
	t.Logf("full snapshot: %d B of JSON, %d B in its beacon", len(snap.plain), len(snap.raw))

	// The click and how far the page was scrolled are in, whichever batch
	// brought them.
	c.waitEvent(t, ctx, "the click", is("click", 1))
	c.waitEvent(t, ctx, "the scroll depth", is("scroll", 1))
	for _, b := range c.snapshot() {
		checkSizes(t, b)
	}
}

// TestTrackerKeepsWhatNoBeaconTakes leaves a page whose recording holds an
// event too large for a beacon even compressed: it stays stored, and the
// next page of the tab sends it under the same number, while the analytics
// of the page left by beacon.
func TestTrackerKeepsWhatNoBeaconTakes(t *testing.T) {
	c, pages, ctx := setUp(t)
	// Text that does not compress, put on the page before the recorder
	// takes its snapshot (on load).
	const marker = "loupe-incompressible"
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: `
			location.pathname.endsWith('/resume/index.html') &&
			document.addEventListener('DOMContentLoaded', () => {
				const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
				let text = '` + marker + ` ';
				for (let i = 0; i < 150000; i++) text += abc[Math.random() * 64 | 0];
				const pre = document.createElement('pre');
				pre.textContent = text;
				document.body.appendChild(pre);
			})`,
		}); err != nil {
		t.Fatalf("add the incompressible text: %v", err)
	}
	// The server refuses every fetch while the page lives; beacons get in.
	c.setAnswer(func(b received, _ int) int {
		if !b.beacon {
			return http.StatusServiceUnavailable
		}
		return http.StatusAccepted
	})
	run(t, ctx, "open the resume", chromedp.Navigate(pages.URL+"/resume/index.html"))
	waitReady(t, ctx)
	waitFor(t, ctx, "the text in a stored batch", `Object.keys(sessionStorage).some(k =>
		k.startsWith('loupe:`+testSiteKey+`:b:') && sessionStorage.getItem(k).includes('`+marker+`'))`)
	run(t, ctx, "open the login page", chromedp.Navigate(pages.URL+"/sb-admin/login.html"))
	waitReady(t, ctx)
	c.waitBatch(t, ctx, "the page view of the resume, by beacon", func(b received) bool {
		return b.beacon && b.status == http.StatusAccepted && slices.ContainsFunc(b.body.Ev,
			is("pageview", 1))
	})
	c.setAnswer(nil)
	big := c.waitBatch(t, ctx, "the text, accepted", func(b received) bool {
		return b.status == http.StatusAccepted && bytes.Contains(b.plain, []byte(marker))
	})
	t.Logf("batch %d with the text: %d B of JSON, %d B compressed", big.seq, len(big.plain),
		len(big.raw))
	if len(big.raw) <= beaconMax {
		t.Fatalf("the text compressed to %d B: a beacon could have taken it", len(big.raw))
	}
	c.waitEvent(t, ctx, "the page view of the login page", is("pageview", 2))

	copies := map[int][]byte{}
	for _, b := range c.snapshot() {
		checkSizes(t, b)
		if bytes.Contains(b.plain, []byte(marker)) && b.beacon {
			t.Errorf("batch %d with the text went by beacon", b.seq)
		}
		// A number once given is never used for other contents.
		contents, _ := json.Marshal([]any{b.body.Ev, b.body.Rec})
		if first, ok := copies[b.seq]; ok && !bytes.Equal(first, contents) {
			t.Errorf("batch %d came with different contents", b.seq)
		}
		copies[b.seq] = contents
	}
}

// TestTrackerCompressesOnTheWayOut leaves a page whose full snapshot is
// still being compressed in the background, as a visitor who leaves the
// moment the page has loaded does: the recorder compresses it at once, and it
// leaves in a beacon all the same. The page is the to-do app with a long list
// added, which makes a snapshot too large for a beacon uncompressed but quick
// to compress: the browser gives a page that goes away only so much time, and
// a snapshot as large as the resume's, compressed by a cold script on a busy
// machine, can take most of it.
func TestTrackerCompressesOnTheWayOut(t *testing.T) {
	c, pages, ctx := setUp(t)
	// Compression in the background that never ends: every batch waits for
	// it, and the page holds no compressed copy of any.
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: `
			window.CompressionStream = class extends TransformStream {
				constructor() { super({transform() {}, flush: () => new Promise(() => {})}); }
			};
			document.addEventListener('DOMContentLoaded', () => {
				const list = document.createElement('ul');
				for (let i = 0; i < 500; i++) {
					list.appendChild(document.createElement('li')).textContent =
						'Item ' + i + ' of a long list that makes the snapshot large';
				}
				document.body.appendChild(list);
			});`,
		}); err != nil {
		t.Fatalf("stall compression: %v", err)
	}
	run(t, ctx, "open the to-do app", chromedp.Navigate(pages.URL+"/todomvc/index.html"))
	waitReady(t, ctx)
	waitFor(t, ctx, "the full snapshot in a stored batch", `Object.keys(sessionStorage).some(k =>
		k.startsWith('loupe:`+testSiteKey+`:b:') && sessionStorage.getItem(k).includes('{"type":2,'))`)
	if n := len(c.snapshot()); n != 0 {
		t.Fatalf("%d requests with compression stalled, want none", n)
	}
	run(t, ctx, "leave", chromedp.Navigate("about:blank"))

	snap := c.waitBatch(t, ctx, "the full snapshot", func(b received) bool {
		return snapshots(b) > 0
	})
	if !snap.beacon || !snap.gzipped || len(snap.plain) <= beaconMax ||
		snap.status != http.StatusAccepted {
		t.Errorf("the full snapshot came in batch %d: beacon %v, gzipped %v, %d B of JSON, "+
			"status %d; want a compressed beacon of more than %d B of JSON, accepted", snap.seq,
			snap.beacon, snap.gzipped, len(snap.plain), snap.status, beaconMax)
	}
	t.Logf("full snapshot: %d B of JSON, %d B in its beacon", len(snap.plain), len(snap.raw))
	c.waitEvent(t, ctx, "the page view", is("pageview", 1))
	for _, b := range c.snapshot() {
		if !b.beacon {
			t.Errorf("batch %d was fetched while compression stalled", b.seq)
		}
		if len(b.raw) > beaconMax {
			t.Errorf("batch %d: a beacon of %d B", b.seq, len(b.raw))
		}
	}
}
