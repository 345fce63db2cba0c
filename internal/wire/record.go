package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Record is one accepted batch as ingest appends it to the log: the raw body
// plus what only the HTTP request knew. The client address is deliberately not
// here: ingest turns it into a country and drops it.
type Record struct {
	SiteID     int64
	ReceivedAt int64 // server clock, Unix milliseconds
	SessionID  int64
	Seq        int64
	Country    string
	UserAgent  string
	Hints      Hints
	Body       []byte // decompressed batch JSON
}

// Hints are the client-hint headers of the request, empty when not sent.
type Hints struct {
	UA, Mobile, Platform, PlatformVersion, Model string
}

const recordVersion = 1

// MaxRecord bounds one encoded record; ingest's decompressed-size limit keeps
// bodies well below it.
const MaxRecord = 64 << 20

// ErrBadRecord is wrapped by every error from a malformed log message.
var ErrBadRecord = errors.New("bad log record")

// AppendRecord appends r, length-prefixed, to dst. A log message is a run of
// such records, so that one append can carry the batches of many requests.
func AppendRecord(dst []byte, r *Record) []byte {
	body := make([]byte, 0, 64+len(r.UserAgent)+len(r.Body))
	body = append(body, recordVersion)
	body = binary.AppendVarint(body, r.SiteID)
	body = binary.AppendVarint(body, r.ReceivedAt)
	body = binary.AppendVarint(body, r.SessionID)
	body = binary.AppendVarint(body, r.Seq)
	for _, s := range []string{r.Country, r.UserAgent, r.Hints.UA, r.Hints.Mobile,
		r.Hints.Platform, r.Hints.PlatformVersion, r.Hints.Model} {
		body = binary.AppendUvarint(body, uint64(len(s)))
		body = append(body, s...)
	}
	body = binary.AppendUvarint(body, uint64(len(r.Body)))
	body = append(body, r.Body...)

	dst = binary.AppendUvarint(dst, uint64(len(body)))
	return append(dst, body...)
}

// DecodeRecords splits a log message into its records. It fails on the first
// malformed byte rather than guess, since a message is written by ingest alone.
func DecodeRecords(msg []byte) ([]Record, error) {
	var out []Record
	for len(msg) > 0 {
		n, k := binary.Uvarint(msg)
		if k <= 0 || n > MaxRecord || n > uint64(len(msg)-k) {
			return nil, fmt.Errorf("%w: record %d: bad length", ErrBadRecord, len(out))
		}
		r, err := decodeRecord(msg[k : k+int(n)])
		if err != nil {
			return nil, fmt.Errorf("%w: record %d: %v", ErrBadRecord, len(out), err)
		}
		out = append(out, r)
		msg = msg[k+int(n):]
	}
	return out, nil
}

func decodeRecord(b []byte) (Record, error) {
	var r Record
	if len(b) == 0 || b[0] != recordVersion {
		return r, errors.New("unknown version")
	}
	d := decoder{b: b[1:]}
	r.SiteID = d.varint()
	r.ReceivedAt = d.varint()
	r.SessionID = d.varint()
	r.Seq = d.varint()
	for _, s := range []*string{&r.Country, &r.UserAgent, &r.Hints.UA, &r.Hints.Mobile,
		&r.Hints.Platform, &r.Hints.PlatformVersion, &r.Hints.Model} {
		*s = string(d.bytes())
	}
	r.Body = d.bytes()
	if d.err != nil {
		return r, d.err
	}
	if len(d.b) != 0 {
		return r, errors.New("trailing bytes")
	}
	return r, nil
}

// decoder reads fields in order and remembers the first error, so the caller
// checks once at the end.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, k := binary.Varint(d.b)
	if k <= 0 {
		d.err = errors.New("bad varint")
		return 0
	}
	d.b = d.b[k:]
	return v
}

func (d *decoder) bytes() []byte {
	if d.err != nil {
		return nil
	}
	n, k := binary.Uvarint(d.b)
	if k <= 0 || n > uint64(len(d.b)-k) {
		d.err = errors.New("bad length")
		return nil
	}
	out := d.b[k : k+int(n)]
	d.b = d.b[k+int(n):]
	return out
}
