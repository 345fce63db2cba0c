package enrich

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// maxPageURLLength bounds the page URLs PageKey and UTM read; browsers cap
// addresses far below what a request body could carry.
const (
	maxPageURLLength = 8192
	maxUTMLength     = 200
)

// ErrPageURL is wrapped by every error PageKey returns.
var ErrPageURL = errors.New("invalid page URL")

// PageKey normalises a page URL into the key heatmaps and page reports group
// by: lower-case host without "www." (and with its port when it is not the
// scheme's default), path without a trailing slash except for "/", no query,
// and the fragment only when it is a client-side route ("#/…" or "#!/…"),
// itself without a trailing slash or query:
//
//	https://WWW.Shop.example.com/cart/?id=7#/step2/?x=1 -> shop.example.com/cart#/step2
//
// The scheme is left out, so a page served over http and https is one page.
func PageKey(raw string) (string, error) {
	if len(raw) > maxPageURLLength {
		return "", fmt.Errorf("%w: longer than %d bytes", ErrPageURL, maxPageURLLength)
	}
	parsed, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrPageURL, err)
	}
	scheme := strings.ToLower(parsed.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", fmt.Errorf("%w: scheme %q is not http or https", ErrPageURL, parsed.Scheme)
	}

	host := normalizeHost(parsed.Hostname())
	if host == "" {
		return "", fmt.Errorf("%w: no host", ErrPageURL)
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port := parsed.Port(); port != "" && !isDefaultPort(scheme, port) {
		host += ":" + port
	}

	// Re-encoding the decoded path gives one spelling per path, whatever
	// escapes the browser chose.
	path := (&url.URL{Path: parsed.Path}).EscapedPath()
	path = trimTrailingSlashes(path)
	if path == "" {
		path = "/"
	}

	return host + path + routeFragment(parsed.Fragment), nil
}

// isDefaultPort reports whether port is the one a scheme uses when none is
// given.
func isDefaultPort(scheme, port string) bool {
	return (scheme == "http" && port == "80") || (scheme == "https" && port == "443")
}

// trimTrailingSlashes removes the slashes that end a path.
func trimTrailingSlashes(path string) string {
	return strings.TrimRight(path, "/")
}

// routeFragment returns "#/route" or "#!/route" for a fragment that is a
// client-side route, and "" for any other fragment (an in-page anchor, or a
// route to the application's root).
func routeFragment(fragment string) string {
	var prefix string
	switch {
	case strings.HasPrefix(fragment, "/"):
		prefix = "#"
	case strings.HasPrefix(fragment, "!/"):
		prefix, fragment = "#!", fragment[1:]
	default:
		return ""
	}

	route, _, _ := strings.Cut(fragment, "?")
	route = trimTrailingSlashes(route)
	if route == "" {
		return ""
	}
	return prefix + (&url.URL{Path: route}).EscapedPath()
}

// UTM returns utm_source, utm_medium and utm_campaign from a page URL,
// trimmed and cut to a bounded length; empty when absent. Tags in the query
// of a client-side route ("#/page?utm_source=…") count when the URL's own
// query has none.
func UTM(raw string) (source, medium, campaign string) {
	if len(raw) > maxPageURLLength {
		return "", "", ""
	}
	parsed, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", "", ""
	}

	query := parsed.RawQuery
	if !strings.Contains(query, "utm_") {
		if _, routeQuery, found := strings.Cut(parsed.Fragment, "?"); found {
			query = routeQuery
		}
	}
	if !strings.Contains(query, "utm_") {
		return "", "", ""
	}

	// ParseQuery keeps what it could read when one pair is malformed.
	values, _ := url.ParseQuery(query)
	tag := func(name string) string {
		return truncate(strings.TrimSpace(values.Get(name)), maxUTMLength)
	}
	return tag("utm_source"), tag("utm_medium"), tag("utm_campaign")
}
