package ui

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"loupe.dev/loupe/internal/browsertest"
)

// corpusRecording is a real session recorded by rrweb on a small web app:
// two page loads (one per line), with clicks and mouse moves.
const corpusRecording = "../../../../shared/corpus/posthog/frontend/src/scenes/" +
	"session-recordings/__mocks__/recording_snapshots.jsonl"

// Selectors into the recorded page: the "Capture event" button, clicked four
// times in the recording, the button beside it, and one that is not there.
const (
	hotSelector   = "main > div.buttons > button:nth-child(1)"
	otherSelector = `div.buttons > button[data-attr="autocapture-button"]`
	bogusSelector = "#checkout > button.pay"
)

// missing ends a test that lacks what it needs from the machine: a failure
// under CI=true, a skip elsewhere.
func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// event is one rrweb event, with the fields the tests read.
type event struct {
	Type      int             `json:"type"`
	Timestamp int64           `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// recording is the corpus session as one stream of events, as the
// recording API serves it.
type recording struct {
	events []event
	raw    []json.RawMessage
}

func loadRecording(t testing.TB) recording {
	t.Helper()
	b, err := os.ReadFile(corpusRecording)
	if err != nil {
		missing(t, "read the recording corpus: %v", err)
	}
	var rec recording
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var window struct {
			Data []json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(sc.Bytes(), &window); err != nil {
			t.Fatalf("decode a window of the recording: %v", err)
		}
		for _, raw := range window.Data {
			var e event
			if err := json.Unmarshal(raw, &e); err != nil {
				t.Fatalf("decode an event: %v", err)
			}
			rec.events = append(rec.events, e)
			rec.raw = append(rec.raw, raw)
		}
	}
	if len(rec.events) < 40 {
		t.Fatalf("the recording has %d events, want the two windows of the corpus", len(rec.events))
	}
	return rec
}

func (r recording) start() int64 { return r.events[0].Timestamp }
func (r recording) total() int64 { return r.events[len(r.events)-1].Timestamp - r.start() }

// snapshot is the first page of the recording as the snapshot API serves
// it: its Meta and FullSnapshot events.
func (r recording) snapshot() map[string]any {
	return map[string]any{
		"session_id": "0123456789abcdef",
		"width":      2560,
		"height":     1304,
		"events":     r.raw[:2],
	}
}

// interaction is the data of an IncrementalSnapshot event.
type interaction struct {
	Source    int `json:"source"`
	Type      int `json:"type"`
	Positions []struct {
		X, Y float64
	} `json:"positions"`
}

func (r recording) interactions() []struct {
	at int64
	interaction
} {
	var out []struct {
		at int64
		interaction
	}
	for _, e := range r.events {
		if e.Type != 3 {
			continue
		}
		var in interaction
		if err := json.Unmarshal(e.Data, &in); err == nil {
			out = append(out, struct {
				at int64
				interaction
			}{e.Timestamp, in})
		}
	}
	return out
}

type mark struct {
	T     int64  `json:"t"`
	Kind  string `json:"kind"`
	Label string `json:"label"`
}

// marks are what the server derives from the recording: a page mark at each
// page load and a click mark at each click.
func (r recording) marks() []mark {
	var out []mark
	for _, e := range r.events {
		if e.Type == 4 {
			out = append(out, mark{T: e.Timestamp, Kind: "page", Label: "localhost:3000/"})
		}
	}
	for _, in := range r.interactions() {
		if in.Source == 2 && in.Type == 2 {
			out = append(out, mark{T: in.at, Kind: "click", Label: "button"})
		}
	}
	return out
}

// dashboard stands in for Loupe's web server: it serves the built assets,
// the fixture pages of testdata/ and the JSON answers a test sets.
type dashboard struct {
	assets *Assets
	pages  *template.Template
	server *httptest.Server

	mu      sync.Mutex
	data    map[string]pageData
	answers map[string]answer
	posts   int
}

type pageData struct {
	template string
	data     any
}

type answer struct {
	status int
	body   any
}

func newDashboard(t *testing.T) *dashboard {
	t.Helper()
	d := &dashboard{
		assets:  newAssets(t),
		data:    map[string]pageData{},
		answers: map[string]answer{},
	}
	d.pages = template.Must(template.New("").Funcs(template.FuncMap{"asset": d.assets.URL}).
		ParseGlob("testdata/*.html"))
	d.server = httptest.NewServer(d)
	t.Cleanup(d.server.Close)
	return d
}

func (d *dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case strings.HasPrefix(r.URL.Path, Prefix):
		d.assets.ServeHTTP(w, r)
	case r.URL.Path == "/submitted" && r.Method == http.MethodPost:
		d.posts++
		fmt.Fprint(w, "submitted")
	case strings.HasPrefix(r.URL.Path, "/page/"):
		p, ok := d.data[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := d.pages.ExecuteTemplate(w, p.template, p.data); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	default:
		a, ok := d.answers[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(a.status)
		_ = json.NewEncoder(w).Encode(a.body)
	}
}

// page makes a fixture page available at /page/{path} and returns its URL.
func (d *dashboard) page(path, name string, data any) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.data["/page/"+path] = pageData{template: name + ".html", data: data}
	return d.server.URL + "/page/" + path
}

// answer sets the JSON answer of path.
func (d *dashboard) answer(path string, status int, body any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.answers[path] = answer{status, body}
}

func (d *dashboard) postCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.posts
}

func newTab(t *testing.T, dev browsertest.Device) context.Context {
	t.Helper()
	tab := browsertest.NewTab(t, browsertest.NewBrowser(t, dev), dev)
	ctx, cancel := context.WithTimeout(tab, 90*time.Second)
	t.Cleanup(cancel)
	return ctx
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

// open loads url and waits for the element sel to leave the loading state.
func open(t *testing.T, ctx context.Context, url, sel string) string {
	t.Helper()
	run(t, ctx, "open "+url, chromedp.Navigate(url))
	waitFor(t, ctx, sel+" to load",
		`(document.querySelector('`+sel+`') || {dataset: {}}).dataset.state &&
		 document.querySelector('`+sel+`').dataset.state !== 'loading'`)
	return eval[string](t, ctx, `document.querySelector('`+sel+`').dataset.state`)
}

// clickAt clicks the middle of the element sel with the mouse.
func clickAt(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	p := eval[struct{ X, Y float64 }](t, ctx, `(() => {
		const el = document.querySelector(`+jsString(sel)+`);
		el.scrollIntoView({block: 'center', behavior: 'instant'});
		const r = el.getBoundingClientRect();
		return {X: r.left + r.width / 2, Y: r.top + r.height / 2};
	})()`)
	run(t, ctx, "click "+sel, chromedp.MouseClickXY(p.X, p.Y))
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// checkNoSidewaysScroll fails when the page is wider than the screen.
func checkNoSidewaysScroll(t *testing.T, ctx context.Context) {
	t.Helper()
	w := eval[struct{ Scroll, Inner float64 }](t, ctx,
		`({Scroll: document.documentElement.scrollWidth, Inner: innerWidth})`)
	if w.Scroll > w.Inner {
		t.Errorf("the page is %v px wide on a %v px screen", w.Scroll, w.Inner)
	}
}

type device struct {
	name string
	dev  browsertest.Device
}

var devices = []device{
	{"desktop", browsertest.Desktop()},
	{"phone", browsertest.Phone()},
}

func TestReplayInChromium(t *testing.T) {
	rec := loadRecording(t)
	d := newDashboard(t)
	d.answer("/api/v1/sessions/0123456789abcdef/recording", http.StatusOK, rec.raw)
	marks := rec.marks()
	type pageItem struct {
		T     int64
		Label string
	}
	var pages []pageItem
	for _, m := range marks {
		if m.Kind == "page" {
			pages = append(pages, pageItem{m.T, m.Label})
		}
	}
	if len(pages) != 2 {
		t.Fatalf("the recording has %d page loads, want 2", len(pages))
	}
	url := d.page("replay", "replay", map[string]any{
		"Recording": "/api/v1/sessions/0123456789abcdef/recording",
		"Marks":     marks,
		"Speeds":    []string{"1", "2", "4", "8"},
		"Pages":     pages,
		"Started":   time.UnixMilli(rec.start()).UTC().Format(time.RFC3339),
	})

	for _, dv := range devices {
		t.Run(dv.name, func(t *testing.T) {
			ctx := newTab(t, dv.dev)
			if state := open(t, ctx, url, "#player"); state != "ready" {
				t.Fatalf("#player state %q (%s), want ready", state,
					eval[string](t, ctx, `document.querySelector('#player').textContent`))
			}
			checkPlayer(t, ctx)
			checkNoSidewaysScroll(t, ctx)
			checkMarks(t, ctx, rec, marks)
			if dv.name == "desktop" {
				checkPlayback(t, ctx, rec, pages[1].T)
			}
		})
	}
}

// checkPlayer checks that the recorded page is rebuilt, cannot run scripts
// and fits the width of the player.
func checkPlayer(t *testing.T, ctx context.Context) {
	t.Helper()
	p := eval[struct {
		Text, Sandbox, Current, Play string
		Frame, Player                float64
		Disabled                     bool
	}](t, ctx, `(() => {
		const player = document.querySelector('#player');
		const frame = player.querySelector('iframe');
		return {
			Text: frame.contentDocument.body.textContent,
			Sandbox: frame.getAttribute('sandbox'),
			Current: player.dataset.current,
			Play: document.querySelector('#play').textContent,
			Disabled: document.querySelector('#play').disabled,
			Frame: frame.getBoundingClientRect().width,
			Player: player.clientWidth,
		};
	})()`)
	for _, want := range []string{"PostHog React", "Capture event", "Autocapture buttons"} {
		if !strings.Contains(p.Text, want) {
			t.Errorf("the player shows %q, want %q in it", p.Text, want)
		}
	}
	if strings.Contains(p.Sandbox, "allow-scripts") || !strings.Contains(p.Sandbox, "allow-same-origin") {
		t.Errorf("player iframe sandbox = %q, want scripts kept out", p.Sandbox)
	}
	if p.Current != "0" || p.Play != "Play" || p.Disabled {
		t.Errorf("before playing: data-current %q, #play %q disabled=%v; want 0, Play, enabled",
			p.Current, p.Play, p.Disabled)
	}
	if p.Frame <= 0 || p.Frame > p.Player+0.5 {
		t.Errorf("the recorded screen is %v px wide in a %v px player", p.Frame, p.Player)
	}
}

// checkMarks checks one .mark per mark, each at its time's fraction of the
// timeline.
func checkMarks(t *testing.T, ctx context.Context, rec recording, marks []mark) {
	t.Helper()
	got := eval[[]struct {
		Kind   string
		T      string
		Centre float64
		Width  float64
	}](t, ctx, `(() => {
		const line = document.querySelector('#timeline').getBoundingClientRect();
		return Array.from(document.querySelectorAll('#timeline .mark')).map(m => {
			const r = m.getBoundingClientRect();
			return {Kind: m.dataset.kind, T: m.dataset.t,
				Centre: r.left + r.width / 2 - line.left, Width: line.width};
		});
	})()`)
	if len(got) != len(marks) {
		t.Fatalf("%d marks on the timeline, want %d", len(got), len(marks))
	}
	for i, m := range marks {
		g := got[i]
		if g.Kind != m.Kind || g.T != fmt.Sprint(m.T) {
			t.Errorf("mark %d is %s at %s, want %s at %d", i, g.Kind, g.T, m.Kind, m.T)
		}
		fraction := float64(m.T-rec.start()) / float64(rec.total())
		if want := fraction * g.Width; math.Abs(g.Centre-want) > 1.5 {
			t.Errorf("mark %d (%s) is centred at %.1f px of %.1f, want %.1f", i, m.Kind,
				g.Centre, g.Width, want)
		}
	}
}

// checkPlayback plays, pauses with the space bar, changes speed, seeks with
// a mark and with the page list, and plays to the end.
func checkPlayback(t *testing.T, ctx context.Context, rec recording, secondPage int64) {
	t.Helper()
	player := `document.querySelector('#player')`
	clickAt(t, ctx, "#play")
	waitFor(t, ctx, "playback to advance", player+`.dataset.current > 300`)
	if got := eval[string](t, ctx, `document.querySelector('#play').textContent`); got != "Pause" {
		t.Errorf("#play says %q while playing, want Pause", got)
	}

	// Space toggles playback when no control has the focus.
	eval[bool](t, ctx, `document.activeElement.blur(), true`)
	run(t, ctx, "press space", chromedp.KeyEvent(" "))
	waitFor(t, ctx, "pause", player+`.dataset.playing === 'false'`)

	clickAt(t, ctx, `#controls [data-speed="4"]`)
	speed := eval[struct {
		Speed   string
		Pressed []string
	}](t, ctx, `({Speed: `+player+`.dataset.playbackSpeed,
		Pressed: Array.from(document.querySelectorAll('#controls [data-speed]'),
			b => b.dataset.speed + '=' + b.getAttribute('aria-pressed'))})`)
	if speed.Speed != "4" || strings.Join(speed.Pressed, " ") != "1=false 2=false 4=true 8=false" {
		t.Errorf("after choosing 4×: speed %q, buttons %v", speed.Speed, speed.Pressed)
	}

	// Paused, a seek lands exactly where asked.
	clickAt(t, ctx, fmt.Sprintf(`#timeline .mark[data-kind="page"][data-t="%d"]`, secondPage))
	want := fmt.Sprint(secondPage - rec.start())
	waitFor(t, ctx, "the seek to the second page", player+`.dataset.current === '`+want+`'`)
	clickAt(t, ctx, `#pages li:first-child button`)
	waitFor(t, ctx, "the seek to the first page", player+`.dataset.current === '0'`)

	if !eval[bool](t, ctx, `document.querySelector('#skip-inactive').checked`) {
		t.Error("skipping inactivity is off by default")
	}
	clickAt(t, ctx, `#controls [data-speed="8"]`)
	clickAt(t, ctx, "#play")
	total := fmt.Sprint(rec.total())
	waitFor(t, ctx, "the end of the recording",
		player+`.dataset.playing === 'false' && `+player+`.dataset.current === '`+total+`'`)
	if got := eval[string](t, ctx, `document.querySelector('#clock').textContent`); got != "0:11 / 0:11" {
		t.Errorf("#clock at the end = %q, want 0:11 / 0:11", got)
	}
}

