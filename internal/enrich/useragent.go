package enrich

import (
	"encoding/binary"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/ua-parser/uap-go/uaparser"
	"gopkg.in/yaml.v3"
)

// Device classes a heatmap is split by. They follow screen size and input,
// not the exact hardware: a television browses like a desktop, a phablet like
// a phone.
const (
	DeviceDesktop = "desktop"
	DeviceTablet  = "tablet"
	DeviceMobile  = "mobile"
)

// Bounds on what Parse reads. Real user agents stay well under a few hundred
// bytes; longer ones are cut so a hostile header cannot make a parse or a
// cache entry arbitrarily expensive.
const (
	maxUserAgentLength = 1024
	maxHintLength      = 256
	parserCacheSize    = 8192
)

// Hints are the client-hint headers a browser sent (Sec-CH-UA,
// Sec-CH-UA-Mobile, Sec-CH-UA-Platform, Sec-CH-UA-Platform-Version,
// Sec-CH-UA-Model), as sent on the wire; empty when absent.
type Hints struct{ UA, Mobile, Platform, PlatformVersion, Model string }

// Client is what Loupe reports about the software and device behind a visit.
type Client struct {
	Browser        string // browser family without a mobile suffix: "Chrome", "Safari", "Other"
	BrowserVersion string // major version: "120"
	OS             string // operating system family: "Windows", "Mac OS X", "Android", "Other"
	OSVersion      string // major, and minor when it is not zero: "10", "14.2"
	Device         string // DeviceDesktop, DeviceTablet or DeviceMobile
	Bot            bool   // a crawler, monitor, headless browser or HTTP library
}

// Parser classifies user agents. It is safe for concurrent use, and keeps the
// most recent results in a least-recently-used cache keyed by user agent and
// hints.
type Parser struct {
	rules *uaparser.Parser
	cache *clientCache
}

// NewParser compiles the user-agent rules built into the program. It takes a
// noticeable fraction of a second, so make one Parser per process and share
// it.
func NewParser() (*Parser, error) {
	return newParser(nil)
}

// NewParserWithRules is NewParser with a rule file in the uap-core
// regexes.yaml format instead of the built-in rules, so that an operator can
// recognise browsers released after this program was built.
func NewParserWithRules(rules []byte) (*Parser, error) {
	var definitions uaparser.RegexDefinitions
	if err := yaml.Unmarshal(rules, &definitions); err != nil {
		return nil, fmt.Errorf("decode user-agent rules: %w", err)
	}
	if len(definitions.UA) == 0 || len(definitions.OS) == 0 || len(definitions.Device) == 0 {
		return nil, errors.New("decode user-agent rules: want user_agent_parsers, " +
			"os_parsers and device_parsers")
	}
	return newParser(&definitions)
}

// newParser compiles definitions, or the built-in rules when it is nil.
func newParser(definitions *uaparser.RegexDefinitions) (parser *Parser, err error) {
	// The rule library panics on a rule that does not compile instead of
	// returning an error; turn that into one.
	defer func() {
		if recovered := recover(); recovered != nil {
			recoveredErr, ok := recovered.(error)
			if !ok {
				recoveredErr = errors.New(fmt.Sprint(recovered))
			}
			parser, err = nil, fmt.Errorf("compile user-agent rules: %w", recoveredErr)
		}
	}()

	// The library caches by user agent alone; a small cache there still
	// helps when one reduced user agent arrives with many sets of hints.
	options := []uaparser.Option{uaparser.WithCacheSize(256)}
	if definitions != nil {
		options = append(options, uaparser.WithRegexDefinitions(*definitions))
	}
	rules, err := uaparser.New(options...)
	if err != nil {
		return nil, fmt.Errorf("compile user-agent rules: %w", err)
	}

	return &Parser{rules: rules, cache: newClientCache(parserCacheSize)}, nil
}

