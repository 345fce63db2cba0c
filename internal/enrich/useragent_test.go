package enrich

import (
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestParseBrowserFamily(t *testing.T) {
	t.Run("built-in rules", func(t *testing.T) {
		// The built-in rules are those of the newest uap-go release, which
		// trails the corpus and reports browsers released since as their
		// engine ("Chrome"). Loupe's own browser rules name the ones that
		// matter, which holds the built-in parser to the same floor as the
		// rules the corpus was written for; what is left are niche apps and
		// rebranded Chromium builds.
		checkBrowserFamily(t, newTestParser(t), 95)
	})
	t.Run("corpus rules", func(t *testing.T) {
		parser, err := NewParserWithRules(readCorpus(t, "uap-core/regexes.yaml"))
		if err != nil {
			t.Fatalf("new parser with rules: %v", err)
		}
		checkBrowserFamily(t, parser, 95)
	})
}

// checkBrowserFamily compares Client.Browser with the uap-core test files.
func checkBrowserFamily(t *testing.T, parser *Parser, testUAFloor float64) {
	files := []struct {
		file    string
		minRate float64
	}{
		{file: "uap-core/tests/test_ua.yaml", minRate: testUAFloor},
		{file: "uap-core/test_resources/firefox_user_agent_strings.yaml", minRate: 95},
		{file: "uap-core/test_resources/opera_mini_user_agent_strings.yaml", minRate: 95},
		{file: "uap-core/test_resources/podcasting_user_agent_strings.yaml", minRate: 95},
	}
	for _, f := range files {
		t.Run(f.file[strings.LastIndex(f.file, "/")+1:], func(t *testing.T) {
			var doc struct {
				TestCases []struct {
					UserAgent string `yaml:"user_agent_string"`
					Family    string `yaml:"family"`
					Major     string `yaml:"major"`
				} `yaml:"test_cases"`
			}
			readCorpusYAML(t, f.file, &doc)

			family, major, logged := 0, 0, 0
			for _, c := range doc.TestCases {
				client := parser.Parse(c.UserAgent, Hints{})
				// Parse folds mobile variants into one name ("Chrome
				// Mobile" is "Chrome"); fold the expectation the same way.
				if client.Browser == foldBrowser(c.Family) {
					family++
					if client.BrowserVersion == c.Major {
						major++
					}
				} else if logged < 10 {
					logged++
					t.Logf("got %q, want %q: %q", client.Browser, c.Family, c.UserAgent)
				}
			}

			total := len(doc.TestCases)
			rate := percent(family, total)
			t.Logf("%s: browser family right for %d of %d (%.1f %%), family and major for %d (%.1f %%)",
				f.file, family, total, rate, major, percent(major, total))
			if total < 100 || rate < f.minRate {
				t.Errorf("want family right for at least %.0f %% of 100+ cases, got %.1f %% of %d",
					f.minRate, rate, total)
			}
		})
	}
}

func TestParseBrowserRules(t *testing.T) {
	parser := newTestParser(t)
	tests := []struct {
		name      string
		userAgent string
		want      string // as describeClient writes it
	}{
		{name: "WeChat on Windows", userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) " +
			"AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 NetType/WIFI " +
			"MicroMessenger/7.0.20.1781(0x6700143B) WindowsWechat(0x63090c33) XWEB/14315",
			want: "WeChat Browser 7 / Windows 10 / desktop"},
		{name: "Weibo on iPhone", userAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) " +
			"AppleWebKit/605.1.15 (KHTML, like Gecko)  Mobile/15E148 " +
			"Weibo (iPhone17,1__weibo__15.4.1__iphone__os18.5)",
			want: "Weibo 15 / iOS 18.5 / mobile"},
		{name: "Weibo without a version", userAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6_1 " +
			"like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 " +
			"WeiboIntliOS_iPhone_6720",
			want: "Weibo / iOS 17.6 / mobile"},
		{name: "TikTok version from app_version", userAgent: "Mozilla/5.0 (Linux; Android 10; " +
			"moto g(7) Build/QP6_S30.52-23-13-4; wv) AppleWebKit/537.36 (KHTML, like Gecko) " +
			"Version/4.0 Chrome/108.0.5359.128 Mobile Safari/537.36 musical_ly_2022704050 " +
			"JsSdk/1.0 NetType/WIFI Channel/googleplay AppName/musical_ly app_version/27.4.5",
			want: "TikTok 27 / Android 10 / mobile"},
		{name: "Honor Browser, Baidu build", userAgent: "Mozilla/5.0 (Linux; Android 14; " +
			"FNE-AN00 Build/HONORFNE-AN00;) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 " +
			"Chrome/97.0.4692.98 Mobile Safari/537.36 T7/13.38 bdapp/1.0 " +
			"(bdhonorbrowser; bdhonorbrowser) bdhonorbrowser/9.6.0.4 (P1 14) NABar/1.0",
			want: "Honor Browser 9 / Android 14 / mobile"},
		{name: "Honor Browser on Windows", userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) " +
			"AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.5845.114 " +
			"HonorBrowser/3.0.9.303 Safari/537.36",
			want: "Honor Browser 3 / Windows 10 / desktop"},
		{name: "Baidu app with an encoded version", userAgent: "Mozilla/5.0 (Linux; U; " +
			"Android 2.3.5; zh-cn; JC-A109 Build/GRJ90) AppleWebKit/533.1 (KHTML, like Gecko) " +
			"Version/4.0 Mobile Safari/533.1 baiduboxapp/061_8.3_diordna_084_023/" +
			"nwonknu_01_5.3.2_901A-CJ/1000772b/0AB843F5DB5D5DA10BE61DD1150",
			want: "Baidu Explorer / Android 2.3 / mobile"},
		{name: "Brave on iPad", userAgent: "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) " +
			"AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Safari/604.1 (Brave)",
			want: "Brave / iOS 17 / tablet"},
		{name: "Opera Touch on a tablet", userAgent: "Mozilla/5.0 (Linux; Android 16; SM-X115 " +
			"Build/BP2A.250605.031.A3) AppleWebKit/537.36 (KHTML, like Gecko) " +
			"Chrome/145.0.7632.79 Safari/537.36 OPT/2.9",
			want: "Opera Touch 2 / Android 16 / tablet"},
		{name: "synthetic monitor stays a bot", userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; " +
			"x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/99.0.4844.84 Safari/537.36 " +
			"RuxitSynthetic/1.0 v1090987875435353284 t2300697156056581802",
			want: "Ruxit Synthetic 1 / Windows 10 / desktop / bot"},
		{name: "a specific family from the library stands", userAgent: "HipChat Mozilla/5.0 " +
			"(Windows NT 6.2; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) QtWebEngine/5.7.0 " +
			"Chrome/49.0.2623.111 Safari/537.36",
			want: "HipChat Desktop Client / Windows 8 / desktop"},
		{name: "a crawler that names a browser stands", userAgent: "Mozilla/5.0 (Windows NT 6.2) " +
			"AppleWebKit/537.36 (KHTML, like Gecko) Chrome/31.0.1650.63 Safari/537.36 " +
			"QIHU 360SE; 360Spider",
			want: "360Spider / Windows 8 / desktop / bot"},
		{name: "no rule for plain Chrome", userAgent: benchUserAgent,
			want: "Chrome 120 / Windows 10 / desktop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := describeClient(parser.Parse(tt.userAgent, Hints{})); got != tt.want {
				t.Errorf("Parse = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestBrowserRulesCorpus holds every browser rule to the browser corpus: a
// rule must name each user agent it takes from the rule library as the
// corpus does, and must take at least one.
func TestBrowserRulesCorpus(t *testing.T) {
	parser := newTestParser(t)
	var doc struct {
		TestCases []struct {
			UserAgent string `yaml:"user_agent_string"`
			Family    string `yaml:"family"`
		} `yaml:"test_cases"`
	}
	readCorpusYAML(t, "uap-core/tests/test_ua.yaml", &doc)

	taken := make(map[string]int)
	for _, c := range doc.TestCases {
		if !engineFamilies[parser.rules.ParseUserAgent(c.UserAgent).Family] {
			continue
		}
		family, _, ok := matchBrowserRule(c.UserAgent)
		if !ok {
			continue
		}
		taken[family]++
		if family != c.Family {
			t.Errorf("rule %q takes a user agent the corpus calls %q: %q",
				family, c.Family, c.UserAgent)
		}
	}

	for _, rule := range browserRules {
		if taken[rule.family] == 0 {
			t.Errorf("rule %q takes no user agent of the corpus", rule.family)
		}
	}
}

func BenchmarkMatchBrowserRule(b *testing.B) {
	tests := []struct{ name, userAgent string }{
		{name: "no rule", userAgent: benchUserAgent},
		{name: "WeChat", userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 " +
			"(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 NetType/WIFI " +
			"MicroMessenger/7.0.20.1781(0x6700143B) WindowsWechat(0x63090c33) XWEB/14315"},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				matchBrowserRule(tt.userAgent)
			}
		})
	}
}

