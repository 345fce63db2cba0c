package web

import (
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"loupe.dev/loupe/internal/store"
	"loupe.dev/loupe/internal/wire"
)

// templateFuncs are the helpers page templates format values with.
func templateFuncs(assets Assets) template.FuncMap {
	return template.FuncMap{
		"asset":    assets.URL,
		"num":      formatCount,
		"pct":      func(f float64) string { return strconv.FormatFloat(f*100, 'f', 1, 64) + " %" },
		"share":    share,
		"duration": formatDuration,
		"ms":       func(ms int64) string { return formatDuration(float64(ms) / 1000) },
		"datetime": func(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339) },
		"when":     func(ms int64, loc *time.Location) string { return formatWhen(ms, loc) },
		"hexid":    wire.FormatID,
		"query":    query,
		"rate":     func(f float64) string { return strconv.FormatFloat(f*100, 'f', -1, 64) },
		"list":     func(s ...string) []string { return s },
		"tail":     selectorTail,
		"sub":      func(a, b int64) int64 { return a - b },
		"removeForm": func(key, email, csrf, label string) map[string]string {
			return map[string]string{"Key": key, "Email": email, "CSRF": csrf, "Label": label}
		},
		"rangeForm": func(r rangeView, q url.Values) map[string]any {
			return map[string]any{"Range": r, "Extra": q}
		},
	}
}

// formatCount writes an integer with thin spaces between thousands.
func formatCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString("\u202f")
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// selectorTail shortens a CSS selector to its last two steps, which tell
// elements apart better than its first ones: "#page-top > header > div > a"
// becomes "… div > a".
func selectorTail(selector string) string {
	steps := strings.Split(selector, " > ")
	if len(steps) <= 2 {
		return selector
	}
	return "… " + strings.Join(steps[len(steps)-2:], " > ")
}

// share is n as a percentage of total, for bars and columns.
func share(n, total int64) float64 {
	if total <= 0 {
		return 0
	}
	return math.Round(float64(n)*1000/float64(total)) / 10
}

// formatDuration writes seconds as "42 s", "3 min 5 s" or "1 h 2 min".
func formatDuration(secs float64) string {
	s := int64(math.Round(secs))
	switch {
	case s < 60:
		return fmt.Sprintf("%d s", s)
	case s < 3600:
		return fmt.Sprintf("%d min %d s", s/60, s%60)
	default:
		return fmt.Sprintf("%d h %d min", s/3600, s%3600/60)
	}
}

// formatWhen writes a time in the site's zone.
func formatWhen(ms int64, loc *time.Location) string {
	return time.UnixMilli(ms).In(loc).Format("2 Jan 2006, 15:04")
}

// query returns path with its query string replaced by base's values with
// pairs of (name, value) set; an empty value removes the name.
func query(path string, base url.Values, pairs ...string) string {
	v := url.Values{}
	for k, vs := range base {
		v[k] = append([]string(nil), vs...)
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			v.Del(pairs[i])
		} else {
			v.Set(pairs[i], pairs[i+1])
		}
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// dateRange reads from and to (YYYY-MM-DD, inclusive, in the site's time
// zone); the default is the 30 days up to today.
func dateRange(r *http.Request, site *store.Site, now time.Time) (store.Range, error) {
	loc := site.Location()
	today := now.In(loc)
	to := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, loc)
	from := to.AddDate(0, 0, -29)
	if r == nil {
		return storeRange(from, to), nil
	}
	var err error
	if v := r.FormValue("to"); v != "" {
		if to, err = time.ParseInLocation(time.DateOnly, v, loc); err != nil {
			return store.Range{}, badRequest("to: want a date as YYYY-MM-DD")
		}
	}
	if v := r.FormValue("from"); v != "" {
		if from, err = time.ParseInLocation(time.DateOnly, v, loc); err != nil {
			return store.Range{}, badRequest("from: want a date as YYYY-MM-DD")
		}
	} else if r.FormValue("to") != "" {
		from = to.AddDate(0, 0, -29)
	}
	if to.Before(from) {
		return store.Range{}, badRequest("from must not be after to")
	}
	if from.Year() < 1970 || to.Year() > 9999 {
		return store.Range{}, badRequest("from and to: want dates from 1970 on")
	}
	if to.Sub(from) > 3*366*24*time.Hour {
		return store.Range{}, badRequest("from and to: at most three years apart")
	}
	return storeRange(from, to), nil
}

// storeRange is the store's range for the days from and to, both included.
func storeRange(from, to time.Time) store.Range {
	end := to.AddDate(0, 0, 1)
	return store.Range{
		From: from.UnixMilli(), To: end.UnixMilli(),
		FromDay: from.Year()*10000 + int(from.Month())*100 + from.Day(),
		ToDay:   to.Year()*10000 + int(to.Month())*100 + to.Day(),
	}
}

// viewRange is a store range as date fields show it.
func viewRange(rng store.Range) rangeView {
	day := func(d int) time.Time {
		return time.Date(d/10000, time.Month(d/100%100), d%100, 0, 0, 0, 0, time.UTC)
	}
	from, to := day(rng.FromDay), day(rng.ToDay)
	return rangeView{From: from.Format(time.DateOnly), To: to.Format(time.DateOnly),
		Days: int(to.Sub(from).Hours()/24) + 1}
}
