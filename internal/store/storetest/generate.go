package storetest

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"loupe.dev/loupe/internal/store"
	"loupe.dev/loupe/internal/wire"
)

// host is the seeded site's domain.
const host = "shop.example.com"

// element is a clickable (or not) box of a page, in desktop CSS pixels.
type element struct {
	selector   string
	x, y, w, h float64
	dead       bool // clicks on it do nothing
}

type page struct {
	path     string
	key      string
	height   float64 // desktop page height
	elements []element
	pick     *weighted // which element a click lands on
}

// device is a device class with its browsers, systems and viewport.
type device struct {
	name       string
	viewW      int
	scaleY     float64 // how much taller the page is than on a desktop
	screenW    int
	screenH    int
	browsers   *weighted
	oses       *weighted
	shareOfAll float64
}

type referrer struct {
	host, source string
}

type utm struct {
	source, medium, campaign string
}

// generator makes sessions one by one from a seeded source.
type generator struct {
	r         *rand.Rand
	opts      SeedOptions
	site      *store.Site
	loc       *time.Location
	days      []time.Time // start of each seeded day
	dayW      *weighted
	pages     []page
	pageByKey map[string]*page
	// pagePick picks any page; entryPick an entry page, which is more often
	// the home page or a landing page.
	pagePick, entryPick *weighted
	devices             []device
	devicePick          *weighted
	countries           *weighted
	referrers           []referrer
	referrerPick        *weighted
	utms                []utm
	events              []string
	eventShare          []float64
	errorMessages       []string
	clicks              []int // clicks of each session, summing to opts.Clicks
	visitors, users     int

	sum         SeedSummary
	pageViews   map[string]int64
	countryN    map[string]int64
	referrerN   map[string]int64
	eventN      map[string]int64
	entryN      map[string]int64
	firstUserID string
}

func newGenerator(opts SeedOptions, site *store.Site) *generator {
	g := &generator{
		r:    rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		opts: opts, site: site, loc: site.Location(),
		pageViews: map[string]int64{}, countryN: map[string]int64{},
		referrerN: map[string]int64{}, eventN: map[string]int64{}, entryN: map[string]int64{},
		visitors: max(1, opts.Sessions*6/10), users: max(3, opts.Sessions/30),
	}
	g.sum.Site = site

	first := opts.End.AddDate(0, 0, -opts.Days)
	var dayWeights []float64
	for d := range opts.Days {
		day := first.AddDate(0, 0, d)
		g.days = append(g.days, day)
		w := 1.0
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			w = 0.6
		}
		// Traffic grows a little over the month.
		dayWeights = append(dayWeights, w*(1+0.01*float64(d)))
	}
	g.dayW = newWeighted(make([]string, opts.Days), dayWeights)
	g.sum.Range = store.Range{From: first.UnixMilli(), To: opts.End.UnixMilli(),
		FromDay: dayNumber(first), ToDay: dayNumber(opts.End.AddDate(0, 0, -1))}

	g.makePages()
	g.makeAudience()
	g.planClicks()
	return g
}

func dayNumber(t time.Time) int {
	return t.Year()*10000 + int(t.Month())*100 + t.Day()
}

func (g *generator) makePages() {
	paths := []string{"/", "/pricing", "/products", "/features", "/blog", "/signup", "/login",
		"/cart", "/checkout", "/about", "/contact", "/docs", "/docs/start", "/docs/api"}
	for i := 1; len(paths) < g.opts.Pages; i++ {
		switch i % 3 {
		case 0:
			paths = append(paths, fmt.Sprintf("/blog/post-%d", i))
		case 1:
			paths = append(paths, fmt.Sprintf("/products/item-%d", i))
		default:
			paths = append(paths, fmt.Sprintf("/docs/guide-%d", i))
		}
	}
	paths = paths[:g.opts.Pages]
	keys := make([]string, len(paths))
	for i, p := range paths {
		keys[i] = host + p
		if p == "/" {
			keys[i] = host + "/"
		}
		g.pages = append(g.pages, g.makePage(p, keys[i]))
	}
	g.pageByKey = map[string]*page{}
	for i := range g.pages {
		g.pageByKey[g.pages[i].key] = &g.pages[i]
	}
	g.pagePick = zipf(keys, 1.1)
	entryWeights := make([]float64, len(keys))
	for i := range entryWeights {
		entryWeights[i] = 1 / math.Pow(float64(i+1), 1.4)
	}
	entryWeights[0] *= 2
	g.entryPick = newWeighted(keys, entryWeights)
}

