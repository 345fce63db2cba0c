package server

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// dashClient is one browser's view of the dashboard: it keeps cookies and
// does not follow redirects, so tests see each answer.
type dashClient struct {
	t    testing.TB
	base string
	http *http.Client
}

func newDashClient(t testing.TB, base string) *dashClient {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &dashClient{t: t, base: base, http: &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}}
}

// get fetches a path and returns the status and body.
func (c *dashClient) get(path string) (int, string) {
	c.t.Helper()
	resp, err := c.http.Get(c.base + path)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// post sends a form as a browser on the dashboard's own origin does and
// returns the status, the redirect target and the body.
func (c *dashClient) post(path string, form url.Values) (int, string, string) {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(body)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the form token of a page, failing the test when it has none.
func (c *dashClient) csrf(page string) string {
	c.t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		c.t.Fatalf("page has no form token:\n%.400s", page)
	}
	return html.UnescapeString(m[1])
}

var setupURL = regexp.MustCompile(`setup_url=(\S+)`)

// setupPath returns the path of the setup link the server logged.
func (ts *testServer) setupPath(t testing.TB) string {
	t.Helper()
	m := setupURL.FindAllStringSubmatch(ts.log.String(), -1)
	if m == nil {
		t.Fatalf("server logged no setup link:\n%s", ts.log.String())
	}
	u, err := url.Parse(m[len(m)-1][1])
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}

// createAccount fills in a setup or invitation page and returns the
// signed-in client.
func createAccount(t testing.TB, ts *testServer, path, email, password string) *dashClient {
	t.Helper()
	c := newDashClient(t, ts.url)
	status, page := c.get(path)
	if status != http.StatusOK {
		t.Fatalf("GET %s = %d:\n%s", path, status, page)
	}
	status, loc, body := c.post(path, url.Values{"csrf": {c.csrf(page)}, "email": {email},
		"password": {password}, "password2": {password}})
	if status != http.StatusSeeOther || loc != "/sites" {
		msg := regexp.MustCompile(`class="error"[^>]*>([^<]*)`).FindStringSubmatch(body)
		t.Fatalf("setup %s = %d to %q: %q\nserver log:\n%s", path, status, loc, msg,
			ts.log.String())
	}
	return c
}

func TestDashboardAccounts(t *testing.T) {
	ts := startServer(t, "example.com")
	setup := ts.setupPath(t)

	// The setup form refuses a post without its token, a short password and
	// differing passwords, and changes nothing.
	c := newDashClient(t, ts.url)
	status, page := c.get(setup)
	if status != http.StatusOK || !strings.Contains(page, "Welcome to Loupe") {
		t.Fatalf("setup page = %d:\n%s", status, page)
	}
	token := c.csrf(page)
	form := url.Values{"email": {"owner@example.com"}, "password": {"correct horse"},
		"password2": {"correct horse"}}
	if status, _, _ := c.post(setup, form); status != http.StatusForbidden {
		t.Errorf("setup without csrf = %d, want 403", status)
	}
	form.Set("csrf", "x"+token[1:])
	if status, _, _ := c.post(setup, form); status != http.StatusForbidden {
		t.Errorf("setup with a wrong csrf = %d, want 403", status)
	}
	form.Set("csrf", token)
	form.Set("password", "short")
	form.Set("password2", "short")
	if status, _, body := c.post(setup, form); status != http.StatusBadRequest ||
		!strings.Contains(body, "at least 10 characters") {
		t.Errorf("short password = %d:\n%.300s", status, body)
	}
	form.Set("password", "correct horse")
	form.Set("password2", "correct horsf")
	if status, _, body := c.post(setup, form); status != http.StatusBadRequest ||
		!strings.Contains(body, "passwords differ") {
		t.Errorf("different passwords = %d:\n%.300s", status, body)
	}
	form.Set("password2", "correct horse")
	status, loc, _ := c.post(setup, form)
	if status != http.StatusSeeOther || loc != "/sites" {
		t.Fatalf("setup = %d to %q", status, loc)
	}
	if status, page := c.get("/sites"); status != http.StatusOK ||
		!strings.Contains(page, ts.site.Key) {
		t.Fatalf("the administrator does not see the site: %d", status)
	}

	// The link works once.
	if status, _ := newDashClient(t, ts.url).get(setup); status != http.StatusNotFound {
		t.Errorf("used setup link = %d, want 404", status)
	}

	// The session cookie is HTTP-only and SameSite; a signed-out browser is
	// sent to sign in.
	u, _ := url.Parse(ts.url)
	cookies := c.http.Jar.Cookies(u)
	if len(cookies) == 0 {
		t.Fatal("no cookie after setup")
	}
	stranger := newDashClient(t, ts.url)
	if status, _ := stranger.get("/sites/" + ts.site.Key + "/overview"); status != http.StatusSeeOther {
		t.Errorf("signed-out overview = %d, want 303 to sign in", status)
	}
	if status, _ := stranger.get("/api/v1/sites/" + ts.site.Key + "/stats"); status != http.StatusUnauthorized {
		t.Errorf("signed-out API = %d, want 401", status)
	}

	// Sign out needs the form token; then the cookie no longer works.
	_, page = c.get("/sites")
	if status, _, _ := c.post("/logout", url.Values{}); status != http.StatusForbidden {
		t.Errorf("logout without csrf = %d, want 403", status)
	}
	if status, _, _ := c.post("/logout", url.Values{"csrf": {c.csrf(page)}}); status != http.StatusSeeOther {
		t.Errorf("logout = %d", status)
	}
	if status, _ := c.get("/sites"); status != http.StatusSeeOther {
		t.Errorf("after logout /sites = %d, want 303", status)
	}

	// Wrong passwords are refused with a message, the right one signs in.
	_, page = c.get("/login")
	token = c.csrf(page)
	status, _, body := c.post("/login", url.Values{"csrf": {token},
		"email": {"owner@example.com"}, "password": {"wrong password"}})
	if status != http.StatusOK || !strings.Contains(body, "Wrong e-mail or password") ||
		strings.Contains(body, `action="/logout"`) {
		t.Errorf("wrong password = %d:\n%.300s", status, body)
	}
	status, _, _ = c.post("/login", url.Values{"email": {"owner@example.com"},
		"password": {"correct horse"}})
	if status != http.StatusForbidden {
		t.Errorf("login without csrf = %d, want 403", status)
	}
	status, loc, _ = c.post("/login", url.Values{"csrf": {token},
		"email": {"OWNER@example.com "}, "password": {"correct horse"},
		"next": {"/sites/" + ts.site.Key + "/overview"}})
	if status != http.StatusSeeOther || loc != "/sites/"+ts.site.Key+"/overview" {
		t.Errorf("login = %d to %q", status, loc)
	}

	// A form posted from another site is refused even with a token.
	_, page = c.get("/sites")
	req, _ := http.NewRequest(http.MethodPost, ts.url+"/sites", strings.NewReader(
		url.Values{"csrf": {c.csrf(page)}, "domains": {"evil.example"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site post = %d, want 403", resp.StatusCode)
	}

	// Guessing is throttled: after five wrong tries for one address, even
	// the right password waits.
	g := newDashClient(t, ts.url)
	_, page = g.get("/login")
	token = g.csrf(page)
	var last int
	for range 6 {
		last, _, _ = g.post("/login", url.Values{"csrf": {token},
			"email": {"owner@example.com"}, "password": {"guess"}})
	}
	if last != http.StatusTooManyRequests {
		t.Errorf("sixth wrong password = %d, want 429", last)
	}
	req, _ = http.NewRequest(http.MethodPost, ts.url+"/login", strings.NewReader(url.Values{
		"csrf": {token}, "email": {"owner@example.com"}, "password": {"guess"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err = g.http.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "60" {
		t.Errorf("throttled sign-in = %d, Retry-After %q", resp.StatusCode,
			resp.Header.Get("Retry-After"))
	}
	status, _, _ = g.post("/login", url.Values{"csrf": {token},
		"email": {"owner@example.com"}, "password": {"correct horse"}})
	if status != http.StatusTooManyRequests {
		t.Errorf("right password while throttled = %d, want 429", status)
	}
}

func TestDashboardViewerIsolation(t *testing.T) {
	ts := startServer(t, "a.example")
	admin := createAccount(t, ts, ts.setupPath(t), "admin@example.com", "a long password")

	// The administrator adds a second site and shares the first with a
	// viewer, who joins through the invitation link.
	_, page := admin.get("/sites")
	status, loc, body := admin.post("/sites", url.Values{"csrf": {admin.csrf(page)},
		"name": {"Site B"}, "domains": {"https://b.example/"}, "sample_rate": {"50"},
		"retention_days": {"90"}, "timezone": {"Europe/Paris"}})
	if status != http.StatusSeeOther {
		t.Fatalf("add site = %d:\n%.500s", status, body)
	}
	keyB := strings.Split(strings.TrimPrefix(loc, "/sites/"), "/")[0]
	status, page = admin.get("/sites/" + keyB + "/settings?added=1")
	if status != http.StatusOK || !strings.Contains(page, "/s/"+keyB+".js") ||
		!strings.Contains(page, `value="b.example"`) || !strings.Contains(page, `value="50"`) {
		t.Fatalf("settings of the new site = %d:\n%.2000s", status, page)
	}

	keyA := ts.site.Key
	_, page = admin.get("/sites/" + keyA + "/settings")
	status, _, body = admin.post("/sites/"+keyA+"/access", url.Values{
		"csrf": {admin.csrf(page)}, "email": {"viewer@example.com"}, "role": {"viewer"}})
	m := regexp.MustCompile(`id="invite-link">[^<]*(/setup/[a-z0-9]+)<`).FindStringSubmatch(body)
	if status != http.StatusOK || m == nil {
		t.Fatalf("share = %d, no invitation link:\n%.2000s", status, body)
	}
	viewer := createAccount(t, ts, m[1], "someone-else@example.com", "viewer password")
	if _, page := admin.get("/sites/" + keyA + "/settings"); !strings.Contains(page,
		"viewer@example.com") {
		t.Error("the invited address is not in the access list")
	}

	// The viewer reads site A's pages and API, and nothing of site B, which
	// is "not found" everywhere; nor A's owner-only settings.
	for _, path := range []string{"/sites/" + keyA + "/overview", "/sites/" + keyA + "/recordings",
		"/sites/" + keyA + "/heatmaps", "/api/v1/sites/" + keyA + "/stats",
		"/api/v1/sites/" + keyA + "/status"} {
		if status, body := viewer.get(path); status != http.StatusOK {
			t.Errorf("viewer GET %s = %d:\n%.300s", path, status, body)
		}
	}
	for _, path := range []string{"/sites/" + keyB, "/sites/" + keyB + "/overview",
		"/sites/" + keyB + "/recordings", "/sites/" + keyB + "/recordings/00000000000000ab",
		"/sites/" + keyB + "/heatmaps", "/sites/" + keyB + "/settings",
		"/sites/" + keyA + "/settings",
		"/api/v1/sites/" + keyB + "/stats", "/api/v1/sites/" + keyB + "/sessions",
		"/api/v1/sites/" + keyB + "/heatmap?url=/", "/api/v1/sites/" + keyB + "/status",
		"/api/v1/sites/" + keyB + "/snapshot?url=/", "/api/v1/sites/" + keyB + "/pages"} {
		if status, _ := viewer.get(path); status != http.StatusNotFound {
			t.Errorf("viewer GET %s = %d, want 404", path, status)
		}
	}
	_, page = viewer.get("/sites")
	if strings.Contains(page, keyB) || !strings.Contains(page, keyA) {
		t.Error("the viewer's site list is wrong")
	}
	for _, path := range []string{"/sites/" + keyA + "/settings", "/sites/" + keyB + "/settings",
		"/sites/" + keyA + "/access"} {
		status, _, _ := viewer.post(path, url.Values{"csrf": {viewer.csrf(page)},
			"domains": {"x.example"}, "email": {"x@example.com"}, "role": {"owner"}})
		if status != http.StatusNotFound {
			t.Errorf("viewer POST %s = %d, want 404", path, status)
		}
	}

	// A pending invitation is listed until cancelled; a removed member
	// finds the site gone.
	_, page = admin.get("/sites/" + keyA + "/settings")
	admin.post("/sites/"+keyA+"/access", url.Values{"csrf": {admin.csrf(page)},
		"email": {"later@example.com"}, "role": {"owner"}})
	if _, page = admin.get("/sites/" + keyA + "/settings"); !strings.Contains(page,
		`data-invite="later@example.com"`) || !strings.Contains(page,
		`data-member="viewer@example.com"`) {
		t.Fatalf("settings do not list the member and the pending invitation:\n%.3000s", page)
	}
	for _, email := range []string{"later@example.com", "viewer@example.com"} {
		status, _, body := admin.post("/sites/"+keyA+"/access/remove", url.Values{
			"csrf": {admin.csrf(page)}, "email": {email}})
		if status != http.StatusOK || strings.Contains(body, `data-invite="`+email) ||
			strings.Contains(body, `data-member="`+email) {
			t.Errorf("remove %s = %d, still listed", email, status)
		}
	}
	if status, _ := viewer.get("/sites/" + keyA + "/overview"); status != http.StatusNotFound {
		t.Errorf("removed viewer GET overview = %d, want 404", status)
	}
	if status, _, _ := admin.post("/sites/"+keyA+"/access/remove", url.Values{
		"csrf": {admin.csrf(page)}, "email": {"viewer@example.com"}}); status != http.StatusBadRequest {
		t.Errorf("removing someone without access = %d, want 400", status)
	}
}

func TestOverviewMatchesAPI(t *testing.T) {
	ts := startServer(t, "example.com")
	admin := createAccount(t, ts, ts.setupPath(t), "admin@example.com", "a long password")

	// Three visits: two single-page bounces and one of three pages.
	now := time.Now().UnixMilli()
	visits := []struct {
		sid   string
		pages []string
	}{
		{"0000000000000a01", []string{"/"}},
		{"0000000000000a02", []string{"/pricing"}},
		{"0000000000000a03", []string{"/", "/pricing", "/signup"}},
	}
	for _, v := range visits {
		var events []map[string]any
		for i, p := range v.pages {
			events = append(events, map[string]any{"type": "pageview",
				"t": now - 20000 + int64(i*4000), "pid": i + 1, "url": "https://example.com" + p,
				"title": p, "vw": 1280, "vh": 800})
		}
		status, msg := ts.post(t, v.sid, 1, batchJSON(t, now, events, nil),
			map[string]string{"Origin": "https://example.com"})
		if status != http.StatusAccepted {
			t.Fatalf("post = %d %s", status, msg)
		}
	}
	ts.waitSession(t, "0000000000000a03", func(s sessionDetail) bool { return s.Pages == 3 })

	var api struct {
		Visitors   int64   `json:"visitors"`
		Sessions   int64   `json:"sessions"`
		PageViews  int64   `json:"page_views"`
		BounceRate float64 `json:"bounce_rate"`
		AvgSecs    float64 `json:"avg_duration_seconds"`
	}
	if status, body := admin.get("/api/v1/sites/" + ts.site.Key + "/stats"); status != 200 {
		t.Fatalf("stats = %d %s", status, body)
	} else if err := json.Unmarshal([]byte(body), &api); err != nil {
		t.Fatal(err)
	}
	if api.Sessions != 3 || api.PageViews != 5 {
		t.Fatalf("API stats %+v, want 3 sessions and 5 page views", api)
	}
	status, page := admin.get("/sites/" + ts.site.Key + "/overview")
	if status != http.StatusOK {
		t.Fatalf("overview = %d:\n%s", status, page)
	}
	figure := func(id string) float64 {
		m := regexp.MustCompile(`id="stat-` + id + `" data-value="([^"]+)"`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("overview has no %s figure", id)
		}
		f, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	for id, want := range map[string]float64{"visitors": float64(api.Visitors),
		"sessions": float64(api.Sessions), "page_views": float64(api.PageViews),
		"bounce_rate": api.BounceRate, "avg_duration": api.AvgSecs} {
		if got := figure(id); got != want {
			t.Errorf("overview %s = %v, API says %v", id, got, want)
		}
	}
	for _, row := range []string{`data-name="example.com/pricing" data-count="2"`,
		`data-name="example.com/" data-count="2"`, `data-name="example.com/signup" data-count="1"`} {
		if !strings.Contains(page, row) {
			t.Errorf("top pages lack %s", row)
		}
	}
}
