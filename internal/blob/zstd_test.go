package blob

import (
	"bytes"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// streamCompress compresses data the way a streaming writer does, which leaves
// the content size out of the frame header.
func streamCompress(tb testing.TB, data []byte) []byte {
	tb.Helper()

	var buf bytes.Buffer
	w, err := zstd.NewWriter(&buf)
	if err != nil {
		tb.Fatalf("new zstd writer: %v", err)
	}
	if _, err := w.Write(data); err != nil {
		tb.Fatalf("compress: %v", err)
	}
	if err := w.Close(); err != nil {
		tb.Fatalf("compress: %v", err)
	}
	return buf.Bytes()
}

// zeroBomb compresses size zero bytes without ever holding them, stating the
// size in the frame header or not.
func zeroBomb(tb testing.TB, size int64, stateSize bool) []byte {
	tb.Helper()

	var buf bytes.Buffer
	w, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		tb.Fatalf("new zstd writer: %v", err)
	}
	if stateSize {
		w.ResetContentSize(&buf, size)
	} else {
		w.Reset(&buf)
	}

	zeros := make([]byte, 1<<20)
	for left := size; left > 0; left -= int64(len(zeros)) {
		if _, err := w.Write(zeros[:min(left, int64(len(zeros)))]); err != nil {
			tb.Fatalf("compress zeros: %v", err)
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatalf("compress zeros: %v", err)
	}
	return buf.Bytes()
}

func TestCompressRoundTrip(t *testing.T) {
	chunk := readCorpus(t, rrwebSnapshots)

	tests := []struct {
		name string
		data []byte
	}{
		{"rrweb recording", chunk},
		{"first 1000 bytes", chunk[:1000]},
		{"one byte", []byte("{")},
		{"empty", []byte{}},
		{"zeros", make([]byte, 1<<20)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			packed := Compress(tt.data)
			t.Logf("%d -> %d bytes", len(tt.data), len(packed))

			got, err := Decompress(packed, len(tt.data))
			if err != nil {
				t.Fatalf("Decompress with the exact size as limit: %v", err)
			}
			if !bytes.Equal(got, tt.data) {
				t.Fatalf("round trip changed the data: got %d bytes, want %d",
					len(got), len(tt.data))
			}

			if len(tt.data) == 0 {
				return
			}
			if _, err := Decompress(packed, len(tt.data)-1); !errors.Is(err, ErrTooLarge) {
				t.Errorf("Decompress with limit one below the size: %v, want ErrTooLarge", err)
			}
		})
	}

	// A JSON recording compresses well; a ratio under 4 would mean the
	// encoder is misconfigured.
	if packed := Compress(chunk); len(packed)*4 > len(chunk) {
		t.Errorf("rrweb recording compressed to %d of %d bytes", len(packed), len(chunk))
	}
}

func TestDecompressFrames(t *testing.T) {
	chunk := readCorpus(t, rrwebSnapshots)
	first, second := chunk[:len(chunk)/2], chunk[len(chunk)/2:]

	tests := []struct {
		name    string
		src     []byte
		limit   int
		want    []byte
		wantErr error
	}{
		{
			name:  "frame without a size",
			src:   streamCompress(t, chunk),
			limit: len(chunk),
			want:  chunk,
		},
		{
			name:    "frame without a size over the limit",
			src:     streamCompress(t, chunk),
			limit:   len(chunk) - 1,
			wantErr: ErrTooLarge,
		},
		{
			name:  "two frames within the limit",
			src:   append(Compress(first), Compress(second)...),
			limit: len(chunk),
			want:  chunk,
		},
		{
			name:    "second frame over the limit",
			src:     append(Compress(first), Compress(second)...),
			limit:   len(chunk) - 1,
			wantErr: ErrTooLarge,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decompress(tt.src, tt.limit)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Decompress: %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decompress: %v", err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("got %d bytes, want %d", len(got), len(tt.want))
			}
		})
	}
}

