package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"loupe.dev/loupe/internal/browsertest"
)

// The accounts the dashboard test makes.
const (
	adminEmail     = "admin@loupe.test"
	adminPassword  = "first-admin-pass-e2e"
	viewerEmail    = "viewer@loupe.test"
	viewerPassword = "only-viewing-pass-e2e"
)

// The breakdowns of the overview, by the id their table carries after bd-
// and the field of the stats API that holds the same list.
var breakdownIDs = []string{"top_pages", "entry_pages", "exit_pages", "referrers",
	"utm_sources", "devices", "browsers", "oses", "countries"}

// TestDashboard feeds a site through the tracker in Chromium, then works the
// dashboard in Chromium as its users do: the first account is made from the
// setup link, signs out and in; a form posted without its token changes
// nothing; a viewer of one site sees nothing of another; and the overview,
// the recordings list and its filters, the replay and the heatmap show what
// the visits did, each checked against the API or the visits themselves. It
// writes full-page screenshots of those four pages, 1440 and 390 pixels wide,
// to the folder LOUPE_SCREENSHOTS names, or else to screenshots/ at the top
// of the repository.
func TestDashboard(t *testing.T) {
	headline := innerText(t, landingPage, `<header class="masthead"`, "</h1>")
	l := startLoupe(t)
	desktop := newBrowser(t, browsertest.Desktop())
	phone := newBrowser(t, browsertest.Phone())
	fed := feedSite(t, l, desktop, phone)
	admin := newBrowser(t, browsertest.Desktop())
	shots := screenshotDir(t)
	siteA := l.site.Key

	t.Run("setup and sign in", func(t *testing.T) {
		checkSetupAndSignIn(t, l, admin)
	})
	if cookie(t, admin.tab(t), l.url, "loupe_session") == "" {
		t.Fatal("the admin is not signed in; the other checks need it")
	}
	t.Run("form without token", func(t *testing.T) {
		checkFormToken(t, l, admin)
	})
	t.Run("viewer sees one site", func(t *testing.T) {
		checkViewer(t, l, admin, desktop, fed)
	})

	sessions := waitFed(t, l, fed)
	t.Run("overview", func(t *testing.T) {
		ctx := admin.tab(t)
		checkOverview(t, l, ctx, fed)
		screenshot(t, ctx, browsertest.Desktop(), filepath.Join(shots, "overview-1440.png"))
	})
	t.Run("recordings", func(t *testing.T) {
		ctx := admin.tab(t)
		checkRecordings(t, l, ctx, fed)
		screenshot(t, ctx, browsertest.Desktop(), filepath.Join(shots, "recordings-1440.png"))
	})
	t.Run("replay", func(t *testing.T) {
		ctx := admin.tab(t)
		checkReplayPage(t, l, ctx, sessions[fed.replay.id], headline)
		screenshot(t, ctx, browsertest.Desktop(), filepath.Join(shots, "replay-1440.png"))
	})
	t.Run("heatmap", func(t *testing.T) {
		ctx := admin.tab(t)
		checkHeatmapPage(t, l, ctx, fed, sessions)
		screenshot(t, ctx, browsertest.Desktop(), filepath.Join(shots, "heatmap-1440.png"))
	})
	t.Run("phone", func(t *testing.T) {
		dev := browsertest.Phone()
		ctx, cancel := context.WithTimeout(browsertest.NewTab(t, admin.ctx, dev), 2*time.Minute)
		defer cancel()
		base := l.url + "/sites/" + siteA
		// Each page is drawn once its script settles; ok says it settled well.
		settled := func(id string) string {
			return `['ready', 'empty', 'error'].includes(document.getElementById('` + id +
				`')?.dataset.state)`
		}
		for _, p := range []struct{ name, path, drawn, ok string }{
			{"overview", "/overview", `!!document.querySelector('#chart canvas')`, `true`},
			{"recordings", "/recordings", `document.readyState === 'complete'`, fmt.Sprintf(
				`document.querySelectorAll('tr.recording').length === %d`, len(fed.sessions))},
			{"replay", "/recordings/" + fed.replay.id, settled("player"),
				`document.getElementById('player').dataset.state === 'ready'`},
			{"heatmap", "/heatmaps?" + url.Values{"url": {fed.landing}, "device": {"desktop"},
				"type": {"click"}}.Encode(), settled("heatmap"),
				`document.getElementById('heatmap').dataset.state === 'ready'`},
		} {
			openPage(t, ctx, base+p.path)
			waitFor(t, ctx, "the "+p.name+" page to be drawn", p.drawn)
			if !evaluate[bool](t, ctx, p.ok) {
				t.Errorf("the %s page on a phone is not drawn well: %s", p.name, p.ok)
			}
			screenshot(t, ctx, dev, filepath.Join(shots, p.name+"-390.png"))
		}
	})
}

