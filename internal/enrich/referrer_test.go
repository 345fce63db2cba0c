package enrich

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"unicode"
)

func TestParseReferrer(t *testing.T) {
	site := []string{"www.example.com", "Shop.Example.com."}
	tests := []struct {
		name string
		raw  string
		want Referrer
	}{
		{name: "empty", raw: "", want: Referrer{}},
		{name: "search engine", raw: "https://www.google.co.uk/search?q=secret",
			want: Referrer{Host: "google.co.uk", URL: "https://google.co.uk/search", Source: "google"}},
		{name: "twitter short links", raw: "https://t.co/abc123",
			want: Referrer{Host: "t.co", URL: "https://t.co/abc123", Source: "twitter"}},
		{name: "subdomain of a brand", raw: "https://l.facebook.com/l.php?u=x",
			want: Referrer{Host: "l.facebook.com", URL: "https://l.facebook.com/l.php", Source: "facebook"}},
		{name: "service on a brand subdomain", raw: "https://mail.google.com/mail/u/0/",
			want: Referrer{Host: "mail.google.com", URL: "https://mail.google.com/mail/u/0/", Source: "gmail"}},
		{name: "brand under a private suffix is not the brand", raw: "https://google.blogspot.com/",
			want: Referrer{Host: "google.blogspot.com", URL: "https://google.blogspot.com/"}},
		{name: "brand word elsewhere", raw: "https://google.example.org/",
			want: Referrer{Host: "google.example.org", URL: "https://google.example.org/"}},
		{name: "other site", raw: "http://Blog.Other.org:8080/post?id=1#top",
			want: Referrer{Host: "blog.other.org", URL: "http://blog.other.org/post"}},
		{name: "credentials dropped", raw: "https://user:pass@other.org/x",
			want: Referrer{Host: "other.org", URL: "https://other.org/x"}},
		{name: "internal, www and bare are one", raw: "https://example.com/pricing",
			want: Referrer{Host: "example.com", URL: "https://example.com/pricing", Internal: true}},
		{name: "internal, site domain written with a dot", raw: "https://shop.example.com./cart",
			want: Referrer{Host: "shop.example.com", URL: "https://shop.example.com/cart", Internal: true}},
		{name: "subdomain of the site is not internal", raw: "https://blog.example.com/",
			want: Referrer{Host: "blog.example.com", URL: "https://blog.example.com/"}},
		{name: "international name", raw: "https://www.Bücher.example/",
			want: Referrer{Host: "xn--bcher-kva.example", URL: "https://xn--bcher-kva.example/"}},
		{name: "no scheme", raw: "news.ycombinator.com/item?id=1",
			want: Referrer{Host: "news.ycombinator.com", URL: "http://news.ycombinator.com/item",
				Source: "hackernews"}},
		{name: "android app", raw: "android-app://com.google.android.gm/",
			want: Referrer{Host: "com.google.android.gm", URL: "android-app://com.google.android.gm/",
				Source: "gmail"}},
		{name: "IP address", raw: "http://[2001:DB8::1]:8080/x",
			want: Referrer{Host: "2001:db8::1", URL: "http://[2001:db8::1]/x"}},
		{name: "malformed escape in the query", raw: "https://other.org/a?q=%zz",
			want: Referrer{Host: "other.org", URL: "https://other.org/a"}},
		{name: "spam host", raw: "http://Foo.Semalt.com./crawler",
			want: Referrer{Host: "foo.semalt.com", URL: "http://foo.semalt.com/crawler"}},
		{name: "garbage", raw: "::::", want: Referrer{}},
		{name: "relative", raw: "/just/a/path", want: Referrer{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseReferrer(tt.raw, site); got != tt.want {
				t.Errorf("ParseReferrer(%q) =\n%+v, want\n%+v", tt.raw, got, tt.want)
			}
		})
	}
}

func TestReferrerSpamList(t *testing.T) {
	spam, err := LoadSpamList(corpusPath(t, "referrer-spam-list/spammers.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var entries []string
	for line := range strings.Lines(string(readCorpus(t, "referrer-spam-list/spammers.txt"))) {
		if entry := strings.TrimSpace(line); entry != "" {
			entries = append(entries, entry)
		}
	}
	if len(entries) < 2000 {
		t.Fatalf("want 2000+ entries, got %d", len(entries))
	}

	missed := 0
	for _, entry := range entries {
		forms := []string{"http://" + entry + "/", "https://www." + entry + "/x", "http://a.b." + entry}
		for _, raw := range forms {
			if !spam.Listed(ParseReferrer(raw, nil).Host) {
				missed++
				t.Errorf("ParseReferrer(%q) is not spam", raw)
			}
		}
	}
	t.Logf("spam list: %d entries, each flagged as host, www. host and subdomain; %d missed",
		len(entries), missed)

	// A listed subdomain does not condemn its parent.
	for _, raw := range []string{"https://tumblr.com/", "https://blogspot.com/",
		"https://google.com/", "http://notsemalt.com/"} {
		if spam.Listed(ParseReferrer(raw, nil).Host) {
			t.Errorf("ParseReferrer(%q) is spam", raw)
		}
	}
}

// letters keeps the lower-case letters of s, so that source names compare
// whatever their spacing and punctuation ("Mail.ru", "mail.ru").
func letters(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, s)
}

func TestReferrerSources(t *testing.T) {
	var cases []struct {
		Spec   string `json:"spec"`
		URI    string `json:"uri"`
		Medium string `json:"medium"`
		Source string `json:"source"`
	}
	readCorpusJSON(t, "snowplow-referer-parser/resources/referer-tests.json", &cases)

	// The corpus names variants of one source ("Google Images", "Ask
	// Toolbar"); a source counts as right when the expected name starts with
	// ours, letters only.
	counts := map[string][2]int{}
	for _, c := range cases {
		referrer := ParseReferrer(c.URI, nil)
		if referrer.Host == "" {
			t.Errorf("ParseReferrer(%q) found no host", c.URI)
		}

		count := counts[c.Medium]
		count[1]++
		mine := letters(referrer.Source)
		if mine != "" && strings.HasPrefix(letters(c.Source), mine) {
			count[0]++
		} else if c.Medium == "search" || c.Medium == "social" {
			t.Logf("%s: got source %q, want %q: %s", c.Medium, referrer.Source, c.Source, c.URI)
		}
		counts[c.Medium] = count
	}

	right, total := 0, 0
	for _, medium := range slices.Sorted(maps.Keys(counts)) {
		count := counts[medium]
		t.Logf("referer-tests.json, medium %s: source right for %d of %d (%.0f %%)",
			medium, count[0], count[1], percent(count[0], count[1]))
		if medium == "search" || medium == "social" {
			right += count[0]
			total += count[1]
		}
	}
	rate := percent(right, total)
	t.Logf("referer-tests.json, search and social: source right for %d of %d (%.1f %%)", right, total, rate)
	if total < 30 || rate < 75 {
		t.Errorf("want search and social sources right for at least 75 %% of 30+, got %.1f %% of %d",
			rate, total)
	}
}
