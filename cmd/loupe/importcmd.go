package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"loupe.dev/loupe/internal/wire"
)

// importFile reads a saved recording and sends it through a running Loupe's
// ingest endpoint, so it is processed exactly as a live one.
func importFile(ctx context.Context, format string, args []string, stdout, stderr io.Writer,
	getenv func(string) string) error {
	fs := flag.NewFlagSet("loupe import "+format, flag.ContinueOnError)
	fs.SetOutput(stderr)
	site := fs.String("site", "", "key of the site to import into")
	serverDef := "http://127.0.0.1:8080"
	if v := getenv("LOUPE_SERVER"); v != "" {
		serverDef = v
	}
	server := fs.String("server", serverDef, "address of the running Loupe (LOUPE_SERVER)")
	file, rest := "", args
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		file, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if file == "" && fs.NArg() > 0 {
		file = fs.Arg(0)
	}
	if file == "" || *site == "" {
		return fmt.Errorf("import %s: usage: loupe import %s FILE --site KEY", format, format)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("import %s: %w", format, err)
	}
	var streams [][]json.RawMessage
	if format == "posthog" {
		streams, err = parsePostHog(data)
	} else {
		streams, err = parseRRWeb(data)
	}
	if err != nil {
		return fmt.Errorf("import %s %s: %w", format, file, err)
	}
	s := sender{client: &http.Client{Timeout: 30 * time.Second}, server: *server, site: *site}
	visitor := randomID()
	for _, events := range streams {
		id, n, err := s.sendSession(ctx, events, visitor)
		if err != nil {
			return fmt.Errorf("import %s: %w", format, err)
		}
		fmt.Fprintf(stdout, "session %s: %d events in %d batches\n", id, len(events), n)
	}
	return nil
}

// parseRRWeb reads a JSON array of rrweb events, or an object whose values are
// such arrays (one session each). Every event must carry a timestamp: a
// stream without them cannot be replayed in time.
func parseRRWeb(data []byte) ([][]json.RawMessage, error) {
	var one []json.RawMessage
	if err := json.Unmarshal(data, &one); err == nil {
		return [][]json.RawMessage{one}, checkStream(one, "")
	}
	var many map[string][]json.RawMessage
	if err := json.Unmarshal(data, &many); err != nil {
		return nil, errors.New("not an rrweb event stream: want a JSON array of events " +
			"or an object of such arrays")
	}
	var out [][]json.RawMessage
	for name, events := range many {
		if err := checkStream(events, name); err != nil {
			return nil, err
		}
		out = append(out, events)
	}
	return out, nil
}

// parsePostHog reads a PostHog snapshot export: one JSON object a line, each
// {"window_id": …, "data": [events]}. Each window becomes its own session of
// one visitor, since a replayer plays one window at a time.
func parsePostHog(data []byte) ([][]json.RawMessage, error) {
	var out [][]json.RawMessage
	scan := bufio.NewScanner(bytes.NewReader(data))
	scan.Buffer(make([]byte, 1<<20), 256<<20)
	for line := 1; scan.Scan(); line++ {
		text := bytes.TrimSpace(scan.Bytes())
		if len(text) == 0 {
			continue
		}
		var w struct {
			WindowID string            `json:"window_id"`
			Data     []json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(text, &w); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if err := checkStream(w.Data, "window "+w.WindowID); err != nil {
			return nil, err
		}
		out = append(out, w.Data)
	}
	if err := scan.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("no windows with events")
	}
	return out, nil
}

// rrwebHead is the part of an rrweb event the importer reads.
type rrwebHead struct {
	Type      *int     `json:"type"`
	Timestamp *float64 `json:"timestamp"`
	Data      struct {
		Href   string `json:"href"`
		Width  int    `json:"width"`
		Height int    `json:"height"`
	} `json:"data"`
}

func checkStream(events []json.RawMessage, name string) error {
	where := ""
	if name != "" {
		where = " in " + name
	}
	if len(events) == 0 {
		return fmt.Errorf("no events%s", where)
	}
	for i, ev := range events {
		var h rrwebHead
		if err := json.Unmarshal(ev, &h); err != nil || h.Type == nil {
			return fmt.Errorf("event %d%s is not an rrweb event", i, where)
		}
		if h.Timestamp == nil || *h.Timestamp < 0 {
			return fmt.Errorf("event %d%s has no timestamp: rrweb streams without timestamps "+
				"cannot be replayed; record them again or add timestamps before importing", i, where)
		}
	}
	return nil
}

type sender struct {
	client *http.Client
	server string
	site   string
}

// maxImportBatch keeps each request near the tracker's own batch size.
const maxImportBatch = 512 << 10

// sendSession sends one stream as a new session and returns its id and the
// number of batches sent. Meta events with a web address become page views.
func (s *sender) sendSession(ctx context.Context, events []json.RawMessage,
	visitor string) (string, int, error) {
	sid := randomID()
	var batches []wire.Batch
	var cur wire.Batch
	size := 0
	pid := int64(0)
	for _, ev := range events {
		var h rrwebHead
		_ = json.Unmarshal(ev, &h)
		if size > 0 && size+len(ev) > maxImportBatch {
			batches = append(batches, cur)
			cur, size = wire.Batch{}, 0
		}
		if *h.Type == 4 && (strings.HasPrefix(h.Data.Href, "http://") ||
			strings.HasPrefix(h.Data.Href, "https://")) {
			pid++
			cur.Events = append(cur.Events, wire.Event{Type: wire.TypePageView,
				Time: int64(*h.Timestamp), PageID: pid, URL: h.Data.Href, ViewW: h.Data.Width,
				ViewH: h.Data.Height})
		}
		cur.Recording = append(cur.Recording, ev)
		cur.Sent = max(cur.Sent, int64(*h.Timestamp))
		size += len(ev)
	}
	batches = append(batches, cur)
	for i := range batches {
		batches[i].VisitorID = visitor
		if err := s.send(ctx, sid, int64(i+1), &batches[i]); err != nil {
			return sid, i, err
		}
	}
	return sid, len(batches), nil
}

// send posts one batch, retrying with backoff while the server asks for it.
func (s *sender) send(ctx context.Context, sid string, seq int64, b *wire.Batch) error {
	body, err := json.Marshal(b)
	if err != nil {
		return err
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(body)
	zw.Close()
	u := fmt.Sprintf("%s/i?k=%s&s=%s&n=%d", strings.TrimSuffix(s.server, "/"),
		url.QueryEscape(s.site), sid, seq)
	wait := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(gz.Bytes()))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "text/plain")
		req.Header.Set("User-Agent", "loupe-import/"+version())
		resp, err := s.client.Do(req)
		if err == nil {
			msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			switch {
			case resp.StatusCode == http.StatusAccepted:
				return nil
			case resp.StatusCode != http.StatusServiceUnavailable &&
				resp.StatusCode != http.StatusTooManyRequests:
				return fmt.Errorf("batch %d: server answered %s: %s", seq, resp.Status,
					strings.TrimSpace(string(msg)))
			}
			err = fmt.Errorf("server answered %s", resp.Status)
		}
		if attempt == 6 {
			return fmt.Errorf("batch %d: %w", seq, err)
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
		wait *= 2
	}
}

func randomID() string {
	var b [8]byte
	for {
		_, _ = rand.Read(b[:])
		if v := binary.BigEndian.Uint64(b[:]); v != 0 {
			return wire.FormatID(int64(v))
		}
	}
}