// makePage lays out a page: a header, a few page-specific elements down the
// page and a footer.
func (g *generator) makePage(path, key string) page {
	p := page{path: path, key: key, height: 1800 + float64(g.r.IntN(40))*100}
	p.elements = append(p.elements,
		element{selector: "#logo", x: 40, y: 16, w: 120, h: 40},
		element{selector: "button.cta", x: 1180, y: 20, w: 200, h: 48},
		element{selector: "#search", x: 760, y: 20, w: 320, h: 40})
	for i := 1; i <= 5; i++ {
		p.elements = append(p.elements, element{
			selector: fmt.Sprintf("header nav > a:nth-child(%d)", i),
			x:        200 + float64(i-1)*100, y: 24, w: 90, h: 32})
	}
	p.elements = append(p.elements, element{selector: "img.hero", x: 0, y: 100, w: 1440,
		h: 480, dead: true})
	sections := 4 + g.r.IntN(10)
	for i := 1; i <= sections; i++ {
		y := 600 + float64(i-1)*(p.height-900)/float64(sections)
		p.elements = append(p.elements,
			element{selector: fmt.Sprintf("main section:nth-of-type(%d) a.more", i),
				x: 160, y: y + 200, w: 140, h: 36},
			element{selector: fmt.Sprintf("main section:nth-of-type(%d) p", i),
				x: 160, y: y, w: 900, h: 180, dead: true})
	}
	p.elements = append(p.elements, element{selector: "#add-to-cart", x: 980, y: 640,
		w: 240, h: 56})
	for i := 1; i <= 4; i++ {
		p.elements = append(p.elements, element{
			selector: fmt.Sprintf("footer a:nth-child(%d)", i),
			x:        160 + float64(i-1)*220, y: p.height - 120, w: 180, h: 24})
	}
	names := make([]string, len(p.elements))
	for i, e := range p.elements {
		names[i] = e.selector
	}
	// The call to action and the menu draw most clicks, whatever their order.
	g.r.Shuffle(len(names)-3, func(i, j int) { names[i+3], names[j+3] = names[j+3], names[i+3] })
	byName := map[string]element{}
	for _, e := range p.elements {
		byName[e.selector] = e
	}
	for i, n := range names {
		p.elements[i] = byName[n]
	}
	p.pick = zipf(names, 1.0)
	return p
}

func (g *generator) makeAudience() {
	g.devices = []device{
		{name: "desktop", viewW: 1440, scaleY: 1, screenW: 1920, screenH: 1080,
			browsers: newWeighted([]string{"Chrome", "Firefox", "Safari", "Edge", "Opera"},
				[]float64{60, 14, 12, 12, 2}),
			oses: newWeighted([]string{"Windows", "macOS", "Linux", "Chrome OS"},
				[]float64{62, 28, 8, 2}), shareOfAll: 0.58},
		{name: "mobile", viewW: 390, scaleY: 2.2, screenW: 390, screenH: 844,
			browsers: newWeighted([]string{"Chrome Mobile", "Mobile Safari",
				"Samsung Internet", "Firefox Mobile"}, []float64{55, 35, 8, 2}),
			oses:       newWeighted([]string{"Android", "iOS"}, []float64{63, 37}),
			shareOfAll: 0.34},
		{name: "tablet", viewW: 820, scaleY: 1.4, screenW: 820, screenH: 1180,
			browsers: newWeighted([]string{"Mobile Safari", "Chrome Mobile"},
				[]float64{60, 40}),
			oses:       newWeighted([]string{"iOS", "Android"}, []float64{60, 40}),
			shareOfAll: 0.08},
	}
	names := make([]string, len(g.devices))
	shares := make([]float64, len(g.devices))
	for i, d := range g.devices {
		names[i], shares[i] = d.name, d.shareOfAll
	}
	g.devicePick = newWeighted(names, shares)

	g.countries = zipf([]string{"US", "DE", "GB", "FR", "NL", "IN", "CA", "ES", "IT", "BR",
		"PL", "SE", "AU", "CH", "AT", "BE", "JP", "DK", "NO", "FI", "IE", "PT", "CZ", "MX",
		"AR", "ZA", "NZ", "SG", "KR", "IS"}, 1.2)

	g.referrers = []referrer{{"", ""}, {"google.com", "Google"}, {"bing.com", "Bing"},
		{"duckduckgo.com", "DuckDuckGo"}, {"t.co", "Twitter"},
		{"news.ycombinator.com", "Hacker News"}, {"reddit.com", "Reddit"},
		{"facebook.com", "Facebook"}, {"linkedin.com", "LinkedIn"}}
	weights := []float64{45, 25, 3, 3, 4, 3, 3, 3, 2}
	for i := 1; i <= 200; i++ {
		g.referrers = append(g.referrers, referrer{host: fmt.Sprintf("blog%d.example.net", i)})
		weights = append(weights, 9/math.Pow(float64(i), 1.1)/3)
	}
	refNames := make([]string, len(g.referrers))
	for i, r := range g.referrers {
		refNames[i] = r.host
	}
	g.referrerPick = newWeighted(refNames, weights)

	g.utms = []utm{{"newsletter", "email", "december"}, {"google", "cpc", "brand"},
		{"twitter", "social", "launch"}, {"facebook", "social", "launch"},
		{"partner-1", "referral", "bundle"}, {"partner-2", "referral", "bundle"}}
	g.events = []string{"add_to_cart", "video_play", "checkout", "signup", "purchase",
		"newsletter", "coupon_applied"}
	g.eventShare = []float64{0.12, 0.06, 0.04, 0.03, 0.02, 0.01, 0.002}
	g.errorMessages = []string{"TypeError: Cannot read properties of undefined",
		"ReferenceError: gtag is not defined", "Uncaught (in promise) NetworkError",
		"SyntaxError: Unexpected token '<'"}
}