func TestDecompressDamaged(t *testing.T) {
	chunk := readCorpus(t, rrwebSnapshots)
	packed := Compress(chunk)
	flipped := bytes.Clone(packed)
	flipped[len(flipped)/2] ^= 0x55
	lastByte := bytes.Clone(packed)
	lastByte[len(lastByte)-1] ^= 0x01 // inside the checksum

	tests := []struct {
		name  string
		src   []byte
		limit int
	}{
		{"empty", nil, 1 << 20},
		{"not zstd", chunk[:100], 1 << 20},
		{"magic only", []byte{0x28, 0xb5, 0x2f, 0xfd}, 1 << 20},
		{"truncated", packed[:len(packed)/2], 1 << 20},
		{"flipped byte", flipped, 1 << 20},
		{"bad checksum", lastByte, 1 << 20},
		{"negative limit", packed, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decompress(tt.src, tt.limit)
			if err == nil {
				t.Fatalf("Decompress returned %d bytes and no error", len(got))
			}
			if errors.Is(err, ErrTooLarge) {
				t.Errorf("Decompress: %v; damage is not ErrTooLarge", err)
			}
		})
	}
}

// TestDecompressBomb feeds Decompress 1 GiB of zeros squeezed into a couple of
// hundred kilobytes, and checks it is refused while holding little more than
// the limit.
func TestDecompressBomb(t *testing.T) {
	const size = 1 << 30
	const limit = 16 << 20

	tests := []struct {
		name      string
		stateSize bool
		maxAlloc  uint64
	}{
		// Refused from the header, before any output is made.
		{"size in header", true, 1 << 20},
		// Decoded into a buffer of the limit until it would overflow.
		{"size unknown", false, 4 * limit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bomb := zeroBomb(t, size, tt.stateSize)
			Decompress(Compress([]byte("warm up")), 100) // build the decoder

			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			out, err := Decompress(bomb, limit)
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)

			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Decompress of a %d-byte bomb = %d bytes, %v; want ErrTooLarge",
					len(bomb), len(out), err)
			}
			allocated := after.TotalAlloc - before.TotalAlloc
			if allocated > tt.maxAlloc {
				t.Errorf("allocated %d bytes refusing the bomb, want at most %d",
					allocated, tt.maxAlloc)
			}
			t.Logf("%d-byte bomb refused in %v, %d bytes allocated: %v",
				len(bomb), elapsed, allocated, err)
		})
	}
}

func FuzzDecompress(f *testing.F) {
	f.Add([]byte{})
	f.Add(Compress([]byte(`[{"type":4,"data":{"href":"https://example.com/"},"timestamp":1}]`)))
	f.Add(Compress(make([]byte, 5000)))
	f.Add(streamCompress(f, []byte("hello, hello, hello, hello")))
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x58, 0xff, 0xff, 0xff, 0xff})
	f.Add(zeroBomb(f, 4<<20, false))
	const limit = 1 << 20

	f.Fuzz(func(t *testing.T, src []byte) {
		out, err := Decompress(src, limit)
		if err == nil && len(out) > limit {
			t.Fatalf("Decompress returned %d bytes, over the limit of %d", len(out), limit)
		}

		// Whatever the bytes, they survive a round trip of their own.
		back, err := Decompress(Compress(src), len(src))
		if err != nil {
			t.Fatalf("round trip of %d bytes: %v", len(src), err)
		}
		if !bytes.Equal(back, src) {
			t.Fatalf("round trip changed %d bytes", len(src))
		}
	})
}

func BenchmarkCompress(b *testing.B) {
	chunk := readCorpus(b, rrwebSnapshots)
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()

	var packed []byte
	for b.Loop() {
		packed = Compress(chunk)
	}
	b.ReportMetric(float64(len(chunk))/float64(len(packed)), "ratio")
}

func BenchmarkDecompress(b *testing.B) {
	chunk := readCorpus(b, rrwebSnapshots)
	packed := Compress(chunk)
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()

	for b.Loop() {
		if _, err := Decompress(packed, 64<<20); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecompressBomb(b *testing.B) {
	bomb := zeroBomb(b, 1<<30, false)
	b.ReportAllocs()

	for b.Loop() {
		if _, err := Decompress(bomb, 16<<20); !errors.Is(err, ErrTooLarge) {
			b.Fatal(err)
		}
	}
}