// checkSetupAndSignIn makes the first account from the setup link the
// server logged, signs out, fails to sign in with a wrong password and signs
// in with the right one.
func checkSetupAndSignIn(t *testing.T, l *loupe, admin *chromium) {
	ctx := admin.tab(t)
	setup := setupURL(t, l)
	if !strings.HasPrefix(setup, l.url+"/setup/") {
		t.Errorf("setup link %s is not on the server at %s", setup, l.url)
	}
	openPage(t, ctx, setup)
	typeInto(t, ctx, `main form input[name=email]`, adminEmail)
	typeInto(t, ctx, `main form input[name=password]`, adminPassword)
	typeInto(t, ctx, `main form input[name=password2]`, adminPassword)
	submitAndWait(t, ctx, "Create account", `document.querySelector('main form button[type=submit]')`)
	if p := tabPath(t, ctx); p != "/sites" {
		t.Fatalf("after setup the browser is at %s, want /sites", p)
	}
	checkSignedIn(t, l, ctx, adminEmail)
	// The link made one account; it makes no other.
	if code := fetchStatus(t, ctx, "GET", setup, nil); code != http.StatusNotFound {
		t.Errorf("the used setup link answers %d, want 404", code)
	}

	submitAndWait(t, ctx, "Sign out", `document.querySelector('form.account button')`)
	if p := tabPath(t, ctx); !strings.HasPrefix(p, "/login") {
		t.Errorf("after signing out the browser is at %s, want /login", p)
	}
	checkSignedOut(t, l, ctx)

	typeInto(t, ctx, `main form input[name=email]`, adminEmail)
	typeInto(t, ctx, `main form input[name=password]`, adminPassword+"-wrong")
	submitAndWait(t, ctx, "Sign in", `document.querySelector('main form button[type=submit]')`)
	shown := evaluate[string](t, ctx, `document.querySelector('.error')?.textContent || ''`)
	if !strings.Contains(shown, "Wrong e-mail or password") {
		t.Errorf("a wrong password shows %q, want “Wrong e-mail or password”", shown)
	}
	if code := navigationStatus(t, ctx); code != http.StatusOK {
		t.Errorf("the sign-in page after a wrong password came with status %d; the "+
			"contract says 200", code)
	}
	checkSignedOut(t, l, ctx)

	typeInto(t, ctx, `main form input[name=email]`, adminEmail)
	typeInto(t, ctx, `main form input[name=password]`, adminPassword)
	submitAndWait(t, ctx, "Sign in", `document.querySelector('main form button[type=submit]')`)
	if p := tabPath(t, ctx); p != "/sites" {
		t.Errorf("after signing in the browser is at %s, want /sites", p)
	}
	checkSignedIn(t, l, ctx, adminEmail)
}

// checkSignedIn checks that the tab shows a page for a signed-in user and
// holds a login cookie.
func checkSignedIn(t *testing.T, l *loupe, ctx context.Context, email string) {
	t.Helper()
	who := evaluate[string](t, ctx, `document.querySelector('form.account .who')?.textContent || ''`)
	if strings.TrimSpace(who) != email {
		t.Errorf("the page names the user %q, want %q", who, email)
	}
	if cookie(t, ctx, l.url, "loupe_session") == "" {
		t.Error("signed in without a loupe_session cookie")
	}
}

// checkSignedOut checks that the tab's browser holds no login: the page has
// no account menu, and the list of sites sends it to sign in.
func checkSignedOut(t *testing.T, l *loupe, ctx context.Context) {
	t.Helper()
	if evaluate[bool](t, ctx, `!!document.querySelector('form.account')`) {
		t.Error("the page shows an account menu while signed out")
	}
	if c := cookie(t, ctx, l.url, "loupe_session"); c != "" {
		t.Errorf("the browser still holds a login cookie %q", c)
	}
	if code := fetchStatus(t, ctx, "GET", "/sites", nil); code == http.StatusOK {
		t.Error("the list of sites answers 200 while signed out")
	}
}