// clickHeat is the click heatmap of the recorded page: the button clicked
// four times in the recording, its neighbour once, and two clicks on an
// element this snapshot does not have, placed at their page coordinates.
func clickHeat() map[string]any {
	return map[string]any{
		"page": "localhost:3000/", "type": "click", "device": "desktop", "total": 7,
		"elements": []map[string]any{
			{"selector": hotSelector, "offset_x": 0.5, "offset_y": 0.5, "count": 4, "x": 729, "y": 124},
			{"selector": otherSelector, "offset_x": 0.3, "offset_y": 0.6, "count": 1, "x": 852, "y": 133},
			{"selector": bogusSelector, "offset_x": 0.5, "offset_y": 0.5, "count": 2, "x": 1618, "y": 299},
		},
		"points": []map[string]any{},
	}
}

// moveHeat puts the recording's mouse positions in 10-pixel cells and
// returns the cells and the busiest one.
func moveHeat(rec recording) (map[string]any, [2]int) {
	counts := map[[2]int]int{}
	for _, in := range rec.interactions() {
		if in.Source != 1 {
			continue
		}
		for _, p := range in.Positions {
			counts[[2]int{int(p.X)/10*10 + 5, int(p.Y)/10*10 + 5}]++
		}
	}
	var points []map[string]any
	var busiest [2]int
	total := 0
	for cell, n := range counts {
		points = append(points, map[string]any{"x": cell[0], "y": cell[1], "count": n})
		total += n
		if n > counts[busiest] || (n == counts[busiest] && (cell[0] < busiest[0] ||
			cell[0] == busiest[0] && cell[1] < busiest[1])) {
			busiest = cell
		}
	}
	return map[string]any{"type": "move", "total": total, "points": points}, busiest
}