// Parse classifies a user agent and the client hints sent with it. Hints win
// over the user agent where both speak, because browsers that send hints
// freeze parts of the user agent (Android version and model, macOS version).
func (p *Parser) Parse(userAgent string, h Hints) Client {
	userAgent = truncate(strings.TrimSpace(userAgent), maxUserAgentLength)
	h = Hints{
		UA:              truncate(h.UA, maxHintLength),
		Mobile:          truncate(h.Mobile, maxHintLength),
		Platform:        truncate(h.Platform, maxHintLength),
		PlatformVersion: truncate(h.PlatformVersion, maxHintLength),
		Model:           truncate(h.Model, maxHintLength),
	}

	// Build the key in a stack buffer so a cache hit allocates nothing.
	var buffer [512]byte
	key := appendCacheKey(buffer[:0], userAgent, h)
	if client, ok := p.cache.get(key); ok {
		return client
	}

	client := p.parse(userAgent, h)
	p.cache.add(key, client)

	return client
}

// appendCacheKey appends the cache key of a user agent and its hints to key.
// Each field goes in behind its length, so that no user agent can pass for
// another user agent with hints.
func appendCacheKey(key []byte, userAgent string, h Hints) []byte {
	fields := [...]string{userAgent, h.UA, h.Mobile, h.Platform, h.PlatformVersion, h.Model}
	for _, field := range fields {
		key = binary.AppendUvarint(key, uint64(len(field)))
		key = append(key, field...)
	}
	return key
}

// parse does the uncached work of Parse.
func (p *Parser) parse(userAgent string, h Hints) Client {
	browser := p.rules.ParseUserAgent(userAgent)
	system := p.rules.ParseOs(userAgent)
	device := p.rules.ParseDevice(userAgent)

	family, major := refineBrowser(userAgent, browser.Family, browser.Major)

	client := Client{
		Browser:        foldBrowser(family),
		BrowserVersion: major,
		OS:             system.Family,
		OSVersion:      joinVersion(system.Major, system.Minor),
		Device:         deviceClass(userAgent, system.Family, device.Family),
		Bot:            isBotUserAgent(userAgent),
	}
	applyHints(&client, h)

	return client
}

// foldBrowser removes the mobile and iOS variants from a browser family: the
// device class already says which screen a visit came from, and one browser
// should be one line in a report.
func foldBrowser(family string) string {
	switch family {
	case "Chrome Mobile", "Chrome Mobile iOS":
		return "Chrome"
	case "Chrome Mobile WebView":
		return "Android WebView"
	case "Mobile Safari":
		return "Safari"
	case "Firefox Mobile", "Firefox iOS":
		return "Firefox"
	case "Edge Mobile":
		return "Edge"
	case "Opera Mobile":
		return "Opera"
	case "IE Mobile":
		return "IE"
	case "DuckDuckGo Mobile":
		return "DuckDuckGo"
	case "QQ Browser Mobile":
		return "QQ Browser"
	case "Ecosia iOS":
		return "Ecosia"
	}
	return family
}

// joinVersion gives "major" or "major.minor"; a zero minor adds nothing a
// report reader needs.
func joinVersion(major, minor string) string {
	if major == "" || minor == "" || minor == "0" {
		return major
	}
	return major + "." + minor
}

// truncate cuts s to at most n bytes.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// deviceClass decides desktop, tablet or mobile from the user agent, its
// operating system family and its device family.
func deviceClass(userAgent, osFamily, deviceFamily string) string {
	// Laptops, televisions and consoles first: they may run Android or name
	// an Apple device family, and still browse like a desktop.
	if containsAny(userAgent, desktopMarkers) {
		return DeviceDesktop
	}

	switch {
	case deviceFamily == "iPad" || strings.HasPrefix(deviceFamily, "Kindle") ||
		deviceFamily == "Generic Tablet":
		return DeviceTablet
	case deviceFamily == "iPhone" || deviceFamily == "iPod" ||
		deviceFamily == "Generic Smartphone" || deviceFamily == "Generic Feature Phone":
		return DeviceMobile
	}

	switch {
	case containsAny(userAgent, tabletMarkers) && !strings.Contains(userAgent, "Tablet PC"):
		return DeviceTablet
	case osFamily == "Android" || strings.Contains(userAgent, "Android"):
		// Android phones say "Mobile"; Android tablets leave it out. Apps
		// built on the system HTTP stack (Dalvik) and a few phone browsers
		// never say it, and are phones far more often than not.
		if strings.Contains(userAgent, "Mobile") || containsAny(userAgent, mobileAndroidMarkers) {
			return DeviceMobile
		}
		return DeviceTablet
	case containsAny(userAgent, mobileMarkers) || mobileOperatingSystems[osFamily]:
		return DeviceMobile
	}
	return DeviceDesktop
}