// siteFormJS reads the site settings form as its fields would be posted.
const siteFormJS = `JSON.stringify([...new FormData(document.getElementById('siteform'))])`

// checkFormToken posts forms without their token, from Go with the
// browser's cookie and from the page itself: each is refused with 403 and
// changes nothing.
func checkFormToken(t *testing.T, l *loupe, admin *chromium) {
	ctx := admin.tab(t)
	site := "/sites/" + l.site.Key
	openPage(t, ctx, l.url+site+"/settings")
	before := evaluate[string](t, ctx, siteFormJS)
	openPage(t, ctx, l.url+"/sites")
	sitesBefore := evaluate[int](t, ctx, `document.querySelectorAll('li.site').length`)
	login := cookie(t, ctx, l.url, "loupe_session")

	forged := url.Values{"name": {"Forged"}, "domains": {"forged.example"},
		"sample_rate": {"0"}, "retention_days": {"1"}, "timezone": {"UTC"}}
	withToken := func(token string) url.Values {
		v := url.Values{"csrf": {token}}
		for k, vs := range forged {
			v[k] = vs
		}
		return v
	}
	share := url.Values{"email": {"intruder@loupe.test"}, "role": {"owner"}}
	for _, c := range []struct {
		name string
		code int
	}{
		{"settings from Go", postForm(t, l.url, site+"/settings", login, forged)},
		{"settings from Go, wrong token", postForm(t, l.url, site+"/settings", login,
			withToken("not-the-token"))},
		{"new site from Go", postForm(t, l.url, "/sites", login, forged)},
		{"sign-out from Go", postForm(t, l.url, "/logout", login, url.Values{})},
		{"settings from the page", fetchStatus(t, ctx, "POST", site+"/settings", forged)},
		{"sharing from the page", fetchStatus(t, ctx, "POST", site+"/access", share)},
	} {
		if c.code != http.StatusForbidden {
			t.Errorf("%s without the form token: %d, want 403", c.name, c.code)
		}
	}

	openPage(t, ctx, l.url+site+"/settings")
	if after := evaluate[string](t, ctx, siteFormJS); after != before {
		t.Errorf("the site's settings changed from %s to %s", before, after)
	}
	if evaluate[bool](t, ctx, `document.body.textContent.includes('intruder@loupe.test')`) {
		t.Error("the site was shared by a form without its token")
	}
	openPage(t, ctx, l.url+"/sites")
	if n := evaluate[int](t, ctx, `document.querySelectorAll('li.site').length`); n != sitesBefore {
		t.Errorf("%d sites listed after the forged posts, %d before", n, sitesBefore)
	}
	// The refused sign-out signed nobody out.
	checkSignedIn(t, l, ctx, adminEmail)
}

var settingsPath = regexp.MustCompile(`^/sites/([^/?]+)/settings`)