// scrollHeat: everyone sees the top 30 %, then fewer and fewer down to a
// fifth at the bottom.
func scrollHeat() map[string]any {
	var depths []map[string]any
	for p := 0; p <= 100; p++ {
		share := 1.0
		if p > 30 {
			share = 1 - 0.8*float64(p-30)/70
		}
		depths = append(depths, map[string]any{"depth": p, "share": share})
	}
	return map[string]any{"type": "scroll", "page_views": 40, "depths": depths}
}

type pixel struct{ R, G, B, A float64 }

// pixelsJS reads canvas pixels at page coordinates into an object.
const pixelsJS = `const ctx = document.getElementById('heat-canvas').getContext('2d');
	const px = (x, y) => { const d = ctx.getImageData(Math.round(x), Math.round(y), 1, 1).data;
		return {R: d[0], G: d[1], B: d[2], A: d[3]}; };`

func TestHeatmapInChromium(t *testing.T) {
	rec := loadRecording(t)
	d := newDashboard(t)
	d.answer("/api/snapshot", http.StatusOK, rec.snapshot())
	d.answer("/api/heat-click", http.StatusOK, clickHeat())
	move, busiest := moveHeat(rec)
	d.answer("/api/heat-move", http.StatusOK, move)
	d.answer("/api/heat-scroll", http.StatusOK, scrollHeat())
	d.answer("/api/heat-none", http.StatusOK, map[string]any{
		"type": "click", "total": 0, "elements": []any{}, "points": []any{}})
	d.answer("/api/heat-broken", http.StatusInternalServerError, map[string]string{"error": "boom"})
	heatPage := func(name, snapshot, heat, kind string, total int) string {
		return d.page(name, "heatmap", map[string]any{
			"Snapshot": snapshot, "Heat": heat, "Type": kind, "Total": total})
	}
	click := heatPage("click", "/api/snapshot", "/api/heat-click", "click", 7)

	t.Run("desktop", func(t *testing.T) {
		ctx := newTab(t, browsertest.Desktop())
		checkClickHeat(t, ctx, click)
		checkDownload(t, ctx)
		checkMoveHeat(t, ctx, heatPage("move", "/api/snapshot", "/api/heat-move", "move", 0), busiest)
		checkScrollHeat(t, ctx, heatPage("scroll", "/api/snapshot", "/api/heat-scroll", "scroll", 40))

		if state := open(t, ctx, heatPage("none", "/api/snapshot", "/api/heat-none", "click", 0),
			"#heatmap"); state != "empty" {
			t.Errorf("no clicks: state %q, want empty", state)
		}
		if state := open(t, ctx, heatPage("nosnap", "/api/missing", "/api/heat-click", "click", 7),
			"#heatmap"); state != "empty" {
			t.Errorf("no snapshot: state %q, want empty", state)
		}
		if state := open(t, ctx, heatPage("broken", "/api/snapshot", "/api/heat-broken", "click", 7),
			"#heatmap"); state != "error" {
			t.Errorf("failing heat data: state %q, want error", state)
		}
		msg := eval[string](t, ctx, `document.querySelector('#heatmap .error').textContent`)
		if !strings.Contains(msg, "HTTP 500") {
			t.Errorf("error message %q does not name the failure", msg)
		}
	})

	t.Run("phone", func(t *testing.T) {
		ctx := newTab(t, browsertest.Phone())
		checkClickHeat(t, ctx, click)
		fit := eval[struct{ Stage, Box, Scale float64 }](t, ctx, `({
			Stage: document.querySelector('.heat-stage').getBoundingClientRect().width,
			Box: document.querySelector('#heatmap').clientWidth,
			Scale: document.querySelector('.heat-stage').getBoundingClientRect().width / 2560})`)
		if fit.Stage > fit.Box+0.5 || fit.Scale >= 1 {
			t.Errorf("the 2560 px page is shown %v px wide in a %v px box", fit.Stage, fit.Box)
		}
		checkNoSidewaysScroll(t, ctx)
	})
}