// containsAny reports whether s contains any of the substrings.
func containsAny(s string, substrings []string) bool {
	for _, substring := range substrings {
		if strings.Contains(s, substring) {
			return true
		}
	}
	return false
}

// Substrings, matched case-sensitively as browsers write them, that place a
// user agent in a device class before the generic rules run.
var (
	desktopMarkers = []string{
		// Laptops and desktop computers, some of them running Android.
		"Macintosh", "CrOS", "Chromebook", "Pixelbook", "CrosArc", "Notebook", "NOTEBOOK",
		"Netbook", "NETBOOK", "EliteBook", "LIFEBOOK", "Latitude", "Inspiron", "Vostro",
		"TravelMate", "Aspire", "Satellite", "SATELLITE", "ThinkPad", "IdeaPad",
		"x86_64; Android", "x86; Android",
		// Televisions, set-top boxes, consoles and headsets.
		"SmartTV", "SMART-TV", "Smart-TV", "SmartHub", "GoogleTV", "Android TV", "AndroidTV",
		"HbbTV", "NetCast", "BRAVIA", "CrKey", "AFTB", "AFTS", "AFTM", "AFTT", "AFTK",
		"Roku", "Web0S", "WebTV", "AppleTV", "Apple TV", "PlayStation 4", "PlayStation 5",
		"Xbox", "Nintendo Switch", "OculusBrowser", "Large Screen",
	}
	tabletMarkers = []string{
		"iPad", "Tablet", "tablet", "Kindle", "Silk/", "PlayBook", "TouchPad", "Nexus 7",
		"Nexus 9", "Nexus 10", "Pixel C", "MediaPad", "MI PAD", "Mi Pad", "MiPad",
		"Galaxy Tab", "GT-P", "SM-T", "SM-P", "SM-X", "Lenovo TB", "Lenovo Tab",
	}
	mobileAndroidMarkers = []string{
		"Dalvik", "Opera Mini", "Opera Mobi", "UCBrowser", "UCWEB", "Fennec", "Phone",
	}
	mobileMarkers = []string{
		"Mobi", "mobile", "iPhone", "iPod", "Phone", "BlackBerry", "BB10", "Opera Mini",
		"Symbian", "SymbOS", "Series40", "Series60", "S60", "MIDP", "J2ME", "CLDC", "Nokia",
		"webOS", "Fennec", "UCWEB", "KaiOS", "NetFront", "Obigo", "Teleca", "Maemo",
		"MeeGo", "Windows CE", "PalmOS", "PalmSource", "SonyEricsson", "SAMSUNG-",
		"SEC-SGH", "Bada", "Sailfish", "Minimo", "WAP", "Openwave", "UP.Browser",
		"portalmmm", "DoCoMo", "KDDI", "FOMA", "Vodafone/", "Polaris", "BREW",
	}
	mobileOperatingSystems = map[string]bool{
		"iOS": true, "Windows Phone": true, "BlackBerry OS": true, "Symbian OS": true,
		"Symbian^3": true, "KaiOS": true, "Firefox OS": true, "Windows Mobile": true,
		"Bada": true, "webOS": true, "MeeGo": true, "Maemo": true, "Sailfish": true,
		"Tizen": true, "Nokia Series 40": true, "Java ME": true,
	}
)

// Client hints.

