// Package tracker serves the browser tracker: the per-site loader
// (/s/{key}.js), the content-hashed core and recorder (/t/{name}), and a
// bare replayer bundle the tests play recordings with.
//
// The TypeScript sources live in src/ and are built into dist/ by build.mjs
// (make tracker); dist/ is committed and embedded, so a Go build needs no
// Node. The package renders files only: looking a site up, and answering 404
// for an unknown one, is the caller's job, and it must not touch any store.
package tracker

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
)

//go:embed dist
var dist embed.FS

// Settings are what the loader carries for one site.
type Settings struct {
	// SiteKey is the public key of the site, sent back with every batch.
	SiteKey string
	// SampleRate is the share of sessions recorded, from 0 to 1; values
	// outside are clamped.
	SampleRate float64
	// MaskText masks all text in recordings, not only what is typed.
	MaskText bool
	// HonourDNT makes the tracker drop the visitor id when the browser sends
	// Do-Not-Track or Global Privacy Control.
	HonourDNT bool
}

// asset is one file served under /t/, in the three encodings a browser may
// ask for.
type asset struct {
	name     string // with the content hash, as served
	hash     string
	identity []byte
	gzip     []byte
	brotli   []byte
}

// Files are the built tracker files, ready to serve.
type Files struct {
	core      asset
	recorder  asset
	replayJS  []byte
	replayCSS []byte
}

// New reads the tracker files embedded in the binary and names each by its
// content hash.
func New() (*Files, error) {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		return nil, fmt.Errorf("open embedded dist: %w", err)
	}
	return NewFS(sub)
}

// NewFS reads the tracker files from fsys, which holds the files of dist/
// at its root; a development server passes os.DirFS to pick up a rebuild
// without recompiling.
func NewFS(fsys fs.FS) (*Files, error) {
	core, err := readAsset(fsys, "core")
	if err != nil {
		return nil, err
	}
	recorder, err := readAsset(fsys, "record")
	if err != nil {
		return nil, err
	}
	replayJS, err := fs.ReadFile(fsys, "replay.js")
	if err != nil {
		return nil, fmt.Errorf("read replay.js: %w", err)
	}
	replayCSS, err := fs.ReadFile(fsys, "replay.css")
	if err != nil {
		return nil, fmt.Errorf("read replay.css: %w", err)
	}
	return &Files{core: core, recorder: recorder, replayJS: replayJS, replayCSS: replayCSS}, nil
}

// readAsset reads base.js and its compressed twins. A gzip twin that does not
// match means a partial build, which would serve different code to different
// browsers under one name; refuse it.
func readAsset(fsys fs.FS, base string) (asset, error) {
	a := asset{}
	files := []struct {
		name string
		dst  *[]byte
	}{
		{base + ".js", &a.identity},
		{base + ".js.gz", &a.gzip},
		{base + ".js.br", &a.brotli},
	}
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f.name)
		if err != nil {
			return asset{}, fmt.Errorf("read tracker file %s: %w", f.name, err)
		}
		*f.dst = b
	}

	zr, err := gzip.NewReader(bytes.NewReader(a.gzip))
	if err != nil {
		return asset{}, fmt.Errorf("open %s.js.gz: %w", base, err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		return asset{}, fmt.Errorf("decompress %s.js.gz: %w", base, err)
	}
	if !bytes.Equal(plain, a.identity) {
		return asset{}, fmt.Errorf("check %s.js.gz: it does not match %s.js, rebuild with make tracker",
			base, base)
	}

	sum := sha256.Sum256(a.identity)
	a.hash = hex.EncodeToString(sum[:])[:10]
	a.name = base + "." + a.hash + ".js"
	return a, nil
}

// CoreName is the file name of the core under /t/, "core.<hash>.js".
func (f *Files) CoreName() string { return f.core.name }

// RecorderName is the file name of the recorder under /t/, "record.<hash>.js".
func (f *Files) RecorderName() string { return f.recorder.name }

// Replay returns the replayer bundle, which sets window.LoupeReplay =
// {Replayer}, and its style sheet, for tests that pause a recording at given
// times (to read masked inputs, say). They are never served: the dashboard
// plays recordings with its own player (internal/web/ui), which bundles the
// same rrweb version.
func (f *Files) Replay() (js, css []byte) { return f.replayJS, f.replayCSS }

// ServeAsset answers GET /t/{name}. The name carries the content hash, so the
// answer may be cached for ever by browsers, proxies and CDNs; the encoding is
// picked from Accept-Encoding among the precompressed bodies.
func (f *Files) ServeAsset(w http.ResponseWriter, r *http.Request, name string) {
	var a *asset
	switch name {
	case f.core.name:
		a = &f.core
	case f.recorder.name:
		a = &f.recorder
	default:
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}

	encoding := negotiate(r.Header.Values("Accept-Encoding"))
	body, etag := a.identity, `"`+a.hash+`"`
	switch encoding {
	case "br":
		body, etag = a.brotli, `"`+a.hash+`-br"`
	case "gzip":
		body, etag = a.gzip, `"`+a.hash+`-gz"`
	}

	h := w.Header()
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", etag)
	h.Add("Vary", "Accept-Encoding")
	setScriptHeaders(h)
	if etagMatch(r.Header.Values("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if encoding != "" {
		h.Set("Content-Encoding", encoding)
	}
	write(w, r, body)
}

// setScriptHeaders sets what every tracker script answer carries. The
// scripts are public and loaded from the sites' own origins, so they may be
// read and embedded from anywhere.
func setScriptHeaders(h http.Header) {
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
}

func write(w http.ResponseWriter, r *http.Request, body []byte) {
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		// The client may be gone; there is no one left to tell.
		_, _ = w.Write(body)
	}
}

// Snippet is the script tag a site owner pastes into every page: a stub that
// queues calls to loupe() until the tracker loads, and the site's loader
// from publicURL, where browsers reach Loupe.
func Snippet(publicURL, siteKey string) string {
	base := strings.TrimSuffix(publicURL, "/")
	return fmt.Sprintf(`<script>window.loupe=window.loupe||function(){(loupe.q=loupe.q||[]).push(arguments)}</script>
<script async src="%s/s/%s.js"></script>`, base, siteKey)
}