func checkClickHeat(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	if state := open(t, ctx, url, "#heatmap"); state != "ready" {
		t.Fatalf("#heatmap state %q (%s), want ready", state,
			eval[string](t, ctx, `document.querySelector('#heatmap').textContent`))
	}
	got := eval[struct {
		Placed, Fallback, Sandbox, Text, Legend string
		Width, Height, PageHeight               float64
		Hot, Other, Fallen, Far                 pixel
	}](t, ctx, `(() => {
		const root = document.querySelector('#heatmap');
		const frame = root.querySelector('iframe');
		const doc = frame.contentDocument;
		const canvas = document.getElementById('heat-canvas');
		`+pixelsJS+`
		const at = (sel, fx, fy) => { const r = doc.querySelector(sel).getBoundingClientRect();
			return px(r.left + r.width * fx, r.top + r.height * fy); };
		return {
			Placed: root.dataset.placed, Fallback: root.dataset.fallback,
			Sandbox: frame.getAttribute('sandbox'), Text: doc.body.textContent,
			Legend: document.querySelector('#heat-legend').textContent,
			Width: canvas.width, Height: canvas.height,
			PageHeight: doc.documentElement.scrollHeight,
			Hot: at(`+jsString(hotSelector)+`, 0.5, 0.5),
			Other: at(`+jsString(otherSelector)+`, 0.3, 0.6),
			Fallen: px(1618, 299), Far: px(2500, 1250),
		};
	})()`)
	if got.Placed != "2" || got.Fallback != "1" {
		t.Errorf("data-placed %q, data-fallback %q; want 2 and 1", got.Placed, got.Fallback)
	}
	if got.Sandbox != "allow-same-origin" {
		t.Errorf("snapshot iframe sandbox = %q, want allow-same-origin alone", got.Sandbox)
	}
	if !strings.Contains(got.Text, "PostHog React") {
		t.Errorf("the rebuilt page reads %q", got.Text)
	}
	if got.Width != 2560 || got.Height != got.PageHeight || got.Height < 1304 {
		t.Errorf("canvas %v×%v for a 2560-wide page %v px tall", got.Width, got.Height, got.PageHeight)
	}
	if got.Hot.A < 150 || got.Hot.R < 200 || got.Hot.R <= got.Hot.B {
		t.Errorf("the hottest element's spot is %+v, want opaque red", got.Hot)
	}
	if got.Other.A == 0 || got.Other.A >= got.Hot.A && got.Other.R >= got.Hot.R {
		t.Errorf("the spot clicked once is %+v, want fainter than the hottest %+v", got.Other, got.Hot)
	}
	if got.Fallen.A == 0 {
		t.Errorf("the cell placed by its page coordinates is not drawn: %+v", got.Fallen)
	}
	if got.Far != (pixel{}) {
		t.Errorf("a pixel far from every click is %+v, want clear", got.Far)
	}
	if !strings.Contains(got.Legend, "1 spot placed where clicked") {
		t.Errorf("the legend says %q, want the cell placed by position noted", got.Legend)
	}
}

