// Package wire owns the formats that cross a trust boundary or a process: the
// batch a tracker sends (docs/protocol.md) and the record ingest appends to the
// durable log. It decodes and bounds untrusted bytes; it never touches a store.
package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Batch is the body of one POST /i, as the tracker sends it.
type Batch struct {
	// Sent is the browser's clock, in Unix milliseconds, when the batch was sent.
	Sent int64 `json:"sent"`
	// VisitorID is the visitor's 16-hex-digit id, empty when the browser asked
	// not to be tracked across visits.
	VisitorID string `json:"vid"`
	// Events are the analytics events of the batch, oldest first.
	Events []Event `json:"ev"`
	// Recording holds rrweb events exactly as the recorder emitted them.
	Recording []json.RawMessage `json:"rec"`
}

// Event is one analytics event. Fields not used by a type stay zero.
type Event struct {
	Type   string `json:"type"`
	Time   int64  `json:"t"`
	PageID int64  `json:"pid"`

	// pageview
	URL      string `json:"url,omitempty"`
	Referrer string `json:"ref,omitempty"`
	Title    string `json:"title,omitempty"`
	ScreenW  int    `json:"sw,omitempty"`
	ScreenH  int    `json:"sh,omitempty"`
	ViewH    int    `json:"vh,omitempty"`

	// click, move, scroll
	Selector string      `json:"sel,omitempty"`
	OffsetX  float64     `json:"ox,omitempty"`
	OffsetY  float64     `json:"oy,omitempty"`
	X        float64     `json:"x,omitempty"`
	Y        float64     `json:"y,omitempty"`
	ViewW    int         `json:"vw,omitempty"`
	PageW    int         `json:"pw,omitempty"`
	PageH    int         `json:"ph,omitempty"`
	Dead     bool        `json:"dead,omitempty"`
	Depth    float64     `json:"depth,omitempty"`
	Points   [][]float64 `json:"pts,omitempty"`

	// event, identify
	Name   string          `json:"name,omitempty"`
	Props  json.RawMessage `json:"props,omitempty"`
	UserID string          `json:"id,omitempty"`
	Traits json.RawMessage `json:"traits,omitempty"`

	// error
	Message string `json:"msg,omitempty"`
	Source  string `json:"src,omitempty"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"col,omitempty"`
}

// Event types the processor understands.
const (
	TypePageView = "pageview"
	TypeClick    = "click"
	TypeScroll   = "scroll"
	TypeMove     = "move"
	TypeCustom   = "event"
	TypeIdentify = "identify"
	TypeError    = "error"
)

// ErrBadBatch is wrapped by every error that comes from a malformed batch.
var ErrBadBatch = errors.New("bad batch")

// MaxEvents bounds the analytics events of one batch; the tracker sends a few
// dozen at most, so more is a broken or hostile sender.
const MaxEvents = 5000

// DecodeBatch parses a batch body and checks what later stages rely on.
func DecodeBatch(body []byte) (*Batch, error) {
	var b Batch
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadBatch, err)
	}
	if len(b.Events) > MaxEvents {
		return nil, fmt.Errorf("%w: %d events, at most %d", ErrBadBatch, len(b.Events), MaxEvents)
	}
	if b.VisitorID != "" {
		if _, err := ParseID(b.VisitorID); err != nil {
			return nil, fmt.Errorf("%w: visitor id: %v", ErrBadBatch, err)
		}
	}
	return &b, nil
}

// ParseID parses a 16-hex-digit session or visitor id into its non-zero 64-bit
// value. Ids are stored as signed 64-bit keys; the bits are kept as they are.
func ParseID(s string) (int64, error) {
	if len(s) != 16 {
		return 0, fmt.Errorf("id %q: want 16 hex digits", s)
	}
	u, err := strconv.ParseUint(s, 16, 64)
	if err != nil || u == 0 {
		return 0, fmt.Errorf("id %q: want 16 hex digits, not zero", s)
	}
	return int64(u), nil
}

// FormatID is the inverse of ParseID.
func FormatID(id int64) string {
	s := strconv.FormatUint(uint64(id), 16)
	for len(s) < 16 {
		s = "0" + s
	}
	return s
}
