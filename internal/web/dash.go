package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"loupe.dev/loupe/internal/blob"
	"loupe.dev/loupe/internal/store"
)

//go:embed templates/*.html
var templateFiles embed.FS

// Assets are the dashboard's static files, served at content-hashed URLs.
type Assets interface {
	http.Handler
	// URL returns the content-hashed path of a named file.
	URL(name string) string
}

// dash serves the dashboard's pages: server-rendered HTML with a small
// script where a page needs one. Every page but sign-in and setup needs a
// login; every site page needs a role on that site.
type dash struct {
	store     *store.Store
	blobs     blob.Store
	auth      *auth
	assets    Assets
	logger    *slog.Logger
	publicURL string
	pages     map[string]*template.Template
	origins   *http.CrossOriginProtection
	now       func() time.Time
}

// view is what every page template is given.
type view struct {
	Title  string
	Nav    string // the active section: sites, overview, recordings, heatmaps, settings
	Login  *store.Login
	CSRF   string
	Sites  []store.SiteAccess
	Site   *store.Site
	Role   string
	Range  rangeView
	Error  string
	Notice string
	Page   any
}

// rangeView is a date range as forms show it.
type rangeView struct {
	From, To string // YYYY-MM-DD
	Days     int
}

// pageNames are the templates under templates/, each rendered inside
// layout.html.
var pageNames = []string{"login", "setup", "sites", "settings", "overview", "recordings",
	"replay", "heatmaps", "error"}

func newDash(st *store.Store, blobs blob.Store, a *auth, assets Assets, logger *slog.Logger,
	publicURL string) (*dash, error) {
	d := &dash{store: st, blobs: blobs, auth: a, assets: assets, logger: logger,
		publicURL: strings.TrimSuffix(publicURL, "/"), pages: map[string]*template.Template{},
		origins: http.NewCrossOriginProtection(), now: time.Now}
	funcs := templateFuncs(assets)
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFiles,
			"templates/layout.html", "templates/partials.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("dashboard template %s: %w", name, err)
		}
		d.pages[name] = t
	}
	return d, nil
}

// routes adds the dashboard's pages to mux.
func (d *dash) routes(mux *http.ServeMux) {
	mux.Handle("GET /assets/", d.assets)
	mux.Handle("GET /{$}", d.page(d.home))
	mux.Handle("GET /login", d.page(d.loginPage))
	mux.Handle("POST /login", d.page(d.loginPost))
	mux.Handle("POST /logout", d.page(d.logout))
	mux.Handle("GET /setup/{token}", d.page(d.setupPage))
	mux.Handle("POST /setup/{token}", d.page(d.setupPost))
	mux.Handle("GET /sites", d.page(d.signedIn(d.sitesPage)))
	mux.Handle("POST /sites", d.page(d.signedIn(d.sitesPost)))
	mux.Handle("GET /sites/{key}", d.page(d.signedIn(d.siteHome)))
	mux.Handle("GET /sites/{key}/overview", d.page(d.forSite(false, d.overviewPage)))
	mux.Handle("GET /sites/{key}/recordings", d.page(d.forSite(false, d.recordingsPage)))
	mux.Handle("GET /sites/{key}/recordings/{id}", d.page(d.forSite(false, d.replayPage)))
	mux.Handle("GET /sites/{key}/heatmaps", d.page(d.forSite(false, d.heatmapsPage)))
	mux.Handle("GET /sites/{key}/settings", d.page(d.forSite(true, d.settingsPage)))
	mux.Handle("POST /sites/{key}/settings", d.page(d.forSite(true, d.settingsPost)))
	mux.Handle("POST /sites/{key}/access", d.page(d.forSite(true, d.accessPost)))
	mux.Handle("POST /sites/{key}/access/remove", d.page(d.forSite(true, d.removePost)))
	mux.Handle("/", d.page(func(http.ResponseWriter, *http.Request) error {
		return notFound("page")
	}))
}

// errSignIn sends a browser without a login to the sign-in page.
var errSignIn = errors.New("sign in first")