// tabletModel matches Sec-CH-UA-Model values of common tablet lines. It only
// breaks the tie when an Android browser calls itself mobile, so a short
// list of unmistakable names is enough.
var tabletModel = regexp.MustCompile(
	`(?i)(?:^(?:SM-[TPX]\d|GT-P\d|KF[A-Z]{4}|Nexus (?:7|9|10)$|Pixel (?:C|Tablet)` +
		`|Lenovo TB|TB-|MediaPad|iPad)|TAB|Pad\b)`)

// applyHints lets the client hints correct what the user agent said.
func applyHints(client *Client, h Hints) {
	if h.UA != "" {
		applyBrands(client, h.UA)
	}

	switch strings.TrimSpace(h.Mobile) {
	case "?1":
		client.Device = DeviceMobile
		if model := unquote(h.Model); model != "" && tabletModel.MatchString(model) {
			client.Device = DeviceTablet
		}
	case "?0":
		if client.Device == DeviceMobile {
			client.Device = DeviceDesktop
			if strings.EqualFold(unquote(h.Platform), "Android") {
				client.Device = DeviceTablet
			}
		}
	}

	platform := hintPlatform(unquote(h.Platform))
	if platform == "" {
		return
	}
	if platform == "Linux" && !nonLinuxSystems[client.OS] {
		// The user agent may name the distribution, which says more.
		return
	}
	if platform != client.OS {
		client.OS = platform
		client.OSVersion = ""
	}
	if version := hintPlatformVersion(platform, unquote(h.PlatformVersion)); version != "" {
		client.OSVersion = version
	}
}

// nonLinuxSystems are the families a "Linux" platform hint overrides. Others
// (Android, Chrome OS, distributions) run on Linux, and the user agent names
// them more precisely than the hint.
var nonLinuxSystems = map[string]bool{
	"Other": true, "": true, "Windows": true, "Mac OS X": true, "iOS": true,
}

// hintPlatform maps Sec-CH-UA-Platform to the family names Parse reports.
func hintPlatform(platform string) string {
	switch platform {
	case "Windows", "Android", "Linux", "iOS", "Fuchsia":
		return platform
	case "macOS":
		return "Mac OS X"
	case "Chrome OS", "Chromium OS":
		return "Chrome OS"
	}
	return ""
}

// hintPlatformVersion turns Sec-CH-UA-Platform-Version into the OSVersion
// form. Windows reports its internal version there: 13 and above is Windows
// 11, 1 to 10 is Windows 10, and 0.1 to 0.3 are Windows 7, 8 and 8.1.
func hintPlatformVersion(platform, version string) string {
	if version == "" {
		return ""
	}
	major, rest, _ := strings.Cut(version, ".")
	minor, _, _ := strings.Cut(rest, ".")
	if !isDigits(major) || (minor != "" && !isDigits(minor)) {
		return ""
	}

	if platform != "Windows" {
		return joinVersion(major, minor)
	}
	number, err := strconv.Atoi(major)
	switch {
	case err != nil:
		return ""
	case number == 0 && minor == "1":
		return "7"
	case number == 0 && minor == "2":
		return "8"
	case number == 0 && minor == "3":
		return "8.1"
	case number == 0:
		return ""
	case number >= 13:
		return "11"
	default:
		return "10"
	}
}

// isDigits reports whether s is a non-empty run of ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// brandNames maps Sec-CH-UA brands to the names Parse reports for the same
// browser when it reads the user agent.
var brandNames = map[string]string{
	"Google Chrome":   "Chrome",
	"Microsoft Edge":  "Edge",
	"Yandex":          "Yandex Browser",
	"YaBrowser":       "Yandex Browser",
	"OperaMobile":     "Opera",
	"Opera Mobile":    "Opera",
	"Android WebView": "Android WebView",
	"HeadlessChrome":  "HeadlessChrome",
}