// checkDownload saves the heat layer and checks it is the canvas as a PNG.
func checkDownload(t *testing.T, ctx context.Context) {
	t.Helper()
	eval[bool](t, ctx, `(() => {
		window.__downloads = [];
		const click = HTMLAnchorElement.prototype.click;
		HTMLAnchorElement.prototype.click = function () {
			if (this.download) window.__downloads.push({name: this.download, href: this.href});
			else click.call(this);
		};
		return true;
	})()`)
	clickAt(t, ctx, "#download-png")
	waitFor(t, ctx, "the download", `window.__downloads.length === 1`)
	got := eval[struct {
		Name, Signature string
		Width, Height   float64
	}](t, ctx, `(async () => {
		const d = window.__downloads[0];
		const blob = await (await fetch(d.href)).blob();
		const head = new Uint8Array(await blob.slice(0, 8).arrayBuffer());
		const image = await createImageBitmap(blob);
		return {Name: d.name, Signature: Array.from(head).join(','),
			Width: image.width, Height: image.height};
	})()`)
	if got.Name != "heatmap-click.png" || got.Signature != "137,80,78,71,13,10,26,10" {
		t.Errorf("download %q starts with %s, want heatmap-click.png, a PNG", got.Name, got.Signature)
	}
	if got.Width != 2560 || got.Height < 1304 {
		t.Errorf("downloaded image is %v×%v, want the page's 2560 px width", got.Width, got.Height)
	}
}