// planClicks spreads exactly opts.Clicks clicks over the sessions, unevenly:
// many sessions click little and a few click a lot.
func (g *generator) planClicks() {
	weights := make([]float64, g.opts.Sessions)
	var total float64
	for i := range weights {
		weights[i] = g.r.ExpFloat64()
		total += weights[i]
	}
	g.clicks = make([]int, g.opts.Sessions)
	var acc float64
	given := 0
	for i, w := range weights {
		acc += w
		upto := int(math.Round(float64(g.opts.Clicks) * acc / total))
		if i == len(weights)-1 {
			upto = g.opts.Clicks
		}
		g.clicks[i] = upto - given
		given = upto
	}
}

// session writes session i and everything it did into w.
func (g *generator) session(i int, w *writeSet) {
	r := g.r
	day := g.days[g.dayW.index(r)]
	// Most visits in the afternoon, a few at any hour.
	hour := 14 + r.NormFloat64()*4
	if r.Float64() < 0.15 {
		hour = r.Float64() * 24
	}
	hour = math.Min(math.Max(hour, 0), 23.99)
	start := day.Add(time.Duration(hour * float64(time.Hour))).UnixMilli()
	dev := g.devices[g.devicePick.index(r)]
	s := &store.Session{
		ID:        r.Int64N(math.MaxInt64-1) + 1,
		SiteID:    g.site.ID,
		StartedAt: start,
		Day:       dayNumber(time.UnixMilli(start).In(g.loc)),
		Browser:   dev.browsers.pick(r), BrowserVersion: fmt.Sprint(100 + r.IntN(32)),
		OS: dev.oses.pick(r), OSVersion: fmt.Sprint(10 + r.IntN(8)),
		Device: dev.name, Country: g.countries.pick(r),
		ScreenW: dev.screenW, ScreenH: dev.screenH,
	}
	if r.Float64() >= 0.04 {
		s.VisitorID = int64(r.IntN(g.visitors))*2654435761 + 7
	}
	ref := g.referrers[g.referrerPick.index(r)]
	s.ReferrerHost, s.ReferrerSource = ref.host, ref.source
	query := ""
	if r.Float64() < 0.15 {
		u := g.utms[r.IntN(len(g.utms))]
		s.UTMSource, s.UTMMedium, s.UTMCampaign = u.source, u.medium, u.campaign
		query = "?utm_source=" + u.source + "&utm_medium=" + u.medium +
			"&utm_campaign=" + u.campaign
	}
	if r.Float64() < 0.08 {
		s.UserID = fmt.Sprintf("user-%d", r.IntN(g.users))
		s.UserTraits = `{"plan":"pro"}`
		if g.firstUserID == "" {
			g.firstUserID = s.UserID
		}
	}
	g.countryN[s.Country]++
	g.referrerN[s.ReferrerHost]++

	recorded := r.Float64() < g.opts.Recorded
	if recorded {
		s.ClockOffset = int64(r.NormFloat64() * 1500)
		if r.Float64() < 0.02 {
			s.ClockOffset = -3 * time.Hour.Milliseconds()
		}
	}
	g.visit(s, dev, g.clicks[i], query, recorded, w)
	w.sessions = append(w.sessions, s)
	g.sum.Sessions++
	if recorded {
		g.sum.Recorded++
	}
}