// checkViewer adds a second site through the dashboard and a visit to it,
// invites a viewer to the first site only, and checks that the viewer gets
// 404 for every page and API path of the second.
func checkViewer(t *testing.T, l *loupe, admin, desktop *chromium, fed *fedSite) {
	ctx := admin.tab(t)
	siteA := l.site.Key

	// The second site, from the form of the sites page.
	openPage(t, ctx, l.url+"/sites")
	typeInto(t, ctx, `#siteform input[name=name]`, "Second site")
	typeInto(t, ctx, `#siteform input[name=domains]`, "127.0.0.1")
	submitAndWait(t, ctx, "Add a site", `document.querySelector('#siteform button[type=submit]')`)
	m := settingsPath.FindStringSubmatch(tabPath(t, ctx))
	if m == nil {
		t.Fatalf("adding a site led to %s, not to its settings", tabPath(t, ctx))
	}
	siteB := m[1]
	snippetB := evaluate[string](t, ctx, `document.getElementById('snippet')?.textContent || ''`)
	if !strings.Contains(snippetB, "/s/"+siteB+".js") {
		t.Fatalf("the new site's snippet does not load its tracker: %q", snippetB)
	}

	// A visit to the second site, with the snippet the dashboard gave.
	pagesB := browsertest.ServePages(t, corpusPages, snippetB)
	poll(t, "the server to serve the second site's loader", 15*time.Second,
		func() (bool, string) {
			resp, err := http.Get(l.url + "/s/" + siteB + ".js")
			if err != nil {
				return false, err.Error()
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK, resp.Status
		})
	visitB := desktop.tab(t)
	do(t, visitB, "open the other site's page", chromedp.Navigate(pagesB.URL+"/"+otherSiteApp))
	waitPage(t, visitB, "/"+otherSiteApp)
	sessionB := sessionID(t, visitB, siteB)
	do(t, visitB, "leave the other site", chromedp.Navigate("about:blank"))
	poll(t, "the second site's session "+sessionB, processWait, func() (bool, string) {
		code := fetchStatus(t, ctx, "GET", "/api/v1/sessions/"+sessionB, nil)
		return code == http.StatusOK, fmt.Sprint(code)
	})

	// The invitation to the first site.
	openPage(t, ctx, l.url+"/sites/"+siteA+"/settings")
	const share = `form[action$="/access"]`
	typeInto(t, ctx, share+` input[name=email]`, viewerEmail)
	evaluate[string](t, ctx, `document.querySelector('`+share+` select[name=role]').value = 'viewer'`)
	submitAndWait(t, ctx, "Share", `document.querySelector('`+share+` button[type=submit]')`)
	invite := strings.TrimSpace(evaluate[string](t, ctx,
		`document.getElementById('invite-link')?.textContent || ''`))
	if !strings.HasPrefix(invite, l.url+"/setup/") {
		t.Fatalf("sharing the site printed the invitation link %q", invite)
	}

	// The viewer, in a browser of their own.
	viewer := newBrowser(t, browsertest.Desktop()).tab(t)
	openPage(t, viewer, invite)
	v := evaluate[string](t, viewer, `document.querySelector('main form input[name=email]').value`)
	if v != viewerEmail {
		t.Errorf("the invitation's form holds the address %q, want %q", v, viewerEmail)
	}
	typeInto(t, viewer, `main form input[name=password]`, viewerPassword)
	typeInto(t, viewer, `main form input[name=password2]`, viewerPassword)
	submitAndWait(t, viewer, "Create account",
		`document.querySelector('main form button[type=submit]')`)
	if p := tabPath(t, viewer); p != "/sites" {
		t.Fatalf("after accepting the invitation the viewer is at %s, want /sites", p)
	}
	checkSignedIn(t, l, viewer, viewerEmail)
	listed := evaluate[[]string](t, viewer,
		`[...document.querySelectorAll('li.site[data-site]')].map(e => e.dataset.site)`)
	if !slices.Equal(listed, []string{siteA}) {
		t.Errorf("the viewer's sites are %q, want only %s", listed, siteA)
	}

	heat := "?" + url.Values{"url": {fed.landing}, "device": {"desktop"}}.Encode()
	for _, p := range []string{
		"/sites/" + siteB,
		"/sites/" + siteB + "/overview",
		"/sites/" + siteB + "/recordings",
		"/sites/" + siteB + "/recordings/" + sessionB,
		"/sites/" + siteB + "/heatmaps",
		"/sites/" + siteB + "/heatmaps" + heat,
		"/sites/" + siteB + "/settings",
		"/sites/" + siteA + "/recordings/" + sessionB,
		"/api/v1/sites/" + siteB + "/stats",
		"/api/v1/sites/" + siteB + "/sessions",
		"/api/v1/sites/" + siteB + "/heatmap" + heat + "&type=click",
		"/api/v1/sites/" + siteB + "/status",
		"/api/v1/sites/" + siteB + "/snapshot" + heat,
		"/api/v1/sites/" + siteB + "/pages",
		"/api/v1/sessions/" + sessionB,
		"/api/v1/sessions/" + sessionB + "/recording",
	} {
		if code := fetchStatus(t, viewer, "GET", p, nil); code != http.StatusNotFound {
			t.Errorf("the viewer of one site gets %d for %s, want 404", code, p)
		}
	}
	// What the viewer may see, so that the 404s above are not all there is.
	for _, p := range []string{
		"/sites/" + siteA + "/overview",
		"/sites/" + siteA + "/recordings",
		"/sites/" + siteA + "/recordings/" + fed.replay.id,
		"/api/v1/sites/" + siteA + "/stats",
		"/api/v1/sessions/" + fed.replay.id,
	} {
		if code := fetchStatus(t, viewer, "GET", p, nil); code != http.StatusOK {
			t.Errorf("the viewer gets %d for %s of their site, want 200", code, p)
		}
	}
	// A viewer may not change a site, theirs or another, even with a valid
	// form token.
	token := evaluate[string](t, viewer,
		`document.querySelector('form.account input[name=csrf]').value`)
	change := url.Values{"csrf": {token}, "name": {"Renamed by a viewer"},
		"domains": {"viewer.example"}}
	for _, p := range []string{"/sites/" + siteA + "/settings", "/sites/" + siteB + "/settings",
		"/sites/" + siteA + "/access"} {
		if code := fetchStatus(t, viewer, "POST", p, change); code != http.StatusNotFound &&
			code != http.StatusForbidden {
			t.Errorf("the viewer's POST %s answers %d, want 404 or 403", p, code)
		}
	}
	for _, key := range []string{siteA, siteB} {
		openPage(t, ctx, l.url+"/sites/"+key+"/settings")
		if form := evaluate[string](t, ctx, siteFormJS); strings.Contains(form, "viewer") {
			t.Errorf("a viewer changed the settings of site %s: %s", key, form)
		}
	}
}

// dashStats is the stats API's answer, as far as the overview shows it.
type dashStats struct {
	Visitors    int64           `json:"visitors"`
	Sessions    int64           `json:"sessions"`
	PageViews   int64           `json:"page_views"`
	BounceRate  float64         `json:"bounce_rate"`
	AvgDuration float64         `json:"avg_duration_seconds"`
	Series      json.RawMessage `json:"series"`
}

// breakdownRow is a name and its count: a row of a breakdown, or an element
// of the heatmap's ranking.
type breakdownRow struct {
	Name  string `json:"name"`
	Count int64  `json:"count"`
}

// overviewPage is what the overview page shows.
type overviewPage struct {
	Figures map[string]float64
	Tables  map[string][]struct {
		Name  string
		Count int64
		Link  string
	}
	Series     string
	Canvas     bool
	ChartState string
}

// checkOverview compares the overview's figures, breakdowns and chart data
// with the stats API for the same range, both read as the signed-in admin.
func checkOverview(t *testing.T, l *loupe, ctx context.Context, fed *fedSite) {
	today := time.Now().UTC()
	rng := "?from=" + today.AddDate(0, 0, -1).Format(time.DateOnly) + "&to=" +
		today.Format(time.DateOnly)
	site := "/sites/" + l.site.Key
	api := "/api/v1/sites/" + l.site.Key + "/stats" + rng

	// The API is read before and after the page: a late batch between them
	// would make any difference meaningless, so the page is read again.
	var raw json.RawMessage
	var shown overviewPage
	// The API is asked from a page of the dashboard, with its cookie.
	openPage(t, ctx, l.url+"/sites")
	for attempt := 1; ; attempt++ {
		var before json.RawMessage
		fetchJSON(t, ctx, api, &before)
		openPage(t, ctx, l.url+site+"/overview"+rng)
		waitFor(t, ctx, "the chart", `!!document.querySelector('#chart canvas')`)
		shown = evaluate[overviewPage](t, ctx, `(() => {
			const figures = {};
			for (const e of document.querySelectorAll('[id^="stat-"]')) {
				figures[e.id.slice(5)] = Number(e.dataset.value);
			}
			const tables = {};
			for (const table of document.querySelectorAll('table.breakdown[id^="bd-"]')) {
				tables[table.id.slice(3)] = [...table.querySelectorAll('tr[data-name]')].map(r =>
					({Name: r.dataset.name, Count: Number(r.dataset.count),
						Link: r.querySelector('a')?.getAttribute('href') || ''}));
			}
			const chart = document.getElementById('chart');
			return {Figures: figures, Tables: tables, Series: chart.dataset.series || '',
				Canvas: !!chart.querySelector('canvas'), ChartState: chart.dataset.state || ''};
		})()`)
		fetchJSON(t, ctx, api, &raw)
		if string(raw) == string(before) {
			break
		}
		if attempt == 3 {
			t.Fatalf("the stats kept changing while the overview was read:\n%s\n%s", before, raw)
		}
	}

	var stats dashStats
	var lists map[string]json.RawMessage
	if err := json.Unmarshal(raw, &stats); err != nil {
		t.Fatalf("decode the stats %s: %v", raw, err)
	}
	if err := json.Unmarshal(raw, &lists); err != nil {
		t.Fatalf("decode the stats %s: %v", raw, err)
	}
	want := map[string]float64{"visitors": float64(stats.Visitors),
		"sessions": float64(stats.Sessions), "page_views": float64(stats.PageViews),
		"bounce_rate": stats.BounceRate, "avg_duration": stats.AvgDuration}
	if !reflect.DeepEqual(shown.Figures, want) {
		t.Errorf("the overview's figures are %v;\nthe API's %v", shown.Figures, want)
	}
	if stats.Sessions != int64(len(fed.sessions)) {
		t.Errorf("%d sessions in the stats, want the %d visits made", stats.Sessions,
			len(fed.sessions))
	}

	for _, id := range breakdownIDs {
		var rows []breakdownRow
		if b, ok := lists[id]; ok && string(b) != "null" {
			if err := json.Unmarshal(b, &rows); err != nil {
				t.Errorf("decode the API's %s: %v", id, err)
			}
		}
		var got []breakdownRow
		for _, r := range shown.Tables[id] {
			got = append(got, breakdownRow{Name: r.Name, Count: r.Count})
			if !strings.HasPrefix(r.Link, site+"/recordings?") {
				t.Errorf("row %s of bd-%s links to %q, not to the recordings", r.Name, id, r.Link)
			}
		}
		if !slices.Equal(got, rows) {
			t.Errorf("bd-%s shows %v; the API has %v", id, got, rows)
		}
	}
	pages := map[string]int64{}
	for _, r := range shown.Tables["top_pages"] {
		pages[r.Name] = r.Count
	}
	devices := map[string]int64{}
	for _, r := range shown.Tables["devices"] {
		devices[r.Name] = r.Count
	}
	if pages[fed.landing] == 0 || pages[fed.second] == 0 {
		t.Errorf("the top pages %v lack %s or %s", pages, fed.landing, fed.second)
	}
	if !reflect.DeepEqual(devices, map[string]int64{"desktop": 4, "mobile": 1}) {
		t.Errorf("the devices breakdown is %v, want 4 desktop and 1 mobile", devices)
	}

	var chartData, apiSeries any
	if err := json.Unmarshal([]byte(shown.Series), &chartData); err != nil {
		t.Errorf("#chart[data-series] is not JSON: %.200q: %v", shown.Series, err)
	}
	if err := json.Unmarshal(stats.Series, &apiSeries); err != nil || apiSeries == nil {
		t.Errorf("the stats API has no series: %.200s", stats.Series)
	}
	if !reflect.DeepEqual(chartData, apiSeries) {
		t.Errorf("the chart's series %s differ from the API's %s", shown.Series, stats.Series)
	}
	if !shown.Canvas {
		t.Errorf("no canvas in #chart (state %q)", shown.ChartState)
	}
}

// checkRecordings compares the sessions each filter of the recordings list
// shows with the visits made.
func checkRecordings(t *testing.T, l *loupe, ctx context.Context, fed *fedSite) {
	all := fed.ids(func(*fedSession) bool { return true })
	only := func(s *fedSession) []string { return []string{s.id} }
	second := url.QueryEscape(fed.second)
	for _, c := range []struct {
		name, query string
		want        []string
	}{
		{"page visited", "page=" + second, only(fed.secondVisit)},
		{"page visited, by URL", "page=" + url.QueryEscape(fed.pagesURL+"/"+secondPage),
			only(fed.secondVisit)},
		{"entry page", "entry=" + url.QueryEscape(fed.landing), all},
		{"mobile", "device=mobile", only(fed.phone)},
		{"desktop", "device=desktop", fed.ids(func(s *fedSession) bool {
			return s.device == "desktop"
		})},
		{"rage", "rage=1", only(fed.rage)},
		{"desktop with rage", "device=desktop&rage=1", only(fed.rage)},
		{"mobile with rage", "device=mobile&rage=1", nil},
		{"page visited on a desktop", "page=" + second + "&device=desktop",
			only(fed.secondVisit)},
		{"page visited on a phone", "page=" + second + "&device=mobile", nil},
		{"page visited with rage", "page=" + second + "&rage=1", nil},
		{"everything", "", all},
	} {
		openPage(t, ctx, l.url+"/sites/"+l.site.Key+"/recordings?"+c.query)
		got := evaluate[[]string](t, ctx,
			`[...document.querySelectorAll('tr.recording[data-session]')].map(r => r.dataset.session)`)
		shown := slices.Clone(got)
		slices.Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s (?%s): sessions %q, want %q", c.name, c.query, got, c.want)
		}
		if len(c.want) == 0 && !evaluate[bool](t, ctx, `!!document.querySelector('.empty')`) {
			t.Errorf("%s (?%s): no .empty state", c.name, c.query)
		}
		if c.query != "" {
			continue
		}
		// Newest first: the visits were made one after the other.
		var newest []string
		for _, s := range slices.Backward(fed.sessions) {
			newest = append(newest, s.id)
		}
		if !slices.Equal(shown, newest) {
			t.Errorf("the list's order is %q, want newest first %q", shown, newest)
		}
		links := evaluate[[]string](t, ctx, `[...document.querySelectorAll('tr.recording')].map(r =>
			r.dataset.session + ' ' + (r.querySelector('a.play')?.getAttribute('href') || ''))`)
		for _, link := range links {
			id, href, _ := strings.Cut(link, " ")
			if href != "/sites/"+l.site.Key+"/recordings/"+id {
				t.Errorf("the play link of %s goes to %q", id, href)
			}
		}
	}
}

