package enrich

import (
	"regexp"
	"strings"
)

// isBotUserAgent reports whether a user agent belongs to software that is not
// a person browsing: crawlers, link previewers, uptime and speed checkers,
// headless or automated browsers, and HTTP libraries. An empty user agent
// counts as a bot, since every browser sends one.
//
// Most rules look for what such software says about itself (a bot word, a
// library name, a contact address or URL, a shape no browser's user agent
// has), so that new bots of a known kind are caught too. A shorter list names
// services whose user agents say nothing else. The tests hold the rules to
// public lists of crawlers and of real browsers; a name belongs here only
// when a real user agent needs it, and never when it appears in a browser's.
func isBotUserAgent(userAgent string) bool {
	if strings.TrimSpace(userAgent) == "" {
		return true
	}

	lower := strings.ToLower(userAgent)
	if containsAny(lower, notBotWords) {
		lower = notBotReplacer.Replace(lower)
	}

	return containsAny(lower, botWords) || botShape.MatchString(lower) || botMarks.MatchString(lower)
}

// botWords are lower-case substrings that mark a bot wherever they appear.
var botWords = []string{
	// What crawlers, fetchers and checkers call themselves.
	"crawl", "spider", "slurp", "scrap", "fetch", "archiv", "index", "harvest",
	"preview", "feed", "aggregat", "extract", "collector", "sitemap", "parser", "proxy",
	"scan", "sniff", "probe", "detect", "analyz", "analys", "validator", "inspect",
	"audit", "agent/", "-agent", "_agent", "agent)", "lookup", "retriev", "resolver",
	"verif", "finder", "sucker", "copier", "downloader", "exporter", "metadata",
	"webhook", "cron", "batch", "observatory", "diagnostic", "optimiz", "certificate",
	"dcv", "headers", "recon", "fuzz", "phish", "scorer", "prospect", "leadgen",
	"measurement", " api ", "api/", "transcoder", "survey", "external", "callback",
	"classifier", "advisor", "devtools", "marketplace", "unknown version", "searcher",
	"searchengine", "search engine", "websearch", "internetsearch", "search console",
	"linkcheck", "brokenlink", "link check", "linkexpander", "favicon", "sleuth",
	// Monitoring, uptime and speed checks.
	"uptime", "monit", "status", "health", "alive", "ping/", "checker", "check_http",
	" check)", "synthetic", "pagespeed", "page speed", "lighthouse", "loadtime",
	"pingdom", "statuscake", "site24x7", "newrelic", "datadog", "checkly", "nagios",
	"zabbix", "icinga", "catchpoint", "gomez", "dareboost", "gtmetrix", "ptst/",
	"webpagetest", "rigor", "dejaclick", "thousandeyes", "appinsights", "hardenize",
	"silktide", "munin", "hobbit", "bbtest", "collectd", "prometheus", "grafana",
	"xymon", "nodeping", "pingping", "uptrends", "wheresitup",
	// Headless, automated and offline browsers, and page renderers.
	"headless", "phantomjs", "puppeteer", "playwright", "selenium", "webdriver",
	"slimerjs", "htmlunit", "cypress/", "prerender", "screenshot", "thumbnail", "render",
	"capture", "splash", "pageburst", "googleweblight", "httrack", "webcopy", "teleport",
	"offline explorer",
	// HTTP clients, runtimes and scripting languages.
	"curl", "wget", "python", "urllib", "requests", "aiohttp", "httpx", "perl", "ruby",
	"php/", "powershell", "node.js", "go-http-client", "package http", "okhttp",
	"apache-httpclient", "httpclient", "http client", "httpcomponents", "jakarta",
	"libwww-perl", "lwp-", "lwp::", "lwp ", "httpie", "axios", "node-fetch", "undici",
	"got (", "guzzle", "faraday", "restsharp", "rest-client", "request-", "dart:io",
	"winhttp", "reqwest", "postman", "insomnia", "http.rb", "httpunit",
	"httpurlconnection", "http-", "-http", "http_", "mechanize", "grpc", "colly",
	"nutch", "heritrix", "cpp-httplib", "indy library", "openai/", "jetty/", "nginx",
	"apache/", "newspaper/", "webcollage", "microsoft-flow", "logic-apps", "jndi:",
	// Security scanners.
	"nmap", "nikto", "sqlmap", "zgrab", "nuclei", "masscan", "burp", "dirbuster",
	"gobuster", "acunetix", "openvas", "netcraft", "arachni", "foregenix", "shodan",
	"zmeu", "clamav", "ssl labs", "w3c",
	// Services whose fetchers name only themselves.
	"facebookexternalhit", "facebookcatalog", "whatsapp", "embedly", "quora link",
	"vkshare", "skypeuri", "iframely", "outbrain", "flipboardproxy", "onebox",
	"google-", "-google", "googleother", "googleagent", "googlemessages",
	"mediapartners", "feedly", "newsblur", "inoreader", "bloglovin", "netvibes",
	"ahrefs", "semrush", "majestic", "mj12", "yahoo!", "wayback", "siteimprove",
	"sitebulb", "screaming frog", "cloudflare", "github-camo", "keycdn", "cloudfront",
	"hwcdn", "zendesk", "integromat", "ifttt", "sendgrid", "braze sender", "steamchat",
	"hatena", "owler", "trendsmap", "newsnow", "marketgoo", "collapsify", "sparkler",
	"onetrust", "dmbrowser", "hotjar", "cookiehub", "manus-user", "devin/", ".ai/",
	"chatgpt", "claude", "perplexity", "yisou", "sogou", "qwant", "whatweb", "daum",
	"datanyze", "jeeves", "teoma", "scooter/", "wordpress", "matomo", "zapier",
	"salesforce", "sfdc-", "cursor/", "algolia",
}