// deviceDetectorClass maps a device-detector device type to a Loupe device
// class; "" means the type has no fair equivalent (television, console,
// car, wearable, unknown) and the case is left out of the rate.
func deviceDetectorClass(deviceType string) string {
	switch deviceType {
	case "desktop":
		return DeviceDesktop
	case "smartphone", "phablet", "feature phone":
		return DeviceMobile
	case "tablet":
		return DeviceTablet
	}
	return ""
}

func TestParseDeviceClass(t *testing.T) {
	parser := newTestParser(t)
	tests := []struct {
		name    string
		file    string
		want    string
		minRate float64
	}{
		{name: "desktop", file: "device-detector/Tests/fixtures/desktop.yml",
			want: DeviceDesktop, minRate: 95},
		{name: "smartphone", file: "device-detector/Tests/fixtures/smartphone-1.yml",
			want: DeviceMobile, minRate: 98},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cases []struct {
				UserAgent string `yaml:"user_agent"`
				Device    struct {
					Type string `yaml:"type"`
				} `yaml:"device"`
			}
			readCorpusYAML(t, tt.file, &cases)

			right, total, logged := 0, 0, 0
			for _, c := range cases {
				if deviceDetectorClass(c.Device.Type) != tt.want {
					continue
				}
				total++
				got := parser.Parse(c.UserAgent, Hints{}).Device
				if got == tt.want {
					right++
				} else if logged < 10 {
					logged++
					t.Logf("got %s: %q", got, c.UserAgent)
				}
			}

			rate := percent(right, total)
			t.Logf("%s: %d of %d classified %s (%.1f %%)", tt.file, right, total, tt.want, rate)
			if total < 400 || rate < tt.minRate {
				t.Errorf("want at least %.0f %% of 400+ right, got %.1f %% of %d", tt.minRate, rate, total)
			}
		})
	}
}