// visit writes a session's page views with their clicks, moves, scrolls,
// events, errors and recording chunks.
func (g *generator) visit(s *store.Session, dev device, clicks int, query string,
	recorded bool, w *writeSet) {
	r := g.r
	// A third of the visits see one page; the rest a few more.
	n := 1
	for n < 30 && r.Float64() >= 1.0/3 {
		n++
	}
	at := s.StartedAt
	perPage := spread(r, clicks, n)
	rageOn := -1
	if r.Float64() < 0.02 && clicks >= 3 {
		rageOn = slices.IndexFunc(perPage, func(c int) bool { return c >= 3 })
	}
	viewW := dev.viewW
	if dev.name == "desktop" {
		viewW = []int{1280, 1366, 1440, 1536, 1920}[r.IntN(5)]
	}
	for pid := 1; pid <= n; pid++ {
		key := g.entryPick.pick(r)
		if pid > 1 {
			key = g.pagePick.pick(r)
		}
		p := g.pageByKey[key]
		dwell := int64(math.Min(r.ExpFloat64()*35000, 600000)) + 500
		pv := &store.PageView{SessionID: s.ID, PID: int64(pid), SiteID: s.SiteID, At: at,
			Day: dayNumber(time.UnixMilli(at).In(g.loc)), URL: "https://" + host + p.path,
			PageKey: key, Title: "Shop — " + p.path, Device: dev.name, ViewW: viewW,
			MaxScroll: -1}
		if pid == 1 {
			pv.URL += query
			s.EntryPage = key
			g.entryN[key]++
		}
		s.ExitPage = key
		s.PageCount++
		g.pageViews[key]++
		heat := store.HeatKey{SiteID: s.SiteID, PageKey: key, Device: dev.name, Day: pv.Day}
		g.scroll(pv, p, dev, heat, w)
		last := g.pageClicks(s, pv, p, dev, perPage[pid-1], pid-1 == rageOn, dwell, w)
		g.moves(p, dev, heat, w)
		end := max(at+dwell, last+500)
		if recorded {
			w.chunks = append(w.chunks, &store.Chunk{SessionID: s.ID, Seq: int64(pid),
				BlobKey: fmt.Sprintf("rec/%d/%s/%010d", s.SiteID, wire.FormatID(s.ID), pid),
				FirstTS: at - s.ClockOffset, LastTS: end - s.ClockOffset,
				Events: 20 + r.IntN(400), Bytes: 8000 + r.Int64N(200000)})
			s.RecordingBytes += w.chunks[len(w.chunks)-1].Bytes
		}
		w.pages = append(w.pages, pv)
		g.sum.PageViews++
		at = end
	}
	s.LastAt = at
	g.eventsAndErrors(s, n, w)
}

// spread splits n into parts random parts.
func spread(r *rand.Rand, n, parts int) []int {
	out := make([]int, parts)
	for range n {
		out[r.IntN(parts)]++
	}
	return out
}

func (g *generator) scroll(pv *store.PageView, p *page, dev device, heat store.HeatKey,
	w *writeSet) {
	if g.r.Float64() < 0.25 {
		return
	}
	pv.MaxScroll = int(math.Min(100, math.Abs(g.r.NormFloat64())*45))
	pv.PageH = int(p.height * dev.scaleY)
	w.rollUps.Scroll(store.ScrollKey{Heat: heat, Depth: pv.MaxScroll}, 1)
}

// place returns where an element sits for a device, and the point at an
// offset (0–1) within it.
func place(e element, dev device, offX, offY float64) (x, y float64) {
	sx := float64(dev.viewW) / 1440
	return (e.x + offX*e.w) * sx, (e.y + offY*e.h) * dev.scaleY
}

func offset(r *rand.Rand) float64 {
	return math.Min(math.Max(0.5+r.NormFloat64()*0.2, 0), 1)
}

