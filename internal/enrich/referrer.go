package enrich

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// Referrer is what Loupe keeps of a visit's Referer header.
type Referrer struct {
	// Host is the referring host: lower case, without "www." and a trailing
	// dot, international names in punycode ("xn--…"); an app's package name
	// for android-app: referrers. Empty when the header is empty or no host
	// can be read from it.
	Host string
	// URL is the referrer without user info, query and fragment, which can
	// hold search terms, tokens and e-mail addresses: "https://host/path".
	URL string
	// Internal is true when Host is one of the site's own domains, as when
	// a visitor moves between pages of the site.
	Internal bool
	// Source names a well-known search engine, social network, mail or chat
	// service: "google", "twitter", "gmail"; empty for any other host.
	Source string
}

// Bounds on referrer input: longer values are not real referrers, and
// cutting them keeps parsing cheap.
const (
	maxReferrerLength = 2048
	maxURLPathLength  = 512
)

// ParseReferrer reads a Referer header value. siteDomains are the site's own
// domains; "www." and the bare domain count as one.
func ParseReferrer(raw string, siteDomains []string) Referrer {
	// The query and fragment are dropped anyway; cutting them first spares
	// parsing them, and a malformed escape in them cannot spoil the rest.
	if end := strings.IndexAny(raw, "?#"); end >= 0 {
		raw = raw[:end]
	}
	raw = strings.TrimSpace(truncate(raw, maxReferrerLength))
	if raw == "" {
		return Referrer{}
	}

	parsed, err := url.Parse(raw)
	if err == nil && parsed.Host == "" && parsed.Scheme == "" {
		// "example.com/page": a referrer without a scheme.
		parsed, err = url.Parse("http://" + raw)
	}
	if err != nil || parsed.Host == "" {
		return Referrer{}
	}

	host := normalizeHost(parsed.Hostname())
	if host == "" {
		return Referrer{}
	}

	scheme := strings.ToLower(parsed.Scheme)
	urlHost := host
	if strings.Contains(host, ":") {
		urlHost = "[" + host + "]"
	}
	referrer := Referrer{
		Host:   host,
		URL:    scheme + "://" + urlHost + truncate(parsed.EscapedPath(), maxURLPathLength),
		Source: referrerSource(scheme, host),
	}
	for _, domain := range siteDomains {
		if normalizeHost(domain) == host {
			referrer.Internal = true
			break
		}
	}

	return referrer
}

// normalizeHost lower-cases a host name, drops a trailing dot and a leading
// "www.", and turns an international name into punycode, so that every
// spelling of a host compares equal. It returns "" for a name that cannot be
// a host.
func normalizeHost(host string) string {
	host = strings.TrimSpace(host)
	host = strings.TrimRight(host, ".")
	if host == "" || !utf8.ValidString(host) {
		return ""
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		return addr.Unmap().WithZone("").String()
	}

	if isASCII(host) {
		host = strings.ToLower(host)
	} else {
		// The lookup profile also maps look-alike forms (full-width letters,
		// upper case) to the characters a browser would resolve. Names it
		// rejects are still encoded, so they group as one host.
		ascii, err := idna.Lookup.ToASCII(host)
		if err != nil {
			ascii, err = idna.Punycode.ToASCII(strings.ToLower(host))
			if err != nil {
				return ""
			}
		}
		host = strings.ToLower(ascii)
	}

	host = strings.TrimPrefix(host, "www.")
	if strings.ContainsAny(host, " /\\@") {
		return ""
	}
	return host
}

// isASCII reports whether s has only ASCII bytes.
func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Referrer spam.

// SpamList is a set of referrer-spam domains, read from a file with one host
// name a line, such as Matomo's referrer-spam-list. A nil list lists nothing.
type SpamList struct {
	hosts map[string]struct{}
}

// LoadSpamList reads a spam list file.
func LoadSpamList(path string) (*SpamList, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open referrer spam list: %w", err)
	}
	defer f.Close()
	list, err := ParseSpamList(f)
	if err != nil {
		return nil, fmt.Errorf("read referrer spam list %s: %w", path, err)
	}
	return list, nil
}