func TestParseTabletClass(t *testing.T) {
	parser := newTestParser(t)
	var doc struct {
		TestCases []struct {
			UserAgent string `yaml:"user_agent_string"`
			Family    string `yaml:"family"`
		} `yaml:"test_cases"`
	}
	readCorpusYAML(t, "uap-core/tests/test_device.yaml", &doc)

	// The device corpus names devices, not classes; these families are
	// tablets by name.
	isTablet := func(family string) bool {
		return strings.HasPrefix(family, "iPad") || strings.HasPrefix(family, "Kindle") ||
			strings.Contains(family, "Galaxy Tab") || strings.Contains(family, "MI PAD") ||
			strings.HasPrefix(family, "Nexus 7") || strings.HasPrefix(family, "Nexus 10")
	}
	right, total, logged := 0, 0, 0
	for _, c := range doc.TestCases {
		if !isTablet(c.Family) {
			continue
		}
		total++
		got := parser.Parse(c.UserAgent, Hints{}).Device
		if got == DeviceTablet {
			right++
		} else if logged < 10 {
			logged++
			t.Logf("got %s for %s: %q", got, c.Family, c.UserAgent)
		}
	}

	rate := percent(right, total)
	t.Logf("test_device.yaml tablets: %d of %d classified tablet (%.1f %%)", right, total, rate)
	if total < 50 || rate < 95 {
		t.Errorf("want at least 95 %% of 50+ tablets right, got %.1f %% of %d", rate, total)
	}
}

// describeClient writes a Client on one line, "Chrome 120 / Windows 11 /
// desktop", with " / bot" for a bot, so that expectations stay short.
func describeClient(c Client) string {
	s := strings.TrimSpace(c.Browser+" "+c.BrowserVersion) + " / " +
		strings.TrimSpace(c.OS+" "+c.OSVersion) + " / " + c.Device
	if c.Bot {
		s += " / bot"
	}
	return s
}

