package enrich

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParse(f *testing.F) {
	f.Add("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "+
		"Chrome/120.0.0.0 Mobile Safari/537.36",
		`"Not_A Brand";v="8", "Chromium";v="120", "Google Chrome";v="120"`,
		"?1", `"Android"`, `"14.0.0"`, `"Pixel 8"`)
	f.Add(benchUserAgent, `"Microsoft Edge";v="121", "Not A(Brand";v="99"`, "?0", "Windows", "15.0.0", "")
	f.Add("Googlebot/2.1 (+http://www.google.com/bot.html)", "", "", "", "", "")
	f.Add("", `"\"`, "?", `"`, "0.", `"\"`)
	f.Add(strings.Repeat("Mozilla/5.0 (", 200), strings.Repeat(`"a";v="1",`, 100),
		"?1", "macOS", "99999999999999999999.1", "x")

	parser := newTestParser(f)
	f.Fuzz(func(t *testing.T, userAgent, brands, mobile, platform, platformVersion, model string) {
		h := Hints{UA: brands, Mobile: mobile, Platform: platform, PlatformVersion: platformVersion, Model: model}
		client := parser.Parse(userAgent, h)

		switch client.Device {
		case DeviceDesktop, DeviceTablet, DeviceMobile:
		default:
			t.Fatalf("device class %q", client.Device)
		}
		if again := parser.Parse(userAgent, h); again != client {
			t.Fatalf("second parse %+v differs from first %+v", again, client)
		}
		if uncached := parser.parse(strings.TrimSpace(truncate(userAgent, maxUserAgentLength)), Hints{
			UA: truncate(brands, maxHintLength), Mobile: truncate(mobile, maxHintLength),
			Platform: truncate(platform, maxHintLength), PlatformVersion: truncate(platformVersion, maxHintLength),
			Model: truncate(model, maxHintLength),
		}); uncached != client {
			t.Fatalf("uncached parse %+v differs from cached %+v", uncached, client)
		}
		if strings.TrimSpace(userAgent) == "" && !client.Bot {
			t.Fatalf("empty user agent not a bot")
		}
	})
}

func FuzzPageKey(f *testing.F) {
	for _, seed := range []string{
		"https://WWW.Shop.example.com/cart/?id=7#/step2/?x=1",
		"http://localhost:3000/todos#!/active",
		"https://bücher.example/straße/%7E",
		"https://[2001:db8::1]:8080/x#/",
		"https://example.com/a%2Fb//c/#/d%20e/",
		"http://a.b:0/%zz",
		"javascript:alert(1)",
	} {
		f.Add(seed)
	}

	f.Fuzz(func(t *testing.T, raw string) {
		key, err := PageKey(raw)
		if err != nil {
			return
		}
		if strings.ContainsAny(key, "?") || strings.HasPrefix(key, "www.") {
			t.Fatalf("PageKey(%q) = %q keeps a query or www.", raw, key)
		}
		if !utf8.ValidString(key) {
			t.Fatalf("PageKey(%q) = %q is not valid UTF-8", raw, key)
		}
		// A key is already normal: reading it back as a URL gives itself.
		again, err := PageKey("https://" + key)
		if err != nil {
			t.Fatalf("PageKey(%q) = %q, which does not parse again: %v", raw, key, err)
		}
		if again != key {
			t.Fatalf("PageKey(%q) = %q, but PageKey of that is %q", raw, key, again)
		}
	})
}

func FuzzUTM(f *testing.F) {
	f.Add("https://example.com/?utm_source=a&utm_medium=b&utm_campaign=c")
	f.Add("https://example.com/#/x?utm_source=%zz&utm_campaign=" + strings.Repeat("y", 300))
	f.Add("%")

	f.Fuzz(func(t *testing.T, raw string) {
		source, medium, campaign := UTM(raw)
		for _, tag := range []string{source, medium, campaign} {
			if len(tag) > maxUTMLength {
				t.Fatalf("UTM(%q) gave a %d-byte tag", raw, len(tag))
			}
		}
	})
}

func FuzzParseReferrer(f *testing.F) {
	for _, seed := range []string{
		"https://www.google.co.uk/search?q=x",
		"android-app://com.google.android.gm/",
		"http://Foo.Semalt.com./crawler",
		"news.ycombinator.com/item?id=1",
		"http://[2001:DB8::1]:8080/x",
		"https://www.Bücher.example/",
		"https://xn--/",
		"http://%41.com/",
		"::::",
	} {
		f.Add(seed, "www.example.com")
	}

	f.Fuzz(func(t *testing.T, raw, siteDomain string) {
		referrer := ParseReferrer(raw, []string{siteDomain})
		if referrer.Host == "" {
			if referrer != (Referrer{}) {
				t.Fatalf("ParseReferrer(%q) = %+v without a host", raw, referrer)
			}
			return
		}
		if referrer.Host != strings.ToLower(referrer.Host) || strings.HasPrefix(referrer.Host, "www.") ||
			strings.HasSuffix(referrer.Host, ".") {
			t.Fatalf("ParseReferrer(%q) host %q is not normal", raw, referrer.Host)
		}
		if !isASCII(referrer.Host) {
			t.Fatalf("ParseReferrer(%q) host %q is not ASCII", raw, referrer.Host)
		}
		if strings.ContainsAny(referrer.URL, "?#") {
			t.Fatalf("ParseReferrer(%q) URL %q keeps a query or fragment", raw, referrer.URL)
		}
		if normalizeHost(referrer.Host) != referrer.Host {
			t.Fatalf("ParseReferrer(%q) host %q normalises to %q", raw, referrer.Host,
				normalizeHost(referrer.Host))
		}
	})
}

func FuzzClientIP(f *testing.F) {
	f.Add("10.0.0.2:80", "6.6.6.6, 198.51.100.9", "", "10.0.0.0/8")
	f.Add("[::ffff:10.0.0.2]:80", "[2001:db8::5]:1234,, bogus", "1.2.3.4", "10.0.0.0/8 ::1")
	f.Add("@", "", "", "")

	f.Fuzz(func(t *testing.T, remote, forwarded, realIP, trustedList string) {
		trusted, err := ParsePrefixes(trustedList)
		if err != nil {
			return
		}
		r := httptest.NewRequest(http.MethodPost, "/i", nil)
		r.RemoteAddr = remote
		r.Header["X-Forwarded-For"] = []string{forwarded}
		r.Header["X-Real-Ip"] = []string{realIP}

		got := ClientIP(r, trusted)
		remoteAddr := parseHostAddr(remote)
		if !remoteAddr.IsValid() || !isTrusted(remoteAddr, trusted) {
			if got != remoteAddr {
				t.Fatalf("ClientIP = %v for an untrusted peer %q", got, remote)
			}
			return
		}
		if got.Zone() != "" || got.Is4In6() {
			t.Fatalf("ClientIP = %v, want no zone and no IPv4-mapped form", got)
		}
		if got != remoteAddr && !strings.Contains(forwarded+","+realIP, got.String()) &&
			!containsAddr(forwarded+","+realIP, got) {
			t.Fatalf("ClientIP = %v, from none of the headers", got)
		}
	})
}

// containsAddr reports whether one of the comma-separated entries of list
// reads as addr.
func containsAddr(list string, addr netip.Addr) bool {
	for entry := range strings.SplitSeq(list, ",") {
		if parseHostAddr(strings.TrimSpace(entry)) == addr {
			return true
		}
	}
	return false
}