// ParseSpamList reads host names, one a line; blank lines and lines starting
// with # are skipped.
func ParseSpamList(r io.Reader) (*SpamList, error) {
	list := &SpamList{hosts: map[string]struct{}{}}
	scan := bufio.NewScanner(r)
	for scan.Scan() {
		line := strings.TrimSpace(scan.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if host := normalizeHost(line); host != "" {
			list.hosts[host] = struct{}{}
		}
	}
	if err := scan.Err(); err != nil {
		return nil, err
	}
	return list, nil
}

// Len returns how many hosts are listed.
func (s *SpamList) Len() int {
	if s == nil {
		return 0
	}
	return len(s.hosts)
}

// Listed reports whether host (as in Referrer.Host), or a domain it is under,
// is listed. Only whole labels match, so a listed "spam.example" does not
// catch "notspam.example", and a listed subdomain does not catch its parent.
func (s *SpamList) Listed(host string) bool {
	if s == nil || host == "" {
		return false
	}
	for {
		if _, ok := s.hosts[host]; ok {
			return true
		}
		dot := strings.IndexByte(host, '.')
		if dot < 0 {
			return false
		}
		host = host[dot+1:]
	}
}

// Sources.

// sourceHosts name the source of a referrer by host or by a domain the host
// is under. They take precedence over sourceBrands, so that a service on a
// subdomain of a brand (mail, chat) gets its own name.
var sourceHosts = map[string]string{
	"t.co":                  "twitter",
	"x.com":                 "twitter",
	"lnkd.in":               "linkedin",
	"youtu.be":              "youtube",
	"fb.com":                "facebook",
	"fb.me":                 "facebook",
	"ok.ru":                 "odnoklassniki",
	"bsky.app":              "bluesky",
	"threads.net":           "threads",
	"threads.com":           "threads",
	"news.ycombinator.com":  "hackernews",
	"go.mail.ru":            "mail.ru",
	"search.brave.com":      "brave",
	"ixquick.com":           "startpage",
	"aolsearch.com":         "aol",
	"mastodon.social":       "mastodon",
	"t.me":                  "telegram",
	"web.telegram.org":      "telegram",
	"wa.me":                 "whatsapp",
	"web.whatsapp.com":      "whatsapp",
	"mail.google.com":       "gmail",
	"gemini.google.com":     "gemini",
	"outlook.live.com":      "outlook",
	"mail.live.com":         "outlook",
	"outlook.office.com":    "outlook",
	"mail.yahoo.com":        "yahoo mail",
	"mail.yahoo.net":        "yahoo mail",
	"mail.proton.me":        "proton mail",
	"chatgpt.com":           "chatgpt",
	"chat.openai.com":       "chatgpt",
	"claude.ai":             "claude",
	"perplexity.ai":         "perplexity",
	"copilot.microsoft.com": "copilot",
	"chat.mistral.ai":       "mistral",
	"meta.ai":               "meta ai",
	"character.ai":          "character.ai",
	"poe.com":               "poe",
	"workplace.com":         "workplace",
}

// sourceBrands name the source of a referrer by the label just left of a
// public suffix, which covers a brand's every country domain
// ("google.co.uk", "search.yahoo.co.jp").
var sourceBrands = map[string]string{
	"google":        "google",
	"bing":          "bing",
	"yahoo":         "yahoo",
	"duckduckgo":    "duckduckgo",
	"yandex":        "yandex",
	"ya":            "yandex",
	"baidu":         "baidu",
	"ecosia":        "ecosia",
	"qwant":         "qwant",
	"startpage":     "startpage",
	"naver":         "naver",
	"seznam":        "seznam",
	"sogou":         "sogou",
	"ask":           "ask",
	"aol":           "aol",
	"kagi":          "kagi",
	"voila":         "voila",
	"babylon":       "babylon",
	"gmx":           "gmx",
	"facebook":      "facebook",
	"instagram":     "instagram",
	"twitter":       "twitter",
	"linkedin":      "linkedin",
	"reddit":        "reddit",
	"youtube":       "youtube",
	"pinterest":     "pinterest",
	"tiktok":        "tiktok",
	"tumblr":        "tumblr",
	"quora":         "quora",
	"vk":            "vk",
	"odnoklassniki": "odnoklassniki",
	"github":        "github",
	"stackoverflow": "stackoverflow",
	"wikipedia":     "wikipedia",
	"medium":        "medium",
	"discord":       "discord",
	"slack":         "slack",
	"snapchat":      "snapchat",
	"weibo":         "weibo",
}

// sourceApps name the source of android-app: referrers by package name.
var sourceApps = map[string]string{
	"com.google.android.gm":                   "gmail",
	"com.google.android.googlequicksearchbox": "google",
	"com.google.android.youtube":              "youtube",
	"com.facebook.katana":                     "facebook",
	"com.instagram.android":                   "instagram",
	"com.twitter.android":                     "twitter",
	"com.linkedin.android":                    "linkedin",
	"com.reddit.frontpage":                    "reddit",
	"org.telegram.messenger":                  "telegram",
	"com.whatsapp":                            "whatsapp",
	"com.slack":                               "slack",
	"com.microsoft.office.outlook":            "outlook",
}

// referrerSource names the source of a normalised referrer host, or "".
func referrerSource(scheme, host string) string {
	if scheme == "android-app" {
		return sourceApps[host]
	}

	for suffix := host; suffix != ""; {
		if source, ok := sourceHosts[suffix]; ok {
			return source
		}
		label, rest, found := strings.Cut(suffix, ".")
		if !found {
			return ""
		}
		if source, ok := sourceBrands[label]; ok {
			if publicSuffix, icann := publicsuffix.PublicSuffix(rest); icann && publicSuffix == rest {
				return source
			}
		}
		suffix = rest
	}
	return ""
}