func TestParseHints(t *testing.T) {
	parser := newTestParser(t)
	const (
		reducedAndroid = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) " +
			"Chrome/120.0.0.0 Mobile Safari/537.36"
		reducedAndroidTablet = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) " +
			"Chrome/120.0.0.0 Safari/537.36"
		windowsChrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) " +
			"Chrome/120.0.0.0 Safari/537.36"
		macChrome = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) " +
			"Chrome/120.0.0.0 Safari/537.36"
		chromeBrands = `"Not_A Brand";v="8", "Chromium";v="120", "Google Chrome";v="120"`
	)
	tests := []struct {
		name      string
		userAgent string
		hints     Hints
		want      string // as describeClient writes it
	}{
		{name: "no hints", userAgent: windowsChrome,
			want: "Chrome 120 / Windows 10 / desktop"},
		{name: "Windows 11 from the platform version", userAgent: windowsChrome,
			hints: Hints{UA: chromeBrands, Mobile: "?0", Platform: `"Windows"`, PlatformVersion: `"15.0.0"`},
			want:  "Chrome 120 / Windows 11 / desktop"},
		{name: "Windows 8.1 from the platform version", userAgent: windowsChrome,
			hints: Hints{Platform: `"Windows"`, PlatformVersion: `"0.3.0"`},
			want:  "Chrome 120 / Windows 8.1 / desktop"},
		{name: "macOS version the user agent freezes", userAgent: macChrome,
			hints: Hints{UA: chromeBrands, Mobile: "?0", Platform: `"macOS"`, PlatformVersion: `"14.2.1"`},
			want:  "Chrome 120 / Mac OS X 14.2 / desktop"},
		{name: "reduced Android phone", userAgent: reducedAndroid,
			hints: Hints{UA: chromeBrands, Mobile: "?1", Platform: `"Android"`,
				PlatformVersion: `"14.0.0"`, Model: `"Pixel 8"`},
			want: "Chrome 120 / Android 14 / mobile"},
		{name: "reduced Android tablet", userAgent: reducedAndroidTablet,
			hints: Hints{UA: chromeBrands, Mobile: "?0", Platform: `"Android"`,
				PlatformVersion: `"13"`, Model: `"SM-X700"`},
			want: "Chrome 120 / Android 13 / tablet"},
		{name: "tablet that calls itself mobile, known model", userAgent: reducedAndroid,
			hints: Hints{Mobile: "?1", Platform: `"Android"`, Model: `"SM-T870"`},
			want:  "Chrome 120 / Android 10 / tablet"},
		{name: "Edge brand wins over Chromium and Chrome", userAgent: windowsChrome,
			hints: Hints{UA: `"Microsoft Edge";v="121", "Not A(Brand";v="99", "Chromium";v="121"`,
				Platform: `"Windows"`},
			want: "Edge 121 / Windows 10 / desktop"},
		{name: "Opera brand", userAgent: windowsChrome,
			hints: Hints{UA: `"Opera";v="106", "Chromium";v="120", "Not=A?Brand";v="24"`},
			want:  "Opera 106 / Windows 10 / desktop"},
		{name: "Yandex brand named as the user agent names it", userAgent: reducedAndroid,
			hints: Hints{UA: `" Not A;Brand";v="99", "Chromium";v="96", "Yandex";v="22"`, Mobile: "?1"},
			want:  "Yandex Browser 22 / Android 10 / mobile"},
		{name: "only Chromium keeps a Chrome user agent", userAgent: windowsChrome,
			hints: Hints{UA: `"Chromium";v="120", "Not_A Brand";v="8"`},
			want:  "Chrome 120 / Windows 10 / desktop"},
		{name: "mobile hint on a desktop user agent", userAgent: windowsChrome,
			hints: Hints{Mobile: "?1"},
			want:  "Chrome 120 / Windows 10 / mobile"},
		{name: "desktop hint on a phone user agent", userAgent: reducedAndroid,
			hints: Hints{Mobile: "?0", Platform: `"Linux"`},
			want:  "Chrome 120 / Android 10 / desktop"},
		{name: "headless brand is a bot", userAgent: windowsChrome,
			hints: Hints{UA: `"HeadlessChrome";v="120", "Chromium";v="120"`},
			want:  "HeadlessChrome 120 / Windows 10 / desktop / bot"},
		{name: "unquoted and unknown platform", userAgent: windowsChrome,
			hints: Hints{Platform: "Unknown", PlatformVersion: "x.y"},
			want:  "Chrome 120 / Windows 10 / desktop"},
		{name: "malformed brand list", userAgent: windowsChrome,
			hints: Hints{UA: `"Opera;v=, "Microsoft Edge`},
			want:  "Chrome 120 / Windows 10 / desktop"},
		{name: "brand with a version that is no number", userAgent: windowsChrome,
			hints: Hints{UA: `"Brave";v="x1"`},
			want:  "Brave / Windows 10 / desktop"},
		{name: "empty user agent", userAgent: "",
			want: "Other / Other / desktop / bot"},
		{name: "iPad", userAgent: "Mozilla/5.0 (iPad; CPU OS 17_2 like Mac OS X) AppleWebKit/605.1.15 " +
			"(KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
			want: "Safari 17 / iOS 17.2 / tablet"},
		{name: "iPhone Chrome", userAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) " +
			"AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
			want: "Chrome 120 / iOS 17.2 / mobile"},
		{name: "headless user agent", userAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 " +
			"(KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
			want: "HeadlessChrome 120 / Linux / desktop / bot"},
		{name: "HTTP library", userAgent: "python-requests/2.31.0",
			want: "Python Requests 2 / Other / desktop / bot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := describeClient(parser.Parse(tt.userAgent, tt.hints)); got != tt.want {
				t.Errorf("Parse = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBrands(t *testing.T) {
	tests := []struct {
		header string
		want   []brand
	}{
		{header: `"Chromium";v="120", "Google Chrome";v="120", "Not_A Brand";v="8"`,
			want: []brand{{"Chromium", "120"}, {"Google Chrome", "120"}, {"Not_A Brand", "8"}}},
		{header: `" Not A;Brand";v="99", "Chromium";v="98"`,
			want: []brand{{" Not A;Brand", "99"}, {"Chromium", "98"}}},
		{header: `"Quoted \"name\"";v="1";x=2, "Comma, inside";v="2"`,
			want: []brand{{`Quoted "name"`, "1"}, {"Comma, inside", "2"}}},
		{header: `bare, "NoVersion", ;v="3"`, want: []brand{{"NoVersion", ""}}},
		{header: "", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			got := slices.Collect(brands(tt.header))
			if !slices.Equal(got, tt.want) {
				t.Errorf("brands(%q) = %q, want %q", tt.header, got, tt.want)
			}
		})
	}
}

