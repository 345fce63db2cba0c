package e2e

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"loupe.dev/loupe/internal/browsertest"
)

// The items the visitor types into the to-do app. The app shows them as page
// text, which a recording may keep; the input events must not carry them.
var todoItems = []string{"buy oat milk e2e", "call the plumber e2e", "water the ferns e2e"}

// TestSinglePageApp follows a single-page app through its hash routes: each
// route is a page view of the one session the tab started, and what was typed
// into the app's field never appears in the recording's input events.
func TestSinglePageApp(t *testing.T) {
	l := startLoupe(t)
	pages := browsertest.ServePages(t, corpusPages, l.snippet())
	ctx := newBrowser(t, browsertest.Desktop()).tab(t)
	todo := pages.URL + "/todomvc/index.html"
	key := strings.TrimPrefix(todo, "http://")

	do(t, ctx, "open the to-do app", chromedp.Navigate(todo))
	waitPage(t, ctx, "/todomvc/index.html")
	first := sessionID(t, ctx, l.site.Key)
	for i, item := range todoItems {
		do(t, ctx, "add "+item, chromedp.SendKeys(chromedp.CSS("#new-todo"), item+kb.Enter))
		waitFor(t, ctx, "the list to grow", `document.querySelectorAll('#todo-list li').length === `+
			strconv.Itoa(i+1))
	}
	click(t, ctx, browsertest.Desktop(), "the second item's tick box",
		`document.querySelectorAll('#todo-list li .toggle')[1]`, 0.5, 0.5)
	waitFor(t, ctx, "the item to be done",
		`document.querySelectorAll('#todo-list li.completed').length === 1`)

	routes := []string{"#/active", "#/completed"}
	for _, route := range routes {
		click(t, ctx, browsertest.Desktop(), "the "+route+" filter",
			`document.querySelector('#filters a[href="`+route+`"]')`, 0.3, 0.7)
		waitFor(t, ctx, "the route "+route, `location.hash === '`+route+`' &&
			document.querySelector('#filters a.selected').getAttribute('href') === '`+route+`'`)
	}
	if last := sessionID(t, ctx, l.site.Key); last != first {
		t.Errorf("the tab changed sessions from %s to %s", first, last)
	}
	do(t, ctx, "leave", chromedp.Navigate("about:blank"))

	s := l.waitSession(t, first, func(s *session) bool {
		return len(s.PageViews) >= 3 && len(s.ClickEvents) >= 3
	})
	var views, keys []string
	for _, p := range s.PageViews {
		views = append(views, p.URL)
		keys = append(keys, p.Page)
	}
	wantViews := []string{todo, todo + routes[0], todo + routes[1]}
	wantKeys := []string{key, key + routes[0], key + routes[1]}
	if !slices.Equal(views, wantViews) || !slices.Equal(keys, wantKeys) {
		t.Errorf("page views %q with keys %q;\nwant %q with keys %q", views, keys, wantViews,
			wantKeys)
	}
	// The tick and the first filter are clicked on the first page view, the
	// second filter on the route the first one opened.
	var pids []int64
	for _, c := range s.ClickEvents {
		pids = append(pids, c.PID)
	}
	if !slices.Equal(pids, []int64{1, 1, 2}) {
		t.Errorf("clicks on page views %v, want [1 1 2]", pids)
	}

	var list struct {
		Sessions []struct {
			ID    string `json:"id"`
			Pages int    `json:"pages"`
		} `json:"sessions"`
	}
	l.getJSON(t, "/api/v1/sites/"+l.site.Key+"/sessions", &list)
	if len(list.Sessions) != 1 || list.Sessions[0].ID != first || list.Sessions[0].Pages != 3 {
		t.Errorf("sessions %+v, want only %s with 3 pages", list.Sessions, first)
	}

	// The recording is complete once every item was typed to its end and is
	// shown in the list.
	recording := l.waitRecording(t, first, func(events []recordingEvent) bool {
		typed := readInputs(t, events)
		for _, item := range todoItems {
			if !typed.masked[len(item)] || !typed.shown[item] {
				return false
			}
		}
		return true
	})
	checkMaskedInputs(t, recording)
}

// typing is what a recording holds of the to-do field and the list.
type typing struct {
	masked map[int]bool    // lengths of the masked texts input events carry
	shown  map[string]bool // the items the list shows in non-input events
	leaks  []string        // texts of input events that carry a typed item
	events int
}

// readInputs reads the input events of the to-do field from a recording, and
// the items the app showed.
func readInputs(t testing.TB, events []recordingEvent) typing {
	t.Helper()
	got := typing{masked: map[int]bool{}, shown: map[string]bool{}, events: len(events)}
	for _, e := range events {
		var data struct {
			Source *int   `json:"source"`
			Text   string `json:"text"`
		}
		if err := json.Unmarshal(e.Data, &data); err != nil {
			t.Fatalf("decode a recording event's data %.200s: %v", e.Data, err)
		}
		// An incremental snapshot (3) from an input (5).
		input := e.Type == 3 && data.Source != nil && *data.Source == 5
		for _, item := range todoItems {
			switch {
			case input && strings.Contains(data.Text, item[:8]):
				got.leaks = append(got.leaks, data.Text)
			case !input && strings.Contains(string(e.Data), item):
				got.shown[item] = true
			}
		}
		if input && data.Text != "" && strings.Trim(data.Text, "*") == "" {
			got.masked[len(data.Text)] = true
		}
	}
	return got
}

// checkMaskedInputs reads a recording for the input events of the to-do
// field: there must be some, and none may carry what was typed.
func checkMaskedInputs(t *testing.T, recording []byte) {
	t.Helper()
	var events []recordingEvent
	if err := json.Unmarshal(recording, &events); err != nil {
		t.Fatalf("decode the recording: %v", err)
	}
	got := readInputs(t, events)
	for _, leak := range got.leaks {
		t.Errorf("an input event carries %q, typed into the to-do field", leak)
	}
	// The field was recorded while typed into, masked; and the list the app
	// drew from the typed text is in the recording, so the search above read
	// the events that matter.
	if len(got.masked) == 0 {
		t.Error("no masked input event recorded for the to-do field")
	}
	if len(got.shown) != len(todoItems) {
		t.Errorf("the recording shows the to-do items %v, want all of %q", got.shown, todoItems)
	}
	t.Logf("%d recording events, masked inputs of %d lengths, %d items shown", got.events,
		len(got.masked), len(got.shown))
}
