// Package ingest owns POST /i, the hot path: it checks the site key and the
// page's origin against an in-memory site cache, bounds and decompresses the
// body, and appends the batch to the durable log before answering 202. It
// never touches the SQL store and does no work the processor can do later.
package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"

	"loupe.dev/loupe/internal/enrich"
	"loupe.dev/loupe/internal/wire"
)

// Appender is the durable log as ingest sees it.
type Appender interface {
	Append(ctx context.Context, data []byte) error
}

// Countries maps a client address to a country code, "" when unknown.
type Countries interface {
	Country(ip netip.Addr) string
}

// Handler serves POST /i.
type Handler struct {
	sites          *Sites
	log            Appender
	geo            Countries // nil: no countries
	trustedProxies []netip.Prefix
	maxBody        int64
	maxBatch       int64
	metrics        *Metrics
	now            func() time.Time
	buffers        sync.Pool
	gzipReaders    sync.Pool
}

// Options configure a Handler.
type Options struct {
	Geo            Countries
	TrustedProxies []netip.Prefix
	MaxBody        int64 // compressed body limit in bytes
	MaxBatch       int64 // decompressed body limit in bytes
	Metrics        *Metrics
}

// New returns the ingest handler.
func New(sites *Sites, log Appender, o Options) *Handler {
	h := &Handler{
		sites:          sites,
		log:            log,
		geo:            o.Geo,
		trustedProxies: o.TrustedProxies,
		maxBody:        o.MaxBody,
		maxBatch:       o.MaxBatch,
		metrics:        o.Metrics,
		now:            time.Now,
	}
	if h.metrics == nil {
		h.metrics = NewMetrics(nil)
	}
	h.buffers.New = func() any { return new(bytes.Buffer) }
	return h
}

// clientError is a rejected request: a status, a one-line message, and the
// metric reason it is counted under.
type clientError struct {
	status int
	reason string
	msg    string
	limit  string
	max    int64
}

func (e *clientError) Error() string { return e.msg }

func reject(status int, reason, format string, args ...any) *clientError {
	return &clientError{status: status, reason: reason, msg: fmt.Sprintf(format, args...)}
}

// ServeHTTP answers one ingest request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.now()
	setCORS(w, r)
	if r.Method == http.MethodOptions {
		w.Header().Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		if want := r.Header.Get("Access-Control-Request-Headers"); want != "" {
			w.Header().Set("Access-Control-Allow-Headers", want)
		}
		w.Header().Set("Access-Control-Max-Age", "86400")
		w.WriteHeader(http.StatusNoContent)
		return
	}

	status := http.StatusAccepted
	if err := h.ingest(r); err != nil {
		var ce *clientError
		if !errors.As(err, &ce) {
			ce = reject(http.StatusServiceUnavailable, "log", "the log cannot take the batch now")
		}
		status = ce.status
		h.metrics.rejected.WithLabelValues(ce.reason).Inc()
		writeError(w, ce)
	} else {
		w.WriteHeader(http.StatusAccepted)
	}
	h.metrics.observe(status, h.now().Sub(start))
}