func TestParserCache(t *testing.T) {
	parser, err := NewParser()
	if err != nil {
		t.Fatalf("new parser: %v", err)
	}
	parser.cache = newClientCache(2)
	cached := func(userAgent string, h Hints) bool {
		_, ok := parser.cache.get(appendCacheKey(nil, userAgent, h))
		return ok
	}

	plain := parser.Parse(benchUserAgent, Hints{})
	mobile := parser.Parse(benchUserAgent, Hints{Mobile: "?1"})
	if plain.Device != DeviceDesktop || mobile.Device != DeviceMobile {
		t.Fatalf("hints must be part of the cache key: got %s and %s", plain.Device, mobile.Device)
	}
	if got := parser.Parse(benchUserAgent, Hints{}); got != plain {
		t.Errorf("cached result %+v, want %+v", got, plain)
	}

	// The hinted result is now the least recently used, and goes first.
	parser.Parse("curl/8.0", Hints{})
	if n := parser.cache.len(); n != 2 {
		t.Errorf("cache holds %d results, want 2", n)
	}
	if cached(benchUserAgent, Hints{Mobile: "?1"}) {
		t.Errorf("least recently used result still cached")
	}
	if !cached(benchUserAgent, Hints{}) || !cached("curl/8.0", Hints{}) {
		t.Errorf("recently used result evicted")
	}

	// A user agent that spells out another's hints is a different key.
	if string(appendCacheKey(nil, "a\x00b", Hints{})) == string(appendCacheKey(nil, "a", Hints{UA: "b"})) {
		t.Errorf("cache keys collide")
	}
}

func TestParserConcurrent(t *testing.T) {
	parser := newTestParser(t)
	userAgents := []string{
		benchUserAgent,
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 " +
			"(KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
		"Googlebot/2.1 (+http://www.google.com/bot.html)",
	}
	want := make([]Client, len(userAgents))
	for i, userAgent := range userAgents {
		want[i] = parser.Parse(userAgent, Hints{})
	}

	var wg sync.WaitGroup
	for worker := range 8 {
		wg.Go(func() {
			for i := range 300 {
				n := (worker + i) % len(userAgents)
				if got := parser.Parse(userAgents[n], Hints{}); got != want[n] {
					t.Errorf("Parse(%q) = %+v, want %+v", userAgents[n], got, want[n])
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestNewParserWithRulesRejects(t *testing.T) {
	tests := []struct {
		name  string
		rules string
	}{
		{name: "not YAML", rules: "{{{"},
		{name: "empty", rules: ""},
		{name: "no parsers", rules: "user_agent_parsers: []"},
		{name: "bad regex", rules: "user_agent_parsers:\n  - regex: '(unclosed'\n" +
			"os_parsers:\n  - regex: 'x'\ndevice_parsers:\n  - regex: 'y'\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewParserWithRules([]byte(tt.rules)); err == nil {
				t.Errorf("NewParserWithRules(%q) succeeded, want an error", tt.rules)
			}
		})
	}
}
