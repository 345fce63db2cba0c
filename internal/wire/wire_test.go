package wire

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

func TestRecordRoundTrip(t *testing.T) {
	in := []Record{
		{SiteID: 1, ReceivedAt: 1733312345678, SessionID: -5, Seq: 1, Country: "GB",
			UserAgent: "Mozilla/5.0", Hints: Hints{Mobile: "?1", Platform: `"Android"`},
			Body: []byte(`{"sent":1}`)},
		{SiteID: 1 << 40, ReceivedAt: 0, SessionID: 1<<62 + 3, Seq: 99, Body: []byte{}},
	}
	var msg []byte
	for i := range in {
		msg = AppendRecord(msg, &in[i])
	}
	out, err := DecodeRecords(msg)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 {
		t.Fatalf("got %d records, want 2", len(out))
	}
	for i := range in {
		if !bytes.Equal(out[i].Body, in[i].Body) {
			t.Errorf("record %d body = %q, want %q", i, out[i].Body, in[i].Body)
		}
		out[i].Body, in[i].Body = nil, nil
		if !reflect.DeepEqual(out[i], in[i]) {
			t.Errorf("record %d = %+v, want %+v", i, out[i], in[i])
		}
	}
}

func TestDecodeRecordsRejects(t *testing.T) {
	good := AppendRecord(nil, &Record{SiteID: 1, Body: []byte("x")})
	tests := map[string][]byte{
		"truncated":   good[:len(good)-1],
		"bad version": append([]byte{good[0], 9}, good[2:]...),
		"huge length": {0xff, 0xff, 0xff, 0xff, 0x0f},
		"trailing":    append(append([]byte{}, good...), 0x01),
	}
	for name, msg := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := DecodeRecords(msg); !errors.Is(err, ErrBadRecord) {
				t.Fatalf("err = %v, want ErrBadRecord", err)
			}
		})
	}
}

func TestDecodeBatch(t *testing.T) {
	b, err := DecodeBatch([]byte(`{"sent":5,"vid":"00000000000000ff","ev":[
		{"type":"click","t":4,"pid":1,"sel":"#a","ox":0.25,"oy":0.75,"x":10,"y":20}],
		"rec":[{"type":4,"timestamp":3}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if b.Sent != 5 || len(b.Events) != 1 || b.Events[0].Selector != "#a" ||
		b.Events[0].OffsetY != 0.75 || len(b.Recording) != 1 {
		t.Fatalf("decoded %+v", b)
	}

	bad := map[string]string{
		"not json":   `{"sent":`,
		"bad vid":    `{"vid":"xyz"}`,
		"zero vid":   `{"vid":"0000000000000000"}`,
		"wrong type": `{"ev":"nope"}`,
	}
	for name, body := range bad {
		t.Run(name, func(t *testing.T) {
			if _, err := DecodeBatch([]byte(body)); !errors.Is(err, ErrBadBatch) {
				t.Fatalf("err = %v, want ErrBadBatch", err)
			}
		})
	}
}

func TestIDs(t *testing.T) {
	for _, s := range []string{"0000000000000001", "ffffffffffffffff", "9f3a0c1b2d4e5f60"} {
		id, err := ParseID(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := FormatID(id); got != s {
			t.Errorf("FormatID(ParseID(%q)) = %q", s, got)
		}
	}
	for _, s := range []string{"", "0000000000000000", "0x00000000000001", "FFFFFFFFFFFFFFFFF"} {
		if _, err := ParseID(s); err == nil {
			t.Errorf("ParseID(%q) succeeded", s)
		}
	}
}

func FuzzDecodeRecords(f *testing.F) {
	f.Add(AppendRecord(nil, &Record{SiteID: 7, UserAgent: "ua", Body: []byte(`{}`)}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, msg []byte) {
		recs, err := DecodeRecords(msg)
		if err != nil {
			return
		}
		var again []byte
		for i := range recs {
			again = AppendRecord(again, &recs[i])
		}
		back, err := DecodeRecords(again)
		if err != nil || !reflect.DeepEqual(back, recs) {
			t.Fatalf("re-encoded records differ: %v", err)
		}
	})
}

func FuzzDecodeBatch(f *testing.F) {
	f.Add([]byte(`{"sent":1,"ev":[{"type":"pageview","url":"https://a.example/"}]}`))
	f.Add([]byte(`{"rec":[{"type":2}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := DecodeBatch(body)
		if err == nil && len(b.Events) > MaxEvents {
			t.Fatalf("accepted %d events", len(b.Events))
		}
	})
}