// applyBrands picks the browser from a Sec-CH-UA brand list. A browser lists
// the engine ("Chromium"), often "Google Chrome", sometimes its own name, and
// a made-up brand meant to be ignored; its own name is the one to report.
func applyBrands(client *Client, header string) {
	var specific, chrome, chromium brand
	for b := range brands(header) {
		switch {
		case isGreaseBrand(b.name) || !isPlausibleBrand(b.name):
		case b.name == "Chromium":
			chromium = b
		case b.name == "Google Chrome":
			chrome = b
		case specific.name == "":
			specific = b
		}
	}

	switch {
	case specific.name != "":
		client.Browser, client.BrowserVersion = brandName(specific.name), majorOf(specific.version)
		if specific.name == "HeadlessChrome" {
			client.Bot = true
		}
	case chrome.name != "" && genericChromium(client.Browser):
		client.Browser, client.BrowserVersion = "Chrome", majorOf(chrome.version)
	case chromium.name != "" && genericChromium(client.Browser) && client.Browser != "Chrome":
		client.Browser, client.BrowserVersion = "Chromium", majorOf(chromium.version)
	}
}

// genericChromium reports whether a family read from the user agent says no
// more than "some Chromium browser", so a brand hint may replace it.
func genericChromium(family string) bool {
	switch family {
	case "Chrome", "Chromium", "Other", "", "Android WebView":
		return true
	}
	return false
}

// brandName maps a brand to the reported browser name.
func brandName(name string) string {
	if mapped, ok := brandNames[name]; ok {
		return mapped
	}
	return name
}

// majorOf returns the part of a version before the first dot, or "" when
// that is not a number.
func majorOf(version string) string {
	major, _, _ := strings.Cut(version, ".")
	if !isDigits(major) {
		return ""
	}
	return major
}

// isPlausibleBrand reports whether a brand could name a browser: short, and
// made of letters, digits, spaces and a little punctuation. Anything else is
// noise that should not reach a report.
func isPlausibleBrand(name string) bool {
	if name == "" || len(name) > 40 {
		return false
	}
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case r == ' ', r == '.', r == '-', r == '_':
		default:
			return false
		}
	}
	return true
}

// isGreaseBrand reports whether a brand is one of the deliberately invalid
// names browsers add so servers do not rely on the list's order or content
// ("Not_A Brand", " Not A;Brand", "Not)A;Brand", …).
func isGreaseBrand(name string) bool {
	lower := strings.ToLower(name)
	return strings.Contains(lower, "not") && strings.Contains(lower, "brand")
}

// brand is one entry of a Sec-CH-UA list.
type brand struct{ name, version string }

// brands yields the entries of a Sec-CH-UA header, a structured-field list of
// quoted names with a "v" parameter: "Chromium";v="120", "Not_A Brand";v="8".
// Malformed entries are skipped; the parse never fails.
func brands(header string) func(yield func(brand) bool) {
	return func(yield func(brand) bool) {
		rest := header
		for rest != "" {
			var item string
			item, rest = splitItem(rest)
			name, params := leadingQuoted(strings.TrimSpace(item))
			if name == "" {
				continue
			}
			b := brand{name: name}
			for param := range strings.SplitSeq(params, ";") {
				key, value, ok := strings.Cut(strings.TrimSpace(param), "=")
				if ok && strings.TrimSpace(key) == "v" {
					b.version, _ = leadingQuoted(strings.TrimSpace(value))
				}
			}
			if !yield(b) {
				return
			}
		}
	}
}

// splitItem returns the text before the first comma outside quotes, and the
// text after it.
func splitItem(s string) (item, rest string) {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if quoted {
				i++
			}
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				return s[:i], s[i+1:]
			}
		}
	}
	return s, ""
}

// leadingQuoted returns the quoted string s starts with (escapes removed) and
// what follows its closing quote. An unquoted s yields "" and s.
func leadingQuoted(s string) (value, rest string) {
	if s == "" || s[0] != '"' {
		return "", s
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case c == '"':
			return b.String(), s[i+1:]
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), ""
}

// unquote returns a structured-field string hint without its quotes.
func unquote(s string) string {
	s = strings.TrimSpace(s)
	if value, _ := leadingQuoted(s); value != "" {
		return value
	}
	return s
}
