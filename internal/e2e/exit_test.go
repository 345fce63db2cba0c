package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"loupe.dev/loupe/internal/browsertest"
)

// TestLeaveSoonAfterLoad ends one-page visits as soon as the page is ready,
// before the tracker's first timed send, as a visitor who bounces does: what
// the page sends while it goes away must still make the visit a session with
// its page view and its recording, full snapshot included, so that the visit
// can be replayed. The to-do app is a small page; the resume inlines a large
// style sheet into its first recording snapshot, too large for a beacon
// unless compressed.
func TestLeaveSoonAfterLoad(t *testing.T) {
	l := startLoupe(t)
	pages := browsertest.ServePages(t, corpusPages, l.snippet())
	browser := newBrowser(t, browsertest.Desktop())
	for _, page := range []string{"todomvc/index.html", "resume/index.html"} {
		t.Run(page, func(t *testing.T) {
			title := pageTitle(t, page)
			ctx := browser.tab(t)
			do(t, ctx, "open "+page, chromedp.Navigate(pages.URL+"/"+page))
			waitPage(t, ctx, "/"+page)
			id := sessionID(t, ctx, l.site.Key)
			do(t, ctx, "leave", chromedp.Navigate("about:blank"))

			s := l.waitSession(t, id, func(s *session) bool {
				return len(s.PageViews) == 1 && s.HasRecording
			})
			key := strings.TrimPrefix(pages.URL, "http://") + "/" + page
			if len(s.PageViews) != 1 || s.PageViews[0].Page != key ||
				s.PageViews[0].Title != title || !s.HasRecording {
				t.Errorf("session %s: page views %+v, recording %v; want one of %s titled %q, "+
					"recorded", id, s.PageViews, s.HasRecording, key, title)
			}

			// The recording opens the page (a meta event, type 4) and holds
			// its full snapshot (type 2), whichever batch brought it.
			l.waitRecording(t, id, func(events []recordingEvent) bool {
				kinds := map[int]int{}
				for _, e := range events {
					kinds[e.Type]++
				}
				return kinds[4] == 1 && kinds[2] == 1
			})
		})
	}
}
