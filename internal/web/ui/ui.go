// Package ui serves the dashboard's browser files: the page scripts and the
// style sheet built from src/ into dist/ by build.mjs (make ui). dist/ is
// committed and embedded, so a Go build needs no Node.
//
// Every file is served under a name that carries a hash of its content,
// /assets/<base>.<hash>.<ext>, so browsers may keep it for a year: a new
// build is a new name. The package renders files only; it knows nothing of
// sites, users or stores.
package ui

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed dist
var dist embed.FS

// Prefix is the path under which ServeHTTP answers.
const Prefix = "/assets/"

// hashLength is how many hex digits of the SHA-256 of a file go into its
// name: 48 bits tell every build of a file apart.
const hashLength = 12

// asset is one built file, ready to serve.
type asset struct {
	url         string // Prefix + base.hash.ext
	etag        string
	contentType string
	identity    []byte
	gzip        []byte // nil when compressing does not make it smaller
}

// Assets are the built dashboard files, named by their content hash.
type Assets struct {
	byName map[string]*asset // "dash.css"
	byURL  map[string]*asset // "/assets/dash.0123456789ab.css"
}

// New reads the files embedded in the binary.
func New() (*Assets, error) {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		return nil, fmt.Errorf("open embedded dist: %w", err)
	}
	return NewFS(sub)
}

// NewFS reads the files at the root of fsys, which holds what build.mjs
// writes to dist/; a development server passes os.DirFS to pick up a
// rebuild without recompiling. Each file is compressed once, here.
func NewFS(fsys fs.FS) (*Assets, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("list dashboard files: %w", err)
	}
	a := &Assets{byName: map[string]*asset{}, byURL: map[string]*asset{}}
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		f, err := readAsset(fsys, e.Name())
		if err != nil {
			return nil, err
		}
		a.byName[e.Name()] = f
		a.byURL[f.url] = f
	}
	if len(a.byName) == 0 {
		return nil, fmt.Errorf("list dashboard files: none found, rebuild with make ui")
	}
	return a, nil
}

func readAsset(fsys fs.FS, name string) (*asset, error) {
	body, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("read dashboard file %s: %w", name, err)
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])[:hashLength]
	ext := path.Ext(name)
	f := &asset{
		url:         Prefix + strings.TrimSuffix(name, ext) + "." + hash + ext,
		etag:        `"` + hash + `"`,
		contentType: contentType(ext),
		identity:    body,
	}

	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("compress %s: %w", name, err)
	}
	if _, err := zw.Write(body); err != nil {
		return nil, fmt.Errorf("compress %s: %w", name, err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compress %s: %w", name, err)
	}
	if buf.Len() < len(body) {
		f.gzip = buf.Bytes()
	}
	return f, nil
}

func contentType(ext string) string {
	switch ext {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

// URL returns the path that serves the built file name, such as "dash.css"
// or "overview.js": "/assets/dash.<hash>.css". It returns "" for a name the
// build does not make, so a mistyped name shows as a missing file, never as
// a stale one.
func (a *Assets) URL(name string) string {
	if f, ok := a.byName[name]; ok {
		return f.url
	}
	return ""
}

// Names lists the built files by their plain names, sorted.
func (a *Assets) Names() []string {
	names := make([]string, 0, len(a.byName))
	for n := range a.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ServeHTTP answers GET and HEAD for the hashed names URL returns, and 404
// for any other, including the name of a previous build. Mount it at Prefix,
// with or without http.StripPrefix. An answer may be
// cached for ever by browsers and proxies; it is gzipped when the client
// takes gzip.
func (a *Assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Path
	if !strings.HasPrefix(name, Prefix) {
		// Mounted behind http.StripPrefix.
		name = Prefix + strings.TrimPrefix(name, "/")
	}
	f, ok := a.byURL[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}

	h := w.Header()
	body, etag := f.identity, f.etag
	if f.gzip != nil {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Values("Accept-Encoding")) {
			body = f.gzip
			etag = strings.TrimSuffix(f.etag, `"`) + `-gz"`
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", etag)
	h.Set("X-Content-Type-Options", "nosniff")
	// ServeContent answers If-None-Match with 304, HEAD without a body and
	// Range requests; the zero time leaves Last-Modified out.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reports whether Accept-Encoding lines take gzip: named, as
// x-gzip or through "*", with a q-value above zero.
func acceptsGzip(lines []string) bool {
	star, gz := -1.0, -1.0
	for _, line := range lines {
		for part := range strings.SplitSeq(line, ",") {
			coding, params, _ := strings.Cut(part, ";")
			q := 1.0
			if name, value, ok := strings.Cut(strings.TrimSpace(params), "="); ok &&
				strings.EqualFold(strings.TrimSpace(name), "q") {
				v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
				if err != nil {
					continue
				}
				q = v
			}
			switch strings.ToLower(strings.TrimSpace(coding)) {
			case "gzip", "x-gzip":
				gz = q
			case "*":
				star = q
			}
		}
	}
	if gz >= 0 {
		return gz > 0
	}
	return star > 0
}