func checkMoveHeat(t *testing.T, ctx context.Context, url string, busiest [2]int) {
	t.Helper()
	if state := open(t, ctx, url, "#heatmap"); state != "ready" {
		t.Fatalf("move heatmap state %q, want ready", state)
	}
	got := eval[struct {
		Placed    string
		Busy, Far pixel
	}](t, ctx, `(() => { `+pixelsJS+`
		return {Placed: document.querySelector('#heatmap').dataset.placed,
			Busy: px(`+fmt.Sprint(busiest[0], ",", busiest[1])+`), Far: px(2500, 1250)};
	})()`)
	if got.Placed != "0" {
		t.Errorf("move heatmap data-placed = %q, want 0", got.Placed)
	}
	if got.Busy.A < 100 {
		t.Errorf("the busiest cell %v is %+v, want strongly coloured", busiest, got.Busy)
	}
	if got.Far != (pixel{}) {
		t.Errorf("a pixel far from every move is %+v, want clear", got.Far)
	}
}

func checkScrollHeat(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	if state := open(t, ctx, url, "#heatmap"); state != "ready" {
		t.Fatalf("scroll heatmap state %q, want ready", state)
	}
	got := eval[struct {
		Top, Bottom, Line, BelowLine pixel
	}](t, ctx, `(() => { `+pixelsJS+`
		const h = document.getElementById('heat-canvas').height;
		return {Top: px(1800, h * 0.05), Bottom: px(1800, h * 0.95),
			Line: px(1800, h * 0.5), BelowLine: px(1800, h * 0.5 + 20)};
	})()`)
	if got.Top.A == 0 || got.Top.R <= got.Top.B {
		t.Errorf("the top band, seen by everyone, is %+v, want red", got.Top)
	}
	if got.Bottom.A == 0 || got.Bottom.B <= got.Bottom.R {
		t.Errorf("the bottom band, seen by a fifth, is %+v, want blue", got.Bottom)
	}
	light := func(p pixel) float64 { return p.R + p.G + p.B }
	if light(got.Line) >= light(got.BelowLine) || got.Line.A <= got.BelowLine.A {
		t.Errorf("the 50 %% ruler line %+v is not darker than the band %+v", got.Line, got.BelowLine)
	}
}

