package enrich

import (
	"sync"
	"testing"
)

// sharedParser compiles the rules once for all tests of the package.
var sharedParser = sync.OnceValues(NewParser)

// newTestParser returns the package's shared Parser.
func newTestParser(t testing.TB) *Parser {
	t.Helper()

	parser, err := sharedParser()
	if err != nil {
		t.Fatalf("new parser: %v", err)
	}
	return parser
}

// botRate parses every user agent and returns how many were flagged as bots,
// logging up to a few of those on the wrong side of want.
func botRate(t *testing.T, parser *Parser, userAgents []string, want bool) int {
	t.Helper()

	flagged, logged := 0, 0
	for _, userAgent := range userAgents {
		bot := parser.Parse(userAgent, Hints{}).Bot
		if bot {
			flagged++
		}
		if bot != want && logged < 15 {
			logged++
			t.Logf("bot=%v: %q", bot, userAgent)
		}
	}
	return flagged
}

func TestBotsCrawlerUserAgents(t *testing.T) {
	parser := newTestParser(t)
	var entries []struct {
		Pattern   string   `json:"pattern"`
		Instances []string `json:"instances"`
	}
	readCorpusJSON(t, "crawler-user-agents/crawler-user-agents.json", &entries)

	var userAgents []string
	for _, entry := range entries {
		userAgents = append(userAgents, entry.Instances...)
	}
	flagged := botRate(t, parser, userAgents, true)

	rate := percent(flagged, len(userAgents))
	t.Logf("crawler-user-agents: %d of %d instances flagged as bots (%.1f %%)",
		flagged, len(userAgents), rate)
	if len(userAgents) < 2000 || rate < 95 {
		t.Errorf("want at least 95 %% of 2000+ instances flagged, got %.1f %% of %d",
			rate, len(userAgents))
	}
}

func TestBotsIsbotFixtures(t *testing.T) {
	parser := newTestParser(t)
	tests := []struct {
		name    string
		file    string
		want    bool
		minRate float64 // least share on the right side, in per cent
		minSize int
	}{
		{name: "crawlers", file: "isbot/fixtures/crawlers.yml", want: true, minRate: 95, minSize: 600},
		{name: "browsers", file: "isbot/fixtures/browsers.yml", want: false, minRate: 99, minSize: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var groups map[string][]string
			readCorpusYAML(t, tt.file, &groups)

			var userAgents []string
			for _, list := range groups {
				userAgents = append(userAgents, list...)
			}
			flagged := botRate(t, parser, userAgents, tt.want)

			right := flagged
			if !tt.want {
				right = len(userAgents) - flagged
			}
			rate := percent(right, len(userAgents))
			t.Logf("%s: %d of %d flagged as bots; %.1f %% classified right",
				tt.file, flagged, len(userAgents), rate)
			if len(userAgents) < tt.minSize || rate < tt.minRate {
				t.Errorf("want at least %.0f %% of %d+ right, got %.1f %% of %d",
					tt.minRate, tt.minSize, rate, len(userAgents))
			}
		})
	}
}

func TestBotsDeviceDetector(t *testing.T) {
	parser := newTestParser(t)
	tests := []struct {
		name    string
		file    string
		want    bool
		minRate float64
		minSize int
	}{
		{name: "bots", file: "device-detector/Tests/fixtures/bots.yml",
			want: true, minRate: 95, minSize: 1300},
		{name: "desktop", file: "device-detector/Tests/fixtures/desktop.yml",
			want: false, minRate: 98, minSize: 500},
		{name: "smartphone", file: "device-detector/Tests/fixtures/smartphone-1.yml",
			want: false, minRate: 98, minSize: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cases []struct {
				UserAgent string `yaml:"user_agent"`
			}
			readCorpusYAML(t, tt.file, &cases)

			userAgents := make([]string, 0, len(cases))
			for _, c := range cases {
				userAgents = append(userAgents, c.UserAgent)
			}
			flagged := botRate(t, parser, userAgents, tt.want)

			right := flagged
			if !tt.want {
				right = len(userAgents) - flagged
			}
			rate := percent(right, len(userAgents))
			t.Logf("%s: %d of %d flagged as bots; %.1f %% classified right",
				tt.file, flagged, len(userAgents), rate)
			if len(userAgents) < tt.minSize || rate < tt.minRate {
				t.Errorf("want at least %.0f %% of %d+ right, got %.1f %% of %d",
					tt.minRate, tt.minSize, rate, len(userAgents))
			}
		})
	}
}

func TestIsBotUserAgent(t *testing.T) {
	tests := []struct {
		userAgent string
		want      bool
	}{
		{userAgent: "", want: true},
		{userAgent: "   ", want: true},
		{userAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) " +
			"HeadlessChrome/120.0.6099.109 Safari/537.36", want: true},
		{userAgent: "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) " +
			"PhantomJS/2.1.1 Safari/538.1", want: true},
		{userAgent: "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 " +
			"(KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse", want: true},
		{userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) " +
			"Chrome/120.0.0.0 Safari/537.36 Playwright/1.40.0", want: true},
		{userAgent: "curl/8.4.0", want: true},
		{userAgent: "Wget/1.21.4", want: true},
		{userAgent: "python-requests/2.31.0", want: true},
		{userAgent: "Python-urllib/3.11", want: true},
		{userAgent: "Go-http-client/2.0", want: true},
		{userAgent: "okhttp/4.12.0", want: true},
		{userAgent: "axios/1.6.2", want: true},
		{userAgent: "Java/17.0.9", want: true},
		{userAgent: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", want: true},
		{userAgent: "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", want: true},
		{userAgent: "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", want: true},
		{userAgent: "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", want: true},
		{userAgent: "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)", want: true},
		{userAgent: "Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)", want: true},
		{userAgent: "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; " +
			"+https://openai.com/gptbot)", want: true},
		{userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) " +
			"Chrome/120.0.0.0 Safari/537.36", want: false},
		{userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) " +
			"Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91", want: false},
		{userAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.2; rv:121.0) Gecko/20100101 Firefox/121.0",
			want: false},
		{userAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 " +
			"(KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1", want: false},
		{userAgent: "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) " +
			"SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36", want: false},
		{userAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 " +
			"(KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/444.0.0.32.118;FBBV/537000000]",
			want: false},
		{userAgent: "Mozilla/5.0 (Linux; Android 6.0; CUBOT MAX Build/MRA58K) AppleWebKit/537.36 " +
			"(KHTML, like Gecko) Chrome/51.0.2704.81 Mobile Safari/537.36", want: false},
		{userAgent: "Mozilla/5.0 (Linux; Android 14; SM-S918B Build/UP1A.231005.007; wv) " +
			"AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/124.0.6367.123 Mobile " +
			"Safari/537.36 CamScanner/4.8.5.2310271827", want: false},
	}
	for _, tt := range tests {
		t.Run(truncate(tt.userAgent, 60), func(t *testing.T) {
			if got := isBotUserAgent(tt.userAgent); got != tt.want {
				t.Errorf("isBotUserAgent(%q) = %v, want %v", tt.userAgent, got, tt.want)
			}
		})
	}
}
