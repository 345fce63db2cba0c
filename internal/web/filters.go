package web

import (
	"net/http"
	"strconv"
	"strings"

	"loupe.dev/loupe/internal/store"
	"loupe.dev/loupe/internal/wire"
)

// maxFilterValue bounds a filter's text: the processor keeps at most 200
// bytes of an event name or a user id, and longer page keys are not sent.
const maxFilterValue = 2000

// sessionFilter reads the recordings list's filters from the query: dates
// (already in rng), min_duration and max_duration (seconds), device,
// browser, os, country (ISO code), page (a URL or page key visited; url is
// the API's older name), entry (entry page), referrer (host), event (custom
// event name), user (identified user id, "*" for any), rage=1, error=1 and
// before, the position after the previous page (cursor is the API's older
// name). A value that cannot be right is a bad request naming the parameter.
func sessionFilter(r *http.Request, site *store.Site, rng store.Range) (store.SessionFilter,
	error) {
	f := store.SessionFilter{SiteID: site.ID, Range: rng, Limit: 50}
	var err error
	if f.Device, err = deviceParam(r, ""); err != nil {
		return f, err
	}
	if f.MinDuration, err = secondsParam(r, "min_duration"); err != nil {
		return f, err
	}
	if f.MaxDuration, err = secondsParam(r, "max_duration"); err != nil {
		return f, err
	}
	if v := r.FormValue("max_duration"); v != "" && f.MaxDuration == 0 {
		return f, badRequest("max_duration: want seconds above 0")
	}
	if f.MaxDuration > 0 && f.MinDuration > f.MaxDuration {
		return f, badRequest("min_duration must not be above max_duration")
	}
	if err := textParams(r, site, &f); err != nil {
		return f, err
	}
	if f.HasRage, err = flagParam(r, "rage"); err != nil {
		return f, err
	}
	if f.HasError, err = flagParam(r, "error"); err != nil {
		return f, err
	}
	f.Before, f.BeforeID, err = cursorParam(r)
	return f, err
}

// textParams reads the filters that are names: pages, hosts, codes, ids.
func textParams(r *http.Request, site *store.Site, f *store.SessionFilter) error {
	page := func(v string) string { return sitePageKey(site, v) }
	for _, p := range []struct {
		names []string
		dst   *string
		clean func(string) string
	}{
		{[]string{"page", "url"}, &f.PageKey, page},
		{[]string{"entry"}, &f.EntryPage, page},
		{[]string{"exit"}, &f.ExitPage, page},
		{[]string{"utm_source"}, &f.UTMSource, nil},
		{[]string{"browser"}, &f.Browser, nil},
		{[]string{"os"}, &f.OS, nil},
		{[]string{"country"}, &f.Country, strings.ToUpper},
		{[]string{"referrer"}, &f.Referrer, strings.ToLower},
		{[]string{"event"}, &f.Event, nil},
		{[]string{"user"}, &f.UserID, nil},
	} {
		for _, name := range p.names {
			v := strings.TrimSpace(r.FormValue(name))
			if v == "" {
				continue
			}
			if len(v) > maxFilterValue {
				return badRequest("%s: longer than %d bytes", name, maxFilterValue)
			}
			if p.clean != nil {
				v = p.clean(v)
			}
			*p.dst = v
			break
		}
	}
	if c := f.Country; c != "" && (len(c) != 2 || c[0] < 'A' || c[0] > 'Z' ||
		c[1] < 'A' || c[1] > 'Z') {
		return badRequest("country: want a two-letter ISO code such as DE")
	}
	return nil
}

// secondsParam reads a duration in seconds as milliseconds; 0 when absent.
func secondsParam(r *http.Request, name string) (int64, error) {
	v := r.FormValue(name)
	if v == "" {
		return 0, nil
	}
	secs, err := strconv.ParseFloat(v, 64)
	if err != nil || !(secs >= 0 && secs <= 1e9) || strings.Contains(v, "_") {
		return 0, badRequest("%s: want a number of seconds", name)
	}
	return int64(secs * 1000), nil
}

// flagParam reads a yes/no filter: 1 (or true, on) turns it on.
func flagParam(r *http.Request, name string) (bool, error) {
	switch r.FormValue(name) {
	case "", "0", "false", "off":
		return false, nil
	case "1", "true", "on":
		return true, nil
	default:
		return false, badRequest("%s: want 1 or 0", name)
	}
}

// cursorParam reads before (or cursor): the start time in Unix ms and the
// id of the last session of the previous page, as "<ms>.<id>" or "<ms>-<id>".
func cursorParam(r *http.Request) (before, id int64, err error) {
	name, v := "before", r.FormValue("before")
	if v == "" {
		name, v = "cursor", r.FormValue("cursor")
	}
	if v == "" {
		return 0, 0, nil
	}
	ms, hex, ok := strings.Cut(v, ".")
	if !ok {
		ms, hex, ok = strings.Cut(v, "-")
	}
	bad := badRequest("%s: use the link to the next page (or the API's next_cursor)", name)
	if !ok {
		return 0, 0, bad
	}
	if before, err = strconv.ParseInt(ms, 10, 64); err != nil || before <= 0 {
		return 0, 0, bad
	}
	if id, err = wire.ParseID(hex); err != nil {
		return 0, 0, bad
	}
	return before, id, nil
}