func TestOverviewInChromium(t *testing.T) {
	d := newDashboard(t)
	series := map[string][]any{}
	for i := range 14 {
		series["days"] = append(series["days"], fmt.Sprintf("2026-12-%02d", i+1))
		series["visitors"] = append(series["visitors"], 40+i*3)
		series["sessions"] = append(series["sessions"], 55+i*4)
		series["page_views"] = append(series["page_views"], 120+i*9)
	}
	full, _ := json.Marshal(series)
	zero, _ := json.Marshal(map[string][]any{
		"days": {"2026-12-01", "2026-12-02"}, "visitors": {0, 0}, "sessions": {0, 0},
		"page_views": {0, 0}})
	chart := d.page("overview", "overview", map[string]any{"Series": string(full)})
	empty := d.page("overview-empty", "overview", map[string]any{"Series": string(zero)})

	for _, dv := range devices {
		t.Run(dv.name, func(t *testing.T) {
			ctx := newTab(t, dv.dev)
			if state := open(t, ctx, chart, "#chart"); state != "ready" {
				t.Fatalf("#chart state %q, want ready", state)
			}
			got := eval[struct {
				Canvases      int
				Plot, Chart   float64
				Legend        string
				CanvasPixelsW float64
			}](t, ctx, `(() => {
				const chart = document.querySelector('#chart');
				return {Canvases: chart.querySelectorAll('canvas').length,
					Plot: chart.querySelector('.u-wrap').getBoundingClientRect().width,
					Chart: chart.clientWidth, Legend: chart.textContent,
					CanvasPixelsW: chart.querySelector('canvas').width};
			})()`)
			if got.Canvases != 1 || got.CanvasPixelsW == 0 {
				t.Errorf("%d chart canvases, %v px wide", got.Canvases, got.CanvasPixelsW)
			}
			if got.Plot > got.Chart+0.5 || got.Plot < got.Chart-2 {
				t.Errorf("the chart is %v px wide in a %v px box", got.Plot, got.Chart)
			}
			for _, s := range []string{"Visitors", "Sessions", "Page views"} {
				if !strings.Contains(got.Legend, s) {
					t.Errorf("the chart's legend %q lacks %s", got.Legend, s)
				}
			}
			checkNoSidewaysScroll(t, ctx)

			// The chart follows its box when the box narrows.
			eval[bool](t, ctx, `(document.querySelector('.chart-card').style.width = '320px', true)`)
			waitFor(t, ctx, "the chart to narrow", `document.querySelector('#chart .u-wrap')
				.getBoundingClientRect().width <= document.querySelector('#chart').clientWidth`)

			if state := open(t, ctx, empty, "#chart"); state != "empty" {
				t.Errorf("all-zero series: #chart state %q, want empty", state)
			}
			if n := eval[int](t, ctx, `document.querySelectorAll('#chart .empty').length`); n != 1 {
				t.Errorf("all-zero series: %d empty messages, want 1", n)
			}
		})
	}
}