// botShape matches whole user agents shaped like no browser's: no product
// token at all, only a product and a version, a bare "Mozilla/5.0" or one
// followed by a single name instead of a platform, an encoded blob, or a
// runtime's default (Java, Ruby, Dalvik without an app). Anchoring the whole
// pattern keeps it fast.
var botShape = regexp.MustCompile(`^(?s:` +
	`[^/(\[0-9]*|` +
	`[a-z][a-z0-9_.-]*/v?[0-9]+(?:\.[0-9]+)*(?:[-.]?(?:beta|alpha|rc|dev)[0-9.]*)?|` +
	`[a-z0-9+/=]{40,}|` +
	`mozilla/[0-9.]+ [^(]*|mozilla/[0-9.]+/.*|` +
	`mozilla/5\.0 \(compatible(?:; [^;()]+)?\)|mozilla/5\.0 \([^;() ]+/[^;()]*\)|` +
	`java.*|ruby.*|dalvik/[0-9.]+` +
	`)$`)

// botMarks matches what a substring cannot: a URL, a domain name as a
// product, or an e-mail address (a browser never names a contact); bot words
// that need a boundary; "Mozilla" after another product; and a browser
// version glued to the next token.
var botMarks = regexp.MustCompile(
	`https?:|www\.|[a-z0-9-]\.(?:com|net|org|me|ly|gy|co)(?:[/); ]|$)|` +
		`@[a-z0-9-]+\.[a-z]{2,}|\(at\)|` +
		`bots?(?:[^a-z]|$)|rss(?:[^a-z0-9]|$)|rss[a-z]|[-.]ai(?:[^a-z]|$)|` +
		`[,|] ?mozilla/|chrome/[0-9.]+[a-z]|(?:^|[^a-z])java/[0-9]`)

// notBotWords are names of real devices and apps that contain a bot word;
// they are removed before the bot words are looked for.
var notBotWords = []string{"cubot", "camscanner", "mozacfetch", "fubo"}

// notBotReplacer blanks out notBotWords.
var notBotReplacer = strings.NewReplacer(
	"cubot", " ", "camscanner", " ", "mozacfetch", " ", "fubo", " ",
)