func (h *Handler) ingest(r *http.Request) error {
	if r.Method != http.MethodPost {
		return reject(http.StatusMethodNotAllowed, "method", "use POST")
	}
	q := r.URL.Query()
	site := h.sites.Lookup(q.Get("k"))
	if site == nil {
		return reject(http.StatusForbidden, "site", "unknown site key")
	}
	sessionID, err := wire.ParseID(q.Get("s"))
	if err != nil {
		return reject(http.StatusBadRequest, "query", "s: want a 16-hex-digit session id")
	}
	seq, err := strconv.ParseInt(q.Get("n"), 10, 64)
	if err != nil || seq < 1 {
		return reject(http.StatusBadRequest, "query", "n: want a sequence number from 1")
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		u, err := url.Parse(origin)
		if err != nil || !originAllowed(site, u.Host) {
			return reject(http.StatusForbidden, "origin",
				"origin %q is not one of the site's domains", origin)
		}
	}

	buf := h.buffers.Get().(*bytes.Buffer)
	defer h.putBuffer(buf)
	body, err := h.readBody(r, buf)
	if err != nil {
		return err
	}
	if !json.Valid(body) {
		return reject(http.StatusBadRequest, "body", "body is not valid JSON")
	}

	rec := wire.Record{
		SiteID:     site.ID,
		ReceivedAt: h.now().UnixMilli(),
		SessionID:  sessionID,
		Seq:        seq,
		UserAgent:  r.Header.Get("User-Agent"),
		Hints: wire.Hints{
			UA:              r.Header.Get("Sec-CH-UA"),
			Mobile:          r.Header.Get("Sec-CH-UA-Mobile"),
			Platform:        r.Header.Get("Sec-CH-UA-Platform"),
			PlatformVersion: r.Header.Get("Sec-CH-UA-Platform-Version"),
			Model:           r.Header.Get("Sec-CH-UA-Model"),
		},
		Body: body,
	}
	if h.geo != nil {
		rec.Country = h.geo.Country(enrich.ClientIP(r, h.trustedProxies))
	}
	h.metrics.batchBytes.Observe(float64(len(body)))
	return h.log.Append(r.Context(), wire.AppendRecord(nil, &rec))
}

// readBody reads the body into buf, within the compressed limit, and
// decompresses it within the decompressed limit when it starts with the
// gzip magic bytes.
func (h *Handler) readBody(r *http.Request, buf *bytes.Buffer) ([]byte, error) {
	if r.ContentLength > h.maxBody {
		return nil, tooLarge("body", h.maxBody)
	}
	n, err := buf.ReadFrom(io.LimitReader(r.Body, h.maxBody+1))
	if err != nil {
		return nil, reject(http.StatusBadRequest, "body", "read body: %v", err)
	}
	if n > h.maxBody {
		return nil, tooLarge("body", h.maxBody)
	}
	raw := buf.Bytes()
	if len(raw) < 2 || raw[0] != 0x1f || raw[1] != 0x8b {
		if int64(len(raw)) > h.maxBatch {
			return nil, tooLarge("decompressed", h.maxBatch)
		}
		return raw, nil
	}

	zr, _ := h.gzipReaders.Get().(*gzip.Reader)
	if zr == nil {
		zr = new(gzip.Reader)
	}
	defer h.gzipReaders.Put(zr)
	if err := zr.Reset(bytes.NewReader(raw)); err != nil {
		return nil, reject(http.StatusBadRequest, "gzip", "bad gzip body: %v", err)
	}
	// The decompressed body is read after the compressed one in the same
	// buffer, so a request allocates only when its body outgrows the pool's.
	start := buf.Len()
	_, err = buf.ReadFrom(io.LimitReader(zr, h.maxBatch+1))
	out := buf.Bytes()[start:]
	if err != nil {
		return nil, reject(http.StatusBadRequest, "gzip", "bad gzip body: %v", err)
	}
	if int64(len(out)) > h.maxBatch {
		return nil, tooLarge("decompressed", h.maxBatch)
	}
	return out, nil
}

func tooLarge(limit string, max int64) *clientError {
	e := reject(http.StatusRequestEntityTooLarge, "too_large",
		"batch too large: the %s limit is %d bytes", limit, max)
	e.limit, e.max = limit, max
	return e
}

func (h *Handler) putBuffer(buf *bytes.Buffer) {
	// Keep ordinary buffers for reuse; let a rare huge one go.
	if buf.Cap() <= 1<<20 {
		buf.Reset()
		h.buffers.Put(buf)
	}
}

// setCORS lets any page send: the origin check above decides what is kept.
func setCORS(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	if origin := r.Header.Get("Origin"); origin != "" {
		hdr.Set("Access-Control-Allow-Origin", origin)
		hdr.Set("Vary", "Origin")
	} else {
		hdr.Set("Access-Control-Allow-Origin", "*")
	}
}

func writeError(w http.ResponseWriter, e *clientError) {
	body := map[string]any{"error": e.msg}
	if e.limit != "" {
		body["limit"] = e.limit
		body["max"] = e.max
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(body)
}