// page adapts a dashboard handler: a client error becomes an error page
// with its status, errSignIn a redirect to the sign-in page, anything else a
// 500 page with a request id, logged once.
func (d *dash) page(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Referrer-Policy", "same-origin")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("X-Frame-Options", "DENY")
		// Browsers say where a request comes from: a form posted from another
		// site is refused before any handler runs. Form tokens are the second
		// line, for browsers that do not say.
		err := d.origins.Check(r)
		if err != nil {
			err = errBadForm
		} else {
			err = h(w, r)
		}
		if err == nil {
			return
		}
		if errors.Is(err, errSignIn) {
			next := r.URL.RequestURI()
			if r.Method != http.MethodGet {
				next = "/sites"
			}
			http.Redirect(w, r, "/login?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		}
		v := &view{Title: "Error"}
		status := http.StatusInternalServerError
		var ce *clientError
		if errors.As(err, &ce) {
			status, v.Error = ce.status, ce.msg
		} else {
			id := requestID()
			d.logger.Error("request failed", "request_id", id, "method", r.Method,
				"path", r.URL.Path, "err", err)
			v.Error = "Something went wrong on our side (request " + id +
				"). The server log has the details."
		}
		if l, lerr := d.auth.login(r); lerr == nil && l != nil {
			v.Login = l
		}
		d.render(w, status, "error", v)
	})
}

// render writes a page, buffered so that a template failure is a clean 500.
func (d *dash) render(w http.ResponseWriter, status int, name string, v *view) {
	var buf bytes.Buffer
	if err := d.pages[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		d.logger.Error("render page", "page", name, "err", err)
		http.Error(w, "could not render the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	// Scripts only from Loupe. Images, styles, fonts and media may come from
	// anywhere: a replay or heatmap rebuilds the tracked site's page, whose
	// assets stay on that site.
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; "+
		"img-src * data: blob:; style-src * 'unsafe-inline'; font-src * data:; media-src *; "+
		"frame-src 'self' blob: about:; object-src 'none'; base-uri 'none'; "+
		"form-action 'self'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// signedInHandler is a page that needs a login.
type signedInHandler func(w http.ResponseWriter, r *http.Request, v *view) error

// signedIn resolves r's login into a view, or sends the browser to sign
// in. A POST must carry the login's form token.
func (d *dash) signedIn(h signedInHandler) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		l, err := d.auth.login(r)
		if err != nil {
			return err
		}
		if l == nil {
			return errSignIn
		}
		if r.Method == http.MethodPost && !sameToken(l.CSRF, r.PostFormValue("csrf")) {
			return errBadForm
		}
		sites, err := d.store.UserSites(r.Context(), &l.User)
		if err != nil {
			return err
		}
		return h(w, r, &view{Login: l, CSRF: l.CSRF, Sites: sites})
	}
}

// forSite is signedIn for a page of the site named in the path: a site the
// user holds no role on is "not found", as is one they only view when the
// page is for owners.
func (d *dash) forSite(ownerOnly bool, h signedInHandler) handlerFunc {
	return d.signedIn(func(w http.ResponseWriter, r *http.Request, v *view) error {
		key := r.PathValue("key")
		for _, a := range v.Sites {
			if a.Site.Key != key {
				continue
			}
			if ownerOnly && a.Role != store.RoleOwner {
				break
			}
			site := a.Site
			v.Site, v.Role = &site, a.Role
			return h(w, r, v)
		}
		return notFound("site")
	})
}

func (d *dash) home(w http.ResponseWriter, r *http.Request) error {
	l, err := d.auth.login(r)
	if err != nil {
		return err
	}
	if l == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, "/sites", http.StatusSeeOther)
	return nil
}

func (d *dash) siteHome(w http.ResponseWriter, r *http.Request, v *view) error {
	for _, a := range v.Sites {
		if a.Site.Key == r.PathValue("key") {
			http.Redirect(w, r, "/sites/"+a.Site.Key+"/overview", http.StatusSeeOther)
			return nil
		}
	}
	return notFound("site")
}

// baseURL is where browsers reach Loupe: the configured public URL, or the
// address r came to.
func (d *dash) baseURL(r *http.Request) string {
	if d.publicURL != "" {
		return d.publicURL
	}
	scheme := "http"
	if d.auth.secure(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