// playerState is what the replay page shows of its player.
type playerState struct {
	State, Error  string
	Clicks, Pages int
	Current       float64
	Text, Button  string
}

const playerJS = `(() => {
	const p = document.getElementById('player');
	const frame = p && p.querySelector('iframe');
	const doc = frame && frame.contentDocument;
	return {
		State: p ? p.dataset.state || '' : 'no #player',
		Error: p && p.querySelector('.error') ? p.querySelector('.error').textContent : '',
		Clicks: document.querySelectorAll('#timeline .mark[data-kind="click"]').length,
		Pages: document.querySelectorAll('#timeline .mark[data-kind="page"]').length,
		Current: Number(p && p.dataset.current),
		Text: doc && doc.body ? doc.body.innerText : '',
		Button: document.querySelector('#play') ? document.querySelector('#play').textContent : '',
	};
})()`

// checkReplayPage plays a recording on its replay page: the player gets
// ready, the timeline marks every click, and playing shows the recorded
// page and moves the position on.
func checkReplayPage(t *testing.T, l *loupe, ctx context.Context, s *dashSession,
	headline string) {
	openPage(t, ctx, l.url+"/sites/"+l.site.Key+"/recordings/"+s.ID)
	waitFor(t, ctx, "the player to load",
		`['ready', 'error'].includes(document.querySelector('#player')?.dataset.state)`)
	p := evaluate[playerState](t, ctx, playerJS)
	if p.State != "ready" {
		t.Fatalf("the player is %q: %s", p.State, p.Error)
	}
	if p.Clicks != s.Clicks || s.Clicks == 0 {
		t.Errorf("%d click marks on the timeline; the session has %d clicks", p.Clicks, s.Clicks)
	}
	if p.Pages != len(s.PageViews) {
		t.Errorf("%d page marks on the timeline; the session has %d page views", p.Pages,
			len(s.PageViews))
	}

	// The recording is short: it may play to its end between two looks, so
	// the position is only compared with where it stood before playing.
	before := p.Current
	click(t, ctx, browsertest.Desktop(), "the play button", `document.querySelector('#play')`,
		0.5, 0.5)
	poll(t, "the recorded page to play", 20*time.Second, func() (bool, string) {
		p = evaluate[playerState](t, ctx, playerJS)
		return strings.Contains(p.Text, headline) && p.Current > before,
			fmt.Sprintf("%+.300v (at %v before playing)", p, before)
	})
}

