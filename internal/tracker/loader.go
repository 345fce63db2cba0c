package tracker

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// ServeLoader answers GET /s/{key}.js with the loader of one site: a few
// hundred bytes that set window.__loupe and insert the core. It changes when
// the site's settings or the core change, so it is cached for a minute only,
// and revalidated by its ETag.
func (f *Files) ServeLoader(w http.ResponseWriter, r *http.Request, s Settings) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}

	body := f.loader(s)
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`

	h := w.Header()
	h.Set("Cache-Control", "max-age=60")
	h.Set("ETag", etag)
	setScriptHeaders(h)
	if etagMatch(r.Header.Values("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	write(w, r, body)
}

// loader renders the loader script. The endpoint is not in it: the script
// finds it in its own URL, everything before "/s/", so the same answer works
// when a site serves Loupe through a first-party proxy under a path prefix.
// It also defines the loupe() queue, so calls made before the core arrives
// are kept even when the page has no snippet of its own for it.
func (f *Files) loader(s Settings) []byte {
	key := jsString(s.SiteKey)
	var b strings.Builder
	b.WriteString(`(function(w,d){if(w.__loupe)return;`)
	b.WriteString(`var k=` + key + `,s=d.currentScript;`)
	b.WriteString(`if(!s)try{s=d.querySelector('script[src*="/s/'+k+'.js"]')}catch(x){}`)
	b.WriteString(`var u=s&&s.src||"",i=u.lastIndexOf("/s/"),e=i<0?"":u.slice(0,i),`)
	b.WriteString(`c=d.createElement("script");`)
	b.WriteString(`w.loupe=w.loupe||function(){(w.loupe.q=w.loupe.q||[]).push(arguments)};`)
	b.WriteString(`w.__loupe={site:k,endpoint:e,`)
	b.WriteString(`core:e+"/t/` + f.core.name + `",`)
	b.WriteString(`recorder:e+"/t/` + f.recorder.name + `",`)
	b.WriteString(`sample:` + formatRate(s.SampleRate) + `,`)
	b.WriteString(`maskText:` + strconv.FormatBool(s.MaskText) + `,`)
	b.WriteString(`dnt:` + strconv.FormatBool(s.HonourDNT) + `};`)
	b.WriteString(`c.async=true;c.src=w.__loupe.core;(d.head||d.documentElement).appendChild(c)`)
	b.WriteString("})(window,document);\n")
	return []byte(b.String())
}

// jsString quotes s as a JavaScript string literal that is also safe inside
// an HTML <script> element: encoding/json escapes <, >, & and the line
// separators U+2028 and U+2029.
func jsString(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		// A Go string always marshals; invalid UTF-8 becomes U+FFFD.
		return `""`
	}
	return string(b)
}

func formatRate(rate float64) string {
	if math.IsNaN(rate) || rate < 0 {
		rate = 0
	}
	return strconv.FormatFloat(min(rate, 1), 'g', -1, 64)
}