// pageClicks adds n clicks to a page view and returns the time of the last.
func (g *generator) pageClicks(s *store.Session, pv *store.PageView, p *page, dev device,
	n int, rage bool, dwell int64, w *writeSet) int64 {
	r := g.r
	at := pv.At + 300
	for i := 0; i < n; i++ {
		e := p.elements[p.pick.index(r)]
		offX, offY := offset(r), offset(r)
		c := store.Click{SessionID: s.ID, PID: pv.PID, SiteID: s.SiteID, PageKey: pv.PageKey,
			Selector: e.selector, OffsetX: offX, OffsetY: offY, ViewW: pv.ViewW, Dead: e.dead}
		// A rage burst: the first clicks of the page, on one spot, within a second.
		if rage && i < 4 {
			first := p.elements[1]
			c.Selector, c.OffsetX, c.OffsetY, c.Dead = first.selector, 0.5, 0.5, first.dead
			e = first
			at += 150
			c.Rage = i >= 2
			if i == 2 {
				s.RageCount++
			}
		} else {
			at += 200 + r.Int64N(max(dwell/int64(n+1), 1))
		}
		c.At = at
		c.X, c.Y = place(e, dev, c.OffsetX, c.OffsetY)
		c.X, c.Y = math.Round(c.X*10)/10, math.Round(c.Y*10)/10
		s.ClickCount++
		if c.Dead {
			s.DeadCount++
		}
		heat := store.HeatKey{SiteID: s.SiteID, PageKey: pv.PageKey, Device: dev.name,
			Day: dayNumber(time.UnixMilli(at).In(g.loc))}
		w.rollUps.Element(store.ElementKey{Heat: heat, Selector: c.Selector,
			OffsetX: int(math.Round(c.OffsetX * 100)),
			OffsetY: int(math.Round(c.OffsetY * 100))}, 1)
		w.rollUps.Point(store.PointKey{Heat: heat, Kind: "click", X: int(c.X) / 10,
			Y: int(c.Y) / 10}, 1)
		w.clicks = append(w.clicks, c)
		g.sum.Clicks++
	}
	return at
}

// moves adds a few mouse positions near the page's elements.
func (g *generator) moves(p *page, dev device, heat store.HeatKey, w *writeSet) {
	if dev.name != "desktop" {
		return
	}
	for range 4 {
		e := p.elements[p.pick.index(g.r)]
		x, y := place(e, dev, g.r.Float64(), g.r.Float64())
		w.rollUps.Point(store.PointKey{Heat: heat, Kind: "move", X: int(x) / 10,
			Y: int(y) / 10}, 1)
	}
}

func (g *generator) eventsAndErrors(s *store.Session, pages int, w *writeSet) {
	r := g.r
	span := max(s.LastAt-s.StartedAt, 1)
	for i, name := range g.events {
		if r.Float64() >= g.eventShare[i] {
			continue
		}
		w.events = append(w.events, store.CustomEvent{SessionID: s.ID,
			PID: int64(1 + r.IntN(pages)), SiteID: s.SiteID, At: s.StartedAt + r.Int64N(span),
			Name: name, Props: `{"value":` + fmt.Sprint(r.IntN(200)) + `}`})
		s.EventCount++
		g.eventN[name]++
		g.sum.CustomEvents++
	}
	if r.Float64() < 0.03 {
		for range 1 + r.IntN(3) {
			w.errors = append(w.errors, store.PageError{SessionID: s.ID,
				PID: int64(1 + r.IntN(pages)), SiteID: s.SiteID, At: s.StartedAt + r.Int64N(span),
				Message: g.errorMessages[r.IntN(len(g.errorMessages))],
				Source:  "https://" + host + "/assets/app.js", Line: 1 + r.IntN(900),
				Column: 1 + r.IntN(80)})
			s.ErrorCount++
			g.sum.Errors++
		}
	}
}

func (g *generator) summary() SeedSummary {
	sum := g.sum
	type kv struct {
		k string
		n int64
	}
	ranked := func(m map[string]int64) []kv {
		var out []kv
		for k, n := range m {
			if n > 0 {
				out = append(out, kv{k, n})
			}
		}
		slices.SortFunc(out, func(a, b kv) int {
			return cmp.Or(cmp.Compare(b.n, a.n),
				cmp.Compare(a.k, b.k))
		})
		return out
	}
	for _, p := range ranked(g.pageViews) {
		sum.Pages = append(sum.Pages, p.k)
	}
	rarest := func(m map[string]int64) string {
		list := ranked(m)
		for i := len(list) - 1; i >= 0; i-- {
			if list[i].k != "" {
				return list[i].k
			}
		}
		return ""
	}
	sum.RareCountry = rarest(g.countryN)
	sum.RareReferrer = rarest(g.referrerN)
	sum.RareEvent = rarest(g.eventN)
	sum.RareEntry = rarest(g.entryN)
	sum.UserID = g.firstUserID
	return sum
}
