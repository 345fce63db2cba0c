package enrich

import "regexp"

// browserRule names a browser by a token it adds to its engine's user agent.
// The major version is the first non-empty group of the pattern; a pattern
// without one reports no version.
type browserRule struct {
	family  string
	pattern *regexp.Regexp
}

// browserRules recognise browsers, in-app browsers and embedded engines that
// the built-in rule set predates, and therefore reports as the engine they
// run on ("Chrome", "Mobile Safari"). Family names are those the built-in
// rules would use once they learn the browser, so that reports do not split
// when the rule set is updated or an operator loads a newer one.
//
// The first match wins: monitors go first, then apps that wrap a web view
// (their token comes last and says who shows the page), then browsers. All
// patterns but TikTok's start with a literal, which the regexp package finds
// with a substring search before it runs the pattern: a user agent no rule
// names, the common case, costs microseconds against the milliseconds of the
// rule library.
var browserRules = []browserRule{
	{"Ruxit Synthetic", regexp.MustCompile(`RuxitSynthetic/(\d+)`)},

	// Apps that show pages in their own web view.
	{"WeChat Browser", regexp.MustCompile(`MicroMessenger/(\d+)`)},
	{"Weibo", regexp.MustCompile(`Weibo(?: \((?:[^)]*?__weibo__(\d+))?|(?:Intl|lite)iOS_)`)},
	{"TikTok", regexp.MustCompile(`(?:musical_ly|trill)_(?:(\d+)\.|\d+ .*?app_version/(\d+))`)},
	{"Telegram", regexp.MustCompile(`Telegram-Android/(\d+)`)},
	{"KakaoTalk", regexp.MustCompile(`KAKAOTALK/(\d+)`)},
	{"Instagram", regexp.MustCompile(`Instagram (\d+)`)},
	{"Baidu Explorer", regexp.MustCompile(`baiduboxapp/(?:(\d+)\.)?`)},
	{"Microsoft Teams", regexp.MustCompile(` Teams/(\d+)`)},
	{"OBS Studio", regexp.MustCompile(` OBS/(\d+)`)},
	{"Roblox App", regexp.MustCompile(`RobloxApp/(\d+)`)},

	// Browsers. Honor's own build capitalises its name, the one made with
	// Baidu does not; matching from the second letter keeps a literal to
	// search for.
	{"Honor Browser", regexp.MustCompile(`onor[Bb]rowser/(\d+)`)},
	{"HeyTap Browser", regexp.MustCompile(`HeyTapBrowser/(\d+)`)},
	{"UC Browser", regexp.MustCompile(`UCMobile/(\d+)`)},
	{"Phoenix Browser", regexp.MustCompile(` PHX/(\d+)`)},
	// Opera's mobile editions write only a three-letter code.
	{"Opera Touch", regexp.MustCompile(` OPT/(\d+)`)},
	{"Opera GX", regexp.MustCompile(` OPX/(\d+)`)},
	{"Oculus Browser", regexp.MustCompile(`OculusBrowser/(\d+)`)},
	{"Vewd Browser", regexp.MustCompile(` OMI/(\d+)`)},
	{"Qt Web Engine", regexp.MustCompile(`QtWebEngine/(\d+)`)},
	{"Smart Lenovo Browser", regexp.MustCompile(`SLBrowser/(\d+)`)},
	{"360 Secure Browser", regexp.MustCompile(`QIHU 360`)},
	{"Open Wave", regexp.MustCompile(`OpenWave/(\d+)`)},
	{"Mypal Browser", regexp.MustCompile(`Mypal/(\d+)`)},
	// Brave on iOS adds its bare name, sometimes in brackets, at the end.
	{"Brave", regexp.MustCompile(`Brave\)?$`)},
}

// engineFamilies are the families the rule library reports when it knows no
// more than the engine or the platform's default browser. Only these give way
// to browserRules: a specific answer, from the built-in rules or an
// operator's newer file, stands.
var engineFamilies = map[string]bool{
	"Other": true, "Chrome": true, "Chrome Mobile": true, "Chrome Mobile WebView": true,
	"Chromium": true, "Safari": true, "Mobile Safari": true,
	"Mobile Safari UI/WKWebView": true, "Firefox": true, "Edge": true, "Android": true,
}

// refineBrowser returns the family and major version to report for a user
// agent the rule library read as family and major. The library trails new
// browsers and names them after their engine; when it names no more than
// that, a browser rule that recognises the user agent says more.
func refineBrowser(userAgent, family, major string) (string, string) {
	if !engineFamilies[family] {
		return family, major
	}
	if ruleFamily, ruleMajor, ok := matchBrowserRule(userAgent); ok {
		return ruleFamily, ruleMajor
	}
	return family, major
}

// matchBrowserRule returns the family and major version the first matching
// browser rule gives a user agent, and false when none matches.
func matchBrowserRule(userAgent string) (family, major string, ok bool) {
	for _, rule := range browserRules {
		groups := rule.pattern.FindStringSubmatch(userAgent)
		if groups == nil {
			continue
		}
		for _, group := range groups[1:] {
			if group != "" {
				major = group
				break
			}
		}
		return rule.family, major, true
	}
	return "", "", false
}