func TestSettingsInChromium(t *testing.T) {
	d := newDashboard(t)
	snippet := `<script async src="http://127.0.0.1/s/demo.js"></script>`
	since := "2023-05-01T14:46:20Z"
	d.answer("/api/status", http.StatusOK, map[string]any{"last_event_at": nil, "sessions": 0})
	url := d.page("settings", "settings", map[string]any{
		"Snippet": snippet, "Status": "/api/status", "Since": since})
	ctx := newTab(t, browsertest.Desktop())
	run(t, ctx, "open the settings", chromedp.Navigate(url))

	// Copy the snippet.
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: name},
			Setting:    browser.PermissionSettingGranted, Origin: d.server.URL,
		}); err != nil {
			t.Fatalf("grant %s: %v", name, err)
		}
	}
	clickAt(t, ctx, "#copy-snippet")
	waitFor(t, ctx, "the copy", `document.querySelector('#copy-snippet').textContent === 'Copied'`)
	if got := eval[string](t, ctx, `navigator.clipboard.readText()`); got != snippet {
		t.Errorf("clipboard holds %q, want the snippet %q", got, snippet)
	}

	// The install check follows the status answer.
	status := `document.querySelector('#install-status')`
	waitFor(t, ctx, "waiting", status+`.textContent === 'Waiting for the first event…'`)
	d.answer("/api/status", http.StatusOK, map[string]any{
		"last_event_at": time.Now().Add(-3 * time.Minute).UTC().Format(time.RFC3339), "sessions": 1})
	waitFor(t, ctx, "the first event", status+`.dataset.state === 'received'`)
	if got := eval[string](t, ctx, status+`.textContent`); got != "Last event received 3 minutes ago" {
		t.Errorf("install status %q, want Last event received 3 minutes ago", got)
	}
	d.answer("/api/status", http.StatusBadGateway, map[string]string{"error": "down"})
	waitFor(t, ctx, "the failed check", status+`.dataset.state === 'error'`)
	if got := eval[string](t, ctx, status+`.textContent`); got != "Could not check: HTTP 502" {
		t.Errorf("install status %q, want Could not check: HTTP 502", got)
	}

	titled := eval[bool](t, ctx, `(() => { const el = document.querySelector('time');
		return el.title !== '' && el.title === new Date(el.dateTime).toLocaleString(); })()`)
	if !titled {
		t.Errorf("time[datetime] title %q, want the local time",
			eval[string](t, ctx, `document.querySelector('time').title`))
	}

	// A form with data-confirm asks first: refused, nothing is sent.
	var mu sync.Mutex
	var questions []string
	accept := false
	go func() {
		for ev, err := range chromedp.Events(ctx, page.JavascriptDialogOpening) {
			if err != nil {
				return
			}
			mu.Lock()
			questions = append(questions, ev.Message)
			ok := accept
			mu.Unlock()
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog,
				page.HandleJavaScriptDialogParams{Accept: ok})
		}
	}()
	clickAt(t, ctx, "#remove")
	// The page answers only once the question is closed.
	if path := eval[string](t, ctx, `location.pathname`); path != "/page/settings" {
		t.Errorf("after the refusal the tab shows %s", path)
	}
	mu.Lock()
	asked := len(questions)
	mu.Unlock()
	if n := d.postCount(); n != 0 || asked != 1 {
		t.Errorf("the form was sent %d times after %d questions, want 0 after 1", n, asked)
	}
	mu.Lock()
	accept = true
	mu.Unlock()
	clickAt(t, ctx, "#remove")
	for d.postCount() == 0 {
		select {
		case <-ctx.Done():
			t.Fatalf("wait for the form to be sent: %v", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if d.postCount() != 1 || len(questions) != 2 || questions[0] != "Remove this person?" {
		t.Errorf("sent %d times after questions %q; want once after two", d.postCount(), questions)
	}
}