// heatPixels is a point of the click heatmap's canvas under the most clicked
// element, and one far from every click.
type heatPixels struct {
	Error               string
	X, Y, Width, Height int
	FrameW, FrameH      int
	Hot, Cold           []int
	// Clicked is the canvas at the page coordinates where the visitor
	// clicked the element.
	Clicked []int
}

// checkHeatmapPage opens the landing page's desktop click heatmap: the
// ranked elements are the ones clicked, each placed on its element, and the
// canvas is hot where the most clicked element is and clear far from it.
func checkHeatmapPage(t *testing.T, l *loupe, ctx context.Context, fed *fedSite,
	sessions map[string]*dashSession) {
	query := url.Values{"url": {fed.landing}, "device": {"desktop"}, "type": {"click"}}.Encode()
	openPage(t, ctx, l.url+"/sites/"+l.site.Key+"/heatmaps?"+query)
	waitFor(t, ctx, "the heatmap to load", `['ready', 'empty', 'error'].includes(
		document.querySelector('#heatmap')?.dataset.state)`)
	state := evaluate[[]string](t, ctx, `(() => {
		const h = document.getElementById('heatmap');
		return [h.dataset.state, h.dataset.placed || '', h.dataset.fallback || '',
			h.querySelector('.error, .empty')?.textContent || ''];
	})()`)
	if state[0] != "ready" {
		t.Fatalf("the heatmap is %q: %s", state[0], state[3])
	}

	// The elements clicked, from the sessions that clicked them.
	selector := func(s *fedSession) string {
		clicks := sessions[s.id].ClickEvents
		if len(clicks) == 0 {
			t.Fatalf("the %s has no clicks", s.name)
		}
		return clicks[len(clicks)-1].Selector
	}
	button, headline, paragraph := selector(fed.replay), selector(fed.rage),
		sessions[fed.secondVisit.id].ClickEvents[0].Selector
	want := []breakdownRow{{Name: button, Count: 5}, {Name: headline, Count: 3},
		{Name: paragraph, Count: 1}}
	got := evaluate[[]breakdownRow](t, ctx, `[...document.querySelectorAll(
		'table#elements tr[data-selector]')].map(r => ({name: r.dataset.selector,
		count: Number(r.dataset.count)}))`)
	if !slices.Equal(got, want) {
		t.Errorf("the ranked elements are %v, want %v", got, want)
	}

	var heat struct {
		Elements []heatCell `json:"elements"`
	}
	fetchJSON(t, ctx, "/api/v1/sites/"+l.site.Key+"/heatmap?"+query, &heat)
	if state[1] != fmt.Sprint(len(heat.Elements)) || state[2] != "0" {
		t.Errorf("data-placed %q and data-fallback %q; want all %d cells placed by selector",
			state[1], state[2], len(heat.Elements))
	}

	// Where the first click on the button landed on the page as the visitor
	// saw it.
	first := sessions[fed.replay.id].ClickEvents[0]
	var px heatPixels
	poll(t, "the heat over the most clicked element", 10*time.Second, func() (bool, string) {
		px = evaluate[heatPixels](t, ctx, fmt.Sprintf(`(() => {
			const frame = document.querySelector('#heatmap iframe');
			const doc = frame && frame.contentDocument;
			if (!doc) return {Error: 'no readable iframe in #heatmap'};
			const el = doc.querySelector(%s);
			if (!el) return {Error: 'the most clicked element is not in the rebuilt page'};
			const box = el.getBoundingClientRect();
			const win = frame.contentWindow;
			const x = Math.round(box.left + win.scrollX + box.width / 2);
			const y = Math.round(box.top + win.scrollY + box.height / 2);
			const canvas = document.getElementById('heat-canvas');
			const ctx = canvas.getContext('2d');
			const at = (x, y) => Array.from(ctx.getImageData(x, y, 1, 1).data);
			return {X: x, Y: y, Width: canvas.width, Height: canvas.height,
				FrameW: frame.offsetWidth, FrameH: frame.offsetHeight,
				Hot: at(x, y), Cold: at(10, canvas.height - 10),
				Clicked: at(Math.round(%g), Math.round(%g))};
		})()`, jsString(button), first.X, first.Y))
		ok := px.Error == "" && len(px.Hot) == 4 && len(px.Cold) == 4 &&
			px.Hot[3] >= 128 && px.Hot[0] > px.Hot[2] && px.Cold[3] == 0
		return ok, fmt.Sprintf("%+v", px)
	})
	if px.Width != 1440 || px.Width != px.FrameW || px.Height != px.FrameH {
		t.Errorf("the canvas is %dx%d over a page of %dx%d; want both as wide as the "+
			"recorded 1440-pixel viewport", px.Width, px.Height, px.FrameW, px.FrameH)
	}
	// Canvas pixel (x, y) is page coordinate (x, y): the page rebuilt must be
	// laid out as the visitor saw it, so that the heat is where they clicked.
	if len(px.Clicked) != 4 || px.Clicked[3] < 128 {
		t.Errorf("the canvas at %.0f,%.0f, where the visitor clicked the button, is %v; the "+
			"heat is drawn at %d,%d, where the rebuilt page shows the button", first.X, first.Y,
			px.Clicked, px.X, px.Y)
	}
	t.Logf("heat at the button's centre %d,%d: %v; where it was clicked, %.0f,%.0f: %v; "+
		"at the bottom left: %v; canvas %dx%d", px.X, px.Y, px.Hot, first.X, first.Y,
		px.Clicked, px.Cold, px.Width, px.Height)
}
