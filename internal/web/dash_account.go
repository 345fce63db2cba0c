package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"loupe.dev/loupe/internal/store"
	"loupe.dev/loupe/internal/tracker"
)

// inviteTTL is how long an owner's invitation link works.
const inviteTTL = 7 * 24 * time.Hour

// errTooManyAttempts answers sign-ins beyond the rate limit.
var errTooManyAttempts = &clientError{status: http.StatusTooManyRequests,
	msg: "Too many sign-in attempts. Wait a minute and try again."}

// accountForm is what the sign-in and setup pages show.
type accountForm struct {
	Email      string
	EmailFixed bool // set by an invitation
	Next       string
	SiteName   string
	Role       string
}

func (d *dash) loginPage(w http.ResponseWriter, r *http.Request) error {
	if l, err := d.auth.login(r); err == nil && l != nil {
		http.Redirect(w, r, safeNext(r.FormValue("next")), http.StatusSeeOther)
		return nil
	}
	token, err := d.auth.formToken(w, r)
	if err != nil {
		return err
	}
	d.render(w, http.StatusOK, "login", &view{Title: "Sign in", CSRF: token,
		Page: accountForm{Next: safeNext(r.FormValue("next"))}})
	return nil
}

func (d *dash) loginPost(w http.ResponseWriter, r *http.Request) error {
	if err := d.auth.checkForm(r); err != nil {
		return err
	}
	email, password := r.PostFormValue("email"), r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	if !d.auth.allowAttempt(r, email) {
		w.Header().Set("Retry-After", "60")
		return errTooManyAttempts
	}
	u, err := d.store.UserByEmail(r.Context(), email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	hash := dummyHash()
	if u != nil {
		hash = u.PasswordHash
	}
	if !checkPassword(hash, password) || u == nil {
		token, err := d.auth.formToken(w, r)
		if err != nil {
			return err
		}
		d.render(w, http.StatusOK, "login", &view{Title: "Sign in", CSRF: token,
			Error: "Wrong e-mail or password.", Page: accountForm{Email: email, Next: next}})
		return nil
	}
	if err := d.auth.signIn(r.Context(), w, r, u); err != nil {
		return err
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

func (d *dash) logout(w http.ResponseWriter, r *http.Request) error {
	l, err := d.auth.login(r)
	if err != nil {
		return err
	}
	if l != nil && !sameToken(l.CSRF, r.PostFormValue("csrf")) {
		return errBadForm
	}
	if err := d.auth.signOut(r.Context(), w, r); err != nil {
		return err
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

// safeNext keeps a post-sign-in redirect on this server.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.HasPrefix(next, "/\\") {
		return "/sites"
	}
	return next
}

// invite returns the invitation in the path, or a 404 page saying the link
// is no longer good.
func (d *dash) invite(r *http.Request) (*store.Invite, accountForm, error) {
	inv, err := d.store.InviteByToken(r.Context(), r.PathValue("token"))
	if errors.Is(err, store.ErrNotFound) {
		return nil, accountForm{}, &clientError{status: http.StatusNotFound,
			msg: "This link has expired or was already used. Ask for a new one."}
	}
	if err != nil {
		return nil, accountForm{}, err
	}
	f := accountForm{Email: inv.Email, EmailFixed: inv.Email != "", Role: inv.Role}
	if inv.SiteID != 0 {
		site, err := d.store.SiteByID(r.Context(), inv.SiteID)
		if err != nil {
			return nil, f, err
		}
		f.SiteName = site.Name
	}
	return inv, f, nil
}

func (d *dash) setupPage(w http.ResponseWriter, r *http.Request) error {
	_, form, err := d.invite(r)
	if err != nil {
		return err
	}
	token, err := d.auth.formToken(w, r)
	if err != nil {
		return err
	}
	d.render(w, http.StatusOK, "setup", &view{Title: "Create your account", CSRF: token,
		Page: form})
	return nil
}

func (d *dash) setupPost(w http.ResponseWriter, r *http.Request) error {
	if err := d.auth.checkForm(r); err != nil {
		return err
	}
	inv, form, err := d.invite(r)
	if err != nil {
		return err
	}
	email := store.NormaliseEmail(r.PostFormValue("email"))
	if inv.Email != "" {
		email = inv.Email
	}
	password := r.PostFormValue("password")
	problem := ""
	switch {
	case !strings.Contains(email, "@") || len(email) > 254:
		problem = "Enter an e-mail address."
	case len([]rune(password)) < minPassword:
		problem = fmt.Sprintf("Choose a password of at least %d characters.", minPassword)
	case len(password) > 1024:
		problem = "That password is too long."
	case password != r.PostFormValue("password2"):
		problem = "The two passwords differ."
	}
	var u *store.User
	if problem == "" {
		hash, err := hashPassword(password)
		if err != nil {
			return err
		}
		u, err = d.store.AcceptInvite(r.Context(), r.PathValue("token"), email, hash)
		switch {
		case errors.Is(err, store.ErrConflict):
			problem = "There is already an account for " + email + ". Sign in instead."
		case errors.Is(err, store.ErrNotFound):
			return &clientError{status: http.StatusNotFound,
				msg: "This link has expired or was already used. Ask for a new one."}
		case err != nil:
			return err
		}
	}
	if problem != "" {
		token, err := d.auth.formToken(w, r)
		if err != nil {
			return err
		}
		form.Email = email
		d.render(w, http.StatusBadRequest, "setup", &view{Title: "Create your account",
			CSRF: token, Error: problem, Page: form})
		return nil
	}
	if err := d.auth.signIn(r.Context(), w, r, u); err != nil {
		return err
	}
	http.Redirect(w, r, "/sites", http.StatusSeeOther)
	return nil
}

// sitesView is the sites page.
type sitesView struct {
	Form siteForm
}

// siteForm is a site's settings as the forms show them.
type siteForm struct {
	Name       string
	Domains    string
	SampleRate string // per cent
	Retention  string
	Timezone   string
	MaskText   bool
	HonourDNT  bool
}

func formOf(s *store.Site) siteForm {
	return siteForm{Name: s.Name, Domains: strings.Join(s.Domains, " "),
		SampleRate: strconv.FormatFloat(s.SampleRate*100, 'f', -1, 64),
		Retention:  strconv.Itoa(s.RetentionDays), Timezone: s.Timezone,
		MaskText: s.MaskText, HonourDNT: s.HonourDNT}
}

// parseSiteForm reads and checks a posted site form into site.
func parseSiteForm(r *http.Request, site *store.Site) (siteForm, string) {
	f := siteForm{Name: strings.TrimSpace(r.PostFormValue("name")),
		Domains:    strings.TrimSpace(r.PostFormValue("domains")),
		SampleRate: strings.TrimSpace(r.PostFormValue("sample_rate")),
		Retention:  strings.TrimSpace(r.PostFormValue("retention_days")),
		Timezone:   strings.TrimSpace(r.PostFormValue("timezone")),
		MaskText:   r.PostFormValue("mask_text") != "", HonourDNT: r.PostFormValue("honour_dnt") != ""}
	var domains []string
	for _, d := range strings.FieldsFunc(f.Domains, func(c rune) bool {
		return c == ',' || c == ' ' || c == '\n' || c == '\r' || c == '\t'
	}) {
		d = strings.ToLower(d)
		if u, err := url.Parse(d); err == nil && u.Host != "" {
			d = u.Host
		}
		if d == "" || strings.ContainsAny(d, "/?#@ ") || len(d) > 253 {
			return f, fmt.Sprintf("%q is not a host name: write example.com or *.example.com.", d)
		}
		domains = append(domains, d)
	}
	if len(domains) == 0 {
		return f, "Name at least one domain your pages are served from."
	}
	if f.SampleRate == "" {
		f.SampleRate = "100"
	}
	rate, err := strconv.ParseFloat(f.SampleRate, 64)
	if err != nil || rate < 0 || rate > 100 {
		return f, "Recording sample rate: a percentage from 0 to 100."
	}
	if f.Retention == "" {
		f.Retention = "365"
	}
	days, err := strconv.Atoi(f.Retention)
	if err != nil || days < 1 || days > 3650 {
		return f, "Retention: a number of days from 1 to 3650."
	}
	if f.Timezone == "" {
		f.Timezone = "UTC"
	}
	if _, err := time.LoadLocation(f.Timezone); err != nil {
		return f, fmt.Sprintf("Unknown time zone %q: use a name such as Europe/Paris.", f.Timezone)
	}
	site.Name, site.Domains, site.SampleRate = f.Name, domains, rate/100
	site.RetentionDays, site.Timezone = days, f.Timezone
	site.MaskText, site.HonourDNT = f.MaskText, f.HonourDNT
	if site.Name == "" {
		site.Name = domains[0]
	}
	return f, ""
}

func (d *dash) sitesPage(w http.ResponseWriter, r *http.Request, v *view) error {
	v.Title, v.Nav = "Sites", "sites"
	v.Page = sitesView{Form: siteForm{SampleRate: "100", Retention: "365", Timezone: "UTC"}}
	d.render(w, http.StatusOK, "sites", v)
	return nil
}

func (d *dash) sitesPost(w http.ResponseWriter, r *http.Request, v *view) error {
	var site store.Site
	form, problem := parseSiteForm(r, &site)
	if problem != "" {
		v.Title, v.Nav, v.Error, v.Page = "Sites", "sites", problem, sitesView{Form: form}
		d.render(w, http.StatusBadRequest, "sites", v)
		return nil
	}
	if err := d.store.CreateSite(r.Context(), &site); err != nil {
		return err
	}
	if !v.Login.User.Admin {
		if err := d.store.GrantSite(r.Context(), v.Login.User.ID, site.ID,
			store.RoleOwner); err != nil {
			return err
		}
	}
	http.Redirect(w, r, "/sites/"+site.Key+"/settings?added=1", http.StatusSeeOther)
	return nil
}

// settingsView is a site's settings page.
type settingsView struct {
	Form       siteForm
	Snippet    string
	StatusURL  string
	Members    []store.Member
	Invites    []store.Invite // not yet used
	InviteLink string
	Added      bool
}

func (d *dash) settingsView(r *http.Request, v *view, form siteForm) error {
	members, err := d.store.SiteMembers(r.Context(), v.Site.ID)
	if err != nil {
		return err
	}
	invites, err := d.store.SiteInvites(r.Context(), v.Site.ID)
	if err != nil {
		return err
	}
	v.Title, v.Nav = "Settings · "+v.Site.Name, "settings"
	v.Page = &settingsView{Form: form, Snippet: tracker.Snippet(d.baseURL(r), v.Site.Key),
		StatusURL: "/api/v1/sites/" + v.Site.Key + "/status", Members: members, Invites: invites,
		Added: r.FormValue("added") != ""}
	return nil
}

func (d *dash) settingsPage(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := d.settingsView(r, v, formOf(v.Site)); err != nil {
		return err
	}
	d.render(w, http.StatusOK, "settings", v)
	return nil
}

func (d *dash) settingsPost(w http.ResponseWriter, r *http.Request, v *view) error {
	site := *v.Site
	form, problem := parseSiteForm(r, &site)
	status := http.StatusOK
	if problem != "" {
		v.Error, status = problem, http.StatusBadRequest
	} else if err := d.store.UpdateSite(r.Context(), &site); err != nil {
		return err
	} else {
		v.Site, v.Notice = &site, "Saved. Trackers pick the change up within a minute."
		form = formOf(&site)
	}
	if err := d.settingsView(r, v, form); err != nil {
		return err
	}
	d.render(w, status, "settings", v)
	return nil
}

// accessPost shares the site with someone: an existing user gets the role
// at once, anyone else an invitation link to pass on.
func (d *dash) accessPost(w http.ResponseWriter, r *http.Request, v *view) error {
	email := store.NormaliseEmail(r.PostFormValue("email"))
	role := r.PostFormValue("role")
	if err := d.settingsView(r, v, formOf(v.Site)); err != nil {
		return err
	}
	page := v.Page.(*settingsView)
	switch {
	case !strings.Contains(email, "@"):
		v.Error = "Enter the e-mail address of the person to share the site with."
	case role != store.RoleOwner && role != store.RoleViewer:
		v.Error = "Choose owner or viewer."
	}
	if v.Error != "" {
		d.render(w, http.StatusBadRequest, "settings", v)
		return nil
	}
	u, err := d.store.UserByEmail(r.Context(), email)
	switch {
	case err == nil:
		if err := d.store.GrantSite(r.Context(), u.ID, v.Site.ID, role); err != nil {
			return err
		}
		v.Notice = email + " can now see this site as " + role + "."
		if page.Members, err = d.store.SiteMembers(r.Context(), v.Site.ID); err != nil {
			return err
		}
	case errors.Is(err, store.ErrNotFound):
		token, err := d.store.CreateInvite(r.Context(), store.Invite{Email: email,
			SiteID: v.Site.ID, Role: role, ExpiresAt: d.now().Add(inviteTTL).UnixMilli()})
		if err != nil {
			return err
		}
		page.InviteLink = d.baseURL(r) + "/setup/" + token
		v.Notice = "Send this link to " + email + ". It works once, for seven days."
		if page.Invites, err = d.store.SiteInvites(r.Context(), v.Site.ID); err != nil {
			return err
		}
	default:
		return err
	}
	d.render(w, http.StatusOK, "settings", v)
	return nil
}

// removePost takes someone's access to the site away: their role, or the
// invitation they have not used yet.
func (d *dash) removePost(w http.ResponseWriter, r *http.Request, v *view) error {
	email := store.NormaliseEmail(r.PostFormValue("email"))
	removed, err := d.store.RemoveFromSite(r.Context(), v.Site.ID, email)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if removed {
		v.Notice = email + " no longer has access to this site."
	} else {
		v.Error, status = email+" had no access to this site.", http.StatusBadRequest
	}
	if err := d.settingsView(r, v, formOf(v.Site)); err != nil {
		return err
	}
	d.render(w, status, "settings", v)
	return nil
}
